#!/bin/bash
# l1-smc-stress.sh [SECONDS]: run in L1 (scripts/l1-run -- bash THIS), no L2
# at all: cross-modifying code as Linux does it. CPU 0 flips tracepoint
# static keys (text_poke_bp(): int3, the rest of the bytes, the first byte,
# with an IPI to every CPU after each step) while CPU 1 runs the syscalls
# whose code is patched. Under the outer QEMU with MTTCG
# (L1_TCG_THREAD=multi) L1 dies with "Oops: int3" (docs/nested.md, "L1
# deaths"); with thread=single it does not.
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
dur=${1:-240}
echo 0 > $T/tracing_on
( taskset -c 1 bash -c 'while :; do dd if=/dev/zero of=/dev/null bs=1 count=20000 2>/dev/null; cat /proc/self/stat > /dev/null; done' ) &
busy=$!
end=$((SECONDS + dur)); n=0
while [ $SECONDS -lt $end ]; do
    taskset -c 0 sh -c "echo 1 > $T/events/syscalls/enable; echo 1 > $T/events/sched/enable; echo 0 > $T/events/syscalls/enable; echo 0 > $T/events/sched/enable"
    n=$((n + 1))
    [ $((n % 20)) = 0 ] && echo "smc: $n flips, $SECONDS s"
done
kill $busy
echo "smc: done, $n flips in $dur s"
dmesg | grep -i "BUG\|Oops\|panic\|corrupt\|WARNING" | head
