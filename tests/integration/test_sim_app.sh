#!/usr/bin/env bash
# The simulated handset app without sealgate: against handset_api_stub.py
# (the handset API written from the contract in Python, with test hooks)
# over HTTPS with a throw-away certificate.
#  - control API validation: bad MSISDN, unknown scheme/mode/field, bad
#    JSON -> 400 JSON; state of an unknown handset -> 404; operations on an
#    unregistered app -> 404/409; nothing made by a refused request;
#  - the API unreachable, the wrong CA, a silent server: the registration
#    fails with a clear error and the simulator keeps working;
#  - flow A (code SMS read from the inbox, x25519), flow B (the app texts
#    SEAL CODE to 7277 through the sim's MO path, p256, the code posted
#    before the gateway saw the MO), a second device (rsa2048);
#  - sync: a good message opens (text equal) and is acked; tampered tag,
#    AAD, id, key context and scheme are "cannot be opened", not acked, no
#    text kept; both devices open their copy; reply; revoke; the web page
#    (headless Chromium, when installed) marks them "secure";
#  - the stub restarted under a keep-alive connection: the next request
#    reconnects (an API answer, not a transport error);
#  - no code, token or message text in the simulator's log.
. "$(dirname "$0")/lib.sh"

SIM=$(sg_bin smsc-sim)
BENCH=$(sg_bin smpp-bench)
CLIENT=$SG_BUILD_DIR/tests/integration/sim_client
[ -x "$CLIENT" ] || sg_fail "sim_client not built"
command -v jq >/dev/null || sg_fail "jq is needed"
python3 -c 'import cryptography' 2>/dev/null || {
	echo "skip: python3 cryptography missing"; exit 77; }
STUB=$SG_SOURCE_DIR/tests/integration/handset_api_stub.py

SP=$(sg_free_port); HP=$(sg_free_port); AP=$(sg_free_port)
DEAD=$(sg_free_port); SILENT=$(sg_free_port)
C="http://127.0.0.1:$HP"
mkdir -p "$SG_TMP/st"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$SG_TMP/api.key" -out "$SG_TMP/api.crt" -days 2 \
    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
    sg_fail "openssl req"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$SG_TMP/other.key" -out "$SG_TMP/other.crt" -days 2 \
    -subj /CN=other -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

start_stub() {
	sg_start "stub$1" python3 "$STUB" "$AP" "$SG_TMP/api.crt" \
	    "$SG_TMP/api.key" "$SG_TMP/st"
	STUB_PID=$SG_LAST_PID
	sg_wait_port "$AP" 20
}
stub() {	# stub METHOD PATH [JSON]
	curl -s --cacert "$SG_TMP/api.crt" -X "$1" "https://127.0.0.1:$AP$2" \
	    ${3:+-d "$3"}
}
# api METHOD PATH [JSON]: control API call; B = body, S = status.
api() {
	local out
	out=$(curl -s -w '\n%{http_code}' -X "$1" "$C$2" ${3:+-d "$3"})
	S=${out##*$'\n'}
	B=${out%$'\n'*}
}
app_state() {	# app_state MSISDN [DEVICE]: the device's JSON
	curl -s "$C/api/handsets/$1/app" |
	    jq -c --arg d "${2:-a}" '.apps[] | select(.device == $d)'
}
# wait_state MSISDN DEVICE: until its registration ended; A = its JSON.
wait_state() {
	for _ in $(seq 1 300); do
		A=$(app_state "$1" "$2")
		[ "$(jq -r .busy <<<"$A")" = "" ] && return 0
		sleep 0.1
	done
	sg_fail "registration of $1/$2 did not end: $A"
}

cat >"$SG_TMP/sim.yaml" <<YAML
accept_any: true
app:
  api_url: https://127.0.0.1:$AP
  ca_file: $SG_TMP/api.crt
  timeout_ms: 3000
  code_wait_ms: 10000
YAML
start_stub 1
sg_start sim "$SIM" -c "$SG_TMP/sim.yaml" --smpp-port "$SP" --http-port "$HP" \
    --log-level debug
SIM_PID=$SG_LAST_PID
sg_wait_port "$SP"; sg_wait_port "$HP"

# ---- control API validation -------------------------------------------
check400() {	# check400 PATH JSON ERROR
	api POST "$1" "$2"
	sg_assert_eq "$S" 400 "$1 $2"
	sg_assert_eq "$(jq -r .error <<<"$B")" "$3" "$1 $2: error code"
	jq -e '.message | length > 0' >/dev/null <<<"$B" ||
	    sg_fail "$1 $2: no message"
}
check400 /api/handsets/4917/app/register '{}' bad_msisdn
check400 /api/handsets/04917000000/app/register '{}' bad_msisdn
check400 /api/handsets/49170abc000/app/register '{}' bad_msisdn
check400 /api/handsets/4917000000000000/app/register '{}' bad_msisdn
check400 /api/handsets/491700000009/app/register '{"scheme":"ed448"}' bad_scheme
check400 /api/handsets/491700000009/app/register '{"mode":"push"}' bad_mode
check400 /api/handsets/491700000009/app/register '{"device":"A!"}' bad_device
check400 /api/handsets/491700000009/app/register '{"colour":"red"}' unknown_field
check400 /api/handsets/491700000009/app/register '{"scheme":7}' bad_field
check400 /api/handsets/491700000009/app/register '{"replace":"yes"}' bad_field
check400 /api/handsets/491700000009/app/register '{"mode":' bad_json
check400 /api/handsets/491700000009/app/reply '{"text":"x"}' bad_field
check400 /api/handsets/491700000009/app/reply '{"id":"../x","text":"x"}' bad_field
api GET /api/handsets/491700000009/app
sg_assert_eq "$S" 404 "app of an unknown handset"
sg_assert_eq "$(jq -r .error <<<"$B")" no_app "404 error code"
api GET /api/handsets/4917/app
sg_assert_eq "$S" 400 "GET app with a bad MSISDN"
for v in sync revoke; do
	api POST /api/handsets/491700000009/app/$v '{}'
	sg_assert_eq "$S" 404 "$v of an unknown app"
done
api GET /api/handsets/491700000009/app/sync
sg_assert_eq "$S" 405 "GET on a POST verb"
api POST /api/handsets/491700000009/app/frob '{}'
sg_assert_eq "$S" 404 "unknown verb"
# nothing was made by the refused requests
api GET /api/handsets/491700000009
sg_assert_eq "$S" 404 "a refused request made a handset"
sg_assert_eq "$(stub GET /test/state | jq .codes_posted)" 0 "stub touched"
sg_pass "control API validation: 400/404/405 JSON, nothing made"

# ---- flow A: the code SMS, read from the handset's own inbox ----------
A1=491700000001; A2=491700000002
api POST /api/handsets/$A1/app/register '{"mode":"sms"}'
sg_assert_eq "$S" 202 "register A1 ($B)"
sg_assert_eq "$(jq -r .state <<<"$B")" registering "state at once"
api POST /api/handsets/$A1/app/register '{"mode":"sms"}'
sg_assert_eq "$S" 409 "a second register while busy"
for _ in $(seq 1 100); do
	[ -s "$SG_TMP/st/code-$A1" ] && break
	sleep 0.1
done
CODE_A=$(cat "$SG_TMP/st/code-$A1")
# a notice with a short number first (not a code), then the code SMS
"$BENCH" send --port "$SP" --from Sealgate --to $A1 \
    --text "You have 1 secure message, ref 4711" >/dev/null ||
    sg_fail "smpp-bench notice"
"$BENCH" send --port "$SP" --from Sealgate --to $A1 \
    --text "Your Sealgate code is $CODE_A. It expires in 5 minutes." \
    >/dev/null || sg_fail "smpp-bench code"
wait_state $A1 a
sg_assert_eq "$(jq -r .state <<<"$A")" active "A1 state ($A)"
sg_assert_eq "$(jq -r .scheme <<<"$A")" x25519-hkdf-sha256-aes256gcm "scheme"
jq -e '.device_id | length >= 16' >/dev/null <<<"$A" || sg_fail "device id"
jq -e 'has("device_token") or has("token") | not' >/dev/null <<<"$A" ||
    sg_fail "the token is shown"
sg_pass "flow A: code read from the inbox, key proved, active"

# ---- flow B: the app texts SEAL CODE itself ----------------------------
# The stub does not speak SMPP: sim_client is the ESME that gets the MO,
# and the test hands it to the stub a second after the app posted the
# code (202 waiting_for_sms, then polling).
sg_start client "$CLIENT" "$SP" esme pw --bind trx --mo 2 --secs 60
CL_PID=$SG_LAST_PID
sleep 0.5
relay_mo() {	# relay_mo MSISDN: sim_client's MO to the stub
	local l t
	for _ in $(seq 1 100); do
		l=$(grep "mo from=$1 " "$SG_TMP/client.log" | tail -n 1 || true)
		if [ -n "$l" ]; then
			t=${l#*text=}
			sleep 1
			stub POST /test/mo "{\"msisdn\":\"$1\",\"text\":\"$t\"}" \
			    >/dev/null
			return 0
		fi
		sleep 0.1
	done
	sg_fail "no MO from $1 at the ESME"
}
relay_mo $A2 &
RELAY=$!
OUT=$("$SIM" app register $A2 --mode mo --scheme p256 --http-port "$HP" \
    --wait 30) || sg_fail "app register $A2 (mo): $OUT"
wait "$RELAY"
sg_assert_eq "$(jq -r .state <<<"$OUT")" active "A2 state ($OUT)"
sg_assert_eq "$(jq -r .scheme <<<"$OUT")" ecdh-p256-hkdf-sha256-aes256gcm "A2"
MO=$(grep "mo from=$A2 " "$SG_TMP/client.log")
[[ $MO =~ to=7277\ parts=1\ text=SEAL\ ([0-9]{6})$ ]] ||
    sg_fail "MO is not 'SEAL' + 6 digits to 7277: $MO"
CODE_B=${BASH_REMATCH[1]}
[ "$(stub GET /test/state | jq .codes_posted)" -ge 2 ] ||
    sg_fail "flow B did not post its code (202 then poll)"
# the MO shows in the handset's list as sent
api GET /api/handsets/$A2
sg_assert_eq "$(jq -r '.messages[-1].dir + " " + .messages[-1].to' <<<"$B")" \
    "out 7277" "the MO in the handset view"
sg_pass "flow B: MO 'SEAL <6 digits>' to 7277, code posted, polled, active"

# a second device of A2, RSA-2048, flow B again
relay_mo_second() {	# relay_mo_second N0: the MO after the first N0
	local l t n n0=$1
	for _ in $(seq 1 200); do
		n=$(grep -c "mo from=$A2 " "$SG_TMP/client.log" || true)
		if [ "$n" -gt "$n0" ]; then
			l=$(grep "mo from=$A2 " "$SG_TMP/client.log" | tail -n 1)
			t=${l#*text=}
			stub POST /test/mo "{\"msisdn\":\"$A2\",\"text\":\"$t\"}" \
			    >/dev/null
			return 0
		fi
		sleep 0.05
	done
}
n0=$(grep -c "mo from=$A2 " "$SG_TMP/client.log" || true)
relay_mo_second "$n0" &
RELAY=$!
OUT=$("$SIM" app register $A2 --mode mo --scheme rsa2048 --device b \
    --http-port "$HP" --wait 30) || sg_fail "app register $A2/b: $OUT"
wait "$RELAY" || true
sg_assert_eq "$(jq -r .scheme <<<"$OUT")" rsa-oaep-sha256-aes256gcm "A2/b"
sg_pass "a second device (rsa2048) on the same handset"

# ---- sync: open, ack; tampered envelopes refused, not acked ------------
TEXT='Your PIN letter: 4711 — Grüße ✓'
good=$(stub POST /test/message "{\"msisdn\":\"$A1\",\"text\":\"$TEXT\"}" |
    jq -r .id)
declare -A bad
for t in tag aad id key scheme; do
	bad[$t]=$(stub POST /test/message \
	    "{\"msisdn\":\"$A1\",\"text\":\"tampered $t secret\",\"tamper\":\"$t\"}" |
	    jq -r .id)
done
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$S" 200 "sync A1 ($B)"
sg_assert_eq "$(jq -c .opened <<<"$B")" "[\"$good\"]" "opened"
sg_assert_eq "$(jq .acked <<<"$B")" 1 "acked"
sg_assert_eq "$(jq '.failed | length' <<<"$B")" 5 "failed"
for t in tag aad id key scheme; do
	sg_assert_eq "$(jq -r --arg i "${bad[$t]}" \
	    '.failed[] | select(.id == $i) | .error' <<<"$B")" \
	    "cannot be opened" "tampered $t"
done
ST=$(stub GET /test/state)
sg_assert_eq "$(jq -c .acks <<<"$ST")" "[\"$good\"]" "only the good one acked"
A=$(app_state $A1)
sg_assert_eq "$(jq -r --arg i "$good" '.messages[] | select(.id == $i) | .text' <<<"$A")" \
    "$TEXT" "opened text"
sg_assert_eq "$(jq '[.messages[] | select(.state == "cannot_be_opened")] | length' <<<"$A")" \
    5 "unopenable kept as such"
jq -e '[.messages[] | select(.state != "opened") | has("text")] | any | not' \
    >/dev/null <<<"$A" || sg_fail "text kept for an unopenable message"
grep -q "tampered" <<<"$A" && sg_fail "tampered plaintext shown: $A"
# a second sync: the unopenable ones are listed again, still not acked
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$(jq .listed <<<"$B")" 5 "second sync lists the unacked"
sg_assert_eq "$(jq .acked <<<"$B")" 0 "second sync acks nothing"
sg_pass "sync: opened and acked; tag/AAD/id/key/scheme tampering refused, not acked"

# the web page (headless Chromium, if installed) shows them marked
# "secure", apart from the SMS, and the unopenable ones without text
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
	DOM=$(timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$SG_TMP/chromium" --virtual-time-budget=3000 \
	    --dump-dom "$C/" 2>/dev/null) || sg_fail "chromium --dump-dom"
	sg_assert_contains "$DOM" "<div class=\"sms secure\"><span class=\"badge\">secure</span>" \
	    "secure message marked"
	sg_assert_contains "$DOM" "<span class=\"text\">$TEXT</span>" \
	    "opened text on the page"
	n=$(grep -o '<div class="sms secure unopenable">' <<<"$DOM" | wc -l)
	sg_assert_eq "$n" 5 "unopenable messages on the page"
	grep -q "tampered" <<<"$DOM" && sg_fail "tampered text on the page"
	sg_assert_contains "$DOM" "secure app a: active" "app state on the page"
	sg_pass "web page: secure messages marked apart, unopenable ones without text"
else
	echo "skip: no $CHROMIUM for the web page check"
fi

# both devices of A2 open the message sealed to each
m2=$(stub POST /test/message "{\"msisdn\":\"$A2\",\"text\":\"for both\"}" |
    jq -r .id)
for d in a b; do
	OUT=$("$SIM" app sync $A2 --device $d --http-port "$HP") ||
	    sg_fail "sync $A2/$d: $OUT"
	sg_assert_eq "$(jq -c .opened <<<"$OUT")" "[\"$m2\"]" "device $d opened"
	sg_assert_eq "$(app_state $A2 $d | jq -r '.messages[-1].text')" \
	    "for both" "device $d text"
done
sg_pass "two devices (p256, rsa2048) both open their copy"

# 503 unavailable (storage busy) is retried: twice busy, the sync still
# works; four times (beyond the 3 retries), the gateway's 503 is reported
m3=$(stub POST /test/message "{\"msisdn\":\"$A1\",\"text\":\"after busy\"}" |
    jq -r .id)
stub POST /test/busy '{"n": 2}' >/dev/null
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$S" 200 "sync through 2 x 503 ($B)"
sg_assert_eq "$(jq -c .opened <<<"$B")" "[\"$m3\"]" "opened after 503s"
stub POST /test/busy '{"n": 4}' >/dev/null
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$S" 502 "sync through 4 x 503"
sg_assert_eq "$(jq -r '(.status|tostring) + " " + .api_error' <<<"$B")" \
    "503 unavailable" "the last 503 passed on"
sg_pass "503 unavailable retried (3 times), then reported"

# reply, revoke
OUT=$("$SIM" app reply $A1 "$good" "Danke ✓" --http-port "$HP") ||
    sg_fail "reply: $OUT"
sg_assert_eq "$(stub GET /test/state | jq -r '.replies[-1].text')" "Danke ✓" \
    "reply text at the API"
RC=0; OUT=$("$SIM" app reply $A1 nosuchid "x" --http-port "$HP") || RC=$?
sg_assert_eq "$RC" 1 "reply to an unknown id: exit status"
sg_assert_eq "$(jq -r .api_error <<<"$OUT")" not_found "reply 404 passed on"
OUT=$("$SIM" app revoke $A2 --device b --http-port "$HP") ||
    sg_fail "revoke: $OUT"
sg_assert_eq "$(app_state $A2 b | jq -r .state)" revoked "state after revoke"
app_state $A2 b | jq -e 'has("device_id") | not' >/dev/null ||
    sg_fail "revoked device still shows its id"
api POST /api/handsets/$A2/app/sync '{"device":"b"}'
sg_assert_eq "$S" 409 "sync after revoke"
sg_pass "reply reaches the API; revoke forgets the key"

# re-key: a new registration of A1's app; once active, its old device is
# revoked at the API (the number keeps one device), the new key opens
old_id=$(app_state $A1 | jq -r .device_id)
n_dev=$(stub GET /test/state | jq .devices)
rm -f "$SG_TMP/st/code-$A1"
api POST /api/handsets/$A1/app/register '{"mode":"sms","scheme":"p256"}'
sg_assert_eq "$S" 202 "re-key A1"
for _ in $(seq 1 100); do
	[ -s "$SG_TMP/st/code-$A1" ] && break
	sleep 0.1
done
"$BENCH" send --port "$SP" --from Sealgate --to $A1 \
    --text "Your code: $(cat "$SG_TMP/st/code-$A1")" >/dev/null ||
    sg_fail "smpp-bench code (re-key)"
wait_state $A1 a
sg_assert_eq "$(jq -r .state <<<"$A")" active "A1 after re-key ($A)"
[ "$(jq -r .device_id <<<"$A")" != "$old_id" ] || sg_fail "same device id"
for _ in $(seq 1 50); do
	grep -q "$A1 app revoked_old device=a status=204" "$SG_TMP/sim.log" &&
	    break
	sleep 0.1
done
grep -q "$A1 app revoked_old device=a status=204" "$SG_TMP/sim.log" ||
    sg_fail "the old device was not revoked"
sg_assert_eq "$(stub GET /test/state | jq .devices)" "$n_dev" "devices after re-key"
m4=$(stub POST /test/message "{\"msisdn\":\"$A1\",\"text\":\"new key\"}" |
    jq -r .id)
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$(jq -c .opened <<<"$B")" "[\"$m4\"]" "opened with the new key"
sg_pass "re-key: new device, the old one revoked, the new key opens"

# ---- the stub restarts under a keep-alive connection --------------------
TOKENS=$(stub GET /test/state | jq -r '.tokens[]')
[ "$(wc -l <<<"$TOKENS")" -eq 4 ] || sg_fail "4 device tokens: $TOKENS"
kill "$STUB_PID"
sg_wait_exit "$STUB_PID" 10
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$S" 502 "sync with the API down"
sg_assert_eq "$(jq -r .error <<<"$B")" api_unreachable "API down: error"
start_stub 2
api POST /api/handsets/$A1/app/sync '{}'
sg_assert_eq "$S" 502 "sync after the restart ($B)"
# a fresh connection: the new stub answers (it forgot the device: 401)
sg_assert_eq "$(jq -r .api_error <<<"$B")" unauthorized "reconnected"
sg_pass "a closed keep-alive connection is replaced"

# ---- the API unreachable, the wrong CA, a silent server ------------------
python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8); c = []
while True: c.append(s.accept()[0])
" "$SILENT" >"$SG_TMP/silent.log" 2>&1 &
SG_PIDS+=("$!")
sg_wait_port "$SILENT"
try_api() {	# try_api NAME URL CA EXPECT
	local p=$(sg_free_port) sp=$(sg_free_port)
	cat >"$SG_TMP/$1.yaml" <<YAML
app: {api_url: "$2", ca_file: "$3", timeout_ms: 1500}
YAML
	sg_start "$1" "$SIM" -c "$SG_TMP/$1.yaml" --smpp-port "$sp" \
	    --http-port "$p"
	local pid=$SG_LAST_PID
	sg_wait_port "$p"
	RC=0
	OUT=$("$SIM" app register 491700000077 --http-port "$p" --wait 20) ||
	    RC=$?
	sg_assert_eq "$RC" 1 "$1: exit status ($OUT)"
	sg_assert_eq "$(jq -r .state <<<"$OUT")" failed "$1: state"
	sg_assert_contains "$(jq -r .error <<<"$OUT")" "$4" "$1: error"
	curl -sf "http://127.0.0.1:$p/api/status" >/dev/null ||
	    sg_fail "$1: the simulator stopped answering"
	kill "$pid"
	sg_wait_exit "$pid" 10
	sg_assert_eq "$SG_EXIT_STATUS" 0 "$1: exit status after SIGTERM"
}
try_api dead "https://127.0.0.1:$DEAD" "$SG_TMP/api.crt" "cannot connect"
try_api wrongca "https://127.0.0.1:$AP" "$SG_TMP/other.crt" \
    "certificate verify failed"
try_api noca "https://127.0.0.1:$AP" "$SG_TMP/missing.crt" "cannot load"
try_api silent "https://127.0.0.1:$SILENT" "$SG_TMP/api.crt" \
    "no answer within 1500 ms"
try_api plain "http://127.0.0.1:$AP" "$SG_TMP/api.crt" "expected https://"
sg_pass "unreachable, wrong CA, missing CA, silent, not https: clear errors"

# ---- SIGTERM while a sync waits for a silent API ---------------------------
# (the stub stopped: the app's request hangs; the held control request
# is answered 503 at the stop, and the simulator exits 0, clean under ASan)
kill -STOP "$STUB_PID"
curl -s -o "$SG_TMP/held.out" -w '%{http_code}' -X POST \
    "$C/api/handsets/$A1/app/sync" -d '{}' >"$SG_TMP/held.code" &
HELD=$!
for _ in $(seq 1 100); do
	[ "$(app_state $A1 | jq -r .busy)" = sync ] && break
	sleep 0.05
done
[ "$(app_state $A1 | jq -r .busy)" = sync ] || sg_fail "sync not running"

kill -0 "$SIM_PID" || sg_fail "the simulator died"
LOG=$(cat "$SG_TMP/sim.log")
sg_assert_contains "$LOG" "app registered device=a"
for s in "$CODE_A" "$CODE_B" "Grüße" "for both" "Danke" "tampered" \
    $TOKENS; do
	grep -qF -- "$s" "$SG_TMP/sim.log" && sg_fail "secret in the log: $s"
done
grep -qi "bearer" "$SG_TMP/sim.log" && sg_fail "a bearer token in the log"
kill "$SIM_PID"
sg_wait_exit "$SIM_PID" 10
sg_assert_eq "$SG_EXIT_STATUS" 0 "sim exit status"
wait "$HELD" || true
kill -CONT "$STUB_PID"
sg_pass "no code, token or text in the simulator's log; clean exit with a sync in flight"
