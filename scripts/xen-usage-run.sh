#!/bin/bash
# xen-usage-run.sh QEMU KERNEL INITRD ROOTIMG OUTDIR RUN...
#
# Inside L1 (see xen-usage.sh): the xen-usage runs on one QEMU, by
# harness/xen-usage/drive.py, from a copy of QEMU in L1's RAM (the host's
# files come over 9p without a page cache, and the lead may relink the
# build meanwhile). XSL_DETECT_LEAKS (scripts/sanitizers.sh) comes from
# the caller: 0 for pristine QEMU, which leaks at every reset.
set -u
qemu=$1
shift
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
if [ -d /dev/shm ] && bin=$(mktemp -d /dev/shm/xsl-usage-bin.XXXXXX) &&
   cp "$qemu" "$bin/"; then
    qemu=$bin/$(basename "$qemu")
    trap 'rm -rf "$bin"' EXIT
fi
/usr/bin/python3 "$TOP/harness/xen-usage/drive.py" "$qemu" "$@"
exit 0
