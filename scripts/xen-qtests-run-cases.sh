#!/bin/bash
# xen-qtests-run-cases.sh QEMU QTEST OUTDIR
#
# Runs where KVM has Xen support (inside L1, see xen-qtests.sh): each case
# listed in OUTDIR/cases on its own, with the skip for a missing Xen-capable
# KVM turned into a failure (QTEST_XEN_REQUIRED), sanitizer reports fatal and
# TAP output. Writes OUTDIR/<case>.log and a line "rc <case> <status>" to
# OUTDIR/rc for each.
set -u
qemu=$1 qtest=$2 out=$3
export QTEST_XEN_REQUIRED=1
. "$(dirname "${BASH_SOURCE[0]}")/sanitizers.sh"
export MALLOC_PERTURB_=$((RANDOM % 255 + 1))
# In L1 the host's files come over 9p without a page cache, so every QEMU
# start read the ~95 MB sanitizer binary again (~5 s per case, measured).
# Run copies in L1's RAM instead, under their own names (libqtest takes
# the target from the binary's name).
if [ -d /dev/shm ] && bin=$(mktemp -d /dev/shm/xsl-qtest.XXXXXX) &&
   cp "$qemu" "$qtest" "$bin/"; then
    qemu=$bin/$(basename "$qemu")
    qtest=$bin/$(basename "$qtest")
    trap 'rm -rf "$bin"' EXIT
fi
export QTEST_QEMU_BINARY=$qemu
# A case that has a status already ran in an earlier boot of L1 (l1-run
# boots L1 again if it dies): do not run it twice.
touch "$out/rc"
while read -r c; do
    grep -q "^rc $c " "$out/rc" && continue
    log=$out/$(echo "$c" | tr / _).log
    # The nested L2 guest is occasionally reset under us (KVM under TCG);
    # the test says "unexpected guest reset" then. Once in a while its
    # vCPU also stops running for minutes ("did not complete command":
    # once in ~90 case runs on 2026-11-25; the test then logs where the
    # vCPUs are). On a loaded machine a sanitizer QEMU may also take
    # longer than libqtest's 50 s to come up ("socket_accept failed").
    # Only those failures are run again, twice at most, and the retries
    # are reported: a case that stalls every time still fails.
    for try in 0 1 2; do
        t0=$(date +%s.%N)
        timeout -k 10 "${XEN_QTEST_TIMEOUT:-300}" "$qtest" --tap -p "$c" \
            > "$log" 2>&1
        rc=$?
        t1=$(date +%s.%N)
        again='unexpected guest reset\|socket_accept failed\|did not complete command'
        grep -q "$again" "$log" || break
        cp "$log" "$log.reset$try"
        echo "$c: $(grep -m1 -o "$again" "$log")," \
             "run again (kept $log.reset$try)"
    done
    echo "rc $c $rc" >> "$out/rc"
    printf '%-60s rc=%-3s %6.1f s\n' "$c" "$rc" "$(awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }")"
done < "$out/cases"
exit 0
