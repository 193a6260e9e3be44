#!/bin/bash
# fetch-i386-guest.sh: the 32-bit real guest's kernel and busybox
# (harness/xen-guest/i386.env) into $XSL_CACHE/i386/{vmlinuz,busybox}.
# apt fetches them with a configuration of its own (i386 package lists in
# $XSL_CACHE/i386/apt, bookworm main only), so the machine's dpkg gets no
# foreign architecture and its apt lists stay as they are; each .deb is
# checked against its pinned sha256 before it is unpacked. Quick when
# both are there already.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TOP/harness/xen-guest/i386.env"
. "$TOP/scripts/i386-apt.sh"
CACHE=${XSL_CACHE:-$HOME/.cache/xsl}
dir=$CACHE/i386
die() { echo "fetch-i386-guest: $*" >&2; exit 1; }
want="$I386_KERNEL_SHA256 $I386_BUSYBOX_SHA256"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/busybox" ] &&
   [ "$(cat "$dir/pinned" 2> /dev/null)" = "$want" ]; then
    exit 0
fi
apt=$dir/apt
rm -rf "$apt" "$dir/vmlinuz" "$dir/busybox" "$dir/pinned"
mkdir -p "$dir/debs"
i386_apt "$apt" "http://deb.debian.org/debian $I386_SUITE main" ||
    die "apt-get update for i386 failed (see $apt/update.log)"
(cd "$dir/debs" &&
 apt-get "${I386_APT[@]}" -q download \
     "$I386_KERNEL_PKG=$I386_KERNEL_VERSION" \
     "$I386_BUSYBOX_PKG=$I386_BUSYBOX_VERSION" > "$apt/download.log" 2>&1) ||
    die "could not download $I386_KERNEL_PKG=$I386_KERNEL_VERSION and" \
        "$I386_BUSYBOX_PKG=$I386_BUSYBOX_VERSION (see $apt/download.log)"
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
for p in "$I386_KERNEL_PKG:$I386_KERNEL_SHA256" "$I386_BUSYBOX_PKG:$I386_BUSYBOX_SHA256"; do
    deb=$(ls "$dir/debs/${p%%:*}"_*_i386.deb)
    got=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$got" = "${p#*:}" ] || {
        rm -f "$deb"
        die "checksum mismatch for $(basename "$deb"): expected ${p#*:}, got $got (removed)"
    }
    dpkg-deb -x "$deb" "$x"
done
cp "$x/$I386_KERNEL" "$dir/vmlinuz"
cp "$x/bin/busybox" "$dir/busybox"
grep -q 'ELF 32-bit.*statically linked' <<< "$(file -L "$dir/busybox")" ||
    die "$I386_BUSYBOX_PKG did not give a static 32-bit busybox"
rm -rf "$dir/debs" "$apt"
echo "$want" > "$dir/pinned"
echo "fetch-i386-guest: $I386_KERNEL_PKG $I386_KERNEL_VERSION and static busybox in $dir"
