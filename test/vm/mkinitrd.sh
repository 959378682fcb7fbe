#!/bin/bash
# Builds the test guest's initramfs: busybox-static, test/vm/init as /init, and the listed
# kernel modules (with their dependencies) taken from an extracted Debian kernel package.
#
# usage: mkinitrd.sh KDIR KV OUT MODULE...
#   KDIR  directory where the linux-image .deb was extracted (dpkg -x)
#   KV    its kernel version (6.1.0-57-amd64)
#   OUT   the initramfs to write (gzip'ed newc cpio)
#   MODULE...  modules /init loads, in order; a module built into the kernel is skipped
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 KDIR KV OUT MODULE..." >&2
  exit 2
fi
KDIR=$1 KV=$2 OUT=$(realpath -m "$3")
shift 3
HERE=$(dirname "$(readlink -f "$0")")
M=$KDIR/lib/modules/$KV
BUSYBOX=$(command -v busybox)

# The .deb ships no modules.dep; busybox depmod makes one without kmod on the host.
if [ ! -f "$M/modules.dep" ]; then
  busybox depmod -b "$KDIR" "$KV"
fi
# A dynamically linked busybox would need the host's libc inside the initramfs.
# (ldd fails with "not a dynamic executable" on a static one.)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "mkinitrd: $BUSYBOX is dynamically linked (install busybox-static)" >&2
  exit 1
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/zonectl-initrd.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,proc,sys,dev,mnt,newroot} "$STAGE/lib/modules/$KV"
cp "$BUSYBOX" "$STAGE/bin/busybox"
install -m755 "$HERE/init" "$STAGE/init"
printf '%s\n' "$@" > "$STAGE/modules"

# Each module's line in modules.dep is "path: dep-path dep-path...". No line: built in.
files=()
for m in "$@"; do
  line=$(grep -E "(^|/)$m\.ko(\.xz|\.zst)?:" "$M/modules.dep" || true)
  if [ -z "$line" ]; then
    echo "mkinitrd: $m: no module file, assuming it is built into $KV"
    continue
  fi
  files+=("${line%%:*}")
  for dep in ${line#*:}; do files+=("$dep"); done
done

# Copy each file once, decompressed (6.12 ships .ko.xz; busybox modprobe reads plain .ko).
if [ ${#files[@]} -gt 0 ]; then
  while IFS= read -r f; do
    dest=$STAGE/lib/modules/$KV/$f
    mkdir -p "$(dirname "$dest")"
    case $f in
      *.xz) xz -dc "$M/$f" > "${dest%.xz}" ;;
      *.zst) zstd -qdc "$M/$f" > "${dest%.zst}" ;;
      *) install -m644 "$M/$f" "$dest" ;;
    esac
  done < <(printf '%s\n' "${files[@]}" | sort -u)
fi
cp "$M/modules.builtin" "$M/modules.order" "$STAGE/lib/modules/$KV/"
busybox depmod -b "$STAGE" "$KV"

(cd "$STAGE" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$OUT"
echo "mkinitrd: $OUT ($(du -k "$OUT" | cut -f1) KiB, ${#files[@]} module files)"
