#!/bin/bash
# xen-guest.sh [VARIANT...]
#
# A real Xen guest that nobody here wrote: Debian's own kernel (trixie's
# 6.12, the one L1 runs) boots as a Xen HVM guest of the patched sanitizer
# QEMU, where KVM has Xen support (directly, or inside L1 via
# scripts/l1-run), from a busybox initramfs whose /init
# (harness/xen-guest/init) checks Xen, xenstore, the PV console's event
# channel, timer events and CPU hotplug from the inside. Variants: vector
# (Linux's default) and novector (xen_no_vector_callback: QEMU itself
# delivers every event). Each must print "RESULT PASS" on the Xen PV
# console, end with QEMU exit status 0, no sanitizer report and no kernel
# oops. Times per boot are printed and kept in work/results/xen-guest/.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
WORK=${XSL_WORK:-$TOP/work}
qemu=$WORK/qemu/build/qemu-system-x86_64
kernel=${XEN_GUEST_KERNEL:-${L1_KERNEL:-/boot/vmlinuz-6.12.117+deb13-amd64}}
busybox=${XEN_GUEST_BUSYBOX:-/bin/busybox}
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(vector novector)

die() { echo "xen-guest: $*" >&2; exit 1; }
# What in the guest's kernel log fails a boot (xen-guest-run.sh never
# boots such a guest again either).
export KERNEL_TROUBLE='Kernel panic\|Oops\|BUG:\|WARNING:'
[ -x "$qemu" ] || die "missing $qemu (run ./xsl build)"
[ -r "$kernel" ] || die "guest kernel $kernel not found (run ./xsl deps)"
file -L "$busybox" 2> /dev/null | grep -q 'statically linked' ||
    die "$busybox is not a static busybox (run ./xsl deps: busybox-static)"

out=$WORK/results/xen-guest
rm -rf "$out"
mkdir -p "$out"/root/{bin,proc,sys,dev}

# The initramfs: a static busybox and the checking /init, nothing else.
cp "$busybox" "$out/root/bin/busybox"
cp "$TOP/harness/xen-guest/init" "$out/root/init"
chmod 755 "$out/root/init"
(cd "$out/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
    gzip -1 > "$out/initrd.gz"
rm -rf "$out/root"

# L1 does not inherit this environment: hand the boot timeout over.
timeout_s=${XEN_GUEST_TIMEOUT:-300}
L1_RETRIES=${L1_RETRIES:-2} "$TOP/scripts/l1-run" --timeout 1800 \
    --rwdir "$out" -- env XEN_GUEST_TIMEOUT="$timeout_s" \
    KERNEL_TROUBLE="$KERNEL_TROUBLE" \
    "$TOP/scripts/xen-guest-run.sh" "$qemu" "$kernel" \
    "$out/initrd.gz" "$out" "${variants[@]}" | tee "$out/l1.log"

# Judge on the host from what each boot left.
fail=0
for v in "${variants[@]}"; do
    if [ ! -f "$out/$v.rc" ]; then
        echo "not ok xen-guest/$v: did not run"
        fail=1
        continue
    fi
    read -r rc secs < "$out/$v.rc"
    up=$(sed -n 's/.*XSL-GUEST: userspace after \([0-9.]*\) s.*/\1/p' \
         "$out/$v.hvc" 2> /dev/null | head -n 1)
    why=
    if [ "$rc" != 0 ]; then
        why="QEMU exit status $rc"
        [ "$rc" = 124 ] && why="$why (timed out after $timeout_s s)"
    fi
    report=$(grep -m1 "$SANITIZER_REPORT" "$out/$v.qemu" || true)
    [ -z "$report" ] || why="$why; sanitizer: $report"
    oops=$(grep -m1 "$KERNEL_TROUBLE" "$out/$v.serial" || true)
    [ -z "$oops" ] || why="$why; kernel: $oops"
    if ! grep -q 'XSL-GUEST: RESULT PASS' "$out/$v.hvc" 2> /dev/null; then
        why="$why; no RESULT PASS on the Xen PV console"
    fi
    for kind in hang reset; do
        if [ -f "$out/$v.${kind}0.hvc" ]; then
            echo "note xen-guest/$v: a first boot ended in a silent $kind" \
                 "and was run again (logs: $out/$v.${kind}0.*)"
        fi
    done
    if [ -z "$why" ]; then
        n=$(sed -n 's/.*RESULT PASS (\([0-9]*\) checks).*/\1/p' "$out/$v.hvc")
        echo "ok xen-guest/$v: $n checks passed in the guest; userspace" \
             "after ${up:-?} s of guest time; QEMU ran ${secs} s"
    else
        echo "not ok xen-guest/$v: ${why#; }"
        for f in hvc serial qemu; do
            echo "---- $out/$v.$f (tail)"
            tail -n 15 "$out/$v.$f" 2> /dev/null || true
        done
        fail=1
    fi
    grep -h 'XSL-GUEST: \(ok\|FAIL\)' "$out/$v.hvc" 2> /dev/null |
        sed "s|^|    $v: |" || true
done
exit $fail
