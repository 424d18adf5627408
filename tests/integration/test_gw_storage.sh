#!/usr/bin/env bash
# The database goes away under load (MariaDB only: its connections are
# killed, twice): sealgate answers every submit (ESME_ROK, or
# statuses.storage_down while the database is unreachable: never accepted
# and lost), reconnects by itself, says so in a log line and a metric,
# and then maps receipts again. On SQLite the database cannot go away
# (it is a file in the process): skipped there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

if [ "$SG_BACKEND" != mariadb ]; then
	echo "skip: the database-down test needs SG_BACKEND=mariadb"
	exit 77
fi
SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
DB=${URL##*/}
cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL", reconnect_min: 100ms, reconnect_max: 500ms}
log: {level: info}
statuses: {storage_down: ESME_RTHROTTLED}
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
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

sql() {
	mariadb --no-defaults -N -h "$SG_TEST_MARIADB_HOST" \
	    -P "$SG_TEST_MARIADB_PORT" -u "$SG_TEST_MARIADB_USER" \
	    -p"$SG_TEST_MARIADB_PASSWORD" -e "$1"
}
kill_conns() {
	local ids
	ids=$(sql "SELECT id FROM information_schema.processlist WHERE db = '$DB' AND id <> CONNECTION_ID()")
	[ -n "$ids" ] || sg_fail "no sealgate connection to $DB"
	for id in $ids; do sql "KILL $id" || true; done
}

"$BENCH" load --port "$GP" --system-id demo --password demopass \
    --duration 4 --rate 400 -w 64 --max-errors 100% --receipt-timeout 3 \
    --to-range 4915550000-4915550099 --throttle-backoff 10 \
    --json --no-progress >"$SG_TMP/bg.json" 2>"$SG_TMP/bg.err" &
BG=$!
sleep 1
kill_conns
sleep 1.2
kill_conns
wait "$BG" || true
J=$(tail -n 1 "$SG_TMP/bg.json")
jq -e . >/dev/null <<<"$J" || sg_fail "not JSON: $J"
gw_accounted "database killed under load"
sg_assert_eq "$(jq '.timeouts + .aborted' <<<"$J")" 0 "none left hanging"
jq -e '.responses_by_status | keys - ["ESME_ROK", "ESME_RTHROTTLED"] |
    length == 0' >/dev/null <<<"$J" || sg_fail "unexpected statuses: $J"
# every ROK's receipt came back with our id (mapped after a reconnect too)
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched receipts"
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
r=$(sed -n 's/^sealgate_storage_reconnects_total \([0-9]*\)$/\1/p' <<<"$M")
[ "${r:-0}" -ge 1 ] || sg_fail "no reconnect counted: $M"
sg_assert_contains "$(sg_log gw)" "db disconnected"
sg_assert_contains "$(sg_log gw)" "db reconnected"
gw_send --system-id demo --password demopass --to 4915550001 --text hi \
    --registered-delivery 1 --wait-receipt 5
sg_assert_eq "$RC" 0 "after the database came back ($OUT)"
sg_pass "database down and back: all answered, recovered ($(jq -c .responses_by_status <<<"$J"))"
gw_stop
