#!/bin/bash
# xen-guest.sh [VARIANT...]
#
# A real Xen guest that nobody here wrote: Debian's own kernel (trixie's
# 6.12, the one L1 runs) boots as a Xen HVM guest of the patched sanitizer
# QEMU, where KVM has Xen support (directly, or inside L1 via
# scripts/l1-run), from a busybox initramfs whose /init
# (harness/xen-guest/init) checks Xen, xenstore, the PV console's event
# channel, timer events, CPU hotplug and the vcpu_info registrations from
# the inside. Variants: vector (Linux's default) and novector
# (xen_no_vector_callback: QEMU itself delivers every event). In one QEMU
# run the guest goes through three stages, each with all the checks: the
# cold boot, a kexec (SHUTDOWN_soft_reset) and a reboot through the
# firmware (a machine reset). A variant passes when each stage came up
# once, in that order, and printed "RESULT PASS" (serial console), the PV
# console carried the lines of each stage, QEMU reset its Xen
# state as often as the three boots make it and exited 0, with no sanitizer
# report and no kernel oops. Times per stage are printed and the logs kept
# in work/results/xen-guest/. XSL_L1_PHASE=prepare|judge: as in
# scripts/xen-qtests.sh (scripts/xen-l1.sh runs both in one boot of L1).
set -euo pipefail
phase=${XSL_L1_PHASE:-all}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
qemu=$WORK/qemu/build/qemu-system-x86_64
kernel=${XEN_GUEST_KERNEL:-${L1_KERNEL:-/boot/vmlinuz-6.12.117+deb13-amd64}}
busybox=${XEN_GUEST_BUSYBOX:-/bin/busybox}
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(vector novector)

die() { echo "xen-guest: $*" >&2; exit 1; }
# What in the guest's kernel log fails a boot (xen-guest-run.sh never
# boots such a guest again either). Linux 6.12 panics when
# VCPUOP_register_vcpu_info fails; older kernels only warn.
export KERNEL_TROUBLE='Kernel panic\|Oops\|BUG:\|WARNING:\|register_vcpu_info failed'
[ -x "$qemu" ] || die "missing $qemu (run ./xsl build)"
[ -r "$kernel" ] || die "guest kernel $kernel not found (run ./xsl deps)"
file -L "$busybox" 2> /dev/null | grep -q 'statically linked' ||
    die "$busybox is not a static busybox (run ./xsl deps: busybox-static)"

out=$WORK/results/xen-guest
timeout_s=${XEN_GUEST_TIMEOUT:-120}
if [ "$phase" != judge ]; then
    rm -rf "$out"
    root=$out/root
    mkdir -p "$root"/{bin,proc,sys,dev}

    # The initramfs: a static busybox, the checking /init and its static helper
    # (stage marker, kexec_file_load). The one QEMU boots also carries the
    # kernel and the kexec stage's initramfs (the same without them).
    cp "$busybox" "$root/bin/busybox"
    cp "$TOP/harness/xen-guest/init" "$root/init"
    "$busybox" sh -n "$root/init" || die "syntax error in harness/xen-guest/init"
    chmod 755 "$root/init"
    gcc -static -O2 -Wall -o "$root/bin/xsl-stage" \
        "$TOP/harness/xen-guest/xsl-stage.c" ||
        die "cannot build the static xsl-stage (gcc, libc6-dev: run ./xsl deps)"
    pack() {
        (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
            gzip -1 > "$1"
    }
    pack "$out/kexec-initrd.gz"
    mkdir "$root/kexec"
    cp "$kernel" "$root/kexec/vmlinuz"
    mv "$out/kexec-initrd.gz" "$root/kexec/initrd.gz"
    pack "$out/initrd.gz"
    rm -rf "$root"

    # L1 does not inherit this environment: hand the boot timeout over. A boot
    # may go XEN_GUEST_TIMEOUT s without a word from the guest, a run of three
    # boots three times that, and a variant may be run three times.
    l1_timeout=$((${#variants[@]} * 3 * (3 * timeout_s + 60) + 300))
    L1_RETRIES=${L1_RETRIES:-2} "$TOP/scripts/l1-run" --timeout "$l1_timeout" \
        --rwdir "$out" -- env XEN_GUEST_TIMEOUT="$timeout_s" \
        KERNEL_TROUBLE="$KERNEL_TROUBLE" \
        "$TOP/scripts/xen-guest-run.sh" "$qemu" "$kernel" \
        "$out/initrd.gz" "$out" "${variants[@]}" | tee "$out/l1.log"
    [ "$phase" != prepare ] || exit 0
fi

# Judge on the host from what each run left.
stages=(cold kexec reboot)
fail=0
for v in "${variants[@]}"; do
    if [ ! -f "$out/$v.rc" ]; then
        echo "not ok xen-guest/$v: did not run"
        fail=1
        continue
    fi
    read -r rc secs start end < "$out/$v.rc"
    serial=$(tr -d '\r' 2> /dev/null < "$out/$v.serial" || true)
    hvc=$(cat "$out/$v.hvc" 2> /dev/null || true)
    # The stages in the order they reached userspace, and the first of the
    # three that did not come up in its place or did not pass.
    mapfile -t seen < <(sed -n \
        's/.*XSL-GUEST: stage \([a-z]*\): userspace after.*/\1/p' <<< "$serial")
    bad= why= times=
    for i in 0 1 2; do
        s=${stages[$i]}
        if [ "${seen[$i]:-}" != "$s" ]; then
            bad=$s
            if [ -z "${seen[$i]:-}" ]; then
                why="never reached userspace"
            else
                why="boot $((i + 1)) came up as stage ${seen[$i]}"
            fi
            break
        fi
        res=$(grep -m1 "XSL-GUEST: stage $s: RESULT" <<< "$serial" || true)
        n=$(sed -n 's/.*RESULT PASS (\([0-9]*\) checks.*/\1/p' <<< "$res")
        if [ -z "$n" ]; then
            bad=$s
            why=${res#*: RESULT }
            why=${why:-no RESULT line}
            break
        fi
        # The PV console carries the stage's lines to QEMU.
        if ! grep -q "XSL-GUEST: stage $s: console line" <<< "$hvc"; then
            bad=$s
            why="its PV console lines did not reach QEMU"
            break
        fi
        up=$(sed -n "s/.*XSL-GUEST: stage $s: userspace after \([0-9.]*\) s.*/\1/p" \
             <<< "$serial" | head -n 1)
        times="$times; $s: $n checks, userspace after $up s"
    done
    [ ${#seen[@]} -le 3 ] ||
        why="$why; ${#seen[@]} boots reached userspace: ${seen[*]}"
    # QEMU resets its Xen state (trace kvm_xen_soft_reset) at the start,
    # for the kexec's SHUTDOWN_soft_reset and twice for the reboot (Linux's
    # reset, then SeaBIOS's own); more means a reset nobody asked for.
    resets=$(grep -c 'kvm_xen_soft_reset' "$out/$v.qemu" 2> /dev/null || true)
    [ -n "$bad" ] || [ "$resets" = 4 ] ||
        why="$why; QEMU reset its Xen state $resets times (want 4)"
    if [ "$rc" != 0 ]; then
        why="$why; QEMU exit status $rc"
        [ "$rc" = 124 ] && why="$why (stopped: no word from the guest for" &&
            why="$why $timeout_s s, or the run took $((3 * timeout_s)) s)"
    fi
    report=$(grep -m1 "$SANITIZER_REPORT" "$out/$v.qemu" || true)
    [ -z "$report" ] || why="$why; sanitizer: $report"
    # Where the kernel's trouble came: after which word of the guest.
    oops=$(awk -v re="$(sed 's/\\|/|/g' <<< "$KERNEL_TROUBLE")" '
        BEGIN { at = "boot of stage cold" }
        /XSL-GUEST: stage [a-z]*: userspace after/ {
            at = $0; sub(/.*XSL-GUEST: /, "", at); sub(/:.*/, "", at) }
        /XSL-GUEST: stage [a-z]*: kexec into/ { at = "boot of stage kexec" }
        /XSL-GUEST: stage [a-z]*: reboot through/ { at = "boot of stage reboot" }
        /XSL-GUEST:/ { next }
        $0 ~ re { print at ": " $0; exit }' <<< "$serial")
    [ -z "$oops" ] || why="$why; kernel (${oops%%: *}): ${oops#*: }"
    for f in "$out/$v".hang[0-9].serial "$out/$v".reset[0-9].serial; do
        [ -f "$f" ] || continue
        f=${f%.serial}
        kind=${f##*.}
        echo "note xen-guest/$v: run $((${kind: -1} + 1)) had a boot end in" \
             "a silent ${kind%[0-9]} and was run again (logs: $f.*)"
    done
    if [ -z "$bad" ] && [ -z "$why" ]; then
        # Wall time per stage: from QEMU's start, its Xen resets (the
        # kexec's, the reboot's first) and its end.
        # QEMU 10.2 prints "DATE-TIMEZ kvm_xen_soft_reset", 10.0
        # "PID@SECONDS:kvm_xen_soft_reset".
        mapfile -t at < <(sed -n -e 's/^\([0-9T:.-]*\)Z kvm_xen_soft_reset.*/\1/p' \
                                 -e 's/^[0-9]*@\([0-9.]*\):kvm_xen_soft_reset.*/@\1/p' \
                          "$out/$v.qemu" | while read -r t; do date -ud "$t" +%s.%N; done)
        walls=$(awk -v s="$start" -v k="${at[1]}" -v r="${at[2]}" -v e="$end" \
            'BEGIN { printf "cold %.0f s, kexec %.0f s, reboot %.0f s", k - s, r - k, e - r }')
        echo "ok xen-guest/$v: 3 stages passed in the guest${times}" \
             "(guest time); QEMU ran ${secs} s ($walls)"
    else
        if [ -n "$bad" ]; then
            echo "not ok xen-guest/$v: stage $bad: ${why#; }"
        else
            echo "not ok xen-guest/$v: after all 3 stages passed: ${why#; }"
        fi
        for f in serial hvc qemu; do
            echo "---- $out/$v.$f (tail)"
            tail -n 15 "$out/$v.$f" 2> /dev/null || true
        done
        fail=1
    fi
    grep 'XSL-GUEST: stage [a-z]*: \(ok\|FAIL\|RESULT\)' <<< "$serial" |
        sed "s|^.*XSL-GUEST: |    $v: |" || true
done
exit $fail
