#!/bin/bash
# build-i386.sh: the series compiles for a 32-bit x86 host. QEMU builds
# qemu-system-i386 with KVM and the Xen emulation there (hw/i386/Kconfig:
# XEN_EMU depends on KVM && I386), where include/qemu/atomic.h allows no
# atomic access wider than a pointer (4 bytes), which only a build for that
# host catches. QEMU's own configure cross-compiles the work tree with
# Debian's i686-linux-gnu-gcc (./xsl deps) in $XSL_RELEASE_WORK/build-i386,
# outside the source tree: i386-softmmu, KVM, no TCG, the harness's device
# set (configs/devices/x86_64-softmmu/xen-emu-min.mak of the base layer),
# ccache. Then ninja compiles only the objects of the files the series
# touches (every .c file of base..HEAD that this configuration builds) and
# of the Xen emulation files below; headers are compiled through them.
# Nothing links: the objects are what differs between 32 and 64 bits.
#
# The i386 glib and zlib (headers, libraries, .pc files) are Debian
# bookworm's, in a sysroot of their own ($XSL_CACHE/i386-sysroot): apt
# fetches them with a configuration of its own, as fetch-i386-guest.sh
# does, so the machine's dpkg gets no foreign architecture (installing
# libglib2.0-dev:i386 with multiarch needs libc6-dev:i386, which drags in
# i386 krb5, openssl and linux-libc-dev at the exact versions of the amd64
# ones, and so upgrades those on a machine that is behind the archive).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/release-env.sh
. "$TOP/scripts/release-env.sh"
. "$TOP/scripts/i386-apt.sh"
[ -z "$release_env_error" ] || { echo "build-i386: $release_env_error" >&2; exit 1; }
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
CACHE=${XSL_CACHE:-$HOME/.cache/xsl}
TREE=$WORK/qemu
B=$WORK/build-i386
SYSROOT=$CACHE/i386-sysroot
die() { echo "build-i386: error: $*" >&2; exit 1; }

# Compiled whether or not the series touches them: the Xen emulation code
# that the series' header (hw/i386/kvm/xen_vcpu_info.h) and fields reach.
XEN_FILES=(
    target/i386/kvm/xen-emu.c
    hw/i386/kvm/xen_evtchn.c
    hw/i386/kvm/xen_xenstore.c
    hw/i386/kvm/xen_primary_console.c
    hw/i386/kvm/xen_overlay.c
    hw/block/xen-block.c
)
# bookworm's i386 packages of the sysroot (apt's candidates, checked by
# apt against the archive's signed Release files).
SYSROOT_PKGS="libglib2.0-dev libglib2.0-0 libpcre2-dev libpcre2-8-0 zlib1g-dev zlib1g"

command -v i686-linux-gnu-gcc > /dev/null ||
    die "no i686-linux-gnu-gcc (run ./xsl deps)"
[ -e "$TREE/.git" ] || die "no work tree $TREE (run ./xsl import)"

make_sysroot() {
    [ "$(cat "$SYSROOT/pkgs" 2> /dev/null)" = "$SYSROOT_PKGS" ] && return 0
    local new=$SYSROOT.new apt deb
    rm -rf "$new"
    apt=$new/apt
    mkdir -p "$new/debs" "$new/root" "$new/bin"
    i386_apt "$apt" "http://deb.debian.org/debian bookworm main" \
        "http://deb.debian.org/debian-security bookworm-security main" ||
        die "apt-get update for the i386 sysroot failed (see $apt/update.log)"
    # shellcheck disable=SC2086
    (cd "$new/debs" && apt-get "${I386_APT[@]}" -q download $SYSROOT_PKGS) \
        > "$new/apt-download.log" 2>&1 ||
        die "could not download $SYSROOT_PKGS for i386 (see $new/apt-download.log)"
    for deb in "$new"/debs/*.deb; do
        dpkg-deb -x "$deb" "$new/root"
    done
    (cd "$new/debs" && ls) > "$new/debs.txt"
    rm -rf "$apt" "$new/debs"
    # pkg-config for the sysroot (configure calls ${cross_prefix}pkg-config,
    # and meson calls it again when it regenerates build.ninja).
    cat > "$new/bin/i686-linux-gnu-pkg-config" <<EOF
#!/bin/sh
export PKG_CONFIG_LIBDIR=$SYSROOT/root/usr/lib/i386-linux-gnu/pkgconfig:$SYSROOT/root/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$SYSROOT/root
unset PKG_CONFIG_PATH
exec pkg-config "\$@"
EOF
    chmod +x "$new/bin/i686-linux-gnu-pkg-config"
    echo "$SYSROOT_PKGS" > "$new/pkgs"
    rm -rf "$SYSROOT"
    mv "$new" "$SYSROOT"
    echo "build-i386: i386 sysroot in $SYSROOT: $(tr '\n' ' ' < "$SYSROOT/debs.txt")"
}

make_sysroot

lib=$SYSROOT/root/usr/lib/i386-linux-gnu:$SYSROOT/root/lib/i386-linux-gnu
CONFIGURE_ARGS=(
    --python=/usr/bin/python3
    --cross-prefix=i686-linux-gnu- --cc="ccache i686-linux-gnu-gcc"
    --target-list=i386-softmmu
    --without-default-features --without-default-devices
    --with-devices-i386=../x86_64-softmmu/xen-emu-min
    --enable-kvm --disable-tcg --disable-fdt --disable-download
    --disable-install-blobs --disable-docs
    --extra-ldflags="-Wl,-rpath-link,$lib"
)
export PKG_CONFIG=$SYSROOT/bin/i686-linux-gnu-pkg-config
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$WORK} CCACHE_NOHASHDIR=1

t0=$SECONDS
if [ -f "$B/build.ninja" ] &&
   [ "$(cat "$B/xsl-configure.args" 2> /dev/null)" != "${CONFIGURE_ARGS[*]}" ]; then
    echo "build-i386: configure arguments changed: configuring $B again"
    rm -rf "$B"
fi
if [ ! -f "$B/build.ninja" ]; then
    rm -rf "$B"
    mkdir -p "$B"
    (cd "$B" && nice "$TREE/configure" "${CONFIGURE_ARGS[@]}") \
        > "$WORK/build-i386-configure.log" 2>&1 || {
        tail -n 5 "$WORK/build-i386-configure.log" >&2
        die "configure for i386 failed (see $WORK/build-i386-configure.log)"
    }
    mv "$WORK/build-i386-configure.log" "$B/xsl-configure.log"
    echo "${CONFIGURE_ARGS[*]}" > "$B/xsl-configure.args"
fi
nice ninja -C "$B" build.ninja > "$B/xsl-ninja.log" 2>&1 ||
    die "meson regeneration failed in $B (see $B/xsl-ninja.log)"
grep -q '^CONFIG_XEN_EMU=y' "$B/i386-softmmu-config-devices.mak" ||
    die "the i386 configuration has no CONFIG_XEN_EMU (see $B/i386-softmmu-config-devices.mak)"

# The object targets of a source file: meson names them TARGET.p/PATH.o,
# PATH the file's path from the target's folder if the file is below it,
# else from the top, with / turned into _ (libsystem.a.p/hw_i386_kvm_xen_evtchn.c.o,
# tests/unit/test-xen-vcpu-info.p/test-xen-vcpu-info.c.o).
all_objs=$(ninja -C "$B" -t targets all 2> /dev/null | cut -d: -f1 | grep '\.o$')
objs_of() {
    local dir="" rest=$1
    while :; do
        awk -v d="$dir" -v o="${rest//\//_}.o" '
            { p = index($0, ".p/"); if (!p) next
              t = substr($0, 1, p - 1); n = split(t, a, "/")
              td = n > 1 ? substr(t, 1, length(t) - length(a[n]) - 1) : ""
              if (td == d && substr($0, p + 3) == o) print }' <<< "$all_objs"
        case "$rest" in */*) ;; *) break ;; esac
        dir=${dir:+$dir/}${rest%%/*}
        rest=${rest#*/}
    done
}

# shellcheck disable=SC2207
touched=($(git -C "$TREE" diff --name-only base HEAD -- '*.c'))
objs=() files=() skipped=()
for f in "${XEN_FILES[@]}"; do
    o=$(objs_of "$f")
    [ -n "$o" ] || die "the i386 configuration compiles no $f (see $B/build.ninja)"
    mapfile -t -O "${#objs[@]}" objs <<< "$o"
    files+=("$f")
done
for f in "${touched[@]}"; do
    printf '%s\n' "${files[@]}" | grep -qxF "$f" && continue
    o=$(objs_of "$f")
    if [ -z "$o" ]; then
        skipped+=("$f")
        continue
    fi
    mapfile -t -O "${#objs[@]}" objs <<< "$o"
    files+=("$f")
done
[ ${#skipped[@]} -eq 0 ] ||
    echo "build-i386: not compiled in this configuration: ${skipped[*]}"

if ! nice ninja -C "$B" -k 0 "${objs[@]}" > "$B/xsl-ninja.log" 2>&1; then
    failed=()
    for f in "${files[@]}"; do
        for o in $(objs_of "$f"); do
            if grep -qxF "FAILED: $o" <<< "$(sed 's/ *$//' "$B/xsl-ninja.log")"; then
                failed+=("$f")
                break
            fi
        done
    done
    echo "not ok build-i386: QEMU $QEMU_VERSION + series does not compile for a 32-bit x86 host (i686-linux-gnu-gcc, KVM, Xen emulation): ${failed[*]:-see $B/xsl-ninja.log}"
    # The compiler's errors, each with the function it is in and the
    # line of a .c file that leads to it (a macro's expansion).
    grep -E ': (fatal )?error:|: In function|^In function|^ +inlined from|\.c:[0-9]+:[0-9]+: note: in expansion of macro' \
        "$B/xsl-ninja.log" | sed 's|^\.\./qemu/||; s| \.\./qemu/| |g' | awk '!seen[$0]++'
    echo "build-i386: full log: $B/xsl-ninja.log"
    exit 1
fi
echo "ok build-i386: QEMU $QEMU_VERSION + series: ${#objs[@]} objects of ${#files[@]} files compile for a 32-bit x86 host (i686-linux-gnu-gcc, KVM, Xen emulation) ($((SECONDS - t0)) s)"
