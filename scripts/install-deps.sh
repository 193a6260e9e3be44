#!/bin/bash
# Install everything the harness needs from Debian's archive (run as root).
# Idempotent: re-running it on a machine that has everything is quick.
set -euo pipefail

: "${L1_KERNEL_PKG:=linux-image-6.12.117+deb13-amd64}"

want_apt_sources() {
    local f=/etc/apt/sources.list.d/xen-splitlock-harness.sources want
    # deb-src: sid for QEMU 10.2.2, trixie for 10.0.13 (harness/release-*.env)
    want=$(cat <<'EOS'
# Added by xen-splitlock harness (scripts/install-deps.sh).
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
)
    if [ "$(cat "$f" 2> /dev/null)" != "$want" ]; then
        printf '%s\n' "$want" > "$f"
        rm -f /var/lib/apt/periodic/harness-updated
    fi
    local p=/etc/apt/preferences.d/xen-splitlock-harness
    if [ ! -f "$p" ]; then
        cat > "$p" <<'EOS'
# Nothing upgrades from trixie or backports unless asked for by name.
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
EOS
    fi
}

want_apt_sources
if [ ! -e /var/lib/apt/periodic/harness-updated ]; then
    apt-get update -q
    mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/harness-updated
fi

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends \
    gcc libc6-dev ninja-build pkgconf libglib2.0-dev zlib1g-dev python3-venv \
    libattr1-dev libcap-ng-dev xz-utils ccache mold git git-email libmailtools-perl dpkg-dev xxd binutils busybox-static cpio file e2fsprogs \
    qemu-system-x86/bookworm-backports qemu-system-common/bookworm-backports \
    qemu-system-data/bookworm-backports seabios/bookworm-backports ipxe-qemu udev kmod \
    meson/bookworm-backports python3-pycotap/bookworm-backports \
    "$L1_KERNEL_PKG"/trixie virtme-ng/trixie
# build-i386 (scripts/build-i386.sh): the cross compiler for a 32-bit x86
# host, bookworm's, amd64 packages only. Its i386 glib and zlib go into a
# sysroot of that script's own, not into dpkg (no foreign architecture).
apt-get install -y -q --no-install-recommends gcc-i686-linux-gnu libc6-dev-i386-cross
