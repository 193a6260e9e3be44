#!/usr/bin/python3
"""judge.py OUT RELEASE PINNED RUN...: the verdicts of the xen-usage suite
(scripts/xen-usage.sh), on the host, from what drive.py left in
OUT/pristine/ and OUT/patched/.

A scenario's result on one QEMU: "pass"; "refused: TEXT" (QEMU refused a
save, the same on both to be "same"); or "fail: REASON" (a FAIL line of the
guest, a host action that failed, or the scenario did not finish or did
not run, with what ended the run: QEMU's exit status, its sanitizer
report, the kernel's panic or oops, silence). The "exit" row of a run
holds the run's own trouble. Verdicts: same (also: a pinned upstream bug
that fails both the same way); fixed by patch N (pinned);
and the failures REGRESSION, FAILS ON BOTH, UNPINNED DIFFERENCE, PIN
STALE. Exit status 1 on any failure.
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


def rows(run):
    return ["events"] + RUNS[run]["scen"].split(",") + ["exit"]


def judge_run(base, run, timeout):
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
    res["exit"] = "fail: " + "; ".join(trouble) if trouble else "pass"
    for h in sorted(os.listdir(os.path.dirname(base))):
        if h.startswith(run + ".hang") and h.endswith(".serial"):
            res.setdefault("_notes", []).append(
                "a first run went silent and was run again (%s)" % h)
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
            got[q], t = judge_run(os.path.join(out, q, run), run, timeout)
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
                    q.startswith("fail") and pn[1] in p and pn[1] in q):
                verdict = "same (known upstream bug, pinned)"
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
