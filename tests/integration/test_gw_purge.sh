#!/usr/bin/env bash
# Open id mappings are purged after storage.open_retention, on the backend
# in SG_BACKEND. smsc-sim sends the receipt of a message to a number
# ending in 996 late (receipts.late_ms, 5 s here); with open_retention 1s
# sealgate purges the mapping first, so the late receipt is an unknown
# one: counted, logged, answered ESME_ROK to the SMSC (the existing
# unknown-receipt behaviour) and never sent to the ESME. A message to an
# ordinary number, sent at the same time, still gets its receipt (the
# purge takes only open mappings older than the retention).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
cat >"$SG_TMP/sim.yaml" <<YAML
smpp: {port: $SP}
http: {port: $HP}
receipts: {late_ms: 5000}
YAML
cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL", retention: 1s, open_retention: 1s}
log: {level: info}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
links:
  - {name: sim, host: 127.0.0.1, port: $SP, system_id: gw, password: pw}
groups:
  g: [sim]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
sg_start sim "$SIM" -c "$SG_TMP/sim.yaml"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

# The ordinary one: its receipt comes at once and closes its mapping.
gw_send --system-id demo --password demopass --to 491700000001 \
    --text "on time" --registered-delivery 1 --wait-receipt 10
[ "$RC" = 0 ] || sg_fail "send (on time): rc=$RC $OUT"
sg_assert_contains "$OUT" "stat=DELIVRD" "the on-time receipt"
sg_pass "a receipt within the retention is mapped"

# The late one: no receipt can reach the ESME any more.
gw_send --system-id demo --password demopass --to 491700000996 \
    --text "late" --registered-delivery 1 --wait-receipt 12
echo "late send: rc=$RC (no receipt expected)"
gw_wait_log gw "which=open" 10
unknown=$(curl -sf "http://127.0.0.1:$AP/metrics" |
    sed -n 's/^sealgate_receipts_unknown_total //p')
for _ in $(seq 1 100); do
	[ "$unknown" = 1 ] && break
	sleep 0.1
	unknown=$(curl -sf "http://127.0.0.1:$AP/metrics" |
	    sed -n 's/^sealgate_receipts_unknown_total //p')
done
sg_assert_eq "$unknown" 1 "unknown receipts after the purge"
grep -q "dlr unknown link=sim" "$SG_TMP/gw.log" ||
    sg_fail "no 'dlr unknown' line in gw.log"
if grep -q "stat=DELIVRD" <<<"$OUT"; then
	sg_fail "the ESME got the receipt of a purged mapping: $OUT"
fi
# answered ROK to the SMSC: smsc-sim counts it acked, none refused
ST=$(curl -sf "http://127.0.0.1:$HP/api/status")
refused=$(jq '[.accounts[]? | .receipts_refused] | add // 0' <<<"$ST")
sg_assert_eq "$refused" 0 "receipts the SMSC saw refused"
gw_stop
sg_pass "an open mapping past open_retention is purged; its late receipt is unknown and answered ROK"
