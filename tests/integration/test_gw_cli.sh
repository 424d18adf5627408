#!/usr/bin/env bash
# sealgate's CLI: --check-config on the shipped sample and on a broken file
# (file:line:column, exit 1), -c validates before saying the daemon is not
# there yet, `sealgate passwd --stdin` makes a hash that a config accepts,
# and the password never shows in any output.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEALGATE=$(sg_bin sealgate)
cd "$SG_SOURCE_DIR"
PW=Zq7-pw1x		# distinctive, so a leak cannot hide in other text

# The shipped sample is valid as it stands.
out=$("$SEALGATE" --check-config -c conf/sealgate.yaml 2>&1) ||
	sg_fail "shipped sample refused: $out"
sg_assert_eq "$out" "configuration OK" "check-config on the sample"
sg_pass "conf/sealgate.yaml: configuration OK"

# The default path is conf/sealgate.yaml.
out=$("$SEALGATE" --check-config 2>&1) || sg_fail "default path: $out"
sg_assert_eq "$out" "configuration OK" "check-config on the default path"

# A broken file: every error, file:line:column: key: why, exit 1.
cat >"$SG_TMP/bad.yaml" <<'YAML'
listeners:
  smpp:
    port: 70000
log:
  level: chatty
YAML
rc=0
out=$("$SEALGATE" --check-config -c "$SG_TMP/bad.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "exit status for a broken file"
sg_assert_eq "$out" "$SG_TMP/bad.yaml:3:11: listeners.smpp.port: expected an integer 1..65535, got '70000'
$SG_TMP/bad.yaml:5:10: log.level: expected err, warn, info or debug, got 'chatty'" \
	"errors of a broken file"
sg_pass "broken file: file:line:column errors, exit 1"

# A missing file.
rc=0
out=$("$SEALGATE" --check-config -c "$SG_TMP/none.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "exit status for a missing file"
sg_assert_eq "$out" "$SG_TMP/none.yaml: No such file or directory" "missing"

# -c loads and validates first: a broken file never starts the daemon
# (the daemon itself is tested by test_gw_*.sh on their own ports).
rc=0
out=$("$SEALGATE" -c "$SG_TMP/bad.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "-c with a broken file"
sg_pass "-c validates before anything else"

# passwd --stdin: one line, the hash line out, nothing else on stdout.
hash=$(printf '%s\n' "$PW" | "$SEALGATE" passwd --stdin 2>"$SG_TMP/pw.err")
[[ $hash =~ ^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$ ]] ||
	sg_fail "unexpected hash line: $hash"
[ ! -s "$SG_TMP/pw.err" ] || sg_fail "passwd wrote to stderr: $(cat "$SG_TMP/pw.err")"
hash2=$(printf '%s' "$PW" | "$SEALGATE" passwd --stdin --iterations 20000)
[[ $hash2 == '$pbkdf2-sha256$i=20000$'* ]] || sg_fail "iterations: $hash2"
[ "$hash" != "$hash2" ] || sg_fail "two hashes are equal"
sg_pass "passwd --stdin prints a hash"

# A config with that hash is accepted.
sed "s|password_hash: \".*\"|password_hash: \"$hash\"|" conf/sealgate.yaml \
	>"$SG_TMP/mine.yaml"
grep -qF "$hash" "$SG_TMP/mine.yaml" || sg_fail "hash not substituted"
out=$("$SEALGATE" --check-config -c "$SG_TMP/mine.yaml" 2>&1) ||
	sg_fail "own hash refused: $out"
sg_assert_eq "$out" "configuration OK" "config with a fresh hash"
sg_pass "a config accepts the hash"

# Refusals: too long, empty, nothing; a plaintext password in the config.
all=""
for input in "toolongpw" "" ; do
	rc=0
	o=$(printf '%s\n' "$input" | "$SEALGATE" passwd --stdin 2>&1) || rc=$?
	sg_assert_eq "$rc" 1 "passwd refuses '${#input}' characters"
	all+=$o
done
sg_assert_contains "$all" "longer than 8 characters"
sg_assert_contains "$all" "the password is empty"
rc=0
o=$("$SEALGATE" passwd --stdin </dev/null 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "passwd with no input"
sg_assert_contains "$o" "no password on standard input"
sed "s|password_hash: \".*\"|password: $PW|" conf/sealgate.yaml \
	>"$SG_TMP/plain.yaml"
rc=0
o=$("$SEALGATE" --check-config -c "$SG_TMP/plain.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "plaintext password in the config"
sg_assert_contains "$o" "plaintext passwords are refused"
all+=$o$out$hash$hash2
sed "s|password_hash: \".*\"|password_hash: \"$PW\"|" conf/sealgate.yaml \
	>"$SG_TMP/plain2.yaml"
rc=0
o=$("$SEALGATE" --check-config -c "$SG_TMP/plain2.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "plaintext in password_hash"
all+=$o
# A link password that is too long is not echoed either.
sed "s|password: secret |password: ${PW}${PW} |" conf/sealgate.yaml \
	>"$SG_TMP/linkpw.yaml"
rc=0
o=$("$SEALGATE" --check-config -c "$SG_TMP/linkpw.yaml" 2>&1) || rc=$?
sg_assert_eq "$rc" 1 "link password too long"
sg_assert_contains "$o" "links[0].password: longer than 8 bytes"
all+=$o
case "$all" in
*"$PW"*) sg_fail "the password appeared in output" ;;
esac
sg_pass "no password in any output"

# Usage.
"$SEALGATE" --help | grep -q "check-config" || sg_fail "--help"
v=$("$SEALGATE" --version)
[[ $v == "sealgate "* ]] || sg_fail "--version: $v"
rc=0
"$SEALGATE" --bogus >/dev/null 2>&1 || rc=$?
sg_assert_eq "$rc" 2 "unknown option"
sg_pass "usage"

# keys new makes the whole vault path (var/ need not exist yet), every
# level 0700 and the key 0600 whatever the caller's umask; keys list
# shows it as the newest.
sed "s|vault_dir: var/vault|vault_dir: $SG_TMP/fresh/var/vault|" \
    "$SG_SOURCE_DIR/conf/sealgate.yaml" >"$SG_TMP/keys.yaml"
kid=$(umask 022 && "$SEALGATE" keys new -c "$SG_TMP/keys.yaml" 2>&1) ||
	sg_fail "keys new with a missing parent: $kid"
[[ $kid == k* ]] || sg_fail "keys new printed: $kid"
for d in "$SG_TMP/fresh" "$SG_TMP/fresh/var" "$SG_TMP/fresh/var/vault"; do
	sg_assert_eq "$(stat -c %a "$d")" 700 "mode of $d"
done
sg_assert_eq "$(stat -c %a "$SG_TMP/fresh/var/vault/$kid.key")" 600 "key mode"
out=$("$SEALGATE" keys list -c "$SG_TMP/keys.yaml" 2>&1) ||
	sg_fail "keys list: $out"
sg_assert_contains "$out" "$kid"
sg_pass "keys new makes the vault path private; keys list shows the key"
