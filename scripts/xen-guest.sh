#!/bin/bash
# xen-guest.sh [RUN...]
#
# Real Xen guests that nobody here wrote: Debian's own kernels boot as Xen
# HVM guests of the patched sanitizer QEMU, where KVM has Xen support
# (directly, or inside L1 via scripts/l1-run), from a busybox initramfs
# whose /init (harness/xen-guest/init) checks Xen, xenstore, the PV
# console's event channel, timer events, CPU hotplug and the vcpu_info
# registrations from the inside. A RUN is FLAVOUR/CALLBACK[/pristine]:
#   FLAVOUR   amd64: trixie's 6.12 (the kernel L1 runs), 64-bit, three
#             stages in one QEMU run, each with all the checks: the cold
#             boot, a kexec (SHUTDOWN_soft_reset) and a reboot through the
#             firmware (a machine reset);
#             686-pae: bookworm's i386 6.1 (scripts/fetch-i386-guest.sh),
#             32-bit, so QEMU delivers in the compat shared_info layout;
#             the cold stage only (Linux i386 has no kexec_file_load)
#   CALLBACK  vector (Linux's default) or novector (xen_no_vector_callback:
#             QEMU itself delivers every event through the compat or
#             64-bit vcpu_info)
#   pristine  on the release's pristine QEMU (the must-fail build:
#             pristine + the qtest patches, leak check off) instead, whose
#             outcome must be the one harness/xen-guest/pristine.txt pins
# Default: amd64 with both callbacks. ./xsl test (scripts/xen-l1.sh)
# runs those on every release, and on the first release also
# 686-pae/vector 686-pae/novector.
# A run passes when each stage came up once, in order, and printed "RESULT
# PASS" (serial console), the PV console carried the lines of each stage,
# QEMU reset its Xen state as often as the boots make it and exited 0, with
# no sanitizer report and no kernel oops. Times per stage and the
# guest-physical address of each vCPU's vcpu_info (QEMU's trace
# kvm_xen_set_vcpu_attr) are printed, the logs kept in
# work/results/xen-guest/. XSL_L1_PHASE=prepare|judge: as in
# scripts/xen-qtests.sh (scripts/xen-l1.sh runs both in one boot of L1).
set -euo pipefail
phase=${XSL_L1_PHASE:-all}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
. "$TOP/scripts/release-env.sh"
. "$TOP/scripts/xen-guest-lib.sh"
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
CACHE=${XSL_CACHE:-$HOME/.cache/xsl}
runs=("$@")
# The default is what every release runs (the 32-bit guest, only the
# first release: scripts/xen-l1.sh).
[ ${#runs[@]} -gt 0 ] || runs=(amd64/vector amd64/novector)

die() { echo "xen-guest: $*" >&2; exit 1; }
# What in the guest's kernel log fails a boot (xen-guest-run.sh never
# boots such a guest again either): KERNEL_TROUBLE_RE (xen-guest-lib.sh)
# as a basic regex, for grep.
export KERNEL_TROUBLE=${KERNEL_TROUBLE_RE//|/\\|}

# flavour FLAVOUR: sets kernel, busybox, stages for it.
flavour() {
    case "$1" in
    amd64)
        kernel=${XEN_GUEST_KERNEL:-${L1_KERNEL:-/boot/vmlinuz-6.12.117+deb13-amd64}}
        busybox=${XEN_GUEST_BUSYBOX:-/bin/busybox}
        stages=(cold kexec reboot)
        ;;
    686-pae)
        kernel=$CACHE/i386/vmlinuz
        busybox=$CACHE/i386/busybox
        stages=(cold)
        ;;
    *) die "unknown kernel flavour $1 (amd64 or 686-pae)" ;;
    esac
}
# run_dir RUN: the folder of a run's logs (one per flavour and QEMU).
run_dir() {
    local f=${1%%/*} rest=${1#*/}
    case "$rest" in
    */pristine) echo "$out/$f-pristine" ;;
    *) echo "$out/$f" ;;
    esac
}
for r in "${runs[@]}"; do
    case "$r" in
    */vector|*/novector|*/vector/pristine|*/novector/pristine) flavour "${r%%/*}" ;;
    *) die "unknown run $r (FLAVOUR/vector or FLAVOUR/novector, optionally /pristine)" ;;
    esac
done

out=$WORK/results/xen-guest
timeout_s=${XEN_GUEST_TIMEOUT:-120}
if [ "$phase" != judge ]; then
    rm -rf "$out"
    mkdir -p "$out"
    for f in amd64 686-pae; do
        cmds=() nboots=0
        grep -q "^$f/" <<< "$(printf '%s\n' "${runs[@]}")" || continue
        flavour "$f"
        # Debian's i386 packages, fetched the first time they are needed.
        [ "$f" != 686-pae ] || "$TOP/scripts/fetch-i386-guest.sh" >&2 ||
            die "cannot fetch the 32-bit guest (scripts/fetch-i386-guest.sh)"
        [ -r "$kernel" ] || die "guest kernel $kernel not found (run ./xsl deps, ./xsl setup)"
        grep -q 'statically linked' <<< "$(file -L "$busybox" 2> /dev/null)" ||
            die "$busybox is not a static busybox (run ./xsl deps, ./xsl setup)"
        # The initramfs: a static busybox, the checking /init, and for the
        # three stages its static helper (stage marker, kexec_file_load)
        # and the kexec stage's kernel and initramfs (the same without
        # them).
        root=$out/$f-root
        mkdir -p "$root"/{bin,proc,sys,dev}
        cp "$busybox" "$root/bin/busybox"
        cp "$TOP/harness/xen-guest/init" "$root/init"
        /bin/busybox sh -n "$root/init" || die "syntax error in harness/xen-guest/init"
        chmod 755 "$root/init"
        if [ ${#stages[@]} -gt 1 ]; then
            gcc -static -O2 -Wall -o "$root/bin/xsl-stage" \
                "$TOP/harness/xen-guest/xsl-stage.c" ||
                die "cannot build the static xsl-stage (gcc, libc6-dev: run ./xsl deps)"
            pack "$root" "$out/kexec-initrd.gz"
            mkdir "$root/kexec"
            cp "$kernel" "$root/kexec/vmlinuz"
            mv "$out/kexec-initrd.gz" "$root/kexec/initrd.gz"
        fi
        pack "$root" "$out/$f-initrd.gz"
        rm -rf "$root"
        for q in patched pristine; do
            cbs=()
            for r in "${runs[@]}"; do
                [ "${r%%/*}" = "$f" ] || continue
                if [ "${r##*/}" = pristine ]; then
                    [ $q = patched ] || cbs+=("$(cut -d/ -f2 <<< "$r")")
                elif [ $q = patched ]; then
                    cbs+=("${r#*/}")
                fi
            done
            [ ${#cbs[@]} -gt 0 ] || continue
            if [ $q = patched ]; then
                qemu=$WORK/qemu/build/qemu-system-x86_64
                [ -x "$qemu" ] || die "missing $qemu (run ./xsl build)"
            else
                qemu=$WORK/mustfail/qemu-system-x86_64
                [ -x "$qemu" ] || "$TOP/xsl" build-mustfail >&2 ||
                    die "cannot build the pristine QEMU (./xsl build-mustfail)"
            fi
            d=$(run_dir "$f/x/$q")
            mkdir -p "$d"
            # Pristine QEMU leaks at every reset: no leak check there (xsl).
            cmds+=("$(printf '%q ' env XEN_GUEST_TIMEOUT="$timeout_s" \
                XSL_DETECT_LEAKS=$([ $q = patched ] && echo 1 || echo 0) \
                KERNEL_TROUBLE="$KERNEL_TROUBLE" \
                "$TOP/scripts/xen-guest-run.sh" "$qemu" "$kernel" \
                "$out/$f-initrd.gz" "$d" "${stages[*]}" "${cbs[@]}")")
            nboots=$((nboots + ${#cbs[@]} * ${#stages[@]}))
        done
        # L1 does not inherit this environment: hand the boot timeout
        # over. A boot may go XEN_GUEST_TIMEOUT s without a word from the
        # guest, and a run may be run three times. L1 runs under the
        # project's outer QEMU (patches/tcg-svm), which a 32-bit L2 needs
        # and without which a 64-bit one stalls now and then (README),
        # unless L1_QEMU names another (scripts/l1-run).
        l1_timeout=$((3 * nboots * (timeout_s + 20) + 300))
        L1_QEMU=${L1_QEMU:-project} L1_RETRIES=${L1_RETRIES:-2} "$TOP/scripts/l1-run" \
            --timeout "$l1_timeout" --rwdir "$out" \
            -- bash -c "$(printf '%s; ' "${cmds[@]}")" | tee -a "$out/l1.log"
    done
    [ "$phase" != prepare ] || exit 0
fi

# Judge on the host from what each run left.
# The pinned outcome of each pristine run: "RUN RELEASE pass", or "RUN
# RELEASE fail TEXT" where TEXT must appear in the reason.
pinned() {
    awk -v r="$1" -v q="$QEMU_VERSION" '$1 == r && $2 == q {
        $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' \
        "$TOP/harness/xen-guest/pristine.txt"
}
# vcpu_info RUN-FILES-BASE: "cpu0 GPA, cpu1 GPA" as QEMU last set them
# (trace kvm_xen_set_vcpu_attr, type 0 = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO),
# and how each is aligned: the vcpu_info the guest's last boot registered.
vcpu_info() {
    local c gpa a al sep= line=
    declare -A last=()
    while read -r c gpa; do
        # QEMU sets 0 at a vCPU reset and ~0 when it withdraws one.
        case "$gpa" in 0|ffffffffffffffff) ;; *) last[$c]=$gpa ;; esac
    done < <(sed -n 's/.*kvm_xen_set_vcpu_attr.*cpu \([0-9]*\) type 0 gpa 0x\([0-9a-f]*\).*/\1 \2/p' \
             "$1.qemu" 2> /dev/null)
    for c in $(printf '%s\n' "${!last[@]}" | sort -n); do
        a=$((16#${last[$c]: -8}))
        al=1
        while [ $al -lt 64 ] && [ $((a % (al * 2))) = 0 ]; do al=$((al * 2)); done
        line="$line${sep}cpu$c 0x${last[$c]} ($al-byte aligned, offset $((a % 64)) in its cache line)"
        sep=", "
    done
    echo "$line"
}
fail=0
for r in "${runs[@]}"; do
    f=${r%%/*}
    v=$(cut -d/ -f2 <<< "$r")
    flavour "$f"
    base=$(run_dir "$r")/$v
    name=xen-guest-$f/$v
    pristine=
    if [ "${r##*/}" = pristine ]; then
        pristine=$(pinned "$r")
        name="$name on pristine QEMU $QEMU_VERSION"
        [ -n "$pristine" ] || {
            echo "not ok $name: no outcome pinned in harness/xen-guest/pristine.txt"
            fail=1
            continue
        }
    fi
    if [ ! -f "$base.rc" ]; then
        echo "not ok $name: did not run"
        fail=1
        continue
    fi
    read -r rc secs start end < "$base.rc"
    serial=$(tr -d '\r' 2> /dev/null < "$base.serial" || true)
    hvc=$(cat "$base.hvc" 2> /dev/null || true)
    # The stages in the order they reached userspace, and the first of
    # them that did not come up in its place or did not pass.
    mapfile -t seen < <(sed -n \
        's/.*XSL-GUEST: stage \([a-z]*\): userspace after.*/\1/p' <<< "$serial")
    bad= why= times=
    for i in "${!stages[@]}"; do
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
    [ ${#seen[@]} -le ${#stages[@]} ] ||
        why="$why; ${#seen[@]} boots reached userspace: ${seen[*]}"
    # More Xen resets than the stages make means a reset nobody asked for.
    want_resets=$(xen_resets "${stages[*]}")
    resets=$(grep -c 'kvm_xen_soft_reset' "$base.qemu" 2> /dev/null || true)
    [ -n "$bad" ] || [ "$resets" = "$want_resets" ] ||
        why="$why; QEMU reset its Xen state $resets times (want $want_resets)"
    if [ "$rc" != 0 ]; then
        why="$why; QEMU exit status $rc"
        [ "$rc" = 124 ] && why="$why (stopped: no word from the guest for" &&
            why="$why $timeout_s s, or the run took $((3 * timeout_s)) s)"
    fi
    report=$(grep -m1 "$SANITIZER_REPORT" "$base.qemu" || true)
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
    for h in "$base".hang[0-9].serial "$base".reset[0-9].serial; do
        [ -f "$h" ] || continue
        h=${h%.serial}
        kind=${h##*.}
        echo "note $name: run $((${kind: -1} + 1)) had a boot end in" \
             "a silent ${kind%[0-9]} and was run again (logs: $h.*)"
    done
    vi=$(vcpu_info "$base")
    if [ -z "$bad" ] && [ -z "$why" ]; then
        # Wall time per stage: from QEMU's start, its Xen resets (the
        # kexec's, the reboot's first) and its end.
        # QEMU 10.2 prints "DATE-TIMEZ kvm_xen_soft_reset", 10.0
        # "PID@SECONDS:kvm_xen_soft_reset".
        mapfile -t at < <(sed -n -e 's/^\([0-9T:.-]*\)Z kvm_xen_soft_reset.*/\1/p' \
                                 -e 's/^[0-9]*@\([0-9.]*\):kvm_xen_soft_reset.*/@\1/p' \
                          "$base.qemu" | while read -r t; do date -ud "$t" +%s.%N; done)
        walls=$(awk -v s="$start" -v k="${at[1]:-}" -v r="${at[2]:-}" -v e="$end" \
            -v n="${#stages[@]}" 'BEGIN { if (n == 1) printf "cold %.0f s", e - s
                else printf "cold %.0f s, kexec %.0f s, reboot %.0f s", k - s, r - k, e - r }')
        outcome=pass
        detail="${stages[*]} passed in the guest${times} (guest time); QEMU ran ${secs} s ($walls); vcpu_info: ${vi:-none registered}"
    else
        outcome=fail
        if [ -n "$bad" ]; then
            detail="stage $bad: ${why#; }"
        else
            detail="after ${stages[*]} passed: ${why#; }"
        fi
        detail="$detail; vcpu_info: ${vi:-none registered}"
    fi
    if [ -z "$pristine" ]; then
        echo "$outcome $name: $detail" | sed 's/^pass/ok/; s/^fail/not ok/'
        [ $outcome = pass ] || fail=1
    elif [ "$pristine" = pass ] && [ $outcome = pass ]; then
        echo "ok $name: passes, as pinned: $detail"
    elif [ "${pristine%% *}" = fail ] && [ $outcome = fail ] &&
         grep -qF -- "${pristine#fail }" <<< "$detail"; then
        echo "ok $name: fails as pinned (${pristine#fail }): $detail"
        outcome=pass
    else
        echo "not ok $name: pinned '$pristine', got $outcome: $detail"
        outcome=fail
        fail=1
    fi
    if [ $outcome = fail ]; then
        for x in serial hvc qemu; do
            echo "---- $base.$x (tail)"
            tail -n 15 "$base.$x" 2> /dev/null || true
        done
    fi
    grep 'XSL-GUEST: stage [a-z]*: \(ok\|FAIL\|RESULT\)' <<< "$serial" |
        sed "s|^.*XSL-GUEST: |    $f/$v: |" || true
done
exit $fail
