#!/usr/bin/env python3
"""A raw-SMPP ESME that binds with a given interface_version, for the
SMPP 3.3 test: it reports every deliver_sm as it came on the wire.

  esme_v33.py PORT ADMIN_PORT SIM_HTTP_PORT VERSION MODE

VERSION is the bind's interface_version in hex (33 or 34). MODE:
  live    one TRX session: 2 submits with receipts asked, then a long MO
          (2 parts, split with SAR TLVs by the simulator) is injected;
          waits for 2 receipts and 2 MO parts.
  queued  a TX session submits 2 with no receiver bound; once /metrics
          shows both receipts in sealgate's durable queue an RX session
          binds and waits for them.
Prints one JSON line: ids (submit_sm_resp ids), bind_resp_tlvs (octets
after system_id), and deliveries, each with esm_class, text (latin-1),
udh (hex, when UDHI), tlv_octets (what follows short_message) and
tlv_tags.
"""
import json
import sys
import time
import urllib.request

import rawsmpp

port, admin, sim_http = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
version = int(sys.argv[4], 16)
mode = sys.argv[5]
DEADLINE = time.time() + 60


seqs = iter(range(2, 1 << 31))


def Sess(bind_cmd):
    return rawsmpp.Session(port, bind_cmd, version, timeout=30)


def delivery(b):
    """The deliver_sm body as a 3.3 peer reads it, and what is left."""
    esm, sm, rest = rawsmpp.deliver_body(b)
    d = {"esm_class": esm, "tlv_octets": len(rest),
         "tlv_tags": [t for t, _ in rawsmpp.tlv_list(rest)]}
    if esm & 0x40:
        d["udh"] = sm[:sm[0] + 1].hex()
        sm = sm[sm[0] + 1:]
    d["text"] = sm.decode("latin-1")
    return d


got = []             # deliveries, in the order they came


def on_request(s, cmd, seq, b):
    """Answers what sealgate asks of us, keeping every delivery."""
    if cmd == 0x05:
        got.append(delivery(b))
        s.send(0x80000005, seq, b"\0")
    elif cmd == 0x103:
        got.append({"data_sm": True})
        s.send(0x80000103, seq, b"\0")
    elif cmd == 0x15:
        s.send(0x80000015, seq, b"")


def submit(s, n):
    ids = []
    for k in range(n):
        text = b"v33 %d" % k
        s.send(0x04, next(seqs), b"\0\x01\x01" + b"4930123\0" + b"\x01\x01" +
               b"49170000%04d\0" % k + b"\0\0\0\0\0\x01\0\0\0" +
               bytes([len(text)]) + text)
    while len(ids) < n:
        cmd, st, seq, b = s.recv()
        if cmd == 0x80000004:
            assert st == 0, "submit_sm_resp 0x%x" % st
            ids.append(b.rstrip(b"\0").decode())
        else:
            on_request(s, cmd, seq, b)
    return ids


def collect(s, want):
    while len(got) < want:
        if time.time() > DEADLINE:
            raise TimeoutError("%d of %d deliveries" % (len(got), want))
        cmd, _, seq, b = s.recv()
        on_request(s, cmd, seq, b)
    return got


def queue_depth():
    m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin,
                               timeout=5).read().decode()
    for line in m.splitlines():
        if line.startswith('sealgate_account_queue_depth{account="demo"}'):
            return int(line.split()[-1])
    return -1


out = {}
if mode == "live":
    s = Sess(0x09)
    out["bind_resp_tlvs"] = len(s.bind_tail)
    out["ids"] = submit(s, 2)
    mo = json.dumps({"from": "491709999999", "to": "4930123", "split": "sar",
                     "text": "long MO " + "x" * 200}).encode()
    urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%d/api/mo" % sim_http, data=mo,
        headers={"Content-Type": "application/json"}), timeout=5).read()
    out["deliveries"] = collect(s, 4)
else:
    tx = Sess(0x02)
    out["bind_resp_tlvs"] = len(tx.bind_tail)
    out["ids"] = submit(tx, 2)
    while queue_depth() < 2:
        if time.time() > DEADLINE:
            raise TimeoutError("receipts not queued")
        time.sleep(0.05)
    rx = Sess(0x01)
    out["deliveries"] = collect(rx, 2)
print(json.dumps(out))
