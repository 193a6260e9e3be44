#!/bin/bash
# xen-l1.sh: the Xen qtests (patched and must-fail, scripts/xen-qtests.sh)
# and the real guest (scripts/xen-guest.sh) in one boot of L1, then the
# verdicts of both. Booting L1 once instead of twice saves its boot (~20 s)
# and the slow first start of a guest in a fresh L1 (~15 s). Each script
# prepares its runs (XSL_L1_PHASE=prepare: its l1-run call only records
# timeout, folders and command in the plan XSL_L1_PLAN), one l1-run runs
# the commands one after the other, and each script judges what its runs
# left (XSL_L1_PHASE=judge). If L1 dies, l1-run boots it again and the
# runs go on where they stopped.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
plan=$(mktemp -d)
trap 'rm -rf "$plan"' EXIT

XSL_L1_PLAN=$plan XSL_L1_PHASE=prepare \
    "$TOP/scripts/xen-qtests.sh" patched mustfail || exit 1
XSL_L1_PLAN=$plan XSL_L1_PHASE=prepare "$TOP/scripts/xen-guest.sh" || exit 1

timeout_s=$(awk '{ s += $1 } END { print s }' "$plan/timeouts")
rw=()
while read -r d; do
    rw+=(--rwdir "$d")
done < "$plan/rwdirs"
mkdir -p "$WORK/results"
L1_RETRIES=${L1_RETRIES:-3} "$TOP/scripts/l1-run" --timeout "$timeout_s" \
    "${rw[@]}" -- bash -c "$(paste -sd';' "$plan/cmds")" |
    tee "$WORK/results/l1.log"

rc=0
XSL_L1_PHASE=judge "$TOP/scripts/xen-qtests.sh" patched mustfail || rc=1
XSL_L1_PHASE=judge "$TOP/scripts/xen-guest.sh" || rc=1
exit $rc
