#!/bin/bash
# xen-qtests.sh [patched] [mustfail]
#
# Runs every case of QEMU's Xen qtest (tests/qtest/xen-evtchn-test), each in
# a process of its own, where KVM has Xen support: directly on a host that
# has it, otherwise inside an L1 guest (scripts/l1-run).
#
#   patched   the patched build in work/qemu (AddressSanitizer and UBSan):
#             every case must pass, none may be skipped, and no sanitizer
#             report may appear.
#   mustfail  pristine QEMU plus only the qtest patches (./xsl
#             build-mustfail; the same sanitizers, leak check off): every
#             case must end as harness/mustfail.txt says; the cases that
#             test a fix must fail there.
# Several modes run in one boot of L1 (saves ~20 s each), then each is
# judged. XSL_L1_PHASE=prepare|judge (scripts/xen-l1.sh, which shares one
# boot of L1 with the real guest): prepare the runs and hand them to
# l1-run, which adds them to the plan in XSL_L1_PLAN instead of booting L1;
# or only judge what a run left.
set -euo pipefail
phase=${XSL_L1_PHASE:-all}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
QTEST_REL=tests/qtest/xen-evtchn-test
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(patched)

# Prepare each mode: its binaries, a fresh results folder, its case list.
runs=() rwdirs=()
prepare_modes=("${modes[@]}")
[ "$phase" != judge ] || prepare_modes=()
for mode in ${prepare_modes[@]+"${prepare_modes[@]}"}; do
    case "$mode" in
    patched) bin=$WORK/qemu/build ;;
    mustfail)
        "$TOP/xsl" build-mustfail
        bin=$WORK/mustfail
        ;;
    *)
        echo "usage: $0 [patched] [mustfail]" >&2
        exit 2
        ;;
    esac
    qemu=$bin/qemu-system-x86_64
    qtest=$bin/$QTEST_REL
    for f in "$qemu" "$qtest"; do
        [ -x "$f" ] || { echo "xen-qtests: missing $f (run ./xsl build)" >&2; exit 1; }
    done
    out=$WORK/results/$mode
    rm -rf "$out"
    mkdir -p "$out"
    # GTest lists its cases without running them.
    QTEST_QEMU_BINARY=$qemu "$qtest" -l | grep '^/' > "$out/cases"
    ncases=$(wc -l < "$out/cases")
    [ "$ncases" -gt 0 ] || { echo "xen-qtests: $qtest lists no case" >&2; exit 1; }
    echo "xen-qtests ($mode): $ncases cases from $qtest"
    # Pristine QEMU leaks at every reset: no leak check there (xsl).
    leaks=1
    [ "$mode" = patched ] || leaks=0
    runs+=("$(printf '%q ' env XSL_DETECT_LEAKS=$leaks \
        "$TOP/scripts/xen-qtests-run-cases.sh" "$qemu" "$qtest" "$out")")
    rwdirs+=(--rwdir "$out")
done

# Inside L1 (or on a Xen-capable host), all modes in one boot of L1: run
# each case on its own, so that a QEMU that aborts (as UBSan makes it)
# fails that case only.
# An L1 under TCG occasionally dies while L2 guests come and go (vng exits
# with 255, nothing in the guest's log); l1-run then boots it again and
# the cases that have not run yet go on. L1 runs under the project's outer
# QEMU (patches/tcg-svm) unless L1_QEMU names another (scripts/l1-run).
if [ "$phase" != judge ]; then
    cmd=$(printf '%s; ' "${runs[@]}")
    L1_QEMU=${L1_QEMU:-project} L1_RETRIES=${L1_RETRIES:-3} \
        "$TOP/scripts/l1-run" --timeout 1800 \
        "${rwdirs[@]}" -- bash -c "${cmd%; }"
    [ "$phase" != prepare ] || exit 0
fi

# Judge on the host from the per-case logs the run left.
declare -A expect=()
while read -r c e; do
    [ -n "$c" ] && [ "${c:0:1}" != "#" ] && expect[$c]=$e
done < "$TOP/harness/mustfail.txt"

# judge MODE: a verdict line per case of that mode; sets fail=1 on a miss.
judge() {
    local mode=$1 out=$WORK/results/$1 c log rc reports skipped got why want resets
    echo "xen-qtests ($mode): verdicts"
    while read -r c; do
        log=$out/$(echo "$c" | tr / _).log
        rc=$(sed -n "s|^rc $c ||p" "$out/rc" 2>/dev/null | tail -n 1)
        [ -n "$rc" ] || { echo "not ok $c: did not run"; fail=1; continue; }
        reports=$(grep -c "$SANITIZER_REPORT" "$log" || true)
        skipped=$(grep -c '^ok .* # SKIP' "$log" || true)
        if [ "$rc" = 0 ] && [ "$reports" = 0 ] && [ "$skipped" = 0 ] &&
           grep -q '^ok ' "$log"; then
            got=pass
            why="passed"
        else
            got=fail
            why=$(grep -m1 -h "$SANITIZER_REPORT"'\|ERROR:\|Bail out\|# SKIP' "$log" ||
                  echo "exit status $rc")
        fi
        # A case that could not get going (QEMU did not come up in time, the
        # nested guest was reset or stalled, a timeout) proves nothing either
        # way.
        if [ "$got" = fail ] && { [ "$rc" = 124 ] ||
           grep -q 'qtest_connect\|socket_accept failed\|did not start within\|unexpected guest reset\|did not complete command' "$log"; }; then
            got=broken
        fi
        if [ "$mode" = patched ]; then
            want=pass
        else
            want=${expect[$c]:-}
            [ -n "$want" ] || { echo "not ok $c: not listed in harness/mustfail.txt"; fail=1; continue; }
        fi
        resets=$(find "$out" -name "$(basename "$log").reset*" | wc -l)
        [ "$resets" = 0 ] || why="$why; after $resets retried run(s) (L2 guest reset or stalled, or QEMU slow to start)"
        if [ "$got" = "$want" ]; then
            echo "ok $c: $got as expected${why:+ ($why)}"
        else
            echo "not ok $c: expected $want, got $got ($why)"
            echo "---- $log"
            tail -n 30 "$log"
            fail=1
        fi
    done < "$out/cases"
}

fail=0
for mode in "${modes[@]}"; do
    judge "$mode"
done
exit $fail
