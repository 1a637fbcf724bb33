#!/usr/bin/env python3
"""moto's server, with each request handled atomically.

`python -m moto.server` runs requests on concurrent threads with no lock
around the service models, so two conditional writes to one DynamoDB item can
interleave: both read "absent", both pass their condition, both write. Real
DynamoDB is linearizable per item, and a lock tool's tests are only evidence
if the emulator is too. This launcher keeps moto's threaded server (slow or
silent clients do not block others) but serialises request processing with
one lock.

It also refuses, as DynamoDB does, expressions over the service's documented
limits, which moto does not check: 4 KB per expression string, 300 operators
or functions per expression (counted here the way the service's guide does:
comparators, AND/OR/NOT, BETWEEN/IN and function calls). A request built to
fit moto but not DynamoDB would otherwise pass every test.

usage: moto_server.py [-H HOST] [-p PORT]
"""
import argparse
import io
import json
import re
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


EXPRESSIONS = ("ConditionExpression", "UpdateExpression", "ProjectionExpression",
               "KeyConditionExpression", "FilterExpression")
# Keywords and function names, not placeholders (`#in`, `:not`) that
# spell one.
OPERATOR = re.compile(r"<>|<=|>=|=|<|>|(?<![#:\w])(?:AND|OR|NOT|BETWEEN|IN)\b|(?<![#:\w])\w+\s*\(",
                      re.IGNORECASE)


def over_limits(body):
    """DynamoDB's answer to an expression over its limits, or None."""
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict):
        return None
    for field in EXPRESSIONS:
        text = request.get(field)
        if not isinstance(text, str):
            continue
        size = len(text.encode())
        if size > 4096:
            return f"Invalid {field}: Expression size has exceeded the maximum allowed size; expression size: {size}"
        count = len(OPERATOR.findall(text))
        if count > 300:
            return f"Invalid {field}: The expression contains too many operators; operator count: {count}"
    return None


def limited(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        why = over_limits(body)
        if why:
            answer = json.dumps({"__type": "com.amazon.coral.validate#ValidationException",
                                 "message": why}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(answer)))])
            return [answer]
    return app(environ, start_response)


def serialised(environ, start_response):
    with lock:
        # Materialise the response inside the lock: the model work may happen
        # lazily while the body is iterated.
        return list(limited(environ, start_response))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
run_simple(args.host, args.port, serialised, threaded=True)
