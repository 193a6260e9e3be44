#!/bin/bash
# xen-guest-run.sh QEMU KERNEL INITRD OUTDIR STAGES VARIANT...
#
# Runs where KVM has Xen support (inside L1, see xen-guest.sh): boots KERNEL
# with INITRD as a Xen HVM guest of QEMU once per VARIANT:
#   vector     Linux's default: the HVM callback vector
#   novector   xen_no_vector_callback: events come through the Xen platform
#              device's INTx, so QEMU sets the vcpu_info flags itself
# In each run the guest goes through the boots STAGES names ("cold kexec
# reboot", or "cold" alone: see harness/xen-guest/init), so QEMU lets the
# guest reset the machine; a
# guest panic still ends QEMU at once: xen_legacy_crash makes Linux's panic
# notifier do SCHEDOP_shutdown(SHUTDOWN_crash) (an HVM guest would
# otherwise reset the machine), which QEMU takes as a guest panic, and
# -action panic=exit-failure makes that exit status 1. The kernel's
# consoles are the serial port and the Xen PV console (hvc0): a kernel
# whose PV console is not connected after a reset spins in early boot.
# no_timer_check: see docs/nested.md, "The guest's timer check".
# XEN_GUEST_TIMEOUT (s) is how long a boot may go without a word from the
# guest (/init's "XSL-GUEST:" lines); a run gets at most three times that.
# Writes OUTDIR/VARIANT.{serial,hvc,qemu} (serial console, Xen PV console,
# QEMU's own output) and OUTDIR/VARIANT.rc ("STATUS SECONDS START END",
# START and END in seconds since the epoch).
set -u
: "${KERNEL_TROUBLE:?set by xen-guest.sh}"
qemu=$1 kernel=$2 initrd=$3 out=$4 stages=$5
shift 5
. "$(dirname "${BASH_SOURCE[0]}")/sanitizers.sh"
. "$(dirname "${BASH_SOURCE[0]}")/xen-guest-lib.sh"
want_resets=$(xen_resets "$stages")
cold_only=
[ "$stages" != cold ] || cold_only=xsl.stages=cold
boot_timeout=${XEN_GUEST_TIMEOUT:-120}
# In L1 the host's files come over 9p without a page cache: run a copy of
# the ~95 MB sanitizer QEMU from L1's RAM (see xen-qtests-run-cases.sh).
if [ -d /dev/shm ] && bin=$(mktemp -d /dev/shm/xsl-guest.XXXXXX) &&
   cp "$qemu" "$bin/"; then
    qemu=$bin/$(basename "$qemu")
    trap 'rm -rf "$bin"' EXIT
fi
for v in "$@"; do
    # Already run in an earlier boot of L1 (l1-run boots it again if it dies).
    [ -f "$out/$v.rc" ] && continue
    case "$v" in
    vector) extra= ;;
    novector) extra=xen_no_vector_callback ;;
    *) echo "xen-guest-run: unknown variant $v" >&2; exit 2 ;;
    esac
    # The nested L2 guest has been seen, on pristine QEMU too, to stop
    # making progress or to be reset without a word before it reached
    # userspace (see README). A run where a boot did so, and nothing else
    # went wrong (no failed check, kernel panic or oops, sanitizer report
    # or QEMU failure), is kept as VARIANT.{hang,reset}N.* and run again,
    # twice at most; xen-guest.sh reports it. On 2026-11-25 this happened
    # in 4 of 8 variant runs, each time at the kexec hand-over (the kexec'd
    # kernel hung, or a reset came instead of the kexec), and once twice
    # in a row. A boot did so when the run timed out (after a hand-over to
    # the next boot, before any word, or, since 2026-11-29, in the middle
    # of a stage's checks: the kexec stage stalled right after its PV
    # console check in 1 of 8 runs that day, in the CI run of a clean
    # clone), when a boot came at no expected point (stage "unexpected"),
    # or when QEMU reset its Xen state more often than the boots do
    # (xen_resets in xen-guest-lib.sh).
    for try in 0 1 2; do
        t0=$SECONDS
        start=$(date +%s.%N)
        "$qemu" \
            -M pc -accel kvm,xen-version=0x4000a,kernel-irqchip=split \
            -smp 2 -m 512M -nodefaults -display none \
            -action panic=exit-failure \
            -msg timestamp=on -trace kvm_xen_soft_reset \
            -trace kvm_xen_set_vcpu_attr \
            -L /usr/share/qemu -L /usr/share/seabios \
            -serial "file:$out/$v.serial" \
            -chardev "file,id=hvc0,path=$out/$v.hvc" \
            -device xen-console,chardev=hvc0 \
            -kernel "$kernel" -initrd "$initrd" \
            -append "console=ttyS0 console=hvc0 loglevel=5 printk.devkmsg=on panic=-1 xen_legacy_crash no_timer_check $extra $cold_only" \
            > "$out/$v.qemu" 2>&1 &
        qpid=$!
        # Watch for the guest's words; stop QEMU when they dry up.
        words=0 heard=$SECONDS timed_out=
        while kill -0 "$qpid" 2> /dev/null; do
            sleep 2
            n=$(grep -c 'XSL-GUEST:' "$out/$v.serial" 2> /dev/null)
            [ "${n:-0}" = "$words" ] || { words=$n; heard=$SECONDS; }
            if [ $((SECONDS - heard)) -ge "$boot_timeout" ] ||
               [ $((SECONDS - t0)) -ge $((3 * boot_timeout)) ]; then
                timed_out=1
                kill -TERM "$qpid"
                for _ in $(seq 15); do
                    sleep 2
                    kill -0 "$qpid" 2> /dev/null || break
                done
                kill -KILL "$qpid" 2> /dev/null
                break
            fi
        done
        wait "$qpid"
        rc=$?
        end=$(date +%s.%N)
        [ -z "$timed_out" ] || rc=124
        echo "xen-guest-run: $v: QEMU exit status $rc after $((SECONDS - t0)) s"
        resets=$(grep -c 'kvm_xen_soft_reset' "$out/$v.qemu")
        last=$(tr -d '\r' 2> /dev/null < "$out/$v.serial" |
               grep 'XSL-GUEST: stage [a-z]*: ' | tail -n 1)
        silent=
        if [ "$rc" = 124 ]; then
            case "$last" in
            ''|*': kexec into the second kernel'|*': reboot through the firmware')
                silent="stopped making progress without a word" ;;
            *)
                silent="stopped making progress after \"${last#*XSL-GUEST: }\"" ;;
            esac
        elif grep -q 'XSL-GUEST: stage unexpected:' "$out/$v.serial"; then
            silent="came up at no expected point (reset without a word?)"
        elif [ "$resets" -gt "$want_resets" ]; then
            silent="was reset without a word (QEMU reset its Xen state $resets times, not $want_resets)"
        fi
        if [ "$try" = 2 ] || [ -z "$silent" ] ||
           { [ "$rc" != 0 ] && [ "$rc" != 124 ]; } ||
           grep -q 'XSL-GUEST: stage [a-z]*: FAIL' "$out/$v.serial" ||
           grep -q "$SANITIZER_REPORT" "$out/$v.qemu" ||
           grep -v 'XSL-GUEST:' "$out/$v.serial" | grep -q "$KERNEL_TROUBLE"; then
            break
        fi
        kind=reset
        [ "$rc" != 124 ] || kind=hang
        echo "xen-guest-run: $v: a boot $silent; running it again"
        for f in serial hvc qemu; do
            mv "$out/$v.$f" "$out/$v.$kind$try.$f"
        done
    done
    echo "$rc $((SECONDS - t0)) $start $end" > "$out/$v.rc"
done
exit 0
