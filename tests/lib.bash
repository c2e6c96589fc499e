# Shared by every suite: paths of the installed portbind and probe, the
# table, running as a test user, and assertions that print what they saw.

PB=$PB_PREFIX/bin/portbind
PROBE=$PB_PREFIX/libexec/probe
ETC=$PB_PREFIX/etc

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
