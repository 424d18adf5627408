#!/usr/bin/env bash
# The main job's one command: installs what is missing, builds, and shows
# Sealgate working on this machine.
#
# For now (the SMPP library layer is what exists) it runs smpp-demo: an
# SMSC and an ESME, both built on smpp/, bind to each other over
# 127.0.0.1, exchange three messages and their delivery receipts, and say
# in plain words what they did. Later this script starts sealgate and
# smsc-sim instead.
#
#   bash gateway/demo.sh [--build-dir DIR] [-- DEMO-ARGS...]
#
# Works from any directory; exits with the demo's exit code.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$ROOT/build
demo_args=()

while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir)
		[ $# -ge 2 ] || { echo "demo.sh: --build-dir needs DIR" >&2; exit 2; }
		build_dir=$2
		shift ;;
	-h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
if ! printf '%s\n' "$targets" | grep -qw -- smpp-demo; then
	echo "demo.sh: the build has no smpp-demo target, so $demo cannot be made" >&2
	echo "demo.sh: (smpp/CMakeLists.txt needs add_executable(smpp-demo tools/smpp_demo.c))" >&2
	exit 1
fi
if ! cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target smpp-demo; then
	echo "demo.sh: building smpp-demo failed (see above)" >&2
	exit 1
fi
if [ ! -x "$demo" ]; then
	echo "demo.sh: the build did not produce $demo" >&2
	exit 1
fi

say "SMPP loopback demo: an SMSC and an ESME on 127.0.0.1"
exec "$demo" "${demo_args[@]}"
