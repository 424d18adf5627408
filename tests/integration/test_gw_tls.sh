#!/usr/bin/env bash
# SMPP over TLS on both sides of sealgate, on the backend in SG_BACKEND:
# an ESME on the TLS listener, a link to the SMSC's TLS port verified
# against its CA and name; receipts mapped through both. A link whose
# certificate name does not match never binds (traffic refused with
# statuses.links_down), and plain SMPP sent to the TLS port is dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SP=$(sg_free_port); HP=$(sg_free_port); TP=$(sg_free_port)
GP=$(sg_free_port); GT=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost" \
    -keyout "$SG_TMP/key.pem" -out "$SG_TMP/cert.pem" >/dev/null 2>&1 ||
    sg_fail "openssl req"
config() {	# config TLS_NAME
	cat <<YAML
listeners:
  smpp: {port: $GP}
  smpp_tls: {enabled: true, port: $GT, cert: "$SG_TMP/cert.pem", key: "$SG_TMP/key.pem"}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"}
links:
  - {name: simtls, host: 127.0.0.1, port: $TP, tls: true, tls_ca: "$SG_TMP/cert.pem", tls_name: $1, system_id: gw, password: pw, reconnect_min: 100ms, reconnect_max: 500ms}
groups:
  g: [simtls]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
}
config localhost >"$SG_TMP/gw.yaml"
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP" --tls-port "$TP" \
    --tls-cert "$SG_TMP/cert.pem" --tls-key "$SG_TMP/key.pem"
sg_wait_port "$TP"
gw_start gw "$SG_TMP/gw.yaml"
sg_wait_port "$GT"
gw_wait_bound 1

RC=0
"$BENCH" load --port "$GT" --tls --ca "$SG_TMP/cert.pem" --tls-host localhost \
    --system-id demo --password demopass -n 500 -w 64 --json --no-progress \
    --to-range 4915550000-4915550099 >"$SG_TMP/load.json" \
    2>"$SG_TMP/load.err" || RC=$?
J=$(tail -n 1 "$SG_TMP/load.json")
sg_assert_eq "$RC" 0 "TLS load ($(cat "$SG_TMP/load.err"))"
gw_accounted "TLS"
sg_assert_eq "$(jq .receipts <<<"$J")" 500 "receipts over TLS"
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched over TLS"
sg_pass "TLS listener and TLS link: 500 submits, receipts mapped"

# plain SMPP on the TLS port: no bind
gw_send --port "$GT" --system-id demo --password demopass --to 4915550001 \
    --text hi --timeout 3
[ "$RC" -ne 0 ] || sg_fail "plain SMPP bound on the TLS port"
gw_stop

# a link certificate for another name is refused: nothing binds
config wrongname >"$SG_TMP/gw.yaml"
gw_start gw2 "$SG_TMP/gw.yaml"
sleep 1.5
sg_assert_eq "$(curl -sf "http://127.0.0.1:$AP/status" | jq '.links[0].bound')" 0 \
    "link bound with a wrong certificate name"
gw_send --system-id demo --password demopass --to 4915550001 --text hi
sg_assert_contains "$OUT" "ESME_RTHROTTLED" "links_down while no link binds"
gw_stop
sg_pass "wrong certificate name: link never binds, submits refused"
