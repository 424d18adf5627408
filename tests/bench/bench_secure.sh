#!/usr/bin/env bash
# The secure path's speed (issue 5), sealgate against the simulator, on
# SQLite and on MariaDB (each with a fresh database):
#   accept  smpp-bench load -> sealgate -> smsc-sim with texts marked
#           '#secure ' (the account's prefix marking), window 256, 1
#           session, receipts off (registered_delivery 0: a secure
#           receipt only comes when a device acks), N messages a run:
#             vault       to unregistered numbers (sealed by the vault's
#                         key, held until a device registers);
#             registered  to K numbers (20) with a registered device each
#                         (x25519 by default; sealed to the device at
#                         once), N/2 messages a run, so a number holds
#                         at most RUNS * N / 2K (1,500) at the end.
#           msg/s is ROKs per second, and a ROK is only sent after the
#           sealed message is committed (SQLite synchronous=FULL, MariaDB
#           commit). Every accepted message also makes a notice SMS
#           through the normal downstream path to smsc-sim: that is part
#           of the cost; "with notices" is N over the time until the
#           last notice was accepted downstream (/metrics).
#   fetch   the handset API over HTTPS (TLS, keep-alive): the device
#           of the first registered number (registered by flow A with
#           sec_client and curl) fetches its envelopes,
#           GET /v1/messages/{id} cycled over the 1,000 ids it lists, with 1 and with 4 connections (bench_fetch),
#           and lists them, GET /v1/messages (up to 1,000 entries an
#           answer); one fetched envelope is opened first and its text
#           checked.
# Medians of R runs. MariaDB: SG_TEST_MARIADB_DSN if set, else a private
# server started with tests/mariadb.sh in the scratch directory, reached
# over its unix socket (stopped at the end); --no-mariadb skips it,
# --no-sqlite SQLite.
#
#   bench_secure.sh [--build-dir DIR] [-n N] [--runs R] [--window W]
#                   [--fetch-n N] [--fetch-secs S] [--scheme S]
#                   [--devices K] [--no-sqlite] [--no-mariadb]
#
# Everything runs on 127.0.0.1 with free ports and stops by itself; only
# the processes this script starts are stopped, by pid.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SG_BUILD_DIR:-$SRC/build}
N=20000
RUNS=3
WINDOW=256
FETCH_N=20000
FETCH_SECS=5
K=20
SCHEME=x25519-hkdf-sha256-aes256gcm
SQLITE=1
MARIADB=1
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--fetch-n) FETCH_N=$2; shift 2 ;;
	--fetch-secs) FETCH_SECS=$2; shift 2 ;;
	--scheme) SCHEME=$2; shift 2 ;;
	--devices) K=$2; shift 2 ;;
	--no-mariadb) MARIADB=0; shift ;;
	--no-sqlite) SQLITE=0; shift ;;
	*) echo "usage: $0 [--build-dir DIR] [-n N] [--runs R] [--window W] [--fetch-n N] [--fetch-secs S] [--scheme S] [--devices K] [--no-sqlite] [--no-mariadb]" >&2; exit 2 ;;
	esac
done
SIM=$BUILD/smsc-sim/smsc-sim
BENCH=$BUILD/smsc-sim/smpp-bench/smpp-bench
SEALGATE=$BUILD/gateway/sealgate
CLIENT=$BUILD/tests/integration/sec_client
FETCH=$BUILD/tests/bench/bench_fetch
for b in "$SIM" "$BENCH" "$SEALGATE" "$CLIENT" "$FETCH"; do
	[ -x "$b" ] || { echo "bench_secure: $b not built" >&2; exit 1; }
done
for t in jq curl bc openssl; do
	command -v $t >/dev/null || { echo "bench_secure: $t is needed" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-secure.XXXXXX")
SIMPID="" GWPID="" DBDIR=""
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	[ -n "$GWPID" ] && stop_pid "$GWPID"
	[ -n "$SIMPID" ] && stop_pid "$SIMPID"
	[ -n "$DBDIR" ] && bash "$SRC/tests/mariadb.sh" stop "$DBDIR" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "bench_secure: $*" >&2
	[ -f "$TMP/gw.log" ] && tail -n 5 "$TMP/gw.log" >&2
	exit 1
}

# Ports below the kernel's ephemeral range (a neighbour's outgoing
# connection cannot take them from under us).
free_port() {
	local p lo=20000 hi
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for _ in $(seq 1 200); do
		p=$((lo + RANDOM % (hi - lo)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo "bench_secure: no free port" >&2; exit 1
}
wait_port() {
	for _ in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || fail "$3 exited: $(tail -n 5 "$TMP/$3.log")"
		sleep 0.05
	done
	fail "$3 does not listen on $1"
}
TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TCK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

SP=$(free_port); HP=$(free_port); GP=$(free_port); AP=$(free_port); KP=$(free_port)
"$SIM" --smpp-port "$SP" --http-port "$HP" --log-level err </dev/null \
    >"$TMP/sim.log" 2>&1 &
SIMPID=$!
wait_port "$SP" "$SIMPID" sim
sh "$SRC/conf/make-dev-cert.sh" "$TMP/api.crt" "$TMP/api.key" >/dev/null ||
    fail "make-dev-cert.sh failed"

# Unregistered destinations whose last three digits stay below 990 (the
# simulator answers every notice DELIVRD at once); 900 numbers, so a
# number holds at most RUNS * N / 900 messages.
RANGE=491700000000-491700000899
RBASE=491711000000		# the registered numbers: RBASE+1..RBASE+K
RNUM=$((RBASE + 1))		# the fetching device's number
HASH='$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ==$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw='
TEXT="#secure Konto 4711: your statement is ready, balance 1.234,56 EUR"
PLAIN=${TEXT#"#secure "}

# gw_start NAME URL: sealgate on $GP/$AP/$KP with storage URL, its vault
# in $TMP/NAME, its link bound.
gw_start() {
	mkdir -p "$TMP/$1"
	cat >"$TMP/gw.yaml" <<YAML
instance_id: 7
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: true, port: $KP, cert: "$TMP/api.crt", key: "$TMP/api.key"}
storage: {url: "$2"}
log: {level: warn}
secure:
  enabled: true
  vault_dir: $TMP/$1/vault
  otp_secret: $TMP/$1/otp.secret
  app_link: https://127.0.0.1:$KP/app
  max_per_msisdn: 1000000
  otp: {sends_per_client: 1000}
accounts:
  - {system_id: demo, password_hash: "$HASH", max_binds: 0, window: $WINDOW, secure: {prefix: "#secure "}}
links:
  - {name: sim, host: 127.0.0.1, port: $SP, system_id: gw, password: pw, window: $WINDOW}
groups:
  g: [sim]
routes:
  - {prefix: "", groups: [g]}
mo_routes:
  - {prefix: "", account: demo}
YAML
	"$SEALGATE" -c "$TMP/gw.yaml" </dev/null >"$TMP/gw.log" 2>&1 &
	GWPID=$!
	wait_port "$GP" "$GWPID" gw
	wait_port "$KP" "$GWPID" gw
	local n=0
	for _ in $(seq 1 100); do
		n=$(curl -sf "http://127.0.0.1:$AP/status" | jq '[.links[].bound] | add' 2>/dev/null || echo 0)
		[ "$n" = 1 ] && return 0
		sleep 0.1
	done
	fail "sealgate's link not bound"
}
gw_stop() { stop_pid "$GWPID"; GWPID=""; }
metric() {
	curl -sf "http://127.0.0.1:$AP/metrics" |
	    awk -v m="sealgate_secure_$1_total" '$1 == m { print $2 }'
}
# storage: "jobs batches batch_seconds" so far (the store's
# commit_seconds time a whole batch: its jobs and the commit)
storage_counts() {
	curl -sf "http://127.0.0.1:$AP/metrics" | awk '
	    $1 == "sealgate_storage_jobs_total" { j = $2 }
	    $1 == "sealgate_storage_batch_size_count" { b = $2 }
	    $1 == "sealgate_storage_commit_seconds_sum" { c = $2 }
	    END { print j + 0, b + 0, c + 0 }'
}

# load OUT COUNTER COUNT ARGS...: one smpp-bench load of COUNT marked
# messages (storage figures appended to OUT.db: jobs per message, jobs
# per batch, ms per batch (its jobs and the commit), share of the run's
# time the storage thread spent in batches), a
# TSV row appended to OUT: rate p50 p99 max lost gw_cpu/1000
# rate_with_notices. COUNTER is the /metrics counter that grows by one
# per accepted message on this path (vaulted or sealed_direct).
load() {
	local out=$1 ctr=$2 cnt=$3 c0 c1 t0 t1 nt0 want v0 v1 acc s0 s1
	shift 3
	s0=$(storage_counts)
	c0=$(cpu_of "$GWPID")
	nt0=$(metric notices_sent); v0=$(metric "$ctr")
	t0=$(now)
	"$BENCH" load --port "$GP" --system-id demo --password demopass \
	    --text "$TEXT" --registered-delivery 0 --max-errors 100% \
	    -n "$cnt" -w "$WINDOW" --json --no-progress "$@" \
	    >"$TMP/run.json" 2>"$TMP/run.err" || {
		grep -E 'ESME_|^responses|^error|^smpp-bench:' "$TMP/run.err" >&2 || true
		fail "run failed"; }
	acc=$(tail -n 1 "$TMP/run.json" | jq .responses_ok)
	# the notices of this run accepted downstream (at most 60 s more)
	want=$((nt0 + acc)) t1=""
	for _ in $(seq 1 600); do
		[ "$(metric notices_sent)" -ge "$want" ] && { t1=$(now); break; }
		sleep 0.1
	done
	c1=$(cpu_of "$GWPID")
	s1=$(storage_counts)
	v1=$(metric "$ctr")
	echo "$s0 $s1 $acc $t0 ${t1:-$(now)}" | awk '{
	    j = $4 - $1; b = $5 - $2; c = $6 - $3
	    printf "%.2f\t%.1f\t%.2f\t%.2f\n", j / ($7 ? $7 : 1),
	        j / (b ? b : 1), c * 1000 / (b ? b : 1), c / ($9 - $8) }' \
	    >>"$out.db"
	[ "$((v1 - v0))" = "$acc" ] ||
	    fail "$ctr grew by $((v1 - v0)), $acc accepted"
	tail -n 1 "$TMP/run.json" | jq -r --arg gw "$(echo "$c1 - $c0" | bc -l)" \
	    --arg wn "$( [ -n "$t1" ] && echo "$acc / ($t1 - $t0)" | bc -l || echo 0)" '
	    [ .rate_per_s, .latency_ms.p50, .latency_ms.p99, .latency_ms.max,
	      (.submitted - .responses_ok),
	      (($gw | tonumber) * 1000000 / .submitted),
	      ($wn | tonumber) ] | @tsv' >>"$out"
}
accept_row() {
	local r=() col
	for col in $(seq 1 7); do r+=("$(cut -f "$col" "$2" | median)"); done
	printf '%-30s %9.0f %8.3f %8.3f %8.3f %6.0f %9.1fms %12.0f\n' "$1" "${r[@]}"
}
db_row() {
	local r=() col
	for col in $(seq 1 4); do r+=("$(cut -f "$col" "$2" | median)"); done
	printf '%-30s %9.2f %10.1f %10.2f %10.2f\n' "$1" "${r[@]}"
}
accept_header() {
	printf '%-30s %9s %8s %8s %8s %6s %11s %12s\n' path msg/s p50_ms \
	    p99_ms max_ms lost gw_cpu with_notices
}

# api METHOD PATH [BODY]: ST = status, R = body.
api() {
	local -a a=(-sS -X "$1" --cacert "$TMP/api.crt" -o "$TMP/resp" -w '%{http_code}')
	[ -n "${3:-}" ] && a+=(-H 'Content-Type: application/json' --data-binary "$3")
	ST=$(curl "${a[@]}" "https://127.0.0.1:$KP$2") || fail "curl $1 $2 failed"
	R=$(cat "$TMP/resp")
}
# register MSISDN: flow A (the code from the simulated handset's inbox),
# key, proof; the token to $TMP/token, the key to $TMP/dev.key.
register() {
	local rid code="" pk answer
	api POST /v1/registrations "{\"msisdn\":\"$1\",\"mode\":\"sms\",\"device_type\":\"bench\"}"
	[ "$ST" = 201 ] || fail "register: $ST $R"
	rid=$(jq -r .registration_id <<<"$R")
	for _ in $(seq 1 100); do
		code=$(curl -sf "http://127.0.0.1:$HP/api/handsets/$1" |
		    jq -r '[.messages[]? | select(.dir == "in") | .text |
		    select(test("code is"))] | last // empty' |
		    grep -oE '[0-9]{6,10}' | head -n 1) || true
		[ -n "$code" ] && break
		sleep 0.1
	done
	[ -n "$code" ] || fail "no code SMS at $1"
	api POST "/v1/registrations/$rid/code" "{\"code\":\"$code\"}"
	[ "$ST" = 200 ] || fail "code: $ST $R"
	rm -f "$TMP/dev.key"
	pk=$("$CLIENT" keygen "$SCHEME" "$TMP/dev.key") || fail "keygen"
	api POST "/v1/registrations/$rid/key" "{\"scheme\":\"$SCHEME\",\"public_key\":\"$pk\"}"
	[ "$ST" = 200 ] || fail "key: $ST $R"
	answer=$("$CLIENT" open-wrap "$TMP/dev.key" "challenge:$rid" <<<"$R") ||
	    fail "the challenge does not open"
	api POST "/v1/registrations/$rid/proof" "{\"answer\":\"$answer\"}"
	[ "$ST" = 201 ] || fail "proof: $ST $R"
	(umask 077; jq -r .device_token <<<"$R" >"$TMP/token")
}

# fetch OUT ARGS...: one bench_fetch run, a TSV row appended to OUT:
# rate p50 p99 max errors gw_cpu/1000 client_cpu/1000 reconnects.
fetch() {
	local out=$1 c0 c1
	shift
	c0=$(cpu_of "$GWPID")
	"$FETCH" --port "$KP" --ca "$TMP/api.crt" --token-file "$TMP/token" \
	    --duration "$FETCH_SECS" "$@" >"$TMP/fetch.json" 2>"$TMP/fetch.err" ||
	    fail "bench_fetch failed: $(cat "$TMP/fetch.err" "$TMP/fetch.json")"
	c1=$(cpu_of "$GWPID")
	jq -r --arg gw "$(echo "$c1 - $c0" | bc -l)" '
	    [ .rate_per_s, .latency_ms.p50, .latency_ms.p99, .latency_ms.max,
	      .errors, (($gw | tonumber) * 1000000 / .requests),
	      (.cpu_s * 1000000 / .requests), .reconnects ] | @tsv' \
	    "$TMP/fetch.json" >>"$out"
}
fetch_row() {
	local r=() col
	for col in $(seq 1 7); do r+=("$(cut -f "$col" "$2" | median)"); done
	printf '%-30s %9.0f %8.3f %8.3f %8.3f %6.0f %9.1fms %9.1fms\n' "$1" "${r[@]}"
}
fetch_header() {
	printf '%-30s %9s %8s %8s %8s %6s %11s %11s\n' call req/s p50_ms p99_ms \
	    max_ms errors gw_cpu client_cpu
}

# backend NAME URL: the whole measure on one backend; results in
# $TMP/NAME.*
backend() {
	local name=$1 ids i
	gw_start "$name" "$2"
	: >"$TMP/$name.vault"; : >"$TMP/$name.reg"
	: >"$TMP/$name.vault.db"; : >"$TMP/$name.reg.db"
	for _ in $(seq 1 "$RUNS"); do
		load "$TMP/$name.vault" vaulted "$N" --to-range "$RANGE"
	done
	# K devices; the first one's key and token stay for the fetches
	for i in $(seq "$K" -1 1); do register $((RBASE + i)); done
	for _ in $(seq 1 "$RUNS"); do
		load "$TMP/$name.reg" sealed_direct $((N / 2)) \
		    --to-range "$((RBASE + 1))-$((RBASE + K))"
	done
	# the device's messages (oldest 1,000); one opened and checked
	curl -sS --cacert "$TMP/api.crt" -H "Authorization: Bearer $(cat "$TMP/token")" \
	    "https://127.0.0.1:$KP/v1/messages" | jq -r '.messages[].id' >"$TMP/ids"
	ids=$(wc -l <"$TMP/ids")
	[ "$ids" -ge 1 ] || fail "the device lists no messages"
	[ "$ids" -ge 1000 ] ||
	    echo "bench_secure: the device lists $ids messages (fewer than 1,000: raise -n)" >&2
	"$FETCH" --port "$KP" --ca "$TMP/api.crt" --token-file "$TMP/token" \
	    --ids-file "$TMP/ids" -n 1 --dump "$TMP/env.json" >/dev/null ||
	    fail "the first fetch failed"
	[ "$("$CLIENT" open-envelope "$TMP/dev.key" "$RNUM" <"$TMP/env.json")" = "$PLAIN" ] ||
	    fail "the fetched envelope does not open to the text sent"
	: >"$TMP/$name.f1"; : >"$TMP/$name.f4"; : >"$TMP/$name.list"
	for _ in $(seq 1 "$RUNS"); do
		fetch "$TMP/$name.f1" --ids-file "$TMP/ids" -c 1 -n "$FETCH_N"
		fetch "$TMP/$name.f4" --ids-file "$TMP/ids" -c 4 -n "$FETCH_N"
		fetch "$TMP/$name.list" --list -c 1 -n $((FETCH_N / 20))
	done
	echo "$name: $(metric accepted) accepted, $(metric vaulted) vaulted," \
	    "$(metric sealed_direct) sealed to the device at once," \
	    "$(metric notices_sent) notices sent, $(metric notices_failed) failed," \
	    "$(metric fetches) fetches (cycled over $ids ids; connections" \
	    "the server closed: $(cat "$TMP/$name".{f1,f4,list} | awk '{ n += $8 } END { print n + 0 }'))" \
	    >"$TMP/$name.summary"
	gw_stop
}

echo "bench_secure: '#secure ' messages, $N a run to unregistered numbers, $((N / 2)) to $K registered"
echo "numbers, window $WINDOW, 1 session, receipts off; fetch: up to $FETCH_N requests or ${FETCH_SECS}s"
echo "a run; medians of $RUNS runs; device scheme $SCHEME; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
DONE=()		# "name Label" of each backend measured
if [ "$SQLITE" = 1 ]; then
	backend sqlite "sqlite:$TMP/gw.db"
	DONE+=("sqlite SQLite")
fi
if [ "$MARIADB" = 1 ]; then
	DSN=${SG_TEST_MARIADB_DSN:-}
	if [ -z "$DSN" ]; then
		DBDIR=$TMP/mariadb
		if SG_TEST_MARIADB_SIZE=bench bash "$SRC/tests/mariadb.sh" start "$DBDIR" >"$TMP/mariadb.out" 2>&1; then
			# Over the server's unix socket (the DSN's ?socket=),
			# as a gateway on the database's host would connect:
			# ~40% more accepts/s than TCP on 127.0.0.1 here.
			DSN=$(. "$DBDIR/env" &&
			    echo "$SG_TEST_MARIADB_DSN?socket=$SG_TEST_MARIADB_SOCKET")
		else
			echo "bench_secure: no MariaDB ($(tail -n 2 "$TMP/mariadb.out")); skipped" >&2
			DBDIR=""
		fi
	fi
	if [ -n "$DSN" ]; then
		backend mariadb "$DSN"
		DONE+=("mariadb MariaDB")
	fi
fi
[ ${#DONE[@]} -gt 0 ] || fail "no backend measured"

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
echo "accepted (ESME_ROK after the sealed commit; lost = not accepted;"
echo " gw_cpu = sealgate CPU per 1,000 messages; with_notices = msg/s until"
echo " the last notice SMS was accepted downstream):"
accept_header
for b in "${DONE[@]}"; do
	accept_row "vault, ${b#* }" "$TMP/${b%% *}.vault"
	accept_row "registered devices, ${b#* }" "$TMP/${b%% *}.reg"
done
echo
echo "storage during those runs (sealgate's /metrics; a batch = its jobs and one"
echo " commit on the storage thread; busy = that thread's share of the run):"
printf '%-30s %9s %10s %10s %10s\n' path jobs/msg jobs/batch ms/batch busy
for b in "${DONE[@]}"; do
	db_row "vault, ${b#* }" "$TMP/${b%% *}.vault.db"
	db_row "registered devices, ${b#* }" "$TMP/${b%% *}.reg.db"
done
echo
echo "handset API over HTTPS keep-alive (TLS handshakes not timed; the"
echo " list answer holds 1,000 entries; CPU of sealgate and of bench_fetch per"
echo " 1,000 requests):"
fetch_header
for b in "${DONE[@]}"; do
	fetch_row "fetch 1 conn, ${b#* }" "$TMP/${b%% *}.f1"
	fetch_row "fetch 4 conns, ${b#* }" "$TMP/${b%% *}.f4"
	fetch_row "list 1 conn, ${b#* }" "$TMP/${b%% *}.list"
done
echo
for b in "${DONE[@]}"; do cat "$TMP/${b%% *}.summary"; done
echo
t() { [ "$(echo "$1 >= $2" | bc -l)" = 1 ] && echo met || echo MISSED; }
for b in "${DONE[@]}"; do
	n=${b%% *} want=5000
	[ "$n" = mariadb ] && want=3000
	v=$(cut -f1 "$TMP/$n.vault" | median)
	r=$(cut -f1 "$TMP/$n.reg" | median)
	f1=$(cut -f1 "$TMP/$n.f1" | median)
	f4=$(cut -f1 "$TMP/$n.f4" | median)
	printf 'targets, %s: accept %.0f/s vault, %.0f/s registered (>= %d: %s, %s); fetch %.0f/s on 1 conn, %.0f/s on 4 (>= 5000: %s, %s)\n' \
	    "${b#* }" "$v" "$r" "$want" "$(t "$v" "$want")" "$(t "$r" "$want")" \
	    "$f1" "$f4" "$(t "$f1" 5000)" "$(t "$f4" 5000)"
done
