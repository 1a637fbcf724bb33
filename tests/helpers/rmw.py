#!/usr/bin/env python3
"""One read-modify-write of a counter object in S3, with no conditional
write: the classic lost-update race, safe only under a lock.

usage: rmw.py ENDPOINT BUCKET KEY LOG

Appends "<enter> <exit> <value read>" (time.monotonic(): CLOCK_MONOTONIC,
one clock for every process on the machine) to LOG.
"""
import sys
import time
import urllib.error
import urllib.request

endpoint, bucket, key, log = sys.argv[1:5]
url = f"{endpoint}/{bucket}/{key}"
# moto serves anonymous reads only for public objects; it does not check
# signatures, so any SigV4-shaped header makes the request an account's.
AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=0"}
enter = time.monotonic()
try:
    value = int(urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=30).read() or b"0")
except urllib.error.HTTPError as e:
    if e.code != 404:
        raise
    value = 0
# Widen the window between the read and the write.
time.sleep(0.02)
put = urllib.request.Request(
    url,
    data=str(value + 1).encode(),
    method="PUT",
    # urllib's default (a form) makes the emulator read the body as one.
    headers={"Content-Type": "application/octet-stream", **AUTH},
)
urllib.request.urlopen(put, timeout=30).read()
leave = time.monotonic()
with open(log, "a") as f:
    f.write(f"{enter:.6f} {leave:.6f} {value}\n")
