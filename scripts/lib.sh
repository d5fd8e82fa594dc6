# Shared helpers for the project's scripts: the pinned Python tools and the local AWS emulator.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.local"
# Pinned: the emulator's behaviour is part of the test contract (see README, "Local AWS").
PY_REQUIREMENTS=("moto[server]==5.2.5" "cfn-lint==1.58.0" "schemathesis==4.32.5")
# checkov has a venv of its own: in .venv it would pin boto3/botocore 1.35 and so downgrade the
# botocore (1.44) whose service models moto answers from, changing the emulator under the tests.
CHECKOV_VENV="$ROOT/.venv-checkov"
CHECKOV_REQUIREMENTS=("checkov==3.3.30")

log() { printf '[guichet] %s\n' "$*" >&2; }

# Creates the venv $1 and installs the pinned requirements $2... once; a stamp records what was
# installed.
install_venv() {
  local venv="$1" stamp="$1/.guichet-requirements" want
  shift
  want="$*"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing ${want} into ${venv#"$ROOT"/}"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  printf '%s' "$want" > "$stamp"
}

ensure_venv() { install_venv "$VENV" "${PY_REQUIREMENTS[@]}"; }
ensure_checkov() { install_venv "$CHECKOV_VENV" "${CHECKOV_REQUIREMENTS[@]}"; }

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts moto in server mode on 127.0.0.1:$1 and waits until it answers.
# Sets EMULATOR_PID and exports the SDK's endpoint and dummy credentials.
start_emulator() {
  local port="$1" logfile="$2"
  mkdir -p "$STATE"
  # moto's own server, with DynamoDB requests serialised as DynamoDB's transactions are
  # (see scripts/emulator.py).
  "$VENV/bin/python" "$ROOT/scripts/emulator.py" "$port" >"$logfile" 2>&1 &
  EMULATOR_PID=$!
  local i
  for i in $(seq 1 100); do
    if "$VENV/bin/python" - "$port" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
    then
      export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
      export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=ca-central-1
      unset AWS_PROFILE AWS_SESSION_TOKEN
      log "emulator (moto) on $AWS_ENDPOINT_URL, pid $EMULATOR_PID"
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      log "the emulator exited; its log:"; cat "$logfile" >&2; return 1
    fi
    sleep 0.2
  done
  log "the emulator did not answer within 20 s"; return 1
}

stop_emulator() {
  if [ -n "${EMULATOR_PID:-}" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill "$EMULATOR_PID" 2>/dev/null
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
}
