#!/bin/bash
# tcg-svm-guest.sh [fixed] [mustfail]
#
# The test of patches/tcg-svm, the fixes for the outer TCG QEMU that runs
# L1: the tiny 32-bit guest harness/tcg-svm-guest/guest.S runs as a plain
# KVM guest (L2) of Debian's qemu-system-x86_64 inside L1 (that QEMU has
# the vmport and isa-debug-exit devices the guest uses), and checks that
# an interrupt injected at VMRUN is delivered once (patch 3; L1's other CPU
# runs harness/tcg-svm-guest/kick.c meanwhile), PAE paging (patch 2) and
# user mode with the busy TR that KVM hands back (patch 1); see guest.S.
#
#   fixed     L1 under the project's outer QEMU (./xsl --series tcg-svm
#             build: 10.2.2 + patches/tcg-svm): all three checks must pass,
#             with kick.c's count at least KICKS_MIN (a healthy run: ~5000).
#   mustfail  L1 under Debian's qemu-system-x86_64 (bookworm-backports
#             10.0.2, without the fixes): the "intr" check must see the
#             timer's handler entered inside itself, the "pae" check must
#             fail with #GP, and the "user" check must end the outer QEMU
#             with "invalid tss type" (L1 dies, so it runs last).
set -uo pipefail
KICKS_MIN=1000
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_WORK:-$TOP/work}
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(fixed mustfail)
out=$WORK/results/tcg-svm-guest
src=$TOP/harness/tcg-svm-guest
l2_qemu=/usr/bin/qemu-system-x86_64

die() { echo "tcg-svm-guest: $*" >&2; exit 1; }
[ -x "$l2_qemu" ] || die "no $l2_qemu (run ./xsl deps)"
rm -rf "$out"
mkdir -p "$out"
gcc -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,"$src/guest.ld" \
    -o "$out/guest.elf" "$src/guest.S" &&
    objcopy -O binary "$out/guest.elf" "$out/guest.bin" ||
    die "cannot build $src/guest.S (gcc, binutils: run ./xsl deps)"
gcc -O2 -o "$out/kick" "$src/kick.c" || die "cannot build $src/kick.c"

fail=0
for mode in "${modes[@]}"; do
    case "$mode" in
    fixed)
        outer=$WORK/outer/build/qemu-system-x86_64
        [ -x "$outer" ] || die "no $outer (run ./xsl --series tcg-svm build)"
        retries=${L1_RETRIES:-1}
        ;;
    mustfail)
        # L1 is meant to die here: do not boot it again.
        outer=$l2_qemu
        retries=0
        ;;
    *) die "unknown mode $mode (fixed or mustfail)" ;;
    esac
    d=$out/$mode
    mkdir -p "$d"
    # Inside L1: one run of the guest (harness/tcg-svm-guest/run-l2.sh).
    # MTTCG (a host thread per vCPU of L1): the "intr" check needs kick.c's
    # exclusive sections to kick the other vCPU's thread out of its loop.
    L1_QEMU=$outer L1_RETRIES=$retries L1_TCG_THREAD=multi \
        "$TOP/scripts/l1-run" --timeout 600 \
        --rwdir "$d" -- "$src/run-l2.sh" "$l2_qemu" "$out/guest.bin" "$d" "$out/kick" \
        > "$d/l1.log" 2>&1
    serial=$(tr -d '\r' < "$d/serial" 2> /dev/null)
    rc=$(cat "$d/rc" 2> /dev/null || echo none)
    intr=$(grep -m1 'XSL-TCG: \(ok intr\|FAIL\)' <<< "$serial")
    # "intr: handler entries: T, of them inside the handler: N" (hex)
    read -r taken nested < <(sed -n 's/^XSL-TCG: intr: [^:]*: \([0-9a-f]\+\), [^:]*: \([0-9a-f]\+\)$/\1 \2/p' <<< "$serial")
    intr_count="${taken:+$((16#$taken)) handler entries, $((16#$nested)) of them inside the handler}"
    kicks=$(sed -n 's/^kick: \([0-9]*\) .*/\1/p' "$d/kick.log" 2> /dev/null)
    # Runs of the guest that got no timer interrupt, run again (run-l2.sh)
    noticks=$(find "$d" -name 'serial.notick-*' | wc -l)
    again=
    [ "$noticks" = 0 ] ||
        again="; $noticks run(s) of the guest got no timer interrupt and ran again"
    pae=$(grep -m1 'XSL-TCG: \(ok pae\|FAIL\)' <<< "$(sed -n '/XSL-TCG: pae:/,$p' <<< "$serial")")
    user=$(grep -m1 'XSL-TCG: ok user\|XSL-TCG: FAIL' <<< "$(sed -n '/XSL-TCG: user:/,$p' <<< "$serial")")
    fatal=$(grep -m1 'qemu: fatal:' "$d/l1.log")
    pdpte=$(sed -n 's/.*PDPTE 0 after the walk: //p' <<< "$serial")
    if [ "$mode" = fixed ]; then
        # isa-debug-exit: 0x10 -> exit status 33
        # The intr check means something only if kick.c ran meanwhile.
        if [[ "$intr" == *"ok intr"* ]] && [ "${kicks:-0}" -ge "$KICKS_MIN" ] &&
           [[ "$pae" == *"ok pae"* ]] && [[ "$user" == *"ok user"* ]] &&
           [ "$rc" = 33 ]; then
            echo "ok tcg-svm-guest/fixed: injected interrupts delivered once" \
                 "($intr_count; $kicks kicks$again), PAE (PDPTE 0 stays $pdpte) and user mode" \
                 "with the busy TR pass under $(basename "$outer") of the project"
        else
            echo "not ok tcg-svm-guest/fixed: intr: ${intr:-no result}" \
                 "(kicks: ${kicks:-none}, at least $KICKS_MIN wanted); pae:" \
                 "${pae:-no result}; user: ${user:-no result}; guest exit" \
                 "$rc${fatal:+; outer: $fatal}$again"
            fail=1
        fi
    else
        why=
        [[ "$intr" == *"FAIL intr: the handler was entered again"* ]] ||
            why="intr check saw no interrupt delivered twice (${intr:-no result})"
        [[ "$pae" == *"FAIL exception 0000000d"* ]] ||
            why="$why; pae check did not #GP (${pae:-no result})"
        [[ "$fatal" == *"invalid tss type"* ]] && [ -z "$user" ] ||
            why="$why; user check did not end the outer QEMU with invalid tss type (${user:-no result}${fatal:+, $fatal})"
        if [ -z "$why" ]; then
            echo "ok tcg-svm-guest/mustfail: under Debian's outer QEMU" \
                 "the timer handler is entered inside itself ($intr_count$again)," \
                 "the pae check gets #GP (PDPTE 0 became $pdpte) and" \
                 "the user check ends it ($fatal)"
        else
            echo "not ok tcg-svm-guest/mustfail: ${why#; }$again"
            fail=1
        fi
    fi
    sed 's/^/    /' <<< "$serial"
done
exit $fail
