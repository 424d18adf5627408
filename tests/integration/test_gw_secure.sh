#!/usr/bin/env bash
# The secure path on the gateway side, with the real binaries (smpp-bench
# and a raw Python ESME -> sealgate -> smsc-sim), on the backend in
# SG_BACKEND:
#   - a marked message to an unregistered number: ESME_ROK and a gateway
#     id; the handset's inbox has the notice (with the short reference)
#     and neither the content nor the prefix; unmarked messages still
#     pass through (receipt DELIVRD), a TLV with value 0 is not a mark;
#   - each marking kind: prefix (any case, GSM 7 and UCS-2, in
#     message_payload), service_type, vendor TLV;
#   - multipart marked messages (UDH 8-bit, UDH 16-bit, SAR) become one
#     message; a later part sent before its part 1 is held, never passed
#     through; an unmarked multipart passes through whole; an incomplete
#     one expires with UNDELIV for each part received;
#   - not an MSISDN: ESME_RINVDSTADR; over max_message_bytes:
#     ESME_RINVMSGLEN; a notice that cannot be sent: UNDELIV; ENROUTE when
#     intermediates are asked;
#   - kill -9 right after the ROK: after a restart the message is there
#     (the simulated app registers, fetches and opens it: text equal, and
#     the ESME gets DELIVRD for its id);
#   - a notice cut off by kill -9 (SMSC down, retrying) is sent after the
#     restart;
#   - retention without an ack: EXPIRED; `sealgate keys new` and the
#     re-wrap job; a vault key file with mode 0644: sealgate refuses to
#     start and names the file. /metrics has the secure counters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
KP=$(sg_free_port); DP=$(sg_free_port)
URL=$(gw_storage_url)
V=$SG_TMP/var
mkdir -p "$V"

# gw_config RETENTION: the gateway's config (handset API on, a dead link
# for 4917099...: notices there cannot be sent).
gw_config() {
	cat >"$SG_TMP/gw.yaml" <<YAML
instance_id: 9
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {port: $KP, cert: "$V/api.crt", key: "$V/api.key"}
storage: {url: "$URL"}
log: {level: debug}
drain_time: 3s
secure:
  enabled: true
  vault_dir: "$V/vault"
  otp_secret: "$V/otp.secret"
  retention: $1
  reassembly_timeout: 3s
  max_message_bytes: 1000
  max_per_msisdn: 4
accounts:
  - system_id: demo
    password_hash: "$GW_HASH"
    secure: {prefix: "#secure ", service_type: SECUR, tlv: true}
links:
  - {name: sim, host: 127.0.0.1, port: $SP, system_id: gw, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
  - {name: dead, host: 127.0.0.1, port: $DP, system_id: gw, password: pw, reconnect_min: 1s, reconnect_max: 5s}
groups:
  g: [sim]
  d: [dead]
routes:
  - {prefix: "", groups: [g]}
  - {prefix: "4917099", groups: [d]}
mo_routes:
  - {prefix: "", account: demo}
YAML
}

# inbox MSISDN: the texts in the simulated handset's inbox, one a line.
inbox() {
	curl -sf "http://127.0.0.1:$HP/api/handsets/$1" |
	    jq -r '.messages[] | select(.dir == "in") | .text' 2>/dev/null
}

# wait_inbox MSISDN TEXT [SECONDS]: until the inbox has a message
# containing TEXT.
wait_inbox() {
	for _ in $(seq 1 $((${3:-5} * 20))); do
		inbox "$1" | grep -qF -- "$2" && return 0
		sleep 0.05
	done
	sg_fail "'$2' not in the inbox of $1: $(inbox "$1")"
}

# secure_ok MSISDN CONTENT WHAT: the inbox has exactly the notices and
# never CONTENT (nor the prefix).
secure_ok() {
	local box
	wait_inbox "$1" "sent you a secure message"
	box=$(inbox "$1")
	case "$box" in
	*"$2"*|*"#secure"*|*"#SECURE"*) sg_fail "$3: content on the handset: $box" ;;
	esac
}

# gw_id: the message_id in OUT (smpp-bench send).
gw_id() {
	sed -n 's/^submit_sm 1\/[0-9]*: ESME_ROK.*message_id=\([^ ]*\).*/\1/p' \
	    <<<"$OUT"
}

send() {
	gw_send --system-id demo --password demopass "$@"
}

cat >"$SG_TMP/esme.py" <<'PY'
# A raw ESME: esme.py PORT WAIT ITEM...; ITEM is
#   udh:REF:TOTAL:SEQ:DEST:TEXT  a part with an 8-bit reference UDH
#   sar:REF:TOTAL:SEQ:DEST:TEXT  a part numbered by the SAR TLVs
# (GSM 7 unpacked, registered_delivery 1). Prints "resp I status=S id=ID"
# per item, then "receipt id=ID stat=N" per deliver_sm for WAIT seconds.
import socket, struct, sys, time

port, wait = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=wait + 10)

def send(cmd, seq, body):
    s.sendall(struct.pack(">IIII", 16 + len(body), cmd, 0, seq) + body)

def recv(deadline):
    s.settimeout(max(0.05, deadline - time.time()))
    hdr = b""
    while len(hdr) < 16:
        c = s.recv(16 - len(hdr))
        if not c:
            raise EOFError
        hdr += c
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
cmd, st, _, _ = recv(time.time() + 10)
assert cmd == 0x80000009 and st == 0, "bind: 0x%x 0x%x" % (cmd, st)
seqs = {}
for i, item in enumerate(sys.argv[3:]):
    kind, ref, total, seq, dest, text = item.split(":", 5)
    ref, total, seq = int(ref), int(total), int(seq)
    sm, esm, extra = text.encode(), 0, b""
    if kind == "udh":
        sm = bytes([5, 0, 3, ref & 0xFF, total, seq]) + sm
        esm = 0x40
    else:
        extra = (struct.pack(">HHH", 0x020C, 2, ref) +
                 struct.pack(">HHB", 0x020E, 1, total) +
                 struct.pack(">HHB", 0x020F, 1, seq))
    body = (b"\0" + b"\x05\x00Bench\0" + b"\x01\x01" + dest.encode() + b"\0"
            + bytes([esm, 0, 0]) + b"\0\0" + bytes([1, 0, 0, 0, len(sm)])
            + sm + extra)
    seqs[10 + i] = i
    send(0x04, 10 + i, body)
end = time.time() + wait
got = 0
while time.time() < end:
    try:
        cmd, st, seq, b = recv(end)
    except (socket.timeout, EOFError):
        break
    if cmd == 0x80000004:
        print("resp %d status=0x%08x id=%s" % (seqs[seq], st,
              b.rstrip(b"\0").decode()), flush=True)
    elif cmd == 0x00000005:
        i = b.index(b"\0") + 3                  # service_type, ton, npi
        i = b.index(b"\0", i) + 3               # source_addr, ton, npi
        i = b.index(b"\0", i) + 4               # dest, esm, pid, prio
        i = b.index(b"\0", i) + 1               # schedule
        i = b.index(b"\0", i) + 6               # validity .. sm_length
        sml = b[i - 1]
        t = tlvs(b[i + sml:])
        rid = t.get(0x001E, b"").rstrip(b"\0").decode()
        state = t.get(0x0427, b"\0")[0]
        print("receipt id=%s stat=%d" % (rid, state), flush=True)
        send(0x80000005, seq, b"\0")
send(0x06, 99, b"")
PY

# esme WAIT ITEM...: OUT, RC.
esme() {
	RC=0
	OUT=$(timeout 60 python3 "$SG_TMP/esme.py" "$GP" "$@" 2>&1) || RC=$?
}

gw_config 1h
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP" \
    --app-api "https://127.0.0.1:$KP" --app-insecure
SIM_PID=$SG_LAST_PID
sg_wait_port "$SP"; sg_wait_port "$HP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1
gw_wait_log gw "secure start keys=1"

# --- one marked message, and pass-through beside it -----------------------
send --to 491700000001 --text "#secure the launch code is 4711" \
    --registered-delivery 1
sg_assert_eq "$RC" 0 "marked send ($OUT)"
id=$(gw_id)
[[ $id =~ ^[0-9a-f]{1,16}$ ]] || sg_fail "no gateway id: $OUT"
secure_ok 491700000001 "launch code" "prefix"
sg_assert_contains "$(inbox 491700000001)" "(ref ${id: -6})" "short reference"
gw_wait_log gw "$id secure stored account=demo state=vault devices=0 parts=1 size=23"
send --to 491700000002 --text "plain hello" --registered-delivery 1 \
    --wait-receipt 5
sg_assert_eq "$RC" 0 "unmarked send ($OUT)"
sg_assert_contains "$OUT" "stat=DELIVRD"
wait_inbox 491700000002 "plain hello"
send --to 491700000003 --text "tlv zero" --tlv 1501:00
sg_assert_eq "$RC" 0 "tlv 0 send ($OUT)"
wait_inbox 491700000003 "tlv zero"
sg_pass "marked: ROK + id, notice without content; unmarked passes through"

# --- each marking kind ---------------------------------------------------
send --to 491700000011 --text "by service type hushword" --service-type SECUR
sg_assert_eq "$RC" 0 "service_type ($OUT)"
secure_ok 491700000011 "hushword" "service_type"
send --to 491700000012 --text "by tlv hushword" --tlv 1501:01
sg_assert_eq "$RC" 0 "tlv ($OUT)"
secure_ok 491700000012 "hushword" "tlv"
send --to 491700000013 --text "#SECURE ünïcødé hushword ✓" --encoding ucs2
sg_assert_eq "$RC" 0 "ucs2 ($OUT)"
secure_ok 491700000013 "hushword" "ucs2 prefix"
id=$(gw_id)
gw_wait_log gw "$id secure stored account=demo state=vault devices=0 parts=1 size=24"
send --to 491700000014 --text "#secure $(printf 'payload hushword %.0s' $(seq 1 20))" \
    --split payload
sg_assert_eq "$RC" 0 "payload ($OUT)"
secure_ok 491700000014 "hushword" "message_payload"
sg_pass "marking: prefix (any case, UCS-2, payload), service_type, TLV"

# --- multipart -----------------------------------------------------------
long=$(printf 'multipart hushword %.0s' $(seq 1 22))	# 418 characters
n=0
for split in udh udh16 sar; do
	n=$((n + 1))
	send --to 49170000002$n --text "#secure $long" --split $split \
	    --registered-delivery 1
	sg_assert_eq "$RC" 0 "$split send ($OUT)"
	id=$(gw_id)
	sg_assert_eq "$(grep -c '^submit_sm .*ESME_ROK' <<<"$OUT")" 3 "$split parts"
	gw_wait_log gw "$id secure stored account=demo state=vault devices=0 parts=3 size=418"
	secure_ok 49170000002$n "hushword" "$split"
	sg_assert_eq "$(inbox 49170000002$n | grep -c 'secure message')" 1 \
	    "$split: one notice"
done
send --to 491700000029 --text "plain $long" --split udh --registered-delivery 1 \
    --wait-receipt 5
sg_assert_eq "$RC" 0 "plain multipart ($OUT)"
wait_inbox 491700000029 "plain multipart hushword"
sg_pass "multipart (UDH 8/16-bit, SAR) marked: one message; unmarked passes"

# part 2 before part 1 (prefix rule): held, then the whole is sealed
esme 3 "udh:7:3:2:491700000031:second part hushword " \
    "udh:7:3:1:491700000031:#secure first part " \
    "udh:7:3:3:491700000031:third part"
sg_assert_eq "$(grep -c 'status=0x00000000' <<<"$OUT")" 3 "early part: $OUT"
first=$(sed -n 's/^resp 1 status=0x00000000 id=//p' <<<"$OUT")
gw_wait_log gw "$first secure stored account=demo state=vault devices=0 parts=3"
secure_ok 491700000031 "hushword" "early part"
sg_pass "a part before its part 1 is held, never passed through"

# an incomplete one: parts 1 and 3 of 3 expire with UNDELIV for each
esme 12 "sar:300:3:1:491700000032:#secure part one hushword " \
    "sar:300:3:3:491700000032:part three"
a=$(sed -n 's/^resp 0 status=0x00000000 id=//p' <<<"$OUT")
b=$(sed -n 's/^resp 1 status=0x00000000 id=//p' <<<"$OUT")
[ -n "$a" ] && [ -n "$b" ] || sg_fail "parts not accepted: $OUT"
sg_assert_contains "$OUT" "receipt id=$a stat=5" "UNDELIV part 1"
sg_assert_contains "$OUT" "receipt id=$b stat=5" "UNDELIV part 3"
gw_wait_log gw "secure parts_dropped account=demo parts=2"
inbox 491700000032 | grep -q . && sg_fail "incomplete parts reached the handset"
sg_pass "incomplete multipart: UNDELIV for each part after the deadline"

# --- refusals and notices ------------------------------------------------
send --to 0123456 --text "#secure x"
sg_assert_contains "$OUT" "ESME_RINVDSTADR" "national number"
send --to 491700000041 --text "#secure $(printf 'x%.0s' $(seq 1 1100))" \
    --split payload
sg_assert_contains "$OUT" "ESME_RINVMSGLEN" "over max_message_bytes"
inbox 491700000041 | grep -q . && sg_fail "a refused message was notified"
# (no link bound there: retried after 1, 2, 4 and 8 s, then failed)
send --to 491709900001 --text "#secure to a dead route" \
    --registered-delivery 1 --wait-receipt 25
sg_assert_contains "$OUT" "stat=UNDELIV" "notice failed: UNDELIV"
gw_wait_log gw "secure sms_retry status=ESME_RTHROTTLED try=4"
send --to 491700000042 --text "#secure with intermediates" \
    --registered-delivery 17 --wait-receipt 3
id=$(gw_id)
sg_assert_contains "$OUT" "receipt (intermediate): id=$id stat=ENROUTE"
for i in 1 2 3 4 5; do
	send --to 491700000043 --text "#secure number $i"
done
sg_assert_contains "$OUT" "ESME_RMSGQFUL" "the 5th for one number"
sg_assert_eq "$(inbox 491700000043 | grep -c 'secure message')" 4 \
    "4 notices for 4 held"
sg_pass "not an MSISDN, too big, over max_per_msisdn, notice failed (UNDELIV), ENROUTE"

# --- kill -9 right after the ROK ----------------------------------------
send --to 491700000051 --text "binary hushword" --encoding binary \
    --tlv 1501:01
bid=$(gw_id)
[ -n "$bid" ] || sg_fail "binary send: $OUT"
send --to 491700000051 --text "#secure survives kill -9" \
    --registered-delivery 1
id=$(gw_id)
kill -9 "$GW_PID"
sg_wait_exit "$GW_PID" 5
gw_start gw2 "$SG_TMP/gw.yaml"
gw_wait_bound 1
gw_wait_log gw2 "secure start keys=1"
"$SIM" app register 491700000051 --http-port "$HP" --wait 20 \
    >"$SG_TMP/reg.json" 2>&1 || sg_fail "register: $(cat "$SG_TMP/reg.json")"
gw_wait_log gw2 "$id secure sealed_later"
R=$("$SIM" app sync 491700000051 --http-port "$HP") || sg_fail "sync: $R"
sg_assert_contains "$R" "\"$id\"" "fetched after the restart"
A=$("$SIM" app show 491700000051 --http-port "$HP")
T=$(jq -r ".apps[0].messages[] | select(.id == \"$id\") | .text" <<<"$A")
sg_assert_eq "$T" "survives kill -9" "opened text"
T=$(jq -r ".apps[0].messages[] | select(.id == \"$bid\") |
    \"\\(.binary) \\(.content_type)\"" <<<"$A")
sg_assert_eq "$T" "true application/octet-stream" "binary kept as bytes"
send --to 491700000052 --text "next" --registered-delivery 1 --wait-receipt 5
sg_assert_contains "$OUT" "id=$id stat=DELIVRD" "DELIVRD for the acked id"
sg_pass "kill -9 after ROK: the message survives, opens, DELIVRD"

M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
sg_assert_contains "$M" "sealgate_secure_acks_total 2"
sg_assert_contains "$M" "sealgate_secure_sealed_later_total 2"
gw_metrics_format "$M"
sg_pass "/metrics: secure counters"

# --- a notice cut off by kill -9 goes after the restart ------------------
kill -TERM "$SIM_PID"
sg_wait_exit "$SIM_PID" 10
gw_wait_log gw2 "link closed link=sim"
send --to 491700000071 --text "#secure notice after a restart"
sg_assert_eq "$RC" 0 "send with the SMSC down ($OUT)"
id=$(gw_id)
gw_wait_log gw2 "secure sms_retry"
kill -9 "$GW_PID"
sg_wait_exit "$GW_PID" 5
sg_start sim2 "$SIM" --smpp-port "$SP" --http-port "$HP" \
    --app-api "https://127.0.0.1:$KP" --app-insecure
sg_wait_port "$SP"; sg_wait_port "$HP"
gw_start gw2b "$SG_TMP/gw.yaml"
gw_wait_log gw2b "$id secure notice_resent state=vault" 15
wait_inbox 491700000071 "(ref ${id: -6})" 10
sg_pass "a notice cut off by kill -9 is sent after the restart"

# --- retention, key rotation, permissions -------------------------------
gw_stop
gw_config 4s
"$SEALGATE" keys new -c "$SG_TMP/gw.yaml" >"$SG_TMP/kid" ||
    sg_fail "keys new: $(cat "$SG_TMP/kid")"
L=$("$SEALGATE" keys list -c "$SG_TMP/gw.yaml") || sg_fail "keys list: $L"
sg_assert_eq "$(wc -l <<<"$L")" 2 "two keys"
sg_assert_contains "$L" "$(cat "$SG_TMP/kid") (current)"
gw_start gw3 "$SG_TMP/gw.yaml"
gw_wait_log gw3 "secure start keys=2"
# the vault messages from before (not yet expired) get the new key
gw_wait_log gw3 "secure rewrapped records="
send --to 491700000061 --text "#secure nobody reads this" \
    --registered-delivery 1 --wait-receipt 15
id=$(gw_id)
sg_assert_contains "$OUT" "receipt 1/1: id=$id stat=EXPIRED" "EXPIRED"
gw_stop
sg_pass "re-wrap under a new key; retention without an ack: EXPIRED"

chmod 0644 "$V"/vault/*.key
gw_config 1h
RC=0
timeout 20 "$SEALGATE" -c "$SG_TMP/gw.yaml" >"$SG_TMP/bad.log" 2>&1 || RC=$?
sg_assert_eq "$RC" 1 "exit status with a 0644 key"
grep -q "secure_failed why=\"vault: $V/vault/k[^ ]*\.key: mode 0644, want 0600\"" \
    "$SG_TMP/bad.log" || sg_fail "no clear error: $(grep err "$SG_TMP/bad.log")"
chmod 0600 "$V"/vault/*.key
sg_pass "vault key with mode 0644: refused to start, file named"

# a lost vault dir: sealgate starts with a new key ring, and says loudly
# that the messages held under the old keys can never be opened
gw_start gw4 "$SG_TMP/gw.yaml"
gw_wait_bound 1
gw_wait_log gw4 "secure start keys=2"
send --to 491700000062 --text "#secure sealed under a key then lost"
sg_assert_eq "$RC" 0 "send before the loss ($OUT)"
id=$(gw_id)
gw_wait_log gw4 "$id secure stored account=demo state=vault"
gw_stop
mv "$V/vault" "$V/vault.lost"
gw_start gw5 "$SG_TMP/gw.yaml"
gw_wait_log gw5 "secure start keys=1"
gw_wait_log gw5 "secure vault_key_missing records="
gw_stop
rm -rf "$V/vault"
mv "$V/vault.lost" "$V/vault"
sg_pass "a lost vault key ring: vault_key_missing at start"

# no message content in any log line
for f in "$SG_TMP"/gw*.log; do
	grep -E "launch code|hushword|survives kill|nobody reads" "$f" &&
	    sg_fail "content in $f"
done
sg_pass "no message content in the logs"
