#!/bin/bash
# l1-negative.sh: the nested environment must fail loudly, never pass or
# skip, when it cannot give Xen-capable KVM. Boots L1 without loading
# kvm_amd and expects scripts/l1-run to fail with a reason; the command
# it was asked to run must not have run.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
out=$WORK/results/l1-negative
rm -rf "$out"
mkdir -p "$out"
L1_NO_KVM_AMD=1 XSL_FORCE_L1=1 "$TOP/scripts/l1-run" --rwdir "$out" -- \
    touch "$out/ran" > "$out/log" 2>&1
rc=$?
cat "$out/log" | tail -n 5
if [ "$rc" = 0 ]; then
    echo "not ok: l1-run passed without kvm_amd in L1"
    exit 1
fi
if [ -e "$out/ran" ]; then
    echo "not ok: the command ran although L1 has no Xen-capable KVM"
    exit 1
fi
if ! grep -q 'l1-run:.*\(kvm\|Xen\)' "$out/log"; then
    echo "not ok: l1-run failed ($rc) without saying that KVM/Xen is missing"
    exit 1
fi
echo "ok: l1-run failed with exit status $rc and said why"
