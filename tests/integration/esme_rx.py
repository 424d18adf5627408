#!/usr/bin/env python3
"""A raw-SMPP ESME for the sealgate delivery tests: one TX session that
submits (registered_delivery 1) and one RX session that answers every
deliver_sm slowly, counting receipts by their receipted_message_id.

  esme_rx.py PORT ADMIN_PORT N_BEFORE N_AFTER DELAY_MS [--tx-stall]

N_BEFORE messages are submitted with no receiver bound (their receipts
must wait in sealgate's durable queue: the script waits until
/metrics shows them there), then the RX session binds and N_AFTER more
are submitted while the queue drains. --tx-stall: the TX session stops
reading after the first phase's responses, so its later submit_sm_resp
pile up unwritten in sealgate (used to check that receipts wait for
them); some of those submits may be refused (ESME_RTHROTTLED when the
link's queue is full): receipts are then expected for the accepted ones. Prints one JSON line: submitted, ok, receipts, unique, dupes,
unknown, missing, and before_resp (receipts whose submit_sm_resp the
script had not read yet when the receipt came: each one is a receipt
that overtook its response only if that response was already written),
and gap_ms_median: the median time from reading a submit_sm_resp to
reading its receipt (negative when the receipt came first).
"""
import json
import socket
import sys
import threading
import time
import urllib.request

import rawsmpp

port, admin = int(sys.argv[1]), int(sys.argv[2])
n_before, n_after = int(sys.argv[3]), int(sys.argv[4])
delay = int(sys.argv[5]) / 1000.0
tx_stall = "--tx-stall" in sys.argv
WINDOW = 32
DEADLINE = time.time() + 240


def Sess(bind_cmd):
    return rawsmpp.Session(port, bind_cmd)


def receipt_id(b):
    _, _, rest = rawsmpp.deliver_body(b)
    t = dict(rawsmpp.tlv_list(rest))
    return t.get(0x001E, b"").rstrip(b"\0").decode()


def queue_depth():
    try:
        m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin,
                                   timeout=5).read().decode()
    except OSError:
        return -1
    for line in m.splitlines():
        if line.startswith('sealgate_account_queue_depth{account="demo"}'):
            return int(line.split()[-1])
    return -1


ids = set()          # gateway ids answered ROK
answered = {}        # ids whose submit_sm_resp we have read: when
submitted = ok = 0
seqno = 2
lock = threading.Lock()
rx_counts = {}
gaps = []            # receipt read - its resp read, seconds
before_resp = 0
unknown = 0


def submit(tx, count, first):
    """Submits count messages with at most WINDOW unanswered."""
    global submitted, ok, seqno
    out = 0
    i = 0
    while i < count or out > 0:
        while i < count and out < WINDOW:
            k = first + i
            dst = b"49170%07d" % (k * 10 % 10000000)
            text = b"load %d" % k
            body = (b"\0" + b"\x01\x01" + b"4930123\0" + b"\x01\x01" + dst +
                    b"\0" + b"\x00\x00\x00" + b"\0\0" + b"\x01\x00\x00\x00" +
                    bytes([len(text)]) + text)
            tx.send(0x04, seqno, body)
            seqno += 1
            i += 1
            out += 1
            submitted += 1
        cmd, st, seq, b = tx.recv()
        if cmd == 0x80000004:
            out -= 1
            if st == 0:
                gid = b.rstrip(b"\0").decode()
                with lock:
                    ok += 1
                    ids.add(gid)
                    answered[gid] = time.monotonic()
        elif cmd == 0x15:
            tx.send(0x80000015, seq, b"")


def reader(rx, want):
    global before_resp, unknown
    rx.s.settimeout(20)
    got = 0
    while got < want[0] and time.time() < DEADLINE:
        try:
            cmd, st, seq, b = rx.recv()
        except (socket.timeout, EOFError):
            break
        if cmd == 0x05:
            rid = receipt_id(b)
            now = time.monotonic()
            with lock:
                rx_counts[rid] = rx_counts.get(rid, 0) + 1
                answered_at = answered.get(rid)
                if answered_at is None:
                    before_resp += 1
            # None: before its response (below every gap, median_gap_ms)
            gaps.append(None if answered_at is None else now - answered_at)
            got += 1
            time.sleep(delay)
            rx.send(0x80000005, seq, b"\0")
        elif cmd == 0x15:
            rx.send(0x80000015, seq, b"")


def median_gap_ms():
    """A receipt read before its response counts as below every gap."""
    if not gaps:
        return None
    known = sorted(g for g in gaps if g is not None)
    early = len(gaps) - len(known)
    mid = len(gaps) // 2
    if mid < early:
        return -1.0
    return round(known[mid - early] * 1000.0, 2)


tx = Sess(0x02)
submit(tx, n_before, 0)
while n_before > 0 and queue_depth() < n_before and time.time() < DEADLINE:
    time.sleep(0.1)
depth = queue_depth()
rx = Sess(0x01)
want = [n_before + n_after]
if tx_stall:
    want[0] = 1 << 30      # known once the responses are read
t = threading.Thread(target=reader, args=(rx, want))
t.start()
if tx_stall:
    # submit without reading: responses stay in sealgate's output
    tx.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    for k in range(n_after):
        dst = b"49170%07d" % ((n_before + k) * 10 % 10000000)
        text = b"stall %d" % k
        body = (b"\0" + b"\x01\x01" + b"4930123\0" + b"\x01\x01" + dst +
                b"\0" + b"\x00\x00\x00" + b"\0\0" + b"\x01\x00\x00\x00" +
                bytes([len(text)]) + text)
        tx.send(0x04, seqno, body)
        seqno += 1
        submitted += 1
    time.sleep(3)
    # now read them all
    tx.s.settimeout(20)
    resps = 0
    while resps < submitted:
        cmd, st, seq, b = tx.recv()
        if cmd == 0x80000004:
            resps += 1
        if cmd == 0x80000004 and st == 0:
            gid = b.rstrip(b"\0").decode()
            with lock:
                ok += 1
                ids.add(gid)
                answered[gid] = time.monotonic()
        elif cmd == 0x15:
            tx.send(0x80000015, seq, b"")
    # the reader waits for as many receipts as were accepted
    want[0] = ok
else:
    submit(tx, n_after, n_before)
t.join()
with lock:
    unique = len(rx_counts)
    dupes = sum(c - 1 for c in rx_counts.values())
    unknown = len([r for r in rx_counts if r not in ids])
    missing = len([i for i in ids if i not in rx_counts])
    print(json.dumps({"submitted": submitted, "ok": ok,
                      "receipts": sum(rx_counts.values()), "unique": unique,
                      "dupes": dupes, "unknown": unknown, "missing": missing,
                      "before_resp": before_resp,
                      "gap_ms_median": median_gap_ms(),
                      "queued_at_bind": depth}))
