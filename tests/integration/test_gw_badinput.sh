#!/usr/bin/env bash
# Bad input at sealgate's SMPP port while an ESME sends real traffic, on
# the backend in SG_BACKEND: a command_length over the limit (answered
# generic_nack ESME_RINVCMDLEN, connection closed), submit_sm before bind
# (ESME_RINVBNDSTS), an unknown command (generic_nack ESME_RINVCMDID), a
# bind with an unterminated system_id (refused), and a peer that connects
# and says nothing. The traffic beside them loses nothing: every submit
# answered ESME_ROK, every receipt mapped, and the daemon stops cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_gw_lib.sh"

SP=$(sg_free_port); HP=$(sg_free_port); GP=$(sg_free_port); AP=$(sg_free_port)
URL=$(gw_storage_url)
mkdir -p "$SG_TMP/var"
cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
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

# raw HEX: sends the bytes, prints what came back (hex) within 2 s.
raw() {
	local out
	out=$(timeout 3 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "$2" >&3
		timeout 2 cat <&3 | od -An -tx1 | tr -d " \n"' _ "$GP" "$1") || true
	echo "$out"
}

"$BENCH" load --port "$GP" --system-id demo --password demopass \
    --duration 3 --rate 300 -w 32 --to-range 4915550000-4915550099 \
    --json --no-progress >"$SG_TMP/bg.json" 2>"$SG_TMP/bg.err" &
BG=$!
sleep 0.5

# command_length 0x00100000 (1 MiB): generic_nack RINVCMDLEN, closed
r=$(raw '\x00\x10\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01')
sg_assert_contains "$r" "0000001080000000000000020000000" "huge length"
# submit_sm (17 octets of empty fields) before bind: RINVBNDSTS
sm='\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
r=$(raw "\x00\x00\x00\x21\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x07$sm")
sg_assert_contains "$r" "80000004000000040000000" "submit before bind"
# unknown command id 0x00000777: generic_nack RINVCMDID
r=$(raw '\x00\x00\x00\x10\x00\x00\x07\x77\x00\x00\x00\x00\x00\x00\x00\x09')
sg_assert_contains "$r" "000000108000000000000003" "unknown command"
# bind_transceiver whose system_id never ends (20 x 'A', no NUL)
r=$(raw '\x00\x00\x00\x24\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x0bAAAAAAAAAAAAAAAAAAAA')
case "$r" in
*80000009000000000000000b*) sg_fail "unterminated bind accepted: $r" ;;
esac
# a peer that connects and says nothing, then goes
timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; sleep 0.5' _ "$GP" || true

wait "$BG" || sg_fail "load beside bad input failed: $(cat "$SG_TMP/bg.err")"
J=$(tail -n 1 "$SG_TMP/bg.json")
gw_accounted "beside bad input"
sg_assert_eq "$(jq .responses_ok <<<"$J")" "$(jq .submitted <<<"$J")" "all ROK"
sg_assert_eq "$(jq .receipts_unmatched <<<"$J")" 0 "unmatched"
sg_assert_eq "$(jq '.receipts_missing' <<<"$J")" 0 "missing receipts"
kill -0 "$GW_PID" || sg_fail "sealgate died"
gw_stop
sg_pass "bad input answered per the spec, nothing accepted lost"
