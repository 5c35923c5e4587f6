#!/usr/bin/env bash
# End-to-end check of the Podman setup through the Docker-compatible API only
# (what dockerode/undici code sees): create an httpd container from the test image
# with 8080/tcp published on a random 127.0.0.1 port, start it, fetch a page from
# the host, check the default ulimits, remove it. Run after scripts/setup-podman.sh.
set -euo pipefail

SOCK=${DOCKER_HOST:-unix:///run/lessor-podman.sock}
SOCK=${SOCK#unix://}
IMAGE=localhost/lessor-test-busybox:latest
NAME=lessor-check-$$
api() { curl -sS -m 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' "$@"; }
# Prints one field of a JSON document read from stdin (node is always there).
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(eval("("+s+")"+process.argv[1])))' "$1"; }
trap 'api -o /dev/null -X DELETE "http://d/v1.41/containers/$NAME?force=true" || true' EXIT

[ "$(api http://d/_ping)" = OK ] || { echo "check-podman: no API on $SOCK" >&2; exit 1; }

api -o /dev/null -f -X POST "http://d/v1.41/containers/create?name=$NAME" -d '{
  "Image": "'"$IMAGE"'", "Cmd": ["httpd", "-f", "-p", "8080"],
  "ExposedPorts": {"8080/tcp": {}},
  "HostConfig": {"PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}}}'
api -f -X POST "http://d/v1.41/containers/$NAME/start"

info=$(api -f "http://d/v1.41/containers/$NAME/json")
port=$(field '.NetworkSettings.Ports["8080/tcp"][0].HostPort' <<<"$info")
ulimits=$(field '.HostConfig.Ulimits.map(u=>u.Name+"="+u.Soft+":"+u.Hard).join(",")' <<<"$info")

# httpd needs a moment after start; retry briefly (at most ~10 s).
body=
for _ in $(seq 20); do
  body=$(curl -sf -m 0.5 "http://127.0.0.1:$port/" || true)
  [ -n "$body" ] && break
  sleep 0.1
done
[ "$body" = "lessor-test-busybox ok" ] || { echo "check-podman: bad reply from 127.0.0.1:$port: '$body'" >&2; exit 1; }
[ "$ulimits" = "RLIMIT_NOFILE=1024:1024,RLIMIT_NPROC=1024:1024" ] ||
  { echo "check-podman: unexpected ulimits: $ulimits" >&2; exit 1; }

api -f -X DELETE "http://d/v1.41/containers/$NAME?force=true"
trap - EXIT
echo "check-podman: OK (127.0.0.1:$port -> $NAME:8080, ulimits $ulimits)"
