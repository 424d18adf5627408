#!/usr/bin/env bash
# sealgate against the simulator, in one run:
#   rate    smpp-bench -> smsc-sim directly, and smpp-bench -> sealgate ->
#           smsc-sim with every receipt mapped, on SQLite (sync=messages,
#           as shipped in conf/sealgate.yaml and the default for a bare
#           path: no fsync on this path, where no message waits in
#           sealgate; and sync=full, every commit fsync'ed) and on
#           MariaDB (its own server is reached
#           over its unix socket, as a local server would be):
#           window 256, receipts on, 1 session, medians of R runs, and the
#           ratio gateway/direct (plus sealgate's CPU per 1,000);
#   latency submit->response p99 at a fixed --rate (10,000/s), direct and
#           through sealgate (SQLite, both syncs): the difference is what
#           sealgate adds (medians of R runs). Submits sent in the first
#           --warmup seconds (1) are sent and answered but left out of the
#           latency figures: the steady state is measured, not the start
#           of processes, files and caches. Also, from sealgate's
#           /metrics, the share of those submits that spent over 1 ms in
#           sealgate itself (sealgate_submit_added_seconds: its time less
#           the SMSC's, warm-up included) and the bucket of its p99;
#   RSS     of sealgate with 1,000 bound ESMEs (4 smpp-bench processes of
#           250 sessions, a trickle of traffic), highest sample.
# MariaDB: SG_TEST_MARIADB_DSN if set, else a private server started with
# tests/mariadb.sh in the scratch directory (stopped at the end);
# --no-mariadb skips it.
#
#   bench_gw.sh [--build-dir DIR] [-n N] [--runs R] [--window W]
#               [--rate R] [--latency-n N] [--warmup SECS] [--esmes 1000]
#               [--no-mariadb]
#
# Everything runs on 127.0.0.1 with free ports and stops by itself; only
# the processes this script starts are stopped, by pid.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SG_BUILD_DIR:-$SRC/build}
N=200000
RUNS=3
WINDOW=256
RATE=10000
LAT_N=40000
WARMUP=1
ESMES=1000
MARIADB=1
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--latency-n) LAT_N=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--esmes) ESMES=$2; shift 2 ;;
	--no-mariadb) MARIADB=0; shift ;;
	*) echo "usage: $0 [--build-dir DIR] [-n N] [--runs R] [--window W] [--rate R] [--latency-n N] [--warmup SECS] [--esmes N] [--no-mariadb]" >&2; exit 2 ;;
	esac
done
SIM=$BUILD/smsc-sim/smsc-sim
BENCH=$BUILD/smsc-sim/smpp-bench/smpp-bench
SEALGATE=$BUILD/gateway/sealgate
for b in "$SIM" "$BENCH" "$SEALGATE"; do
	[ -x "$b" ] || { echo "bench_gw: $b not built" >&2; exit 1; }
done
for t in jq curl bc; do
	command -v $t >/dev/null || { echo "bench_gw: $t is needed" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-gw.XXXXXX")
SIMPID="" GWPID="" DBDIR="" BPIDS=()
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local p
	for p in "${BPIDS[@]}"; do stop_pid "$p"; done
	[ -n "$GWPID" ] && stop_pid "$GWPID"
	[ -n "$SIMPID" ] && stop_pid "$SIMPID"
	[ -n "$DBDIR" ] && bash "$SRC/tests/mariadb.sh" stop "$DBDIR" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports below the kernel's ephemeral range (a neighbour's outgoing
# connection cannot take them from under us).
free_port() {
	local p lo=20000 hi
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for _ in $(seq 1 200); do
		p=$((lo + RANDOM % (hi - lo)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo "bench_gw: no free port" >&2; exit 1
}
wait_port() {
	for _ in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { echo "bench_gw: $3 exited: $(tail -n 5 "$TMP/$3.log")" >&2; exit 1; }
		sleep 0.05
	done
	echo "bench_gw: $3 does not listen on $1" >&2; exit 1
}
TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TCK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

SP=$(free_port); HP=$(free_port); GP=$(free_port); AP=$(free_port)
"$SIM" --smpp-port "$SP" --http-port "$HP" --log-level err </dev/null \
    >"$TMP/sim.log" 2>&1 &
SIMPID=$!
wait_port "$SP" "$SIMPID" sim

# Destinations whose last three digits stay below 990: the simulator then
# answers every one DELIVRD at once.
RANGE=491700000000-491700000899
HASH='$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ==$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw='

# gw_start URL: sealgate on $GP/$AP with storage URL, its link bound.
gw_start() {
	cat >"$TMP/gw.yaml" <<YAML
instance_id: 7
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$1"}
log: {level: warn}
accounts:
  - {system_id: demo, password_hash: "$HASH", max_binds: 0, window: $WINDOW}
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
	local n=0
	for _ in $(seq 1 100); do
		n=$(curl -sf "http://127.0.0.1:$AP/status" | jq '[.links[].bound] | add' 2>/dev/null || echo 0)
		[ "$n" = 1 ] && return 0
		sleep 0.1
	done
	echo "bench_gw: sealgate's link not bound: $(tail -n 5 "$TMP/gw.log")" >&2
	exit 1
}
gw_stop() { stop_pid "$GWPID"; GWPID=""; }

# load PORT OUT ARGS...: one smpp-bench load, a TSV row appended to OUT:
# rate p50 p99 max rcpt_p99 lost bench_cpu/1000 gw_cpu/1000.
load() {
	local port=$1 out=$2 c0=0 c1=0
	shift 2
	local creds=()
	[ "$port" = "$GP" ] && creds=(--system-id demo --password demopass)
	[ -n "$GWPID" ] && [ "$port" = "$GP" ] && c0=$(cpu_of "$GWPID")
	"$BENCH" load --port "$port" "${creds[@]}" --to-range "$RANGE" \
	    --registered-delivery 1 --receipt-timeout 15 --max-errors 100% \
	    --json --no-progress "$@" >"$TMP/run.json" 2>"$TMP/run.err" || {
		echo "bench_gw: run failed:" >&2
		grep -E 'ESME_|^responses|^receipts|^error|^smpp-bench:' "$TMP/run.err" >&2 || true
		[ -n "$GWPID" ] && tail -n 5 "$TMP/gw.log" >&2
		exit 1; }
	[ -n "$GWPID" ] && [ "$port" = "$GP" ] && c1=$(cpu_of "$GWPID")
	tail -n 1 "$TMP/run.json" | jq -r --arg gw "$(echo "$c1 - $c0" | bc -l)" '
	    [ .rate_per_s, .latency_ms.p50, .latency_ms.p99, .latency_ms.max,
	      .receipt_latency_ms.p99,
	      (.submitted - .responses_ok + .receipts_missing + .receipts_unmatched),
	      ((.cpu_user_s + .cpu_sys_s) * 1000000 / .submitted),
	      (($gw | tonumber) * 1000000 / .submitted) ] | @tsv' >>"$out"
}
# row NAME FILE: medians of every column.
row() {
	local r=() col
	for col in $(seq 1 8); do r+=("$(cut -f "$col" "$2" | median)"); done
	printf '%-26s %9.0f %8.3f %8.3f %8.3f %9.3f %6.0f %9.1fms %9.1fms\n' "$1" "${r[@]}"
}
header() {
	printf '%-26s %9s %8s %8s %8s %9s %6s %11s %11s\n' path msg/s p50_ms \
	    p99_ms max_ms rcpt_p99 lost bench_cpu gw_cpu
}

# sealgate's own measure of what it adds (submit_sm to submit_sm_resp
# less the wait for the SMSC): the cumulative buckets of
# sealgate_submit_added_seconds for the account, "le count" lines.
added_scrape() {
	curl -sf "http://127.0.0.1:$AP/metrics" |
	    awk -F'[{}" ]+' '/^sealgate_submit_added_seconds_bucket\{account="demo"/ { print $5, $NF }'
}
# added_row BEFORE: from the buckets now (stdin) less those in BEFORE,
# "% over 1 ms" and the bound of the bucket that holds the p99 (ms).
added_row() {
	awk 'NR == FNR { b[$1] = $2; next }
	    { le[++n] = $1; c[n] = $2 - b[$1] }
	    END { total = c[n]; if (total <= 0) { print "- -"; exit }
		  for (i = 1; i <= n; i++) if (le[i] == "0.001") over = total - c[i]
		  for (i = 1; i <= n && c[i] < 0.99 * total; i++) ;
		  printf "%.3f %s\n", 100 * over / total, (le[i] == "+Inf" ? "inf" : le[i] * 1000) }' "$1" -
}

echo "bench_gw: $N messages a run, window $WINDOW, 1 session, receipts on, medians of $RUNS runs"
echo "(lost = not accepted + receipts missing or unmatched, counted, not fatal;"
echo " CPU per 1,000 messages)"
header
: >"$TMP/direct"
for _ in $(seq 1 "$RUNS"); do load "$SP" "$TMP/direct" -n "$N" -w "$WINDOW"; done
row "direct (smsc-sim)" "$TMP/direct"
DIRECT=$(cut -f1 "$TMP/direct" | median)

# SQLite with each sync; the latency runs at a fixed rate on the same
# sealgate, interleaved with direct ones.
: >"$TMP/lat_direct"
for sync in messages full; do
	gw_start "sqlite:$TMP/gw-$sync.db?sync=$sync"
	: >"$TMP/sqlite-$sync"
	for _ in $(seq 1 "$RUNS"); do load "$GP" "$TMP/sqlite-$sync" -n "$N" -w "$WINDOW"; done
	row "sealgate, SQLite $sync" "$TMP/sqlite-$sync"
	: >"$TMP/lat_gw-$sync"
	: >"$TMP/added-$sync"
	for _ in $(seq 1 "$RUNS"); do
		[ "$sync" = messages ] &&
		    load "$SP" "$TMP/lat_direct" -n "$LAT_N" -w "$WINDOW" \
		    --rate "$RATE" --warmup "$WARMUP"
		added_scrape >"$TMP/added.before"
		load "$GP" "$TMP/lat_gw-$sync" -n "$LAT_N" -w "$WINDOW" \
		    --rate "$RATE" --warmup "$WARMUP"
		added_scrape | added_row "$TMP/added.before" >>"$TMP/added-$sync"
	done
	gw_stop
done
SQLITE=$(cut -f1 "$TMP/sqlite-messages" | median)
SQLITE_FULL=$(cut -f1 "$TMP/sqlite-full" | median)

MARIA="-"
if [ "$MARIADB" = 1 ]; then
	DSN=${SG_TEST_MARIADB_DSN:-}
	if [ -z "$DSN" ]; then
		DBDIR=$TMP/mariadb
		if SG_TEST_MARIADB_SIZE=bench bash "$SRC/tests/mariadb.sh" start "$DBDIR" >"$TMP/mariadb.out" 2>&1; then
			DSN=$(. "$DBDIR/env" && echo "mariadb://$SG_TEST_MARIADB_USER:$SG_TEST_MARIADB_PASSWORD@localhost/$SG_TEST_MARIADB_DATABASE?socket=$SG_TEST_MARIADB_SOCKET")
		else
			echo "bench_gw: no MariaDB ($(tail -n 2 "$TMP/mariadb.out")); skipped" >&2
			DBDIR=""
		fi
	fi
	if [ -n "$DSN" ]; then
		gw_start "$DSN"
		: >"$TMP/maria"
		for _ in $(seq 1 "$RUNS"); do load "$GP" "$TMP/maria" -n "$N" -w "$WINDOW"; done
		row "sealgate, MariaDB" "$TMP/maria"
		MARIA=$(cut -f1 "$TMP/maria" | median)
		gw_stop
	fi
fi
echo
printf 'ratio gateway/direct: SQLite messages %.2f, SQLite full %.2f' \
    "$(echo "$SQLITE / $DIRECT" | bc -l)" "$(echo "$SQLITE_FULL / $DIRECT" | bc -l)"
[ "$MARIA" != - ] && printf ', MariaDB %.2f' "$(echo "$MARIA / $DIRECT" | bc -l)"
echo

echo
echo "latency at --rate $RATE ($LAT_N messages a run, the first $WARMUP s left out, medians of $RUNS runs):"
header
row "direct (smsc-sim)" "$TMP/lat_direct"
d99=$(cut -f3 "$TMP/lat_direct" | median); d50=$(cut -f2 "$TMP/lat_direct" | median)
for sync in messages full; do
	row "sealgate, SQLite $sync" "$TMP/lat_gw-$sync"
done
for sync in messages full; do
	g99=$(cut -f3 "$TMP/lat_gw-$sync" | median); g50=$(cut -f2 "$TMP/lat_gw-$sync" | median)
	printf 'sealgate (SQLite %s) adds: p50 %+.3f ms, p99 %+.3f ms\n' "$sync" \
	    "$(echo "$g50 - $d50" | bc -l)" "$(echo "$g99 - $d99" | bc -l)"
done
echo "as sealgate measures it (sealgate_submit_added_seconds: its time less"
echo "the SMSC's, the warm-up included; medians of $RUNS runs):"
for sync in messages full; do
	printf '  SQLite %s: %s%% of submits over 1 ms, p99 in the bucket up to %s ms\n' \
	    "$sync" "$(cut -d' ' -f1 "$TMP/added-$sync" | median)" \
	    "$(cut -d' ' -f2 "$TMP/added-$sync" | median)"
done

[ "$ESMES" -gt 0 ] || exit 0
# RSS with ESMES bound ESMEs: processes of at most 250 sessions each, one
# message a second per session or so, for a bounded time.
echo
gw_start "sqlite:$TMP/gw-rss.db"
rss0=$(rss_of "$GWPID")
left=$ESMES i=0
while [ "$left" -gt 0 ]; do
	s=$(( left > 250 ? 250 : left ))
	"$BENCH" load --port "$GP" --system-id demo --password demopass \
	    --sessions "$s" --duration 20 --rate "$s" -w 4 --to-range "$RANGE" \
	    --registered-delivery 1 --receipt-timeout 10 --timeout 60 --json \
	    --no-progress >"$TMP/rss.$i.json" 2>"$TMP/rss.$i.err" &
	BPIDS+=($!)
	left=$((left - s)); i=$((i + 1))
done
max=0 bound=0 t=0
while [ "$t" -lt 60 ]; do
	alive=0
	for p in "${BPIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ "$alive" = 1 ] || break
	r=$(rss_of "$GWPID"); [ "$r" -gt "$max" ] && max=$r
	b=$(curl -sf "http://127.0.0.1:$AP/status" | jq .esme_sessions 2>/dev/null || echo 0)
	[ "$b" -gt "$bound" ] 2>/dev/null && bound=$b
	sleep 1; t=$((t + 1))
done
fails=0
for p in "${BPIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
BPIDS=()
sub=0
for f in "$TMP"/rss.*.json; do
	sub=$((sub + $(tail -n 1 "$f" | jq '.responses_ok // 0')))
done
gw_stop
printf 'RSS of sealgate: %d KiB at start, highest %d KiB (%.1f MiB) with %d ESME sessions bound at once (of %d); %d messages accepted meanwhile; %d bench processes failed\n' \
    "$rss0" "$max" "$(echo "$max / 1024" | bc -l)" "$bound" "$ESMES" "$sub" "$fails"
