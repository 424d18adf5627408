#!/usr/bin/env bash
# smsc-sim faults switched at run time through the control API (throttle,
# error rate, response delay, drop after N PDUs, silent enquire_link,
# refused binds), and garbage bytes on the SMPP port: each is answered per
# the spec, and what was accepted before stays in the inbox.
. "$(dirname "$0")/lib.sh"

SIM=$SG_BUILD_DIR/smsc-sim/smsc-sim
BENCH=$SG_BUILD_DIR/smsc-sim/smpp-bench/smpp-bench
CLIENT=$SG_BUILD_DIR/tests/integration/sim_client
SP=$(sg_free_port); HP=$(sg_free_port)
API=http://127.0.0.1:$HP
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
SIMPID=$SG_LAST_PID
sg_wait_port "$SP"; sg_wait_port "$HP"

faults() { curl -sf -X POST "$API/api/faults" -d "$1" >/dev/null || sg_fail "faults $1"; }
bench() { "$BENCH" send --port "$SP" --system-id esme --password pw "$@" 2>&1; }

# Something accepted first: it must survive everything below.
bench --to 4916660001 --text "keep me" >/dev/null || sg_fail "first submit"

# Throttle: 5 msg/s, a load of 30 sees ESME_RTHROTTLED.
faults '{"throttle_tps":5}'
out=$("$BENCH" load --port "$SP" --system-id esme --password pw -n 30 -w 8 \
    --registered-delivery 0 --json --no-progress --max-errors 100% 2>&1 | tail -n1)
sg_assert_contains "$out" '"ESME_RTHROTTLED":' "throttled responses"
faults '{"throttle_tps":0}'
sg_pass "throttle"

# Error rate 100% with a chosen status.
faults '{"error_pct":100,"error_status":69}'
rc=0; out=$(bench --to 4916660002 --text err) || rc=$?
sg_assert_contains "$out" "0x00000045" "error status"
faults '{"error_pct":0}'
sg_pass "error rate"

# Response delay.
faults '{"delay_ms":400}'
t0=$(date +%s%N)
bench --to 4916660003 --text slow --registered-delivery 1 --wait-receipt 5 >/dev/null ||
    sg_fail "delayed submit"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$dt" -ge 400 ] || sg_fail "response not delayed ($dt ms)"
faults '{"delay_ms":0}'
sg_pass "response delay (${dt} ms)"

# Drop after N PDUs.
faults '{"drop_after":3}'
rc=0; out=$("$BENCH" load --port "$SP" --system-id esme --password pw -n 20 -w 1 \
    --registered-delivery 0 --no-progress --timeout 10 2>&1) || rc=$?
[ "$rc" != 0 ] || sg_fail "drop_after did not drop: $out"
faults '{"drop_after":0}'
sg_pass "drop after N PDUs (bench exit $rc)"

# Silent enquire_link, then answered again.
faults '{"silent_enquire_link":true}'
"$CLIENT" "$SP" esme pw --enquire --secs 5 >"$SG_TMP/enq.out" 2>&1 || true
sg_assert_contains "$(cat "$SG_TMP/enq.out")" "enquire_link silent" "silent enquire_link"
faults '{"silent_enquire_link":false}'
"$CLIENT" "$SP" esme pw --enquire --secs 5 >"$SG_TMP/enq.out" 2>&1 ||
    sg_fail "enquire_link: $(cat "$SG_TMP/enq.out")"
sg_assert_contains "$(cat "$SG_TMP/enq.out")" "enquire_link answered" "enquire_link"
# A session bound before the fault goes silent too.
sg_start live "$CLIENT" "$SP" esme pw --enquire-after 1500 --secs 6
LIVEPID=$SG_LAST_PID
for _ in $(seq 1 50); do
	grep -q '^bound' "$SG_TMP/live.log" && break
	sleep 0.1
done
grep -q '^bound' "$SG_TMP/live.log" || sg_fail "live client did not bind"
faults '{"silent_enquire_link":true}'
sg_wait_exit "$LIVEPID" 10
faults '{"silent_enquire_link":false}'
sg_assert_contains "$(sg_log live)" "enquire_link silent" "silent on a live session"
sg_pass "silent enquire_link"

# Refused binds.
faults '{"refuse_binds":true}'
rc=0; out=$(bench --to 4916660004 --text x) || rc=$?
[ "$rc" != 0 ] || sg_fail "bind not refused"
sg_assert_contains "$out" "0x0000000d" "refuse status"
faults '{"refuse_binds":false}'
sg_pass "refused binds"

# Garbage on the SMPP port while another session keeps working.
"$CLIENT" "$SP" other pw --mo 1 --secs 10 >"$SG_TMP/other.out" 2>&1 &
CPID=$!
sleep 0.3
# An unknown command id: generic_nack ESME_RINVCMDID, session kept.
exec 3<>"/dev/tcp/127.0.0.1/$SP"
printf '\x00\x00\x00\x10\x00\x00\x00\x77\x00\x00\x00\x00\x00\x00\x00\x05' >&3
resp=$(timeout 3 head -c 16 <&3 | od -An -tx1 | tr -d ' \n')
sg_assert_eq "$resp" "00000010800000000000000300000005" "generic_nack RINVCMDID"
# A command_length of 8: generic_nack ESME_RINVCMDLEN and close.
printf '\x00\x00\x00\x08\x00\x00\x00\x04' >&3
resp=$(timeout 3 cat <&3 | od -An -tx1 | tr -d ' \n')
sg_assert_contains "$resp" "000000108000000000000002" "generic_nack RINVCMDLEN"
exec 3<&-
head -c 3000 /dev/urandom >"$SG_TMP/junk"
(exec 3<>"/dev/tcp/127.0.0.1/$SP"; cat "$SG_TMP/junk" >&3; sleep 0.2) || true
curl -sf -X POST "$API/api/mo" -d '{"from":"491709999999","to":"4930","text":"still here","account":"other"}' >/dev/null ||
    sg_fail "MO after garbage"
wait "$CPID" || sg_fail "other session lost: $(cat "$SG_TMP/other.out")"
bench --to 4916660005 --text after >/dev/null || sg_fail "submit after garbage"
sg_assert_eq "$(curl -sf "$API/api/handsets/4916660001" | jq -r '.messages[0].text')" "keep me" "accepted message kept"
kill -0 "$SIMPID" || sg_fail "sim died"
sg_pass "garbage answered per spec; other session and inbox intact"
