"""Starts moto in server mode on 127.0.0.1 with DynamoDB requests serialised.

moto's server handles requests on several threads, and its DynamoDB `TransactWriteItems` is
all-or-nothing but not isolated: two transactions racing on the same item can both pass their
conditions. DynamoDB's transactions are serialisable, and Guichet relies on that (exactly one
ticket per Idempotency-Key under concurrent duplicates, one open case per player). Serialising
DynamoDB requests here gives the emulator that guarantee without slowing the other services
(SQS long polling in particular keeps its own threads).

Usage: python scripts/emulator.py PORT
"""

import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

_dynamodb = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return app(environ, start_response)
        with _dynamodb:
            # Consume the response inside the lock: the operation runs while it is built.
            return list(app(environ, start_response))

    return wrapped


def main() -> None:
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        serialise_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
