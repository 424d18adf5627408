#!/usr/bin/env bash
# query_sm, cancel_sm and replace_sm through sealgate, on the backend in
# SG_BACKEND (gateway/msgops.h). query_sm is answered from the id map:
# the final state of a delivered and of an undeliverable message with
# their final_date, ENROUTE for a message whose receipt was not asked
# for, an id in upper case found all the same. cancel_sm and replace_sm
# reach smsc-sim with its own id (it answers ESME_ROK only for ids it gave
# out, and logs known=1). Refused: an unknown id and another account's
# message (ESME_RQUERYFAIL, ESME_RCANCELFAIL, ESME_RREPLACEFAIL), an
# empty id (ESME_RINVMSGID; cancel_sm by addresses alone
# ESME_RCANCELFAIL), a receiver session (ESME_RINVBNDSTS); the session
# that got those errors still gets its answers. The ESME is
# tests/integration/esme_msgops.py (raw SMPP).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"
command -v python3 >/dev/null || sg_fail "python3 is needed"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
gw_one_link_config info
sed -i -e "s|^accounts:\$|accounts:\n  - {system_id: other, password_hash: \"$GW_HASH\"}|" \
    "$SG_TMP/gw.yaml"
gw_run_with_sim

OUT=$(timeout 40 python3 "$(dirname "$0")/esme_msgops.py" "$GP" 2>&1 |
    tail -n 1) || sg_fail "ESME: $OUT"
jq -e . >/dev/null 2>&1 <<<"$OUT" || sg_fail "ESME: $OUT"
ID0=$(jq -r '.ids[0]' <<<"$OUT")
ID1=$(jq -r '.ids[1]' <<<"$OUT")
ID2=$(jq -r '.ids[2]' <<<"$OUT")

# answer LABEL: that answer as "status id final_date state error".
answer() {
	jq -r --arg l "$1" '.answers[] | select(.[0] == $l) | .[1:]
	    | map(tostring) | join(" ")' <<<"$OUT"
}

a=$(answer delivered)
[[ $a =~ ^0\ $ID0\ [0-9]{12}[0-9]00\+\ 2\ 0$ ]] ||
    sg_fail "delivered: '$a' ($OUT)"
a=$(answer undeliverable)
[[ $a =~ ^0\ $ID1\ [0-9]{12}[0-9]00\+\ 5\ 0$ ]] ||
    sg_fail "undeliverable: '$a' ($OUT)"
# final_date is the receipt's time, in UTC: today's date leads it
sg_assert_contains "$a" " $(date -u +%y%m%d)" "final_date in UTC"
sg_assert_eq "$(answer no_receipt)" "0 $ID2  1 0" "no receipt asked: ENROUTE"
[[ $(answer upper_case) =~ ^0\ $ID0\ .*\ 2\ 0$ ]] ||
    sg_fail "upper case id: $(answer upper_case)"
sg_pass "query_sm: DELIVRD and UNDELIV with final_date, ENROUTE, any case"

sg_assert_eq "$(answer unknown)" "103 null null null null" "unknown id"
sg_assert_eq "$(answer empty)" "12 null null null null" "empty id"
sg_assert_eq "$(answer other_account)" "103 null null null null" \
    "another account's message"
sg_assert_eq "$(answer receiver)" "4 null null null null" "RX session"
[[ $(answer again) =~ ^0\ $ID0\ .*\ 2\ 0$ ]] ||
    sg_fail "after the errors: $(answer again)"
sg_pass "query_sm: unknown, empty, another account's, RX refused; rest intact"

sg_assert_eq "$(answer cancel)" "0 null null null null" "cancel_sm ($OUT)"
sg_assert_eq "$(answer replace)" "0 null null null null" "replace_sm"
sg_assert_eq "$(grep -c 'sim cancel_sm id=.* known=1' "$SG_TMP/sim.log")" 1 \
    "cancel_sm reached the SMSC with its id"
sg_assert_eq "$(grep -c 'sim replace_sm id=.* known=1' "$SG_TMP/sim.log")" 1 \
    "replace_sm reached the SMSC with its id"
sg_assert_eq "$(grep -c 'known=0' "$SG_TMP/sim.log")" 0 "ids the SMSC knows"
sg_assert_eq "$(answer cancel_unknown)" "17 null null null null" \
    "cancel_sm of an unknown id"
sg_assert_eq "$(answer cancel_no_id)" "17 null null null null" \
    "cancel_sm by addresses"
sg_assert_eq "$(answer replace_other)" "19 null null null null" \
    "replace_sm of another account's message"
M=$(curl -sf "http://127.0.0.1:$AP/metrics")
for want in 'op="query_sm",result="ok"} 5' 'op="query_sm",result="failed"} 3' \
    'op="cancel_sm",result="ok"} 1' 'op="cancel_sm",result="failed"} 2' \
    'op="replace_sm",result="ok"} 1' 'op="replace_sm",result="failed"} 1'; do
	sg_assert_contains "$M" "sealgate_message_ops_total{$want" "metrics"
done
gw_stop
sg_pass "cancel_sm, replace_sm: to the SMSC with its id; refusals as query_sm"
