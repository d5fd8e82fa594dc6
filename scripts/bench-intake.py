"""Benchmark, not a test: `POST /tickets` through the local stack as its table grows.

Run it against a freshly started `./scripts/up` (an empty table): it times intake requests one at
a time, submits TICKETS more tickets through the API from WORKERS parallel clients, waits until
the consumers have drained what those left on their queues (the teams' FIFO queues have no local
consumer and are not waited for), times intake again, then sends DUPLICATES concurrent copies of
one request with one Idempotency-Key (exactly one should create the ticket: one 201, the rest 200
with the same reference). Each timing line says how many items the table held. Tokens come from
target/debug/dev-token. Only loopback addresses are used; every request has a 60 s timeout.

Usage: .venv/bin/python scripts/bench-intake.py [--gateway http://127.0.0.1:3000]
       [--emulator http://127.0.0.1:4566] [--table guichet-local-tickets]
       [--tickets 10000] [--samples 60] [--duplicates 50]
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYERS = 100

# What players send, in turn: one of each category that intake treats differently (team,
# priority, an automatic escalation for `account`).
BODIES = [
    {
        "channel": "form",
        "category": "transaction",
        "subject": "Retrait bloqué",
        "description": "Mon retrait de 200 $ est en attente depuis trois jours.",
    },
    {
        "channel": "email",
        "category": "technical",
        "subject": "The lobby does not load",
        "description": "Since this morning the lobby stays blank after I log in.",
    },
    {
        "channel": "chat",
        "category": "account",
        "subject": "Impossible de me connecter",
        "description": "Mon mot de passe est refusé depuis ce matin.",
    },
]


def token(player: int) -> str:
    return subprocess.run(
        [
            os.path.join(ROOT, "target", "debug", "dev-token"),
            "--sub",
            f"bench-player-{player}",
            "--groups",
            "player",
            "--email",
            f"bench-{player}@example.ca",
            "--ttl-seconds",
            "14400",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def submit(gateway: str, bearer: str, body: dict, key: str) -> tuple[int, float, dict]:
    """Status, milliseconds and JSON answer of one POST /tickets."""
    request = urllib.request.Request(
        f"{gateway}/tickets",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {bearer}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    elapsed = (time.perf_counter() - start) * 1000
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {}
    return status, elapsed, answer


def aws(service: str, emulator: str):
    return boto3.client(
        service,
        endpoint_url=emulator,
        region_name="ca-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def items_in(emulator: str, table: str) -> int:
    return aws("dynamodb", emulator).describe_table(TableName=table)["Table"]["ItemCount"]


def drain(emulator: str, limit: float = 3600) -> None:
    """Waits until every standard queue is empty (nothing visible, nothing in flight)."""
    sqs = aws("sqs", emulator)
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        waiting = 0
        for url in sqs.list_queues().get("QueueUrls", []):
            if url.endswith(".fifo"):
                continue
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            waiting += sum(int(v) for v in attributes.values())
        if waiting == 0:
            waited = time.perf_counter() - start
            print(f"the consumers drained their queues in {waited:.0f} s", flush=True)
            return
        time.sleep(5)
    sys.exit("the consumers did not drain their queues")


def latencies(gateway: str, bearers: list[str], samples: int, label: str) -> None:
    times = []
    for i in range(samples):
        bearer, body = bearers[i % len(bearers)], BODIES[i % len(BODIES)]
        status, ms, answer = submit(gateway, bearer, body, str(uuid.uuid4()))
        if status != 201:
            sys.exit(f"intake answered {status}: {answer}")
        times.append(ms)
    times.sort()
    print(
        f"{label}: POST /tickets median {statistics.median(times):.0f} ms, "
        f"p90 {times[int(len(times) * 0.9) - 1]:.0f} ms, max {times[-1]:.0f} ms "
        f"({samples} requests one at a time)",
        flush=True,
    )


# A ticket reference: nine symbols and a check symbol (shared/core/src/common/reference.rs).
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTWXYZ"
IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32}\b")


def reference() -> str:
    values = [random.randrange(len(REFERENCE_ALPHABET)) for _ in range(9)]
    values.append(sum((i + 1) * v for i, v in enumerate(values)) % len(REFERENCE_ALPHABET))
    return "".join(REFERENCE_ALPHABET[v] for v in values)


def seed(emulator: str, table: str, tickets: int) -> None:
    """Adds `tickets` tickets to the table without going through the API (which would take the
    consumers far longer to follow): copies, by BatchWriteItem, of every item the API wrote for
    the tickets already there (ticket, history, notifications, escalation, idempotency record,
    delivery records), each copy under a fresh reference and fresh ids and keys. Outbox
    messages are not copied: the sweep would send them."""
    dynamodb = aws("dynamodb", emulator)
    template, page = [], {}
    while True:
        scanned = dynamodb.scan(TableName=table, **page)
        template += [i for i in scanned["Items"] if not i["pk"]["S"].startswith("OUTBOX#")]
        if "LastEvaluatedKey" not in scanned:
            break
        page = {"ExclusiveStartKey": scanned["LastEvaluatedKey"]}
    references = [i["reference"]["S"] for i in template if i["sk"]["S"] == "TICKET"]
    if not references:
        sys.exit("no ticket to copy: the table holds none")
    start = time.perf_counter()
    copies = -(-tickets // len(references))  # whole copies: at least `tickets` tickets
    written, batch = 0, []
    for _ in range(copies):
        fresh: dict[str, str] = {}
        for old in references:
            new = reference()
            fresh[old] = new
            fresh[f"{old[:5]}-{old[5:]}"] = f"{new[:5]}-{new[5:]}"
        known = re.compile("|".join(re.escape(r) for r in fresh) + "|" + IDS.pattern)

        def new_id(match: re.Match) -> str:
            old = match[0]
            return fresh.setdefault(old, uuid.uuid4().hex if len(old) == 32 else str(uuid.uuid4()))

        def renamed(value):
            if isinstance(value, str):
                return known.sub(new_id, value)
            if isinstance(value, dict):
                return {k: renamed(v) for k, v in value.items()}
            if isinstance(value, list):
                return [renamed(v) for v in value]
            return value

        for item in template:
            if not known.search(json.dumps(item)):
                continue  # per player (the contact address): a copy would overwrite it
            batch.append({"PutRequest": {"Item": renamed(item)}})
            if len(batch) == 25:
                dynamodb.batch_write_item(RequestItems={table: batch})
                written, batch = written + len(batch), []
    if batch:
        dynamodb.batch_write_item(RequestItems={table: batch})
        written += len(batch)
    print(
        f"seeded {copies * len(references)} tickets ({written} items) by BatchWriteItem in "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )


def duplicates(gateway: str, bearer: str, count: int) -> None:
    key = str(uuid.uuid4())
    body = BODIES[0]
    barrier = threading.Barrier(count)

    def one(_: int) -> tuple[int, float, dict]:
        barrier.wait()
        return submit(gateway, bearer, body, key)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        results = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    statuses: dict[int, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    references = {answer.get("reference") for _, _, answer in results}
    slowest = max(ms for _, ms, _ in results)
    print(
        f"{count} concurrent duplicates of one Idempotency-Key: "
        + ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
        + f", {len(references)} distinct reference(s), all answered in {elapsed:.1f} s "
        f"(slowest {slowest:.0f} ms)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:3000")
    parser.add_argument("--emulator", default="http://127.0.0.1:4566")
    parser.add_argument("--table", default="guichet-local-tickets")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--duplicates", type=int, default=50)
    args = parser.parse_args()
    for url in (args.gateway, args.emulator):
        if urllib.parse.urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"{url} is not on this machine's loopback address")

    bearers = [token(p) for p in range(PLAYERS)]
    drain(args.emulator)
    held = items_in(args.emulator, args.table)
    latencies(args.gateway, bearers, args.samples, f"table of {held} items")
    if args.tickets:
        seed(args.emulator, args.table, args.tickets)
        drain(args.emulator)
        held = items_in(args.emulator, args.table)
        latencies(args.gateway, bearers, args.samples, f"table of {held} items")
    duplicates(args.gateway, bearers[1], args.duplicates)


if __name__ == "__main__":
    main()
