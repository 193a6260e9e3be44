#!/usr/bin/python3
"""drive.py QEMU KERNEL INITRD ROOTIMG OUTDIR RUN...: the xen-usage runs
(scripts/xen-usage.sh), inside L1 where KVM has Xen support.

Each RUN (RUNS below) is one QEMU command line and one kernel command line;
the guest (harness/xen-usage/usage) checks from the inside and asks for
host actions on its serial console ("XSL-USAGE: boot B: request ACTION");
this driver does them through QMP and answers on the guest's second serial
port ("ack ACTION ok", "ack ACTION refused TEXT", "ack ACTION fail TEXT"):
  hotdisk  blockdev-add of a null-co node, device_add of a xen-disk with
           no vdev
  hotcpu   query-hotpluggable-cpus, device_add of the free slot
  save     stop, migrate to a file (exec:cat), quit, a new QEMU with the
           same command line and -incoming from that file, cont; where
           QEMU refuses the migration, "refused" with its error
Writes OUTDIR/RUN.{serial,hvc,qemu,host,rc} (serial console, PV console,
QEMU's own output, this driver's log, "STATUS SECONDS START END SILENCE":
STATUS 124 when the guest went SILENCE s without a word, 125 when it did
not power off within 30 s of saying it would). A run
whose guest went XEN_USAGE_TIMEOUT s (120; 40 after a host action) without a word,
with nothing else wrong and before any host action, is kept as RUN.hang0.*
and run once more.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

MiB = 1024 * 1024
# The kernel's console is the serial port only: where QEMU does not serve
# the PV console (pristine QEMU after a reset, the bug patch 4 fixes),
# Linux spins in domU_write_console() once the ring is full, and a
# console=hvc0 kernel then stops at its next message. The checks write a
# few lines to hvc0 themselves (harness/xen-usage/usage, console_events).
# no_timer_check: see docs/nested.md, "The guest's timer check".
APPEND = ("console=ttyS0 loglevel=5 printk.devkmsg=on panic=-1 "
          "xen_legacy_crash no_timer_check")
# What the PCIe root port adds: a PCI device whose interrupts (PME, with
# pcie_ports=native) are MSI (or INTx with pci=nomsi); this build has no NIC.
PCIE_PORT = ["-device", "pcie-root-port,id=rp0,bus=pci.0,chassis=1,slot=1"]


def disk(path, dev_id, vdev=None):
    d = "xen-disk,drive=%s,id=%s-dev" % (dev_id, dev_id)
    if vdev:
        d += ",vdev=" + vdev
    return ["-drive", "file=%s,if=none,format=raw,id=%s" % (path, dev_id),
            "-device", d]


# name: smp, cpu, kernel arguments, scenarios, the disks besides the root
# disk (their vdev, None for none), devices. The scenario list is the guest's
# xsl.scen (order of the checks); scripts/xen-usage.sh names the rows.
RUNS = {
    # Root on a xen-disk, one more (xvdb), one hot-added without vdev
    # (landed series: abort in xen_block_find_free_vdev), two
    # netfronts on one hub, MSI through Xen PIRQs, xenstore, and two
    # reboots through the firmware, all checks again after each.
    "devices": dict(smp="2", cpu=None, boots=3, root=True, disks=["xvdb"],
                    args="xsl.msi=pirq pcie_ports=native",
                    scen="root,disks,xenstore,net,pirq,hotdisk,reboot",
                    net=True, port=True),
    # vCPU hotplug with -smp 1,maxcpus=2 (landed series: the new vCPU's
    # vcpu_info at GPA 0, register_vcpu_info failed), with pci=nomsi.
    "hotplug": dict(smp="1,maxcpus=2", cpu=None, boots=1, root=False,
                    disks=[], args="pci=nomsi xsl.msi=intx pcie_ports=native",
                    scen="pirq,xenstore,hotcpu", net=False, port=True),
    # -cpu host,+xen-vapic (MSIs native, not PIRQs) and two xen-disks
    # without vdev from the start (landed series: abort at startup).
    "vapic": dict(smp="2", cpu="host,+xen-vapic", boots=1, root=False,
                  disks=[None, None], args="xsl.msi=pci pcie_ports=native",
                  scen="disks,pirq,xenstore", net=False, port=True),
    # xen_no_vector_callback noapic (the callback through the platform
    # device's INTx on the XT-PIC), saved to a file and restored.
    "save": dict(smp="2", cpu=None, boots=1, root=False, disks=[],
                 args="xen_no_vector_callback noapic",
                 scen="xenstore,save", net=False, port=False),
}


class QMP:
    def __init__(self, path, proc, timeout=120):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        t0 = time.time()
        while True:
            try:
                self.s.connect(path)
                break
            except OSError:
                if proc.poll() is not None or time.time() - t0 > timeout:
                    raise
                time.sleep(0.2)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QMP connection closed (QEMU died?)")
            r = json.loads(line)
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError(r["error"].get("desc", str(r["error"])))
            return r.get("return")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Run:
    def __init__(self, qemu, kernel, initrd, rootimg, out, name):
        self.qemu, self.kernel, self.initrd = qemu, kernel, initrd
        self.out, self.name = out, name
        self.spec = RUNS[name]
        self.tmp = "/dev/shm/xsl-usage-%s-%d" % (name, os.getpid())
        os.makedirs(self.tmp, exist_ok=True)
        self.rootimg = rootimg
        self.base = os.path.join(out, name)
        self.timeout = int(os.environ.get("XEN_USAGE_TIMEOUT", "120"))

    def log(self, msg):
        with open(self.base + ".host", "a") as f:
            f.write("%s XSL-HOST: %s\n" % (time.strftime("%H:%M:%S"), msg))

    def argv(self, incoming=None):
        s, t, b = self.spec, self.tmp, self.base
        a = [self.qemu, "-M", "pc",
             "-accel", "kvm,xen-version=0x4000a,kernel-irqchip=split",
             "-smp", s["smp"], "-m", "512M", "-nodefaults", "-display", "none",
             "-action", "panic=exit-failure", "-msg", "timestamp=on",
             "-trace", "kvm_xen_soft_reset", "-trace", "kvm_xen_set_vcpu_attr",
             "-trace", "kvm_xen_set_shared_info",
             "-L", "/usr/share/qemu", "-L", "/usr/share/seabios",
             "-chardev", "file,id=ser0,path=%s.serial,append=on" % b,
             "-serial", "chardev:ser0",
             "-chardev", "socket,id=ack,path=%s/ack,server=on,wait=off" % t,
             "-serial", "chardev:ack",
             "-chardev", "file,id=hvc0,path=%s.hvc,append=on" % b,
             "-device", "xen-console,chardev=hvc0",
             "-qmp", "unix:%s/qmp,server=on,wait=off" % t,
             "-kernel", self.kernel, "-initrd", self.initrd]
        if s["cpu"]:
            a += ["-cpu", s["cpu"]]
        ndisks = 0
        if s["root"]:
            a += disk(t + "/root.img", "root", "xvda")
            ndisks += 1
        for i, vdev in enumerate(s["disks"]):
            a += disk("%s/disk%d.img" % (t, i), "disk%d" % i, vdev)
            ndisks += 1
        if s["net"]:
            for i in range(2):
                a += ["-netdev", "hubport,id=net%d,hubid=0" % i,
                      "-device", "xen-net-device,netdev=net%d,mac=52:54:00:58:53:%02x"
                      % (i, i + 1)]
        if s["port"]:
            a += PCIE_PORT
        append = "%s xsl.scen=%s xsl.boots=%d xsl.disks=%d xsl.cpus=%s %s" % (
            APPEND, s["scen"], s["boots"], ndisks, s["smp"].split(",")[0],
            s["args"])
        if s["root"]:
            append += " xsl.root=xvda"
        a += ["-append", append]
        if incoming:
            a += ["-incoming", incoming]
        return a

    def start(self, incoming=None):
        for f in ("qmp", "ack"):
            try:
                os.unlink(os.path.join(self.tmp, f))
            except FileNotFoundError:
                pass
        argv = self.argv(incoming)
        self.log("starting: " + " ".join(argv))
        qlog = open(self.base + ".qemu", "a")
        self.proc = subprocess.Popen(argv, stdout=qlog, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        qlog.close()
        self.qmp = self.ack = None
        try:
            self.qmp = QMP(os.path.join(self.tmp, "qmp"), self.proc)
            self.ack = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.ack.connect(os.path.join(self.tmp, "ack"))
        except (OSError, EOFError, ValueError) as e:
            # QEMU ended (or hangs) before it took QMP: its exit status
            # and output say why.
            self.log("no QMP or serial connection to QEMU: %s" % e)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            return False
        return True

    def answer(self, action, text):
        self.log("ack %s %s" % (action, text))
        if not self.ack:
            self.log("cannot answer: no connection to the serial port")
            return
        try:
            self.ack.sendall(("ack %s %s\n" % (action, text)).encode())
        except OSError as e:
            self.log("cannot answer: %s" % e)

    def do(self, action):
        self.log("request " + action)
        try:
            if action == "hotdisk":
                self.qmp.cmd("blockdev-add", driver="null-co", **{
                    "node-name": "hot0", "size": 64 * MiB, "read-zeroes": True})
                self.qmp.cmd("device_add", driver="xen-disk", drive="hot0",
                             id="hotdisk")
                return "ok"
            if action == "hotcpu":
                cpus = self.qmp.cmd("query-hotpluggable-cpus")
                free = [c for c in cpus if "qom-path" not in c]
                if not free:
                    return "fail no free vCPU slot"
                c = free[0]
                self.log("free slot: %s" % json.dumps(c))
                self.qmp.cmd("device_add", driver=c["type"], id="cpu-hot",
                             **c["props"])
                return "ok"
            if action == "save":
                return self.save()
            return "fail unknown action"
        except Exception as e:    # QMP error, or QEMU gone
            return "fail %s: %s" % (type(e).__name__, e)

    def save(self):
        img = os.path.join(self.tmp, "state")
        self.qmp.cmd("stop")
        try:
            self.qmp.cmd("migrate", uri="exec:cat > %s" % img)
        except RuntimeError as e:
            self.qmp.cmd("cont")
            return "refused %s" % e
        t0 = time.time()
        while True:
            st = self.qmp.cmd("query-migrate")
            if st.get("status") in ("completed", "failed", "cancelled"):
                break
            if time.time() - t0 > 300:
                return "fail migration did not end in 300 s: %s" % st
            time.sleep(0.5)
        if st["status"] != "completed":
            self.qmp.cmd("cont")
            return "refused migration %s: %s" % (st["status"],
                                                  st.get("error-desc", ""))
        self.log("saved %d bytes in %.1f s" % (os.path.getsize(img),
                                                 time.time() - t0))
        self.qmp.cmd("quit")
        self.qmp.close()
        self.ack.close()
        self.qmp = self.ack = None
        rc = self.proc.wait(60)
        self.log("the saved QEMU exited with status %d" % rc)
        if rc != 0:
            return "fail the saved QEMU exited with status %d" % rc
        if not self.start(incoming="exec:cat %s" % img):
            return "fail the restoring QEMU ended at its start"
        t0 = time.time()
        while True:
            st = self.qmp.cmd("query-status")["status"]
            if st != "inmigrate":
                break
            if time.time() - t0 > 300:
                return "fail restore did not end in 300 s"
            time.sleep(0.5)
        self.log("restored in %.1f s, status %s" % (time.time() - t0, st))
        if st in ("paused", "postmigrate", "prelaunch"):
            self.qmp.cmd("cont")
        elif st != "running":
            return "fail restored QEMU in state %s" % st
        return "ok"

    def once(self):
        for ext in ("serial", "hvc", "qemu", "host"):
            open("%s.%s" % (self.base, ext), "w").close()
        s = self.spec
        if s["root"]:
            shutil.copy(self.rootimg, self.tmp + "/root.img")
        for i in range(len(s["disks"])):
            with open("%s/disk%d.img" % (self.tmp, i), "wb") as f:
                f.truncate((16 + 8 * i) * MiB)
        t0 = time.time()
        if not self.start():
            return self.proc.wait(), time.time() - t0
        pos, heard, timed_out = 0, time.time(), False
        off = None
        # After a host action the guest speaks every few seconds (it waits
        # for the result with progress lines): 40 s of silence is enough
        # there (40 s), until it reboots.
        acted = False
        while self.proc.poll() is None:
            time.sleep(1)
            with open(self.base + ".serial", "rb") as f:
                f.seek(pos)
                new = f.read()
            cut = new.rfind(b"\n") + 1
            pos += cut
            for line in new[:cut].decode("utf-8", "replace").splitlines():
                if "XSL-USAGE:" not in line:
                    continue
                heard = time.time()
                if "powering off" in line:
                    off = time.time()
                m = re.search(r"XSL-USAGE: boot \d+: request (\w+)", line)
                if m:
                    self.answer(m.group(1), self.do(m.group(1)))
                    heard = time.time()
                    acted = True
                if "reboot -f through the firmware" in line:
                    acted = False
            if off and time.time() - off > 30:
                # A guest that hangs on its way down (a vCPU stuck in
                # bring-up holds the hotplug lock that poweroff needs).
                self.log("the guest did not power off within 30 s: stopping QEMU")
                self.proc.kill()
                self.proc.wait()
                return 125, time.time() - t0
            if (time.time() - heard > (min(40, self.timeout) if acted
                                         else self.timeout) or
                    time.time() - t0 > 4 * self.timeout):
                timed_out = True
                self.log("no word from the guest for %d s: stopping QEMU"
                         % (time.time() - heard))
                self.silence = int(time.time() - heard)
                self.proc.terminate()
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                break
        rc = self.proc.wait()
        for c in (self.qmp, self.ack):
            if c:
                c.close()
        return (124 if timed_out else rc), time.time() - t0

    def run(self):
        # scripts/xen-guest-lib.sh, through xen-usage.sh
        trouble = re.compile(os.environ["KERNEL_TROUBLE_RE"])
        for attempt in (0, 1):
            start = time.time()
            rc, secs = self.once()
            end = time.time()
            print("xen-usage-run: %s: QEMU exit status %d after %.0f s"
                  % (self.name, rc, secs), flush=True)
            serial = open(self.base + ".serial", errors="replace").read()
            qlog = open(self.base + ".qemu", errors="replace").read()
            # Run again only a guest that went silent with nothing else
            # wrong and before any host action (a QMP action may well be
            # what stopped it).
            if (attempt == 1 or rc != 124 or " FAIL " in serial or
                    ": request " in serial or
                    "runtime error:" in qlog or "Sanitizer" in qlog or
                    any(trouble.search(l) for l in serial.splitlines()
                        if "XSL-USAGE" not in l)):
                break
            print("xen-usage-run: %s: the guest went silent; running it again"
                  % self.name, flush=True)
            for ext in ("serial", "hvc", "qemu", "host"):
                os.replace("%s.%s" % (self.base, ext),
                           "%s.hang0.%s" % (self.base, ext))
        with open(self.base + ".rc", "w") as f:
            f.write("%d %.0f %.3f %.3f %d\n" % (rc, secs, start, end,
                                                getattr(self, "silence", 0)))
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(qemu, kernel, initrd, rootimg, out, *runs):
    os.makedirs(out, exist_ok=True)
    for name in runs:
        if os.path.exists(os.path.join(out, name + ".rc")):
            continue     # done in an earlier boot of L1
        Run(qemu, kernel, initrd, rootimg, out, name).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
