#!/usr/bin/env bash
# Debian packages the lab and the tests use, installed only when missing:
#   iproute2 (ip, netns, veth), util-linux (nsenter, taskset, setsid), busybox-static (the emulator's rootfs),
#   prometheus + promtool and prometheus-node-exporter (the monitoring tests run the real tools on loopback),
#   nftables (the per-container firewall), openjdk-17-jre-headless (keytool: the TLS tests prove Java reads the keystore),
#   openjdk-17-jdk-headless (javac: the property-file tests read what the collection writes with Java's own parser),
#   haproxy (the rollout hook tests drain and ready a real HAProxy's servers over its admin socket).
set -euo pipefail
declare -A need=(
  [shellcheck]=shellcheck  # ansible-test sanity runs its shellcheck test only when shellcheck is installed
  [ip]=iproute2 [nsenter]=util-linux [taskset]=util-linux [busybox]=busybox-static
  [prometheus]=prometheus [promtool]=prometheus [prometheus-node-exporter]=prometheus-node-exporter
  [nft]=nftables [keytool]=openjdk-17-jre-headless [javac]=openjdk-17-jdk-headless [haproxy]=haproxy
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/bin/$cmd" ] || [ -x "/usr/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "ensure-packages: installing Debian packages: ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
