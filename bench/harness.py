"""Cold-start benchmark driver (run by bench/run, which builds, provisions and cleans up).

A stand-in for the Lambda Runtime API on loopback starts each binary as Lambda does and feeds
it invocations, so the same measurement applies to the functions, the two floors and the Python
peer. Per target: init (spawn to its first `next`), the first invocation, warm p50/p99, peak RSS
(VmHWM) and the AWS calls it made (lines of the emulator's request log, which logs one line per
request: the same count for Rust and Python).

Standard library only, so it runs before any venv exists.
"""

import argparse
import copy
import json
import math
import os
import queue
import statistics
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = os.path.join(ROOT, "events")
PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:ca-central-1:123456789012:function:{}"
# The notification id of the outbox item in events/dynamodb-outbox-insert.json.
SAMPLE_OUTBOX_ID = "5b0e7f0c2d7a4b8e9a613f4c2b1d0e9a"


class Invocation:
    def __init__(self, event):
        self.id = str(uuid.uuid4())
        self.event = json.dumps(event).encode()
        self.done = threading.Event()
        self.sent_at = None
        self.answered_at = None
        self.outcome = None
        self.body = None


class RuntimeApi(ThreadingHTTPServer):
    """The Runtime API's four routes, one function process at a time."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.pending = queue.Queue()
        self.by_id = {}
        self.first_next = threading.Event()
        self.first_next_at = None
        self.init_error = None

    @property
    def address(self):
        return f"127.0.0.1:{self.server_address[1]}"

    def invoke(self, event, timeout=30.0):
        inv = Invocation(event)
        self.by_id[inv.id] = inv
        inv.sent_at = time.perf_counter()
        self.pending.put(inv)
        if not inv.done.wait(timeout):
            raise TimeoutError("invocation not answered")
        return inv


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the runtime clients expect of the real Runtime API.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        api = self.server
        if self.path != f"{PREFIX}/invocation/next":
            return self.reply(404)
        if not api.first_next.is_set():
            api.first_next_at = time.perf_counter()
            api.first_next.set()
        inv = api.pending.get()
        deadline = int(time.time() * 1000) + 10_000
        self.reply(
            200,
            inv.event,
            [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", inv.id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN.format("bench")),
                (
                    "Lambda-Runtime-Trace-Id",
                    f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                ),
            ],
        )

    def do_POST(self):
        api = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == f"{PREFIX}/init/error":
            api.init_error = body.decode(errors="replace")
            api.first_next.set()
            return self.reply(202, b'{"status":"OK"}')
        parts = self.path[len(PREFIX) :].split("/")
        # /invocation/{id}/response or /invocation/{id}/error
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
            return self.reply(404)
        inv = api.by_id.get(parts[2])
        if inv is None:
            return self.reply(400)
        inv.answered_at = time.perf_counter()
        inv.outcome = parts[3]
        inv.body = body
        self.reply(202, b'{"status":"OK"}')
        inv.done.set()


class EmulatorLog:
    """Counts the emulator's request lines: one per AWS call it answered."""

    def __init__(self, path):
        self.path = path

    def count(self):
        # Give the emulator's logger the moment it takes to write the last line.
        time.sleep(0.05)
        with open(self.path, "rb") as f:
            return sum(1 for line in f if b' HTTP/1.1" ' in line)


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def percentile(values, p):
    """Nearest rank: the figure reported is one that was measured, never interpolated."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def load_event(name):
    with open(os.path.join(EVENTS, name)) as f:
        return json.load(f)


class Events:
    """The sample events, made unique per invocation where the function would otherwise
    answer from its idempotency record or ignore a repeated message."""

    def __init__(self, env):
        self.env = env
        self.reference = None
        self.notifications = []

    def api(self, name):
        event = load_event(name)
        event["requestContext"]["requestId"] = uuid.uuid4().hex
        return event

    def create_ticket(self):
        event = self.api("create-ticket.json")
        event["headers"]["idempotency-key"] = str(uuid.uuid4())
        return event

    def for_ticket(self, name):
        """A sample event on the ticket create-ticket wrote (its sample reference replaced)."""
        event = self.api(name)
        if self.reference:
            sample = event["pathParameters"]["reference"]
            for holder, key in ((event, "rawPath"), (event["requestContext"]["http"], "path")):
                holder[key] = holder[key].replace(sample, self.reference)
            event["pathParameters"]["reference"] = self.reference
        return event

    def sqs(self, name):
        event = load_event(name)
        for record in event["Records"]:
            record["messageId"] = str(uuid.uuid4())
        return event

    def check_documents(self):
        event = self.sqs("document-uploaded.json")
        for record in event["Records"]:
            body = json.loads(record["body"])
            for s3 in body["Records"]:
                s3["s3"]["bucket"]["name"] = self.env["DOCUMENTS_BUCKET"]
                s3["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{self.env['DOCUMENTS_BUCKET']}"
            record["body"] = json.dumps(body)
        return event

    def drain_notifications(self):
        """The notifications create-ticket's runs left on the queue: real ones (a known player,
        ticket and address), so send-notifications takes its real path (SES) rather than the
        sample event's unknown player. Read before send-notifications' runs, outside them."""
        import boto3  # the emulator's venv has it; only this feed needs it

        sqs = boto3.client(
            "sqs",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )
        while True:
            got = sqs.receive_message(
                QueueUrl=self.env["NOTIFICATIONS_QUEUE_URL"],
                MaxNumberOfMessages=10,
                VisibilityTimeout=600,
            ).get("Messages", [])
            if not got:
                return
            # The peer's messages share the queue; only Guichet's are send-notifications' input,
            # and of those not the copies of the sample outbox item relay-stream is fed (a
            # ticket that does not exist).
            self.notifications.extend(
                m["Body"]
                for m in got
                if '"guichet.notification.' in m["Body"] and SAMPLE_OUTBOX_ID not in m["Body"]
            )

    def send_notifications(self):
        event = self.sqs("sqs-notification.json")
        if self.notifications:
            event["Records"][0]["body"] = self.notifications.pop(0)
        return event

    def scheduled(self):
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "ca-central-1",
            "resources": [],
            "detail": {},
        }

    def for_target(self, name):
        return {
            "create-ticket": self.create_ticket,
            "peer": self.create_ticket,
            "get-ticket": lambda: self.for_ticket("get-ticket.json"),
            "check-documents": self.check_documents,
            "send-notifications": self.send_notifications,
            "relay-outbox": self.scheduled,
            "list-tickets": lambda: self.api("list-tickets.json"),
            "team-queue": lambda: self.api("team-queue.json"),
            "route-escalations": lambda: self.sqs("sqs-escalation-request.json"),
            "incident-updates": lambda: self.sqs("sqs-incident-update.json"),
            # Each function on its own sample event, so its first call makes the AWS calls a
            # real one does (a refusal included: a 404 or 409 is answered after its read).
            "add-attachment": lambda: self.for_ticket("add-attachment.json"),
            "update-ticket": lambda: self.for_ticket("update-ticket-take.json"),
            "incidents": lambda: self.api("incidents-list.json"),
            "open-case": lambda: self.api("open-case.json"),
            "request-upload": lambda: self.api("request-upload.json"),
            "read-case": lambda: self.api("read-case-player.json"),
            "review-case": lambda: self.api("review-case-view.json"),
            "eligibility": lambda: self.api("eligibility.json"),
            "relay-stream": lambda: load_event("dynamodb-outbox-insert.json"),
        }.get(name, self.create_ticket)


def summarise_outcomes(invocations):
    seen = {}
    for inv in invocations:
        label = inv.outcome
        try:
            answer = json.loads(inv.body)
            if isinstance(answer, dict) and "statusCode" in answer:
                label = str(answer["statusCode"])
            elif isinstance(answer, dict) and "batchItemFailures" in answer:
                label = f"failures={len(answer['batchItemFailures'])}"
        except ValueError:
            pass
        seen[label] = seen.get(label, 0) + 1
    return " ".join(f"{k}×{v}" for k, v in sorted(seen.items()))


def measure(label, argv, env, make_event, warm, log, cold=5, cwd=None):
    """`cold` cold starts (a fresh process each: init and first invocation), the last one
    followed by `warm` invocations; init and first are the medians over the cold starts."""
    runs = [start_once(label, argv, env, make_event, warm if i == cold - 1 else 0, log, cwd)
            for i in range(cold)]
    last = runs[-1]
    invocations = [inv for run in runs for inv in run["invocations"]]
    inits = [run["init_ms"] for run in runs]
    firsts = [run["first_ms"] for run in runs]
    return {
        "target": label,
        "cold_starts": cold,
        "init_ms": statistics.median(inits),
        "init_ms_all": inits,
        "first_ms": statistics.median(firsts),
        "first_ms_all": firsts,
        "warm": warm,
        "p50_ms": percentile(last["warm_ms"], 50),
        "p99_ms": percentile(last["warm_ms"], 99),
        "rss_mb": max(run["rss_kb"] for run in runs) / 1024,
        "calls_init": max(run["calls_init"] for run in runs),
        "calls_per_request": sum(run["calls"] for run in runs) / len(invocations),
        "outcomes": summarise_outcomes(invocations),
        "first_body": runs[0]["invocations"][0].body,
    }


def start_once(label, argv, env, make_event, warm, log, cwd):
    api = RuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    lambda_env = dict(env)
    lambda_env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": label,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{label}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        }
    )
    calls_before = log.count()
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=lambda_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr_lines = []
    threading.Thread(
        target=lambda: stderr_lines.extend(proc.stderr.readlines()), daemon=True
    ).start()
    try:
        if not api.first_next.wait(60) or api.init_error:
            raise RuntimeError(f"{label}: init failed: {api.init_error or 'no next'}")
        init_ms = (api.first_next_at - started) * 1000
        calls_init = log.count() - calls_before
        first = api.invoke(make_event())
        invocations = [first]
        warm_ms = []
        for _ in range(warm):
            inv = api.invoke(make_event())
            invocations.append(inv)
            warm_ms.append((inv.answered_at - inv.sent_at) * 1000)
        calls = log.count() - calls_before - calls_init
        # Read while the process is alive: the high-water mark of its resident set.
        rss_kb = vm_hwm_kb(proc.pid)
    except Exception:
        sys.stderr.write(b"".join(stderr_lines[-20:]).decode(errors="replace"))
        raise
    finally:
        proc.kill()
        proc.wait()
        api.shutdown()
        api.server_close()
    return {
        "init_ms": init_ms,
        "first_ms": (first.answered_at - first.sent_at) * 1000,
        "warm_ms": warm_ms,
        "rss_kb": rss_kb,
        "calls_init": calls_init,
        "calls": calls,
        "invocations": invocations,
    }


class TlsProxy:
    """TLS in front of the emulator: terminates TLS with the bench CA's certificate and splices
    the bytes to the emulator's plain HTTP port, so the clients pay a real handshake."""

    def __init__(self, cert, key, upstream_port):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        try:
            tls = self.context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.upstream)
        except (OSError, ssl.SSLError):
            client.close()
            return
        for sock in (tls, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
        pump(tls, upstream)

    def close(self):
        self.sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-file", required=True, help="provisioned NAME=value lines")
    parser.add_argument("--emulator-port", type=int, required=True)
    parser.add_argument("--emulator-log", required=True)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--functions", required=True, help="comma-separated binaries")
    parser.add_argument("--peer-python", help="the peer venv's python; none: no peer")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--tls-bundle", help="system roots plus the bench CA (PEM)")
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--cold", type=int, default=20, help="cold starts per target")
    parser.add_argument("--json", help="where to write every figure as JSON")
    parser.add_argument(
        "--without-warmup",
        action="store_true",
        help="also measure each function with WARM_CONNECTIONS=false (no warm-up at init)",
    )
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")}
    with open(args.env_file) as f:
        for line in f:
            name, sep, value = line.rstrip("\n").partition("=")
            if sep and name[:1].isupper():
                env[name] = value
    # The template's Globals (infra/template.yaml) beside what provisioning prints.
    env.setdefault("IDEMPOTENCY_KEY_TTL_HOURS", "24")
    env.setdefault("MAX_RESUBMISSIONS", "2")
    env.setdefault("NOTIFICATION_SENDER", "soutien@guichet.example")
    env.setdefault("INCIDENT_THRESHOLD", "3")
    env.setdefault("INCIDENT_WINDOW_MINUTES", "60")
    env["RUST_LOG"] = "info"
    # The warm-up on (the template's WarmConnections=true), whatever the caller's shell says, so
    # that the rows without a "(no warm-up)" label measure it; the functions' default is off.
    env["WARM_CONNECTIONS"] = "true"
    env.update(
        AWS_REGION="ca-central-1",
        AWS_DEFAULT_REGION="ca-central-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{args.emulator_port}",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    log = EmulatorLog(args.emulator_log)
    events = Events(env)
    functions = [f for f in args.functions.split(",") if f]
    bin_dir = args.bin_dir

    def rust(name, extra=None, label=None, tls=False):
        if name == "send-notifications":
            events.drain_notifications()
        run_env = dict(env, **(extra or {}))
        if tls:
            run_env.update(tls_env)
        label = label or name
        result = measure(
            label,
            [os.path.join(bin_dir, name)],
            run_env,
            events.for_target(name),
            args.warm,
            log,
            cold=args.cold,
        )
        if name == "create-ticket" and not events.reference:
            events.reference = json.loads(json.loads(result["first_body"])["body"])["reference"]
        return result

    def peer(tls=False):
        run_env = dict(env, PYTHONPATH=os.path.join(ROOT, "bench", "peer"))
        if tls:
            run_env.update(tls_env)
        return measure(
            "peer (Python)" + (" TLS" if tls else ""),
            [args.peer_python, "-m", "awslambdaric", "app.handler"],
            run_env,
            events.create_ticket,
            args.warm,
            log,
            cold=args.cold,
            cwd=os.path.join(ROOT, "bench", "peer"),
        )

    results = {"plain": [], "tls": []}
    tls_env = {}

    def report(section, result):
        results[section].append(result)
        print(row(result), flush=True)

    print(header(), flush=True)
    # Floors first, functions, then the peer: all in one run against one emulator.
    report("plain", rust("floor-bare"))
    report("plain", rust("floor-sdk"))
    report("plain", rust("floor-sdk", {"FLOOR_CALL": "1"}, "floor-sdk +1 call/inv"))
    report(
        "plain",
        rust("floor-sdk", {"FLOOR_CALL": "1", "FLOOR_PREWARM": "1"}, "floor-sdk +1 call +prewarm"),
    )
    def measure_functions(section, suffix="", tls=False):
        for name in functions:
            report(section, rust(name, label=name + suffix, tls=tls))
            if args.without_warmup:
                off = {"WARM_CONNECTIONS": "false"}
                report(section, rust(name, off, name + NO_WARMUP + suffix, tls=tls))

    measure_functions("plain")
    if args.peer_python:
        report("plain", peer())
    against_targets(results["plain"], functions, "")


    if args.tls_cert:
        proxy = TlsProxy(args.tls_cert, args.tls_key, args.emulator_port)
        tls_env = {
            "AWS_ENDPOINT_URL": f"https://127.0.0.1:{proxy.port}",
            # rustls-native-certs reads SSL_CERT_FILE instead of the system store; botocore
            # reads AWS_CA_BUNDLE. Both get the system roots plus the bench CA, so loading the
            # roots costs what it costs in Lambda.
            "SSL_CERT_FILE": args.tls_bundle,
            "AWS_CA_BUNDLE": args.tls_bundle,
        }
        print("\nover TLS (https endpoint, TLS-terminating proxy in front of the emulator)")
        print(header(), flush=True)
        try:
            for label, extra in (
                ("floor-sdk TLS", {}),
                ("floor-sdk +1 call/inv TLS", {"FLOOR_CALL": "1"}),
                ("floor-sdk +1 call +prewarm TLS", {"FLOOR_CALL": "1", "FLOOR_PREWARM": "1"}),
            ):
                report("tls", rust("floor-sdk", extra, label, tls=True))
            measure_functions("tls", " TLS", tls=True)
            if args.peer_python:
                report("tls", peer(tls=True))
        finally:
            proxy.close()
        against_targets(results["tls"], functions, " TLS")

    if args.json:
        for section in results.values():
            for r in section:
                r.pop("first_body", None)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


NO_WARMUP = " (no warm-up)"


def against_targets(rows, functions, suffix):
    """Each function's init against the floor's, with and without its warm-up. With it, init
    includes the warm-up call(s), so the floor is the one that makes one call at init
    (FLOOR_PREWARM); without it, floor-sdk, which makes none. Also init + first call, the cost
    a cold start adds before the first answer, with the warm-up and without."""
    by_label = {r["target"]: r for r in rows}
    floor = by_label[f"floor-sdk{suffix}"]
    prewarm = by_label[f"floor-sdk +1 call +prewarm{suffix}"]
    print(
        f"\nagainst the targets{suffix}: init within 1.25x the floor's (with the warm-up: the "
        "floor with one call at init; without: floor-sdk), peak RSS under 16 MB"
    )

    def verdict(ok):
        return "met" if ok else "MISSED"

    for name in functions:
        warm = by_label.get(name + suffix)
        cold = by_label.get(name + NO_WARMUP + suffix)
        if warm is None:
            continue
        warm["init_vs_floor_sdk"] = warm["init_ms"] / floor["init_ms"]
        warm["init_vs_floor_prewarm"] = warm["init_ms"] / prewarm["init_ms"]
        line = (
            f"{name:<22} warm-up: init {warm['init_vs_floor_prewarm']:5.2f}x floor+prewarm "
            f"({verdict(warm['init_vs_floor_prewarm'] <= 1.25)}), init+1st "
            f"{warm['init_ms'] + warm['first_ms']:6.1f} ms"
        )
        if cold is not None:
            cold["init_vs_floor_sdk"] = cold["init_ms"] / floor["init_ms"]
            line += (
                f"; none: init {cold['init_vs_floor_sdk']:5.2f}x floor-sdk "
                f"({verdict(cold['init_vs_floor_sdk'] <= 1.25)}), init+1st "
                f"{cold['init_ms'] + cold['first_ms']:6.1f} ms"
            )
        rss = max(r["rss_mb"] for r in (warm, cold) if r is not None)
        print(f"{line}; RSS {rss:.1f} MB ({verdict(rss < 16)})", flush=True)


def header():
    return (
        f"{'target':<34} {'init ms':>8} {'1st ms':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'RSS MB':>7} {'calls/req':>9} {'init calls':>10}  outcomes"
    )


def row(r):
    return (
        f"{r['target']:<34} {r['init_ms']:8.1f} {r['first_ms']:8.1f} {r['p50_ms']:8.1f} "
        f"{r['p99_ms']:8.1f} {r['rss_mb']:7.1f} {r['calls_per_request']:9.2f} "
        f"{r['calls_init']:10d}  {r['outcomes']}"
    )


if __name__ == "__main__":
    main()
