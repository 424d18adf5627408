# Helpers for the sealgate integration tests (sourced after lib.sh; not a
# test itself). Each test runs against the backend in SG_BACKEND:
#   sqlite   (default) a database file in the test's scratch directory
#   mariadb  a fresh database on the private server of tests/run.sh
#            (SG_TEST_MARIADB_*); skipped with exit 77 when none runs.

SEALGATE=$SG_BUILD_DIR/gateway/sealgate
SIM=$SG_BUILD_DIR/smsc-sim/smsc-sim
BENCH=$SG_BUILD_DIR/smsc-sim/smpp-bench/smpp-bench
[ -x "$SEALGATE" ] || sg_fail "sealgate not built"
[ -x "$SIM" ] || sg_fail "smsc-sim not built"
[ -x "$BENCH" ] || sg_fail "smpp-bench not built"
command -v jq >/dev/null || sg_fail "jq is needed"
SG_BACKEND=${SG_BACKEND:-sqlite}
# The hash of "demopass" (conf/sealgate.yaml).
GW_HASH='$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ==$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw='

# gw_storage_url: prints the storage url for this test's backend.
gw_storage_url() {
	case "$SG_BACKEND" in
	sqlite)
		echo "sqlite:$SG_TMP/var/sealgate.db" ;;
	mariadb)
		if [ -z "${SG_TEST_MARIADB_DSN:-}" ]; then
			echo "skip: SG_TEST_MARIADB_DSN is not set" >&2
			exit 77
		fi
		local db="sealgate_test_gw_$$_$RANDOM"
		mariadb --no-defaults -h "$SG_TEST_MARIADB_HOST" \
		    -P "$SG_TEST_MARIADB_PORT" -u "$SG_TEST_MARIADB_USER" \
		    -p"$SG_TEST_MARIADB_PASSWORD" -e "CREATE DATABASE $db" ||
		    sg_fail "cannot create database $db"
		echo "mariadb://$SG_TEST_MARIADB_USER:$SG_TEST_MARIADB_PASSWORD@$SG_TEST_MARIADB_HOST:$SG_TEST_MARIADB_PORT/$db" ;;
	*)
		sg_fail "unknown SG_BACKEND $SG_BACKEND" ;;
	esac
}

# gw_one_link_config LEVEL [ACCOUNT_OPTIONS]: $SG_TMP/gw.yaml for
# sealgate on $GP/$AP with storage $URL and log level LEVEL, account demo
# (with the extra flow-map options given, e.g. 'window: 10'), and one
# link "sim" to 127.0.0.1:$SP that every route goes to; no MO routes.
gw_one_link_config() {
	cat >"$SG_TMP/gw.yaml" <<YAML
listeners:
  smpp: {port: $GP}
  admin: {port: $AP}
  handset_api: {enabled: false}
storage: {url: "$URL"}
log: {level: $1}
accounts:
  - {system_id: demo, password_hash: "$GW_HASH"${2:+, $2}}
links:
  - {name: sim, host: 127.0.0.1, port: $SP, system_id: gw, password: pw}
groups:
  g: [sim]
routes:
  - {prefix: "", groups: [g]}
mo_routes: []
YAML
}

# gw_run_with_sim: smsc-sim on $SP/$HP, then sealgate with
# $SG_TMP/gw.yaml (gw_one_link_config), its link bound.
gw_run_with_sim() {
	sg_start sim "$SIM" --smpp-port "$SP" --http-port "$HP"
	sg_wait_port "$SP"
	gw_start gw "$SG_TMP/gw.yaml"
	gw_wait_bound 1
}

# gw_start NAME CONFIG: starts sealgate, waits for its SMPP port ($GP);
# fails at once (with its log) if sealgate exits instead.
gw_start() {
	sg_start "$1" "$SEALGATE" -c "$2"
	GW_PID=$SG_LAST_PID
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$GP") 2>/dev/null; then
			return 0
		fi
		kill -0 "$GW_PID" 2>/dev/null ||
		    sg_fail "sealgate exited at start: $(tail -n 3 "$SG_TMP/$1.log")"
		sleep 0.05
	done
	sg_fail "sealgate does not listen on $GP after 15s"
}

# gw_stop: SIGTERM, expects exit 0 within 20 s.
gw_stop() {
	kill -TERM "$GW_PID"
	sg_wait_exit "$GW_PID" 20
	sg_assert_eq "$SG_EXIT_STATUS" 0 "sealgate exit status after SIGTERM"
}

# gw_wait_log NAME TEXT [SECONDS]: until NAME.log contains TEXT.
gw_wait_log() {
	local secs=${3:-10}
	for _ in $(seq 1 $((secs * 20))); do
		grep -qF -- "$2" "$SG_TMP/$1.log" 2>/dev/null && return 0
		sleep 0.05
	done
	sg_fail "'$2' not in $1.log after ${secs}s"
}

# gw_wait_bound LINKS [SECONDS]: until /status shows LINKS bound sessions.
gw_wait_bound() {
	local want=$1 secs=${2:-10} n
	for _ in $(seq 1 $((secs * 10))); do
		n=$(curl -sf "http://127.0.0.1:$AP/status" |
		    jq '[.links[].bound] | add' 2>/dev/null || echo -1)
		[ "$n" = "$want" ] && return 0
		sleep 0.1
	done
	sg_fail "links not bound ($n of $want) after ${secs}s"
}

# gw_load ARGS...: smpp-bench load against sealgate; J = its JSON line,
# RC = its exit status.
gw_load() {
	RC=0
	"$BENCH" load --port "$GP" --json --no-progress "$@" \
	    >"$SG_TMP/load.json" 2>"$SG_TMP/load.err" || RC=$?
	J=$(tail -n 1 "$SG_TMP/load.json")
	jq -e . >/dev/null <<<"$J" || sg_fail "not JSON: $J ($(cat "$SG_TMP/load.err"))"
}

# gw_accounted WHAT: every submit got exactly one answer, none unsent.
gw_accounted() {
	jq -e '.responses + .timeouts + .aborted == .submitted and
	    .not_sent == 0' >/dev/null <<<"$J" ||
	    sg_fail "$1: not every submit answered once: $J"
}

# gw_send ARGS...: smpp-bench send against sealgate; OUT, RC.
gw_send() {
	RC=0
	OUT=$("$BENCH" send --port "$GP" "$@" 2>&1) || RC=$?
}

# gw_metrics_format TEXT: /metrics in the Prometheus text format as
# strict parsers read it: every family with one HELP and one TYPE, before
# its samples; every sample of a family in one group; a histogram with
# _bucket, _sum and _count, a summary with _sum and _count. Fails the
# test otherwise.
gw_metrics_format() {
	local err
	err=$(awk '
	function bad(m) { if (msg == "") msg = m }
	/^# (HELP|TYPE) / {
		k = $2 " " $3
		if (k in meta) bad("second " $2 " line for " $3)
		if ($3 in seen) bad($2 " line for " $3 " after its samples")
		meta[k] = 1
		if ($2 == "TYPE") type[$3] = $4
		next
	}
	/^#/ || NF == 0 { next }
	{
		name = $0
		sub(/[{ ].*/, "", name)
		fam = name
		base = name
		if (match(name, /_(bucket|sum|count)$/)) {
			sfx = substr(name, RSTART + 1)
			sub(/_(bucket|sum|count)$/, "", base)
			if (type[base] == "histogram" || type[base] == "summary") {
				fam = base
				part[fam, sfx] = 1
			}
		}
		if (!(fam in type)) bad("no TYPE line for " fam)
		if (fam != cur) {
			if (fam in seen) bad("family " fam " split into two groups")
			seen[fam] = 1
			cur = fam
		}
	}
	END {
		for (f in type) {
			if (type[f] == "histogram" && !((f, "bucket") in part))
				bad("histogram " f " without _bucket")
			if ((type[f] == "histogram" || type[f] == "summary") &&
			    (!((f, "sum") in part) || !((f, "count") in part)))
				bad(type[f] " " f " without _sum or _count")
		}
		print msg
	}' <<<"$1")
	[ -z "$err" ] || sg_fail "/metrics text format: $err"
}
