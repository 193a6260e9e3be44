/*
 * xsl-xs: a xenstore client for the xen-usage guest (built static by
 * scripts/xen-usage.sh, /bin/xsl-xs in its initramfs and root image). It
 * speaks the xenstore wire protocol (xen/include/public/io/xs_wire.h: a
 * header of four 32-bit words, type, req_id, tx_id, len, then len bytes of
 * payload) over /dev/xen/xenbus, the kernel's xenbus frontend device, so
 * every request goes through QEMU's emulated xenstore and its event
 * channel:
 *
 *   xsl-xs read PATH         print the value
 *   xsl-xs write PATH VALUE  write it
 *   xsl-xs dir PATH          print the children, one a line
 *   xsl-xs rm PATH           remove it
 *
 * Exit status 0 on success; 1 with the xenstore error (e.g. ENOENT) on
 * stderr; 2 on a usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { XS_DIRECTORY = 1, XS_READ = 2, XS_WRITE = 11, XS_RM = 13,
       XS_ERROR = 16 };

struct xsd_sockmsg {
    uint32_t type, req_id, tx_id, len;
};

static int xfer(int fd, uint32_t type, const char *a, size_t alen,
                const char *b, size_t blen, char *reply, size_t *rlen)
{
    char buf[4096 + sizeof(struct xsd_sockmsg)];
    struct xsd_sockmsg h = { type, 0x5e1, 0, (uint32_t)(alen + blen) };
    size_t n = sizeof(h) + alen + blen, got = 0;
    ssize_t r;

    if (n > sizeof(buf)) {
        fprintf(stderr, "xsl-xs: request too long\n");
        return 2;
    }
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), a, alen);
    memcpy(buf + sizeof(h) + alen, b, blen);
    if (write(fd, buf, n) != (ssize_t)n) {
        perror("xsl-xs: write /dev/xen/xenbus");
        return 2;
    }
    while (got < sizeof(h)) {
        r = read(fd, (char *)&h + got, sizeof(h) - got);
        if (r <= 0) {
            perror("xsl-xs: read /dev/xen/xenbus");
            return 2;
        }
        got += r;
    }
    if (h.len > 4095) {
        fprintf(stderr, "xsl-xs: reply of %u bytes\n", h.len);
        return 2;
    }
    got = 0;
    while (got < h.len) {
        r = read(fd, reply + got, h.len - got);
        if (r <= 0) {
            perror("xsl-xs: read /dev/xen/xenbus");
            return 2;
        }
        got += r;
    }
    reply[got] = 0;
    *rlen = got;
    if (h.type == XS_ERROR) {
        fprintf(stderr, "xsl-xs: xenstore error %s\n", reply);
        return 1;
    }
    if (h.type != type) {
        fprintf(stderr, "xsl-xs: reply type %u to request %u\n", h.type, type);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char reply[4096];
    size_t rlen = 0, i;
    int fd, rc;

    if (argc < 3 || (!strcmp(argv[1], "write") && argc != 4)) {
        fprintf(stderr, "usage: xsl-xs read|dir|rm PATH | write PATH VALUE\n");
        return 2;
    }
    fd = open("/dev/xen/xenbus", O_RDWR);
    if (fd < 0) {
        perror("xsl-xs: /dev/xen/xenbus");
        return 2;
    }
    if (!strcmp(argv[1], "read")) {
        rc = xfer(fd, XS_READ, argv[2], strlen(argv[2]) + 1, "", 0, reply, &rlen);
        if (!rc) {
            printf("%.*s\n", (int)rlen, reply);
        }
    } else if (!strcmp(argv[1], "write")) {
        rc = xfer(fd, XS_WRITE, argv[2], strlen(argv[2]) + 1, argv[3],
                  strlen(argv[3]), reply, &rlen);
    } else if (!strcmp(argv[1], "rm")) {
        rc = xfer(fd, XS_RM, argv[2], strlen(argv[2]) + 1, "", 0, reply, &rlen);
    } else if (!strcmp(argv[1], "dir")) {
        rc = xfer(fd, XS_DIRECTORY, argv[2], strlen(argv[2]) + 1, "", 0,
                  reply, &rlen);
        for (i = 0; !rc && i < rlen; i += strlen(reply + i) + 1) {
            if (reply[i]) {
                printf("%s\n", reply + i);
            }
        }
    } else {
        fprintf(stderr, "xsl-xs: unknown command %s\n", argv[1]);
        rc = 2;
    }
    close(fd);
    return rc;
}
