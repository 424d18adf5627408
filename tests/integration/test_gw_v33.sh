#!/usr/bin/env bash
# An ESME bound as SMPP 3.3 (interface_version 0x33), on the backend in
# SG_BACKEND, with smsc-sim behind sealgate: 3.3 has no optional
# parameters, so every deliver_sm it gets ends at short_message, and what
# the SMSC put in TLVs comes in the mandatory fields instead:
#  - receipts, live on a TRX session and from the durable queue on an RX
#    session: esm_class 0x04 and the receipt text carrying the gateway id
#    (receipted_message_id is not there to carry it);
#  - a long MO that the simulator splits with SAR TLVs: each part with a
#    concatenation UDH (UDHI set) instead, and the parts joined give the
#    text back whole;
#  - bind_transceiver_resp without sc_interface_version.
# The same run bound as 3.4 gets the TLVs: that is what makes the checks
# above able to fail. The ESME is tests/integration/esme_v33.py (raw SMPP).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
gw_one_link_config info
sed -i -e 's/^mo_routes: \[\]$/mo_routes:\n  - {prefix: "", account: demo}/' \
    "$SG_TMP/gw.yaml"
gw_run_with_sim
ESME=$(dirname "$0")/esme_v33.py
LONG_MO="long MO $(printf 'x%.0s' $(seq 1 200))"

# esme VERSION MODE: one run of the ESME, its JSON line in $OUT.
esme() {
	OUT=$(timeout 70 python3 "$ESME" "$GP" "$AP" "$HP" "$1" "$2" 2>&1 |
	    tail -n 1) || sg_fail "ESME ($1 $2): $OUT"
	jq -e . >/dev/null 2>&1 <<<"$OUT" || sg_fail "ESME ($1 $2): $OUT"
}

# check_receipts: both submitted ids came back as 3.3 receipts, by text.
check_receipts() {
	local id n
	for id in $(jq -r '.ids[]' <<<"$OUT"); do
		n=$(jq --arg id "$id" '[.deliveries[] | select(.esm_class == 4
		    and (.text | startswith("id:" + $id + " ")))] | length' \
		    <<<"$OUT")
		sg_assert_eq "$n" 1 "3.3 receipts for $id ($OUT)"
	done
	sg_assert_eq "$(jq '.ids | length' <<<"$OUT")" 2 "ids"
}

esme 33 live
sg_assert_eq "$(jq '.bind_resp_tlvs' <<<"$OUT")" 0 "bind_resp TLV octets"
sg_assert_eq "$(jq '[.deliveries[] | .tlv_octets] | add' <<<"$OUT")" 0 \
    "TLV octets in deliver_sm to a 3.3 ESME ($OUT)"
check_receipts
# the simulator's SAR reference is 16-bit: UDH16 (IEI 0x08) when over 255
sg_assert_eq "$(jq -r '[.deliveries[] | select(.esm_class == 64)
    | .udh[0:6] | select(. == "050003" or . == "060804")] | length' \
    <<<"$OUT")" 2 "MO parts: a concatenation UDH each ($OUT)"
sg_assert_eq "$(jq -r '[.deliveries[] | select(.esm_class == 64)]
    | sort_by(.udh[-2:]) | map(.udh[-4:-2]) | unique | join(",")' \
    <<<"$OUT")" 02 "MO parts: total 2"
sg_assert_eq "$(jq -r '[.deliveries[] | select(.esm_class == 64)]
    | sort_by(.udh[-2:]) | map(.text) | join("")' <<<"$OUT")" \
    "$LONG_MO" "MO parts joined"
sg_pass "3.3 TRX: receipts and a SAR-split MO without TLVs, nothing lost"

esme 33 queued
sg_assert_eq "$(jq '[.deliveries[] | .tlv_octets] | add' <<<"$OUT")" 0 \
    "TLV octets in queued receipts ($OUT)"
check_receipts
sg_pass "3.3 TX + RX: receipts from the durable queue without TLVs"

esme 34 live
sg_assert_eq "$(jq '[.deliveries[] | select(.esm_class == 4)
    | select(.tlv_tags | index(30))] | length' <<<"$OUT")" 2 \
    "receipted_message_id to a 3.4 ESME ($OUT)"
sg_assert_eq "$(jq '[.deliveries[] | select(.tlv_tags | index(524))]
    | length' <<<"$OUT")" 2 "sar_msg_ref_num to a 3.4 ESME"
sg_assert_contains "$(jq -c '.bind_resp_tlvs' <<<"$OUT")" 5 \
    "sc_interface_version in bind_resp to a 3.4 ESME"
gw_stop
sg_pass "3.4 TRX: the same traffic keeps its TLVs"
