# Sourced by the real-guest scripts: xen-guest.sh and xen-usage.sh (host),
# xen-guest-run.sh (inside L1).

# What in a guest's kernel log fails a boot (an extended regex). Linux 6.12
# panics when VCPUOP_register_vcpu_info fails; older kernels only warn.
KERNEL_TROUBLE_RE='Kernel panic|Oops|BUG:|WARNING:|register_vcpu_info failed'

# pack ROOT FILE: the initramfs of folder ROOT.
pack() {
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
        gzip -1 > "$2"
}

# xen_resets "STAGE...": how often QEMU resets its Xen state (trace
# kvm_xen_soft_reset) in a run of those stages: once at the start, once
# for the kexec's SHUTDOWN_soft_reset, and twice for the reboot (Linux
# resets the machine, then SeaBIOS, finding its shadowed copy already
# run, restores it and resets once more).
xen_resets() {
    local n=1 s
    for s in $1; do
        case "$s" in
        kexec) n=$((n + 1)) ;;
        reboot) n=$((n + 2)) ;;
        esac
    done
    echo $n
}
