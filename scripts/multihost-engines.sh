#!/usr/bin/env bash
# Several "Docker hosts" on one machine for the Molecule `multihost` scenario: one network namespace and one dockerd
# per host. Why one dockerd per netns: a dockerd owns the namespace it runs in (its bridge, its iptables view, the
# parent interface of its ipvlan/macvlan networks); two daemons in one namespace fight over docker0, and a
# macvlan parent must be visible to the daemon that creates the network. `ip netns exec` remounts /sys, which
# breaks dockerd, so the daemon is started with `nsenter --net=/var/run/netns/NAME` (only the network namespace
# changes; mounts, pids and cgroups stay the machine's, so containers' pids are plain host pids).
#
#   scripts/multihost-engines.sh up N        create hosts wcsmh-1..N (idempotent: only what is missing)
#   scripts/multihost-engines.sh down N      stop the daemons started here (by recorded pid), remove all of it
#   scripts/multihost-engines.sh status N    one line per host
#   scripts/multihost-engines.sh stop I      stop host I's dockerd only (by pid), keep its data: "engine down"
#   scripts/multihost-engines.sh start I     start host I's dockerd again on the same data
#
# Layout of host I (I = 1..3 use the documentation blocks 203.0.113.0/28, .16/28, .32/28):
#   netns      wcsmh-I
#   veth       wcsmhI-p (inside the netns: the host's uplink NIC and the ipvlan/macvlan parent, holds the block's
#              3rd address = the host address)  <->  wcsmhI-r (machine side: plays the router, holds the block's
#              2nd address = the gateway)
#   dockerd    socket unix:///run/wcsmh-I/docker.sock, data-root /var/lib/wcsmh-I, exec-root /run/wcsmh-I/exec,
#              pidfile /run/wcsmh-I/docker.pid, own managed containerd (under the exec-root), --bridge none,
#              --iptables=false, its own config file; log /var/log/wcsmh-I-dockerd.log
#   images     mediaops/wcs-emulator:{test,next,broken} loaded from the machine's engine (docker save | load)
#   python     /run/wcsmh-I/python: `ip netns exec wcsmh-I $MULTIHOST_PYTHON "$@"`, the host's
#              ansible_python_interpreter. Modules then run inside the host's namespace with its own /sys, so
#              host_facts sees wcsmhI-p as this host's interface (as on a real host). Ansible quotes the
#              interpreter as one word, hence a wrapper file rather than "ip netns exec ... python" in the inventory.
# Environment: WAIT_SECONDS (default 60) bounds each wait; SOURCE_DOCKER_HOST is where the images come from;
# MULTIHOST_PYTHON is the Python the wrapper runs (default: python3 on PATH; Molecule passes ansible_playbook_python).
set -euo pipefail

WAIT_SECONDS=${WAIT_SECONDS:-60}
IMAGES=${MULTIHOST_IMAGES:-"mediaops/wcs-emulator:test mediaops/wcs-emulator:next mediaops/wcs-emulator:broken"}
SOURCE_DOCKER_HOST=${SOURCE_DOCKER_HOST:-unix:///var/run/docker.sock}
MAX_HOSTS=3

say() { printf 'multihost-engines: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '9,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ns_name()   { echo "wcsmh-$1"; }
run_dir()   { echo "/run/wcsmh-$1"; }
data_dir()  { echo "/var/lib/wcsmh-$1"; }
sock()      { echo "$(run_dir "$1")/docker.sock"; }
pidfile()   { echo "$(run_dir "$1")/docker.pid"; }
# The pid recorded at launch: what `down`/`stop` kill (dockerd's own pidfile is checked to match).
ownpid()    { echo "$(run_dir "$1")/started.pid"; }
logfile()   { echo "/var/log/wcsmh-$1-dockerd.log"; }
parent_if() { echo "wcsmh$1-p"; }
router_if() { echo "wcsmh$1-r"; }
block_base() { echo $(( ($1 - 1) * 16 )); }
gateway()   { echo "203.0.113.$(( $(block_base "$1") + 1 ))"; }
host_addr() { echo "203.0.113.$(( $(block_base "$1") + 2 ))"; }

engine() { docker -H "unix://$(sock "$1")" "${@:2}"; }

alive_pid() {
  # Prints the recorded pid if that process is alive and is a dockerd.
  local f; f=$(ownpid "$1")
  [ -s "$f" ] || return 1
  local pid; pid=$(cat "$f")
  [ -d "/proc/$pid" ] || return 1
  grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

answers() { timeout 10 docker -H "unix://$(sock "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_netns() {
  local i=$1 ns; ns=$(ns_name "$i")
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    say "netns $ns exists"
  else
    say "ip netns add $ns"
    ip netns add "$ns"
  fi
  ip -n "$ns" link set lo up
  local p r; p=$(parent_if "$i"); r=$(router_if "$i")
  if ! ip -n "$ns" link show "$p" >/dev/null 2>&1; then
    # A stale machine-side end (its peer gone with an old netns) would block the name.
    if ip link show "$r" >/dev/null 2>&1; then say "ip link del $r (stale)"; ip link del "$r"; fi
    say "veth $r (machine side, router $(gateway "$i")/28) <-> $p (in $ns, parent, host $(host_addr "$i")/28)"
    ip link add "$r" type veth peer name "$p" netns "$ns"
  fi
  ip -n "$ns" link set "$p" up
  ip link set "$r" up
  ip -n "$ns" addr replace "$(host_addr "$i")/28" dev "$p"
  ip addr replace "$(gateway "$i")/28" dev "$r"
  ip -n "$ns" route replace default via "$(gateway "$i")" dev "$p"
}

write_python_wrapper() {
  local i=$1 py f
  py=${MULTIHOST_PYTHON:-$(command -v python3)}
  f="$(run_dir "$i")/python"
  mkdir -p "$(run_dir "$i")"
  local want; want=$(printf '#!/bin/sh\n# ansible_python_interpreter of wcs-mh-%s: modules run in netns %s with its own /sys\nexec ip netns exec %s %s "$@"\n' "$i" "$(ns_name "$i")" "$(ns_name "$i")" "$py")
  if [ ! -f "$f" ] || [ "$(cat "$f")" != "$want" ]; then
    say "interpreter wrapper $f -> $py in $(ns_name "$i")"
    printf '%s\n' "$want" >"$f"
    chmod 0755 "$f"
  fi
}

start_engine() {
  local i=$1 ns rd dd pid
  ns=$(ns_name "$i"); rd=$(run_dir "$i"); dd=$(data_dir "$i")
  if pid=$(alive_pid "$i"); then
    say "dockerd of $ns runs (pid $pid)"
  else
    mkdir -p "$rd" "$dd"
    [ -f "$rd/daemon.json" ] || echo '{}' >"$rd/daemon.json"
    rm -f "$(pidfile "$i")" "$(sock "$i")"
    say "starting dockerd in $ns: socket $(sock "$i"), data-root $dd, log $(logfile "$i")"
    # nsenter execs dockerd, so $! is dockerd's pid. setsid: the daemon outlives this script's session.
    setsid nsenter --net="/var/run/netns/$ns" \
      dockerd --host "unix://$(sock "$i")" --data-root "$dd" --exec-root "$rd/exec" \
        --pidfile "$(pidfile "$i")" --config-file "$rd/daemon.json" \
        --bridge none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
        --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
        >>"$(logfile "$i")" 2>&1 </dev/null &
    echo $! >"$(ownpid "$i")"
    say "dockerd of $ns started (pid $!)"
  fi
}

wait_engine() {
  local i=$1 t=0
  while ! answers "$i"; do
    t=$((t + 1))
    if [ $t -ge "$WAIT_SECONDS" ]; then
      say "dockerd of $(ns_name "$i") did not answer within ${WAIT_SECONDS}s; last lines of $(logfile "$i"):"
      tail -n 20 "$(logfile "$i")" >&2 || true
      return 1
    fi
    alive_pid "$i" >/dev/null || { say "dockerd of $(ns_name "$i") exited"; tail -n 20 "$(logfile "$i")" >&2; return 1; }
    sleep 1
  done
  say "dockerd of $(ns_name "$i") answers on $(sock "$i") after ${t}s"
}

load_images() {
  local i=$1 missing=() img
  for img in $IMAGES; do
    if ! engine "$i" image inspect "$img" >/dev/null 2>&1; then missing+=("$img"); fi
  done
  [ ${#missing[@]} -gt 0 ] || { say "images present in $(ns_name "$i")"; return 0; }
  for img in "${missing[@]}"; do
    docker -H "$SOURCE_DOCKER_HOST" image inspect "$img" >/dev/null 2>&1 \
      || die "image $img missing on $SOURCE_DOCKER_HOST: build it first (tests/emulator/build.sh)"
  done
  say "loading ${missing[*]} into $(ns_name "$i")"
  docker -H "$SOURCE_DOCKER_HOST" save "${missing[@]}" | engine "$i" load -q >/dev/null
}

stop_engine() {
  local i=$1 pid t=0
  if ! pid=$(alive_pid "$i"); then
    say "dockerd of $(ns_name "$i") not running"
    rm -f "$(ownpid "$i")"
    return 0
  fi
  say "stopping dockerd of $(ns_name "$i") (pid $pid)"
  kill -TERM "$pid"
  # dockerd stops its containers (10 s grace each) and its containerd before it exits.
  while [ -d "/proc/$pid" ]; do
    t=$((t + 1))
    if [ $t -ge $((WAIT_SECONDS + 30)) ]; then say "pid $pid still alive: SIGKILL"; kill -KILL "$pid" || true; sleep 1; break; fi
    sleep 1
  done
  rm -f "$(ownpid "$i")"
  say "dockerd of $(ns_name "$i") stopped after ${t}s"
}

unmount_under() {
  # Mounts a killed daemon may leave (overlay layers, netns files, shm): deepest first.
  local dir=$1 m
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
}

remove_host() {
  local i=$1 ns; ns=$(ns_name "$i")
  stop_engine "$i"
  if ip link show "$(router_if "$i")" >/dev/null 2>&1; then
    say "ip link del $(router_if "$i")"
    ip link del "$(router_if "$i")"
  fi
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    say "ip netns del $ns"
    ip netns del "$ns"
  fi
  for d in "$(run_dir "$i")" "$(data_dir "$i")"; do
    if [ -e "$d" ]; then
      unmount_under "$d"
      say "rm -rf $d"
      rm -rf "$d"
    fi
  done
}

status_host() {
  local i=$1 ns pid state images
  ns=$(ns_name "$i")
  ip netns list | awk '{print $1}' | grep -qx "$ns" && state="netns" || state="no-netns"
  if pid=$(alive_pid "$i"); then
    if answers "$i"; then
      images=$(engine "$i" images --format '{{.Repository}}:{{.Tag}}' | grep -c wcs-emulator || true)
      local running; running=$(engine "$i" ps -q | wc -l)
      printf '%s %s dockerd=%s socket=unix://%s answers images=%s running=%s\n' \
        "$ns" "$state" "$pid" "$(sock "$i")" "$images" "$running"
    else
      printf '%s %s dockerd=%s socket=unix://%s not-answering\n' "$ns" "$state" "$pid" "$(sock "$i")"
    fi
  else
    printf '%s %s dockerd=stopped\n' "$ns" "$state"
  fi
}

[ $# -eq 2 ] || usage
cmd=$1; n=$2
if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_HOSTS ]; then
  die "host count/index must be 1..$MAX_HOSTS (one documentation /28 each)"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, dockerd)"

case "$cmd" in
  up)
    for i in $(seq 1 "$n"); do ensure_netns "$i"; write_python_wrapper "$i"; start_engine "$i"; done
    # Daemons start in parallel; wait for each, then load images.
    for i in $(seq 1 "$n"); do wait_engine "$i"; done
    for i in $(seq 1 "$n"); do load_images "$i"; done
    for i in $(seq 1 "$n"); do status_host "$i"; done
    ;;
  down)
    # Signal every daemon first so they shut down in parallel, then wait for each and remove its host.
    for i in $(seq 1 "$n"); do
      if pid=$(alive_pid "$i"); then say "SIGTERM dockerd of $(ns_name "$i") (pid $pid)"; kill -TERM "$pid"; fi
    done
    for i in $(seq 1 "$n"); do remove_host "$i"; done
    ;;
  status)
    for i in $(seq 1 "$n"); do status_host "$i"; done
    ;;
  stop)
    stop_engine "$n"
    ;;
  start)
    ensure_netns "$n"; write_python_wrapper "$n"; start_engine "$n"; wait_engine "$n"; load_images "$n"; status_host "$n"
    ;;
  *) usage ;;
esac
