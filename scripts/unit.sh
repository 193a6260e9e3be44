#!/bin/bash
# unit.sh: QEMU's unit test for the vcpu_info helpers (tests/unit, part of
# the series), run on the host from the patched sanitizer build: it needs no
# KVM.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
t=$WORK/qemu/build/tests/unit/test-xen-vcpu-info
[ -x "$t" ] || { echo "unit: missing $t (run ./xsl build)" >&2; exit 1; }
. "$TOP/scripts/sanitizers.sh"
log=$(mktemp)
"$t" --tap 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if grep -q "$SANITIZER_REPORT" "$log"; then
    echo "unit: a sanitizer reported a problem" >&2
    rc=1
fi
if ! grep -q '^ok ' "$log"; then
    echo "unit: no test case ran" >&2
    rc=1
fi
rm -f "$log"
exit "$rc"
