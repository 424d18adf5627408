#!/bin/sh
# Runs bench_session three times plain and three times over TLS and prints
# the median msg/s of each. Usage: run_bench_session.sh [path/to/bench_session]
set -eu
bin=${1:-./bench_session}
median() { sort -n | sed -n 2p; }
for mode in plain tls; do
	flag=""
	n=1000000
	if [ "$mode" = tls ]; then flag=--tls; n=500000; fi
	rates=""
	for i in 1 2 3; do
		line=$("$bin" $flag -n "$n" -t 30)
		echo "$line"
		rates="$rates $(echo "$line" | sed -n 's/.*= \([0-9]*\) msg\/s.*/\1/p')"
	done
	echo "median $mode: $(printf '%s\n' $rates | median) msg/s"
done
