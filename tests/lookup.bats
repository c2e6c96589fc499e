#!/usr/bin/env bats
# Finding the command. portbind resolves the command's path on the
# caller's behalf, so the lookup must answer exactly what the caller could
# find out alone: it runs with the caller's effective ids and no effective
# capability, and the exit code (0, 126, 127) is an answer too. The PATH
# search follows execvp(3). And the caller's time (a slow lookup, a
# SIGSTOP) is spent before the table is read, so a grant root removes
# meanwhile is not honoured.
load lib
bats_require_minimum_version 1.5.0

setup() {
	table <<'T'
[web]
port = 80
user = pbt_alice
T
	make_traversable "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_bgpids
}

# Run "$@" as pbt_alice: "STATUS LAST-LINE" in $answer.
ask_as_alice() {
	run as pbt_alice "$@"
	answer="$status ${lines[-1]:-}"
}

@test "no oracle through /proc/PID/{cwd,root,exe} of root's process: a file that exists and one that does not give pbt_alice the same answer" {
	local vault=$BATS_TEST_TMPDIR/vault pid f
	# Root's process works in a directory below one only root can search.
	mkdir -m 0700 "$vault"
	mkdir -m 0755 "$vault/sub"
	touch "$vault/sub/exists-here"
	chmod 0755 "$vault/sub/exists-here"
	bg_as root bash -c 'cd "$1" && exec sleep 60' _ "$vault/sub"
	pid=$bg
	for ((f = 0; f < 200; f++)); do
		[ "$(readlink "/proc/$pid/cwd")" = "$vault/sub" ] && break
		sleep 0.025
	done
	# Alone, pbt_alice cannot tell: both paths are out of her reach.
	run as pbt_alice test -e "/proc/$pid/cwd/exists-here"
	[ "$status" -ne 0 ] || fail "control: pbt_alice can reach root's cwd by herself"
	for f in cwd/exists-here cwd/missing-here "root$vault/sub/exists-here" "root$vault/sub/missing-here" exe; do
		ask_as_alice "$PB" --dry-run 8081 -- "/proc/$pid/$f"
		echo "/proc/PID/$f: $answer"
		[[ "$answer" == "126 portbind: /proc/$pid/$f: Permission denied" ]] ||
			fail "expected 126 Permission denied for /proc/PID/$f, as for pbt_alice alone"
	done
}

@test "the lookup runs with pbt_alice's permissions: a command in a directory only root can search is not found for her" {
	local vault=$BATS_TEST_TMPDIR/vault2
	mkdir -m 0711 "$vault"
	mkdir -m 0700 "$vault/inner"
	cp "$PROBE" "$vault/inner/pbt-cmd"
	run as pbt_alice "$PB" --dry-run 8081 -- "$vault/inner/pbt-cmd"
	expect_refused 126 "Permission denied"
	run as pbt_alice "$PB" --dry-run 8081 -- "$vault/inner/pbt-none"
	expect_refused 126 "Permission denied"
	run as pbt_alice env PATH="$vault/inner" "$PB" --dry-run 8081 -- pbt-cmd
	expect_refused 126 "command not found: Permission denied"
	# With securebits no_setuid_fixup the euid change leaves root's
	# capabilities effective: portbind must empty the set itself.
	run setpriv --securebits=+no_setuid_fixup --reuid=pbt_alice --regid=pbt_alice \
		--init-groups -- "$PB" --dry-run 8081 -- "$vault/inner/pbt-cmd"
	expect_refused 126 "Permission denied"
}

@test "PATH is searched as execvp does: a file that is not executable, or a directory, is passed over for the next entry" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b c=$BATS_TEST_TMPDIR/c
	mkdir -m 0755 "$a" "$b" "$c"
	printf '#!/bin/sh\necho impostor\n' >"$a/pbt-cmd"
	chmod 0644 "$a/pbt-cmd"
	mkdir -m 0755 "$c/pbt-cmd"
	cp "$PROBE" "$b/pbt-cmd"
	chmod 0755 "$b/pbt-cmd"
	run as pbt_alice env PATH="$a:$c:$b" "$PB" 8081 -- pbt-cmd
	expect_status 0
	expect_line "uid=59001,59001,59001"
	# Only files it cannot execute: 126, as execvp's EACCES.
	run as pbt_alice env PATH="$a:$c" "$PB" 8081 -- pbt-cmd
	expect_refused 126 "pbt-cmd: command not found: Permission denied"
	# Nothing at all: 127.
	run -127 as pbt_alice env PATH="$BATS_TEST_TMPDIR/none" "$PB" 8081 -- pbt-cmd
	expect_refused 127 "pbt-cmd: command not found"
}

@test "a grant root removes while the caller slows the command lookup is not honoured: the table is read after the lookup" {
	local d=$BATS_TEST_TMPDIR/slow body i path=
	# A PATH of long symbolic link chains: each entry costs the kernel
	# about a millisecond and finds nothing; the probe is found last.
	mkdir -m 0755 "$d" "$d/a"
	body=$(rep 780 x | sed 's/x/a\/..\//g')
	for ((i = 1; i < 39; i++)); do
		ln -s "$d/${body}l$((i + 1))" "$d/l$i"
	done
	ln -s "$d/${body}nothing" "$d/l39"
	# Relative entries, to stay far below the kernel's 128 KiB per string.
	for ((i = 0; i < 3000; i++)); do
		path+="l1/x:"
	done
	path+=$(dirname "$PROBE")
	cd "$d"
	bg_as pbt_alice env PATH="$path" "$PB" 80 -- probe
	sleep 1
	kill -0 "$bg" 2>/dev/null || fail "the lookup was not slow enough to test: $(cat "$out")"
	# Root takes the grant away while portbind is still looking.
	table <<'T'
[web]
port = 80
user = pbt_bob
T
	wait_pid "$bg" 30
	output=$(cat "$out")
	expect_refused 77 "permission denied"
	expect_port_free 80
}

# Run portbind as root for pbt_alice on port 80 with its first bind()
# held back 1.5 s (strace), as a caller's SIGSTOP between the table read
# and the bind would; run "$@" meanwhile. Status and output in $status,
# $output.
bind_late() {
	command -v strace >/dev/null || fail "strace is not installed (tests/deps installs it)"
	bg_as root strace -f -qq -o /dev/null -e trace=bind -e inject=bind:delay_enter=1500000:when=1 \
		-- "$PB" 80 pbt_alice -- "$PROBE"
	sleep 0.5
	"$@"
	wait_pid "$bg" 20
	output=$(cat "$out")
}

@test "a grant root removes while portbind is held between the table read and the bind: 75, nothing granted" {
	bind_late table <<'T'
[web]
port = 80
user = pbt_bob
T
	expect_refused 75 "the ownership table changed while portbind ran"
	expect_port_free 80
}

@test "a drop-in root adds while portbind is held before the bind: 75 as well; held without a change: granted" {
	bind_late dropin late.conf <<<$'[late]\nport = 9999\nuser = pbt_bob'
	expect_refused 75 "the ownership table changed while portbind ran"
	rm -f "$ETC/portbind.d/late.conf"
	bind_late true
	expect_status 0
	expect_line "uid=59001,59001,59001"
}
