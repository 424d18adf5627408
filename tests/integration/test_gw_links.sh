#!/usr/bin/env bash
# Receipts that come back on another session than the submit, on the
# backend in SG_BACKEND:
#  1. a TX link and an RX link to one SMSC (smsc-sim sends a TX-submitted
#     message's receipt to the account's receivers: the RX link). The
#     links share `smsc:`, so the RX link finds the TX link's mappings;
#     without it the receipts are unknown (the control run).
#  2. one TRX link of two sessions to bench-peer --sibling-receipts, which
#     sends every receipt on the other session than its submit's: the
#     receipt can arrive before the mapping is committed, and must still
#     be found.
#  3. smsc-sim with receipts.before_response_ms: each receipt comes before
#     the submit_sm_resp that names its SMSC id; sealgate waits for that
#     mapping and maps every one once it is written (not a retry later),
#     and the ESME still gets none before its response.
# Plus the config checks: an rx link cannot be in a group, and smsc must
# be a name; both errors name file:line:column.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
PEER=$SG_BUILD_DIR/tests/integration/bench-peer
[ -x "$PEER" ] || sg_fail "bench-peer not built"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"

# link_config SMSC_KEY: sealgate with sim-tx (bind tx) and sim-rx (bind rx).
link_config() {
	cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: info}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
links:
  - {name: sim-tx, bind: tx, host: 127.0.0.1, port: $SP, system_id: gw, password: pw $1}
  - {name: sim-rx, bind: rx, host: 127.0.0.1, port: $SP, system_id: gw, password: pw $1}
groups:
  g: [sim-tx]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
}

# load_all NAME N: N submits through sealgate, every one accepted and its
# receipt mapped, none of them before its submit_sm_resp.
load_all() {
	gw_load --system-id demo --password demopass -n "$2" -w 32 \
	    --receipt-timeout 10
	sg_assert_eq "$RC" 0 "load $1 ($(cat "$SG_TMP/load.err"))"
	gw_accounted "load $1"
	sg_assert_eq "$(jq .responses_ok <<<"$J")" "$2" "accepted ($1)"
	sg_assert_eq "$(jq .receipts <<<"$J")" "$2" "receipts ($1)"
	sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched ($1)"
	sg_assert_eq "$(jq .receipts_early <<<"$J")" 0 \
	    "receipts before their submit_sm_resp ($1)"
}

# Config errors first.
link_config ", smsc: simc"
sed 's/  g: \[sim-tx\]/  g: [sim-tx, sim-rx]/' "$SG_TMP/gw.yaml" >"$SG_TMP/bad1.yaml"
out=$("$SEALGATE" --check-config -c "$SG_TMP/bad1.yaml" 2>&1) &&
    sg_fail "an rx link in a group was accepted"
sg_assert_contains "$out" "bad1.yaml:13:" "file:line of the rx member"
sg_assert_contains "$out" "link 'sim-rx' binds rx and cannot carry submits"
sed 's/smsc: simc}/smsc: "sim c"}/' "$SG_TMP/gw.yaml" >"$SG_TMP/bad2.yaml"
out=$("$SEALGATE" --check-config -c "$SG_TMP/bad2.yaml" 2>&1) &&
    sg_fail "a bad smsc name was accepted"
sg_assert_contains "$out" "bad2.yaml:10:" "file:line of the bad smsc"
sg_assert_contains "$out" "smsc" "the key in the error"
out=$("$SEALGATE" --check-config -c "$SG_TMP/gw.yaml" 2>&1) ||
    sg_fail "good config refused: $out"
sg_pass "config: rx links stay out of groups, smsc is checked (file:line:column)"

# 1. TX link + RX link sharing smsc.
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 2
load_all tx+rx 200
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
rx=$(sed -n 's/^sealgate_link_receipts_total{link="sim-rx"} //p' <<<"$M")
sg_assert_eq "$rx" 200 "receipts that came in on the rx link"
gw_stop
sg_pass "tx link + rx link with one smsc: all 200 receipts mapped"

# The control: without smsc the rx link looks under its own name.
link_config ""
gw_start gw2 "$SG_TMP/gw.yaml"
gw_wait_bound 2
gw_load --system-id demo --password demopass -n 20 -w 8 --receipt-timeout 6
sg_assert_eq "$(jq .responses_ok <<<"$J")" 20 "accepted (control)"
sg_assert_eq "$(jq .receipts <<<"$J")" 0 "receipts (control)"
gw_wait_log gw2 "dlr unknown link=sim-rx" 15
gw_stop
sg_pass "control: without smsc the rx link's receipts are unknown"

# 2. Receipts on a sibling session of one link.
PP=$(sg_free_port)
cat >"$SG_TMP/gw3.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: info}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
links:
  - {name: peer, host: 127.0.0.1, port: $PP, system_id: gw, password: pw, sessions: 2}
groups:
  g: [peer]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
sg_start peer "$PEER" -p "$PP" --max-seconds 120 --sibling-receipts
PEER_PID=$SG_LAST_PID
sg_wait_port "$PP"
gw_start gw3 "$SG_TMP/gw3.yaml"
gw_wait_bound 2
load_all sibling 300
gw_stop
kill "$PEER_PID"
sg_wait_exit "$PEER_PID" 10
sg_assert_contains "$(cat "$SG_TMP/peer.log")" \
    "receipts=300 on_sibling=300" "bench-peer sent every receipt on a sibling"
sg_pass "receipts on a sibling session of the link: all 300 mapped"

# 3. The SMSC sends each receipt 20 ms before the submit_sm_resp.
SP3=$(sg_free_port)
printf 'receipts:\n  before_response_ms: 20\n' >"$SG_TMP/sim3.yaml"
sg_start sim3 "$SIM" -c "$SG_TMP/sim3.yaml" --smpp-port "$SP3" \
    --http-port "$(sg_free_port)"
sg_wait_port "$SP3"
sed "s/port: $PP, system_id: gw, password: pw, sessions: 2/port: $SP3, system_id: gw, password: pw/" \
    "$SG_TMP/gw3.yaml" >"$SG_TMP/gw4.yaml"
gw_start gw4 "$SG_TMP/gw4.yaml"
gw_wait_bound 1
load_all "receipts first" 200
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
sg_assert_contains "$M" "sealgate_receipts_unknown_total 0" \
    "receipts that came before their mapping"
sg_assert_contains "$M" "sealgate_receipts_before_mapping_total 200" \
    "every receipt came before its mapping, and was mapped after"
# Each waited for its mapping to be written, not for the first retry
# (250 ms): a receipt then reaches the ESME about 20 ms after its
# submit. The bound leaves the rest of the 250 ms to a slow machine.
p50=$(jq '.receipt_latency_ms.p50' <<<"$J")
awk -v p="$p50" 'BEGIN { exit !(p < 200) }' ||
    sg_fail "receipts before their response waited for a retry: p50 $p50 ms"
gw_stop
sg_pass "receipts before the SMSC's response: all 200 mapped as soon as written, none early upstream"
