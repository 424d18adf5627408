#!/usr/bin/env bash
# A receipt never overtakes its submit_sm_resp when the ESME submits on a
# TX session and receives on a separate RX session, on the backend in
# SG_BACKEND. The TX session stops reading for 3 s while it submits
# 5,000 messages, so their responses pile up unwritten in sealgate; the
# receipts (smsc-sim sends them at once) must wait for those responses to
# be written (logged as "deliver resp_wait"), at most 1 s each, and then
# every one arrives exactly once.
# Then, with the TX session reading at once, written is not enough: an
# ESME that reads each socket in its own thread (Kannel) may handle the
# receipt before the response it already received. Receipts on the RX
# session come no sooner than the account's receipt_grace (100ms here)
# after their response was queued (gateway/deliver.h), so the median time
# from reading a response to reading its receipt must be well above the
# ~15 ms it is without that.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
gw_one_link_config debug 'window: 10000, receipt_grace: 100ms'
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

OUT=$(timeout 200 python3 "$SG_SOURCE_DIR/tests/integration/esme_rx.py" \
    "$GP" "$AP" 0 5000 0 --tx-stall 2>&1) || sg_fail "python ESME: $OUT"
J=$(tail -n 1 <<<"$OUT")
jq -e . >/dev/null <<<"$J" || sg_fail "not JSON: $OUT"
# the link's queue may refuse some (ESME_RTHROTTLED): not the point here
jq -e '.submitted == 5000 and .ok >= 500' >/dev/null <<<"$J" ||
    sg_fail "submits: $J"
jq -e '.receipts == .ok and .unique == .ok and .dupes == 0 and
    .unknown == 0 and .missing == 0' >/dev/null <<<"$J" ||
    sg_fail "not every receipt arrived exactly once: $J"
waits=$(grep -c "deliver resp_wait" "$SG_TMP/gw.log" || true)
[ "$waits" -gt 0 ] ||
    sg_fail "no receipt waited for its unwritten submit_sm_resp: $J"

OUT=$(timeout 200 python3 "$SG_SOURCE_DIR/tests/integration/esme_rx.py" \
    "$GP" "$AP" 0 300 0 2>&1) || sg_fail "python ESME (no stall): $OUT"
J2=$(tail -n 1 <<<"$OUT")
jq -e . >/dev/null <<<"$J2" || sg_fail "not JSON: $OUT"
jq -e '.submitted == 300 and .ok == 300 and .receipts == 300 and
    .unique == 300 and .missing == 0 and .before_resp == 0' \
    >/dev/null <<<"$J2" || sg_fail "not every receipt arrived once, after its response: $J2"
# 60 ms: the grace less room for the script's own thread scheduling
jq -e '.gap_ms_median >= 60' >/dev/null <<<"$J2" ||
    sg_fail "receipts on the RX session came sooner than receipt_grace (100ms) after their response: $J2"
gw_stop
sg_pass "TX submitter + RX receiver: $waits receipts waited for their response; every one arrived once ($J); with a prompt reader, receipts came a median $(jq -r .gap_ms_median <<<"$J2") ms after their response"
