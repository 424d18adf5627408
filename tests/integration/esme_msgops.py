#!/usr/bin/env python3
"""query_sm, cancel_sm and replace_sm through sealgate, for
test_gw_msgops.sh: a raw-SMPP ESME.

  esme_msgops.py PORT

As demo (TRX): submits to 491700000001 (delivered) and 491700000991
(undeliverable), both with receipts asked, and 491700000002 without;
waits for the two receipts; then queries each, one in upper case, an
unknown id and an empty one; cancels the first and replaces the second,
cancels an unknown id and by addresses alone (no id). As other (TRX,
same password): queries and replaces demo's first message. As demo bound
RX: queries it too. Last, as demo again, the first message once more
(the session survived the errors). Prints one JSON line: ids, and
answers as [label, command_status, message_id, final_date,
message_state, error_code] (the last four null without a body).
"""
import json
import sys
import time

import rawsmpp

port = int(sys.argv[1])
DEADLINE = time.time() + 30
seqs = iter(range(2, 1 << 31))


def submit(s, dst, reg):
    seq = next(seqs)
    s.send(0x04, seq, b"\0\x01\x01" + b"4930123\0" + b"\x01\x01" +
           dst + b"\0" + b"\0\0\0\0\0" + bytes([reg]) + b"\0\0\0" +
           b"\x05query")
    return seq


def request(s, label, cmd_id, body):
    s.send(cmd_id, next(seqs), body)
    while time.time() < DEADLINE:
        cmd, st, seq, b = s.recv()
        if cmd == 0x80000000 | cmd_id:
            if not b:
                return [label, st, None, None, None, None]
            i = b.index(b"\0")
            j = b.index(b"\0", i + 1)
            return [label, st, b[:i].decode(), b[i + 1:j].decode(),
                    b[j + 1], b[j + 2]]
        if cmd in (0x05, 0x15):
            s.send(0x80000000 | cmd, seq, b"\0" if cmd == 0x05 else b"")
    raise TimeoutError(label)


def query(s, label, mid):
    return request(s, label, 0x03, mid + b"\0\x01\x01" + b"4930123\0")


def cancel(s, label, mid):
    return request(s, label, 0x08, b"\0" + mid + b"\0\x01\x01" +
                   b"4930123\0" + b"\x01\x01" + b"491700000001\0")


def replace(s, label, mid):
    return request(s, label, 0x07, mid + b"\0\x01\x01" + b"4930123\0" +
                   b"\0\0" + b"\x01\0" + b"\x07replace")


demo = rawsmpp.Session(port, 0x09, timeout=30)
order = [submit(demo, dst, reg) for dst, reg in
         ((b"491700000001", 1), (b"491700000991", 1), (b"491700000002", 0))]
by_seq, receipts = {}, 0
while len(by_seq) < 3 or receipts < 2:
    if time.time() > DEADLINE:
        raise TimeoutError("ids %d receipts %d" % (len(by_seq), receipts))
    cmd, st, seq, b = demo.recv()
    if cmd == 0x80000004:
        assert st == 0, "submit_sm_resp 0x%x" % st
        by_seq[seq] = b.rstrip(b"\0").decode()
    elif cmd == 0x05:
        receipts += 1
        demo.send(0x80000005, seq, b"\0")
    elif cmd == 0x15:
        demo.send(0x80000015, seq, b"")
ids = [by_seq[q] for q in order]
answers = [query(demo, "delivered", ids[0].encode()),
           query(demo, "undeliverable", ids[1].encode()),
           query(demo, "no_receipt", ids[2].encode()),
           query(demo, "upper_case", ids[0].upper().encode()),
           query(demo, "unknown", b"7777777777"),
           query(demo, "empty", b""),
           cancel(demo, "cancel", ids[0].encode()),
           replace(demo, "replace", ids[1].upper().encode()),
           cancel(demo, "cancel_unknown", b"7777777777"),
           cancel(demo, "cancel_no_id", b"")]
other = rawsmpp.Session(port, 0x09, timeout=30, system_id="other")
answers.append(query(other, "other_account", ids[0].encode()))
answers.append(replace(other, "replace_other", ids[0].encode()))
rx = rawsmpp.Session(port, 0x01, timeout=30)
answers.append(query(rx, "receiver", ids[0].encode()))
answers.append(query(demo, "again", ids[0].encode()))
print(json.dumps({"ids": ids, "answers": answers}))
