#!/usr/bin/env python3
"""qmp-events.py SOCKET LOG: write every QMP event of the QEMU listening on
SOCKET to LOG (one JSON line each, with the host's time), until QEMU closes
the connection.

l1-run's outer QEMU (scripts/l1-qemu) uses it to record why L1 ended: the
SHUTDOWN event's reason (guest-reset for a triple fault or a reboot, which
vng's -no-reboot turns into an exit; guest-panic; host-signal...), WATCHDOG
and GUEST_PANICKED. QEMU's own python/qemu/qmp is not packaged in Debian and
this needs nothing of it but the greeting, qmp_capabilities and the events.
"""
import json
import socket
import sys
import time


def main(path, log):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # QEMU creates the socket once it has parsed its command line.
    for _ in range(600):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print(f"qmp-events: no QMP socket {path}", file=sys.stderr)
        return 1
    f = s.makefile("rw")
    f.readline()                      # the greeting
    f.write('{"execute": "qmp_capabilities"}\n')
    f.flush()
    with open(log, "a") as out:
        for line in f:
            msg = json.loads(line)
            if "event" in msg:
                msg["host-time"] = time.strftime("%H:%M:%S")
                out.write(json.dumps(msg) + "\n")
                out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
