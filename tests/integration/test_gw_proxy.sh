#!/usr/bin/env bash
# smpp-bench -> sealgate -> smsc-sim and back, on the backend in
# SG_BACKEND: gateway ids returned in the account's format, receipts
# rewritten to them for hex, decimal and UUID SMSC ids (one link per sim
# account format, picked by destination prefix), no route refused with
# ESME_RINVDSTADR, a receipt and an MO that arrive while the ESME is not
# bound are queued durably, survive a restart of sealgate (the receipt
# for a message sent before the restart is still mapped) and are
# delivered when the ESME binds again; /metrics and /status; SIGTERM
# exits 0. Every load checks that each submit got exactly one answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"

cat >"$SG_TMP/sim.yaml" <<YAML
accounts:
  - {system_id: idhex, password: pw, message_id: hex}
  - {system_id: iddec, password: pw, message_id: decimal}
  - {system_id: iduuid, password: pw, message_id: uuid}
receipts:
  late_ms: 1500
YAML
cat >"$SG_TMP/gw.yaml" <<YAML
instance_id: 42
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: debug}
drain_time: 5s
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
  - {system_id: demodec, password_hash: "$GW_HASH", message_id: decimal}
links:
  - {name: lhex, host: 127.0.0.1, port: $SP, system_id: idhex, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
  - {name: ldec, host: 127.0.0.1, port: $SP, system_id: iddec, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
  - {name: luuid, host: 127.0.0.1, port: $SP, system_id: iduuid, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
groups:
  ghex: [lhex]
  gdec: [ldec]
  guuid: [luuid]
routes:
  - {prefix: "4911", groups: [ghex]}
  - {prefix: "4912", groups: [gdec]}
  - {prefix: "4913", groups: [guuid]}
mo_routes:
  - {prefix: "", account: demo}
YAML

sg_start sim "$SIM" -c "$SG_TMP/sim.yaml" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"; sg_wait_port "$HP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 3
gw_wait_log gw "storage_open backend=$SG_BACKEND"

# Receipts for hex, decimal and UUID SMSC ids come back with our ids:
# smpp-bench matches each receipt's receipted_message_id to the id it got
# in submit_sm_resp, so unmatched == 0 means every one was rewritten.
for p in 4911 4912 4913; do
	gw_load --system-id demo --password demopass -n 300 -w 32 \
	    --to-range "${p}000000-${p}000099"
	sg_assert_eq "$RC" 0 "load via $p ($(cat "$SG_TMP/load.err"))"
	gw_accounted "load via $p"
	sg_assert_eq "$(jq .responses_ok <<<"$J")" 300 "$p accepted"
	sg_assert_eq "$(jq .receipts <<<"$J")" 300 "$p receipts"
	sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "$p unmatched"
done
sg_pass "receipts mapped for hex, decimal and UUID SMSC ids"
# Those receipts came right after their submit_sm_resp: mapped from the
# recent-mapping table (gateway/rcache.h), not by a storage lookup; a
# few may miss it (a slot shared with a write in flight) and go to
# storage, which the restart below proves.
M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
cached=$(sed -n 's/^sealgate_receipts_cached_total //p' <<<"$M")
[ -n "$cached" ] && [ "$cached" -ge 800 ] && [ "$cached" -le 900 ] ||
    sg_fail "receipts mapped from the recent-mapping table: '$cached' of 900"
sg_pass "receipts mapped without a storage lookup: $cached of 900"

# Our ids: hex by default (below 2^63: at most 16 digits, first < 8),
# decimal for demodec; the receipt carries the same id.
gw_send --system-id demo --password demopass --to 4913000001 --text hi \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "send demo ($OUT)"
id=$(sed -n 's/.*message_id=\([^ ]*\).*/\1/p' <<<"$OUT")
[[ $id =~ ^[0-7]?[0-9a-f]{1,15}$ ]] || sg_fail "not a hex id below 2^63: $id"
sg_assert_contains "$OUT" "receipt 1/1: id=$id stat=DELIVRD"
gw_send --system-id demodec --password demopass --to 4911000001 --text hi \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "send demodec ($OUT)"
id=$(sed -n 's/.*message_id=\([^ ]*\).*/\1/p' <<<"$OUT")
[[ $id =~ ^[0-9]{1,19}$ ]] || sg_fail "not a decimal id: $id"
sg_assert_contains "$OUT" "receipt 1/1: id=$id stat=DELIVRD"
sg_pass "gateway ids in the account's format, in the receipts too"

# No route for 33...: ESME_RINVDSTADR, nothing sent down.
gw_send --system-id demo --password demopass --to 3312345678 --text hi
sg_assert_contains "$OUT" "ESME_RINVDSTADR"
sg_pass "no route: ESME_RINVDSTADR"

# A late receipt (sim: suffix 996, 1.5 s) and an MO while demo is not
# bound; sealgate restarts in between.
gw_send --system-id demo --password demopass --to 4912000996 --text late \
    --registered-delivery 1
sg_assert_eq "$RC" 0 "send late ($OUT)"
late=$(sed -n 's/.*message_id=\([^ ]*\).*/\1/p' <<<"$OUT")
"$SIM" mo --http-port "$HP" --from 491700000077 --to 4444 --text "hello" \
    --account idhex >/dev/null || sg_fail "MO injection"
gw_wait_log gw "deliver queued row="
gw_stop
gw_start gw2 "$SG_TMP/gw.yaml"
gw_wait_log gw2 "demo daemon queued_from_before rows=1"
gw_wait_bound 3
# the late receipt reaches the new process: mapped from storage, queued
gw_wait_log gw2 "$late dlr mapped" 10
M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
sg_assert_contains "$M" "sealgate_receipts_cached_total 0" \
    "a mapping from before the restart comes from storage"
gw_wait_log gw2 "deliver queued row=" 10
gw_send --system-id demo --password demopass --to 4911000002 --text next \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "send after the restart ($OUT)"
sg_assert_contains "$OUT" "receipt for an unknown id: id=$late stat=DELIVRD" \
    "the queued receipt of the earlier message"
sg_assert_contains "$OUT" "mo: from=491700000077 to=4444" "the queued MO"
# delivered once: a second bind gets nothing more of them
gw_send --system-id demo --password demopass --to 4911000003 --text again \
    --registered-delivery 1 --wait-receipt 3
case "$OUT" in
*"id=$late"*|*"mo: from=491700000077"*) sg_fail "delivered twice: $OUT" ;;
esac
sg_pass "queued receipt and MO survive a restart, delivered once on rebind"

# The time the gateway adds leaves out the wait for the SMSC: with the
# simulator answering 300 ms late, three submits add 0.9 s to the
# latency histogram's sum and about nothing to the added one's; both
# count every answered submit.
metric() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
lat0=$(metric 'sealgate_submit_latency_seconds_sum{account="demo"}' "$M")
add0=$(metric 'sealgate_submit_added_seconds_sum{account="demo"}' "$M")
curl -sf -X POST "http://127.0.0.1:$HP/api/faults" -d '{"delay_ms": 300}' \
    >/dev/null || sg_fail "faults"
gw_load --system-id demo --password demopass -n 3 -w 1 \
    --to-range 4911000009-4911000011
sg_assert_eq "$RC" 0 "three slow submits ($(cat "$SG_TMP/load.err"))"
sg_assert_eq "$(jq .responses_ok <<<"$J")" 3 "three slow submits accepted"
curl -sf -X POST "http://127.0.0.1:$HP/api/faults" -d '{"delay_ms": 0}' \
    >/dev/null || sg_fail "faults off"
M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
lat1=$(metric 'sealgate_submit_latency_seconds_sum{account="demo"}' "$M")
add1=$(metric 'sealgate_submit_added_seconds_sum{account="demo"}' "$M")
awk -v a="$lat0" -v b="$lat1" 'BEGIN { exit !(b - a >= 0.85) }' ||
    sg_fail "latency sum grew by less than 0.9 s: $lat0 -> $lat1"
awk -v a="$add0" -v b="$add1" 'BEGIN { exit !(b - a < 0.3) }' ||
    sg_fail "the SMSC's wait counted as added: $add0 -> $add1"
sg_assert_eq "$(metric 'sealgate_submit_added_seconds_count{account="demo"}' "$M")" \
    "$(metric 'sealgate_submit_latency_seconds_count{account="demo"}' "$M")" \
    "added and latency count the same submits"
sg_assert_contains "$M" 'sealgate_submit_added_seconds_bucket{account="demo",le="0.001"}'
sg_pass "the time sealgate adds, without the SMSC's"

sg_assert_contains "$M" 'sealgate_account_submits_total{account="demo",status="ESME_ROK"}'
sg_assert_contains "$M" 'sealgate_link_bound_sessions{link="lhex"} 1'
sg_assert_contains "$M" 'sealgate_storage_batch_size_bucket{le="+Inf"}'
# Every transaction holds at least one job, and the jobs of the
# transactions are among the jobs finished.
bsum=$(metric sealgate_storage_batch_size_sum "$M")
bcount=$(metric sealgate_storage_batch_size_count "$M")
[ "$bcount" -gt 0 ] && [ "$bsum" -ge "$bcount" ] &&
    [ "$bsum" -le "$(metric sealgate_storage_jobs_total "$M")" ] ||
    sg_fail "batch sizes: sum $bsum over $bcount transactions"
sg_assert_eq "$(metric sealgate_storage_commit_seconds_count "$M")" "$bcount" \
    "commit times count the transactions"
sg_assert_contains "$M" 'sealgate_submit_latency_seconds_bucket{account="demo",le="+Inf"}'
# Two accounts and three links: each family still one group.
sg_assert_contains "$M" 'sealgate_account_binds{account="demodec"}'
gw_metrics_format "$M"
S=$(curl -sf "http://127.0.0.1:$AP/status") || sg_fail "GET /status"
sg_assert_eq "$(jq '.links | length' <<<"$S")" 3 "links in /status"
sg_assert_eq "$(jq -r .storage.backend <<<"$S")" "$SG_BACKEND" "backend"
C=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AP/nope")
sg_assert_eq "$C" 404 "unknown admin path"
sg_pass "/metrics and /status"

gw_stop
sg_assert_contains "$(sg_log gw2)" "daemon exit rc=0"
grep -q demopass "$SG_TMP"/gw*.log && sg_fail "a password in the log"
sg_pass "SIGTERM: clean exit"
