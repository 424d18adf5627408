#!/usr/bin/env bash
# smsc-sim control API: JSON errors with the right 4xx, the body limit,
# the web page files, reset, and nothing accepted lost by a bad request.
. "$(dirname "$0")/lib.sh"

SIM=$SG_BUILD_DIR/smsc-sim/smsc-sim
BENCH=$SG_BUILD_DIR/smsc-sim/smpp-bench/smpp-bench
SP=$(sg_free_port); HP=$(sg_free_port)
API=http://127.0.0.1:$HP
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"; sg_wait_port "$HP"

"$BENCH" send --port "$SP" --to 4917770001 --text "accepted" >/dev/null 2>&1 || sg_fail "submit"

code() { curl -s -o "$SG_TMP/body" -w '%{http_code}' "$@"; }
expect() {
	local want=$1 err=$2; shift 2
	local got
	got=$(code "$@")
	sg_assert_eq "$got" "$want" "HTTP status of $*"
	sg_assert_eq "$(jq -r .error "$SG_TMP/body")" "$err" "error code of $*"
	jq -e '.message | length > 0' "$SG_TMP/body" >/dev/null || sg_fail "no message: $*"
}
expect 404 not_found "$API/nope"
expect 404 no_handset "$API/api/handsets/000"
expect 400 bad_json -X POST "$API/api/mo" -d '{"from":'
expect 400 bad_json -X POST "$API/api/mo" -d '[1]'
expect 400 missing_field -X POST "$API/api/mo" -d '{"from":"1"}'
expect 400 unknown_field -X POST "$API/api/mo" -d '{"from":"1","to":"2","text":"x","bogus":1}'
expect 400 bad_field -X POST "$API/api/mo" -d '{"from":1,"to":"2","text":"x"}'
expect 400 bad_address -X POST "$API/api/mo" -d '{"from":"a b","to":"2","text":"x"}'
expect 409 no_receiver -X POST "$API/api/mo" -d '{"from":"1","to":"2","text":"x"}'
expect 404 unknown_account -X POST "$API/api/mo" -d '{"from":"1","to":"2","text":"x","account":"zz"}'
expect 400 bad_field -X POST "$API/api/faults" -d '{"error_pct":101}'
expect 400 unknown_field -X POST "$API/api/faults" -d '{"nope":true}'
expect 405 method_not_allowed -X DELETE "$API/api/status"
head -c 70000 /dev/zero | tr '\0' 'a' >"$SG_TMP/big"
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' -X POST \
    --data-binary @"$SG_TMP/big" "$API/api/mo")
sg_assert_eq "$got" 413 "body limit"
sg_pass "API errors"

sg_assert_eq "$(curl -sf "$API/api/handsets/4917770001" | jq -r '.messages[0].text')" accepted "kept after bad requests"
curl -sf "$API/" | grep -q '<title>smsc-sim' || sg_fail "web page"
curl -sf "$API/app.js" >/dev/null || sg_fail "app.js"
curl -sf "$API/style.css" >/dev/null || sg_fail "style.css"
sg_pass "web page files"

curl -sf -X POST "$API/api/reset" >/dev/null || sg_fail "reset"
sg_assert_eq "$(curl -sf "$API/api/handsets" | jq '.handsets | length')" 0 "handsets after reset"
sg_pass "reset"
