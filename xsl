#!/bin/bash
# xsl: the harness driver for the QEMU Xen split-lock series.
#
# Usage: ./xsl [--release R] [--series tcg-svm] COMMAND [ARG...]
#
# Commands (the same list is in README.md; scripts/bad-input.sh checks it):
#   setup                 deps; every release: import, build, check-export; the outer QEMU
#   test [MESON-ARG...]   every check and test of every release (meson test; what CI runs)
#   deps                  install Debian's packages (scripts/install-deps.sh; root or sudo)
#   fetch                 download Debian's QEMU source package, check its sha256 sums
#   import [--force]      make the work tree and its series branch from patches/
#   export                write the series branch (base..series) to patches/
#   status                the series branch's commits; does patches/ match them?
#   build                 build the work tree's QEMU (incremental, ccache)
#   check-patches         QEMU's scripts/checkpatch.pl on every patch (test checkpatch)
#   check-export          exporting the work tree gives patches/ back (export-roundtrip)
#   check-prefixes        every prefix of the series applies and builds (prefixes-build)
#   build-mustfail        pristine QEMU + only the tests/qtest: patches (work/mustfail)
#   build-i386            the objects the series touches, cross-compiled for a 32-bit x86 host (build-i386)
#   unit                  QEMU's unit test of the vcpu_info helpers (test unit)
#   make-check [--pristine]  QEMU's own unit tests and qtests (test make-check)
#   xen-qtests [MODE...]  the Xen qtests in a boot of L1; MODE: patched (default), mustfail
#   xen-guest [RUN...]    the real guests in a boot of L1; RUN: FLAVOUR/CALLBACK[/pristine]
#   xen-usage [RUN...]    real-guest usage, pristine vs patched QEMU, in a boot of L1; RUN: devices hotplug vapic save
#   xen-l1                both qtest modes, the real guests and xen-usage in one boot of L1 (xen-in-l1)
#   l1-negative           L1 without kvm_amd, and an L1 that panics: the runner must fail and say why
#   tcg-svm-guest [MODE...]  test of patches/tcg-svm; MODE: fixed, mustfail (default both)
#   outgoing [-v N] DIR   the series under your git identity, for git send-email (-v: vN)
#   bench [OUTPUT]        the split-lock benchmark (bench/run.sh)
#   setup-release         setup's part for one release: fetch, import or keep its work tree
#   help                  this text (also ./xsl alone, -h, --help)
#
# Every command but setup and test acts on one release (harness/releases):
# the series' own (the first) unless "./xsl --release R COMMAND" or
# XSL_RELEASE=R says otherwise. setup and test cover every release.
# "./xsl --series tcg-svm COMMAND" (import, export, check-export,
# check-patches, status, build) acts on the fixes for the outer TCG QEMU
# in patches/tcg-svm (worktree work/outer) instead of the Xen series.
#
# Environment:
#   XSL_CACHE   downloads and ccache (default ~/.cache/xsl, outside the repo)
#   XSL_WORK    QEMU work trees and builds (default ./work; a release other
#               than the first in ./work/R)
#   XSL_SYNC_WORK=1  setup imports a work tree again from patches/ where
#               the two differ, dropping its commits (CI: its work trees
#               stay in the cache between runs, see .ci/run); without it,
#               setup keeps such a tree and says so
#   XSL_RELEASE the release (default: the first in harness/releases)
#   QEMU_SRC    use this QEMU source tree instead of Debian's tarball; it
#               must be the release's (harness/release-R.env)
#   L1_*        how scripts/l1-run boots L1 (L1_QEMU, L1_TCG_THREAD,
#               L1_RETRIES, L1_SILENCE, ...: see the head of scripts/l1-run)
#   BENCH_SCALE scale the benchmark's samples and durations (0.01: a smoke
#               run of about a second)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "xsl: error: $*" >&2; exit 1; }
note() { echo "xsl: $*" >&2; }
while [ "${1:-}" = --release ] || [ "${1:-}" = --series ]; do
    [ $# -ge 2 ] || die "$1 needs an argument"
    if [ "$1" = --release ]; then
        export XSL_RELEASE=$2
    else
        export XSL_SERIES=$2
    fi
    shift 2
done
# shellcheck source=scripts/release-env.sh
. "$TOP/scripts/release-env.sh"
[ -z "$release_env_error" ] || die "$release_env_error"
export XSL_RELEASE=$RELEASE
CACHE=${XSL_CACHE:-$HOME/.cache/xsl}
if [ "$RELEASE" = "$MAIN_RELEASE" ]; then
    WORK=${XSL_WORK:-$TOP/work}
else
    WORK=${XSL_WORK:-$TOP/work}/$RELEASE
fi
# The scripts xsl runs work in this release's folder.
export XSL_RELEASE_WORK=$WORK
TREE=$WORK/qemu
CHECK=$WORK/check
MESON_BUILD=$TOP/build
PATCHES=${XSL_PATCHES:-$TOP/$PATCH_DIR}

export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=$WORK
# Share objects between the work tree and the check tree (and fresh clones):
# debug info then names whichever tree compiled an object first.
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# One identity and a fixed date for the commits the harness makes itself, so
# that the same input gives the same commit ids on every machine.
HARNESS_GIT=(-c user.name="xsl harness" -c user.email=xsl@localhost
             -c commit.gpgsign=false -c core.autocrlf=false)
FIXED_DATE="2000-01-01T00:00:00+0000"
# The work tree's own identity: patches/ is authored and signed off by this
# placeholder, which ./xsl outgoing replaces by the sender's.
PLACEHOLDER_NAME="QEMU Xen Split-lock Team"
PLACEHOLDER_EMAIL=xen-splitlock@example.org

# The smallest x86_64 QEMU with KVM, Xen emulation and qtest, with
# AddressSanitizer (and LeakSanitizer) and UBSan, every report fatal, so
# that any report fails the test that triggered it. The work tree, the
# check tree (prefixes, must-fail on pristine) and make-check's pristine
# tree all build with these, so that their objects come from one ccache.
# The runs on pristine QEMU (must-fail, the pristine real guest) leave
# leak checking out (XSL_DETECT_LEAKS=0, scripts/sanitizers.sh): pristine
# QEMU leaks at every reset of a Xen guest (the bugs patches 2 and 5 fix),
# which would fail the cases that reset for a reason other than the one
# each exists for.
# They link with mold (Debian's), which takes half the time of ld.bfd for
# an ASan binary (2.3 s instead of 4.6 s for qemu-system-x86_64 here): a
# test run links each binary again after every prefix of the series.
QEMU_CONFIGURE_ARGS=(
    --python=/usr/bin/python3 --cc="ccache gcc"
    --target-list=x86_64-softmmu
    --without-default-features --without-default-devices
    --with-devices-x86_64=xen-emu-min
    --enable-kvm --disable-tcg --disable-fdt --disable-download
    --disable-install-blobs --disable-docs
    --enable-ubsan --extra-cflags=-fno-sanitize-recover=undefined
    --enable-asan --extra-ldflags=-fuse-ld=mold
)
# Binaries the harness needs; those that do not exist at a given point of
# the series (e.g. before the tests are added) are skipped.
NINJA_TARGETS=(
    qemu-system-x86_64
    tests/qtest/xen-evtchn-test
    tests/unit/test-xen-vcpu-info
)
XEN_QTEST=tests/qtest/xen-evtchn-test

# Which series (XSL_SERIES or --series): "xen", the Xen series of this
# release (patches/, or the release's backport), or "tcg-svm", the fixes
# for the TCG QEMU that runs L1 (patches/tcg-svm, against the main release,
# worktree work/outer, branch tcg-svm). import, export, check-export,
# check-patches, status and build act on either.
SERIES=${XSL_SERIES:-xen}
BRANCH=series
case "$SERIES" in
xen) ;;
tcg-svm)
    [ "$RELEASE" = "$MAIN_RELEASE" ] ||
        die "the tcg-svm series is against QEMU $MAIN_RELEASE, not $RELEASE"
    TREE=$WORK/outer
    BRANCH=tcg-svm
    PATCH_DIR=patches/tcg-svm
    PATCHES=${XSL_PATCHES:-$TOP/$PATCH_DIR}
    # The outer QEMU: TCG with the devices virtme-ng's L1 uses
    # (harness/outer-min.mak) and the features virtfs needs, without
    # sanitizers: a tool here, so a new compiler warning must not stop it.
    # Without debug information (-g0: symbols stay, so a backtrace still
    # names functions): -g cost 18-27% of the compile time of the files
    # measured (target/i386/tcg/translate.c: 7.2 s with -g, 5.5 s without),
    # and the cold build of its ~1080 objects took 7.4 min in CI instead of
    # 8.7, with no effect on the code TCG runs.
    QEMU_CONFIGURE_ARGS=(
        --python=/usr/bin/python3 --cc="ccache gcc"
        --target-list=x86_64-softmmu
        --without-default-features --without-default-devices
        --with-devices-x86_64=outer-min
        --enable-tcg --disable-kvm --enable-virtfs --enable-attr
        --disable-docs --disable-download --disable-debug-info
        --disable-install-blobs --disable-werror
    )
    NINJA_TARGETS=(qemu-system-x86_64)
    ;;
*) die "unknown series '$SERIES' (xen or tcg-svm)" ;;
esac


gt() { git -C "$TREE" "$@"; }

series_patches() {
    [ -f "$PATCHES/series" ] || die "missing $PATCHES/series"
    grep -v '^[[:space:]]*\(#\|$\)' "$PATCHES/series" || true
}

# --- pristine source -------------------------------------------------------

cmd_deps() {
    if [ "$(id -u)" = 0 ]; then
        "$TOP/scripts/install-deps.sh"
    else
        sudo "$TOP/scripts/install-deps.sh"
    fi
}

verify_sha256() { # FILE EXPECTED
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then
        mv -f "$1" "$1.bad"
        die "checksum mismatch for $(basename "$1"): expected $2, got $got" \
            "(moved aside to $1.bad; run again to download it anew)"
    fi
}

# Debian's source package is fetched even with QEMU_SRC: its two
# build-environment patches form the base layer (harmless on a git tree).
cmd_fetch() {
    local dl=$CACHE/dl
    mkdir -p "$dl"
    if [ ! -f "$dl/$ORIG_TARBALL" ] || [ ! -f "$dl/$DEBIAN_TARBALL" ]; then
        note "downloading Debian source package qemu=$DEB_SRC_VERSION"
        (cd "$dl" && apt-get source --download-only "qemu=$DEB_SRC_VERSION" \
            > "$dl/apt-get-source.log" 2>&1) ||
            die "could not download qemu=$DEB_SRC_VERSION from Debian's" \
                "archive (see $dl/apt-get-source.log; is the $DEB_SRC_SUITE" \
                "deb-src entry of scripts/install-deps.sh in place?)"
    fi
    verify_sha256 "$dl/$ORIG_TARBALL" "$ORIG_SHA256"
    verify_sha256 "$dl/$DEBIAN_TARBALL" "$DEBIAN_SHA256"
}

# Unpack the pristine source into DIR (which must not exist).
unpack_pristine() {
    local dir=$1 dl=$CACHE/dl
    mkdir -p "$dir"
    if [ -n "${QEMU_SRC:-}" ]; then
        [ -f "$QEMU_SRC/VERSION" ] ||
            die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no VERSION)"
        local v
        v=$(cat "$QEMU_SRC/VERSION")
        [ "$v" = "$QEMU_VERSION" ] ||
            die "QEMU_SRC=$QEMU_SRC is QEMU $v, but the series is pinned to" \
                "$QEMU_VERSION (harness/release-$RELEASE.env)"
        tar -C "$QEMU_SRC" --exclude=./.git --exclude=./build -cf - . |
            tar -C "$dir" -xf -
    else
        tar -C "$dir" --strip-components=1 -xJf "$dl/$ORIG_TARBALL"
        [ "$(cat "$dir/VERSION")" = "$QEMU_VERSION" ] ||
            die "$ORIG_TARBALL does not hold QEMU $QEMU_VERSION"
    fi
}

# The base layer: what the build environment needs on top of the pristine
# release and what is never part of the series.
apply_base_layer() {
    local dir=$1 dl=$CACHE/dl deb p
    deb=$(mktemp -d)
    tar -C "$deb" -xJf "$dl/$DEBIAN_TARBALL"
    for p in $DEBIAN_BASE_PATCHES; do
        patch -d "$dir" -p1 --quiet --no-backup-if-mismatch \
            < "$deb/debian/patches/$p" || die "Debian patch $p does not apply"
    done
    rm -rf "$deb"
    cp "$TOP/harness/xen-emu-min.mak" "$TOP/harness/outer-min.mak" \
        "$dir/configs/devices/x86_64-softmmu/"
}

create_tree() {
    local tmp=$WORK/qemu.new
    rm -rf "$tmp"
    note "creating QEMU $QEMU_VERSION work tree in $TREE"
    unpack_pristine "$tmp"
    (
        cd "$tmp"
        export GIT_AUTHOR_DATE=$FIXED_DATE GIT_COMMITTER_DATE=$FIXED_DATE
        git init -q -b pristine-branch .
        git "${HARNESS_GIT[@]}" add -A -f .
        git "${HARNESS_GIT[@]}" commit -q -m "QEMU $QEMU_VERSION (pristine)"
        git tag pristine
    ) || die "could not make a git repository of the pristine source"
    apply_base_layer "$tmp"
    (
        cd "$tmp"
        export GIT_AUTHOR_DATE=$FIXED_DATE GIT_COMMITTER_DATE=$FIXED_DATE
        git "${HARNESS_GIT[@]}" add -A -f .
        git "${HARNESS_GIT[@]}" commit -q -m \
            "xsl base layer: Debian build fixes, harness device config" \
            -m "Not part of the series: $DEBIAN_BASE_PATCHES, xen-emu-min.mak, outer-min.mak"
        git tag base
        git checkout -q -b series base
        git branch -D -q pristine-branch
        git config user.name "$PLACEHOLDER_NAME"
        git config user.email "$PLACEHOLDER_EMAIL"
        git config format.coverLetter auto
    ) || die "could not commit the base layer"
    mv "$tmp" "$TREE"
}

# Exported form of base..series into DIR (cover letter, patches, series).
export_to() {
    local out=$1 desc n
    mkdir -p "$out"
    n=$(gt rev-list --count "base..$BRANCH")
    [ "$n" -gt 0 ] || { : > "$out/series"; return 0; }
    gt -c core.abbrev=12 format-patch -q --zero-commit --no-signature \
        --cover-letter --cover-from-description=subject \
        -o "$out" "base..$BRANCH"
    # The cover letter's Date: is "now"; pin it to the newest commit's date
    # so that exporting an unchanged series changes nothing.
    desc=$(gt log -1 --format=%aD "$BRANCH")
    sed -i "s/^Date: .*/Date: $desc/" "$out/0000-cover-letter.patch"
    (cd "$out" && ls -1 [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-') \
        > "$out/series"
}

# Cover letter text (subject line, blank line, body) from
# patches/0000-cover-letter.patch, for the branch description.
cover_description() {
    local f=$PATCHES/0000-cover-letter.patch
    [ -f "$f" ] || { printf '*** SUBJECT HERE ***\n\n*** BLURB HERE ***\n'; return; }
    awk '
        /^Subject: / && !subj { s = $0; sub(/^Subject: \[PATCH[^]]*\] ?/, "", s);
                                 subj = 1; next }
        subj && !inbody && /^ / { s = s $0; next }
        subj && !inbody && /^$/ { print s; print ""; inbody = 1; next }
        inbody && /^[^ ].* \([0-9]+\):$/ { exit }
        inbody { lines[++n] = $0 }
        END { while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }
    ' "$f"
}

# diff (with the given options) patches/ against an export of the work tree
diff_export() {
    local tmp rc=0
    tmp=$(mktemp -d)
    export_to "$tmp"
    # Another release's folder inside this one's (patches/stable-10.0 in
    # patches/) is not part of this series.
    local sub excl=()
    for sub in "$PATCHES"/*/; do
        [ -d "$sub" ] && excl+=(-x "$(basename "$sub")")
    done
    diff -r "$@" "${excl[@]}" "$PATCHES" "$tmp" || rc=1
    rm -rf "$tmp"
    return $rc
}

tree_matches_patches() {
    diff_export -q > /dev/null
}

cmd_import() {
    local force=${1:-}
    mkdir -p "$WORK"
    if [ -e "$TREE/.git" ]; then
        [ -z "$(gt status --porcelain --untracked-files=no)" ] ||
            die "$TREE has uncommitted changes; commit or stash them first"
        if [ "$force" != --force ] && gt rev-parse -q --verify "$BRANCH" >/dev/null &&
           ! tree_matches_patches; then
            die "$TREE has commits that patches/ lacks (or patches/ changed);" \
                "run './xsl export' to keep them, or './xsl import --force'" \
                "to rebuild the branch from patches/"
        fi
    elif [ "$SERIES" = tcg-svm ]; then
        # A worktree of the release's own repository, at its base.
        [ -e "$WORK/qemu/.git" ] || XSL_SERIES=xen "$TOP/xsl" import
        git -C "$WORK/qemu" worktree prune
        git -C "$WORK/qemu" worktree add -q --detach "$TREE" base
    else
        cmd_fetch
        create_tree
    fi
    gt checkout -q -B "$BRANCH" base
    local p
    for p in $(series_patches); do
        [ -f "$PATCHES/$p" ] || die "patches/series names $p, which is missing"
        if ! gt am -q --committer-date-is-author-date "$PATCHES/$p" \
                > "$WORK/am.log" 2>&1; then
            gt am --abort > /dev/null 2>&1 || true
            gt checkout -q -B "$BRANCH" base
            die "patch $p does not apply to QEMU $QEMU_VERSION" \
                "(details: $WORK/am.log; work tree reset to the base)"
        fi
    done
    gt config "branch.$BRANCH.description" "$(cover_description)"
    note "work tree $TREE: $BRANCH branch has $(gt rev-list --count "base..$BRANCH") patches"
}

cmd_export() {
    [ -e "$TREE/.git" ] || die "no work tree; run './xsl import' first"
    local tmp
    tmp=$(mktemp -d)
    export_to "$tmp"
    rm -f "$PATCHES"/[0-9][0-9][0-9][0-9]-*.patch
    mkdir -p "$PATCHES"
    cp "$tmp"/* "$PATCHES/"
    rm -rf "$tmp"
    note "exported $(series_patches | wc -l) patches to $PATCHES"
}

# The round trip is lossless: exporting the work tree gives patches/ back.
cmd_check_export() {
    [ -e "$TREE/.git" ] || cmd_import
    local rc=0
    diff_export -u || rc=1
    if [ $rc = 0 ]; then
        echo "ok: exporting the work tree reproduces $PATCH_DIR/ byte for byte ($RELEASE)"
    else
        echo "not ok: export differs from $PATCH_DIR/ ($RELEASE; run ./xsl export, or" \
             "./xsl import --force)"
    fi
    return $rc
}

cmd_status() {
    if [ -e "$TREE/.git" ]; then
        gt log --oneline "base..$BRANCH"
        if tree_matches_patches; then
            note "patches/ matches the work tree"
        else
            note "patches/ differs from the work tree: run './xsl export'"
        fi
    else
        note "no work tree yet"
    fi
}

# --- building --------------------------------------------------------------

# configure_and_build SRC_DIR CONFIGURE_ARG...: configure SRC_DIR/build
# once with those arguments, then ninja.
configure_and_build() {
    local src=$1 b=$1/build t targets=()
    shift
    # A build configured with other arguments is configured again.
    if [ -f "$b/build.ninja" ] &&
       [ "$(cat "$b/xsl-configure.args" 2>/dev/null)" != "$*" ]; then
        note "configure arguments changed: configuring $b again"
        rm -rf "$b"
    fi
    if [ ! -f "$b/build.ninja" ]; then
        mkdir -p "$b"
        (cd "$b" && ../configure "$@" > "$b/xsl-configure.log" 2>&1) ||
            die "configure failed in $src (see $b/xsl-configure.log)"
        echo "$*" > "$b/xsl-configure.args"
    fi
    local all
    # Regenerate build.ninja first if meson.build files changed (e.g. after
    # a checkout): the list of targets must be the current one.
    ninja -C "$b" build.ninja > "$b/xsl-ninja.log" 2>&1 ||
        die "meson regeneration failed in $src (see $b/xsl-ninja.log)"
    all=$(ninja -C "$b" -t targets all 2>/dev/null | cut -d: -f1)
    for t in "${NINJA_TARGETS[@]}"; do
        if grep -qx "$t" <<< "$all"; then
            targets+=("$t")
        fi
    done
    ninja -C "$b" "${targets[@]}" > "$b/xsl-ninja.log" 2>&1 || {
        grep -A20 -m3 'FAILED\|error:' "$b/xsl-ninja.log" >&2 || true
        die "build failed in $src (see $b/xsl-ninja.log)"
    }
}

cmd_build() {
    [ -e "$TREE/.git" ] || cmd_import
    if ! tree_matches_patches; then
        note "warning: the work tree differs from patches/ (export or import)"
    fi
    configure_and_build "$TREE" "${QEMU_CONFIGURE_ARGS[@]}"
    # The outer QEMU boots L1 from its build folder (l1-run: L1_QEMU=).
    [ "$SERIES" != tcg-svm ] || link_firmware "$TREE/build"
    note "built $TREE/build/qemu-system-x86_64"
}

# The check tree: a second worktree of the same repository, with a build of
# its own, so that checks never touch the developer's work tree.
check_tree_at_base() {
    worktree_at_base "$CHECK"
}

# worktree_at_base DIR: a worktree of the release's repository in DIR,
# clean, at base (pristine + base layer).
worktree_at_base() {
    local dir=$1
    [ -e "$TREE/.git" ] || cmd_import
    if [ ! -d "$dir" ]; then
        gt worktree add -q --detach "$dir" base
    fi
    git -C "$dir" am --abort > /dev/null 2>&1 || true
    git -C "$dir" checkout -q --detach base
    git -C "$dir" reset -q --hard base
}

# Every prefix of the series applies with git am (no fuzz) and builds.
cmd_check_prefixes() {
    check_tree_at_base
    local p i=0 n
    n=$(series_patches | wc -l)
    [ "$n" -gt 0 ] || die "patches/series is empty"
    for p in $(series_patches); do
        i=$((i + 1))
        git -C "$CHECK" am -q --committer-date-is-author-date "$PATCHES/$p" \
            > "$WORK/check-am.log" 2>&1 ||
            die "patch $i/$n ($p) does not apply on top of its prefix" \
                "(see $WORK/check-am.log)"
        local t0=$SECONDS
        configure_and_build "$CHECK" "${QEMU_CONFIGURE_ARGS[@]}"
        echo "ok $i/$n $p applies and builds ($((SECONDS - t0)) s)"
    done
}

cmd_check_patches() {
    [ -e "$TREE/.git" ] || cmd_import
    local p fail=0
    for p in $(series_patches); do
        # checkpatch.pl exits 0 on warnings: a warning fails too, except
        # "does MAINTAINERS need updating" for a new file, which the series'
        # files are covered by already (F: hw/i386/kvm/xen*, tests/qtest/xen*).
        if out=$("$TREE/scripts/checkpatch.pl" --no-color "$PATCHES/$p" 2>&1) &&
           ! grep -v 'added, moved or deleted file' <<< "$out" | grep -q '^WARNING'; then
            if grep -q '^WARNING' <<< "$out"; then
                echo "ok $p: no error; warning \"$(grep -A1 '^WARNING' <<< "$out" |
                    tr '\n' ' ' | sed 's/ *$//')\" (the existing F: entries cover the file)"
            else
                echo "ok $p: $(tail -n 1 <<< "$out")"
            fi
        else
            echo "$out"
            echo "not ok $p: checkpatch.pl reports problems"
            fail=1
        fi
    done
    return $fail
}

# Pristine QEMU plus only the patches that add qtests ("tests/qtest:" in the
# subject): the new tests must fail there.
cmd_build_mustfail() {
    check_tree_at_base
    local p subj applied=0
    for p in $(series_patches); do
        subj=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\?//p' "$PATCHES/$p" | head -n 1)
        case "$subj" in
        tests/qtest:*)
            git -C "$CHECK" am -q --committer-date-is-author-date \
                "$PATCHES/$p" > "$WORK/check-am.log" 2>&1 ||
                die "qtest patch $p does not apply to pristine QEMU" \
                    "(see $WORK/check-am.log)"
            applied=$((applied + 1))
            ;;
        esac
    done
    [ "$applied" -gt 0 ] || die "the series has no tests/qtest: patch"
    configure_and_build "$CHECK" "${QEMU_CONFIGURE_ARGS[@]}"
    local out=$WORK/mustfail
    rm -rf "$out"
    mkdir -p "$out/tests/qtest"
    cp "$CHECK/build/qemu-system-x86_64" "$out/"
    cp "$CHECK/build/$XEN_QTEST" "$out/tests/qtest/"
    note "pristine + $applied qtest patches built into $out"
}

# --- QEMU's own tests ("make check") ---------------------------------------

# Debian's firmware (seabios, ipxe-qemu, qemu-system-data) where a QEMU
# build looks for its data files, the build's qemu-bundle: the +ds tarball
# has none. What the build put there itself stays.
FIRMWARE_DIRS=(/usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu)
link_firmware() {
    local b=$1 data f d
    data=$(find "$b/qemu-bundle" -maxdepth 4 -type d -path '*/share/qemu' | head -n 1)
    [ -n "$data" ] || die "no share/qemu in $b/qemu-bundle (build incomplete?)"
    for d in "${FIRMWARE_DIRS[@]}"; do
        [ -d "$d" ] || die "firmware folder $d missing (run ./xsl deps)"
        for f in "$d"/*; do
            [ -f "$f" ] || continue
            [ -e "$data/${f##*/}" ] || [ -L "$data/${f##*/}" ] ||
                ln -s "$f" "$data/${f##*/}"
        done
    done
    [ -e "$data/bios-256k.bin" ] || die "no bios-256k.bin in ${FIRMWARE_DIRS[*]}"
}

# qemu_test_names BUILD [MESON-TEST-OPTION...]: the tests of BUILD, one
# name per line ("qtest-x86_64/qom-test", "test-char").
qemu_test_names() {
    local b=$1
    shift
    meson test -C "$b" --list --no-rebuild "$@" 2> /dev/null | sed 's/^.* \/ //'
}

# qemu_tests BUILD LOGBASE TEST...: meson test on those tests of BUILD (all
# built first), sanitizer reports fatal; prints the names of the tests that
# failed, one per line.
qemu_tests() {
    local b=$1 logbase=$2
    shift 2
    ninja -C "$b" > "$b/xsl-ninja-all.log" 2>&1 || {
        grep -A20 -m3 'FAILED\|error:' "$b/xsl-ninja-all.log" >&2 || true
        die "building QEMU's tests failed in $b (see $b/xsl-ninja-all.log)"
    }
    link_firmware "$b"
    # Many of the tests wait more than they compute (the RCU tests 4 s
    # each): twice as many at once as there are cores took 31 s instead of
    # ~45 s on 2 cores.
    # shellcheck source=scripts/sanitizers.sh
    (. "$TOP/scripts/sanitizers.sh"
     meson test -C "$b" --no-rebuild --num-processes $(($(nproc) * 2)) \
         --logbase "$logbase" "$@" > "$b/meson-logs/$logbase.out" 2>&1) || true
    [ -f "$b/meson-logs/$logbase.json" ] ||
        die "meson test wrote no results (see $b/meson-logs/$logbase.out)"
    python3 - "$b/meson-logs/$logbase.json" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
        print(r["name"].split(" / ", 1)[1])
EOF
}

# summarize_make_check TESTLOG.json WHAT: one line of counts, and the names
# of the tests that did not pass.
summarize_make_check() {
    python3 - "$1" "$2" "$QEMU_VERSION" <<'EOF'
import json, sys
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
count = {}
for r in res:
    count[r["result"]] = count.get(r["result"], 0) + 1
print(f"make-check: {sys.argv[2]} QEMU {sys.argv[3]}: {len(res)} tests: "
      + ", ".join(f"{v} {k}" for k, v in sorted(count.items())))
for r in res:
    if r["result"] != "OK":
        name = r["name"].split(" / ", 1)[1]
        why = ""
        if r["result"] == "SKIP" and name.endswith("xen-evtchn-test"):
            why = " (no Xen-capable KVM here; xen-in-l1 runs it in L1)"
        print(f"make-check: {sys.argv[2]}: {r['result']} {name}{why}")
EOF
}

# make-check [--pristine]: QEMU's own unit tests and x86_64 qtests, as
# docs/devel/submitting-a-patch.rst asks a submitter to run them, on the
# patched sanitizer build, minus those harness/make-check-skip.txt lists
# (with why). A test that fails there runs again on pristine QEMU built the
# same way (work/pristine): it fails the check unless it fails there too.
# --pristine runs every test on pristine as well and compares.
cmd_make_check() {
    local all_pristine=
    case "${1:-}" in
    '') ;;
    --pristine) all_pristine=1 ;;
    *) die "make-check: unknown argument $1 (usage: ./xsl make-check [--pristine])" ;;
    esac
    local b=$TREE/build tests=() todo=() all skip t failed n rc
    [ -f "$b/build.ninja" ] || cmd_build
    skip=$(grep -v '^[[:space:]]*\(#\|$\)' "$TOP/harness/make-check-skip.txt" |
           awk '{ print $1 }')
    all=$(qemu_test_names "$b" --suite unit --suite qtest)
    mapfile -t tests < <(grep -vxF -f <(printf '%s\n' $skip) <<< "$all")
    [ ${#tests[@]} -gt 50 ] ||
        die "make-check: meson test --list gave ${#tests[@]} tests (build incomplete?)"
    for t in $skip; do
        grep -qxF "$t" <<< "$all" ||
            note "make-check: $t (harness/make-check-skip.txt) is no test of QEMU $QEMU_VERSION"
    done
    failed=$(qemu_tests "$b" xsl-make-check "${tests[@]}")
    summarize_make_check "$b/meson-logs/xsl-make-check.json" patched
    # QEMU's own tests have flakes (test-iov once hung at exit after all
    # its cases passed, 1 of 4 runs on 2026-11-25): a test that failed
    # runs once more, alone, and counts as failed only if it fails again.
    if [ -n "$failed" ]; then
        local again
        mapfile -t todo <<< "$failed"
        again=$(qemu_tests "$b" xsl-make-check-again "${todo[@]}")
        for t in $failed; do
            grep -qxF "$t" <<< "$again" ||
                echo "make-check: $t failed, then passed when run again (flaky; see $b/meson-logs/xsl-make-check.txt)"
        done
        failed=$again
    fi
    rc=0
    todo=()
    if [ -n "$all_pristine" ]; then
        todo=("${tests[@]}")
    elif [ -n "$failed" ]; then
        mapfile -t todo <<< "$failed"
    fi
    if [ ${#todo[@]} -gt 0 ]; then
        # Pristine QEMU with the base layer, configured like the patched
        # build, in a worktree of its own.
        local pr=$WORK/pristine pfailed plist
        worktree_at_base "$pr"
        configure_and_build "$pr" "${QEMU_CONFIGURE_ARGS[@]}"
        # The series' own tests are not there.
        plist=$(qemu_test_names "$pr/build")
        mapfile -t todo < <(printf '%s\n' "${todo[@]}" | grep -xF -f <(echo "$plist"))
        pfailed=
        if [ ${#todo[@]} -gt 0 ]; then
            pfailed=$(qemu_tests "$pr/build" xsl-make-check "${todo[@]}")
            summarize_make_check "$pr/build/meson-logs/xsl-make-check.json" pristine
        fi
        for t in $failed; do
            if ! grep -qxF "$t" <<< "$plist"; then
                echo "not ok make-check: $t (added by the series) fails"
                rc=1
            elif grep -qxF "$t" <<< "$pfailed"; then
                echo "make-check: $t fails on pristine QEMU $QEMU_VERSION too"
            else
                echo "not ok make-check: $t fails with the series and passes on pristine QEMU $QEMU_VERSION"
                rc=1
            fi
        done
        for t in $pfailed; do
            grep -qxF "$t" <<< "$failed" ||
                echo "make-check: $t fails on pristine QEMU $QEMU_VERSION only"
        done
    fi
    for t in $skip; do
        echo "make-check: not run: $t ($(awk -v t="$t" \
            '$1 == t { $1 = ""; sub(/^ +/, ""); print }' \
            "$TOP/harness/make-check-skip.txt"))"
    done
    n=$(grep -c . <<< "$failed" || true)
    echo "make-check: logs in $b/meson-logs/xsl-make-check.txt"
    if [ "$rc" = 0 ]; then
        echo "ok make-check: QEMU $QEMU_VERSION + series: ${#tests[@]} tests," \
             "none fails that passes on pristine ($n failed on both)"
    fi
    return $rc
}

# setup-release: fetch and import this release's series, or with --series
# tcg-svm the outer QEMU's (setup runs it for each).
cmd_setup_release() {
    cmd_fetch
    if [ ! -e "$TREE/.git" ]; then
        cmd_import
    elif tree_matches_patches; then
        note "$TREE matches $PATCH_DIR/; keeping it and its build"
    elif [ -n "${XSL_SYNC_WORK:-}" ]; then
        # Only the files that differ are written again, so the build that
        # follows recompiles only those.
        note "$TREE differs from $PATCH_DIR/; importing it again (XSL_SYNC_WORK)"
        gt am --abort > /dev/null 2>&1 || true
        gt reset -q --hard
        cmd_import --force
    else
        note "$TREE differs from $PATCH_DIR/; keeping it" \
             "(./xsl export keeps its commits, ./xsl import --force drops them)"
    fi
}

cmd_setup() {
    local r
    cmd_deps
    # The 32-bit real guest of xen-in-l1 (Debian i386 packages, pinned).
    "$TOP/scripts/fetch-i386-guest.sh" ||
        die "cannot fetch the 32-bit guest's kernel and busybox (scripts/fetch-i386-guest.sh)"
    for r in "${RELEASES[@]}"; do
        XSL_RELEASE=$r "$TOP/xsl" setup-release
    done
    XSL_SERIES=tcg-svm "$TOP/xsl" setup-release
    if [ ! -f "$MESON_BUILD/build.ninja" ]; then
        meson setup "$MESON_BUILD" "$TOP" > /dev/null
    fi
    # Builds the patched QEMU of every release.
    meson compile -C "$MESON_BUILD"
    # Each release's patches/ folder is the series ready to send; make sure
    # it is exactly what the work tree exports (./xsl export after changing
    # the work tree).
    for r in "${RELEASES[@]}"; do
        XSL_RELEASE=$r "$TOP/xsl" check-export
    done
}

cmd_test() {
    [ -f "$MESON_BUILD/build.ninja" ] || die "run './xsl setup' first"
    local rc=0
    meson test -C "$MESON_BUILD" --print-errorlogs "$@" || rc=$?
    local j=$MESON_BUILD/meson-logs/testlog.json
    if [ -f "$j" ]; then
        python3 - "$j" <<'EOF'
import json, sys
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# Per release (test NAME@RELEASE), then the release-independent tests.
groups = {}
for r in res:
    name = r["name"]
    groups.setdefault(name.split("@")[1] if "@" in name else "", []).append(r)
for g in sorted(groups, key=lambda g: (g == "", g)):
    rs = groups[g]
    ok = sum(r["result"] in ("OK", "EXPECTEDFAIL") for r in rs)
    skip = sum(r["result"] == "SKIP" for r in rs)
    bad = [r["name"] for r in rs if r["result"] not in ("OK", "EXPECTEDFAIL", "SKIP")]
    what = f"QEMU {g}" if g else "release-independent"
    print(f"harness: {what}: {ok} passed, {len(bad)} failed, {skip} skipped"
          + (f" ({', '.join(bad)})" if bad else ""))
EOF
    fi
    # Timings depend on the host: name it. L1 deaths are never silent.
    echo "harness: host CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
    echo "harness: L1 deaths in xen-in-l1: $(cat "$WORK"/results/l1.log \
        "$WORK"/*/results/l1.log 2> /dev/null | grep -c '^l1-run: L1 died')"
    return $rc
}

# outgoing [--reroll-count N] DIR: the series of patches/ ready for
# git send-email, under the identity of the person who runs it.
cmd_outgoing() {
    local reroll= dir= name email tmp q p n cc f
    [ "$RELEASE" = "$MAIN_RELEASE" ] ||
        die "outgoing: $RELEASE is a stable backport; outgoing writes the series for upstream ($MAIN_RELEASE)"
    while [ $# -gt 0 ]; do
        case "$1" in
        --reroll-count|-v)
            [ $# -ge 2 ] || die "outgoing: $1 needs a number"
            reroll=$2
            shift 2
            ;;
        --reroll-count=*) reroll=${1#*=}; shift ;;
        -*) die "outgoing: unknown option $1 (usage: ./xsl outgoing [--reroll-count N] DIR)" ;;
        *)
            [ -z "$dir" ] || die "outgoing: one DIR only (usage: ./xsl outgoing [--reroll-count N] DIR)"
            dir=$1
            shift
            ;;
        esac
    done
    [ -n "$dir" ] || die "outgoing: no DIR (usage: ./xsl outgoing [--reroll-count N] DIR)"
    [ -z "$reroll" ] || [[ "$reroll" =~ ^[1-9][0-9]*$ ]] ||
        die "outgoing: --reroll-count wants a positive number, not '$reroll'"
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2> /dev/null)" ]; then
        die "outgoing: $dir exists and is not empty"
    fi
    # The sender: git's author identity from the environment, else the
    # global git configuration; never the work tree's placeholder.
    name=${GIT_AUTHOR_NAME:-$(git config --global --get user.name || true)}
    email=${GIT_AUTHOR_EMAIL:-$(git config --global --get user.email || true)}
    [ -n "$name" ] && [ -n "$email" ] ||
        die "outgoing: no sender identity; set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or git config --global user.name/user.email (a real person who can certify the DCO)"
    if [ "$name" = "$PLACEHOLDER_NAME" ] || [ "$email" = "$PLACEHOLDER_EMAIL" ]; then
        die "outgoing: the sender identity is the harness placeholder ($PLACEHOLDER_NAME <$PLACEHOLDER_EMAIL>); set your own"
    fi
    [[ "$email" == ?*@?*.?* ]] || die "outgoing: '$email' is not an e-mail address"
    [ -e "$TREE/.git" ] || cmd_import

    # Scratch clones in RAM where there is a tmpfs: checking out QEMU on
    # this machine's disk took ~17 s, on /dev/shm ~1 s.
    tmp=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d)
    OUTGOING_TMP=$tmp
    trap 'rm -rf "$OUTGOING_TMP"' EXIT
    q=$tmp/qemu
    export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
    export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email
    # patches/ applied to the base, then each commit authored and signed
    # off by the sender instead of the placeholder.
    git clone -q --shared --no-checkout "$TREE" "$q"
    git -C "$q" checkout -q -b outgoing base
    for p in $(series_patches); do
        git -C "$q" am -q "$PATCHES/$p" > "$tmp/am.log" 2>&1 ||
            die "outgoing: $p does not apply to the base (see ./xsl check-prefixes)"
    done
    git -C "$q" rebase -q base --exec \
        "git log -1 --format=%B | grep -vxF 'Signed-off-by: $PLACEHOLDER_NAME <$PLACEHOLDER_EMAIL>' | git commit -q --amend --reset-author -s -F -" \
        > "$tmp/rebase.log" 2>&1 ||
        die "outgoing: could not take over the commits (see $tmp/rebase.log)"
    git -C "$q" config branch.outgoing.description "$(cover_description)"
    # format-patch has no per-patch Cc: every patch gets To: qemu-devel,
    # and its own Cc: header from QEMU's scripts/get_maintainer.pl below;
    # the cover letter those of all patches. git send-email sends to both.
    git -C "$q" -c core.abbrev=12 format-patch -q --cover-letter \
        --cover-from-description=subject --to=qemu-devel@nongnu.org \
        ${reroll:+--reroll-count="$reroll"} -o "$tmp/out" base..outgoing
    local cover out_patches=()
    cover=$(ls "$tmp"/out/*0000-cover-letter.patch)
    mapfile -t out_patches < <(ls "$tmp"/out/*.patch | grep -vxF "$cover")
    : > "$tmp/all-cc"
    for f in "${out_patches[@]}"; do
        (cd "$q" && scripts/get_maintainer.pl --no-git-fallback --no-rolestats \
            --no-multiline "$f") > "$tmp/cc" 2> "$tmp/gm.log" ||
            die "outgoing: get_maintainer.pl failed on $(basename "$f") (see $tmp/gm.log)"
        cc=$(tr ',' '\n' < "$tmp/cc" | sed 's/^ *//' | grep -vF 'qemu-devel@nongnu.org' || true)
        if grep -qx 'Cc: qemu-stable@nongnu.org' "$f"; then
            cc=$(printf '%s\nqemu-stable@nongnu.org' "$cc")
        fi
        cc=$(grep -v '^$' <<< "$cc" | awk '!seen[$0]++')
        printf '%s\n' "$cc" >> "$tmp/all-cc"
        add_cc_header "$f" "$cc"
    done
    add_cc_header "$cover" "$(awk 'NF && !seen[$0]++' "$tmp/all-cc")"
    # What a maintainer does with it: git am onto pristine QEMU.
    git clone -q --shared --no-checkout "$TREE" "$tmp/am"
    git -C "$tmp/am" checkout -q --detach pristine
    for f in "${out_patches[@]}"; do
        git -C "$tmp/am" am -q "$f" > "$tmp/am.log" 2>&1 ||
            die "outgoing: $(basename "$f") does not apply to pristine QEMU $QEMU_VERSION with git am"
    done
    n=${#out_patches[@]}
    mkdir -p "$dir"
    mv "$tmp"/out/*.patch "$dir/"
    note "outgoing: $n patches and a cover letter in $dir, from $name <$email>;" \
         "they apply to pristine QEMU $QEMU_VERSION with git am"
    note "outgoing: check them, then: git send-email $dir/*.patch"
}

# add_cc_header PATCH "ADDR\nADDR...": a Cc: header after the To: header.
add_cc_header() {
    local f=$1 list
    list=$(grep -v '^$' <<< "$2" | paste -sd, - | sed 's/,/,\n    /g')
    [ -n "$list" ] || return 0
    awk -v cc="Cc: $list" '
        !done && /^To: / { print; inhdr = 1; next }
        inhdr && /^[ \t]/ { print; next }
        inhdr { print cc; inhdr = 0; done = 1 }
        { print }' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
}

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \?//'; exit "${1:-0}"; }

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ "$SERIES" != xen ]; then
    case "$cmd" in
    import|export|check-export|check-patches|status|build|setup-release|-h|--help|help|"") ;;
    *) die "'$cmd' is for the Xen series only, not --series $SERIES" ;;
    esac
fi
case "$cmd" in
setup|deps|fetch|import|export|status|build|test) "cmd_$cmd" "$@" ;;
setup-release) cmd_setup_release ;;
check-patches) cmd_check_patches ;;
check-export) cmd_check_export ;;
check-prefixes) cmd_check_prefixes ;;
make-check) cmd_make_check "$@" ;;
build-mustfail) cmd_build_mustfail ;;
outgoing) cmd_outgoing "$@" ;;
xen-qtests|xen-guest|xen-usage|xen-l1|l1-negative|unit|tcg-svm-guest)
    exec "$TOP/scripts/${cmd}.sh" "$@" ;;
build-i386) exec "$TOP/scripts/build-i386.sh" ;;
bench) exec "$TOP/bench/run.sh" "$@" ;;
-h|--help|help|"") usage 0 ;;
*) die "unknown command '$cmd' (./xsl help lists them)" ;;
esac
