#!/bin/bash
# xen-usage.sh [RUN...]
#
# The differential real-usage suite: the same real-guest scenarios, same
# command lines, on the release's pristine QEMU (the must-fail build:
# pristine source + only the qtest patches, same device set) and on the
# patched QEMU, in one boot of L1, then compared scenario by scenario.
# Debian's own 6.12 kernel (the one L1 runs) boots as a Xen HVM guest
# from a busybox initramfs with the modules it needs (xen-blkfront,
# xen-netfront, ext4; from the host's /lib/modules, decompressed);
# harness/xen-usage/usage checks from the inside, and asks for QMP actions
# (disk and vCPU hotplug, save and restore) that harness/xen-usage/drive.py
# does on the host side in L1. A RUN is one QEMU command line (the list
# and what each checks: RUNS in drive.py): devices, hotplug, vapic, save;
# default all.
# The table has a line per scenario: its result on pristine and on
# patched QEMU, and the verdict: "same", "fixed by patch N (pinned)" (a
# failure on pristine that harness/xen-usage/pinned.txt pins for this
# release, with the text its reason must hold), or a failure: REGRESSION
# (fails on patched), "FAILS ON BOTH", "UNPINNED DIFFERENCE", "PIN STALE".
# A QEMU abort, sanitizer report, kernel panic or oops, a guest that went
# silent, or a scenario that did not run fails its scenario (and the run's
# "exit" line).
# Environment: XEN_USAGE_PATCHED_QEMU, XEN_USAGE_PRISTINE_QEMU (default:
# the release's builds, $WORK/qemu/build and $WORK/mustfail; e.g.
# /work/landed/R/qemu-system-x86_64 to see the suite fail),
# XEN_USAGE_TIMEOUT (s without a word from the guest, 120),
# XSL_L1_PHASE=prepare|judge (scripts/xen-l1.sh).
set -euo pipefail
phase=${XSL_L1_PHASE:-all}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/scripts/sanitizers.sh"
. "$TOP/scripts/release-env.sh"
. "$TOP/scripts/xen-guest-lib.sh"
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
runs=("$@")
all=(devices hotplug vapic save)
[ ${#runs[@]} -gt 0 ] || runs=("${all[@]}")
die() { echo "xen-usage: $*" >&2; exit 1; }
for r in "${runs[@]}"; do
    [[ " ${all[*]} " == *" $r "* ]] || die "unknown run $r (${all[*]})"
done

out=$WORK/results/xen-usage
kernel=${XEN_USAGE_KERNEL:-/boot/vmlinuz-6.12.117+deb13-amd64}
kver=$(basename "$kernel" | sed 's/^vmlinuz-//')
moddir=/lib/modules/$kver
busybox=/bin/busybox
patched=${XEN_USAGE_PATCHED_QEMU:-$WORK/qemu/build/qemu-system-x86_64}
pristine=${XEN_USAGE_PRISTINE_QEMU:-$WORK/mustfail/qemu-system-x86_64}
timeout_s=${XEN_USAGE_TIMEOUT:-120}

# Modules and what they need, in load order (modules.dep lists a module's
# dependencies, those first).
modules=(xen-blkfront xen-netfront crc32c_generic ext4)
mod_order() {
    local m path
    for m in "${modules[@]}"; do
        path=$(grep -m1 "/$m\.ko[.a-z]*:" "$moddir/modules.dep") ||
            die "module $m not in $moddir/modules.dep"
        path=${path%%:*}
        # shellcheck disable=SC2046
        printf '%s\n' $(sed -n "s|^${path}: *||p" "$moddir/modules.dep" | tr ' ' '\n' | tac) "$path"
    done | awk '!seen[$0]++'
}

if [ "$phase" != judge ]; then
    [ -r "$kernel" ] || die "guest kernel $kernel not found (run ./xsl deps)"
    [ -d "$moddir" ] || die "no modules for $kver in $moddir (linux-image-$kver)"
    command -v mke2fs > /dev/null || die "mke2fs missing (e2fsprogs: ./xsl deps)"
    [ -x /usr/bin/python3 ] || die "/usr/bin/python3 missing (./xsl deps)"
    grep -q 'statically linked' <<< "$(file -L "$busybox")" ||
        die "$busybox is not a static busybox (busybox-static: ./xsl deps)"
    [ -x "$patched" ] || die "missing patched QEMU $patched (run ./xsl build)"
    [ -x "$pristine" ] || [ -n "${XEN_USAGE_PRISTINE_QEMU:-}" ] ||
        "$TOP/xsl" build-mustfail >&2 ||
        die "cannot build the pristine QEMU (./xsl build-mustfail)"
    [ -x "$pristine" ] || die "missing pristine QEMU $pristine"
    rm -rf "$out"
    mkdir -p "$out/img"
    root=$out/img/initramfs
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
    cp "$busybox" "$root/bin/busybox"
    cp "$TOP/harness/xen-usage/init" "$root/init"
    cp "$TOP/harness/xen-usage/usage" "$root/usage"
    for f in init usage; do
        /bin/busybox sh -n "$root/$f" || die "syntax error in harness/xen-usage/$f"
    done
    chmod 755 "$root/init" "$root/usage"
    gcc -static -O2 -Wall -o "$root/bin/xsl-stage" "$TOP/harness/xen-guest/xsl-stage.c" ||
        die "cannot build the static xsl-stage (gcc, libc6-dev: ./xsl deps)"
    gcc -static -O2 -Wall -o "$root/bin/xsl-xs" "$TOP/harness/xen-usage/xsl-xs.c" ||
        die "cannot build the static xsl-xs"
    mods=$(mod_order) || exit 1
    : > "$root/modules.order"
    while read -r p; do
        n=$(basename "$p")
        case "$n" in
        *.xz) xz -dc "$moddir/$p" > "$root/modules/${n%.xz}"; n=${n%.xz} ;;
        *.zst) zstd -qdc "$moddir/$p" > "$root/modules/${n%.zst}"; n=${n%.zst} ;;
        *) cp "$moddir/$p" "$root/modules/$n" ;;
        esac
        echo "$n" >> "$root/modules.order"
    done <<< "$mods"
    # The root image on the first xen-disk: busybox with its applets'
    # links (it is mounted read-only), /usage, the helpers.
    rimg=$out/img/rootfs
    mkdir -p "$rimg"/{bin,proc,sys,dev,tmp}
    cp "$root/bin/"{busybox,xsl-stage,xsl-xs} "$rimg/bin/"
    for a in $("$busybox" --list); do
        [ -e "$rimg/bin/$a" ] || ln -s busybox "$rimg/bin/$a"
    done
    cp "$root/usage" "$rimg/usage"
    echo "xen-usage-root image, made $(date -u +%FT%TZ)" > "$rimg/XSL-USAGE-ROOT"
    mke2fs -q -F -t ext4 -O ^metadata_csum -L xsl-root -d "$rimg" \
        "$out/img/root.ext4" 32M > /dev/null || die "mke2fs -d failed"
    pack "$root" "$out/img/initrd.gz"
    rm -rf "$root" "$rimg"
    {
        echo "pristine $pristine $(stat -c '%s %y' "$pristine")"
        echo "patched $patched $(stat -c '%s %y' "$patched")"
    } > "$out/qemus"
    cmds=()
    for q in pristine patched; do
        mkdir -p "$out/$q"
        bin=$pristine leaks=0
        [ $q = pristine ] || bin=$patched leaks=1
        cmds+=("$(printf '%q ' env XSL_DETECT_LEAKS=$leaks \
            XEN_USAGE_TIMEOUT="$timeout_s" KERNEL_TROUBLE_RE="$KERNEL_TROUBLE_RE" \
            "$TOP/scripts/xen-usage-run.sh" "$bin" "$kernel" \
            "$out/img/initrd.gz" "$out/img/root.ext4" "$out/$q" "${runs[@]}")")
    done
    # A run stops after 4 x XEN_USAGE_TIMEOUT (drive.py); a retry is rare.
    l1_timeout=$((2 * ${#runs[@]} * (4 * timeout_s + 60) + 300))
    L1_QEMU=${L1_QEMU:-project} L1_RETRIES=${L1_RETRIES:-2} "$TOP/scripts/l1-run" \
        --timeout "$l1_timeout" --rwdir "$out" \
        -- bash -c "$(printf '%s; ' "${cmds[@]}")" | tee -a "$out/l1.log"
    [ "$phase" != prepare ] || exit 0
fi

KERNEL_TROUBLE_RE=$KERNEL_TROUBLE_RE /usr/bin/python3 "$TOP/harness/xen-usage/judge.py" \
    "$out" "$QEMU_VERSION" "$TOP/harness/xen-usage/pinned.txt" "${runs[@]}"
