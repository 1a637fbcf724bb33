#!/usr/bin/env python3
"""A child for tflock's tests that records what it receives.

It appends one line per event to --log, each line "<event> <detail> <unix time>":
  ready <pid> <TFLOCK_LOCK_KEY> <TFLOCK_FENCE> <TFLOCK_OWNER> <TFLOCK_TOKEN>
  signal <NAME>
  exit <code>
It exits with --exit after --sleep seconds, or, on SIGINT/SIGTERM/SIGHUP
(unless ignored), --linger seconds after the first such signal with 128+N.
"""
import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--exit", type=int, default=0)
parser.add_argument("--linger", type=float, default=0.0)
parser.add_argument("--ignore", action="append", default=[], help="signal names to record but not act on")
args = parser.parse_args()


def record(line):
    with open(args.log, "a") as f:
        f.write(f"{line} {time.time():.6f}\n")
        f.flush()
        os.fsync(f.fileno())


stop_signal = None


def on_signal(signum, _frame):
    global stop_signal
    name = signal.Signals(signum).name
    record(f"signal {name}")
    if name not in args.ignore and name != "SIGQUIT" and stop_signal is None:
        stop_signal = signum


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(sig, on_signal)

env = os.environ
record(
    "ready {} {} {} {} {}".format(
        os.getpid(),
        env.get("TFLOCK_LOCK_KEY", "-"),
        env.get("TFLOCK_FENCE", "-"),
        env.get("TFLOCK_OWNER", "-"),
        env.get("TFLOCK_TOKEN", "-"),
    )
)

deadline = time.monotonic() + args.sleep
while time.monotonic() < deadline:
    if stop_signal is not None:
        time.sleep(args.linger)
        code = 128 + stop_signal
        record(f"exit {code}")
        sys.exit(code)
    time.sleep(0.02)

record(f"exit {args.exit}")
sys.exit(args.exit)
