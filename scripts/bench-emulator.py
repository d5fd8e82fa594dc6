"""Benchmark, not a test: what one DynamoDB write costs the local emulator as its table grows.

Starts an emulator on a free port (scripts/emulator.py, or with --unpatched moto's own server,
which has neither the DynamoDB lock nor the transaction patch), creates a table shaped like the
template's TicketsTable (pk/sk, two GSIs, a NEW_AND_OLD_IMAGES stream), and times a one-item
TransactWriteItems and a PutItem of a new ticket-sized item on the empty table, then again after
seeding ITEMS items by BatchWriteItem. Prints one line per measurement; stops its emulator.

Usage: .venv/bin/python scripts/bench-emulator.py [--unpatched] [--items 10000] [--rounds 20]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(unpatched: bool, port: int) -> subprocess.Popen:
    if unpatched:
        command = [os.path.join(os.path.dirname(sys.executable), "moto_server"), "-p", str(port)]
    else:
        command = [sys.executable, os.path.join(ROOT, "scripts", "emulator.py"), str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"the emulator exited with {process.returncode}")
            time.sleep(0.2)
    process.kill()
    sys.exit("the emulator did not answer within 20 s")


def ticket(n: int) -> dict:
    """An item about the size and shape of a stored ticket."""
    reference = f"B{n:09d}"
    return {
        "pk": {"S": f"TICKET#{reference}"},
        "sk": {"S": "TICKET"},
        "gsi1pk": {"S": f"PLAYER#player-{n % 500}"},
        "gsi1sk": {"S": f"2026-11-26T15:00:00.000Z#{reference}"},
        "gsi2pk": {"S": "QUEUE#payments"},
        "gsi2sk": {"S": f"2#2026-11-27T22:00:00Z#{reference}"},
        "status": {"S": "open"},
        "subject": {"S": "Retrait bloqué"},
        "description": {"S": "Mon retrait de 200 $ est en attente depuis trois jours. " * 4},
        "created_at": {"S": "2026-11-26T15:00:00.000Z"},
    }


def timed(call, rounds: int) -> float:
    """Median milliseconds of `rounds` calls of `call(i)`."""
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unpatched", action="store_true", help="moto's own server")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    port = free_port()
    process = start_emulator(args.unpatched, port)
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="ca-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        key = [("pk", "HASH"), ("sk", "RANGE")]
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"}
                for a in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
            ],
            KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in key],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                        {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in ("gsi1", "gsi2")
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        emulator = "moto's own server (unpatched)" if args.unpatched else "scripts/emulator.py"
        next_item = iter(range(10**9, 2 * 10**9))

        def transact(_):
            item = ticket(next(next_item))
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )

        def put(_):
            client.put_item(
                TableName=TABLE,
                Item=ticket(next(next_item)),
                ConditionExpression="attribute_not_exists(pk)",
            )

        def measure(label: str) -> None:
            t = timed(transact, args.rounds)
            p = timed(put, args.rounds)
            print(
                f"{emulator}, {label}: TransactWriteItems (1 Put) {t:.1f} ms, "
                f"PutItem {p:.1f} ms (medians of {args.rounds})",
                flush=True,
            )

        measure("empty table")
        for first in range(0, args.items, 25):
            client.batch_write_item(
                RequestItems={
                    TABLE: [
                        {"PutRequest": {"Item": ticket(n)}}
                        for n in range(first, min(first + 25, args.items))
                    ]
                }
            )
        measure(f"{args.items} items seeded")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
