#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 with trust auth for user postgres
# (CONTRIBUTING.md, "Set-up"). Idempotent: ~0.05 s when it is up already.
# Installs Debian's postgresql when missing, starts the 5432 cluster when stopped
# (pg_ctlcluster runs the server as the postgres user: PostgreSQL refuses root).
set -euo pipefail

log() { echo "ensure-postgres: $*" >&2; }
ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
# Trust auth check: -w never prompts, so a password requirement fails fast.
trusted() { psql -w -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; }
cluster() { pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2; exit }'; }

ready && trusted && exit 0

if [ -z "$(cluster)" ]; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp)
  apt_install() { apt-get install -y -q postgresql >"$aptlog" 2>&1; }
  apt_install || { apt-get update -q >"$aptlog" 2>&1 && apt_install; } ||
    { log "apt-get failed:"; tail -20 "$aptlog" >&2; exit 1; }
  rm -f "$aptlog"
fi
read -r ver name <<<"$(cluster)"
[ -n "${name:-}" ] || { log "no PostgreSQL cluster on port 5432 (pg_lsclusters)"; exit 1; }

# Trust for loopback TCP, put first (first matching line wins).
hba=/etc/postgresql/$ver/$name/pg_hba.conf
if ! grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  log "enabling trust auth for 127.0.0.1 in $hba"
  printf '%s\n' '# added by lessor scripts/ensure-postgres.sh' \
    'host all all 127.0.0.1/32 trust' 'host all all ::1/128 trust' | cat - "$hba" >"$hba.new"
  chown --reference="$hba" "$hba.new" && chmod --reference="$hba" "$hba.new" && mv "$hba.new" "$hba"
  ready && pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
fi

if ! ready; then
  log "starting cluster $ver/$name"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
  for _ in $(seq 100); do ready && break; sleep 0.1; done
fi
ready || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
trusted || { log "PostgreSQL answers but user postgres cannot log in without a password"; exit 1; }
log "PostgreSQL $ver/$name ready on 127.0.0.1:5432"
