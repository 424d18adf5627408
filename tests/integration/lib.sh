# Shared helpers for integration tests (sourced, bash).
#
# Every process a test starts goes through sg_start, so the EXIT trap can
# end exactly those processes (by pid) and nothing else. Logs go to the
# test's scratch directory and are printed when the test fails.
set -euo pipefail

SG_SOURCE_DIR=${SG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SG_BUILD_DIR=${SG_BUILD_DIR:-$SG_SOURCE_DIR/build}
SG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sg-it.XXXXXX")
SG_PIDS=()
SG_FAILED=0

sg_cleanup() {
	local rc=$?
	for pid in "${SG_PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for pid in "${SG_PIDS[@]:-}"; do
		[ -n "$pid" ] || continue
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] || [ "$SG_FAILED" -ne 0 ]; then
		for f in "$SG_TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "----- $(basename "$f") (last 40 lines) -----"
			tail -n 40 "$f"
		done
	fi
	if [ -f "$SG_TMP/ports" ]; then
		while read -r port; do
			rmdir "$SG_PORT_DIR/$port" 2>/dev/null || true
		done <"$SG_TMP/ports"
	fi
	rm -rf "$SG_TMP"
	exit "$rc"
}
trap sg_cleanup EXIT

sg_fail() {
	SG_FAILED=1
	echo "FAIL: $*" >&2
	exit 1
}

# sg_skip_outside_ci WHY...: an optional tool is missing: the test is
# skipped (exit 77), except in CI (CI=true), where .ci/deps.sh installs
# it and its absence is a failure.
sg_skip_outside_ci() {
	if [ "${CI:-}" = true ]; then
		sg_fail "$*"
	fi
	echo "SKIP: $*"
	exit 77
}

sg_pass() {
	echo "ok: $*"
}

# sg_bin NAME: path of a built binary, or fail.
sg_bin() {
	local p
	for p in "$SG_BUILD_DIR/$1" "$SG_BUILD_DIR/smsc-sim/$1" \
	    "$SG_BUILD_DIR/smsc-sim/smpp-bench/$1" "$SG_BUILD_DIR/gateway/$1" \
	    "$SG_BUILD_DIR/smpp/$1"; do
		if [ -f "$p" ] && [ -x "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	sg_fail "binary $1 not found under $SG_BUILD_DIR"
}

# sg_free_port: a TCP port on 127.0.0.1 that nothing listens on now,
# below the kernel's ephemeral range, so an outgoing connection of a test
# running beside this one cannot take it before we listen. Never the
# same port twice in one test: two calls before anything listens would
# otherwise both see a port free (CI once gave smsc-sim the same port for
# SMPP and HTTP). The ports handed out are kept in $SG_TMP/ports, since
# callers run this in a $(...) subshell. Nor the same port to two tests
# at once (ctest runs two side by side): see sg_reserve_port.
sg_free_port() {
	local port lo=20000 hi
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
	    echo 32768)
	[ "$hi" -gt $((lo + 1000)) ] || hi=$((lo + 10000))
	for _ in $(seq 1 200); do
		port=$((lo + RANDOM % (hi - lo)))
		grep -qx "$port" "$SG_TMP/ports" 2>/dev/null && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		sg_reserve_port "$port" || continue
		echo "$port" >>"$SG_TMP/ports"
		echo "$port"
		return 0
	done
	sg_fail "no free port found"
}

# sg_reserve_port PORT: claims PORT for this test against every other
# test on the machine: the port is ours once mkdir of SG_PORT_DIR/PORT
# succeeded (atomic), until the EXIT trap removes it. A claim older than
# 30 minutes is a killed test's and is taken over. 1 if another test
# holds it.
SG_PORT_DIR=${TMPDIR:-/tmp}/sg-ports
sg_reserve_port() {
	mkdir -p "$SG_PORT_DIR" 2>/dev/null || true
	mkdir "$SG_PORT_DIR/$1" 2>/dev/null && return 0
	[ -n "$(find "$SG_PORT_DIR/$1" -maxdepth 0 -mmin +30 2>/dev/null)" ] ||
	    return 1
	rmdir "$SG_PORT_DIR/$1" 2>/dev/null || true
	mkdir "$SG_PORT_DIR/$1" 2>/dev/null
}

# sg_start NAME CMD...: runs CMD in the background, output to NAME.log;
# sets SG_LAST_PID.
sg_start() {
	local name=$1
	shift
	"$@" </dev/null >"$SG_TMP/$name.log" 2>&1 &
	SG_LAST_PID=$!
	SG_PIDS+=("$SG_LAST_PID")
}

# sg_wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
sg_wait_port() {
	local port=$1 secs=${2:-10} i
	for i in $(seq 1 $((secs * 20))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	sg_fail "nothing listens on 127.0.0.1:$port after ${secs}s"
}

# sg_wait_exit PID [SECONDS]: waits for a started process to end and sets
# SG_EXIT_STATUS to its exit status. Call it directly, not inside $(...):
# a subshell cannot wait for the test's own children.
sg_wait_exit() {
	local pid=$1 secs=${2:-10}
	SG_EXIT_STATUS=
	for _ in $(seq 1 $((secs * 20))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			SG_EXIT_STATUS=0
			wait "$pid" || SG_EXIT_STATUS=$?
			return 0
		fi
		sleep 0.05
	done
	sg_fail "process $pid still running after ${secs}s"
}

sg_assert_eq() {
	[ "$1" = "$2" ] || sg_fail "${3:-values differ}: expected '$2', got '$1'"
}

sg_assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) sg_fail "${3:-missing text}: '$2' not in: $1" ;;
	esac
}

sg_log() {
	cat "$SG_TMP/$1.log"
}
