#!/usr/bin/env bats
# Who the command runs as. A caller other than root stays exactly itself:
# its uid and gid (real, effective, saved) and the supplementary groups it
# holds in the kernel, not shed and not extended from the group database.
# Root must name USER and the command gets that user's identity with none
# of root's. Decisions use kernel credentials only, never USER, LOGNAME,
# HOME or SUDO_*.
load lib

setup() {
	table <<'T'
[webgrp]
port = 8444
group = pbt_web
[devs]
port = 8443
group = pbt_dev
[bobs]
port = 9000
user = pbt_bob
T
}

# Run a command as USER with exactly the supplementary groups GROUPS
# (comma-separated gids, or "" for none) instead of the database ones.
as_groups() {
	local u=$1 g=$2
	shift 2
	if [ -z "$g" ]; then
		setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- "$@"
	else
		setpriv --reuid="$u" --regid="$(id -g "$u")" --groups="$g" -- "$@"
	fi
}

# The probe ran as uid U and gid G (real, effective and saved alike) with
# exactly the supplementary groups GROUPS (sorted, comma-separated).
expect_ident() {
	expect_status 0
	[ "$(field uid)" = "$1,$1,$1" ] || fail "expected uid=$1,$1,$1"
	[ "$(field gid)" = "$2,$2,$2" ] || fail "expected gid=$2,$2,$2"
	[ "$(field groups)" = "$3" ] || fail "expected groups=$3"
	[ "$(field cap_prm)" = 0000000000000000 ] || fail "expected no permitted capability"
	[ "$(field setuid0)" = fail ] || fail "expected setuid(0) to fail"
}

# Kernel groups as the probe prints them: sorted numerically, commas.
sorted() {
	tr ', ' '\n\n' <<<"$1" | sed '/^$/d' | sort -n | paste -sd, -
}

@test "a caller other than root runs as itself: ids and its database groups, exactly" {
	local u
	for u in pbt_alice pbt_bob pbt_carol pbt_dave; do
		echo "caller is $u"
		run as "$u" "$PB" 8080 -- "$PROBE"
		expect_ident "$(id -u "$u")" "$(id -g "$u")" "$(sorted "$(id -G "$u")")"
		expect_port_free 8080
	done
}

@test "the database groups are what the test users hold (guards the test above)" {
	[ "$(sorted "$(id -G pbt_alice)")" = 59001,59050 ] || fail "pbt_alice: $(id -G pbt_alice)"
	[ "$(sorted "$(id -G pbt_bob)")" = 59051 ] || fail "pbt_bob: $(id -G pbt_bob)"
	[ "$(sorted "$(id -G pbt_carol)")" = 59003,59050,59051 ] || fail "pbt_carol: $(id -G pbt_carol)"
	[ "$(sorted "$(id -G pbt_dave)")" = 59004 ] || fail "pbt_dave: $(id -G pbt_dave)"
}

@test "a caller that dropped a supplementary group keeps the reduced set" {
	run as_groups pbt_alice 59001 "$PB" 8080 -- "$PROBE"
	expect_ident 59001 59001 59001
	run as_groups pbt_carol 59003,59051 "$PB" 8080 -- "$PROBE"
	expect_ident 59003 59003 59003,59051
}

@test "a caller with no supplementary group at all gets none" {
	run as_groups pbt_carol "" "$PB" 8080 -- "$PROBE"
	expect_ident 59003 59003 ""
}

@test "a caller holding a group the database does not give it keeps it, and only it" {
	run as_groups pbt_alice 59001,59050,59051 "$PB" 8080 -- "$PROBE"
	expect_ident 59001 59001 59001,59050,59051
}

@test "the decision uses the groups the caller holds, not the database ones" {
	# pbt_alice is in pbt_web in the database, but has dropped it.
	run as_groups pbt_alice 59001 "$PB" 8444 -- "$PROBE"
	expect_refused 77 "permission denied"
	expect_port_free 8444
	# With it, granted.
	run as pbt_alice "$PB" 8444 -- "$PROBE"
	expect_ident 59001 59001 59001,59050
	[ "$(field env.LISTEN_FDNAMES)" = webgrp ] || fail "LISTEN_FDNAMES"
	# pbt_alice holding pbt_dev (not hers in the database): granted as a member.
	run as_groups pbt_alice 59001,59051 "$PB" 8443 -- "$PROBE"
	expect_ident 59001 59001 59001,59051
	[ "$(field env.LISTEN_FDNAMES)" = devs ] || fail "LISTEN_FDNAMES"
	expect_port_free 8443
}

@test "a caller other than root may name itself, in every form" {
	local who
	for who in pbt_alice '#59001' pbt_alice:pbt_alice 'pbt_alice:#59001' '#59001:pbt_alice'; do
		echo "USER is '$who'"
		run as pbt_alice "$PB" 8080 "$who" -- "$PROBE"
		expect_ident 59001 59001 59001,59050
	done
	# Naming itself does not bring back a dropped group.
	run as_groups pbt_alice 59001 "$PB" 8080 pbt_alice -- "$PROBE"
	expect_ident 59001 59001 59001
}

@test "a caller other than root may not name another user or group" {
	local who
	for who in pbt_bob '#59002' '#0' root pbt_alice:pbt_web 'pbt_alice:#0' 'pbt_alice:#59050' \
		pbt_alice:pbt_dev; do
		echo "USER is '$who'"
		run as pbt_alice "$PB" 8080 "$who" -- "$PROBE"
		expect_refused 77 "only root may"
		expect_port_free 8080
	done
}

@test "a caller other than root naming an unknown user or group: 67" {
	run as pbt_alice "$PB" 8080 pbt_nosuchuser -- "$PROBE"
	expect_refused 67 "unknown user 'pbt_nosuchuser'"
	run as pbt_alice "$PB" 8080 pbt_alice:pbt_nosuchgroup -- "$PROBE"
	expect_refused 67 "unknown group 'pbt_nosuchgroup'"
	expect_port_free 8080
}

@test "root running as pbt_carol gets her uid, gid and database groups, none of root's" {
	run setpriv --groups=0,4 -- "$PB" 8080 pbt_carol -- "$PROBE"
	expect_ident 59003 59003 59003,59050,59051
	[[ ,$(field groups), != *,0,* ]] || fail "root's group 0 reached the command"
	[[ ,$(field groups), != *,4,* ]] || fail "root's group 4 reached the command"
	expect_port_free 8080
}

@test "root running as pbt_alice is decided on her database groups" {
	run setpriv --groups=0,4,59051 -- "$PB" 8444 pbt_alice -- "$PROBE"
	expect_ident 59001 59001 59001,59050
	[ "$(field env.LISTEN_FDNAMES)" = webgrp ] || fail "LISTEN_FDNAMES"
	# root's own pbt_dev membership is not pbt_alice's
	run setpriv --groups=0,4,59051 -- "$PB" 8443 pbt_alice -- "$PROBE"
	expect_refused 77 "permission denied"
	expect_port_free 8443
}

@test "root with USER:GROUP: GROUP is the primary gid" {
	run setpriv --groups=0,4 -- "$PB" 8080 pbt_carol:pbt_web -- "$PROBE"
	expect_ident 59003 59050 59050,59051
	run setpriv --groups=0,4 -- "$PB" 8080 'pbt_dave:#59051' -- "$PROBE"
	expect_ident 59004 59051 59051
	run setpriv --groups=0,4 -- "$PB" 8080 pbt_bob:pbt_dev -- "$PROBE"
	expect_ident 59002 59051 59051
	expect_port_free 8080
}

@test "root with #UID of a user in the database" {
	run "$PB" 8080 '#59004' -- "$PROBE"
	expect_ident 59004 59004 59004
	run "$PB" 8080 '#59003' -- "$PROBE"
	expect_ident 59003 59003 59003,59050,59051
	run "$PB" 8080 '#59004:pbt_web' -- "$PROBE"
	expect_ident 59004 59050 59050
}

@test "root with #UID that has no passwd entry needs :GROUP" {
	getent passwd 59999 >/dev/null && fail "uid 59999 exists on this system"
	run "$PB" 8080 '#59999' -- "$PROBE"
	expect_refused 67 "no passwd entry"
	expect_port_free 8080
}

@test "root with #UID:#GID without passwd entry gets only that gid" {
	run setpriv --groups=0,4 -- "$PB" 8080 '#59999:#59004' -- "$PROBE"
	expect_ident 59999 59004 59004
	expect_port_free 8080
}

@test "root with #UID:GROUP without passwd entry gets only that group" {
	run setpriv --groups=0,4 -- "$PB" 8080 '#59999:pbt_web' -- "$PROBE"
	expect_ident 59999 59050 59050
	expect_port_free 8080
}

@test "root naming an unknown user or group: 67, nothing bound" {
	run "$PB" 8080 pbt_carol:pbt_nosuchgroup -- "$PROBE"
	expect_refused 67 "unknown group 'pbt_nosuchgroup'"
	run "$PB" 8080 pbt_nosuchuser -- "$PROBE"
	expect_refused 67 "unknown user 'pbt_nosuchuser'"
	run "$PB" 8080 pbt_nosuchuser:pbt_web -- "$PROBE"
	expect_refused 67 "unknown user 'pbt_nosuchuser'"
	expect_port_free 8080
}

@test "root must name USER, and never uid 0" {
	run "$PB" 8080 -- "$PROBE"
	expect_refused 64 "root must name the USER"
	run "$PB" 8080 root -- "$PROBE"
	expect_refused 77 "uid 0"
	run "$PB" 8080 '#0' -- "$PROBE"
	expect_refused 77 "uid 0"
	run "$PB" 8080 'root:pbt_web' -- "$PROBE"
	expect_refused 77 "uid 0"
	expect_port_free 8080
}

@test "USER, LOGNAME, HOME and SUDO_* of another user change nothing for a caller" {
	local -a bob=(USER=pbt_bob LOGNAME=pbt_bob HOME=/nonexistent/pbt_bob SUDO_UID=59002
		SUDO_GID=59051 SUDO_USER=pbt_bob SUDO_COMMAND=/bin/sh)
	run as pbt_alice env "${bob[@]}" "$PB" 9000 -- "$PROBE"
	expect_refused 77 "permission denied"
	expect_port_free 9000
	run as pbt_alice env "${bob[@]}" "$PB" 8443 -- "$PROBE"
	expect_refused 77 "permission denied"
	run as pbt_alice env "${bob[@]}" "$PB" 8080 pbt_bob -- "$PROBE"
	expect_refused 77 "only root may"
	run as pbt_alice env "${bob[@]}" "$PB" 8080 -- "$PROBE"
	expect_ident 59001 59001 59001,59050
	run as pbt_alice env "${bob[@]}" "$PB" --list
	expect_status 0
	expect_no_line "bobs"
	expect_line "webgrp"
	expect_port_free 8080
}

@test "SUDO_* and USER of a user do not stand in for root's USER argument" {
	local -a alice=(USER=pbt_alice LOGNAME=pbt_alice SUDO_UID=59001 SUDO_GID=59001
		SUDO_USER=pbt_alice)
	run env "${alice[@]}" "$PB" 8080 -- "$PROBE"
	expect_refused 64 "root must name the USER"
	run env "${alice[@]}" "$PB" 9000 pbt_bob -- "$PROBE"
	expect_ident 59002 59051 59051
	[ "$(field env.LISTEN_FDNAMES)" = bobs ] || fail "LISTEN_FDNAMES"
	expect_port_free 9000
}

# Run the bash script $1 in a private mount namespace where /etc/passwd,
# /etc/group and /etc/nsswitch.conf are the files $BATS_TEST_TMPDIR/db/*
# (copies of the real ones unless the test changed them first), with PB,
# PROBE and "$@" after the script. Callers inside use numeric ids.
with_db() {
	local script=$1
	shift
	PB=$PB PROBE=$PROBE DB=$BATS_TEST_TMPDIR/db unshare -m -- bash -c '
		set -e
		for f in passwd group nsswitch.conf; do
			mount --bind "$DB/$f" "/etc/$f"
		done
		set +e
		eval "$1"' _ "$script" "$@"
}

db_copy() {
	mkdir -p "$BATS_TEST_TMPDIR/db"
	cp /etc/passwd /etc/group /etc/nsswitch.conf "$BATS_TEST_TMPDIR/db/"
	chmod 0644 "$BATS_TEST_TMPDIR/db/"*
}

# pbt_alice as the kernel knows her, whatever the databases say.
ALICE='setpriv --reuid=59001 --regid=59001 --groups=59001,59050 --'

@test "aliases of uid 0, and of pbt_alice with another primary group, are other identities" {
	db_copy
	cat >>"$BATS_TEST_TMPDIR/db/passwd" <<'P'
pbt_toor:x:0:0:uid 0 alias:/nonexistent:/usr/sbin/nologin
pbt_alias:x:59001:59050:alice with another primary group:/nonexistent:/usr/sbin/nologin
pbt_alice2:x:59001:59001:alice under another name:/nonexistent:/usr/sbin/nologin
P
	echo 'pbt_wheel0:x:0:pbt_alice' >>"$BATS_TEST_TMPDIR/db/group"
	local who
	for who in pbt_toor pbt_toor:pbt_alice pbt_alice:pbt_wheel0 '#0:pbt_alice'; do
		echo "pbt_alice names $who"
		run with_db "$ALICE"' "$PB" 8080 "$2" -- "$PROBE"' "$who"
		expect_refused 77 "only root may"
	done
	# same uid, but not her primary group: the documented rule is "same
	# uid, same primary gid"
	echo "pbt_alice names pbt_alias"
	run with_db "$ALICE"' "$PB" 8080 pbt_alias -- "$PROBE"'
	expect_refused 77 "only root may"
	for who in pbt_toor pbt_toor:pbt_web; do
		echo "root names $who"
		run with_db '"$PB" 8080 "$2" -- "$PROBE"' "$who"
		expect_refused 77 "uid 0"
	done
	# a name with her own uid and primary gid is herself: her kernel groups
	run with_db "$ALICE"' "$PB" 8080 pbt_alice2 -- "$PROBE"'
	expect_ident 59001 59001 59001,59050
	expect_unbound 8080
}

@test "lookup failures are errors, never uid 0 or membership of every group" {
	db_copy
	table <<'T'
[bygid]
port = 8444
gid = 59050
[byuid]
port = 9000
uid = 59001
T
	# no passwd or group service at all: every lookup fails
	printf 'passwd: pbtnosuchservice\ngroup: pbtnosuchservice\nshadow: files\n' \
		>"$BATS_TEST_TMPDIR/db/nsswitch.conf"
	run with_db '"$PB" 8444 pbt_alice -- "$PROBE"'
	expect_refused 67 "unknown user"
	run with_db '"$PB" 8444 pbt_alice:pbt_web -- "$PROBE"'
	expect_refused 67 "unknown user"
	run with_db '"$PB" 8444 "#59001:pbt_web" -- "$PROBE"'
	expect_refused 67 "unknown group"
	# root naming ids: that gid only, no group from a database that failed
	run with_db '"$PB" 8444 "#59001:#59001" -- "$PROBE"'
	expect_refused 77 "permission denied"
	run with_db '"$PB" 9000 "#59001:#59001" -- "$PROBE"'
	expect_ident 59001 59001 59001
	# pbt_alice herself: decided on her kernel ids and groups alone
	run with_db "$ALICE"' "$PB" 8444 -- "$PROBE"'
	expect_ident 59001 59001 59001,59050
	run with_db "$ALICE"' "$PB" 8080 pbt_alice -- "$PROBE"'
	expect_refused 67 "unknown user"
	# a table naming users or groups cannot be resolved: rejected whole
	table <<'T'
[web]
port = 8444
group = pbt_web
T
	run with_db "$ALICE"' "$PB" 8444 -- "$PROBE"'
	expect_refused 78
	run with_db '"$PB" --check'
	expect_status 78
	expect_line "unknown group 'pbt_web'"
	# an empty group file: pbt_carol's groups are her primary one only
	cp /etc/nsswitch.conf "$BATS_TEST_TMPDIR/db/nsswitch.conf"
	: >"$BATS_TEST_TMPDIR/db/group"
	table <<'T'
[bygid]
port = 8444
gid = 59050
T
	run with_db '"$PB" 8444 pbt_carol -- "$PROBE"'
	expect_refused 77 "permission denied"
	run with_db '"$PB" 8080 pbt_carol -- "$PROBE"'
	expect_ident 59003 59003 59003
	expect_unbound 8444
	expect_unbound 9000
	expect_unbound 8080
}
