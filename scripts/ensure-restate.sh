#!/usr/bin/env bash
# Checks that the restate-server binary from the npm dev dependency
# @restatedev/restate-server (installed by `npm ci`) is present and starts (CONTRIBUTING.md, "Set-up").
#
# Verified recipe (restate-server 1.7.12, for the TypeScript test helper):
#   binary: node_modules/@restatedev/restate-server-linux-x64/bin/restate-server
#           (node_modules/.bin/restate-server is a Node wrapper around it; spawn the binary)
#   args:   --no-logo
#   env:    RESTATE_BASE_DIR=<fresh temp dir>          (same as --base-dir; data goes to <dir>/<hostname>/)
#           RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:<free port>   ingress (service calls)
#           RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:<free port>     admin API (/health, /deployments)
#           RESTATE_BIND_ADDRESS=127.0.0.1:<free port>            node-to-node fabric
#           RESTATE_DEFAULT_NUM_PARTITIONS=2
#           RESTATE_LISTEN_MODE=tcp                    (default "all" also makes unix sockets
#                                                       under the base dir; path length limits)
#           RESTATE_DISABLE_TELEMETRY=true
#           RESTATE_LOG_FILTER=warn  RESTATE_LOG_DISABLE_ANSI_CODES=true   (quiet, plain logs)
#   ready:  GET http://127.0.0.1:<admin>/health -> 200 (~350 ms after spawn, ~145 MB RSS);
#           ingress GET /restate/health -> 200 as well.
#   stop:   SIGTERM -> exits 0 in ~30 ms; then delete the base dir.
#   noise:  with no internet it logs "ERROR octocrab failed with error client error (Connect)"
#           (a GitHub release check); harmless. `--dump-config` shows the effective settings.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=node_modules/@restatedev/restate-server-linux-x64/bin/restate-server
log() { echo "ensure-restate: $*" >&2; }

[ -x "$BIN" ] || { log "missing $BIN (run npm ci)"; exit 1; }

# Three free loopback ports (bind port 0, read it, close).
read -r ingress admin fabric < <(node -e '
  const net = require("net");
  const free = () => new Promise(r => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([free(), free(), free()]).then(p => console.log(p.join(" ")));')

dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

RESTATE_BASE_DIR="$dir/data" \
  RESTATE_INGRESS__BIND_ADDRESS="127.0.0.1:$ingress" \
  RESTATE_ADMIN__BIND_ADDRESS="127.0.0.1:$admin" \
  RESTATE_BIND_ADDRESS="127.0.0.1:$fabric" \
  RESTATE_DEFAULT_NUM_PARTITIONS=2 \
  RESTATE_LISTEN_MODE=tcp \
  RESTATE_DISABLE_TELEMETRY=true \
  RESTATE_LOG_FILTER=warn \
  RESTATE_LOG_DISABLE_ANSI_CODES=true \
  "$BIN" --no-logo >"$dir/log" 2>&1 &
pid=$!

for _ in $(seq 100); do
  curl -sf -m 1 -o /dev/null "http://127.0.0.1:$admin/health" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf -m 1 -o /dev/null "http://127.0.0.1:$admin/health"; then
  log "restate-server did not become healthy; log:"
  tail -20 "$dir/log" >&2
  exit 1
fi
kill -TERM "$pid"
wait "$pid" || { log "restate-server exited with $? on SIGTERM"; exit 1; }
pid=
log "OK: $("$BIN" --version) started and answered /health (admin 127.0.0.1:$admin)"
