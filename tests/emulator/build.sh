#!/usr/bin/env bash
# Builds the WCS emulator images from Debian's static busybox plus the scripts in tests/emulator/rootfs, with
# `docker import` (no registry, no Dockerfile build, seconds):
#   mediaops/wcs-emulator:test    healthy
#   mediaops/wcs-emulator:next    healthy, another emulator_version (rolling updates)
#   mediaops/wcs-emulator:broken  runs and logs but never serves 8081 (failed health gates)
# Idempotent: an image whose content-hash label matches is kept; --force rebuilds. The docker CLI honours
# DOCKER_HOST, so `DOCKER_HOST=unix:///run/other.sock tests/emulator/build.sh` loads another engine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=mediaops/wcs-emulator
hash_label=io.mediaops.wcs-emulator.content-hash
force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (use --force to rebuild)" >&2; exit 2 ;;
  esac
done

# variant tag -> emulator_version reported on the stat page
declare -A versions=([test]=1.0.0 [next]=1.1.0 [broken]=1.0.0-broken)

busybox=/usr/bin/busybox
if [ ! -x "$busybox" ]; then
  echo "build.sh: $busybox missing, installing Debian's busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
fi
# A dynamically linked busybox would not run in an image without libc.
if ! LC_ALL=C file -b "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  if ldd "$busybox" >/dev/null 2>&1; then
    echo "build.sh: $busybox is dynamically linked; install busybox-static" >&2; exit 1
  fi
fi

# Several test sessions may build at once: one builder at a time, the others then find the images current.
exec 9>"${TMPDIR:-/tmp}/mediaops-wcs-emulator-build.lock"
flock -w 120 9 || { echo "build.sh: another build holds the lock for 120 s" >&2; exit 1; }

engine=${DOCKER_HOST:-default engine}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Content hash of everything that goes into an image (scripts, busybox, this script) plus the variant.
base_hash=$( { sha256sum "$busybox" "$0"; cd "$here/rootfs" && find . -type f | LC_ALL=C sort | xargs sha256sum; } \
  | sha256sum | cut -c1-16)

make_rootfs() { # dir variant version
  local root=$1 variant=$2 version=$3
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root} \
    "$root"/usr/local/FlashphonerWebCallServer/{conf,logs,bin} "$root"/var/lib/wcs-emulator
  cp -a "$here/rootfs/." "$root/"
  cp "$busybox" "$root/bin/busybox"
  # One symlink per applet, so `sh`, `nc`, `awk`, `sleep` ... resolve on PATH.
  local applet
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo "$version" >"$root/usr/local/lib/wcs-emulator/VERSION"
  echo "$variant" >"$root/usr/local/lib/wcs-emulator/VARIANT"
  chmod 0755 "$root/usr/local/bin/wcs-emulator" "$root/usr/local/lib/wcs-emulator/http-handler" \
    "$root/usr/local/lib/wcs-emulator/cli-handler"
  chmod 1777 "$root/tmp"
  # The install conf dir is empty on purpose: a missing property file must be noticed, not defaulted.
}

for variant in test next broken; do
  tag=$repo:$variant
  version=${versions[$variant]}
  hash=$base_hash-$variant-$version
  current=$(docker image inspect -f "{{index .Config.Labels \"$hash_label\"}}" "$tag" 2>/dev/null || true)
  if [ "$force" = 0 ] && [ "$current" = "$hash" ]; then
    echo "build.sh: $tag is current (emulator_version $version, hash $hash) on $engine"
    continue
  fi
  old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  root=$work/$variant
  make_rootfs "$root" "$variant" "$version"
  # Deterministic tar: same inputs, same layer.
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/$variant.tar" .
  id=$(docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/wcs-emulator"]' \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
    --change 'EXPOSE 8081 8080 8443 8444 2001 31001-32000/udp' \
    --change 'WORKDIR /usr/local/FlashphonerWebCallServer' \
    --change "LABEL $hash_label=$hash" \
    --change "LABEL io.mediaops.wcs-emulator.variant=$variant" \
    --change "LABEL org.opencontainers.image.version=$version" \
    --change "LABEL org.opencontainers.image.title=wcs-emulator" \
    --change "LABEL org.opencontainers.image.description=\"Test double of Flashphoner WCS (mediaops.wcs tests)\"" \
    -m "wcs-emulator $variant $version" \
    "$work/$variant.tar" "$tag")
  echo "build.sh: built $tag (emulator_version $version, ${id#sha256:}) on $engine"
  # The replaced image is now untagged: drop it unless a container still uses it (then docker refuses, fine).
  if [ -n "$old_id" ] && [ "$old_id" != "$id" ]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi
done
# Untagged emulator images left by earlier builds (e.g. interrupted ones); in-use images are refused and kept.
for old in $(docker images -q --filter dangling=true --filter label=io.mediaops.wcs-emulator.variant); do
  docker image rm "$old" >/dev/null 2>&1 || true
done
