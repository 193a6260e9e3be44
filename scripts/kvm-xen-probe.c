/*
 * kvm-xen-probe: does this machine's KVM support QEMU's Xen emulation?
 *
 * Exits 0 and prints the KVM_CAP_XEN_HVM flags if /dev/kvm offers what
 * QEMU's Xen emulation needs (hypercall MSR, hypercall interception, shared
 * info) plus EVTCHN_SEND, which the tests use; otherwise prints the reason
 * and exits 1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static const struct {
    int flag;
    const char *name;
} needed[] = {
    { KVM_XEN_HVM_CONFIG_HYPERCALL_MSR, "HYPERCALL_MSR" },
    { KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, "INTERCEPT_HCALL" },
    { KVM_XEN_HVM_CONFIG_SHARED_INFO, "SHARED_INFO" },
    { KVM_XEN_HVM_CONFIG_EVTCHN_SEND, "EVTCHN_SEND" },
};

int main(void)
{
    int fd = open("/dev/kvm", O_RDWR);
    int caps, missing = 0;
    size_t i;

    if (fd < 0) {
        printf("no usable /dev/kvm: %s\n", strerror(errno));
        return 1;
    }
    caps = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
    close(fd);
    if (caps <= 0) {
        printf("KVM has no Xen support (KVM_CAP_XEN_HVM = %d)\n", caps);
        return 1;
    }
    for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (!(caps & needed[i].flag)) {
            printf("KVM Xen support lacks %s\n", needed[i].name);
            missing = 1;
        }
    }
    if (missing) {
        printf("KVM_CAP_XEN_HVM = 0x%x\n", caps);
        return 1;
    }
    printf("KVM_CAP_XEN_HVM = 0x%x\n", caps);
    return 0;
}
