#!/usr/bin/env bash
# Links going away and configuration changes at sealgate, on the backend
# in SG_BACKEND: a route's first group takes the traffic; when its SMSC
# stops, traffic moves to the next group; an SMSC that drops the session
# mid-window makes every submit still get exactly one answer (the lost
# ones with statuses.session_lost); SIGHUP with a good file swaps accounts
# (a session bound under the old file keeps working, the removed account
# can no longer bind, the new one can); SIGHUP with a broken file is
# refused with a file:line:column log line and the old config kept;
# SIGTERM waits for the answers in flight and exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SPA=$(sg_free_port); HPA=$(sg_free_port); SPB=$(sg_free_port)
HPB=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"

config() {	# config ACCOUNT...
	cat <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: ${LOGLEVEL:-info}}
drain_time: 8s
statuses: {session_lost: ESME_RSYSERR}
accounts:
YAML
	for a in "$@"; do
		printf '  - {system_id: %s, password_hash: "%s"}\n' "$a" "$GW_HASH"
	done
	cat <<YAML
links:
  - {name: la, host: 127.0.0.1, port: $SPA, system_id: gw, password: pw, reconnect_min: 100ms, reconnect_max: 300ms, response_timeout: 5s}
  - {name: lb, host: 127.0.0.1, port: $SPB, system_id: gw, password: pw, reconnect_min: 100ms, reconnect_max: 300ms, response_timeout: 5s}
groups:
  ga: [la]
  gb: [lb]
routes:
  - {prefix: "", groups: [ga, gb]}
mo_routes: []
YAML
}
config demo >"$SG_TMP/gw.yaml"
sim_submits() {
	curl -sf "http://127.0.0.1:$1/api/status" |
	    jq '[.accounts[] | select(.system_id == "gw") | .submits] | add // 0'
}

sg_start simA "$SIM" --smpp-port "$SPA" --http-port "$HPA"
SIMA=$SG_LAST_PID
sg_start simB "$SIM" --smpp-port "$SPB" --http-port "$HPB"
sg_wait_port "$SPA"; sg_wait_port "$SPB"; sg_wait_port "$HPB"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 2

gw_load --system-id demo --password demopass -n 200 -w 32 \
    --to-range 4915550000-4915550099
sg_assert_eq "$RC" 0 "load to the first group ($(cat "$SG_TMP/load.err"))"
gw_accounted "first group"
sg_assert_eq "$(sim_submits "$HPA")" 200 "submits at A"
sg_assert_eq "$(sim_submits "$HPB")" 0 "submits at B"
sg_pass "the first group takes the traffic"

kill "$SIMA"
sg_wait_exit "$SIMA" 10
gw_wait_bound 1
gw_load --system-id demo --password demopass -n 200 -w 32 \
    --to-range 4915550000-4915550099
sg_assert_eq "$RC" 0 "load after A stopped ($(cat "$SG_TMP/load.err"))"
gw_accounted "failover"
sg_assert_eq "$(jq .receipts <<<"$J")" 200 "receipts through B"
sg_assert_eq "$(sim_submits "$HPB")" 200 "submits at B"
sg_pass "failover: traffic moves to the next group"

# B drops its session after 40 PDUs, again and again, while 64 are in
# flight: each submit is still answered exactly once.
curl -sf -X POST "http://127.0.0.1:$HPB/api/faults" \
    -d '{"drop_after": 40, "delay_ms": 20}' >/dev/null || sg_fail "faults"
gw_load --system-id demo --password demopass -n 400 -w 64 \
    --registered-delivery 0 --max-errors 100% --throttle-backoff 20
curl -sf -X POST "http://127.0.0.1:$HPB/api/faults" \
    -d '{"drop_after": 0, "delay_ms": 0}' >/dev/null || sg_fail "faults"
gw_accounted "drop mid-window"
sg_assert_eq "$(jq '.responses' <<<"$J")" 400 "one answer per submit"
sg_assert_eq "$(jq '.timeouts + .aborted' <<<"$J")" 0 "none left hanging"
lost=$(jq '.responses_by_status.ESME_RSYSERR // 0' <<<"$J")
[ "$lost" -gt 0 ] || sg_fail "no session_lost answers: $J"
gw_wait_bound 1
sg_pass "SMSC drop mid-window: every submit answered once ($lost lost)"

# SIGHUP: demo removed, newbie added, while demo is sending.
"$BENCH" load --port "$GP" --system-id demo --password demopass \
    --duration 3 --rate 100 --registered-delivery 0 --json --no-progress \
    >"$SG_TMP/bg.json" 2>"$SG_TMP/bg.err" &
BG=$!
sleep 1
debug_before=$(grep -c " debug " "$SG_TMP/gw.log" || true)
sg_assert_eq "$debug_before" 0 "debug lines at level info"
LOGLEVEL=debug config newbie >"$SG_TMP/gw.yaml"
kill -HUP "$GW_PID"
gw_wait_log gw "daemon reloaded generation=2"
gw_wait_log gw "daemon log_level level=3"
bgrc=0; wait "$BG" || bgrc=$?
J=$(tail -n 1 "$SG_TMP/bg.json")
sg_assert_eq "$bgrc" 0 "the session bound before the reload ($J)"
gw_accounted "across the reload"
gw_send --system-id demo --password demopass --to 4915550001 --text hi
sg_assert_contains "$OUT" "bind refused: ESME_RINVSYSID" "removed account"
gw_send --system-id newbie --password demopass --to 4915550001 --text hi
sg_assert_eq "$RC" 0 "new account ($OUT)"
[ "$(grep -c " debug " "$SG_TMP/gw.log")" -gt 0 ] ||
    sg_fail "no debug lines after the reload to log.level debug"
sg_pass "SIGHUP: accounts swapped, bound sessions unharmed, log level applied"

printf 'accounts:\n  - system_id: [\n' >"$SG_TMP/gw.yaml"
kill -HUP "$GW_PID"
gw_wait_log gw "reload_refused"
sg_assert_contains "$(grep reload_refused "$SG_TMP/gw.log")" "gw.yaml:"
gw_send --system-id newbie --password demopass --to 4915550001 --text hi
sg_assert_eq "$RC" 0 "old config kept ($OUT)"
sg_assert_contains "$(curl -sf "http://127.0.0.1:$AP/metrics")" \
    'sealgate_reloads_total{result="failed"} 1'
sg_pass "SIGHUP with a broken file: refused, old config kept"

# SIGTERM with 20 submits in flight (the SMSC answers after 1.5 s).
curl -sf -X POST "http://127.0.0.1:$HPB/api/faults" -d '{"delay_ms": 1500}' \
    >/dev/null || sg_fail "faults"
"$BENCH" load --port "$GP" --system-id newbie --password demopass -n 20 \
    -w 20 --registered-delivery 0 --json --no-progress \
    >"$SG_TMP/bg.json" 2>"$SG_TMP/bg.err" &
BG=$!
sleep 0.7
kill -TERM "$GW_PID"
sg_wait_exit "$GW_PID" 20
sg_assert_eq "$SG_EXIT_STATUS" 0 "exit status after the drain"
wait "$BG" || true
J=$(tail -n 1 "$SG_TMP/bg.json")
sg_assert_eq "$(jq .responses_ok <<<"$J")" 20 "answered during the drain ($J)"
grep -q drain_timeout "$SG_TMP/gw.log" && sg_fail "the drain timed out"
sg_assert_contains "$(sg_log gw)" "daemon exit rc=0"
sg_pass "SIGTERM: in-flight submits answered, exit 0"
