#!/usr/bin/env bash
# smpp-bench load against smsc-sim with receipts, window 256, for 1 and 4
# sessions: 3 runs each, medians of msg/s and latency percentiles, CPU
# time per 1,000 messages of each process (bench from its own getrusage,
# sim from /proc/<pid>/stat), then RSS of both over a timed run (short by
# default; --rss-seconds 300 is the 5-minute flat-memory check).
#
#   bench_sim.sh [--build-dir DIR] [-n N] [--runs R] [--sessions "1 4"]
#                [--window W] [--rss-seconds S] [--no-rss] [--tls]
#
# Everything runs on 127.0.0.1 with free ports and stops by itself; only
# the processes this script starts are stopped, by pid.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SG_BUILD_DIR:-$SRC/build}
N=200000
RUNS=3
SESSIONS="1 4"
WINDOW=256
RSS_SECS=20
DO_RSS=1
TLS=0
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--sessions) SESSIONS=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--rss-seconds) RSS_SECS=$2; shift 2 ;;
	--no-rss) DO_RSS=0; shift ;;
	--tls) TLS=1; shift ;;
	*) echo "usage: $0 [--build-dir DIR] [-n N] [--runs R] [--sessions \"1 4\"] [--window W] [--rss-seconds S] [--no-rss] [--tls]" >&2; exit 2 ;;
	esac
done
SIM=$BUILD/smsc-sim/smsc-sim
BENCH=$BUILD/smsc-sim/smpp-bench/smpp-bench
for b in "$SIM" "$BENCH"; do
	[ -x "$b" ] || { echo "bench_sim: $b not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench_sim: jq is needed" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-sim.XXXXXX")
SIMPID=""
BPID=""
cleanup() {
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null || true
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null || true
	[ -n "$SIMPID" ] && wait "$SIMPID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo "bench_sim: no free port" >&2; exit 1
}
SP=$(free_port); HP=$(free_port); TP=$(free_port)
TLSARGS=()
SIMARGS=(--smpp-port "$SP" --http-port "$HP" --log-level err)
PORT=$SP
if [ "$TLS" = 1 ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
	SIMARGS+=(--tls-port "$TP" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem")
	TLSARGS=(--tls --ca "$TMP/cert.pem" --tls-host localhost)
	PORT=$TP
fi
"$SIM" "${SIMARGS[@]}" </dev/null >"$TMP/sim.log" 2>&1 &
SIMPID=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.05
done

TCK=$(getconf CLK_TCK)
# CPU seconds (user+sys) of a process so far.
cpu_of() { awk -v t="$TCK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Destinations whose last three digits stay below 990: the deterministic
# mode then answers every one DELIVRD at once (990+ picks failures, late
# and duplicate receipts).
RANGE=491700000000-491700000899

echo "smpp-bench -> smsc-sim: $N messages a run, window $WINDOW, receipts on,"
echo "$RUNS runs per setting, medians; CPU is per 1,000 messages$([ "$TLS" = 1 ] && echo ', TLS')"
printf '%-9s %10s %9s %9s %9s %9s %9s %9s %9s %10s %10s %7s\n' sessions msg/s \
    p50_ms p90_ms p99_ms max_ms rcpt_p50 rcpt_p99 rcpt_max bench_cpu sim_cpu lost
for S in $SESSIONS; do
	: >"$TMP/runs.$S"
	for r in $(seq 1 "$RUNS"); do
		c0=$(cpu_of "$SIMPID")
		"$BENCH" load --port "$PORT" "${TLSARGS[@]}" -n "$N" -w "$WINDOW" \
		    --sessions "$S" --to-range "$RANGE" --registered-delivery 1 \
		    --receipt-timeout 60 --json --no-progress \
		    >"$TMP/run.json" 2>"$TMP/run.err" || {
			echo "bench_sim: run failed: $(tail -n 3 "$TMP/run.err")" >&2
			exit 1; }
		c1=$(cpu_of "$SIMPID")
		tail -n 1 "$TMP/run.json" | jq -r --arg sim "$(echo "$c1 - $c0" | bc -l)" '
		    [ .rate_per_s, .latency_ms.p50, .latency_ms.p90,
		      .latency_ms.p99, .latency_ms.max, .receipt_latency_ms.p50,
		      .receipt_latency_ms.p99, .receipt_latency_ms.max,
		      ((.cpu_user_s + .cpu_sys_s) * 1000000 / .submitted),
		      (($sim | tonumber) * 1000000 / .submitted),
		      (.submitted - .responses_ok + .receipts_missing) ] | @tsv' \
		    >>"$TMP/runs.$S"
	done
	row=()
	for col in $(seq 1 11); do
		row+=("$(cut -f "$col" "$TMP/runs.$S" | median)")
	done
	printf '%-9s %10.0f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %8.1fms %8.1fms %7.0f\n' \
	    "$S" "${row[@]}"
done

[ "$DO_RSS" = 1 ] || exit 0
echo
echo "RSS over a ${RSS_SECS} s run (1 session, window $WINDOW, receipts on), KiB:"
"$BENCH" load --port "$PORT" "${TLSARGS[@]}" --duration "$RSS_SECS" -w "$WINDOW" \
    --to-range "$RANGE" --registered-delivery 1 --receipt-timeout 60 --json \
    --no-progress >"$TMP/rss.json" 2>"$TMP/rss.err" &
BPID=$!
printf '%8s %12s %12s\n' t_s bench_rss sim_rss
: >"$TMP/rss.tsv"
step=$(( RSS_SECS >= 60 ? RSS_SECS / 30 : 1 ))
t=0
while kill -0 "$BPID" 2>/dev/null; do
	b=$(rss_of "$BPID"); s=$(rss_of "$SIMPID")
	[ -n "$b" ] && [ "$b" != 0 ] && { printf '%8d %12s %12s\n' "$t" "$b" "$s"; printf '%s\t%s\t%s\n' "$t" "$b" "$s" >>"$TMP/rss.tsv"; }
	sleep "$step"
	t=$((t + step))
done
wait "$BPID" || echo "bench_sim: RSS run exit $? ($(tail -n 2 "$TMP/rss.err"))" >&2
BPID=""
tail -n 1 "$TMP/rss.json" | jq -r '"RSS run: \(.submitted) submitted, \(.receipts) receipts, \(.rate_per_s | floor) msg/s, errors \(.errors)"'
# Flat: the last sample against the one a fifth into the run (after
# start-up), for each process.
awk -F'\t' 'NR == 1 { n0 = 0 } { t[NR] = $1; b[NR] = $2; s[NR] = $3 }
    END { if (NR < 3) { print "too few samples"; exit }
          k = int(NR / 5) + 1
          printf "growth after warm-up (t=%ds to t=%ds): bench %+d KiB, sim %+d KiB\n",
              t[k], t[NR], b[NR] - b[k], s[NR] - s[k] }' "$TMP/rss.tsv"
