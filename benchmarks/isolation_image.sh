#!/usr/bin/env bash
# Builds mediaops/wcs-busybox:test, the tiny image the isolation benchmark and tests run their busy loops in:
# Debian's static busybox imported with `docker import` (no registry). Idempotent: kept while this script (which
# lists the applets the image has) is unchanged; --force rebuilds.
set -euo pipefail
image=${ISOLATION_IMAGE:-mediaops/wcs-busybox:test}
content=$(sha256sum "$0" | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "mediaops.wcs.content"}}' "$image" 2>/dev/null || true)
if [ "$have" = "$content" ] && [ "${1:-}" != "--force" ]; then
  exit 0
fi
busybox=/usr/bin/busybox
if ! LC_ALL=C file -b "$busybox" 2>/dev/null | grep -q 'statically linked' && ldd "$busybox" >/dev/null 2>&1; then
  echo "isolation_image.sh: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for cmd in sh sleep true cat taskset; do ln -s busybox "$root/bin/$cmd"; done
tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sleep", "3600"]' \
  -c "LABEL mediaops.wcs.content=$content" - "$image" >/dev/null
echo "isolation_image.sh: built $image"
