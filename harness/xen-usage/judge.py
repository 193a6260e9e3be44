#!/usr/bin/python3
"""judge.py OUT RELEASE PINNED RUN...: the verdicts of the xen-usage suite
(scripts/xen-usage.sh), on the host, from what drive.py left in
OUT/pristine/ and OUT/patched/.

A scenario's result on one QEMU: "pass"; "refused: TEXT" (QEMU refused a
save: "same" only where pinned as "refused", as it tests nothing then,
else NOT TESTED); or "fail: REASON" (a FAIL line of the
guest, a host action that failed, or the scenario did not finish or did
not run, with what ended the run: QEMU's exit status, its sanitizer
report, the kernel's panic or oops, silence). The "exit" row of a run
holds the run's own trouble; on patched QEMU a first run that went silent
(and was run again) is trouble too. Verdicts: same (also: a pinned
upstream bug that fails both in the same words, a pinned refusal of both);
fixed by patch N (pinned); and the failures REGRESSION, FAILS ON BOTH,
UNPINNED DIFFERENCE, PIN STALE, NOT TESTED. Exit status 1 on any failure.

Besides the guest's own FAIL lines, two checks are made here: every boot
wrote its three lines to the PV console (the .hvc file: QEMU took the
ring, not only notified the guest), and every vCPU that had a vcpu_info
in a boot ended with one outside shared_info, i.e. registered its own
(QEMU's kvm_xen_set_vcpu_attr and kvm_xen_set_shared_info trace; Linux
panics where VCPUOP_register_vcpu_info fails, so the guest cannot say).
"""
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drive import RUNS  # noqa: E402

# From scripts/sanitizers.sh (a basic regex) and scripts/xen-guest-lib.sh,
# through xen-usage.sh.
SANITIZER = re.compile(os.environ["SANITIZER_REPORT"].replace("\\|", "|"))
TROUBLE = re.compile(os.environ["KERNEL_TROUBLE_RE"])
ONCE = ("hotdisk", "save", "hotcpu")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().replace("\r", "")
    except FileNotFoundError:
        return None


INVALID = 0xffffffffffffffff


def vcpu_info_trouble(qlog):
    """FAIL lines (per boot) for vCPUs whose vcpu_info stayed in shared_info.

    A boot is a stretch of the trace between two resets of vCPU 0's
    vcpu_info (to ~0) in which some vCPU got one."""
    segs, cur, shinfo = [], {}, None
    for m in re.finditer(r"kvm_xen_set_shared_info shared info at gfn 0x([0-9a-f]+)"
                         r"|kvm_xen_set_vcpu_attr vcpu attr cpu (\d+) type 0 "
                         r"gpa 0x([0-9a-f]+)", qlog):
        if m.group(1):
            shinfo = int(m.group(1), 16)
            continue
        cpu, gpa = int(m.group(2)), int(m.group(3), 16)
        if gpa == INVALID:
            if cpu == 0 and cur:
                segs.append(cur)
                cur = {}
            continue
        cur[cpu] = gpa >> 12 != shinfo
    if cur:
        segs.append(cur)
    return ["XSL-USAGE: boot %d: FAIL events: the vcpu_info of CPU %s stayed "
            "in shared_info (no VCPUOP_register_vcpu_info seen)"
            % (b, ",".join(str(c) for c in sorted(seg) if not seg[c]))
            for b, seg in enumerate(segs) if not all(seg.values())]


def rows(run):
    return ["events"] + RUNS[run]["scen"].split(",") + ["exit"]


def judge_run(base, run, timeout, patched):
    """{scenario: result} of one run on one QEMU, and the run's time."""
    spec = RUNS[run]
    res = {}
    rc_line = read(base + ".rc")
    if rc_line is None:
        return {s: "fail: did not run (no %s.rc)" % run for s in rows(run)}, None
    f = rc_line.split()
    rc, secs = int(f[0]), f[1]
    if len(f) > 4 and f[4] != "0":
        timeout = f[4]
    serial = read(base + ".serial") or ""
    qlog = read(base + ".qemu") or ""
    host = read(base + ".host") or ""
    trouble = []
    if rc == 124:
        trouble.append("the guest went %s s without a word, QEMU stopped"
                       % timeout)
    elif rc == 125:
        trouble.append("the guest did not power off within 30 s, QEMU stopped")
    elif rc != 0:
        trouble.append("QEMU exit status %d" % rc)
    m = SANITIZER.search(qlog)
    if m:
        line = qlog[qlog.rfind("\n", 0, m.start()) + 1:].split("\n")[0]
        trouble.append("sanitizer: " + re.sub(r"^==\d+==", "", line).strip())
    for line in serial.splitlines():
        if "XSL-USAGE" not in line and TROUBLE.search(line):
            trouble.append("kernel: " + re.sub(r"^\[[ .0-9]*\] ", "", line).strip())
            break
    for m in re.finditer(r"XSL-HOST: ack (\w+) fail (.*)", host):
        trouble.append("host %s failed: %s" % (m.group(1), m.group(2)))
    lines = [l[l.index("XSL-USAGE:"):] for l in serial.splitlines()
             if "XSL-USAGE:" in l]
    last = lines[-1] if lines else "no word from the guest"
    boots = sorted({int(m.group(1)) for l in lines
                    for m in [re.match(r"XSL-USAGE: boot (\d+):", l)] if m})
    # A boot whose checks began twice was reset under them.
    for b in boots:
        n = sum(1 for l in lines if l == "XSL-USAGE: boot %d: begin events" % b)
        if n > 1:
            trouble.append("boot %d began %d times (a reset nobody asked for)"
                           % (b, n))
    # The initramfs's own failures (a module that did not load).
    trouble += [l.split(": FAIL ", 1)[1] for l in lines
                if l.startswith("XSL-USAGE: init: FAIL ")]
    hvc = read(base + ".hvc") or ""
    lines += ["XSL-USAGE: boot %d: FAIL events: no PV console output of "
              "this boot in %s.hvc" % (b, run)
              for b in boots if "boot %d: console line 3" % b not in hvc]
    lines += vcpu_info_trouble(qlog)
    for s in rows(run)[:-1]:
        fails = [l.split(": FAIL ", 1)[1] if ": FAIL " in l else l
                 for l in lines if re.search(r"(: | )FAIL %s:" % s, l)]
        done = {int(m.group(1)) for l in lines
                for m in [re.match(r"XSL-USAGE: boot (\d+): done %s$" % s, l)] if m}
        begun = any(re.match(r"XSL-USAGE: boot \d+: begin %s$" % s, l)
                    for l in lines)
        if s in ONCE:
            want = {0}
        elif s == "reboot":     # "done reboot" ends the last boot
            want = {spec["boots"] - 1}
        else:
            want = set(range(spec["boots"]))
        refused = [l.split("ok save: refused", 1)[1].strip() for l in lines
                   if "ok save: refused" in l and s == "save"]
        if fails:
            r = "fail: " + "; ".join(fails)
        elif not want <= done:
            r = ("fail: did not finish" if begun else "fail: did not run")
            missing = sorted(want - done)
            if spec["boots"] > 1:
                r += " (boots %s)" % ",".join(map(str, missing))
            r += " after \"%s\"" % last
            if trouble:
                r += "; " + "; ".join(trouble)
        elif refused:
            r = "refused: " + refused[0]
        else:
            r = "pass"
        res[s] = r
    if boots != list(range(spec["boots"])):
        trouble.insert(0, "boots %s came up, want %s" % (
            ",".join(map(str, boots)) or "none",
            ",".join(map(str, range(spec["boots"])))))
    for h in sorted(os.listdir(os.path.dirname(base))):
        if h.startswith(run + ".hang") and h.endswith(".serial"):
            what = "a first run went silent and was run again (%s)" % h
            res.setdefault("_notes", []).append(what)
            # On patched QEMU that is a lost event until shown otherwise.
            if patched:
                trouble.append(what)
    res["exit"] = "fail: " + "; ".join(trouble) if trouble else "pass"
    return res, secs


def pins(path, release):
    out = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rel, row, patch, text = line.split(None, 3)
        if rel == release:
            out.setdefault(row, []).append((patch, text))
    return out


def short(r, n=90):
    return r if len(r) <= n else r[:n - 3] + "..."


def main(out, release, pinned, *runs):
    timeout = os.environ.get("XEN_USAGE_TIMEOUT", "120")
    pin = pins(pinned, release)
    used = set()
    bad = 0
    table = []
    secs = {"pristine": 0, "patched": 0}
    for run in runs:
        got = {}
        for q in ("pristine", "patched"):
            got[q], t = judge_run(os.path.join(out, q, run), run, timeout,
                                  q == "patched")
            secs[q] += int(t or 0)
            for n in got[q].get("_notes", []):
                print("note xen-usage %s on %s: %s" % (run, q, n))
        for s in rows(run):
            row = "%s/%s" % (run, s)
            p, q = got["pristine"][s], got["patched"][s]
            pns = pin.get(row, [])
            if pns:
                used.add(row)
            # The pin whose text the pristine failure holds, else the first.
            pn = next((x for x in pns if x[1] in p), pns[0] if pns else None)
            if (pn and pn[0] == "upstream" and p.startswith("fail") and
                    p == q and pn[1] in p):
                verdict = "same (known upstream bug, pinned)"
            elif p == q and p.startswith("refused"):
                verdict = ("same (refused on both, pinned)"
                           if pn and pn[0] == "refused" and pn[1] in p
                           else "NOT TESTED (refused on both)")
            elif q.startswith("fail"):
                verdict = "FAILS ON BOTH" if p.startswith("fail") else "REGRESSION"
            elif p == q:
                if pn and pn[0].endswith(",racy"):
                    verdict = "same (pinned racy bug of pristine did not show)"
                else:
                    verdict = "PIN STALE" if pn else "same"
            elif p.startswith("fail") and pn and pn[1] in p:
                verdict = "fixed by patch %s (pinned)" % pn[0].replace(",racy", ", racy")
            elif p.startswith("fail") and pn:
                verdict = "PIN STALE (pristine fails otherwise)"
            else:
                verdict = "UNPINNED DIFFERENCE"
            ok = verdict.startswith("same") or verdict.startswith("fixed by")
            bad += not ok
            table.append((ok, row, p, q, verdict))
    w = max(len(t[1]) for t in table)
    print("xen-usage %s: %-*s | %-28s | %-28s | verdict" % (
        release, w, "scenario", "pristine", "patched"))
    for ok, row, p, q, verdict in table:
        print("%s xen-usage %s %-*s | %-28s | %-28s | %s" % (
            "ok" if ok else "not ok", release, w, row,
            p.split(":")[0], q.split(":")[0], verdict))
    for ok, row, p, q, verdict in table:
        if not ok or p != "pass" or q != "pass":
            print("    %s: pristine: %s" % (row, p))
            print("    %s: patched:  %s" % (row, q))
    for row in sorted(set(pin) - used):
        if row.split("/")[0] in runs:
            print("not ok xen-usage %s: pin for %s matches no scenario" % (release, row))
            bad += 1
    print("xen-usage %s: %d scenarios, %d failed; guest runs took %d s on "
          "pristine, %d s on patched QEMU" % (release, len(table), bad,
                                              secs["pristine"], secs["patched"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
