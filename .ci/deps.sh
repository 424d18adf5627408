#!/usr/bin/env bash
# Installs what Sealgate needs to build and test on Debian 12, as root (or
# through sudo when not root). Idempotent: apt-get install of what is
# already there changes nothing.
#
#   bash .ci/deps.sh             apt-get update, then install the packages
#   bash .ci/deps.sh --browser   also chromium, chromium-driver, nodejs, npm
#                                (the browser test of the handset web page,
#                                node-smpp for test_gw_interop) and kannel
#                                (test_gw_kannel; its service is not used)
#   bash .ci/deps.sh --check     install nothing: exit 0 when every package,
#                                pkg-config module and tool is present, else
#                                1 with a list of what is missing
#   (--check --browser checks the browser packages too)
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config git ca-certificates
	libsmpp34-dev libevent-dev libssl-dev openssl
	libmariadb-dev mariadb-server mariadb-client
	libyaml-dev libjansson-dev libsqlite3-dev sqlite3 libcmocka-dev
	clang libclang-rt-14-dev
	curl procps iproute2 jq python3 python3-cryptography
)
BROWSER_PACKAGES=(chromium chromium-driver nodejs npm kannel)

# What the build finds through pkg-config (see the top CMakeLists.txt).
PC_MODULES=(
	libevent_core libevent_extra libevent_openssl libevent_pthreads
	libsmpp34 libmariadb yaml-0.1 jansson sqlite3 cmocka openssl
)
# Tools the scripts and the build call.
TOOLS=(
	cc make cmake pkg-config git clang openssl curl sqlite3 pgrep ss jq python3
	mariadbd mariadb-install-db mariadb mariadb-admin
)
BROWSER_TOOLS=(chromium chromedriver node npm bearerbox smsbox)

check=0
browser=0
for arg in "$@"; do
	case "$arg" in
	--check) check=1 ;;
	--browser) browser=1 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "deps.sh: unknown argument: $arg" >&2; exit 2 ;;
	esac
done

if [ "$browser" = 1 ]; then
	# NodeSource's nodejs ships npm itself and conflicts with Debian's npm.
	if command -v npm >/dev/null 2>&1 && [ "$(dpkg-query -W -f='${Status}' npm \
	    2>/dev/null)" != "install ok installed" ]; then
		BROWSER_PACKAGES=(chromium chromium-driver nodejs kannel)
	fi
	PACKAGES+=("${BROWSER_PACKAGES[@]}")
	TOOLS+=("${BROWSER_TOOLS[@]}")
fi

# mariadbd and friends live in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { printf 'deps: %s\n' "$*"; }

# Prints what is missing, one per line; prints nothing when all is there.
missing() {
	local p m t
	for p in "${PACKAGES[@]}"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != \
		    "install ok installed" ]; then
			echo "package $p"
		fi
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for m in "${PC_MODULES[@]}"; do
			pkg-config --exists "$m" || echo "pkg-config module $m"
		done
	else
		echo "tool pkg-config"
	fi
	for t in "${TOOLS[@]}"; do
		command -v "$t" >/dev/null 2>&1 || echo "tool $t"
	done
	# libFuzzer's runtime comes with libclang-rt-14-dev; clang finds it.
	if command -v clang >/dev/null 2>&1; then
		local rt
		rt=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
		case "$(uname -m)" in
		x86_64) [ -f "$rt" ] || echo "libFuzzer runtime (libclang-rt-14-dev)" ;;
		esac
	fi
}

if [ "$check" = 1 ]; then
	gaps=$(missing)
	if [ -z "$gaps" ]; then
		say "everything present"
		exit 0
	fi
	say "missing:"
	printf '%s\n' "$gaps" | sed 's/^/  /'
	exit 1
fi

if [ ! -r /etc/debian_version ]; then
	echo "deps.sh: this script is for Debian 12 (apt-get); install by hand:" >&2
	echo "  ${PACKAGES[*]}" >&2
	exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
		say "not root: using sudo"
	else
		echo "deps.sh: run as root, or install sudo" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_ok=1
say "apt-get update"
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
	apt_ok=0
fi
if [ "$apt_ok" = 1 ]; then
	say "apt-get install ${PACKAGES[*]}"
	if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-upgrade \
	    --no-install-recommends "${PACKAGES[@]}"; then
		apt_ok=0
	fi
fi

gaps=$(missing)
if [ -n "$gaps" ]; then
	say "still missing after install:"
	printf '%s\n' "$gaps" | sed 's/^/  /'
	exit 1
fi
if [ "$apt_ok" = 0 ]; then
	# A mirror hiccup must not fail a machine that has everything already.
	say "apt-get failed, but everything needed is present: continuing"
fi
say "done: everything present"
