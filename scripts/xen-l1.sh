#!/bin/bash
# xen-l1.sh: the Xen qtests (patched and must-fail, scripts/xen-qtests.sh),
# the real guest (scripts/xen-guest.sh) and the differential usage suite
# (scripts/xen-usage.sh) in one boot of L1, then the verdicts of each. Booting L1 once instead of twice saves its boot (~20 s)
# and the slow first start of a guest in a fresh L1 (~15 s). Each script
# prepares its runs (XSL_L1_PHASE=prepare: its l1-run call only records
# timeout, folders and command in the plan XSL_L1_PLAN), one l1-run runs
# the commands one after the other, and each script judges what its runs
# left (XSL_L1_PHASE=judge). If L1 dies, l1-run boots it again and the
# runs go on where they stopped. Every run asks for the project's outer
# QEMU (unless L1_QEMU names another); runs that asked for different outer
# QEMUs would get a boot of L1 each.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
plan=$(mktemp -d)
trap 'rm -rf "$plan"' EXIT

XSL_L1_PLAN=$plan XSL_L1_PHASE=prepare \
    "$TOP/scripts/xen-qtests.sh" patched mustfail || exit 1
# The real guest: the 64-bit one on every release; on the series' own
# release also the 32-bit one. The runs on pristine QEMU (FLAVOUR/CALLBACK/
# pristine, ./xsl xen-guest) are not part of this: the qtests' must-fail
# run is what shows the bugs on pristine.
. "$TOP/scripts/release-env.sh"
guests=(amd64/vector amd64/novector)
[ "$RELEASE" != "$MAIN_RELEASE" ] ||
    guests+=(686-pae/vector 686-pae/novector)
XSL_L1_PLAN=$plan XSL_L1_PHASE=prepare "$TOP/scripts/xen-guest.sh" \
    "${guests[@]}" || exit 1
# The differential usage suite (pristine vs patched QEMU, same scenarios,
# scripts/xen-usage.sh), every release.
XSL_L1_PLAN=$plan XSL_L1_PHASE=prepare "$TOP/scripts/xen-usage.sh" || exit 1

# One boot of L1 per outer QEMU the runs asked for (l1-run's L1_QEMU), in
# the order of the runs; the rwdirs of all runs in each.
mkdir -p "$WORK/results"
: > "$WORK/results/l1.log"
rw=()
while read -r d; do
    rw+=(--rwdir "$d")
done < "$plan/rwdirs"
mapfile -t outers < <(awk '!seen[$0]++' "$plan/outers")
for o in "${outers[@]}"; do
    timeout_s=$(paste "$plan/outers" "$plan/timeouts" |
                awk -F'\t' -v o="$o" '$1 == o { s += $2 } END { print s }')
    cmds=$(paste "$plan/outers" "$plan/cmds" |
           awk -F'\t' -v o="$o" '$1 == o { print $2 }' | paste -sd';')
    L1_QEMU=$o L1_RETRIES=${L1_RETRIES:-3} "$TOP/scripts/l1-run" \
        --timeout "$timeout_s" "${rw[@]}" -- bash -c "$cmds" 2>&1 |
        tee -a "$WORK/results/l1.log"
done

# A death of L1 is never silent: l1-run boots it again (L1_RETRIES, until
# they run out) and the runs go on, but the result says so.
deaths=$(grep -c '^l1-run: L1 died' "$WORK/results/l1.log")
[ "$deaths" = 0 ] ||
    echo "note xen-in-l1: L1 died $deaths time(s)" \
         "(l1-run's reports in $WORK/results/l1.log)"

rc=0
XSL_L1_PHASE=judge "$TOP/scripts/xen-qtests.sh" patched mustfail || rc=1
XSL_L1_PHASE=judge "$TOP/scripts/xen-guest.sh" "${guests[@]}" || rc=1
XSL_L1_PHASE=judge "$TOP/scripts/xen-usage.sh" || rc=1
exit $rc
