/*
 * xsl-stage: the xen-guest suite's helper inside the guest (built static by
 * scripts/xen-guest.sh, /bin/xsl-stage in the initramfs). Debian's kexec
 * links libxenctrl and hwclock cannot reach spare CMOS bytes, so the two
 * things /init needs besides busybox are here:
 *
 *   xsl-stage marker        print the stage marker (0 on a fresh QEMU)
 *   xsl-stage marker N      set it to N (0-255) and read it back
 *   xsl-stage kexec KERNEL INITRD CMDLINE
 *                           load KERNEL with INITRD and CMDLINE by
 *                           kexec_file_load(2) and reboot into it
 *
 * The marker is byte 0x7e of the RTC's CMOS RAM: QEMU's mc146818 keeps its
 * CMOS RAM across a system reset (it clears only the shutdown status byte
 * 0x0f and interrupt bits), and neither QEMU's pc_cmos_init() nor SeaBIOS
 * uses 0x7e, so the value survives the firmware reboot the suite's third
 * stage goes through, and nothing else writes it. Ports 0x70/0x71 are
 * reached through /dev/port: with ioperm(), outb faulted (#GP) in the
 * nested guest, where L1's KVM runs under TCG.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71
#define MARKER_INDEX 0x7e

static int usage(void)
{
    fprintf(stderr, "usage: xsl-stage marker [N] | "
                    "xsl-stage kexec KERNEL INITRD CMDLINE\n");
    return 2;
}

static int port_fd = -1;

static int port_io(int write, unsigned port, unsigned char *val)
{
    ssize_t n = write ? pwrite(port_fd, val, 1, port)
                      : pread(port_fd, val, 1, port);

    if (n != 1) {
        fprintf(stderr, "xsl-stage: /dev/port 0x%x: %s\n", port,
                n < 0 ? strerror(errno) : "short");
        return -1;
    }
    return 0;
}

static int cmos_read(unsigned char *val)
{
    unsigned char index = MARKER_INDEX;

    return port_io(1, CMOS_INDEX_PORT, &index) ||
           port_io(0, CMOS_DATA_PORT, val) ? -1 : 0;
}

static int marker(int argc, char **argv)
{
    unsigned long n = 0;
    unsigned char index = MARKER_INDEX, val;
    char *end;
    int i;

    if (argc > 3) {
        return usage();
    }
    if (argc == 3) {
        n = strtoul(argv[2], &end, 0);
        if (!*argv[2] || *end || n > 255) {
            return usage();
        }
    }
    port_fd = open("/dev/port", O_RDWR | O_CLOEXEC);
    if (port_fd < 0) {
        perror("xsl-stage: /dev/port");
        return 1;
    }
    if (argc == 2) {
        if (cmos_read(&val)) {
            return 1;
        }
        printf("%u\n", val);
        return 0;
    }
    /*
     * The kernel's own CMOS accesses (under its rtc_lock) could come
     * between writing the index and the data: check, and try again.
     */
    for (i = 0; i < 5; i++) {
        val = n;
        if (port_io(1, CMOS_INDEX_PORT, &index) ||
            port_io(1, CMOS_DATA_PORT, &val) || cmos_read(&val)) {
            return 1;
        }
        if (val == n) {
            return 0;
        }
    }
    fprintf(stderr, "xsl-stage: CMOS byte 0x%x does not keep %lu\n",
            MARKER_INDEX, n);
    return 1;
}

static int kexec(int argc, char **argv)
{
    int kfd, ifd;
    const char *cmdline;

    if (argc != 5) {
        return usage();
    }
    cmdline = argv[4];
    kfd = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (kfd < 0) {
        fprintf(stderr, "xsl-stage: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    ifd = open(argv[3], O_RDONLY | O_CLOEXEC);
    if (ifd < 0) {
        fprintf(stderr, "xsl-stage: %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    /* The command line length counts its terminating NUL. */
    if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1,
                cmdline, 0UL)) {
        perror("xsl-stage: kexec_file_load");
        return 1;
    }
    sync();
    syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
            LINUX_REBOOT_CMD_KEXEC, NULL);
    perror("xsl-stage: reboot(LINUX_REBOOT_CMD_KEXEC)");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "marker")) {
        return marker(argc, argv);
    }
    if (argc >= 2 && !strcmp(argv[1], "kexec")) {
        return kexec(argc, argv);
    }
    return usage();
}
