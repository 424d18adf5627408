#!/usr/bin/env bash
# Binds and per-account limits at sealgate, on the backend in SG_BACKEND:
# a good bind; refusals with the documented statuses (network outside the
# account's CIDRs, bind type, max binds: ESME_RBINDFAIL at once; wrong
# password ESME_RINVPASWD and unknown system_id ESME_RINVSYSID after the
# failure delay); 200 simultaneous binds of one account all accepted; lockout of the address after 3 failures (even the right
# password is refused) and its end; TPS (ESME_RTHROTTLED) and window
# (ESME_RMSGQFUL) limits; anti-spoofing (ESME_RINVSRCADR). Refused
# submits are answered, never lost: every submit gets one answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: info}
auth: {failure_delay: 400ms, lockout_failures: 3, lockout_window: 1m, lockout_duration: 3s}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
  - {system_id: far, password_hash: "$GW_HASH", networks: [10.0.0.0/8]}
  - {system_id: txonly, password_hash: "$GW_HASH", bind_types: [tx]}
  - {system_id: one, password_hash: "$GW_HASH", max_binds: 1}
  - {system_id: slow, password_hash: "$GW_HASH", tps: 20}
  - {system_id: win, password_hash: "$GW_HASH", window: 2}
  - {system_id: src, password_hash: "$GW_HASH", source_addresses: ["4930*"]}
  - {system_id: many, password_hash: "$GW_HASH", max_binds: 0}
links:
  - {name: sim, host: 127.0.0.1, port: $SP, system_id: gw, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
groups:
  g: [sim]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"; sg_wait_port "$HP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

send() { gw_send --password demopass --to 491701234567 --text hi "$@"; }

send --system-id demo
sg_assert_eq "$RC" 0 "good bind ($OUT)"
sg_assert_contains "$OUT" "ESME_ROK"
send --system-id demo
sg_assert_eq "$RC" 0 "second good bind (cached verification) ($OUT)"
sg_pass "bind and submit"

send --system-id far
sg_assert_contains "$OUT" "bind refused: ESME_RBINDFAIL" "CIDR"
gw_wait_log gw "why=network"
send --system-id txonly --bind trx
sg_assert_contains "$OUT" "bind refused: ESME_RBINDFAIL" "bind type"
gw_wait_log gw "why=bind_type"
send --system-id txonly --bind tx --registered-delivery 0 || true
gw_load --system-id one --password demopass -n 10 --sessions 2
sg_assert_eq "$RC" 3 "second session of a max_binds 1 account"
sg_assert_contains "$(jq -r .fatal <<<"$J")" "ESME_RBINDFAIL"
gw_wait_log gw "why=max_binds"
sg_pass "network, bind type and max binds: ESME_RBINDFAIL"

# 200 sessions binding at once with the same credentials: one PBKDF2
# for all of them, none refused for a busy verifier.
gw_load --system-id many --password demopass -n 400 -w 2 --sessions 200 \
    --registered-delivery 0
sg_assert_eq "$RC" 0 "200 binds at once ($(jq -r .fatal <<<"$J"))"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 400 "their submits"
grep -q verifier_busy "$SG_TMP/gw.log" && sg_fail "verifier busy"
sg_pass "200 simultaneous binds of one account share one verification"

# TPS 20: a burst of 200 at full speed is mostly throttled, all answered.
gw_load --system-id slow --password demopass -n 200 -w 16 \
    --registered-delivery 0 --max-errors 100% --throttle-backoff 0
gw_accounted "tps"
thr=$(jq '.responses_by_status.ESME_RTHROTTLED // 0' <<<"$J")
ok=$(jq '.responses_by_status.ESME_ROK // 0' <<<"$J")
[ "$thr" -gt 100 ] || sg_fail "too few throttled: $J"
[ "$ok" -ge 20 ] && [ "$ok" -le 60 ] || sg_fail "ROK outside the TPS: $J"
sg_assert_eq $((thr + ok)) 200 "throttled + ok"
sg_pass "TPS: ESME_RTHROTTLED beyond the rate ($ok ok, $thr throttled)"

# Window 2: with the SMSC answering after 300 ms, 16 in flight overflow.
curl -sf -X POST "http://127.0.0.1:$HP/api/faults" -d '{"delay_ms": 300}' \
    >/dev/null || sg_fail "faults"
gw_load --system-id win --password demopass -n 32 -w 16 \
    --registered-delivery 0 --max-errors 100%
curl -sf -X POST "http://127.0.0.1:$HP/api/faults" -d '{"delay_ms": 0}' \
    >/dev/null || sg_fail "faults"
gw_accounted "window"
full=$(jq '.responses_by_status.ESME_RMSGQFUL // 0' <<<"$J")
[ "$full" -gt 0 ] || sg_fail "no ESME_RMSGQFUL: $J"
[ "$(jq '.responses_by_status.ESME_ROK // 0' <<<"$J")" -gt 0 ] ||
    sg_fail "nothing went through: $J"
sg_pass "window: ESME_RMSGQFUL beyond it"

send --system-id src --from 4930111
sg_assert_eq "$RC" 0 "allowed source ($OUT)"
send --system-id src --from 4931111
sg_assert_contains "$OUT" "ESME_RINVSRCADR" "spoofed source"
sg_pass "anti-spoofing: ESME_RINVSRCADR"

# Failures, answered late and counted per address; the third locks out.
t0=$(date +%s%N)
send --system-id demo --password wrong
t1=$(date +%s%N)
sg_assert_contains "$OUT" "bind refused: ESME_RINVPASWD" "wrong password"
[ $(((t1 - t0) / 1000000)) -ge 380 ] || sg_fail "refused without delay"
send --system-id nobody
sg_assert_contains "$OUT" "bind refused: ESME_RINVSYSID" "unknown id"
send --system-id demo --password wrong2
sg_assert_contains "$OUT" "bind refused: ESME_RINVPASWD" "third failure"
gw_wait_log gw "locked_out peer=127.0.0.1"
send --system-id demo
sg_assert_contains "$OUT" "bind refused: ESME_RBINDFAIL" "locked out"
gw_wait_log gw "why=locked_out"
sleep 3
send --system-id demo
sg_assert_eq "$RC" 0 "after the lockout ($OUT)"
sg_pass "wrong credentials: delayed refusals, lockout and its end"

M=$(curl -sf "http://127.0.0.1:$AP/metrics")
sg_assert_contains "$M" 'sealgate_account_submits_total{account="slow",status="ESME_RTHROTTLED"}'
sg_assert_contains "$M" 'sealgate_account_bind_total{account="demo",result="failed"}'
grep -q -e demopass -e wrong "$SG_TMP/gw.log" && sg_fail "a password in the log"
gw_stop
sg_pass "metrics; no password logged; clean stop"
