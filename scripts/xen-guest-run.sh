#!/bin/bash
# xen-guest-run.sh QEMU KERNEL INITRD OUTDIR VARIANT...
#
# Runs where KVM has Xen support (inside L1, see xen-guest.sh): boots KERNEL
# with INITRD as a Xen HVM guest of QEMU once per VARIANT:
#   vector     Linux's default: the HVM callback vector
#   novector   xen_no_vector_callback: events come through the Xen platform
#              device's INTx, so QEMU sets the vcpu_info flags itself
# Writes OUTDIR/VARIANT.{serial,hvc,qemu} (serial console, Xen PV console,
# QEMU's own output) and OUTDIR/VARIANT.rc ("STATUS SECONDS").
set -u
: "${KERNEL_TROUBLE:?set by xen-guest.sh}"
qemu=$1 kernel=$2 initrd=$3 out=$4
shift 4
. "$(dirname "${BASH_SOURCE[0]}")/sanitizers.sh"
for v in "$@"; do
    # Already run in an earlier boot of L1 (l1-run boots it again if it dies).
    [ -f "$out/$v.rc" ] && continue
    case "$v" in
    vector) extra= ;;
    novector) extra=xen_no_vector_callback ;;
    *) echo "xen-guest-run: unknown variant $v" >&2; exit 2 ;;
    esac
    # The nested L2 guest has been seen, on pristine QEMU too, to stop
    # making progress or to vanish (QEMU exits as for a reset, the guest
    # says nothing) before it reached userspace (see README). Such a boot,
    # and only such, is kept as VARIANT.{hang,reset}0.* and run once more;
    # xen-guest.sh reports it. A boot that says anything (its /init, a
    # kernel panic or oops, a sanitizer report) or where QEMU fails is never
    # run again.
    for try in 0 1; do
        t0=$SECONDS
        # panic=-1 with -no-reboot: a guest panic ends QEMU at once.
        timeout -k 30 "${XEN_GUEST_TIMEOUT:-300}" "$qemu" \
            -M pc -accel kvm,xen-version=0x4000a,kernel-irqchip=split \
            -smp 2 -m 512M -nodefaults -display none -no-reboot \
            -L /usr/share/qemu -L /usr/share/seabios \
            -serial "file:$out/$v.serial" \
            -chardev "file,id=hvc0,path=$out/$v.hvc" \
            -device xen-console,chardev=hvc0 \
            -kernel "$kernel" -initrd "$initrd" \
            -append "console=ttyS0 console=hvc0 loglevel=5 panic=-1 $extra" \
            > "$out/$v.qemu" 2>&1
        rc=$?
        echo "xen-guest-run: $v: QEMU exit status $rc after $((SECONDS - t0)) s"
        if [ "$try" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 124 ]; } ||
           grep -q 'XSL-GUEST:' "$out/$v.hvc" ||
           grep -q "$SANITIZER_REPORT" "$out/$v.qemu" ||
           grep -q "$KERNEL_TROUBLE" "$out/$v.serial"; then
            break
        fi
        if [ "$rc" = 124 ]; then
            kind=hang what="stopped making progress"
        else
            kind=reset what="was reset"
        fi
        echo "xen-guest-run: $v: the guest $what without a word;" \
             "booting it again"
        for f in serial hvc qemu; do
            mv "$out/$v.$f" "$out/$v.$kind$try.$f"
        done
    done
    echo "$rc $((SECONDS - t0))" > "$out/$v.rc"
done
exit 0
