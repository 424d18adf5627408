#!/usr/bin/env bash
# Kannel (bearerbox + smsbox, the Debian package) as the ESME in front of
# sealgate, on the backend in SG_BACKEND, with smsc-sim behind it. Kannel
# binds twice: "trx" as a transceiver taking ids as they come, "txrx" as
# a transmitter and a receiver with msg-id-type 0x03 (it reads the ids in
# submit_sm_resp and in receipts as hex numbers through a signed 64-bit
# integer, which is why gateway hex ids stay below 2^63).
#  - MT with receipts: sendsms with dlr-mask 31 on both SMSC groups, to
#    delivered and undelivered numbers. Every message's dlr-url is called
#    for the SMSC's acceptance (8), the intermediate receipt (4) and the
#    final one (1 delivered, 2 failed), all under one foreign id, and
#    bearerbox never reports a receipt it could not match (as it does for
#    an ENROUTE that comes after its DELIVRD).
#  - MO: a GSM and a UCS2 text from a simulated handset reach smsbox's
#    get-url with sender, receiver, coding and text intact.
# Needs bearerbox and smsbox (apt-get install kannel; .ci/deps.sh
# --browser installs it). Without them: skipped (77), except in CI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

PATH=$PATH:/usr/sbin:/usr/local/sbin
command -v bearerbox >/dev/null 2>&1 && command -v smsbox >/dev/null 2>&1 ||
    sg_skip_outside_ci "no Kannel (apt-get install kannel, or bash .ci/deps.sh --browser)"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
KA=$(sg_free_port); KB=$(sg_free_port); KS=$(sg_free_port); CP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
gw_one_link_config info
# A second account for Kannel's second SMSC group (one system_id per
# group, as operators hand them out: Kannel matches a receipt by the
# group it came in on, and a system_id's receipts may come on any of its
# receivers); every MO to demo.
sed -i -e 's/^mo_routes: \[\]$/mo_routes:\n  - {prefix: "", account: demo}/' \
    -e 's/^\(  - {system_id: \)demo\(, .*\)$/&\n\1demo2\2/' "$SG_TMP/gw.yaml"
grep -q 'account: demo}' "$SG_TMP/gw.yaml" || sg_fail "no MO route in gw.yaml"
grep -q 'system_id: demo2' "$SG_TMP/gw.yaml" || sg_fail "no demo2 in gw.yaml"

# kannel_smsc ID USER PORT_KEY EXTRA: an SMPP connection group to sealgate.
# PORT_KEY port: a transmitter (a transceiver with EXTRA
# transceiver-mode = true); receive-port: a receiver. Groups with one
# smsc-id are one SMSC to Kannel.
kannel_smsc() {
	cat <<GROUP
group = smsc
smsc = smpp
smsc-id = $1
allowed-smsc-id = $1
host = 127.0.0.1
$3 = $GP
smsc-username = $2
smsc-password = demopass
system-type = ""
enquire-link-interval = 5
reconnect-delay = 1
$4
GROUP
}

cat >"$SG_TMP/kannel.conf" <<CONF
group = core
admin-port = $KA
admin-password = adm
status-password = adm
admin-allow-ip = "127.0.0.1"
smsbox-port = $KB
box-allow-ip = "127.0.0.1"
log-file = "$SG_TMP/bearerbox.kannel"
log-level = 0
dlr-storage = internal

$(kannel_smsc trx demo 'port' 'transceiver-mode = true')

$(kannel_smsc txrx demo2 'port' 'msg-id-type = 0x03')

$(kannel_smsc txrx demo2 'receive-port' 'msg-id-type = 0x03')

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $KB
sendsms-port = $KS
log-file = "$SG_TMP/smsbox.kannel"
log-level = 0

group = sendsms-user
username = tester
password = foobar

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "http://127.0.0.1:$CP/mo?from=%p&to=%P&coding=%c&text=%b"
CONF

sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1
sg_start catch python3 "$SG_SOURCE_DIR/tests/integration/http_catch.py" \
    "$CP" "$SG_TMP/caught"
sg_wait_port "$CP"
sg_start bearerbox bearerbox -v 2 "$SG_TMP/kannel.conf"
sg_wait_port "$KB"
sg_start smsbox smsbox -v 2 "$SG_TMP/kannel.conf"
sg_wait_port "$KS"

# Kannel's binds in sealgate: TRX as demo, TX and RX as demo2.
binds=
for _ in $(seq 1 100); do
	binds=$(curl -sf "http://127.0.0.1:$AP/metrics" |
	    sed -n 's/^sealgate_account_binds{account="\(demo2*\)"} /\1=/p' |
	    LC_ALL=C sort | tr '\n' ' ')
	[ "$binds" = "demo2=2 demo=1 " ] && break
	sleep 0.1
done
sg_assert_eq "$binds" "demo2=2 demo=1 " "Kannel's binds in sealgate"
sg_pass "Kannel bound as TRX and as TX + RX"

enc() {
	python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# n 1-5 on trx, 6-10 on txrx; 4 and 9 to a number the SMSC fails.
N=10
for n in $(seq 1 $N); do
	smsc=trx to=49170000010$n final=1
	[ "$n" -gt 5 ] && smsc=txrx
	case $n in 4|9) to=491700000991 final=2 ;; esac
	echo "$n $final" >>"$SG_TMP/want"
	dlr=$(enc "http://127.0.0.1:$CP/dlr?n=$n&type=%d&fid=%F")
	out=$(curl -sf "http://127.0.0.1:$KS/cgi-bin/sendsms?username=tester&password=foobar&smsc=$smsc&from=4930&to=$to&text=kannel+$n&dlr-mask=31&dlr-url=$dlr") ||
	    sg_fail "sendsms $n: $out"
	sg_assert_contains "$out" "Accepted for delivery" "sendsms $n"
done

# Wait for every message's three dlr-url calls.
got=0
for _ in $(seq 1 150); do
	got=$(grep -c '^/dlr?' "$SG_TMP/caught" 2>/dev/null || true)
	[ "$got" -ge $((3 * N)) ] && break
	sleep 0.1
done
sleep 0.5	# a late extra one would show now
# Per message: "n types fids" with types sorted (smsbox calls the URLs
# from several threads, so their order at the catcher is not the
# order bearerbox matched them in; the unmatched count below is).
python3 - "$SG_TMP/caught" >"$SG_TMP/dlrs" <<'PY'
import sys, urllib.parse
per = {}
for line in open(sys.argv[1]):
    if not line.startswith("/dlr?"):
        continue
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(line.strip()).query,
                              keep_blank_values=True)
    n = int(q["n"][0])
    per.setdefault(n, []).append((int(q["type"][0]), q["fid"][0]))
for n in sorted(per):
    types = ",".join(str(t) for t, _ in sorted(per[n]))
    fids = sorted({f for _, f in per[n]})
    print(n, types, ",".join(fids) if all(fids) else "EMPTY")
PY
while read -r n final; do
	line=$(grep "^$n " "$SG_TMP/dlrs" || true)
	want="1,4,8"
	[ "$final" = 2 ] && want="2,4,8"
	types=$(cut -d' ' -f2 <<<"$line")
	fids=$(cut -d' ' -f3 <<<"$line")
	sg_assert_eq "$types" "$want" "message $n: dlr-url types (all: $(cat "$SG_TMP/dlrs"))"
	case $fids in
	*,*|EMPTY|"") sg_fail "message $n: not one foreign id: '$fids'" ;;
	esac
done <"$SG_TMP/want"
sg_assert_eq "$(cut -d' ' -f3 "$SG_TMP/dlrs" | sort -u | wc -l)" $N \
    "distinct foreign ids"
unmatched=$(grep -c "could not find message" "$SG_TMP/bearerbox.kannel" || true)
sg_assert_eq "$unmatched" 0 "receipts bearerbox could not match: $(grep -m3 "could not find message" "$SG_TMP/bearerbox.kannel")"
# msg-id-type 0x03: bearerbox turned the hex ids into decimal numbers; a
# hex id at or above 2^63 would have been clamped, and every receipt then
# matched the same one (or none).
for n in 6 7; do
	fid=$(grep "^$n " "$SG_TMP/dlrs" | cut -d' ' -f3)
	[[ $fid =~ ^[0-9]+$ ]] || sg_fail "txrx message $n: foreign id '$fid' is not decimal"
	[ "$fid" != 9223372036854775807 ] || sg_fail "txrx message $n: id clamped at 2^63-1"
done
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
sg_assert_contains "$M" "sealgate_receipts_unknown_total 0" "receipts sealgate could not map"
sg_pass "$N messages: acceptance, ENROUTE and final receipt each matched by Kannel on TRX and on TX+RX (msg-id-type 0x03)"

# MO: GSM text and UCS2 text from a handset.
curl -sf -X POST -d '{"from":"491701234567","to":"4930","text":"hi kannel"}' \
    "http://127.0.0.1:$HP/api/mo" >/dev/null || sg_fail "sim MO (GSM)"
curl -sf -X POST -d '{"from":"491701234568","to":"4931","text":"Grüße € ✓"}' \
    "http://127.0.0.1:$HP/api/mo" >/dev/null || sg_fail "sim MO (UCS2)"
for _ in $(seq 1 100); do
	[ "$(grep -c '^/mo?' "$SG_TMP/caught" || true)" -ge 2 ] && break
	sleep 0.1
done
python3 - "$SG_TMP/caught" >"$SG_TMP/mos" <<'PY'
import sys, urllib.parse
for line in open(sys.argv[1]):
    if not line.startswith("/mo?"):
        continue
    query = urllib.parse.urlsplit(line.strip()).query
    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True,
                                    encoding="latin-1"))
    raw = q["text"].encode("latin-1")
    text = raw.decode("utf-16-be" if q["coding"] == "2" else "utf-8")
    print(q["from"], q["to"], q["coding"], text)
PY
sg_assert_eq "$(grep -c . "$SG_TMP/mos")" 2 "MO at smsbox's get-url ($(cat "$SG_TMP/caught"))"
grep -qx '+491701234567 4930 0 hi kannel' "$SG_TMP/mos" ||
    sg_fail "GSM MO: $(cat "$SG_TMP/mos")"
grep -qx '+491701234568 4931 2 Grüße € ✓' "$SG_TMP/mos" ||
    sg_fail "UCS2 MO: $(cat "$SG_TMP/mos")"
sg_pass "MO in GSM and UCS2 reached Kannel's get-url intact"

gw_stop
