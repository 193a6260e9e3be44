#!/bin/bash
# bad-input.sh: each kind of bad input stops ./xsl with one clear error
# line, and leaves no half-applied work tree behind. Runs in scratch
# folders (its own XSL_WORK, XSL_CACHE, XSL_PATCHES). First it checks that
# ./xsl help and README.md list the same commands.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XSL_RELEASE= . "$TOP/scripts/release-env.sh"
# Scratch trees in RAM where there is a tmpfs (QEMU unpacks: seconds, not tens).
scratch=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
real_dl=${XSL_CACHE:-$HOME/.cache/xsl}/dl
fail=0

# expect NAME PATTERN CMD...: CMD must fail and say PATTERN on stderr
expect() {
    local name=$1 pattern=$2 out
    shift 2
    if out=$("$@" 2>&1 >/dev/null); then
        echo "not ok $name: succeeded"
        fail=1
    elif grep -q "$pattern" <<< "$out"; then
        echo "ok $name: $(grep "xsl: error" <<< "$out" | tail -n 1)"
    else
        echo "not ok $name: no error line matching '$pattern':"
        echo "$out" | tail -n 5
        fail=1
    fi
}

# The command list: ./xsl help, ./xsl alone and the block after
# "<!-- xsl help -->" in README.md give the same lines, and they name every
# command that xsl's dispatch (its last "case $cmd") knows. An unknown
# command is one error line.
help_cmds() { sed -n '/^Commands/,/^$/p' | grep '^  '; }
help=$("$TOP/xsl" help | help_cmds)
readme=$(awk '/^<!-- xsl help -->/ { on = 1; next }
              on && /^```/ { if (blk) exit; blk = 1; next }
              blk' "$TOP/README.md")
known=$(awk '/^case "\$cmd" in/ { on = 1; list = ""; next } on && /^esac/ { on = 0 }
             on && /^[^ *][^)]*\)/ { sub(/\).*/, ""); list = list "|" $0 }
             END { print list }' "$TOP/xsl" |
        tr '|' '\n' | tr -d '"' | grep -v '^-\|^$' | sort)
listed=$(awk '{ print $1 }' <<< "$help" | sort)
if [ -z "$help" ]; then
    echo "not ok help-commands: ./xsl help lists no commands"
    fail=1
elif [ "$help" != "$readme" ]; then
    echo "not ok help-commands: README.md's command list differs from ./xsl help:"
    diff <(echo "$readme") <(echo "$help") | head -n 20
    fail=1
elif [ "$("$TOP/xsl" | help_cmds)" != "$help" ]; then
    echo "not ok help-commands: ./xsl alone does not list the commands"
    fail=1
elif [ "$known" != "$listed" ]; then
    echo "not ok help-commands: xsl's commands and ./xsl help's list differ" \
         "(< dispatch, > help):"
    diff <(echo "$known") <(echo "$listed")
    fail=1
else
    echo "ok help-commands: ./xsl help, ./xsl and README.md list the same" \
         "$(wc -l <<< "$help") commands"
fi
expect unknown-command "unknown command 'frobnicate'" "$TOP/xsl" frobnicate

# A corrupted tarball
mkdir -p "$scratch/c1/dl"
cp "$real_dl/$DEBIAN_TARBALL" "$scratch/c1/dl/"
head -c 1000000 "$real_dl/$ORIG_TARBALL" > "$scratch/c1/dl/$ORIG_TARBALL"
expect corrupt-tarball "checksum mismatch for $ORIG_TARBALL" \
    env XSL_CACHE="$scratch/c1" XSL_WORK="$scratch/w1" "$TOP/xsl" import
[ ! -e "$scratch/w1/qemu" ] || { echo "not ok corrupt-tarball: left a tree"; fail=1; }

# A user tree at another version
mkdir -p "$scratch/src"
echo 10.1.0 > "$scratch/src/VERSION"
expect other-version "is QEMU 10.1.0, but the series is pinned to $QEMU_VERSION" \
    env QEMU_SRC="$scratch/src" XSL_WORK="$scratch/w2" "$TOP/xsl" import
[ ! -e "$scratch/w2/qemu" ] || { echo "not ok other-version: left a tree"; fail=1; }

# A release that harness/releases does not list
expect unknown-release "unknown release '9.9.9'" "$TOP/xsl" --release 9.9.9 status
# A series that does not exist, and a command the tcg-svm series has not
expect unknown-series "unknown series 'foo'" "$TOP/xsl" --series foo status
expect series-command "is for the Xen series only" \
    "$TOP/xsl" --series tcg-svm make-check

# A patch that does not apply: the first patch with its context changed
mkdir -p "$scratch/p"
cp "$TOP"/patches/*.patch "$TOP"/patches/series "$scratch/p/"
first=$(grep -v '^#' "$TOP/patches/series" | head -n 1)
awk '/^@@/ && !hunk { hunk = 1; print; next }
     hunk == 1 && /^ / { print " changed context"; hunk = 2; next }
     { print }' "$TOP/patches/$first" > "$scratch/p/$first"
expect patch-does-not-apply "patch $first does not apply" \
    env XSL_PATCHES="$scratch/p" XSL_WORK="$scratch/w3" "$TOP/xsl" import
if [ -d "$scratch/w3/qemu/.git" ]; then
    if [ "$(git -C "$scratch/w3/qemu" rev-parse series)" = \
         "$(git -C "$scratch/w3/qemu" rev-parse base)" ] &&
       [ -z "$(git -C "$scratch/w3/qemu" status --porcelain)" ]; then
        echo "ok patch-does-not-apply: the work tree is left at base, clean"
    else
        echo "not ok patch-does-not-apply: the work tree is half-applied"
        fail=1
    fi
fi
exit $fail
