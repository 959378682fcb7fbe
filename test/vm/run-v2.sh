#!/bin/bash
# Runs a job as root inside a qemu guest whose kernel has a real cgroup v2 (unified)
# hierarchy, on a host that may be cgroup v1/hybrid. By default the job is zonectl's v2
# test suite (test/vm/job-v2.sh).
#
# The guest boots a stock Debian kernel (resolved through linux-image-amd64, downloaded and
# extracted with dpkg -x into a cache dir: never installed on the host) under TCG (no KVM
# needed) with cgroup_no_v1=all. It sees the host's root read-only through virtio-9p, with
# a RAM overlay on top, so the host-built checkout, node and node_modules are used as they
# are. It has no network device. Its console is printed here, prefixed with "[vm Ns]".
# The job's exit code comes back through a small writable 9p share (qemu's own exit code
# says nothing about the job).
#
# usage: test/vm/run-v2.sh [JOB]
#   JOB  a bash script, run as root in the guest at the same path as on the host
#        (default: test/vm/job-v2.sh next to this script)
# environment:
#   ZONECTL_VM_CACHE    where kernels are extracted and kept (default /var/cache/zonectl-vm)
#   ZONECTL_VM_KERNEL   the meta package naming the kernel (default linux-image-amd64;
#                       linux-image-6.12-amd64 also works; never a -cloud flavour: no 9p)
#   ZONECTL_VM_TIMEOUT  seconds one boot may take before the host kills qemu (default 420);
#                       the in-guest watchdog fires 60 s before that
#   ZONECTL_VM_SMP, ZONECTL_VM_MEM   vCPUs (default 2) and memory (default 2G)
# exit: the job's exit code; 124 when the guest hung on both tries; 1 when setup failed.
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
JOB=$(readlink -f "${1:-$HERE/job-v2.sh}")
CACHE=${ZONECTL_VM_CACHE:-/var/cache/zonectl-vm}
META=${ZONECTL_VM_KERNEL:-linux-image-amd64}
TMO=${ZONECTL_VM_TIMEOUT:-420}
WATCHDOG=$((TMO - 60))
SMP=${ZONECTL_VM_SMP:-2}
MEM=${ZONECTL_VM_MEM:-2G}
# Modules the guest loads at boot, in order (no autoloading there; each one's dependencies
# come from modules.dep, soft dependencies do not). virtio_blk: the scratch disk /dev/vda
# that io.max tests need. veth, bridge: zonectl's segments. The per-project nftables table
# (src/host/net/nft.ts): nf_tables (needs libcrc32c, whose crc32c algorithm is only a soft
# dependency: crc32c_generic first), nft_chain_nat for its nat chains (pulls nf_nat and
# nf_conntrack), nft_masq for egress: nat, nft_nat and nft_fib_inet for published ports.
# tc (src/host/net/kernel.ts): sch_ingress (the clsact qdisc), cls_bpf (the anti-spoofing
# classifier, direct-action: no act_bpf), sch_tbf (bandwidth).
MODULES=(
  virtio_pci virtio_blk 9pnet_virtio 9p overlay veth bridge dummy
  crc32c_generic nf_tables nft_chain_nat nft_masq nft_nat nft_fib_inet
  sch_ingress cls_bpf sch_tbf
)

START=$SECONDS
log() { printf 'run-v2 [%3ds]: %s\n' $((SECONDS - START)) "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and the guest job runs as root)"
[ -f "$JOB" ] || die "no job script at $JOB"
[ "$TMO" -gt 60 ] || die "ZONECTL_VM_TIMEOUT must exceed 60 s (the watchdog fires 60 s before it)"
# The path travels on the kernel command line, which splits on whitespace.
case $JOB in *[[:space:]]*) die "the job path must not contain whitespace: $JOB" ;; esac

APT_UPDATED=0
apt_update() {
  if [ $APT_UPDATED = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}

# --- 1. host packages: qemu, a static busybox for the initramfs, xz for .ko.xz modules ---
ensure_packages() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  command -v xz >/dev/null || missing+=(xz-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_update
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# --- 2. the kernel: current versioned package behind $META, extracted into the cache ---
# Debian's security updates rename the package (6.1.0-57 -> -58) and drop old ones from
# the mirror, so it is resolved every time, never hard-coded.
resolve_kernel() {
  local pkg
  pkg=$(apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  if [ -z "$pkg" ]; then
    apt_update
    pkg=$(apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  fi
  [ -n "$pkg" ] || die "apt-cache depends $META names no linux-image-<version> package"
  case $pkg in *-cloud-*) die "$pkg is a -cloud kernel: it has no 9p; choose a generic flavour" ;; esac
  echo "$pkg"
}

# Prints the extracted tree's directory; downloads and extracts only when not cached.
fetch_kernel() {
  local pkg=$1 dir=$CACHE/kernels/$1 work
  if [ -f "$dir/.complete" ]; then
    log "kernel $pkg: cached in $dir"
  else
    work=$(mktemp -d "$CACHE/tmp.XXXXXX")
    log "kernel $pkg: apt-get download"
    # "Download is performed unsandboxed as root" is harmless. A failure may be a stale
    # package list naming a version the mirror has dropped: update once and retry.
    if ! (cd "$work" && apt-get download -qq "$pkg" 2>/dev/null); then
      apt_update
      (cd "$work" && apt-get download -qq "$pkg") || die "apt-get download $pkg failed"
    fi
    log "kernel $pkg: dpkg -x"
    dpkg -x "$work"/"${pkg}"_*.deb "$work/x"
    busybox depmod -b "$work/x" "${pkg#linux-image-}"
    rm -rf "$dir"
    mkdir -p "$CACHE/kernels"
    mv "$work/x" "$dir"
    touch "$dir/.complete"
    rm -rf "$work"
    # Keep only this kernel: an extracted one is ~400 MB.
    find "$CACHE/kernels" -mindepth 1 -maxdepth 1 ! -name "$pkg" -exec rm -rf {} +
  fi
  echo "$dir"
}

# --- 3. one boot: prints the console, leaves the job's exit code in $RC ("missing" if none) ---
boot() {
  local n=$1
  local out=$TMP/out.$n t0=$SECONDS qrc
  mkdir -p "$out"
  # A small sparse scratch disk: the guest's /dev/vda, for io.max tests.
  truncate -s 64M "$TMP/vda.img"
  log "boot $n: qemu (TCG, -smp $SMP, -m $MEM), timeout ${TMO}s, watchdog ${WATCHDOG}s, job $JOB"
  # stdin is /dev/null: the console is output only (Ctrl-C stops a run by hand).
  set +e
  timeout --kill-after=10 "$TMO" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM" \
    -M pc -nodefaults -no-user-config -nographic -no-reboot \
    -serial stdio -nic none \
    -kernel "$KDIR/boot/vmlinuz-$KV" -initrd "$TMP/initrd.img" \
    -append "console=ttyS0 quiet loglevel=3 cgroup_no_v1=all panic=-1 zjob=$JOB zwd=$WATCHDOG" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$out,mount_tag=zout,security_model=none" \
    -drive "file=$TMP/vda.img,if=virtio,format=raw" \
    </dev/null 2>&1 |
    while IFS= read -r line; do
      printf '[vm %3ds] %s\n' $((SECONDS - t0)) "${line%$'\r'}"
    done
  qrc=${PIPESTATUS[0]}
  set -e
  RC=$(cat "$out/job.rc" 2>/dev/null || echo missing)
  log "boot $n: job exit code $RC (qemu exit code $qrc), $((SECONDS - t0))s"
}

# --- main ---
ensure_packages
mkdir -p "$CACHE"
# Two runs at once share the cache: one extracts, the other waits.
exec 9>"$CACHE/lock"
flock 9
PKG=$(resolve_kernel)
KV=${PKG#linux-image-}
KDIR=$(fetch_kernel "$PKG")
flock -u 9
[ -f "$KDIR/boot/vmlinuz-$KV" ] || die "no $KDIR/boot/vmlinuz-$KV in $PKG"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zonectl-vm.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$HERE/mkinitrd.sh" "$KDIR" "$KV" "$TMP/initrd.img" "${MODULES[@]}" >&2
log "setup done"

RC=missing
for attempt in 1 2; do
  boot "$attempt"
  case $RC in
    missing | 124)
      if [ "$attempt" = 1 ]; then log "the guest hung or died (job exit code $RC): retrying once"; fi
      ;;
    *) break ;;
  esac
done
[ "$RC" = missing ] && RC=124
log "done: job exit code $RC, total $((SECONDS - START))s"
exit "$RC"
