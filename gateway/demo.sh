#!/usr/bin/env bash
# The main job's one command: installs what is missing, builds, and shows
# Sealgate working on this machine.
#
# It starts smsc-sim (SMPP 127.0.0.1:2776, HTTP 8776) and sealgate with
# conf/sealgate.yaml (SMPP 127.0.0.1:2775, admin HTTP 8080, SQLite in
# var/), then pushes traffic through the gateway with smpp-bench as
# account demo/demopass: single messages (GSM 7, UCS-2, a long multipart
# text) with their receipts, and a short load of 2,000 messages with
# receipts; then a secure message: sealed, a notice to the handset, the
# simulated app registers (OTP by SMS), opens it, and the sender gets
# DELIVRD; then it shows the gateway's /status and stops both.
# It prints "demo: OK" and exits 0, or says what failed and exits 1.
# The default ports must be free (it names a busy one and stops).
#
#   bash gateway/demo.sh [--build-dir DIR]
#   bash gateway/demo.sh --library [--build-dir DIR] [-- DEMO-ARGS...]
#       the SMPP library's loopback demo (build/smpp/smpp-demo) instead
#
# Works from any directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$ROOT/build
demo_args=()
library=0

while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir)
		[ $# -ge 2 ] || { echo "demo.sh: --build-dir needs DIR" >&2; exit 2; }
		build_dir=$2
		shift ;;
	--library) library=1 ;;
	-h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; demo_args=("$@"); break ;;
	*) echo "demo.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
case "$build_dir" in /*) ;; *) build_dir=$PWD/$build_dir ;; esac

say() { printf '\n== %s ==\n' "$*"; }

if ! bash "$ROOT/.ci/deps.sh" --check >/dev/null 2>&1; then
	say "installing dependencies (.ci/deps.sh)"
	bash "$ROOT/.ci/deps.sh"
fi

say "build ($build_dir)"
mkdir -p "$build_dir"
if ! cmake -S "$ROOT" -B "$build_dir" \
    -DCMAKE_BUILD_TYPE="${SG_BUILD_TYPE:-RelWithDebInfo}" \
    >"$build_dir/demo-configure.log" 2>&1; then
	cat "$build_dir/demo-configure.log" >&2
	echo "demo.sh: cmake could not configure $build_dir" >&2
	exit 1
fi
demo=$build_dir/smpp/smpp-demo
# (Captured first: grep -q closing the pipe early trips pipefail.)
targets=$(cmake --build "$build_dir" --target help 2>/dev/null || true)
# build TARGET BINARY: builds one target and checks that BINARY came out.
build() {
	if ! printf '%s\n' "$targets" | grep -qw -- "$1"; then
		echo "demo.sh: the build has no $1 target, so $2 cannot be made" >&2
		exit 1
	fi
	if ! cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target "$1"; then
		echo "demo.sh: building $1 failed (see above)" >&2
		exit 1
	fi
	if [ ! -x "$2" ]; then
		echo "demo.sh: the build did not produce $2" >&2
		exit 1
	fi
}

if [ "$library" = 1 ]; then
	demo=$build_dir/smpp/smpp-demo
	build smpp-demo "$demo"
	say "SMPP loopback demo: an SMSC and an ESME on 127.0.0.1"
	exec "$demo" "${demo_args[@]}"
fi
if [ ${#demo_args[@]} -gt 0 ]; then
	echo "demo.sh: arguments after -- are for --library only" >&2
	exit 2
fi

SEALGATE=$build_dir/gateway/sealgate
SIM=$build_dir/smsc-sim/smsc-sim
BENCH=$build_dir/smsc-sim/smpp-bench/smpp-bench
build sealgate "$SEALGATE"
build smsc-sim "$SIM"
build smpp-bench "$BENCH"
for tool in curl jq; do
	command -v "$tool" >/dev/null || {
		echo "demo.sh: $tool is needed (bash .ci/deps.sh installs it)" >&2
		exit 1; }
done

# The documented defaults (README "Local default ports", conf/sealgate.yaml).
GW_SMPP=2775 GW_ADMIN=8080 GW_API=8443 SIM_SMPP=2776 SIM_HTTP=8776
CONF=$ROOT/conf/sealgate.yaml

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$SIM_SMPP:smsc-sim SMPP" "$SIM_HTTP:smsc-sim HTTP" \
    "$GW_SMPP:sealgate SMPP" "$GW_ADMIN:sealgate admin HTTP" \
    "$GW_API:sealgate handset API"; do
	if port_busy "${p%%:*}"; then
		echo "demo.sh: port 127.0.0.1:${p%%:*} (${p#*:}) is already in use;" \
		    "stop whatever listens there and run the demo again" >&2
		exit 1
	fi
done

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/sealgate-demo.XXXXXX")
SIM_PID="" GW_PID=""
stop_all() {
	# Only the two processes started here, by pid: sealgate first (it
	# unbinds from the simulator), then smsc-sim.
	local pid
	for pid in $GW_PID $SIM_PID; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	GW_PID="" SIM_PID=""
}
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

# fail WHAT LOG...: says what failed, shows the tail of each log, exit 1.
fail() {
	local what=$1 log
	shift
	echo >&2
	echo "demo: FAILED: $what" >&2
	for log in "$@"; do
		[ -s "$log" ] || continue
		echo "--- last lines of $log:" >&2
		tail -n 15 "$log" >&2
	done
	echo "(logs kept in $LOGS)" >&2
	exit 1
}

# wait_port PORT PID NAME LOG: until PORT accepts, or PID dies, or 15 s.
wait_port() {
	for _ in $(seq 1 150); do
		port_busy "$1" && return 0
		kill -0 "$2" 2>/dev/null || fail "$3 exited at start" "$4"
		sleep 0.1
	done
	fail "$3 does not listen on 127.0.0.1:$1 after 15 s" "$4"
}

say "start smsc-sim (SMPP 127.0.0.1:$SIM_SMPP, web page http://127.0.0.1:$SIM_HTTP/)"
# The simulated handset apps trust sealgate's development certificate
# (made in var/ by sealgate on its first start).
"$SIM" --smpp-port "$SIM_SMPP" --http-port "$SIM_HTTP" \
    --app-api "https://127.0.0.1:$GW_API" \
    --app-ca "$ROOT/var/handset-api.crt" </dev/null \
    >"$LOGS/smsc-sim.log" 2>&1 &
SIM_PID=$!
wait_port "$SIM_SMPP" "$SIM_PID" smsc-sim "$LOGS/smsc-sim.log"
wait_port "$SIM_HTTP" "$SIM_PID" smsc-sim "$LOGS/smsc-sim.log"
echo "smsc-sim: pid $SIM_PID, log $LOGS/smsc-sim.log"

say "start sealgate -c conf/sealgate.yaml (SMPP 127.0.0.1:$GW_SMPP, admin http://127.0.0.1:$GW_ADMIN/)"
# From the repository root: the config's SQLite file is var/sealgate.db
# there (sealgate makes var/ when it is missing).
(cd "$ROOT" && exec "$SEALGATE" -c "$CONF") </dev/null \
    >"$LOGS/sealgate.log" 2>&1 &
GW_PID=$!
wait_port "$GW_SMPP" "$GW_PID" sealgate "$LOGS/sealgate.log"
wait_port "$GW_ADMIN" "$GW_PID" sealgate "$LOGS/sealgate.log"
wait_port "$GW_API" "$GW_PID" sealgate "$LOGS/sealgate.log"
bound=0
for _ in $(seq 1 100); do
	bound=$(curl -sf "http://127.0.0.1:$GW_ADMIN/status" |
	    jq '[.links[].bound] | add // 0' 2>/dev/null || echo 0)
	[ "$bound" -ge 1 ] 2>/dev/null && break
	kill -0 "$GW_PID" 2>/dev/null || fail "sealgate exited" "$LOGS/sealgate.log"
	sleep 0.1
done
[ "$bound" -ge 1 ] 2>/dev/null ||
    fail "sealgate's link to smsc-sim is not bound after 10 s" \
        "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
echo "sealgate: pid $GW_PID, log $LOGS/sealgate.log; link 'sim' bound to smsc-sim"

ESME=(--host 127.0.0.1 --port "$GW_SMPP" --system-id demo --password demopass)
# send TITLE ARGS...: one message through sealgate, its response(s) and
# receipt(s) printed.
send() {
	local title=$1 rc=0
	shift
	say "send: $title"
	"$BENCH" send "${ESME[@]}" --from 4930 --registered-delivery 1 \
	    --wait-receipt 10 "$@" >"$LOGS/send.out" 2>&1 || rc=$?
	cat "$LOGS/send.out"
	[ "$rc" = 0 ] || fail "smpp-bench send ($title) exit $rc" \
	    "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
	grep -q '^receipt .*stat=DELIVRD' "$LOGS/send.out" ||
	    fail "no DELIVRD receipt for: $title" "$LOGS/sealgate.log"
}
send "GSM 7-bit text" --to 491701234567 --text "Hello from Sealgate: 100 € @ café"
send "UCS-2 text" --to 491701234568 --text "Привет ☺ 你好"
send "long text, sent as 3 parts with a UDH" --to 491701234569 --text \
    "$(printf 'This long message does not fit into one SMS, so smpp-bench splits it into parts with a concatenation header; sealgate passes every part through unchanged and maps each receipt back. %.0s' 1 2)"

say "load: 2,000 messages, window 64, every one with a receipt"
rc=0
"$BENCH" load "${ESME[@]}" -n 2000 -w 64 --registered-delivery 1 \
    --to-range 491700000000-491700000899 --receipt-timeout 20 \
    --no-progress --json >"$LOGS/load.out" 2>"$LOGS/load.err" || rc=$?
# (With --json the summary goes to stderr and the JSON line to stdout.)
grep -v '^smpp-bench: ' "$LOGS/load.err" || true
J=$(tail -n 1 "$LOGS/load.out")
[ "$rc" = 0 ] || fail "smpp-bench load exit $rc ($(tail -n 2 "$LOGS/load.err"))" \
    "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
jq -e '.responses_ok == 2000 and .receipts == 2000 and
    .receipts_unmatched == 0' >/dev/null <<<"$J" ||
    fail "load: not every message accepted with its receipt: $J" \
        "$LOGS/sealgate.log"

# The secure path: a marked message never travels as SMS; the handset
# gets a notice, its app registers, fetches the sealed message and opens
# it with its own key; the ack gives the sender DELIVRD.
# A number new to this checkout's database on every run (var/ keeps the
# devices an earlier run registered, and a message for a number that has
# one is sealed to that device at once, not to the app started now).
SECURE_TO=4917099$(date +%s | tail -c 7)
SECURE_TEXT="Your new PIN is 4711. Sealgate kept this off the SMS network."
say "secure: '#secure ...' to $SECURE_TO, who has no app yet (sealed in the vault, a notice goes out)"
"$BENCH" send "${ESME[@]}" --from 4930 --registered-delivery 1 \
    --wait-receipt 120 --to "$SECURE_TO" --text "#secure $SECURE_TEXT" \
    >"$LOGS/secure-send.out" 2>&1 &
SECURE_PID=$!
notice=""
for _ in $(seq 1 100); do
	notice=$(curl -sf "http://127.0.0.1:$SIM_HTTP/api/handsets/$SECURE_TO" |
	    jq -r '[.messages[] | select(.dir == "in")] | last | .text // empty' \
	    2>/dev/null || true)
	[ -n "$notice" ] && break
	sleep 0.1
done
[ -n "$notice" ] || fail "no notice SMS reached handset $SECURE_TO" \
    "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
echo "handset $SECURE_TO inbox: \"$notice\""
case "$notice" in *4711*) fail "the notice carries the secret text" ;; esac
grep -E '^(response|resp)' "$LOGS/secure-send.out" || true

say "secure: the handset's app registers (the gateway texts a code; the app reads it from its inbox, proves its key)"
"$SIM" app register "$SECURE_TO" --http-port "$SIM_HTTP" --wait 30 \
    >"$LOGS/app-register.out" 2>&1 ||
    fail "app register: $(tail -n 3 "$LOGS/app-register.out")" \
        "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
jq -r '"app state: \(.state // .status // "?")"' "$LOGS/app-register.out" 2>/dev/null || true

say "secure: the app fetches the sealed message, opens it with its own key and acks it"
"$SIM" app sync "$SECURE_TO" --http-port "$SIM_HTTP" \
    >"$LOGS/app-sync.out" 2>&1 ||
    fail "app sync: $(tail -n 3 "$LOGS/app-sync.out")" "$LOGS/sealgate.log"
"$SIM" app show "$SECURE_TO" --http-port "$SIM_HTTP" >"$LOGS/app-show.json" 2>&1 ||
    fail "app show" "$LOGS/smsc-sim.log"
opened=$(jq -r '[.. | objects | select(has("text")) | .text] | map(select(. != null)) | .[]' \
    "$LOGS/app-show.json" 2>/dev/null | grep -F "$SECURE_TEXT" | head -n 1 || true)
[ -n "$opened" ] || fail "the app did not open the secure text ($(head -c 300 "$LOGS/app-show.json"))" \
    "$LOGS/sealgate.log" "$LOGS/smsc-sim.log"
echo "opened on handset $SECURE_TO: \"$opened\""
rc=0
wait "$SECURE_PID" || rc=$?
cat "$LOGS/secure-send.out"
[ "$rc" = 0 ] || fail "smpp-bench send (secure) exit $rc" "$LOGS/sealgate.log"
grep -q '^receipt .*stat=DELIVRD' "$LOGS/secure-send.out" ||
    fail "no DELIVRD receipt for the secure message" "$LOGS/sealgate.log"
echo "the sender got DELIVRD once the app acked"

say "sealgate /status (curl http://127.0.0.1:$GW_ADMIN/status)"
S=$(curl -sf "http://127.0.0.1:$GW_ADMIN/status") ||
    fail "GET /status" "$LOGS/sealgate.log"
jq -r '"version \(.version), up \(.uptime_s) s, storage \(.storage.backend) (connected: \(.storage.connected))",
    (.accounts[] | "account \(.system_id): binds \(.binds), queued \(.queued), in flight \(.in_flight)"),
    (.links[] | "link \(.name) -> \(.host):\(.port): bound \(.bound), in flight \(.in_flight)")' <<<"$S"
M=$(curl -sf "http://127.0.0.1:$GW_ADMIN/metrics") ||
    fail "GET /metrics" "$LOGS/sealgate.log"
grep -E '^sealgate_account_submits_total\{account="demo"' <<<"$M" || true

say "stop sealgate and smsc-sim"
kill -TERM "$GW_PID"
for _ in $(seq 1 200); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$GW_PID" || rc=$?
GW_PID=""
[ "$rc" = 0 ] || fail "sealgate exit status $rc after SIGTERM" "$LOGS/sealgate.log"
stop_all
echo "both stopped; logs in $LOGS"
echo
echo "demo: OK"
