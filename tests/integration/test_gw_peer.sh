#!/usr/bin/env bash
# sealgate against SMSCs that misbehave in one way each (bench-peer), on
# the backend in SG_BACKEND:
#  - hex ids in submit_sm_resp but decimal ids in the receipt text and no
#    receipted_message_id TLV: found tolerantly, the text's id: rewritten
#    (smpp-bench then matches the receipt by its text alone);
#  - every 5th submit refused with ESME_RTHROTTLED: passed up unchanged;
#  - submits never answered: the ESME gets statuses.response_timeout
#    (here ESME_RSUBMITFAIL, to tell it from anything else) and nothing
#    is recorded;
#  - binds refused: the link never binds, submits get statuses.links_down.
# Every run: each submit answered exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

PEER=$SG_BUILD_DIR/tests/integration/bench-peer
[ -x "$PEER" ] || sg_fail "bench-peer not built"
GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"

# run NAME PEER_ARGS...: a fresh bench-peer and sealgate pair.
run() {
	local name=$1
	shift
	PP=$(sg_free_port)
	sg_start "peer-$name" "$PEER" -p "$PP" --max-seconds 60 "$@"
	PEER_PID=$SG_LAST_PID
	sg_wait_port "$PP"
	cat >"$SG_TMP/gw-$name.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
statuses: {response_timeout: ESME_RSUBMITFAIL, links_down: ESME_RTHROTTLED}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
links:
  - {name: peer, host: 127.0.0.1, port: $PP, system_id: gw, password: pw, response_timeout: 1s, reconnect_min: 100ms, reconnect_max: 300ms}
groups:
  g: [peer]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
	gw_start "gw-$name" "$SG_TMP/gw-$name.yaml"
}
end() {
	gw_stop
	kill "$PEER_PID" 2>/dev/null || true
	sg_wait_exit "$PEER_PID" 10
}

run dec --dec-receipts
gw_wait_bound 1
gw_load --system-id demo --password demopass -n 200 -w 32
sg_assert_eq "$RC" 0 "dec receipts ($(cat "$SG_TMP/load.err"))"
gw_accounted "dec receipts"
sg_assert_eq "$(jq .receipts <<<"$J")" 200 "receipts found by text"
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched"
end
sg_pass "hex id answered, decimal id in the receipt text: mapped, text rewritten"

run thr --throttle-every 5
gw_wait_bound 1
gw_load --system-id demo --password demopass -n 100 -w 8 \
    --registered-delivery 0 --max-errors 100% --throttle-backoff 0
gw_accounted "SMSC throttling"
sg_assert_eq "$(jq .responses_by_status.ESME_RTHROTTLED <<<"$J")" 20 \
    "the SMSC's status passed up"
sg_assert_eq "$(jq .responses_by_status.ESME_ROK <<<"$J")" 80 "the rest"
end
sg_pass "the SMSC's refusals go up unchanged"

run silent --silent
gw_wait_bound 1
gw_load --system-id demo --password demopass -n 10 -w 10 \
    --registered-delivery 1 --max-errors 100% --receipt-timeout 1
gw_accounted "silent SMSC"
sg_assert_eq "$(jq .responses_by_status.ESME_RSUBMITFAIL <<<"$J")" 10 \
    "statuses.response_timeout"
sg_assert_eq "$(jq .timeouts <<<"$J")" 0 "the ESME itself timed out"
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
grep -qx 'sealgate_link_timeouts_total{link="peer"} 10' <<<"$M" ||
    sg_fail "link timeouts: $M"
# one storage job only: the queue count at start; no mapping written
grep -qx 'sealgate_storage_jobs_total 1' <<<"$M" || sg_fail "jobs: $M"
end
sg_pass "unanswered submits: statuses.response_timeout, nothing recorded"

run refuse --refuse-bind
sleep 1
gw_send --system-id demo --password demopass --to 491701234567 --text hi
sg_assert_contains "$OUT" "ESME_RTHROTTLED" "links_down"
sg_assert_contains "$(sg_log gw-refuse)" "ESME_RBINDFAIL"
end
sg_pass "a link that cannot bind: statuses.links_down"
