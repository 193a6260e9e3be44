#!/bin/bash
# l1-negative.sh: the nested environment must fail loudly, never pass or
# skip, when it cannot run the command, and say why.
#  1. L1 without kvm_amd: scripts/l1-run must fail with a reason, and the
#     command it was asked to run must not have run.
#  2. An L1 that dies (its kernel panics, through sysrq): l1-run must not
#     boot it again with L1_RETRIES=0, and must report the death with what
#     scripts/l1-qemu recorded: QEMU's shutdown reason (guest-reset: vng's
#     -no-reboot turns the panic's reboot into an exit) and the panic from
#     L1's kernel log.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
out=$WORK/results/l1-negative
rm -rf "$out"
mkdir -p "$out"
fails=0
not_ok() { echo "not ok: $*"; fails=$((fails + 1)); }

L1_NO_KVM_AMD=1 XSL_FORCE_L1=1 "$TOP/scripts/l1-run" --rwdir "$out" -- \
    touch "$out/ran" > "$out/log" 2>&1
rc=$?
tail -n 5 "$out/log"
if [ "$rc" = 0 ]; then
    not_ok "l1-run passed without kvm_amd in L1"
elif [ -e "$out/ran" ]; then
    not_ok "the command ran although L1 has no Xen-capable KVM"
elif ! grep -q 'l1-run:.*\(kvm\|Xen\)' "$out/log"; then
    not_ok "l1-run failed ($rc) without saying that KVM/Xen is missing"
else
    echo "ok: without kvm_amd, l1-run failed with exit status $rc and said why"
fi

L1_RETRIES=0 XSL_FORCE_L1=1 "$TOP/scripts/l1-run" -- \
    sh -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger' \
    > "$out/death.log" 2>&1
rc=$?
grep '^l1-run: L1 \(died\|did not\)' "$out/death.log"
if [ "$rc" = 0 ]; then
    not_ok "l1-run passed although L1 panicked"
elif [ "$(grep -c '^l1-run: booting L1' "$out/death.log")" != 1 ]; then
    not_ok "l1-run booted L1 again with L1_RETRIES=0"
elif ! grep -q '^l1-run: L1 died: .*shutdown reason guest-reset.*L1.s kernel panicked' \
        "$out/death.log"; then
    not_ok "l1-run did not report the death with its reason"
elif ! grep -q '^l1-run: .*Kernel panic - not syncing: sysrq triggered crash' \
        "$out/death.log"; then
    not_ok "l1-run did not show the panic from L1's kernel log"
else
    echo "ok: an L1 panic is reported with QEMU's shutdown reason and L1's kernel log"
fi
[ "$fails" = 0 ]
