#!/usr/bin/env bash
# Make sure a Docker engine answers on the default socket.
# - installs Debian's docker.io when dockerd is missing,
# - starts dockerd in the background when `docker info` fails,
# - waits (bounded) until it answers, and says what it did.
set -euo pipefail

WAIT_SECONDS=${WAIT_SECONDS:-60}
LOG=${DOCKERD_LOG:-/var/log/mediaops-dockerd.log}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  say "engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "dockerd missing: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
if ! command -v docker >/dev/null 2>&1; then
  say "docker CLI missing: installing Debian's docker-cli"
  apt-get install -y -qq docker-cli >/dev/null || apt-get install -y -qq docker.io >/dev/null
fi

if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
  say "dockerd runs but does not answer yet; waiting"
else
  say "starting dockerd in the background (log: $LOG)"
  rm -f /var/run/docker.pid
  nohup dockerd >"$LOG" 2>&1 &
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if docker info >/dev/null 2>&1; then
    say "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 1
done
say "engine did not answer within ${WAIT_SECONDS}s; last lines of $LOG:"
tail -n 20 "$LOG" >&2 || true
exit 1
