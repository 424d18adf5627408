#!/usr/bin/env bash
# Every envelope scheme opens with nothing but a browser's WebCrypto
# (issue 5, "Keys and sealing"): sec_envelopes seals a message and a
# registration challenge to fresh device keys of each scheme (P-256,
# X25519, RSA-2048, RSA-3072) with the gateway's own C code; headless
# Chromium loads browser/sec_webcrypto.html, whose sec_webcrypto.js (the
# recipe of docs/handset-api.md) opens them with crypto.subtle only, and
# also opens the published test vectors; every tampered envelope (body,
# tag, nonce, AAD, wrapped key, epk, another key) must be refused.
# Needs Debian's chromium and node and playwright-core from npm (installed
# into $SG_BUILD_DIR/browser-node on first use, shared with
# test_sim_web.sh). Without them: skipped (77), except in CI (CI=true).
. "$(dirname "$0")/lib.sh"

PW_VERSION=1.61.1	# the same as test_sim_web.sh: one install serves both
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

GEN=$SG_BUILD_DIR/tests/integration/sec_envelopes
[ -x "$GEN" ] || sg_fail "no $GEN (build target sec_envelopes)"
MSISDN=491701234567
TEXT="Sealed for WebCrypto $$: Grüße, 你好, 🙂 <b>&amp;</b>"
"$GEN" "$MSISDN" "$TEXT" >"$SG_TMP/envelopes.json" 2>"$SG_TMP/gen.log" ||
	sg_fail "sec_envelopes: $(cat "$SG_TMP/gen.log")"
n=$(node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));
	console.log(d.cases.map(c=>c.scheme+"/"+c.bits).join(" "))' "$SG_TMP/envelopes.json")
sg_assert_contains "$n" "ecdh-p256-hkdf-sha256-aes256gcm/0 x25519-hkdf-sha256-aes256gcm/0 rsa-oaep-sha256-aes256gcm/2048 rsa-oaep-sha256-aes256gcm/3072" "envelopes of every scheme"
# The plaintext must not be in the envelopes (they are sealed); the file
# carries it once, beside them, as the expected result.
leak=$(node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));
	console.log(JSON.stringify(d.cases).includes("Sealed for WebCrypto") ? "leak" : "sealed")' \
	"$SG_TMP/envelopes.json")
[ "$leak" = sealed ] || sg_fail "plaintext visible in the envelopes"

mkdir -p "$SG_TMP/chromium-profile"
rc=0
ENVELOPES=$SG_TMP/envelopes.json \
VECTORS=$SG_SOURCE_DIR/tests/unit/vectors/sec_vectors.json \
PAGE=$SG_SOURCE_DIR/tests/integration/browser/sec_webcrypto.html \
CHROMIUM=$CHROMIUM USER_DATA_DIR=$SG_TMP/chromium-profile PLAYWRIGHT_CORE=$PW \
    timeout 90 node "$SG_SOURCE_DIR/tests/integration/browser/sec_webcrypto.test.mjs" \
    </dev/null >"$SG_TMP/browser.log" 2>&1 || rc=$?
cat "$SG_TMP/browser.log"
[ "$rc" = 0 ] || sg_fail "browser test (exit $rc)"
out=$(cat "$SG_TMP/browser.log")
for s in ecdh-p256-hkdf-sha256-aes256gcm x25519-hkdf-sha256-aes256gcm \
    rsa-oaep-sha256-aes256gcm/2048 rsa-oaep-sha256-aes256gcm/3072; do
	sg_assert_contains "$out" "ok: $s opened in WebCrypto: $TEXT" "$s opened"
	sg_assert_contains "$out" "ok: $s refused every tampering" "$s tampering refused"
done
for v in p256 x25519 rsa x25519_challenge; do
	sg_assert_contains "$out" "ok: published vector $v opened in WebCrypto" "vector $v"
done
sg_pass "every scheme opens with WebCrypto only; tampered envelopes are refused"
