#!/bin/bash
# The handset HTTPS API end to end (../shared/handset-api-v1.md): the secure
# service in sec_harness (the real registry, API and pipeline over the real
# store, SMS and deliver_sm written to files) driven with curl over TLS
# (the development certificate it makes) and sec_client (keys, challenges,
# envelopes). Flow A and flow B, every key scheme, messages listed,
# fetched, opened, acked; then every bad input and abuse case of issue 5,
# each checking the clear error AND that what was accepted before is
# intact. SG_BACKEND=mariadb runs it on the private MariaDB of tests/run.sh.
source "$(dirname "$0")/lib.sh"

HARNESS=$SG_BUILD_DIR/tests/integration/sec_harness
CLIENT=$SG_BUILD_DIR/tests/integration/sec_client
[ -x "$HARNESS" ] || sg_fail "sec_harness not built"
[ -x "$CLIENT" ] || sg_fail "sec_client not built"
command -v jq >/dev/null || sg_fail "jq is needed"
command -v curl >/dev/null || sg_fail "curl is needed"
SG_BACKEND=${SG_BACKEND:-sqlite}

P256=ecdh-p256-hkdf-sha256-aes256gcm
X25519=x25519-hkdf-sha256-aes256gcm
RSA=rsa-oaep-sha256-aes256gcm

storage_url() {	# NAME
	case "$SG_BACKEND" in
	sqlite)
		echo "sqlite:$SG_TMP/$1.db" ;;
	mariadb)
		if [ -z "${SG_TEST_MARIADB_DSN:-}" ]; then
			echo "skip: SG_TEST_MARIADB_DSN is not set" >&2
			exit 77
		fi
		local db="sealgate_test_sec_$$_$RANDOM"
		mariadb --no-defaults -h "$SG_TEST_MARIADB_HOST" \
		    -P "$SG_TEST_MARIADB_PORT" -u "$SG_TEST_MARIADB_USER" \
		    -p"$SG_TEST_MARIADB_PASSWORD" -e "CREATE DATABASE $db" ||
		    sg_fail "cannot create database $db"
		echo "mariadb://$SG_TEST_MARIADB_USER:$SG_TEST_MARIADB_PASSWORD@$SG_TEST_MARIADB_HOST:$SG_TEST_MARIADB_PORT/$db" ;;
	*)
		sg_fail "unknown SG_BACKEND $SG_BACKEND" ;;
	esac
}

# start_harness NAME PORT ARGS...: a harness with its own dir, SMS file,
# events file and control FIFO under $SG_TMP/NAME.
start_harness() {
	local name=$1 port=$2 dsn
	shift 2
	mkdir -p "$SG_TMP/$name"
	mkfifo "$SG_TMP/$name/ctl"
	: >"$SG_TMP/$name/sms"
	: >"$SG_TMP/$name/events"
	dsn=$(storage_url "$name")
	sg_start "$name" "$HARNESS" --db "$dsn" --port "$port" \
	    --dir "$SG_TMP/$name" --sms "$SG_TMP/$name/sms" \
	    --events "$SG_TMP/$name/events" --control "$SG_TMP/$name/ctl" \
	    --log-level debug "$@"
	for _ in $(seq 1 200); do
		grep -q "ready port=" "$SG_TMP/$name.log" 2>/dev/null && return 0
		kill -0 "$SG_LAST_PID" 2>/dev/null ||
		    sg_fail "$name exited at start: $(cat "$SG_TMP/$name.log")"
		sleep 0.05
	done
	sg_fail "$name not ready"
}

# api H METHOD PATH [BODY] [TOKEN] [EXTRA CURL ARGS...]: sets ST (status),
# R (body) and HDRS (response headers) for harness H.
api() {
	local h=$1 m=$2 path=$3 body=${4:-} tok=${5:-}
	local -a args=(-sS -X "$m" --cacert "${CERTS[$h]}"
	    -o "$SG_TMP/resp" -D "$SG_TMP/hdrs" -w '%{http_code}')
	shift 5 2>/dev/null || shift $#
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json'
	    --data-binary "$body")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	ST=$(curl "${args[@]}" "$@" "https://127.0.0.1:${PORTS[$h]}$path") ||
	    sg_fail "curl $m $path failed"
	R=$(cat "$SG_TMP/resp")
	HDRS=$(cat "$SG_TMP/hdrs")
}

expect() {	# STATUS [ERROR_CODE] WHAT
	local want=$1 code=${2:-} what=${3:-}
	[ "$ST" = "$want" ] || sg_fail "$what: status $ST, want $want: $R"
	if [ -n "$code" ]; then
		sg_assert_eq "$(jq -r .error <<<"$R")" "$code" "$what: error"
		[ "$(jq -r '.message | type' <<<"$R")" = string ] ||
		    sg_fail "$what: no message: $R"
	fi
}

# wait_count FILE PATTERN N: until FILE has N lines matching PATTERN.
wait_count() {
	for _ in $(seq 1 200); do
		[ "$(grep -c -- "$2" "$1" || true)" -ge "$3" ] && return 0
		sleep 0.05
	done
	sg_fail "$1: fewer than $3 lines with '$2': $(cat "$1")"
}

# last_code H MSISDN: the code in the last SMS to MSISDN.
last_code() {
	local c
	c=$(jq -r --arg m "$2" 'select(.msisdn == $m) | .text' \
	    "$SG_TMP/$1/sms" | tail -n 1 | grep -oE '[0-9]{6,10}' | head -n 1)
	[ -n "$c" ] || sg_fail "no code SMS to $2"
	echo "$c"
}

MOS=0
# mo H SRC DST TEXT: an MO through sec_mo; waits until it was handled.
mo() {
	local h=$1
	shift
	echo "MO $*" >"$SG_TMP/$h/ctl"
	MOS=$((MOS + 1))
	wait_count "$SG_TMP/$h/events" "^mo " "$MOS"
	sleep 0.3	# the registry's read and write
}

# register H MSISDN MODE [EXTRA JSON]: sets RID.
register() {
	api "$1" POST /v1/registrations \
	    "{\"msisdn\":\"$2\",\"mode\":\"$3\",\"device_type\":\"test\"${4:-}}"
	expect 201 "" "register $2 $3"
	RID=$(jq -r .registration_id <<<"$R")
	[ ${#RID} -ge 22 ] || sg_fail "short registration id: $R"
}

# activate H RID SCHEME KEYFILE: key, challenge, proof; sets DEV and TOK.
activate() {
	local h=$1 rid=$2 scheme=$3 key=$4 pk answer
	pk=$("$CLIENT" keygen "$scheme" "$key") || sg_fail "keygen $scheme"
	api "$h" POST "/v1/registrations/$rid/key" \
	    "{\"scheme\":\"$scheme\",\"public_key\":\"$pk\"}"
	expect 200 "" "key $scheme"
	answer=$("$CLIENT" open-wrap "$key" "challenge:$rid" <<<"$R") ||
	    sg_fail "challenge does not open ($scheme)"
	ANSWERS+=("$answer")
	api "$h" POST "/v1/registrations/$rid/proof" "{\"answer\":\"$answer\"}"
	expect 201 "" "proof $scheme"
	DEV=$(jq -r .device_id <<<"$R")
	TOK=$(jq -r .device_token <<<"$R")
	[ ${#TOK} -ge 43 ] || sg_fail "short token: $R"
	TOKENS+=("$TOK")
	api "$h" GET "/v1/registrations/$rid"
	sg_assert_eq "$(jq -r .status <<<"$R")" active "status after proof"
}

# status_is H RID STATUS: polls (5 s) until the registration says STATUS.
status_is() {
	for _ in $(seq 1 50); do
		api "$1" GET "/v1/registrations/$2"
		expect 200 "" "status of $2"
		[ "$(jq -r .status <<<"$R")" = "$3" ] && return 0
		sleep 0.1
	done
	sg_assert_eq "$(jq -r .status <<<"$R")" "$3" "registration status"
}

# wait_log H PATTERN: until the harness log has a line matching PATTERN.
wait_log() {
	for _ in $(seq 1 100); do
		grep -q -- "$2" "$SG_TMP/$1.log" && return 0
		sleep 0.05
	done
	sg_fail "no log line '$2' in $1"
}

declare -A PORTS CERTS
CODES=()
TOKENS=()
ANSWERS=()
K=$SG_TMP/keys
mkdir -p "$K"

PORTS[a]=$(sg_free_port)
CERTS[a]=$SG_TMP/a/api.crt	# made by the harness (sec_api_start)
start_harness a "${PORTS[a]}" --otp-ttl 20 --reg-ttl 120 \
    --sends-client 1000 --sends-msisdn 3 --daily-cap 10 --body-max 4096 \
    --cors https://app.example
[ "$(stat -c %a "$SG_TMP/a/api.key")" = 600 ] ||
    sg_fail "dev key file is not 0600"
openssl x509 -in "$SG_TMP/a/api.crt" -noout -ext subjectAltName |
    grep -q "IP Address:127.0.0.1" || sg_fail "dev cert lacks IP SAN"
curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$SG_TMP/a/api.crt" \
    "https://127.0.0.1:${PORTS[a]}/v1/messages" >/dev/null ||
    sg_fail "TLS 1.2 refused"
sg_pass "harness up, dev certificate (0600 key, SAN 127.0.0.1) trusted by curl, TLS 1.2"

# ---- flow A, P-256: code by SMS ----
M1=491700000001
register a "+49 170 0000001" sms
R1=$RID
sg_assert_eq "$(jq -r .mode <<<"$R")" sms "mode"
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M1\"" 1
C1=$(last_code a $M1)
CODES+=("$C1")
status_is a "$R1" waiting_for_code
api a POST "/v1/registrations/$R1/code" '{"code":"000000"}'
[ "$C1" = 000000 ] || {
	expect 403 code_mismatch "wrong code"
	sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 4 "attempts_left"
}
api a POST "/v1/registrations/$R1/code" "{\"code\":\"$C1\"}"
expect 200 "" "right code"
sg_assert_eq "$(jq -r .status <<<"$R")" verified "verified"
api a POST "/v1/registrations/$R1/code" "{\"code\":\"$C1\"}"
expect 410 expired "replayed code"
status_is a "$R1" verified
activate a "$R1" $P256 "$K/d1.pem"
D1=$DEV T1=$TOK
api a GET /v1/messages "" "$T1"
expect 200 "" "list"
sg_assert_eq "$(jq -c .messages <<<"$R")" "[]" "empty list"
sg_pass "flow A (P-256): code SMS, wrong 403, right 200, replay 410, key, proof, token"

# a message for M1, sealed to D1 at once by the pipeline
echo "SUBMIT acct gwa1 $M1 hello from the bank" >"$SG_TMP/a/ctl"
wait_count "$SG_TMP/a/events" "^submit gwa1 0$" 1
api a GET /v1/messages "" "$T1"
expect 200 "" "list"
sg_assert_eq "$(jq -r '.messages | length' <<<"$R")" 1 "one message"
sg_assert_eq "$(jq -r '.messages[0].id' <<<"$R")" gwa1 "id"
sg_assert_eq "$(jq -r '.messages[0].from' <<<"$R")" Bank "from"
sg_assert_eq "$(jq -r '.messages[0].size' <<<"$R")" 19 "size"
[[ "$(jq -r '.messages[0].received_at' <<<"$R")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    sg_fail "received_at is not RFC 3339 UTC: $R"
api a GET /v1/messages/gwa1 "" "$T1"
expect 200 "" "fetch"
sg_assert_eq "$(jq -r .content_type <<<"$R")" "text/plain; charset=utf-8" \
    "content_type"
sg_assert_eq "$(jq -r .scheme <<<"$R")" $P256 "scheme"
sg_assert_eq "$("$CLIENT" open-envelope "$K/d1.pem" $M1 <<<"$R")" \
    "hello from the bank" "opened text"
ENV1=$R
sg_pass "message listed (id, from, size, RFC 3339), fetched, opened by D1"

# ---- flow B, X25519: the app's code first, then the MO ----
M2=491700000002
register a $M2 mo
R2=$RID
sg_assert_eq "$(jq -r .short_code <<<"$R")" 7277 "short_code"
sg_assert_eq "$(jq -r .keyword <<<"$R")" SEAL "keyword"
status_is a "$R2" waiting_for_sms
api a POST "/v1/registrations/$R2/code" '{"code":"8312456"}'
expect 202 "" "code before the MO"
sg_assert_eq "$(jq -r .status <<<"$R")" waiting_for_sms "waiting"
mo a $M2 7277 "seal 8312456"
status_is a "$R2" verified
api a POST "/v1/registrations/$R2/code" '{"code":"8312456"}'
expect 200 "" "code after the MO"
activate a "$R2" $X25519 "$K/d2.pem"
D2=$DEV T2=$TOK
sg_pass "flow B (X25519): code then MO (keyword any case), verified, device"

# ---- flow B, RSA: the MO first (UCS-2), then the app's code ----
M3=491700000003
register a $M3 mo
R3=$RID
echo "MO16 +$M3 7277 SEAL 55501234" >"$SG_TMP/a/ctl"
MOS=$((MOS + 1))
wait_count "$SG_TMP/a/events" "^mo " "$MOS"
sleep 0.3
status_is a "$R3" waiting_for_sms
api a POST "/v1/registrations/$R3/code" '{"code":"55501234"}'
expect 200 "" "code after a UCS-2 MO"
activate a "$R3" $RSA "$K/d3.pem"
D3=$DEV T3=$TOK
echo "SUBMIT acct gwa3 $M3 rsa sealed" >"$SG_TMP/a/ctl"
wait_count "$SG_TMP/a/events" "^submit gwa3 0$" 1
api a GET /v1/messages/gwa3 "" "$T3"
expect 200 "" "fetch rsa"
sg_assert_eq "$("$CLIENT" open-envelope "$K/d3.pem" $M3 <<<"$R")" \
    "rsa sealed" "opened (RSA)"
sg_pass "flow B (RSA-2048): MO first in UCS-2, then code; envelope opens"

# ---- another device's message: 404, never 403 ----
api a GET /v1/messages/gwa1 "" "$T2"
expect 404 not_found "D2 fetching D1's message"
api a POST /v1/messages/gwa1/ack "" "$T2"
expect 404 not_found "D2 acking D1's message"
api a GET /v1/messages/nosuchid "" "$T1"
expect 404 not_found "unknown id"
api a GET /v1/messages/gwa1 "" "$T1"
expect 200 "" "D1's message still there"
sg_assert_eq "$(jq -r .id <<<"$R")" gwa1 "still gwa1"
sg_pass "device A's token on device B's message: 404 not_found; nothing lost"

# ---- ack: DELIVRD to the sender, gone from the list ----
api a POST /v1/messages/gwa1/ack "" "$T1"
expect 204 "" "ack"
wait_count "$SG_TMP/a/events" "^deliver acct 1 " 1
api a GET /v1/messages "" "$T1"
sg_assert_eq "$(jq -r '.messages | length' <<<"$R")" 0 "acked: list empty"
sg_pass "ack 204, receipt handed to the account, list empty after"

# ---- auth ----
api a GET /v1/messages
expect 401 unauthorized "no token"
grep -qi "^WWW-Authenticate: Bearer" <<<"$HDRS" || sg_fail "no WWW-Authenticate"
api a GET /v1/messages "" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 401 unauthorized "unknown token"
api a GET /v1/messages "" "bad token!"
expect 401 unauthorized "malformed token"
sg_pass "missing, unknown and malformed tokens: 401"

# ---- the 6th try is locked ----
M4=491700000004
register a $M4 sms
R4=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M4\"" 1
C4=$(last_code a $M4)
CODES+=("$C4")
W=$([ "$C4" = 111111 ] && echo 222222 || echo 111111)
for left in 4 3 2 1 0; do
	api a POST "/v1/registrations/$R4/code" "{\"code\":\"$W\"}"
	expect 403 code_mismatch "wrong try"
	sg_assert_eq "$(jq -r .attempts_left <<<"$R")" $left "attempts_left"
done
api a POST "/v1/registrations/$R4/code" "{\"code\":\"$C4\"}"
expect 423 locked "6th try with the right code"
status_is a "$R4" locked
wait_log a "r:${R4:0:8} reg wrong_try attempts=5 locked=1"
sg_pass "5 wrong codes: 403 attempts_left 4..0; the 6th (right) try: 423 locked"

# ---- a resend does not reset the count ----
M5=491700000005
register a $M5 sms
R5a=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M5\"" 1
C5a=$(last_code a $M5)
W=$([ "$C5a" = 111111 ] && echo 222222 || echo 111111)
api a POST "/v1/registrations/$R5a/code" "{\"code\":\"$W\"}"
api a POST "/v1/registrations/$R5a/code" "{\"code\":\"$W\"}"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 3 "after 2 wrong"
register a $M5 sms
R5b=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M5\"" 2
C5b=$(last_code a $M5)
CODES+=("$C5a" "$C5b")
status_is a "$R5a" expired
W=$([ "$C5b" = 111111 ] && echo 222222 || echo 111111)
api a POST "/v1/registrations/$R5b/code" "{\"code\":\"$W\"}"
expect 403 code_mismatch "wrong after resend"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 2 "count carried over"
if [ "$C5a" != "$C5b" ]; then
	api a POST "/v1/registrations/$R5b/code" "{\"code\":\"$C5a\"}"
	expect 403 code_mismatch "the old code after a resend"
fi
api a POST "/v1/registrations/$R5b/code" "{\"code\":\"$C5b\"}"
expect 200 "" "new code still verifies"
sg_pass "resend: new code, old registration expired, wrong tries carried (3 -> 2 left)"

# ---- two resends count each wrong try once (2 + 1 wrong: 2 left) ----
M15=491700000015
register a $M15 sms
R15a=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M15\"" 1
C15=$(last_code a $M15)
CODES+=("$C15")
W=$([ "$C15" = 111111 ] && echo 222222 || echo 111111)
api a POST "/v1/registrations/$R15a/code" "{\"code\":\"$W\"}"
api a POST "/v1/registrations/$R15a/code" "{\"code\":\"$W\"}"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 3 "first: after 2 wrong"
register a $M15 sms
R15b=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M15\"" 2
C15=$(last_code a $M15)
CODES+=("$C15")
W=$([ "$C15" = 111111 ] && echo 222222 || echo 111111)
api a POST "/v1/registrations/$R15b/code" "{\"code\":\"$W\"}"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 2 "second: after 3 wrong"
api a POST /v1/registrations \
    "{\"msisdn\":\"$M15\",\"mode\":\"sms\",\"device_type\":\"test\"}"
expect 201 "" "third registration after 3 wrong tries (not locked)"
R15c=$(jq -r .registration_id <<<"$R")
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M15\"" 3
C15=$(last_code a $M15)
CODES+=("$C15")
W=$([ "$C15" = 111111 ] && echo 222222 || echo 111111)
api a POST "/v1/registrations/$R15c/code" "{\"code\":\"$W\"}"
expect 403 code_mismatch "wrong on the third"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 1 "third: after 4 wrong"
api a POST "/v1/registrations/$R15c/code" "{\"code\":\"$C15\"}"
expect 200 "" "the third's code verifies"
sg_pass "two resends: every wrong try counted once (4 wrong: 1 left, code verifies)"

# ---- a registration id with characters after it is not that id ----
api a GET "/v1/registrations/${R15c}AAAA"
expect 404 not_found "rid with a tail"
api a POST "/v1/registrations/${R15c}AAAA/code" '{"code":"123456"}'
expect 404 not_found "code to rid with a tail"
api a GET "/v1/registrations/$R15c"
sg_assert_eq "$(jq -r .status <<<"$R")" verified "the real rid intact"
sg_pass "a rid longer than a rid: 404 not_found (was cut to the real one)"

# ---- MO from another MSISDN, wrong code, no registration ----
M6=491700000006
M7=491700000007
register a $M6 mo
R6=$RID
api a POST "/v1/registrations/$R6/code" '{"code":"246813"}'
expect 202 "" "app code"
mo a $M7 7277 "SEAL 246813"
wait_log a "$M7 reg mo_unmatched reason=no_registration"
status_is a "$R6" waiting_for_sms
mo a $M6 7277 "SEAL 999999"
wait_log a "r:${R6:0:8} reg mo_unmatched reason=code_mismatch"
wait_log a "r:${R6:0:8} reg wrong_try attempts=1 locked=0"
status_is a "$R6" waiting_for_sms
mo a 491700000099 7277 "SEAL 123456"
wait_log a "491700000099 reg mo_unmatched reason=no_registration"
mo a $M6 7277 "HELLO 246813"
wait_log a "$M6 reg mo_unmatched reason=not_keyword_code"
mo a $M6 7278 "SEAL 246813"
tail -n 1 "$SG_TMP/a/events" | grep -q "^mo passed" ||
    sg_fail "an MO to another short code must pass to routing"
status_is a "$R6" waiting_for_sms
mo a $M6 7277 "SEAL 246813"
status_is a "$R6" verified
sg_pass "MO from another MSISDN / wrong code (counted) / no registration / no keyword: logged, unmatched; the right MO still verifies"

# ---- keys: unknown scheme, RSA-1024, invalid point, failed proof ----
M8=491700000008
register a $M8 sms
R8=$RID
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M8\"" 1
C8=$(last_code a $M8)
CODES+=("$C8")
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"$P256\",\"public_key\":\"$("$CLIENT" keygen $P256 "$K/x.pem")\"}"
expect 400 invalid_request "key before verification"
api a POST "/v1/registrations/$R8/code" "{\"code\":\"$C8\"}"
expect 200 "" "verify M8"
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"ecdh-p384-hkdf-sha384\",\"public_key\":\"$("$CLIENT" keygen $P256 "$K/x.pem")\"}"
expect 400 unsupported_scheme "unknown scheme"
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"$RSA\",\"public_key\":\"$("$CLIENT" keygen $RSA "$K/r1024.pem" 1024)\"}"
expect 400 invalid_key "RSA-1024"
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"$P256\",\"public_key\":\"$("$CLIENT" bad-point)\"}"
expect 400 invalid_key "point not on the curve"
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"$X25519\",\"public_key\":\"$("$CLIENT" keygen $P256 "$K/x.pem")\"}"
expect 400 invalid_key "P-256 key for the X25519 scheme"
api a POST "/v1/registrations/$R8/key" \
    "{\"scheme\":\"$P256\",\"public_key\":\"not base64!\"}"
expect 400 invalid_key "public_key not base64"
status_is a "$R8" verified
PK8=$("$CLIENT" keygen $P256 "$K/d8.pem")
api a POST "/v1/registrations/$R8/key" "{\"scheme\":\"$P256\",\"public_key\":\"$PK8\"}"
expect 200 "" "valid key after refusals"
api a POST "/v1/registrations/$R8/proof" \
    '{"answer":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'
expect 403 code_mismatch "failed proof"
sg_assert_eq "$(jq -r .attempts_left <<<"$R")" 4 "proof attempts_left"
status_is a "$R8" verified
api a POST "/v1/registrations/$R8/proof" \
    '{"answer":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'
expect 400 invalid_request "proof after a spent challenge"
activate a "$R8" $P256 "$K/d8.pem"
D8=$DEV T8=$TOK
sg_pass "unknown scheme 400, RSA-1024 / bad point / wrong key type / bad base64 400 invalid_key, failed proof 403 (challenge spent); the registration then completes"

# ---- a long list: pages of the store read on until the end ----
for i in $(seq 1 105); do
	printf 'SUBMIT acct gwp%03d %s page %d\n' "$i" "$M8" "$i"
done >"$SG_TMP/a/ctl"
wait_count "$SG_TMP/a/events" "^submit gwp[0-9]* 0$" 105
api a GET /v1/messages "" "$T8"
expect 200 "" "long list"
sg_assert_eq "$(jq -r '.messages | length' <<<"$R")" 105 "all 105 listed"
sg_assert_eq "$(jq -r '[.messages[].id] | unique | length' <<<"$R")" 105 \
    "no message twice"
sg_assert_eq "$(jq -r '[.messages[].received_at] == ([.messages[].received_at] | sort)' <<<"$R")" \
    true "oldest first"
sg_pass "105 waiting messages listed once each, oldest first (paged reads)"

# ---- malformed and oversize bodies ----
api a POST /v1/registrations '{"msisdn": "4917'
expect 400 invalid_request "truncated JSON"
api a POST /v1/registrations '[1,2]'
expect 400 invalid_request "not an object"
api a POST /v1/registrations ''
expect 400 invalid_request "no body"
api a POST /v1/registrations '{"msisdn":4917000000010,"mode":"sms"}'
expect 400 invalid_msisdn "msisdn as a number"
api a POST /v1/registrations '{"msisdn":"0170 1234567","mode":"sms"}'
expect 400 invalid_msisdn "national number"
api a POST /v1/registrations '{"msisdn":"12345","mode":"sms"}'
expect 400 invalid_msisdn "too short"
api a POST /v1/registrations '{"msisdn":"4917000000010","mode":"fax"}'
expect 400 invalid_request "unknown mode"
api a POST /v1/registrations '{"mode":"sms"}'
expect 400 invalid_request "missing msisdn"
api a POST /v1/registrations '{"msisdn":"4917000000010","mode":"sms","mode":"mo"}'
expect 400 invalid_request "duplicate key"
api a POST "/v1/registrations/$R8/code" '{"code":123456}'
expect 400 invalid_request "code as a number"
api a POST "/v1/registrations/$R8/code" '{"code":"12ab56"}'
expect 400 invalid_request "code with letters"
api a POST "/v1/registrations/$R8/proof" '{"answer":"%%%"}'
expect 400 invalid_request "answer not base64"
api a POST /v1/messages/gwa3/reply '{"text":""}' "$T3"
expect 400 invalid_request "empty reply"
api a POST "/v1/registrations/nosuchregistration/code" '{"code":"123456"}'
expect 404 not_found "unknown rid"
api a GET /v1/nothing
expect 404 not_found "unknown path"
api a PUT /v1/registrations '{}'
[ "$ST" -ge 400 ] || sg_fail "PUT answered $ST"
BIG=$(head -c 5000 /dev/zero | tr '\0' 'x')
api a POST /v1/registrations "{\"msisdn\":\"4917000000010\",\"mode\":\"sms\",\"device_type\":\"$BIG\"}" "" -H "Expect:"
expect 413 payload_too_large "oversize body"
api a POST /v1/registrations "{\"msisdn\":\"4917000000010\",\"mode\":\"sms\",\"device_type\":\"$BIG\"}"
expect 413 payload_too_large "oversize body with 100-continue"
api a GET /v1/messages/gwa3 "" "$T3"
expect 200 "" "D3 after the bad inputs"
sg_assert_eq "$("$CLIENT" open-envelope "$K/d3.pem" $M3 <<<"$R")" \
    "rsa sealed" "still opens"
sg_pass "malformed JSON, wrong types, bad MSISDNs, unknown mode, duplicate keys: 400 with the contract's codes; 413 JSON for oversize bodies; D3's message intact"

# ---- tampering: the app refuses a changed envelope ----
T_BAD=$(jq -c '.body.ciphertext |= (.[0:4] + (if .[4:5] == "A" then "B" else "A" end) + .[5:])' <<<"$ENV1")
"$CLIENT" open-envelope "$K/d1.pem" $M1 <<<"$T_BAD" >/dev/null 2>&1 &&
    sg_fail "tampered ciphertext opened"
"$CLIENT" open-envelope "$K/d1.pem" 491700000099 <<<"$ENV1" >/dev/null 2>&1 &&
    sg_fail "envelope opened under another MSISDN (AAD)"
T_BAD=$(jq -c '.id = "gwa9"' <<<"$ENV1")
"$CLIENT" open-envelope "$K/d1.pem" $M1 <<<"$T_BAD" >/dev/null 2>&1 &&
    sg_fail "envelope opened under another id"
sg_pass "tampered ciphertext, other MSISDN, other id: cannot be opened"

# ---- reply ----
api a POST /v1/messages/gwa3/reply '{"text":"thanks"}' "$T3"
expect 202 "" "reply"
wait_count "$SG_TMP/a/events" "^deliver acct 2 " 1
sg_pass "reply 202, MO handed to the sending account"

# a device may send 30 replies per 10 minutes: the 31st is 429 with
# Retry-After, and each of the 30 accepted reached the account once
for i in $(seq 2 30); do
	api a POST /v1/messages/gwa3/reply "{\"text\":\"thanks $i\"}" "$T3"
	expect 202 "" "reply $i"
done
api a POST /v1/messages/gwa3/reply '{"text":"one too many"}' "$T3"
expect 429 rate_limited "the 31st reply"
grep -qi '^Retry-After: [1-9]' <<<"$HDRS" || sg_fail "no Retry-After: $HDRS"
wait_count "$SG_TMP/a/events" "^deliver acct 2 " 30
sleep 0.3
sg_assert_eq "$(grep -c '^deliver acct 2 ' "$SG_TMP/a/events")" 30 \
    "MOs handed to the account"
sg_pass "replies: 30 per 10 minutes per device, then 429; none lost"

# ---- CORS ----
api a OPTIONS /v1/registrations "" "" -H "Origin: https://app.example" \
    -H "Access-Control-Request-Method: POST"
expect 204 "" "preflight"
grep -qi "^Access-Control-Allow-Origin: https://app.example" <<<"$HDRS" ||
    sg_fail "preflight: no Allow-Origin: $HDRS"
grep -qi "^Access-Control-Allow-Methods:.*DELETE" <<<"$HDRS" ||
    sg_fail "preflight: methods"
grep -qi "^Access-Control-Allow-Headers:.*Authorization" <<<"$HDRS" ||
    sg_fail "preflight: headers"
api a OPTIONS /v1/messages "" "" -H "Origin: https://evil.example"
grep -qi "^Access-Control-Allow-Origin" <<<"$HDRS" &&
    sg_fail "Allow-Origin for an origin not configured"
api a GET /v1/messages "" "$T2" -H "Origin: https://app.example"
expect 200 "" "list with origin"
grep -qi "^Access-Control-Allow-Origin: https://app.example" <<<"$HDRS" ||
    sg_fail "no Allow-Origin on a real request"
grep -qi "^Access-Control-Expose-Headers: Retry-After" <<<"$HDRS" ||
    sg_fail "Retry-After not exposed to browsers"
sg_pass "CORS: preflight for the configured origin, none for others"

# ---- rate limits ----
M9=491700000009
for i in 1 2 3; do
	register a $M9 sms
done
R9=$RID
api a POST /v1/registrations "{\"msisdn\":\"$M9\",\"mode\":\"sms\"}"
expect 429 rate_limited "4th code within the window"
RA=$(grep -i "^Retry-After:" <<<"$HDRS" | tr -dc '0-9')
[ -n "$RA" ] && [ "$RA" -gt 0 ] || sg_fail "no Retry-After: $HDRS"
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M9\"" 3
[ "$(grep -c "\"msisdn\":\"$M9\"" "$SG_TMP/a/sms")" = 3 ] ||
    sg_fail "a refused registration sent a code"
C9=$(last_code a $M9)
CODES+=("$C9")
api a POST "/v1/registrations/$R9/code" "{\"code\":\"$C9\"}"
expect 200 "" "the last accepted registration still verifies"
M10=491700000010
for i in $(seq 1 10); do
	register a $M10 mo
done
api a POST /v1/registrations "{\"msisdn\":\"$M10\",\"mode\":\"mo\"}"
expect 429 rate_limited "daily cap"
RA=$(grep -i "^Retry-After:" <<<"$HDRS" | tr -dc '0-9')
[ -n "$RA" ] && [ "$RA" -gt 80000 ] || sg_fail "daily cap Retry-After: $RA"
api a POST "/v1/registrations/$RID/code" '{"code":"777777"}'
expect 202 "" "the 10th registration still works"
sg_pass "send quota per MSISDN and daily cap: 429 with Retry-After; accepted registrations intact"

# ---- a second device, replace, revoke ----
register a $M2 sms
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M2\"" 1
C=$(last_code a $M2)
CODES+=("$C")
api a POST "/v1/registrations/$RID/code" "{\"code\":\"$C\"}"
expect 200 "" "second device verified"
activate a "$RID" $P256 "$K/d2b.pem"
T2b=$TOK
wait_count "$SG_TMP/a/sms" "\"msisdn\":\"$M2\"" 2
jq -r --arg m $M2 'select(.msisdn == $m) | .text' "$SG_TMP/a/sms" |
    tail -n 1 | grep -q "new device" || sg_fail "no new-device notice"
api a GET /v1/messages "" "$T2"
expect 200 "" "first device still active"
api a GET /v1/messages "" "$T2b"
expect 200 "" "second device active"
register a $M1 mo ',"replace":true'
api a POST "/v1/registrations/$RID/code" '{"code":"1357913"}'
mo a $M1 7277 "SEAL 1357913"
status_is a "$RID" verified
activate a "$RID" $X25519 "$K/d1b.pem"
T1b=$TOK
api a GET /v1/messages "" "$T1"
expect 401 unauthorized "replaced device"
api a GET /v1/messages "" "$T1b"
expect 200 "" "replacing device"
api a DELETE /v1/device "" "$T2"
expect 204 "" "revoke self"
api a GET /v1/messages "" "$T2"
expect 401 unauthorized "revoked device"
api a DELETE /v1/device "" "$T2"
expect 401 unauthorized "revoked twice"
api a GET /v1/messages "" "$T2b"
expect 200 "" "the other device of that MSISDN"
sg_pass "two devices (notice SMS), replace revokes the old device, DELETE /v1/device revokes the caller only"

# ---- harness b: expiry, flows off, per-client quota ----
PORTS[b]=$(sg_free_port)
CERTS[b]=$SG_TMP/b-dev.crt	# made by conf/make-dev-cert.sh
sh "$SG_SOURCE_DIR/conf/make-dev-cert.sh" "${CERTS[b]}" "$SG_TMP/b-dev.key" \
    >/dev/null || sg_fail "make-dev-cert.sh failed"
[ "$(stat -c %a "$SG_TMP/b-dev.key")" = 600 ] || sg_fail "script key not 0600"
sh "$SG_SOURCE_DIR/conf/make-dev-cert.sh" "${CERTS[b]}" "$SG_TMP/b-dev.key" \
    >/dev/null 2>&1 && sg_fail "make-dev-cert.sh overwrote its files"
start_harness b "${PORTS[b]}" --otp-ttl 2 --sends-client 2 --no-mo \
    --cert "${CERTS[b]}" --key "$SG_TMP/b-dev.key"
[ -e "$SG_TMP/b/api.crt" ] && sg_fail "a dev cert made although one was given"
register b 491700000021 sms
RB=$RID
wait_count "$SG_TMP/b/sms" 491700000021 1
CB=$(last_code b 491700000021)
CODES+=("$CB")
register b 491700000022 sms
api b POST /v1/registrations '{"msisdn":"491700000023","mode":"sms"}'
expect 429 rate_limited "per-client quota"
grep -qi "^Retry-After: [1-9]" <<<"$HDRS" || sg_fail "no Retry-After"
api b POST /v1/registrations '{"msisdn":"491700000024","mode":"mo"}'
expect 400 invalid_request "mode mo switched off"
sleep 2.5
api b POST "/v1/registrations/$RB/code" "{\"code\":\"$CB\"}"
expect 410 expired "expired code"
status_is b "$RB" expired
sg_pass "expired code 410; per-client send quota 429; a switched-off flow 400"

# ---- SIGTERM with requests in flight: no crash, clean exit ----
CURLS=()
for i in $(seq 1 20); do
	curl -sS -o /dev/null --max-time 5 --cacert "${CERTS[b]}" \
	    "https://127.0.0.1:${PORTS[b]}/v1/registrations/r$i" \
	    >/dev/null 2>&1 &
	CURLS+=($!)
done
sleep 0.2
kill -TERM "${SG_PIDS[1]}"
sg_wait_exit "${SG_PIDS[1]}" 10
sg_assert_eq "$SG_EXIT_STATUS" 0 "exit status with requests in flight"
wait "${CURLS[@]}" || true
sg_pass "SIGTERM with requests in flight: clean exit"

# ---- harness c: a daily cap above what one read returns (256) ----
PORTS[c]=$(sg_free_port)
CERTS[c]=$SG_TMP/c/api.crt
start_harness c "${PORTS[c]}" --daily-cap 1000
HC=$SG_LAST_PID
M31=491700000031
URLS=()
for i in $(seq 1 256); do
	URLS+=(-o /dev/null "https://127.0.0.1:${PORTS[c]}/v1/registrations")
done
N201=$(curl -sS --cacert "${CERTS[c]}" -H 'Content-Type: application/json' \
    -d "{\"msisdn\":\"$M31\",\"mode\":\"mo\"}" \
    -w '%{http_code}\n' "${URLS[@]}" | grep -c '^201$' || true)
sg_assert_eq "$N201" 256 "256 registrations in a day under a cap of 1000"
api c POST /v1/registrations "{\"msisdn\":\"$M31\",\"mode\":\"mo\"}"
expect 429 rate_limited "the 257th registration of the day"
api c POST /v1/registrations '{"msisdn":"491700000032","mode":"mo"}'
expect 201 "" "another msisdn still registers"
kill -TERM "$HC"
sg_wait_exit "$HC" 10
sg_assert_eq "$SG_EXIT_STATUS" 0 "harness c exit status"
sg_pass "more registrations in a day than one read returns: 429 (the cap is not skipped)"

# ---- logs: no code, token or challenge answer ----
for s in "${CODES[@]}" "${TOKENS[@]}" "${ANSWERS[@]}" 8312456 55501234 246813 \
    "hello from the bank" "rsa sealed" "thanks" "page 1"; do
	if grep -qF -- "$s" "$SG_TMP/a.log" "$SG_TMP/b.log"; then
		sg_fail "a secret appears in the log: $(grep -F -- "$s" "$SG_TMP/a.log" | head -n 1)"
	fi
done
for rid in "$R1" "$R2" "$R5b" "$R8"; do
	if grep -qF -- "$rid" "$SG_TMP/a.log"; then
		sg_fail "a whole rid in the log"
	fi
done
grep -q "api reg_code status=403" "$SG_TMP/a.log" || sg_fail "no api log line"
sg_pass "debug logs carry no code, token, challenge answer, message text or whole rid"

# ---- clean stop ----
kill -TERM "${SG_PIDS[0]}"
sg_wait_exit "${SG_PIDS[0]}" 10
sg_assert_eq "$SG_EXIT_STATUS" 0 "exit status after SIGTERM"
grep -q "sec_harness: stopped" "$SG_TMP/a.log" || sg_fail "no clean stop"
sg_pass "SIGTERM: clean exit"
