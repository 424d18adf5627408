#!/usr/bin/env bash
# smpp-bench against peers that misbehave (bench-peer, one fault each) and
# against bad input: every case must end by itself with a clear message
# and the documented exit code, and every submit must be accounted for
# (responses + timeouts + aborted + not sent == submitted).
. "$(dirname "$0")/lib.sh"

BENCH=$SG_BUILD_DIR/smsc-sim/smpp-bench/smpp-bench
PEER=$SG_BUILD_DIR/tests/integration/bench-peer
command -v jq >/dev/null || sg_fail "jq is needed"

# peer NAME ARGS...: starts bench-peer on a free port; sets PORT.
peer() {
	local name=$1
	shift
	PORT=$(sg_free_port)
	sg_start "$name" "$PEER" -p "$PORT" --max-seconds 120 "$@"
	sg_wait_port "$PORT"
}

# load ARGS...: runs a load with --json; sets RC, OUT (stderr+human),
# J (the JSON line).
load() {
	RC=0
	"$BENCH" load --host 127.0.0.1 --json --no-progress "$@" \
	    >"$SG_TMP/out.json" 2>"$SG_TMP/err.txt" || RC=$?
	J=$(tail -n 1 "$SG_TMP/out.json")
	OUT=$(cat "$SG_TMP/err.txt")
	jq -e . >/dev/null <<<"$J" || sg_fail "not JSON: $J ($OUT)"
}

# accounted: every submit ended one way or another.
accounted() {
	local s r t a n
	s=$(jq .submitted <<<"$J"); r=$(jq .responses <<<"$J")
	t=$(jq .timeouts <<<"$J"); a=$(jq .aborted <<<"$J")
	n=$(jq .not_sent <<<"$J")
	[ "$((r + t + a))" -eq "$s" ] ||
	    sg_fail "$1: submitted $s != responses $r + timeouts $t + aborted $a"
	[ "$n" -eq 0 ] || sg_fail "$1: $n not sent"
}

# A well-behaved peer first: everything matches.
peer good
load --port "$PORT" -n 20000 -w 128 --sessions 2
sg_assert_eq "$RC" 0 "clean run exit code ($OUT)"
sg_assert_eq "$(jq .submitted <<<"$J")" 20000 "submitted"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 20000 "responses_ok"
sg_assert_eq "$(jq .receipts <<<"$J")" 20000 "receipts"
sg_assert_eq "$(jq .receipts_by_stat.DELIVRD <<<"$J")" 20000 "DELIVRD"
for k in p50 p90 p99 max; do
	jq -e ".latency_ms.$k >= 0 and .receipt_latency_ms.$k >= 0" \
	    >/dev/null <<<"$J" || sg_fail "latency $k missing"
done
jq -e '.rate_per_s > 0 and .duration_s > 0 and .errors == 0' >/dev/null \
    <<<"$J" || sg_fail "rate/duration/errors: $J"
accounted good
# send: one message, its receipt, exit 0.
out=$("$BENCH" send --port "$PORT" --to 491701234567 --text "hi" \
    --wait-receipt 5 2>&1) || sg_fail "send: $out"
sg_assert_contains "$out" "ESME_ROK" "send response"
sg_assert_contains "$out" "stat=DELIVRD" "send receipt"
sg_pass "well-behaved peer: all submits answered and receipted"

# Peer that never answers: response timeouts, then a clear error, exit 4.
peer silent --silent
start=$(date +%s)
load --port "$PORT" -n 1000 -w 8 --response-timeout 500
sg_assert_eq "$RC" 4 "silent peer exit code"
sg_assert_contains "$OUT" "the peer stopped answering" "silent peer message"
jq -e '.timeouts > 0 and .responses == 0' >/dev/null <<<"$J" ||
    sg_fail "silent peer counts: $J"
accounted silent
[ $(($(date +%s) - start)) -le 10 ] || sg_fail "silent peer took too long"
# send to it: a timeout and exit 4, too.
rc=0; out=$("$BENCH" send --port "$PORT" --to 49 --text x \
    --response-timeout 300 2>&1) || rc=$?
sg_assert_eq "$rc" 4 "send to a silent peer"
sg_assert_contains "$out" "got no response within 300 ms" "send timeout text"
# The global --timeout ends a run even with long response timeouts.
load --port "$PORT" -n 10 -w 8 --response-timeout 60000 --timeout 1
sg_assert_eq "$RC" 4 "--timeout exit code"
sg_assert_contains "$OUT" "timed out after 1.0 s (--timeout)" "--timeout text"
accounted timeout
sg_pass "silent peer: timeouts counted, clear error, bounded"

# Peer that vanishes after 3000 submits.
peer drop --drop-after 3000
load --port "$PORT" -n 100000 -w 256
sg_assert_eq "$RC" 4 "dropped connection exit code"
sg_assert_contains "$OUT" "s0: 127.0.0.1:$PORT:" "drop names the session"
# The peer's close may reset the connection, so some of its last
# responses never arrive: they are counted as aborted, never lost.
jq -e '.responses_ok > 0 and .responses_ok <= 3000 and .aborted > 0 and
    .receipts + .receipts_missing == .receipts_expected and
    .receipts_expected == .responses_ok' >/dev/null <<<"$J" ||
    sg_fail "drop counts: $J"
accounted drop
sg_pass "vanishing peer: accepted submits kept, the rest aborted"

# Throttling peer: every 10th submit refused with ESME_RTHROTTLED.
peer throttle --throttle-every 10
load --port "$PORT" -n 5000 -w 64 --throttle-backoff 1
sg_assert_eq "$RC" 1 "throttled run over --max-errors 0"
sg_assert_eq "$(jq .responses_by_status.ESME_RTHROTTLED <<<"$J")" 500 "throttled count"
sg_assert_eq "$(jq .throttled <<<"$J")" 500 "throttled field"
sg_assert_contains "$OUT" "over the limit of 0 (--max-errors)" "threshold text"
accounted throttle
load --port "$PORT" -n 5000 -w 64 --throttle-backoff 1 --max-errors 10%
sg_assert_eq "$RC" 0 "throttled run under --max-errors 10%"
load --port "$PORT" -n 5000 -w 64 --throttle-backoff 1 --retry-throttled 5
sg_assert_eq "$RC" 0 "throttled run with retries"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 5000 "all accepted after retries"
sg_assert_eq "$(jq .receipts <<<"$J")" 5000 "all receipted after retries"
jq -e '.retries > 0 and .submitted == 5000 + .retries' >/dev/null <<<"$J" ||
    sg_fail "retry counts: $J"
accounted retry
sg_pass "throttling peer: counted, backed off, retried"

# Receipts with decimal ids for hex message ids: only --id-match hexdec.
peer dec --dec-receipts
load --port "$PORT" -n 500 --receipt-timeout 1
sg_assert_eq "$RC" 1 "exact matching misses hex/decimal receipts"
jq -e '.receipts == 0 and .receipts_unmatched == 500 and .receipts_missing == 500' \
    >/dev/null <<<"$J" || sg_fail "exact id counts: $J"
load --port "$PORT" -n 500 --id-match hexdec
sg_assert_eq "$RC" 0 "hexdec matching"
sg_assert_eq "$(jq .receipts <<<"$J")" 500 "hexdec receipts"
sg_pass "receipt ids: exact by default, hex/decimal when asked"

# Refused bind and nothing listening: exit 3 with the reason.
peer refuse --refuse-bind
load --port "$PORT" -n 10
sg_assert_eq "$RC" 3 "refused bind exit code"
sg_assert_contains "$OUT" "bind refused: ESME_RBINDFAIL" "refused bind text"
sg_assert_eq "$(jq .submitted <<<"$J")" 0 "nothing submitted"
dead=$(sg_free_port)
rc=0; out=$("$BENCH" send --port "$dead" --to 49 --text x 2>&1) || rc=$?
sg_assert_eq "$rc" 3 "connection refused exit code"
sg_assert_contains "$out" "127.0.0.1:$dead: the connection failed" "refused text"
sg_pass "refused bind and refused connection: exit 3"

# Bad input: exit 2 with the reason, nothing sent.
bad() {
	local want=$1 rc=0 out
	shift
	out=$("$BENCH" "$@" 2>&1) || rc=$?
	sg_assert_eq "$rc" 2 "exit code of: $*"
	sg_assert_contains "$out" "$want" "message of: $*"
}
bad "unknown command" frobnicate
bad "--to and --text are required" send --port "$PORT"
bad "expected TAG:HEX" send --to 1 --text x --tlv 1234
bad "even number of hex digits" send --to 1 --text x --tlv 0x1403:123
bad "cannot encode the text as gsm7" send --port "$PORT" --to 1 --text "Привет" --encoding gsm7
bad "TLV 0x0427" send --port "$PORT" --to 1 --text x --tlv 0x0427:0102
bad "--to is over 20 characters" send --port "$PORT" --to 123456789012345678901 --text x
bad "out of range" load -n 0
bad "give -n or --duration" load -n 5 --duration 2
bad "window (-w) must be at least" load --port "$PORT" -n 1 -w 2 --text-size 500
bad "--bind rx cannot submit" load --bind rx
bad "HI is below LO" load --to-range 5-1
rc=0; out=$("$BENCH" send --port "$PORT" --to 1 --text x --password 123456789 2>&1) || rc=$?
sg_assert_eq "$rc" 3 "long password"
sg_assert_contains "$out" "--password has at most 8 characters" "long password text"
case "$out" in *123456789*) sg_fail "the password was printed" ;; esac
sg_pass "bad input: clear messages, exit 2"
