#!/usr/bin/env bash
# Rootful Podman with a Docker-compatible API socket, plus the offline test image
# (CONTRIBUTING.md, "Set-up"). Idempotent: ~0.2 s when everything is in place already.
# Progress goes to stderr; stdout is exactly one line: DOCKER_HOST=unix:///run/lessor-podman.sock
#
# Caveats found on the dev/CI VM (Debian 12, podman 4.3.1, cgroup v1, no systemd/journald):
# - Network backend: netavark (+ iptables, nf_tables flavour). The podman package also
#   ships a CNI config but no CNI plugins, so we install netavark and pin it in the config.
# - Port publishing works: HostIp 127.0.0.1 or empty, fixed or random (HostPort "")
#   host ports, reachable from the host on 127.0.0.1; container IPs (10.88.0.0/16)
#   are reachable from the host too; containers can reach the host at 10.88.0.1.
# - httpd/sleep as PID 1 ignore SIGTERM: `stop` waits its full timeout (default 10 s)
#   and then SIGKILLs. Use DELETE ?force=true (~0.3 s) or stop ?t=1 in tests.
# - Debian's busybox-static `wget -T <secs>` segfaults; use `timeout 3 wget ...`.
# - Inside a podman container (nested), the inner default network 10.88.0.0/16 overlaps
#   the outer one and published ports do not answer; fine on the VM itself.
# - Config lives in a containers.conf.d drop-in; do not set CONTAINERS_CONF (podman then
#   reads only that file).
set -euo pipefail

SOCK=/run/lessor-podman.sock
PIDFILE=/run/lessor-podman.pid
LOG=/var/log/lessor-podman.log
IMAGE=localhost/lessor-test-busybox:latest
CONF=/etc/containers/containers.conf.d/50-lessor.conf
log() { echo "setup-podman: $*" >&2; }
exec 9>/run/lessor-podman.lock && flock 9 # concurrent runs would race on socket and apt

# 1. Packages. --no-install-recommends keeps it small (recommends pull buildah,
#    dbus, fuse-overlayfs...); netavark/aardvark-dns/iptables are the network stack.
pkgs=(podman runc busybox-static netavark aardvark-dns iptables curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp)
  apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >"$aptlog" 2>&1; }
  # apt-get update only when the install fails (empty or stale package lists).
  apt_install || { apt-get update -q >"$aptlog" 2>&1 && apt_install; } ||
    { log "apt-get failed:"; tail -20 "$aptlog" >&2; exit 1; }
  rm -f "$aptlog"
fi

# 2. Config as a drop-in (podman 4.3 reads containers.conf.d; it overrides, and does
#    not clobber, any /etc/containers/containers.conf). Rewritten only if it differs.
journal=$([ -S /run/systemd/journal/socket ] && echo journald || echo file)
want=$(cat <<EOF
# Written by scripts/setup-podman.sh (Lessor).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "$journal"
[network]
network_backend = "netavark"
EOF
)
conf_changed=0
if [ "$(cat "$CONF" 2>/dev/null)" != "$want" ]; then
  mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$want" >"$CONF"
  conf_changed=1
  log "wrote $CONF"
fi

# 3. API service. Restart our own service when the config changed (it reads it at start).
ping() { curl -sf -m 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
ours() { [ -s "$PIDFILE" ] && grep -qs "$SOCK" "/proc/$(cat "$PIDFILE")/cmdline"; } # pid not reused
if ((conf_changed)) && ours; then
  log "config changed: restarting podman service"
  kill "$(cat "$PIDFILE")"
  for _ in $(seq 50); do ping || break; sleep 0.1; done
fi
if ! ping; then
  rm -f "$SOCK" # stale socket left by a dead service
  log "starting podman system service on $SOCK (log: $LOG)"
  # setsid + redirects: detach from the caller so CI steps do not wait on it.
  setsid nohup podman system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 100); do ping && break; sleep 0.1; done
  ping || { log "service did not answer; last log lines:"; tail -20 "$LOG" >&2; exit 1; }
fi

# 4. Test image, offline: busybox-static + one symlink per applet, imported as a
#    single-layer image. WORKDIR /www has index.html, so `httpd -f -p 8080` answers
#    200 "lessor-test-busybox ok" on /.
if ! podman image exists "$IMAGE"; then
  log "building $IMAGE"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,etc,tmp,www,root,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  # Own relative links instead of `busybox --install -s`, which would point the
  # links at the host path /usr/bin/busybox.
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  echo 'lessor-test-busybox ok' >"$root/www/index.html"
  id=$(tar -C "$root" -c . | podman import -q \
    --change 'ENV PATH=/bin' --change 'WORKDIR /www' --change 'CMD ["sh"]' - "$IMAGE")
  podman tag "$id" "$IMAGE" # import may ignore the tag (API import always does)
fi

echo "DOCKER_HOST=unix://$SOCK"
