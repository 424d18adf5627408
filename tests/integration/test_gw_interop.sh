#!/usr/bin/env bash
# sealgate between two peers it was not written with: an ESME and an SMSC
# made with the npm package "smpp" (node-smpp), on the backend in
# SG_BACKEND.
#  - ESME side: a wrong password is refused with ESME_RINVPASWD, then
#    bind_transceiver, enquire_link, 60 submits of three kinds (GSM text,
#    UCS2, message_payload), every one accepted under a unique gateway id
#    of at most 64 octets; every receipt carries a known gateway id, comes
#    after its submit_sm_resp, and is a receipt (esm_class); unbind.
#  - SMSC side (interop/smsc.js): every submit arrives with its fields and
#    text unchanged; ids are upper-case hex and receipts name them in
#    decimal without a TLV, a quarter of them before the submit_sm_resp:
#    all mapped, none unknown.
# Needs node and smpp@0.5.1 from npm (installed into
# $SG_BUILD_DIR/smpp-node on first use). Without them: skipped (77),
# except in CI (CI=true).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SMPP_VERSION=0.5.1
NODE_DIR=$SG_BUILD_DIR/smpp-node
HERE=$SG_SOURCE_DIR/tests/integration/interop
N=60

command -v node >/dev/null 2>&1 || sg_skip_outside_ci "no node (bash .ci/deps.sh --browser)"
if [ "$(node -p "try{require('$NODE_DIR/node_modules/smpp/package.json').version}catch(e){''}" 2>/dev/null)" != "$SMPP_VERSION" ]; then
	command -v npm >/dev/null 2>&1 || sg_skip_outside_ci "no npm (bash .ci/deps.sh --browser)"
	mkdir -p "$NODE_DIR"
	echo "installing smpp@$SMPP_VERSION into $NODE_DIR"
	if ! timeout 180 npm install --no-save --no-audit --no-fund --no-package-lock \
	    --prefix "$NODE_DIR" "smpp@$SMPP_VERSION" >"$SG_TMP/npm.log" 2>&1; then
		tail -n 5 "$SG_TMP/npm.log" >&2
		sg_skip_outside_ci "npm install smpp@$SMPP_VERSION failed (offline? no registry?); install it by hand: npm install --prefix $NODE_DIR smpp@$SMPP_VERSION"
	fi
fi
export NODE_PATH=$NODE_DIR/node_modules

SP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"

sg_start smsc node "$HERE/smsc.js" "$SP"
SMSC_PID=$SG_LAST_PID
sg_wait_port "$SP"
gw_one_link_config info 'window: 16'
gw_start gw "$SG_TMP/gw.yaml"
gw_wait_bound 1

RC=0
OUT=$(timeout 60 node "$HERE/esme.js" "$GP" "$N" 2>"$SG_TMP/esme.err") || RC=$?
sg_assert_eq "$RC" 0 "node ESME finished ($OUT $(cat "$SG_TMP/esme.err"))"
E=$(tail -n 1 <<<"$OUT")
jq -e . >/dev/null <<<"$E" || sg_fail "ESME output not JSON: $OUT"
sg_assert_eq "$(jq .bad_bind_status <<<"$E")" 14 "wrong password: ESME_RINVPASWD"
sg_assert_eq "$(jq .bind_status <<<"$E")" 0 "bind_transceiver"
sg_assert_eq "$(jq .enquire_link_status <<<"$E")" 0 "enquire_link"
sg_assert_eq "$(jq .accepted <<<"$E")" "$N" "submits accepted after the refused bind"
sg_assert_eq "$(jq .ids <<<"$E")" "$N" "unique gateway ids"
[ "$(jq .longest_id <<<"$E")" -le 64 ] || sg_fail "id over 64 octets: $E"
sg_assert_eq "$(jq .receipts <<<"$E")" "$N" "receipts"
sg_assert_eq "$(jq .receipt_ids_known <<<"$E")" "$N" "receipts naming a gateway id the ESME was given"
sg_assert_eq "$(jq .receipts_before_response <<<"$E")" 0 "receipts before their submit_sm_resp"
sg_assert_eq "$(jq .receipts_esm_class_ok <<<"$E")" "$N" "receipts marked as receipts"
sg_assert_eq "$(jq .unbind_status <<<"$E")" 0 "unbind"
sg_pass "node-smpp ESME: refused bind, $N submits and receipts, unbind"

M=$(curl -sf "http://127.0.0.1:$AP/metrics") || sg_fail "GET /metrics"
sg_assert_contains "$M" "sealgate_receipts_unknown_total 0" "receipts sealgate could not map"
gw_stop
kill -TERM "$SMSC_PID"
sg_wait_exit "$SMSC_PID" 10
S=$(tail -n 1 "$SG_TMP/smsc.log")
jq -e . >/dev/null <<<"$S" || sg_fail "SMSC output not JSON: $(cat "$SG_TMP/smsc.log")"
sg_assert_eq "$(jq .submits <<<"$S")" "$N" "submits at the SMSC"
sg_assert_eq "$(jq -c .mismatched <<<"$S")" "[]" "fields and text as the ESME sent them"
sg_assert_eq "$(jq .receipts_sent <<<"$S")" "$N" "receipts the SMSC sent"
[ "$(jq .early <<<"$S")" -gt 0 ] || sg_fail "no receipt before its response: $S"
[ "$(jq .unbinds <<<"$S")" -ge 1 ] || sg_fail "sealgate closed without unbind: $S"
sg_pass "node-smpp SMSC: fields unchanged, hex ids, decimal receipts (some early) all mapped, unbind on stop"
