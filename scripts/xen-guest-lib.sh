# Sourced by xen-guest.sh (host) and xen-guest-run.sh (inside L1).
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
