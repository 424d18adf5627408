#!/usr/bin/env bash
# smpp-bench load against smsc-sim: receipts for every outcome of the
# deterministic mode, multipart MT with a receipt per part, MO counted
# during a run, every message id format matched, throttle and drop faults
# as the bench sees them, and a TLS load. Each run checks that nothing
# accepted was lost: responses + timeouts + aborted == submitted, and a
# receipt (or a counted miss) for every accepted submit.
. "$(dirname "$0")/lib.sh"

SIM=$SG_BUILD_DIR/smsc-sim/smsc-sim
BENCH=$SG_BUILD_DIR/smsc-sim/smpp-bench/smpp-bench
[ -x "$SIM" ] || sg_fail "smsc-sim not built"
command -v jq >/dev/null || sg_fail "jq is needed"
SP=$(sg_free_port); HP=$(sg_free_port); TP=$(sg_free_port)
API=http://127.0.0.1:$HP

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$SG_TMP/key.pem" -out "$SG_TMP/cert.pem" >/dev/null 2>&1
{
	printf 'smpp:\n  tls_port: %s\n  tls_cert: %s\n  tls_key: %s\n' \
	    "$TP" "$SG_TMP/cert.pem" "$SG_TMP/key.pem"
	printf 'accounts:\n'
	for f in decimal hex HEX uuid digits10 digits20; do
		printf '  - system_id: id%s\n    password: pw\n    message_id: %s\n' \
		    "$f" "$f"
	done
} >"$SG_TMP/sim.yaml"
sg_start sim "$SIM" -c "$SG_TMP/sim.yaml" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"; sg_wait_port "$HP"

load() {
	RC=0
	"$BENCH" load --port "$SP" --json --no-progress "$@" \
	    >"$SG_TMP/out.json" 2>"$SG_TMP/err.txt" || RC=$?
	J=$(tail -n 1 "$SG_TMP/out.json")
	OUT=$(cat "$SG_TMP/err.txt")
	jq -e . >/dev/null <<<"$J" || sg_fail "not JSON: $J ($OUT)"
}
accounted() {
	jq -e '.responses + .timeouts + .aborted == .submitted and
	    .not_sent == 0 and
	    .receipts + .receipts_missing == .receipts_expected' \
	    >/dev/null <<<"$J" || sg_fail "$1: not all accounted: $J"
}
faults() {
	curl -sf -X POST "$API/api/faults" -d "$1" >/dev/null ||
	    sg_fail "POST /api/faults $1"
}

# Every deterministic outcome: destinations ending 990..995 cycle through
# DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN.
load --system-id idhex --password pw -n 600 -w 64 --sessions 2 \
    --to-range 4915550990-4915550995
sg_assert_eq "$RC" 0 "outcome run ($OUT)"
for st in DELIVRD UNDELIV EXPIRED REJECTD DELETED UNKNOWN; do
	sg_assert_eq "$(jq ".receipts_by_stat.$st" <<<"$J")" 100 "$st receipts"
done
sg_assert_eq "$(jq .receipts <<<"$J")" 600 "receipts"
accounted outcomes
# 996 is a late receipt: missing within a short receipt timeout, counted.
load --system-id idhex --password pw -n 5 --to 4915550996 --receipt-timeout 1
sg_assert_eq "$RC" 1 "late receipts are missing within 1 s"
sg_assert_eq "$(jq .receipts_missing <<<"$J")" 5 "late receipts missing"
accounted late
# 997 sends duplicates: the extra ones are unmatched, not double-counted.
load --system-id idhex --password pw -n 20 --to 4915550997 --receipt-timeout 2
sg_assert_eq "$(jq .receipts <<<"$J")" 20 "duplicates counted once"
jq -e '.receipts_unmatched >= 20' >/dev/null <<<"$J" ||
    sg_fail "duplicates not seen: $J"
sg_pass "deterministic outcomes, late and duplicate receipts"

# --warmup: submits sent in the first SECS are answered and counted, but
# left out of the latency figures (response and receipt alike).
load --system-id idhex --password pw -n 300 --rate 300 --warmup 0.5 \
    --to-range 4915550990-4915550990
sg_assert_eq "$RC" 0 "warm-up run ($OUT)"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 300 "warm-up: every submit answered"
sg_assert_eq "$(jq .warmup_s <<<"$J")" 0.5 "warm-up in the JSON"
jq -e '.latency_ms.count > 50 and .latency_ms.count < 250 and
    .receipt_latency_ms.count == .latency_ms.count' >/dev/null <<<"$J" ||
    sg_fail "warm-up: latency counts $J"
accounted warmup
load --system-id idhex --password pw -n 20 --warmup 60 \
    --to-range 4915550990-4915550990
sg_assert_eq "$(jq '.latency_ms.count, .responses_ok' <<<"$J" | tr '\n' ' ')" \
    "0 20 " "warm-up longer than the run: no latency sample, all answered"
load --system-id idhex --password pw -n 5 --warmup -1
sg_assert_eq "$RC" 2 "negative warm-up refused"
sg_assert_contains "$OUT" "--warmup -1: out of range" "warm-up error"
sg_pass "--warmup leaves the first seconds out of the latency figures"

# Multipart MT: a receipt for each part, for each way of splitting.
for split in udh udh16 sar payload; do
	load --system-id idhex --password pw -n 50 -w 32 --text-size 400 \
	    --split "$split" --to-range 4915551000-4915551099
	sg_assert_eq "$RC" 0 "multipart $split ($OUT)"
	want=$([ "$split" = payload ] && echo 50 || echo 150)
	sg_assert_eq "$(jq .submitted <<<"$J")" "$want" "$split parts submitted"
	sg_assert_eq "$(jq .receipts <<<"$J")" "$want" "$split receipts"
	accounted "$split"
done
out=$("$BENCH" send --port "$SP" --system-id idhex --password pw \
    --to 4915551200 --text "$(printf 'x%.0s' $(seq 1 200))" --encoding ucs2 \
    --wait-receipt 5 2>&1) || sg_fail "multipart send: $out"
sg_assert_contains "$out" "3 part(s), ucs2" "ucs2 parts"
sg_assert_contains "$out" "receipt 3/3:" "receipt of the last part"
sg_pass "multipart MT with UDH, UDH16, SAR, payload and UCS-2"

# MO reaches the bench during a run and is counted (single and multipart).
"$BENCH" load --port "$SP" --system-id idhex --password pw --duration 3 \
    --rate 50 --json --no-progress >"$SG_TMP/mo.json" 2>"$SG_TMP/mo.err" &
BP=$!
for _ in $(seq 1 40); do
	[ "$(curl -sf "$API/api/status" | jq '[.sessions[] | select(.system_id=="idhex")] | length')" -ge 1 ] && break
	sleep 0.1
done
curl -sf -X POST "$API/api/mo" -d '{"from":"491701234567","to":"4930","text":"mo one","account":"idhex"}' >/dev/null ||
    sg_fail "MO inject"
"$SIM" mo --http-port "$HP" --from 491701234568 --to 4930 --account idhex \
    --text "$(printf 'long mo %.0s' $(seq 1 30))" >/dev/null || sg_fail "smsc-sim mo"
wait "$BP" || sg_fail "MO run failed: $(cat "$SG_TMP/mo.err")"
J=$(tail -n 1 "$SG_TMP/mo.json")
sg_assert_eq "$(jq .mo <<<"$J")" 3 "MO deliver_sm counted (1 + 2 parts)"
accounted mo
sg_pass "MO answered and counted during a load"

# Every message id format: all receipts matched exactly.
for f in decimal hex HEX uuid digits10 digits20; do
	load --system-id "id$f" --password pw -n 300 -w 64 \
	    --to-range 4915552000-4915552099
	sg_assert_eq "$RC" 0 "$f ids ($OUT)"
	sg_assert_eq "$(jq .receipts <<<"$J")" 300 "$f receipts"
	accounted "$f"
done
sg_pass "message id formats: every receipt matched"

# Throttling: counted by status, retried when asked.
faults '{"throttle_tps":200}'
load --system-id idhex --password pw -n 2000 -w 64 --throttle-backoff 20 \
    --max-errors 100%
jq -e '.throttled > 0 and .responses_by_status.ESME_RTHROTTLED == .throttled' \
    >/dev/null <<<"$J" || sg_fail "throttling not seen: $J"
accounted throttle
load --system-id idhex --password pw -n 500 -w 16 --throttle-backoff 50 \
    --retry-throttled 50
sg_assert_eq "$RC" 0 "retried throttled run ($OUT)"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 500 "all accepted after retries"
sg_assert_eq "$(jq .receipts <<<"$J")" 500 "all receipted after retries"
faults '{"throttle_tps":0}'
sg_pass "throttle fault: counted, backed off, retried"

# Drop the connection after 1000 PDUs: a clear error, exit 4, accounted.
faults '{"drop_after":1000}'
load --system-id idhex --password pw -n 100000 -w 256 --receipt-timeout 2
sg_assert_eq "$RC" 4 "dropped connection"
sg_assert_contains "$OUT" "127.0.0.1:$SP:" "drop message names the peer"
jq -e '.submitted < 100000 and .responses_ok > 0' >/dev/null <<<"$J" ||
    sg_fail "drop counts: $J"
accounted drop
faults '{"drop_after":0}'
sg_pass "drop fault: reported, nothing accepted lost"

# TLS: two sessions, receipts.
load --port "$TP" --tls --ca "$SG_TMP/cert.pem" --tls-host localhost \
    --system-id idhex --password pw -n 2000 -w 64 --sessions 2 \
    --to-range 4915553000-4915553099
sg_assert_eq "$RC" 0 "TLS load ($OUT)"
sg_assert_eq "$(jq .receipts <<<"$J")" 2000 "TLS receipts"
accounted tls
rc=0; out=$("$BENCH" send --port "$TP" --tls --ca "$SG_TMP/cert.pem" \
    --tls-host wrong.example --to 49 --text x 2>&1) || rc=$?
sg_assert_eq "$rc" 3 "TLS name mismatch"
sg_assert_contains "$out" "TLS failed" "TLS mismatch text"
sg_pass "TLS load and a refused certificate name"

# Receipts before their submit_sm_resp (receipts.before_response_ms, as
# some SMSCs send them): each is held until its response names its id,
# on one TRX session and on TX + RX alike, by load and by send; one whose
# response never comes (a timeout shorter than the SMSC's delay) ends
# counted as unmatched.
early_sim() {	# NAME MS: a simulator answering MS after the receipts
	local port
	port=$(sg_free_port)
	printf 'receipts:\n  before_response_ms: %s\n' "$2" >"$SG_TMP/$1.yaml"
	sg_start "$1" "$SIM" -c "$SG_TMP/$1.yaml" --smpp-port "$port" \
	    --http-port "$(sg_free_port)"
	sg_wait_port "$port"
	EARLY_PORT=$port
}
early_sim sim_early 20
for bind in trx tx; do
	load --port "$EARLY_PORT" --system-id a --password b -n 300 -w 64 \
	    --bind "$bind" --to-range 4915554000-4915554099
	sg_assert_eq "$RC" 0 "receipts first, $bind ($OUT)"
	sg_assert_eq "$(jq .receipts <<<"$J")" 300 "early receipts matched, $bind"
	sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "none unmatched, $bind"
	sg_assert_eq "$(jq .receipts_early <<<"$J")" 300 "all came first, $bind"
	accounted "early $bind"
done
# send: the one receipt is held too, and printed with its part.
for bind in trx tx; do
	rc=0; out=$("$BENCH" send --port "$EARLY_PORT" --system-id a \
	    --password b --bind "$bind" --to 4915554001 --text early \
	    --wait-receipt 3 2>&1) || rc=$?
	sg_assert_eq "$rc" 0 "send, receipt first, $bind ($out)"
	sg_assert_contains "$out" "receipt 1/1: id=" "send matched it ($bind)"
	case "$out" in
	*"unknown id"*) sg_fail "send: the early receipt shown unknown: $out" ;;
	esac
done
early_sim sim_never 3000
load --port "$EARLY_PORT" --system-id a --password b -n 20 -w 20 \
    --response-timeout 300 --receipt-timeout 1 --max-errors 100% \
    --to-range 4915554000-4915554099
sg_assert_eq "$(jq .timeouts <<<"$J")" 20 "responses too late"
sg_assert_eq "$(jq .receipts <<<"$J")" 0 "no receipt matched"
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 20 "early receipts counted"
accounted "early, no response"
sg_pass "receipts before their response: held and matched, else counted"
