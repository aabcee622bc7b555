#!/usr/bin/env bash
# The README's lab: `scripts/lab.sh up` / `scripts/lab.sh down` (make lab / make lab-down). Idempotent.
#   up:   veth pair wcslab0 (host side, the network parent, 198.51.100.2/28) <-> wcslab0-up in netns wcslab-up
#         (the upstream router, 198.51.100.1/28); builds the emulator image; runs
#         `ansible-playbook mediaops.wcs.site -i inventories/lab`; prints each container, its address and cpuset.
#   down: `ansible-playbook mediaops.wcs.teardown -i inventories/lab`, then removes the veth pair and the netns.
# WCS_IMAGE=flashphoner/webcallserver:latest selects the real server instead of the emulator.
# The network driver is ipvlan when the kernel can make ipvlan links, else macvlan (said why); WCS_NETWORK_DRIVER
# forces one.
# Extra arguments after up/down go to ansible-playbook (e.g. -e wcs_teardown_conf=true, -v).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source scripts/venv.sh
# shellcheck source=/dev/null
source scripts/test-env.sh   # Ansible's and Molecule's temp and caches in .cache/ of the checkout, not the home

PARENT=wcslab0
PEER=wcslab0-up
NETNS=wcslab-up
HOST_CIDR=198.51.100.2/28
ROUTER_CIDR=198.51.100.1/28
INVENTORY=inventories/lab

say() { printf 'lab: %s\n' "$*" >&2; }

links_up() {
  if ! ip netns list | grep -w "$NETNS" >/dev/null; then
    say "creating netns $NETNS (the upstream router)"
    ip netns add "$NETNS"
  fi
  if ! ip link show "$PARENT" >/dev/null 2>&1; then
    say "creating veth $PARENT <-> $PEER"
    ip link add "$PARENT" type veth peer name "$PEER"
    ip link set "$PEER" netns "$NETNS"
  fi
  ip addr replace "$HOST_CIDR" dev "$PARENT"
  ip link set "$PARENT" up
  ip -n "$NETNS" addr replace "$ROUTER_CIDR" dev "$PEER"
  ip -n "$NETNS" link set "$PEER" up
  ip -n "$NETNS" link set lo up
}

links_down() {
  if ip link show "$PARENT" >/dev/null 2>&1; then
    say "removing veth $PARENT"
    ip link del "$PARENT"
  fi
  if ip netns list | grep -w "$NETNS" >/dev/null; then
    say "removing netns $NETNS"
    ip netns del "$NETNS"
  fi
}

# The collection's default is ipvlan; this kernel may lack it (an ipvlan network can then be created, but attaching
# a container fails with "operation not supported"). Ask the kernel directly with a throwaway ipvlan link on the
# parent, and fall back to macvlan (same plan: one address per container on the parent's LAN) with the reason.
choose_driver() {
  if [ -n "${WCS_NETWORK_DRIVER:-}" ]; then
    echo "$WCS_NETWORK_DRIVER"
    return
  fi
  local probe=${PARENT}ipv err
  ip link del "$probe" 2>/dev/null || true
  if err=$(ip link add link "$PARENT" name "$probe" type ipvlan mode l2 2>&1); then
    ip link del "$probe"
    say "kernel supports ipvlan: using the ipvlan driver"
    echo ipvlan
  else
    say "kernel cannot make ipvlan links (${err:-no reason given}): using macvlan instead"
    echo macvlan
  fi
}

show() {
  local names
  names=$(docker ps -a --format '{{.Names}}' | grep '^wcs-lab-' | sort || true)
  if [ -z "$names" ]; then
    say "no lab containers"
    return 0
  fi
  printf '%-12s %-10s %-16s %-8s %s\n' NAME STATE ADDRESS CPUSET IMAGE
  for n in $names; do
    docker inspect "$n" --format \
      '{{.Name}} {{.State.Status}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} {{.HostConfig.CpusetCpus}} {{.Config.Image}}' |
      awk '{sub("^/", "", $1); printf "%-12s %-10s %-16s %-8s %s\n", $1, $2, $3, $4, $5}'
  done
}

cmd=${1:-up}
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    scripts/ensure-docker.sh
    links_up
    tests/emulator/build.sh
    driver=$(choose_driver)
    extra=(-e "wcs_network_driver=$driver")
    [ "$driver" = ipvlan ] && extra+=(-e "wcs_network_mode=l2")
    # the real image comes from a registry (or is loaded beforehand); the emulator is built here, never pulled
    [ -n "${WCS_IMAGE:-}" ] && extra+=(-e "wcs_image=$WCS_IMAGE" -e "wcs_pull=missing")
    ansible-playbook mediaops.wcs.site -i "$INVENTORY" "${extra[@]}" "$@"
    show
    ;;
  down)
    if docker info >/dev/null 2>&1; then
      ansible-playbook mediaops.wcs.teardown -i "$INVENTORY" "$@"
    fi
    links_down
    ;;
  status)
    show
    ;;
  *)
    echo "usage: $0 up|down|status [ansible-playbook args]" >&2
    exit 2
    ;;
esac
