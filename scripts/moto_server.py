#!/usr/bin/env python3
"""moto's server, with each request handled atomically.

`python -m moto.server` runs requests on concurrent threads with no lock
around the service models, so two conditional writes to one DynamoDB item can
interleave: both read "absent", both pass their condition, both write. Real
DynamoDB is linearizable per item, and a lock tool's tests are only evidence
if the emulator is too. This launcher keeps moto's threaded server (slow or
silent clients do not block others) but serialises request processing with
one lock.

usage: moto_server.py [-H HOST] [-p PORT]
"""
import argparse
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

parser = argparse.ArgumentParser()
parser.add_argument("-H", "--host", default="127.0.0.1")
parser.add_argument("-p", "--port", type=int, default=5000)
args = parser.parse_args()

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialised(environ, start_response):
    with lock:
        # Materialise the response inside the lock: the model work may happen
        # lazily while the body is iterated.
        return list(app(environ, start_response))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
run_simple(args.host, args.port, serialised, threaded=True)
