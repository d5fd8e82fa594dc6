"""Benchmark, not a test: rising concurrency against the local stack, and who is busy meanwhile.

For each level of concurrency (1, 2, 4, 8, 16, 32 clients by default) it runs closed-loop
clients for SECONDS against `POST /tickets` (intake: a new ticket per request, rotating the
`transaction`, `technical` and `account` requests of bench-intake.py) and then `GET
/tickets/{reference}` (a read of the client's own ticket), and prints the throughput and the
p50/p99 latency, beside the CPU each process of the stack used over the level (from
/proc/<pid>/stat): the emulator, the gateway (the functions' handlers run in it, as in Lambda),
the consumers, this client, and the whole machine (other work on it included). A process at
about 100 % of one core while the others wait is the limit: the emulator serialises its
DynamoDB requests under one lock (scripts/emulator.py) and answers them in one Python
interpreter, so it is one core at most whatever the concurrency.

Run it against `./scripts/up` (its processes are found by their command line and working
directory, this checkout's). Tokens come from target/debug/dev-token. Only loopback addresses.

Usage: .venv/bin/python scripts/bench-load.py [--gateway http://127.0.0.1:3000]
       [--levels 1,2,4,8,16,32] [--seconds 10]
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

# The requests and tokens of bench-intake.py (whose file name is not a module name).
_spec = importlib.util.spec_from_file_location(
    "bench_intake", os.path.join(ROOT, "scripts", "bench-intake.py")
)
intake_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(intake_bench)
BODIES, token = intake_bench.BODIES, intake_bench.token


def request(gateway: str, method: str, path: str, bearer: str, body=None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {bearer}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = str(uuid.uuid4())
    call = urllib.request.Request(f"{gateway}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {}


def stack_processes() -> dict[str, int]:
    """The pids of this checkout's emulator, gateway and consumers (as scripts/up starts them).
    Other checkouts' stacks on the same machine have another working directory."""
    found = {}
    wanted = {
        "emulator": os.path.join("scripts", "emulator.py"),
        "gateway": os.path.join("target", "debug", "gateway"),
        "consumers": os.path.join("target", "debug", "consumers"),
    }
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        for name, needle in wanted.items():
            if needle in command and (cwd == ROOT or ROOT in command):
                found[name] = int(pid)
    missing = set(wanted) - set(found)
    if missing:
        sys.exit(f"not running from this checkout: {', '.join(sorted(missing))} (./scripts/up?)")
    found["client"] = os.getpid()
    return found


def cpu_ticks(pid: int) -> int:
    """User and system time of `pid` and its threads, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all cores since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def level(clients: int, seconds: float, one_request) -> tuple[int, int, list[float], float]:
    """Closed loop: each client sends its next request when the last is answered. Returns
    (answered as expected, other answers, latencies in ms, wall seconds)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    deadline = time.perf_counter() + seconds
    start_line = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        start_line.wait()
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = one_request(i, n)
            elapsed = (time.perf_counter() - started) * 1000
            if ok:
                latencies[i].append(elapsed)
            else:
                failures[i] += 1
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    flat = sorted(ms for each in latencies for ms in each)
    return len(flat), sum(failures), flat, wall


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:3000")
    parser.add_argument("--levels", default="1,2,4,8,16,32")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    if urllib.parse.urlparse(args.gateway).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"{args.gateway} is not on this machine's loopback address")
    levels = [int(n) for n in args.levels.split(",")]
    processes = stack_processes()
    bearers = [token(p) for p in range(max(levels))]
    # One ticket per client to read back, created before any level is timed.
    references = []
    for i, bearer in enumerate(bearers):
        status, answer = request(args.gateway, "POST", "/tickets", bearer, BODIES[i % 3])
        if status != 201:
            sys.exit(f"intake answered {status}: {answer}")
        references.append(answer["reference"])

    def intake(i: int, n: int) -> bool:
        status, _ = request(args.gateway, "POST", "/tickets", bearers[i], BODIES[(i + n) % 3])
        return status == 201

    def read(i: int, _: int) -> bool:
        status, _ = request(args.gateway, "GET", f"/tickets/{references[i]}", bearers[i])
        return status == 200

    names = ["emulator", "gateway", "consumers", "client"]
    print(
        f"{CORES} cores; CPU as % of one core over each level "
        f"({args.seconds:.0f} s per level, closed loop)",
        flush=True,
    )
    print(
        "operation           clients  req/s   p50 ms   p99 ms  errors  "
        + "  ".join(f"{n:>9}" for n in names)
        + "    machine",
        flush=True,
    )
    for label, one_request in (("POST /tickets", intake), ("GET /tickets/{ref}", read)):
        for clients in levels:
            before = {n: cpu_ticks(processes[n]) for n in names}
            busy_before, total_before = machine_ticks()
            answered, failed, ms, wall = level(clients, args.seconds, one_request)
            after = {n: cpu_ticks(processes[n]) for n in names}
            busy_after, total_after = machine_ticks()
            shares = {n: 100 * (after[n] - before[n]) / TICKS / wall for n in names}
            machine = 100 * CORES * (busy_after - busy_before) / max(1, total_after - total_before)
            print(
                f"{label:<20}{clients:>7}{answered / wall:>7.1f}{statistics.median(ms):>9.0f}"
                f"{percentile(ms, 0.99):>9.0f}{failed:>8}  "
                + "  ".join(f"{shares[n]:>8.0f}%" for n in names)
                + f"  {machine:>8.0f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
