#!/bin/sh
# run-l2.sh L2_QEMU GUEST_BIN DIR KICK: inside L1, one run of the tiny
# guest as a KVM guest of L2_QEMU, pinned to L1's CPU 0, and KICK
# (kick.c) on CPU 1 from the guest's "XSL-TCG: intr: ticking" (its timer
# interrupts come) until the guest has ended. The guest's serial output
# goes to DIR/serial, QEMU's exit status to DIR/rc, KICK's count to
# DIR/kick.log (scripts/tcg-svm-guest.sh judges them). A run that got no
# timer interrupt at all (exit status 35, see guest.S) checked nothing:
# its output is kept as DIR/serial.notick-N and the guest runs again, at
# most 7 times in all (about one run in three gets none: guest.S). A
# second boot of L1 (l1-run boots it again if it died) starts from
# scratch.
qemu=$1 bin=$2 d=$3 kick=$4
rm -f "$d"/serial* "$d/rc" "$d/kick.log"
if [ "$(nproc)" -lt 2 ]; then
    echo "XSL-TCG: FAIL L1 has $(nproc) CPU; the intr check needs 2" \
        > "$d/serial"
    echo none > "$d/rc"
    exit 1
fi
for try in 1 2 3 4 5 6 7; do
    taskset -c 0 timeout 120 "$qemu" -M pc -accel kvm -m 16 -nodefaults \
        -display none -no-reboot -bios "$bin" -serial file:"$d/serial" \
        -device isa-debug-exit,iobase=0xf4,iosize=1 &
    qemu_pid=$!
    while kill -0 "$qemu_pid" 2> /dev/null &&
          ! grep -q 'XSL-TCG: intr: ticking' "$d/serial" 2> /dev/null; do
        sleep 0.05
    done
    kick_pid=
    if kill -0 "$qemu_pid" 2> /dev/null; then
        taskset -c 1 "$kick" > "$d/kick.log" 2>&1 &
        kick_pid=$!
    fi
    wait "$qemu_pid"
    rc=$?
    if [ -n "$kick_pid" ]; then
        kill -TERM "$kick_pid"
        wait "$kick_pid"
    fi
    [ "$rc" = 35 ] && [ "$try" != 7 ] || break
    mv "$d/serial" "$d/serial.notick-$try"
done
echo "$rc" > "$d/rc"
