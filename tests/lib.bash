# Shared by every suite: paths of the installed portbind and probe, the
# table, running as a test user, and assertions that print what they saw.

PB=$PB_PREFIX/bin/portbind
PROBE=$PB_PREFIX/libexec/probe
ETC=$PB_PREFIX/etc

# Tests run from the private prefix, which every test user can enter,
# wherever the clone lives: a command root runs as another user must be
# able to enter portbind's current directory again as that user.
cd "$PB_PREFIX" || exit 1

# The ownership table from stdin (root-owned, 0644); portbind.d emptied.
table() {
	cat > "$ETC/portbind.conf"
	chown root:root "$ETC/portbind.conf"
	chmod 0644 "$ETC/portbind.conf"
	rm -rf "$ETC/portbind.d"
	install -d -m 0755 "$ETC/portbind.d"
}

# A drop-in file portbind.d/NAME from stdin.
dropin() {
	cat > "$ETC/portbind.d/$1"
	chmod 0644 "$ETC/portbind.d/$1"
}

# Run a command as a test user: its real uid, primary gid and the groups
# the database gives it, as a login would.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
}

fail() {
	printf '%s\n' "$@" "--- status: ${status:-}" "--- output:" "${output:-}" >&2
	return 1
}

expect_status() {
	[ "$status" -eq "$1" ] || fail "expected exit status $1"
}

# The output holds a line containing $1 (fixed string).
expect_line() {
	grep -qF -- "$1" <<<"$output" || fail "expected a line containing: $1"
}

expect_no_line() {
	! grep -qF -- "$1" <<<"$output" || fail "expected no line containing: $1"
}

# A refusal: exit $1, exactly one line "portbind: ..." (containing $2 if
# given), and the command never ran (the probe prints uid=...).
expect_refused() {
	expect_status "$1"
	[ "$(grep -c . <<<"$output")" -eq 1 ] || fail "expected exactly one line of output"
	[[ "$output" == "portbind: "* ]] || fail "expected 'portbind: ...'"
	[ -z "${2:-}" ] || expect_line "$2"
	expect_no_line "uid="
}

# The value of probe field $1 (e.g. "uid", "fd.3", "env.LISTEN_FDS").
field() {
	sed -n "s/^$1=//p" <<<"$output" | head -n 1
}

# Nothing listens or is bound on port $1 (tcp and udp) any more.
expect_port_free() {
	local s
	s=$(ss -Hantu "sport = :$1")
	[ -z "$s" ] || fail "port $1 still in use: $s"
}

# A private /dev (tmpfs) in a private mount namespace, with the device
# nodes a run needs bound from the real one, so that /dev/log is whatever
# the test makes it. Runs the bash script $1 there with "$@" after it.
with_private_dev() {
	local script=$1
	shift
	mkdir -p "$BATS_TEST_TMPDIR/realdev"
	PB=$PB PROBE=$PROBE REALDEV=$BATS_TEST_TMPDIR/realdev unshare -m -- bash -c '
		set -e
		mount --bind /dev "$REALDEV"
		mount -t tmpfs -o mode=0755 pbtdev /dev
		for n in null zero full random urandom tty; do
			touch /dev/$n
			mount --bind "$REALDEV/$n" /dev/$n
		done
		ln -s /proc/self/fd /dev/fd
		set +e
		eval "$1"' _ "$script" "$@"
}

# Nothing listens on TCP port $1 and nothing is bound on UDP port $1 (TIME_WAIT does not count).
expect_unbound() {
	local s
	s=$(ss -Hltun "sport = :$1")
	[ -z "$s" ] || fail "port $1 still bound: $s"
}

# Port $1 has no socket at all, once closing connections are gone (at most 2 s).
expect_settled() {
	local i
	for ((i = 0; i < 80; i++)); do
		[ -z "$(ss -Hantu "sport = :$1")" ] && break
		sleep 0.025
	done
	expect_port_free "$1"
}

# Give others search access to root's directories from $1 up to /, for the test and daemon users.
make_traversable() {
	local d=$1
	while [ "$d" != / ]; do
		[ "$(stat -c %u "$d")" != 0 ] || [ $((0$(stat -c %a "$d") & 1)) = 1 ] || chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# The pids of this test's background processes (bg_as adds to it).
bgpids=()

# Start "$@" as user $1 ("root": as is) in the background, output to $out; $bg its pid, fd 3 closed.
bg_as() {
	local u=$1
	shift
	out=$BATS_TEST_TMPDIR/out.$((${#bgpids[@]} + 1))
	if [ "$u" = root ]; then
		"$@" >"$out" 2>&1 3>&- &
	else
		setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@" >"$out" 2>&1 3>&- &
	fi
	bg=$!
	bgpids+=("$bg")
}

# Wait (at most 5 s, while $bg lives) until PROTO $1 (tcp: listening, udp: bound) port $2 is bound.
wait_bound() {
	local i opt=-Hltn
	[ "$1" = udp ] && opt=-Hlun
	for ((i = 0; i < 200; i++)); do
		[ -n "$(ss $opt "sport = :$2")" ] && return 0
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.025
	done
	fail "nothing came to be bound on $1 port $2: $(cat "$out")"
}

# Process $1 ends within $2 seconds (looked at every 50 ms).
ends_within() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$1" 2>/dev/null
}

# SIGTERM to process $1, at most 5 s to end, then SIGKILL.
terminate() {
	kill "$1" 2>/dev/null || return 0
	ends_within "$1" 5 || kill -KILL "$1" 2>/dev/null || true
}

# Stop background process $1 (terminate it and reap it), whatever its status.
stop() {
	terminate "$1"
	wait "$1" 2>/dev/null || true
}

# Wait at most $2 seconds (default 5) for background process $1 to end by
# itself; $status is its exit status. One still running then is terminated
# (its status says by which signal) and named on stderr.
wait_pid() {
	ends_within "$1" "${2:-5}" || {
		echo "process $1 still ran after ${2:-5} s: terminated" >&2
		terminate "$1"
	}
	status=0
	wait "$1" || status=$?
}

# Stop every process in bgpids (for teardown).
kill_bgpids() {
	local p
	for p in "${bgpids[@]}"; do
		stop "$p"
	done
}

# bats 1.8 ends a test that ran past BATS_TEST_TIMEOUT by killing the
# test's own children (pkill -P) only: a grandchild, as anything under
# `run` is, lives on, keeps the output pipe open, and the run hangs. This
# replaces that step: every descendant of the test, stopped first so that
# none forks or is reparented unseen, then killed. (The countdown process
# that calls it, $BASHPID, is spared; a process whose parent has already
# ended is left to tests/run, which ends the run's network namespace.)
bats_kill_childprocesses_of() {
	local top=$1 pid ppid more=1
	local -A tree=(["$top"]=1)
	# The test's exit sends SIGABRT to end the countdown: not before the
	# processes stopped here are killed.
	trap '' ABRT
	while [ -n "$more" ]; do
		more=
		while read -r pid ppid; do
			[ -n "${tree[$ppid]:-}" ] && [ -z "${tree[$pid]:-}" ] && [ "$pid" != "$BASHPID" ] ||
				continue
			# (bats runs this under set -e: a process already gone is skipped)
			kill -STOP "$pid" 2>/dev/null || continue
			tree[$pid]=1
			more=1
		done < <(ps -e -o pid= -o ppid=)
	done
	unset "tree[$top]"
	[ ${#tree[@]} -eq 0 ] || kill -KILL "${!tree[@]}" 2>/dev/null || true
}

# "NAME=OLD" of each sysctl set_sysctl changed, for restore_sysctls.
saved_sysctls=()

# Set sysctl $1 to $2 (in the test run's network namespace), keeping the old value.
set_sysctl() {
	saved_sysctls+=("$1=$(sysctl -n "$1")")
	sysctl -q -w "$1=$2"
}

# Restore the sysctls set_sysctl changed, newest first; fails if one could not be restored.
restore_sysctls() {
	local i rc=0
	for ((i = ${#saved_sysctls[@]} - 1; i >= 0; i--)); do
		sysctl -q -w "${saved_sysctls[$i]}" || rc=1
	done
	return "$rc"
}

# Run "$@" on a new pseudo-terminal as its session leader (as script(1) does),
# 60 s at most; output has CRs removed.
on_tty() {
	command -v script >/dev/null || skip "script (bsdutils) is not installed"
	local cmd
	cmd=$(printf '%q ' "$@")
	# --foreground: script may need the caller's terminal. Killing script
	# hangs up the new terminal, which ends the session under it.
	run timeout --foreground --kill-after=5 60 script -qec "$cmd" /dev/null
	output=${output//$'\r'/}
}

# $1 copies of the character $2.
rep() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# Run the client "$@" until it succeeds, for about 10 s at most while the
# daemon $bg lives; its output is left in $output (the daemon's in $out).
eventually() {
	local end=$((SECONDS + 11))
	while ((SECONDS < end)); do
		output=$("$@" 2>&1) && return 0
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	fail "the client never succeeded: $*" "--- daemon output:" "$(cat "$out")"
}

# Process $1 is the executable $3 running as user $2 (real, effective,
# saved and filesystem uid and gid), with every capability set empty and
# no_new_privs on.
expect_unprivileged() {
	local pid=$1 user=$2 exe uid gid c
	exe=$(readlink -f "$3")
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	output=$(cat "/proc/$pid/status") || fail "process $pid is gone"
	[ "$(readlink "/proc/$pid/exe")" = "$exe" ] || fail "process $pid is not $exe: $(readlink "/proc/$pid/exe")"
	[ "$uid" -ne 0 ] || fail "$user is root"
	expect_line "$(printf 'Uid:\t%s\t%s\t%s\t%s' "$uid" "$uid" "$uid" "$uid")"
	expect_line "$(printf 'Gid:\t%s\t%s\t%s\t%s' "$gid" "$gid" "$gid" "$gid")"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		expect_line "$(printf '%s:\t0000000000000000' "$c")"
	done
	expect_line "$(printf 'NoNewPrivs:\t1')"
}
