#!/usr/bin/env bash
# data_sm through sealgate, on the backend in SG_BACKEND: an ESME's
# data_sm (text in message_payload, receipt asked) goes down unchanged,
# the ESME gets data_sm_resp ESME_ROK with a gateway id, and the receipt
# comes back carrying that id. The ESME is a few lines of Python speaking
# raw SMPP (smpp-bench sends submit_sm only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
gw_one_link_config debug 'source_addresses: ["4930*"]'
gw_run_with_sim

cat >"$SG_TMP/esme.py" <<'PY'
import socket, struct, sys

port, src = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", port), timeout=10)

def send(cmd, seq, body):
    s.sendall(struct.pack(">IIII", 16 + len(body), cmd, 0, seq) + body)

def recv():
    hdr = b""
    while len(hdr) < 16:
        hdr += s.recv(16 - len(hdr))
    n, cmd, st, seq = struct.unpack(">IIII", hdr)
    body = b""
    while len(body) < n - 16:
        body += s.recv(n - 16 - len(body))
    return cmd, st, seq, body

def tlvs(b):
    out = {}
    while len(b) >= 4:
        t, l = struct.unpack(">HH", b[:4])
        out[t] = b[4:4 + l]
        b = b[4 + l:]
    return out

send(0x09, 1, b"demo\0demopass\0\0\x34\0\0\0")
cmd, st, _, _ = recv()
assert cmd == 0x80000009 and st == 0, "bind: 0x%x 0x%x" % (cmd, st)
text = b"hello by data_sm"
body = (b"\0" + b"\x01\x01" + src + b"\0" + b"\x01\x01" + b"491701234567\0"
        + b"\x00" + b"\x01" + b"\x00"     # esm_class, registered_delivery, dc
        + struct.pack(">HH", 0x0424, len(text)) + text)
send(0x103, 2, body)
gw_id = None
while True:
    cmd, st, seq, b = recv()
    if cmd == 0x80000103:
        print("data_sm_resp status=0x%08x id=%s" % (st, b.rstrip(b"\0").decode()))
        if st != 0:
            break
        gw_id = b.rstrip(b"\0").decode()
    elif cmd == 0x00000005:
        i = b.index(b"\0")                      # service_type
        i += 3; i = b.index(b"\0", i)           # source_addr
        i += 3; i = b.index(b"\0", i) + 1       # destination_addr
        i += 3; i = b.index(b"\0", i) + 1       # schedule
        i = b.index(b"\0", i) + 1               # validity
        i += 4; sml = b[i]; sm = b[i + 1:i + 1 + sml]
        t = tlvs(b[i + 1 + sml:])
        rid = t.get(0x001E, b"").rstrip(b"\0").decode()
        print("receipt tlv_id=%s text_id=%s" % (rid, sm.split(b" ")[0][3:].decode()))
        send(0x80000005, seq, b"\0")
        break
send(0x06, 3, b"")
PY

OUT=$(timeout 15 python3 "$SG_TMP/esme.py" "$GP" 4930123 2>&1) ||
    sg_fail "python ESME: $OUT"
id=$(sed -n 's/^data_sm_resp status=0x00000000 id=\(.*\)$/\1/p' <<<"$OUT")
[[ $id =~ ^[0-9a-f]{1,16}$ ]] || sg_fail "no gateway id: $OUT"
sg_assert_contains "$OUT" "receipt tlv_id=$id text_id=$id" "receipt"
sg_pass "data_sm: ROK with a gateway id, receipt mapped (TLV and text)"

OUT=$(timeout 15 python3 "$SG_TMP/esme.py" "$GP" 5550123 2>&1) ||
    sg_fail "python ESME: $OUT"
sg_assert_contains "$OUT" "data_sm_resp status=0x0000000a" "spoofed source"
gw_stop
sg_pass "data_sm: the account's checks apply (ESME_RINVSRCADR)"
