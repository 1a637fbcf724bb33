#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as a user at a keyboard would.

usage: pty_run.py --wait-file F [--keys HEX] [--transcript T] -- CMD ARGS...

The command becomes a session leader with the pty as its controlling
terminal (so it is the terminal's foreground process group). Once --wait-file
contains --wait-for (default: any text), the bytes of --keys are typed (03
is Ctrl-C). Everything the command writes to the terminal goes to
--transcript. Exits with the command's exit code, or 128+N for signal N.
"""
import argparse
import os
import pty
import select
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--wait-file", required=True)
p.add_argument("--wait-for", default="")
p.add_argument("--keys", default="03")
p.add_argument("--transcript", default=os.devnull)
p.add_argument("cmd", nargs=argparse.REMAINDER)
a = p.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

pid, master = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

out = open(a.transcript, "wb")
typed = False
deadline = time.monotonic() + 120
status = None
while time.monotonic() < deadline:
    r, _, _ = select.select([master], [], [], 0.05)
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
while True:
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
