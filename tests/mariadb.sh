#!/usr/bin/env bash
# A private, throwaway MariaDB server for the tests: its own datadir,
# socket and port under DIR, no system service, no /etc/mysql settings.
#
#   bash tests/mariadb.sh start  DIR   fresh datadir, start, create the
#                                      test database and user
#   bash tests/mariadb.sh stop   DIR   shut down, wait for the pid, remove
#                                      the datadir (logs stay)
#   bash tests/mariadb.sh status DIR   exit 0 if it is up and answers
#
# Port: SG_TEST_MARIADB_PORT (default 33061, on 127.0.0.1). When it is not
# set and 33061 is taken, the next free port up to 33080 is used.
# After start, DIR/env holds the connection settings as shell assignments
# (source it): SG_TEST_MARIADB_SOCKET, SG_TEST_MARIADB_HOST/PORT/USER/
# PASSWORD/DATABASE and SG_TEST_MARIADB_DSN
# (mariadb://sealgate:sealgate@127.0.0.1:PORT/sealgate_test).
# The user sealgate (password sealgate, @127.0.0.1 over TCP and @localhost
# over the socket) has every privilege on sealgate_test and on any database
# whose name starts with sealgate_test, so tests may make their own.
#
# Sizing: a small server for tests (16 MiB redo log, 64 MiB buffer pool).
# SG_TEST_MARIADB_SIZE=bench gives benchmarks a production-like one
# (256 MiB redo log, 512 MiB buffer pool): with the small redo log the
# server's log flushing, not sealgate, bounds a write-heavy benchmark.
#
# The server never inherits our stdin/stdout/stderr: a ctest fixture or a
# CI pipe would otherwise wait for it to exit.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

usage() {
	echo "usage: $0 start|stop|status DIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
DATA=$DIR/data
PIDFILE=$DIR/mariadbd.pid
ENVFILE=$DIR/env
ERRLOG=$DIR/mariadbd.err
START_TIMEOUT=${SG_TEST_MARIADB_START_TIMEOUT:-60}
STOP_TIMEOUT=${SG_TEST_MARIADB_STOP_TIMEOUT:-30}

# A unix socket path must fit in sun_path (108 bytes); deep build dirs
# get a short one under /tmp instead.
SOCK=$DIR/mysqld.sock
if [ ${#SOCK} -gt 100 ]; then
	SOCK=/tmp/sg-mariadb-$(printf '%s' "$DIR" | cksum | cut -d' ' -f1).sock
fi

say() { printf 'mariadb: %s\n' "$*"; }

# 0 if something accepts TCP connections on 127.0.0.1:$1.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the pid of our server if it is alive, else nothing. The pid must
# still be a mariadbd started on this datadir, so a recycled pid is never
# taken for ours.
server_pid() {
	local pid
	[ -s "$PIDFILE" ] || return 0
	pid=$(cat "$PIDFILE")
	case "$pid" in ''|*[!0-9]*) return 0 ;; esac
	if [ -r "/proc/$pid/cmdline" ] &&
	    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--datadir=$DATA "; then
		echo "$pid"
	fi
}

# 0 while pid runs (a zombie that nobody reaped yet counts as gone).
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
	[ "$st" != Z ]
}

admin() {
	mariadb-admin --no-defaults --socket="$SOCK" -uroot \
	    --connect-timeout=2 "$@" </dev/null
}

do_status() {
	local pid
	pid=$(server_pid)
	if [ -n "$pid" ] && admin ping >/dev/null 2>&1; then
		# shellcheck disable=SC1090
		. "$ENVFILE"
		say "up: pid $pid, 127.0.0.1:$SG_TEST_MARIADB_PORT, socket $SOCK"
		return 0
	fi
	say "not running (dir $DIR)"
	return 1
}

do_stop() {
	local pid waited=0
	pid=$(server_pid)
	if [ -z "$pid" ]; then
		say "not running (dir $DIR)"
		rm -f "$PIDFILE"
		return 0
	fi
	say "stopping pid $pid"
	admin shutdown >>"$DIR/admin.log" 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	# The process exits a little after shutdown returns: wait for the pid
	# itself before the datadir goes.
	while alive "$pid"; do
		if [ "$waited" -ge $((STOP_TIMEOUT * 10)) ]; then
			say "pid $pid still alive after ${STOP_TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
			break
		fi
		if [ "$waited" -eq $((STOP_TIMEOUT * 5)) ]; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	rm -rf "$DATA" "$PIDFILE" "$ENVFILE"
	rm -f "$SOCK"
	say "stopped"
}

do_start() {
	local port pid waited=0 as_root=()

	if [ -n "$(server_pid)" ]; then
		say "already running; restarting with a fresh datadir"
		do_stop
	fi

	if [ -n "${SG_TEST_MARIADB_PORT:-}" ]; then
		port=$SG_TEST_MARIADB_PORT
		if port_busy "$port"; then
			say "127.0.0.1:$port is already in use (SG_TEST_MARIADB_PORT)" >&2
			return 1
		fi
	else
		port=33061
		while port_busy "$port"; do
			port=$((port + 1))
			if [ "$port" -gt 33080 ]; then
				say "no free port in 33061-33080" >&2
				return 1
			fi
		done
	fi

	for t in mariadbd mariadb-install-db mariadb mariadb-admin; do
		if ! command -v "$t" >/dev/null 2>&1; then
			say "$t not found: run bash .ci/deps.sh" >&2
			return 1
		fi
	done

	# mariadbd refuses to run as root unless told to.
	[ "$(id -u)" = 0 ] && as_root=(--user=root)

	rm -rf "$DATA"
	mkdir -p "$DATA"
	rm -f "$SOCK" "$PIDFILE" "$ENVFILE"
	: >"$ERRLOG"

	say "initialising $DATA"
	if ! mariadb-install-db --no-defaults --datadir="$DATA" "${as_root[@]}" \
	    --auth-root-authentication-method=normal --skip-test-db \
	    --skip-name-resolve </dev/null >"$DIR/install.log" 2>&1; then
		say "mariadb-install-db failed; its log:" >&2
		tail -n 30 "$DIR/install.log" >&2
		return 1
	fi

	local -a sizing=(--innodb-log-file-size=16M --innodb-buffer-pool-size=64M)
	case "${SG_TEST_MARIADB_SIZE:-}" in
	""|test) ;;
	bench) sizing=(--innodb-log-file-size=256M --innodb-buffer-pool-size=512M) ;;
	*) say "SG_TEST_MARIADB_SIZE must be test or bench" >&2; return 1 ;;
	esac
	# --no-defaults must come first: otherwise /etc/mysql applies.
	mariadbd --no-defaults --datadir="$DATA" "${as_root[@]}" \
	    --socket="$SOCK" --port="$port" --bind-address=127.0.0.1 \
	    --pid-file="$PIDFILE" --log-error="$ERRLOG" \
	    --skip-name-resolve --skip-log-bin \
	    "${sizing[@]}" \
	    </dev/null >/dev/null 2>&1 &
	pid=$!
	# Until mariadbd writes it, the pid file holds the pid we know.
	echo "$pid" >"$PIDFILE"

	until admin ping >/dev/null 2>&1; do
		if ! alive "$pid"; then
			say "mariadbd exited during start-up; $ERRLOG says:" >&2
			tail -n 30 "$ERRLOG" >&2
			return 1
		fi
		if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
			say "no answer after ${START_TIMEOUT}s; $ERRLOG says:" >&2
			tail -n 30 "$ERRLOG" >&2
			do_stop
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done

	if ! mariadb --no-defaults --socket="$SOCK" -uroot </dev/null \
	    >"$DIR/setup.log" 2>&1 -e "
		CREATE DATABASE IF NOT EXISTS sealgate_test
		    CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER IF NOT EXISTS 'sealgate'@'127.0.0.1' IDENTIFIED BY 'sealgate';
		CREATE USER IF NOT EXISTS 'sealgate'@'localhost' IDENTIFIED BY 'sealgate';
		GRANT ALL PRIVILEGES ON \`sealgate\\_test%\`.* TO 'sealgate'@'127.0.0.1';
		GRANT ALL PRIVILEGES ON \`sealgate\\_test%\`.* TO 'sealgate'@'localhost';
		FLUSH PRIVILEGES;"; then
		say "creating the test database failed:" >&2
		cat "$DIR/setup.log" >&2
		do_stop
		return 1
	fi

	cat >"$ENVFILE" <<EOF
SG_TEST_MARIADB_SOCKET='$SOCK'
SG_TEST_MARIADB_HOST='127.0.0.1'
SG_TEST_MARIADB_PORT='$port'
SG_TEST_MARIADB_USER='sealgate'
SG_TEST_MARIADB_PASSWORD='sealgate'
SG_TEST_MARIADB_DATABASE='sealgate_test'
SG_TEST_MARIADB_DSN='mariadb://sealgate:sealgate@127.0.0.1:$port/sealgate_test'
SG_TEST_MARIADB_PID='$pid'
EOF
	say "up: pid $pid, 127.0.0.1:$port, socket $SOCK, database sealgate_test; ready in $((waited * 100)) ms"
}

case "$cmd" in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) usage ;;
esac
