#!/usr/bin/env bats
# State a root caller hands to a command it runs as another user, beyond
# ids, groups and capabilities (privileges.bats). Each item is either reset
# for the target or kept as root's deliberate choice, as SECURITY.md lists:
#  - reset: the session keyring (a new one of the target's own), the
#    personality flags the kernel clears on a set-id exec, and the working
#    directory (entered again by its path, as the target, or refused);
#  - kept: nice, umask, resource limits, oom_score_adj (what systemd's
#    Nice=, UMask=, Limit*= and OOMScoreAdjust= set for a unit).
load lib

setup() {
	table <<'T'
[web]
port = 80
user = pbt_alice
T
	command -v keyctl >/dev/null || fail "keyctl is not installed (tests/deps installs keyutils)"
	make_traversable "$BATS_TEST_TMPDIR"
}

# Keys this test put in root's per-uid keyrings, which outlive the test.
root_keys=()

teardown() {
	local k
	for k in "${root_keys[@]}"; do
		keyctl unlink "$k" @u >/dev/null 2>&1 || true
		keyctl unlink "$k" @us >/dev/null 2>&1 || true
	done
}

@test "root's session keyring is out of reach of a command run as pbt_alice: no key read, none planted" {
	# In a session keyring of the test's own, root holds a secret; the
	# command searches for it and tries to add a key root would then find.
	run keyctl session - bash -c '
		keyctl add user pbt_secret s3cret @s >/dev/null || exit 90
		"$0" 8081 pbt_alice -- /bin/bash -c "
			keyctl search @s user pbt_secret >/dev/null 2>&1 && echo found=yes || echo found=no
			keyctl add user pbt_planted x @s >/dev/null && echo added=own
			echo session=\$(keyctl rdescribe @s)"
		echo exit=$?
		keyctl search @s user pbt_planted >/dev/null 2>&1 && echo root_has_planted=yes ||
			echo root_has_planted=no' "$PB"
	expect_line "exit=0"
	expect_line "found=no"
	expect_line "added=own"
	expect_line "session=keyring;59001;59001;"
	expect_line "root_has_planted=no"
}

@test "root's user and user-session keyrings are out of reach of a command run as pbt_alice" {
	local u us
	u=$(keyctl add user pbt_user_secret u3cret @u)
	root_keys+=("$u")
	us=$(keyctl add user pbt_us_secret us3cret @us)
	root_keys+=("$us")
	run "$PB" 8081 pbt_alice -- /bin/bash -c "
		for k in $u $us; do keyctl print \$k >/dev/null 2>&1 && echo read=\$k || echo denied=\$k; done
		keyctl search @u user pbt_user_secret >/dev/null 2>&1 && echo found_u=yes || echo found_u=no
		keyctl search @us user pbt_us_secret >/dev/null 2>&1 && echo found_us=yes || echo found_us=no
		keyctl link @s $u >/dev/null 2>&1 && echo linked=yes || echo linked=no"
	expect_status 0
	expect_line "denied=$u"
	expect_line "denied=$us"
	expect_line "found_u=no"
	expect_line "found_us=no"
	expect_line "linked=no"
	expect_no_line "read="
}

@test "a user's own session keyring stays theirs: portbind leaves a caller other than root in it" {
	run as pbt_alice keyctl session - bash -c '
		keyctl add user pbt_mine m1ne @s >/dev/null || exit 90
		"$0" 8081 -- /bin/bash -c "keyctl search @s user pbt_mine >/dev/null && echo found=yes"' "$PB"
	expect_status 0
	expect_line "found=yes"
}

@test "root's working directory inside one pbt_alice cannot search: 71, the command never reaches what lies below" {
	local vault=$BATS_TEST_TMPDIR/vault
	mkdir -m 0700 "$vault"
	mkdir -m 0755 "$vault/pub"
	echo pbt-secret >"$vault/pub/file"
	chmod 0644 "$vault/pub/file"
	cd "$vault/pub"
	run "$PB" 8081 pbt_alice -- /bin/cat file
	expect_refused 71 "current directory $vault/pub: not accessible to uid 59001: Permission denied"
	expect_no_line pbt-secret
	expect_port_free 8081
}

@test "root's working directory that pbt_alice can reach: the command starts in it" {
	local d=$BATS_TEST_TMPDIR/open
	mkdir -m 0755 "$d"
	cd "$d"
	run "$PB" 8081 pbt_alice -- /bin/pwd -P
	expect_status 0
	[ "$output" = "$d" ] || fail "expected the command to start in $d"
}

@test "root's personality flags (ADDR_NO_RANDOMIZE) do not reach a command run as pbt_alice" {
	local copy=$BATS_TEST_TMPDIR/portbind-copy
	run setarch -R cat /proc/self/personality
	[ "$output" = 00040000 ] || fail "control: setarch -R did not set ADDR_NO_RANDOMIZE"
	# The kernel clears them when it executes the setuid portbind ...
	run setarch -R "$PB" 8081 pbt_alice -- /bin/cat /proc/self/personality
	expect_status 0
	[ "$output" = 00000000 ] || fail "expected no personality flag in the command"
	# ... and portbind itself when root runs a copy without the setuid bit.
	install -m 0755 "$PB" "$copy"
	run setarch -R "$copy" 8081 pbt_alice -- /bin/cat /proc/self/personality
	expect_status 0
	[ "$output" = 00000000 ] || fail "expected no personality flag from a copy without the setuid bit"
	# A caller other than root: the kernel clears them at the setuid exec.
	run as pbt_alice setarch -R "$PB" 8081 -- /bin/cat /proc/self/personality
	expect_status 0
	[ "$output" = 00000000 ] || fail "expected no personality flag in pbt_alice's command"
}

@test "kept as root's choice: nice, umask, resource limits and oom_score_adj reach the command" {
	run bash -c 'echo 300 >/proc/self/oom_score_adj && umask 027 && ulimit -n 512 &&
		exec nice -n 7 "$0" 8081 pbt_alice -- /bin/bash -c "
			echo nice=\$(nice) umask=\$(umask) nofile=\$(ulimit -n) oom=\$(cat /proc/self/oom_score_adj)"' "$PB"
	expect_status 0
	expect_line "nice=7 umask=0027 nofile=512 oom=300"
}
