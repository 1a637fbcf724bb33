#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as a user at a keyboard would.

usage: pty_run.py --wait-file F [--keys HEX | --hang-up] [--transcript T]
                 [--stdin-null] [--job | --background-job] -- CMD ARGS...

The command becomes a session leader with the pty as its controlling
terminal (so it is the terminal's foreground process group). Once --wait-file
contains --wait-for (default: any text), the bytes of --keys are typed (03
is Ctrl-C); with --hang-up the terminal is hung up instead (its master side
closed, as when an ssh connection drops). Everything the command writes to the terminal goes to
--transcript. With --stdin-null the command's stdin is /dev/null, not the
terminal (which stays its controlling terminal). With --job the command runs
as a shell runs a job: in a process group of its own, made the terminal's
foreground, under a parent in the same session (the session leader waits for
it); without that parent the group would be orphaned, and the kernel does not
let the terminal's Ctrl-Z stop an orphaned group. --background-job is the
same without taking the terminal: a job started with `&`. Exits with the command's exit code, or 128+N for signal N.
"""
import argparse
import os
import pty
import select
import signal
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--wait-file", required=True)
p.add_argument("--wait-for", default="")
p.add_argument("--keys", default="03")
p.add_argument("--transcript", default=os.devnull)
p.add_argument("--stdin-null", action="store_true")
p.add_argument("--job", action="store_true")
p.add_argument("--background-job", action="store_true")
p.add_argument("--hang-up", action="store_true")
p.add_argument("cmd", nargs=argparse.REMAINDER)
a = p.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

pid, master = pty.fork()

def run_command():
    if a.stdin_null:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.execvp(cmd[0], cmd)


def run_job():
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        if not a.background_job:
            # Taking the terminal from the background raises SIGTTOU.
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(1, os.getpid())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        run_command()
    _, st = os.waitpid(job, 0)
    os._exit(128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st))


if pid == 0:
    if a.job or a.background_job:
        run_job()
    run_command()

out = open(a.transcript, "wb")
typed = False
deadline = time.monotonic() + 120
status = None
while time.monotonic() < deadline:
    r, _, _ = select.select([master] if master is not None else [], [], [], 0.05)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        out.write(data)
        out.flush()
    if not typed:
        try:
            with open(a.wait_file) as f:
                if a.wait_for in f.read():
                    if a.hang_up:
                        os.close(master)
                        master = None
                    else:
                        os.write(master, bytes.fromhex(a.keys))
                    typed = True
        except FileNotFoundError:
            pass
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
if status is None:
    os.kill(pid, 9)
    sys.exit(99)
# Drain what is left.
while master is not None:
    try:
        r, _, _ = select.select([master], [], [], 0.1)
        if not r:
            break
        data = os.read(master, 4096)
        if not data:
            break
        out.write(data)
    except OSError:
        break
out.close()
if os.WIFSIGNALED(status):
    sys.exit(128 + os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
