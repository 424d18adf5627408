#!/usr/bin/env bash
# The database hangs under load (MariaDB stopped with SIGSTOP for 4 s, a
# server of this test's own, under the 5 s read timeout): the submits
# already waiting on their mappings are answered ESME_ROK once it is
# back, and from one second into the stall new submits are refused at
# once with statuses.storage_down instead of going down to the SMSC
# while nothing can be written. Every submit gets exactly one answer,
# every accepted one's receipt is mapped, a log line marks the stall and
# its end, sealgate_storage_stall_refused_total counts the refusals, and
# traffic flows again afterwards. Then, with storage.timeout 1s, a 5 s
# stall: the waiting submits get their error after the timeout, the
# database counts as down until it answers, and sealgate reconnects.
# Needs mariadbd (tests/mariadb.sh); without it: skipped (77), except in
# CI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
command -v mariadbd >/dev/null 2>&1 ||
    sg_skip_outside_ci "no mariadbd (bash .ci/deps.sh)"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
# A server of our own: the suite's shared one must not stop.
MDB=$SG_TMP/mdb
SG_TEST_MARIADB_PORT=$(sg_free_port) bash "$SG_SOURCE_DIR/tests/mariadb.sh" \
    start "$MDB" >"$SG_TMP/mariadb-start.log" 2>&1 ||
    sg_fail "private MariaDB: $(tail -n 5 "$SG_TMP/mariadb-start.log")"
MDB_PID=$(. "$MDB/env"; echo "$SG_TEST_MARIADB_PID")
DSN=$(. "$MDB/env"; echo "$SG_TEST_MARIADB_DSN")
SG_PIDS+=("$MDB_PID")	# the EXIT trap ends it if we fail first
[ -n "$MDB_PID" ] && kill -0 "$MDB_PID" || sg_fail "no mariadbd pid in $MDB/env"

URL=$DSN
gw_one_link_config info	# statuses.storage_down: ESME_RTHROTTLED
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

# stall_under_load AFTER SECS WHAT: 8 s of load (a window wider than the
# stall's traffic, so submits keep coming), the server stopped AFTER
# seconds in for SECS seconds. J = the load's JSON; every submit answered
# once, none left hanging, only ESME_ROK and storage_down (RTHROTTLED).
stall_under_load() {
	"$BENCH" load --port "$GP" --system-id demo --password demopass \
	    --duration 8 --rate 200 -w 2000 --max-errors 100% \
	    --receipt-timeout 5 --to-range 4915550000-4915550099 \
	    --throttle-backoff 10 --json --no-progress \
	    >"$SG_TMP/bg.json" 2>"$SG_TMP/bg.err" &
	local bg=$!
	sleep "$1"
	kill -STOP "$MDB_PID"
	sleep "$2"
	kill -CONT "$MDB_PID"
	wait "$bg" || true
	J=$(tail -n 1 "$SG_TMP/bg.json")
	jq -e . >/dev/null <<<"$J" ||
	    sg_fail "not JSON: $J ($(cat "$SG_TMP/bg.err"))"
	gw_accounted "$3"
	sg_assert_eq "$(jq '.timeouts + .aborted' <<<"$J")" 0 \
	    "$3: none left hanging"
	jq -e '.responses_by_status | keys - ["ESME_ROK", "ESME_RTHROTTLED"] |
	    length == 0' >/dev/null <<<"$J" ||
	    sg_fail "$3: unexpected statuses: $J"
}

stall_under_load 2 4 "database stalled under load"
refused=$(jq '.responses_by_status.ESME_RTHROTTLED // 0' <<<"$J")
[ "$refused" -gt 0 ] || sg_fail "nothing refused during a 4 s stall: $J"
# those that were accepted: each one's receipt came back, mapped
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched receipts"
sg_assert_eq "$(jq .receipts_missing <<<"$J")" 0 "missing receipts"
M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
sg_assert_contains "$M" "sealgate_storage_stall_refused_total $refused" \
    "stall refusals counted"
sg_assert_contains "$(sg_log gw)" "proxy storage_stalled"
sg_assert_contains "$(sg_log gw)" "proxy storage_resumed refused=$refused"
gw_send --system-id demo --password demopass --to 4915550001 --text hi \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "after the stall ($OUT)"
sg_pass "4 s stall: $refused refused at once, the rest accepted and mapped ($(jq -c .responses_by_status <<<"$J"))"
gw_stop

# storage.timeout 1s (and storage.stall 300ms), and a 5 s stall: the
# submits waiting on the hung transaction get their error after the
# timeout (and the reconnect attempt's), not when the server answers
# again 5 s later (with the default 5s they would wait that long). Then
# the database is down (storage_down) until it answers, and comes back
# by itself.
sed -i 's|^storage: {url: "\(.*\)"}$|storage: {url: "\1", timeout: 1s, stall: 300ms}|' \
    "$SG_TMP/gw.yaml"
grep -q 'timeout: 1s, stall: 300ms' "$SG_TMP/gw.yaml" ||
    sg_fail "no timeout and stall in gw.yaml"
gw_start gw2 "$SG_TMP/gw.yaml"
gw_wait_bound 1
stall_under_load 1.5 5 "database stalled past storage.timeout"
jq -e '.latency_ms.max < 4500' >/dev/null <<<"$J" ||
    sg_fail "a submit waited for the server, not for storage.timeout: $J"
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched receipts (2)"
# storage.stall 300ms: the stall was seen before the default 1 s
ms=$(sed -n 's/.* proxy storage_stalled ms=\([0-9]*\).*/\1/p' "$SG_TMP/gw2.log" |
    head -n 1)
[ -n "$ms" ] && [ "$ms" -lt 1000 ] ||
    sg_fail "storage.stall 300ms not applied: stalled ms='$ms'"
sg_assert_contains "$(sg_log gw2)" "db disconnected"
sg_assert_contains "$(sg_log gw2)" "db reconnected"
gw_send --system-id demo --password demopass --to 4915550001 --text hi \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "after the longer stall ($OUT)"
sg_pass "5 s stall with storage.timeout 1s: answered within $(jq .latency_ms.max <<<"$J") ms, reconnected ($(jq -c .responses_by_status <<<"$J"))"
gw_stop
bash "$SG_SOURCE_DIR/tests/mariadb.sh" stop "$MDB" >/dev/null 2>&1 ||
    sg_fail "private MariaDB did not stop"
