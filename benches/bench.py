#!/usr/bin/env python3
"""tflock's benchmark: whole-process overhead, memory, binary size and lock
service requests, measured against a local moto server.

Run it with scripts/bench (which builds the release binary and finds a
Python with moto). Prints a Markdown report; with --out FILE also writes it
there. Exits non-zero when a target is missed.

Targets checked (issue #2 / #6):
  tflock run -- true       median within 20 ms of `true`
  tflock --version         median under 10 ms
  peak RSS supervising     under 20 MB
  stripped binary          under 10 MB
  while holding            one write per heartbeat
  while waiting            at most 1 request a second
"""
import argparse
import collections
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Moto:
    """scripts/moto_server.py on a free port."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "scripts/moto_server.py"), "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("moto did not start")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class CountingProxy:
    """Forwards TCP to moto and counts DynamoDB requests by X-Amz-Target."""

    TARGET = re.compile(rb"x-amz-target:\s*DynamoDB_\d+\.(\w+)", re.I)

    def __init__(self, target_port):
        self.target_port = target_port
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def reset(self):
        with self.lock:
            self.counts.clear()

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.counts)

    def _accept(self):
        while True:
            client, _ = self.sock.accept()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return

        def pump(src, dst, inspect):
            seen = b""
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if inspect:
                        seen = (seen + data)[-4096:]
                        for m in self.TARGET.finditer(data):
                            with self.lock:
                                self.counts[m.group(1).decode()] += 1
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        up = threading.Thread(target=pump, args=(client, server, True), daemon=True)
        up.start()
        pump(server, client, False)
        up.join()
        client.close()
        server.close()


def create_table(endpoint, name):
    import boto3

    d = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    d.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def env_for(endpoint, table, key):
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint,
        "TFLOCK_TABLE": table,
        "TFLOCK_LOCK_KEY": key,
    }


def timed(argv, env, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            raise SystemExit(f"{argv} exited {r.returncode}")
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def rss_while_supervising(tflock, env, seconds):
    """Peak RSS (VmHWM) of tflock while its child sleeps `seconds`."""
    p = subprocess.Popen([tflock, "run", "--", "sleep", str(seconds)], env=env)
    peak = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.1)
    if p.returncode != 0:
        raise SystemExit(f"supervised run exited {p.returncode}")
    return peak / 1024.0


def count_requests(proxy, tflock, env, seconds, waiter_seconds=None):
    """DynamoDB requests (by operation) while one process holds a lock for
    `seconds`, and, if `waiter_seconds`, another waits on it that long."""
    proxy.reset()
    holder = subprocess.Popen([tflock, "run", "--", "sleep", str(seconds)], env=env)
    if waiter_seconds:
        time.sleep(0.5)
        subprocess.run(
            [tflock, "--lock-timeout", f"{waiter_seconds}s", "run", "--", "true"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
    holder.wait()
    return proxy.snapshot()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tflock", default=os.path.join(ROOT, "target/release/tflock"))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--hold", type=float, default=30.0, help="seconds for the RSS and request measurements")
    ap.add_argument("--out")
    a = ap.parse_args()

    moto = Moto()
    proxy = CountingProxy(moto.port)
    failures = []
    rows = []
    try:
        create_table(moto.endpoint, "bench")
        env = env_for(moto.endpoint, "bench", "overhead")
        timed([a.tflock, "run", "--", "true"], env, 3)  # warm up
        true_med, true_p95 = timed(["true"], env, a.runs)
        run_med, run_p95 = timed([a.tflock, "run", "--", "true"], env, a.runs)
        ver_med, ver_p95 = timed([a.tflock, "--version"], env, a.runs)
        rows.append(("`true`", f"{true_med:.1f} ms", f"{true_p95:.1f} ms", ""))
        ok = run_med - true_med <= 20
        rows.append(("`tflock run -- true` (acquire + spawn + release)", f"{run_med:.1f} ms", f"{run_p95:.1f} ms",
                     f"{run_med - true_med:+.1f} ms vs `true` (target ≤ +20 ms) {'✓' if ok else '✗'}"))
        if not ok:
            failures.append("tflock run -- true overhead")
        ok = ver_med < 10
        rows.append(("`tflock --version`", f"{ver_med:.1f} ms", f"{ver_p95:.1f} ms", f"target < 10 ms {'✓' if ok else '✗'}"))
        if not ok:
            failures.append("tflock --version")

        rss = rss_while_supervising(a.tflock, env_for(moto.endpoint, "bench", "rss"), a.hold)
        size = os.path.getsize(a.tflock) / 1e6

        penv = env_for(proxy.endpoint, "bench", "requests")
        holding = count_requests(proxy, a.tflock, penv, a.hold)
        wait_s = a.hold - 2
        both = count_requests(proxy, a.tflock, penv, a.hold, wait_s)
    finally:
        moto.stop()

    report = []
    report.append(f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}; "
                  f"{time.strftime('%Y-%m-%d')}; moto via scripts/moto_server.py; {a.runs} runs each.\n")
    report.append("| measurement | median | p95 | note |\n| --- | --- | --- | --- |")
    for r in rows:
        report.append("| " + " | ".join(r) + " |")
    ok_rss = rss < 20
    ok_size = size < 10
    if not ok_rss:
        failures.append("peak RSS")
    if not ok_size:
        failures.append("binary size")
    report.append(f"\nPeak RSS supervising a {a.hold:.0f} s child: **{rss:.1f} MB** (target < 20 MB) {'✓' if ok_rss else '✗'}  ")
    report.append(f"Stripped release binary: **{size:.1f} MB** (target < 10 MB) {'✓' if ok_size else '✗'}\n")
    waiting = both - holding
    per_min = lambda c, secs: sum(c.values()) * 60.0 / secs
    hold_rate = per_min(holding, a.hold)
    wait_rate = per_min(waiting, wait_s)
    renewals = holding["UpdateItem"] - 2  # minus acquire and release
    expected = int(a.hold / 10)
    ok_hold = abs(renewals - expected) <= 1
    ok_wait = wait_rate <= 60.5
    if not ok_hold:
        failures.append("writes while holding")
    if not ok_wait:
        failures.append("requests while waiting")
    report.append(f"DynamoDB requests (counted at a proxy in front of moto; 30 s lease, 10 s heartbeat):\n")
    report.append("| phase | requests | per minute | note |\n| --- | --- | --- | --- |")
    report.append(f"| holding {a.hold:.0f} s | {dict(holding)} | {hold_rate:.1f} | {renewals} renewals: one write per heartbeat {'✓' if ok_hold else '✗'} |")
    report.append(f"| waiting {wait_s:.0f} s | {dict(waiting)} | {wait_rate:.1f} | at most 1 a second {'✓' if ok_wait else '✗'} |")
    text = "\n".join(report)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    if failures:
        print("\nMISSED: " + ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
