#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts what the
# tests need and runs them with ctest. Works from any directory.
#
#   bash tests/run.sh                 RelWithDebInfo build in build/; unit,
#                                     integration and fuzz-smoke (corpus
#                                     replay) tests, with a private MariaDB
#   bash tests/run.sh --asan          the same in build-asan/ with
#                                     AddressSanitizer and UBSan
#   bash tests/run.sh --fuzz SECONDS  clang + libFuzzer build in build-fuzz/;
#                                     runs every fuzz target for SECONDS
#   --build-dir DIR                   build there instead
#   --no-db                           do not start MariaDB
#   -- ARGS...                        passed to ctest (e.g. -- -R test_scan)
#
# Exits with ctest's exit code. Tests that want MariaDB read
# SG_TEST_MARIADB_DSN / SG_TEST_MARIADB_SOCKET (see tests/mariadb.sh) and
# skip when they are not set.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=normal
fuzz_seconds=
build_dir=
use_db=1
ctest_extra=()

usage() {
	sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--asan) mode=asan ;;
	--fuzz)
		[ $# -ge 2 ] || { echo "run.sh: --fuzz needs SECONDS" >&2; exit 2; }
		case "$2" in
		''|*[!0-9]*) echo "run.sh: --fuzz SECONDS must be a number" >&2; exit 2 ;;
		esac
		mode=fuzz
		fuzz_seconds=$2
		shift ;;
	--build-dir)
		[ $# -ge 2 ] || { echo "run.sh: --build-dir needs DIR" >&2; exit 2; }
		build_dir=$2
		shift ;;
	--no-db) use_db=0 ;;
	-h|--help) usage 0 ;;
	--) shift; ctest_extra=("$@"); break ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage 2 ;;
	esac
	shift
done

say() { printf '\n== %s ==\n' "$*"; }

jobs=$(nproc 2>/dev/null || echo 2)
build_type=${SG_BUILD_TYPE:-RelWithDebInfo}
cmake_args=(-DCMAKE_BUILD_TYPE="$build_type")
labels='unit|integration|fuzz-smoke'

case "$mode" in
normal)
	: "${build_dir:=$ROOT/build}"
	;;
asan)
	: "${build_dir:=$ROOT/build-asan}"
	cmake_args+=("-DSANITIZE=address,undefined")
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	;;
fuzz)
	: "${build_dir:=$ROOT/build-fuzz}"
	export CC=clang
	cmake_args+=(-DCMAKE_C_COMPILER=clang -DSG_FUZZ=ON
	    -DSG_FUZZ_SECONDS="$fuzz_seconds")
	labels='fuzz-smoke'
	use_db=0	# the fuzz targets parse bytes; no database
	;;
esac
case "$build_dir" in /*) ;; *) build_dir=$PWD/$build_dir ;; esac

# --browser: the web page test drives Debian's chromium through node.
if ! bash "$ROOT/.ci/deps.sh" --check --browser >/dev/null 2>&1; then
	say "installing dependencies (.ci/deps.sh --browser)"
	bash "$ROOT/.ci/deps.sh" --browser
fi

say "configure $build_dir ($mode, $build_type)"
cmake -S "$ROOT" -B "$build_dir" "${cmake_args[@]}"

say "build (-j$jobs)"
cmake --build "$build_dir" -j "$jobs"

db_dir=$build_dir/mariadb
db_started=0
stop_db() {
	if [ "$db_started" = 1 ]; then
		db_started=0
		# Quiet: ctest's summary stays the last thing printed.
		bash "$ROOT/tests/mariadb.sh" stop "$db_dir" >"$db_dir.stop.log" 2>&1 ||
		    { echo "run.sh: stopping MariaDB failed:" >&2; cat "$db_dir.stop.log" >&2; }
	fi
}
trap stop_db EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$use_db" = 1 ]; then
	say "start MariaDB for the tests"
	db_started=1
	bash "$ROOT/tests/mariadb.sh" start "$db_dir"
	set -a
	# shellcheck disable=SC1091
	. "$db_dir/env"
	set +a
fi

say "ctest -L '$labels'"
rc=0
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error \
    --parallel 2 -L "$labels" "${ctest_extra[@]}" </dev/null || rc=$?
stop_db
exit "$rc"
