#!/usr/bin/env python3
"""Read a terminal (or cmd/zksim) with pyzk and print what it read as JSON.

punchbox's independent interoperability check: pyzk is an unrelated client,
so if it reads from the simulator exactly what the simulator holds, the
simulator speaks the protocol as pyzk expects real terminals to.

pyzk itself is not part of punchbox: pass the directory of a pyzk checkout
with --pyzk; this script only imports it.

    python3 pyzk_read.py --pyzk /path/to/pyzk --port 4370 [--udp] [--password N]
    python3 pyzk_read.py --pyzk /path/to/pyzk --compare dump.json   (cmd/zksim -dump)

With --compare, it checks what pyzk read against a cmd/zksim -dump file
instead of printing it, prints one line and exits 1 on any difference.

Output (one JSON object on stdout):
    users:   uid, user_id, name, privilege, password, card, group_id
    records: uid, user_id, timestamp ("YYYY-MM-DDTHH:MM:SS"), status, punch
             (pyzk's names: status is the verify type, punch the state)
    sizes:   the counts pyzk read with read_sizes
    serial, platform, firmware, time: the identity and clock pyzk read
    elapsed: seconds for get_attendance (which also reads the users)
    elapsed_users: seconds for get_users alone
"""

import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pyzk", required=True, help="directory of a pyzk checkout")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4370)
    ap.add_argument("--password", type=int, default=0, help="comm key")
    ap.add_argument("--udp", action="store_true", help="force UDP")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--compare", metavar="DUMP", help="compare with a cmd/zksim -dump file")
    args = ap.parse_args()

    sys.path.insert(0, args.pyzk)
    from zk import ZK  # noqa: E402 (imported from --pyzk)

    zk = ZK(args.host, port=args.port, timeout=args.timeout, password=args.password,
            force_udp=args.udp, ommit_ping=True)
    conn = zk.connect()
    try:
        out = {
            "serial": conn.get_serialnumber(),
            "platform": conn.get_platform(),
            "firmware": conn.get_firmware_version(),
            "time": conn.get_time().strftime("%Y-%m-%dT%H:%M:%S"),
        }
        conn.disable_device()
        start = time.monotonic()
        users = conn.get_users()
        out["elapsed_users"] = time.monotonic() - start
        start = time.monotonic()
        records = conn.get_attendance()
        out["elapsed"] = time.monotonic() - start
        conn.read_sizes()
        out["sizes"] = {"users": conn.users, "records": conn.records,
                        "users_cap": conn.users_cap, "rec_cap": conn.rec_cap}
        conn.enable_device()
    finally:
        conn.disconnect()

    out["users"] = [{
        "uid": u.uid, "user_id": u.user_id, "name": u.name, "privilege": u.privilege,
        "password": u.password, "card": u.card, "group_id": u.group_id,
    } for u in users]
    out["records"] = [{
        "uid": a.uid, "user_id": a.user_id,
        "timestamp": a.timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
        "status": a.status, "punch": a.punch,
    } for a in records]
    if args.compare:
        sys.exit(compare(out, args.compare))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


def compare(out, path):
    """Compare what pyzk read with a cmd/zksim dump; return the exit code."""
    with open(path) as f:
        want = json.load(f)
    problems = []
    if len(out["users"]) != len(want["users"]):
        problems.append("users: pyzk read %d, the simulator holds %d" % (len(out["users"]), len(want["users"])))
    for got, w in zip(out["users"], want["users"]):
        for k in ("uid", "user_id", "name", "privilege", "password", "card"):
            if got[k] != w[k]:
                problems.append("user %s: %s is %r, want %r" % (w["uid"], k, got[k], w[k]))
    if len(out["records"]) != len(want["records"]):
        problems.append("records: pyzk read %d, the simulator holds %d" % (len(out["records"]), len(want["records"])))
    pairs = (("uid", "uid"), ("user_id", "user_id"), ("timestamp", "time"), ("status", "verify"), ("punch", "state"))
    for i, (got, w) in enumerate(zip(out["records"], want["records"])):
        for gk, wk in pairs:
            if got[gk] != w[wk]:
                problems.append("record %d: %s is %r, want %r" % (i, gk, got[gk], w[wk]))
    for p in problems[:10]:
        print(p)
    if problems:
        print("MISMATCH: %d differences" % len(problems))
        return 1
    print("OK: %d users and %d records match; pyzk read the records in %.2f s"
          % (len(want["users"]), len(want["records"]), out["elapsed"]))
    return 0


if __name__ == "__main__":
    main()
