#!/usr/bin/env bash
# sg_free_port (lib.sh) across tests that run at the same time (ctest
# --parallel): two of them drawing from the same random sequence still
# get disjoint ports, each test's claims are gone once it exits, and a
# claim left by a killed test is taken over after 30 minutes.
. "$(dirname "$0")/lib.sh"

# draw OUT: a test of its own (lib.sh sourced in a new bash) that takes
# 20 ports from the sequence of seed 7, writes them to OUT, and stays
# (holding its claims, as a running test does) until $SG_TMP/release
# exists: a drawer that exited first would hand its ports back, and a
# slower one could then take them, as it should (this flaked under load).
draw() {
	bash -c '. "$1/lib.sh"; RANDOM=7
	    for _ in $(seq 1 20); do sg_free_port; done >"$2.tmp"
	    mv "$2.tmp" "$2"
	    for _ in $(seq 1 600); do [ -e "$3" ] && break; sleep 0.05; done' \
	    draw "$SG_SOURCE_DIR/tests/integration" "$1" "$SG_TMP/release"
}
draw "$SG_TMP/a" & A=$!
draw "$SG_TMP/b" & B=$!
for _ in $(seq 1 600); do
	[ -e "$SG_TMP/a" ] && [ -e "$SG_TMP/b" ] && break
	sleep 0.05
done
touch "$SG_TMP/release"
wait "$A" || sg_fail "first drawer failed"
wait "$B" || sg_fail "second drawer failed"
sg_assert_eq "$(sort -u "$SG_TMP/a" | wc -l)" 20 "20 distinct ports in the first test"
sg_assert_eq "$(sort -u "$SG_TMP/b" | wc -l)" 20 "20 distinct ports in the second test"
both=$(sort "$SG_TMP/a" "$SG_TMP/b" | uniq -d | wc -l)
sg_assert_eq "$both" 0 "ports given to both tests (same seed)"
left=0
while read -r p; do
	[ -d "$SG_PORT_DIR/$p" ] && left=$((left + 1))
done < <(cat "$SG_TMP/a" "$SG_TMP/b")
sg_assert_eq "$left" 0 "claims left after both tests exited"
sg_pass "two tests at once, same random sequence: disjoint ports, claims released"

# A claim another live test holds is skipped; a stale one is taken over.
mkdir -p "$SG_PORT_DIR"
p=$(bash -c '. "$1/lib.sh"; RANDOM=11; sg_free_port' draw \
    "$SG_SOURCE_DIR/tests/integration")
mkdir "$SG_PORT_DIR/$p" 2>/dev/null || sg_fail "port $p still claimed"
echo "$p" >>"$SG_TMP/ports"	# released by our EXIT trap if we fail
q=$(bash -c '. "$1/lib.sh"; RANDOM=11; sg_free_port' draw \
    "$SG_SOURCE_DIR/tests/integration")
[ "$q" != "$p" ] || sg_fail "port $p handed out while another test held it"
touch -d '-31 minutes' "$SG_PORT_DIR/$p"
q=$(bash -c '. "$1/lib.sh"; RANDOM=11; sg_free_port' draw \
    "$SG_SOURCE_DIR/tests/integration")
sg_assert_eq "$q" "$p" "a claim 31 minutes old is taken over"
[ -d "$SG_PORT_DIR/$p" ] && sg_fail "the taken-over claim was not released"
sg_pass "a held claim is skipped, a stale one taken over"
