#!/usr/bin/env bash
# The smsc-sim web page in headless Chromium: an ESME binds and stays
# bound (sim_client), smpp-bench submits an MT over SMPP, then
# browser/sim_web.test.mjs loads the page, sees the handset and the text in
# its inbox, sends an MO from the form; the ESME must print that MO.
# Needs Debian's chromium and node (.ci/deps.sh --browser) and playwright-
# core from npm, installed here into $SG_BUILD_DIR/browser-node (outside
# git) on first use. Without them the test is skipped (exit 77), except in
# CI (CI=true), where it fails.
. "$(dirname "$0")/lib.sh"

PW_VERSION=1.61.1	# playwright-core: works with Node 18 (Debian 12) and 20
NODE_DIR=$SG_BUILD_DIR/browser-node
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

[ -x "$CHROMIUM" ] || sg_skip_outside_ci "no $CHROMIUM (bash .ci/deps.sh --browser)"
command -v node >/dev/null 2>&1 || sg_skip_outside_ci "no node (bash .ci/deps.sh --browser)"
PW=$NODE_DIR/node_modules/playwright-core
if [ "$(node -p "try{require('$PW/package.json').version}catch(e){''}" 2>/dev/null)" != "$PW_VERSION" ]; then
	command -v npm >/dev/null 2>&1 || sg_skip_outside_ci "no npm (bash .ci/deps.sh --browser)"
	mkdir -p "$NODE_DIR"
	echo "installing playwright-core@$PW_VERSION into $NODE_DIR"
	if ! timeout 180 npm install --no-save --no-audit --no-fund --no-package-lock \
	    --prefix "$NODE_DIR" "playwright-core@$PW_VERSION" >"$SG_TMP/npm.log" 2>&1; then
		tail -n 5 "$SG_TMP/npm.log" >&2
		sg_skip_outside_ci "npm install playwright-core@$PW_VERSION failed (offline? no registry?); install it by hand: npm install --prefix $NODE_DIR playwright-core@$PW_VERSION"
	fi
fi

SIM=$(sg_bin smsc-sim)
BENCH=$(sg_bin smpp-bench)
CLIENT=$SG_BUILD_DIR/tests/integration/sim_client
SP=$(sg_free_port); HP=$(sg_free_port)
sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
sg_wait_port "$SP"; sg_wait_port "$HP"

# The ESME that takes the MO: bound for the whole test, done at one MO.
sg_start esme "$CLIENT" "$SP" webesme pw --mo 1 --secs 40
ESMEPID=$SG_LAST_PID
for _ in $(seq 1 100); do
	grep -q '^bound' "$SG_TMP/esme.log" && break
	sleep 0.05
done
grep -q '^bound' "$SG_TMP/esme.log" || sg_fail "ESME did not bind: $(sg_log esme)"

MSISDN=491701112233
MT="web test MT $$ <b>&amp;</b>"
"$BENCH" send --host 127.0.0.1 --port "$SP" --system-id webesme --password pw \
    --from 4930 --to "$MSISDN" --text "$MT" >"$SG_TMP/send.log" 2>&1 ||
    sg_fail "submit: $(cat "$SG_TMP/send.log")"
sg_pass "MT submitted over SMPP"

MO_FROM=491709998877
MO_TEXT="web MO $$ äöü"
mkdir -p "$SG_TMP/chromium-profile"
SHOT=${SG_WEB_SHOT:-$SG_TMP/sim_web.png}
rc=0
SIM_URL=http://127.0.0.1:$HP SIM_MSISDN=$MSISDN SIM_TEXT=$MT \
MO_FROM=$MO_FROM MO_TO=4930 MO_TEXT=$MO_TEXT SHOT=$SHOT CHROMIUM=$CHROMIUM \
USER_DATA_DIR=$SG_TMP/chromium-profile PLAYWRIGHT_CORE=$PW \
    timeout 60 node "$SG_SOURCE_DIR/tests/integration/browser/sim_web.test.mjs" \
    </dev/null || rc=$?
[ "$rc" = 0 ] || sg_fail "browser test (exit $rc)"
[ -s "$SHOT" ] || sg_fail "no screenshot"

# The bound ESME got the MO the form sent.
sg_wait_exit "$ESMEPID" 10
[ "$SG_EXIT_STATUS" = 0 ] || sg_fail "ESME did not get the MO: $(sg_log esme)"
sg_assert_contains "$(sg_log esme)" "mo from=$MO_FROM to=4930 parts=1 text=$MO_TEXT" "MO at the ESME"
sg_pass "MO from the web form reached the bound ESME"
