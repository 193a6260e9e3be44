#!/bin/bash
# bench/run.sh [OUTPUT]: build and run vcpu-sel-bench against the patched
# QEMU tree (work/qemu, set up by ./xsl setup), print its table and, given
# OUTPUT, write the table there too.
#
# The benchmark includes the tree's hw/i386/kvm/xen_vcpu_info.h as is. It
# takes the include paths and defines of a QEMU unit test from the build's
# compile_commands.json, but compiles with -O2 and without sanitizers (the
# harness's build has UBSan), so that the timings mean something.
#
# The program prints the host (CPU model, what it does with a split lock)
# and the tables itself. BENCH_SCALE=F (default 1) scales its sample counts
# and durations: BENCH_SCALE=0.01 is a smoke run of a few seconds.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
TREE=$WORK/qemu
BUILD=$TREE/build
OUT=${1:-}

die() { echo "bench: error: $*" >&2; exit 1; }

[ -d "$TREE" ] || die "no QEMU work tree at $TREE (run ./xsl setup first)"
[ -f "$TREE/hw/i386/kvm/xen_vcpu_info.h" ] ||
    die "$TREE has no hw/i386/kvm/xen_vcpu_info.h: is the series applied" \
        "(branch 'series')? Run ./xsl setup"
{ [ -f "$BUILD/config-host.h" ] && [ -f "$BUILD/compile_commands.json" ]; } ||
    die "$BUILD is not a configured QEMU build (no config-host.h or" \
        "compile_commands.json); run ./xsl setup or ./xsl build"
command -v gcc >/dev/null || die "gcc not found (run ./xsl deps)"
command -v pkg-config >/dev/null || die "pkg-config not found (run ./xsl deps)"
command -v python3 >/dev/null || die "python3 not found"

# Include paths, defines and target flags of one unit test, made absolute;
# optimisation, debug, warnings-as-errors and sanitizer flags dropped.
FLAGS=$(python3 - "$BUILD" <<'PY'
import json, os, shlex, sys
build = sys.argv[1]
cmds = json.load(open(os.path.join(build, "compile_commands.json")))
cmd = next((c for c in cmds if "/tests/unit/" in c["file"]), None)
if cmd is None:
    sys.exit("bench: error: no unit test in compile_commands.json")
args = shlex.split(cmd["command"])
out, i = [], 0
while i < len(args):
    a = args[i]
    if a in ("-I", "-iquote", "-isystem") and i + 1 < len(args):
        out += [a, os.path.normpath(os.path.join(cmd["directory"], args[i + 1]))]
        i += 2
        continue
    if a.startswith("-I"):
        out.append("-I" + os.path.normpath(os.path.join(cmd["directory"], a[2:])))
    elif a.startswith(("-D", "-std=", "-m")) or a in (
            "-fno-strict-aliasing", "-fno-common", "-fwrapv"):
        out.append(a)
    i += 1
print(shlex.join(out))
PY
) || die "could not read the compiler flags from $BUILD/compile_commands.json"

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
# shellcheck disable=SC2046,SC2086
gcc -O2 -g0 -Wall -Werror $FLAGS -I"$BUILD" \
    -o "$BIN/vcpu-sel-bench" "$TOP/bench/vcpu-sel-bench.c" \
    -pthread $(pkg-config --cflags --libs glib-2.0) ||
    die "could not build bench/vcpu-sel-bench.c against $TREE"

head=$(git -C "$TREE" log -1 --format='%h %s' 2>/dev/null || echo unknown)

{
    echo "## vcpu-sel-bench"
    echo
    echo "Tree: $TREE at $head"
    echo
    "$BIN/vcpu-sel-bench"
} > "$BIN/table.md" || { cat "$BIN/table.md"; die "vcpu-sel-bench failed"; }

cat "$BIN/table.md"
if [ -n "$OUT" ]; then
    cp "$BIN/table.md" "$OUT" || die "could not write $OUT"
fi
