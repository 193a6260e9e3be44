#!/bin/sh
# run-l2.sh L2_QEMU GUEST_BIN DIR KICK: inside L1, one run of the tiny
# guest as a KVM guest of L2_QEMU, pinned to L1's CPU 0, while KICK
# (kick.c) runs on CPU 1 until the guest has ended. The guest's serial
# output goes to DIR/serial, QEMU's exit status to DIR/rc, KICK's count to
# DIR/kick.log (scripts/tcg-svm-guest.sh judges them). A second boot of L1
# (l1-run boots it again if it died) starts from scratch.
qemu=$1 bin=$2 d=$3 kick=$4
rm -f "$d/serial" "$d/rc" "$d/kick.log"
if [ "$(nproc)" -lt 2 ]; then
    echo "XSL-TCG: FAIL L1 has $(nproc) CPU; the intr check needs 2" \
        > "$d/serial"
    echo none > "$d/rc"
    exit 1
fi
taskset -c 1 "$kick" > "$d/kick.log" 2>&1 &
kick_pid=$!
taskset -c 0 timeout 120 "$qemu" -M pc -accel kvm -m 16 -nodefaults \
    -display none -no-reboot -bios "$bin" -serial file:"$d/serial" \
    -device isa-debug-exit,iobase=0xf4,iosize=1
rc=$?
kill -TERM "$kick_pid"
wait "$kick_pid"
echo "$rc" > "$d/rc"
