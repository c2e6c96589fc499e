#!/usr/bin/env bats
# The README's "Using portbind from a user's shell", as written, with the
# table contrib/user.conf (TCP port 70 for uid 1000, Debian's first user)
# and the probe standing in for ~/bin/gopherd. uid 1000 may have no passwd
# entry here: portbind decides on the kernel's ids alone.
load lib

setup() {
	table < "$BATS_TEST_DIRNAME/../contrib/user.conf"
	# uid 1000's "home", where it can reach it (the bats run directory is root's)
	HOME1000=$PB_PREFIX/home-1000
	install -d -m 0755 -o 1000 -g 1000 "$HOME1000"
}

teardown() {
	rm -rf "$HOME1000"
}

as_uid1000() {
	setpriv --reuid=1000 --regid=1000 --clear-groups -- "$@"
}

@test "README, user's shell: --list shows the section that gives port 70 to uid 1000" {
	run as_uid1000 "$PB" --list
	expect_status 0
	expect_line "alice            tcp      port=70 address=any program=any"
	run as pbt_alice "$PB" --list
	expect_status 0
	expect_no_line "port=70"
}

@test "README, user's shell: --dry-run 70 explains the grant, binds and runs nothing" {
	run as_uid1000 "$PB" --dry-run 70 -- "$PROBE"
	expect_status 0
	expect_line "70/tcp name=alice: granted by [alice]"
	expect_no_line "uid="
	expect_port_free 70
}

@test "README, user's shell: portbind 70=gopher runs the daemon as the user with its socket named gopher" {
	run as_uid1000 "$PB" 70=gopher -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = "1000,1000,1000" ] || fail "the daemon must stay uid 1000"
	[ "$(field env.LISTEN_FDNAMES)" = gopher ] || fail "LISTEN_FDNAMES"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=70 listening=1 v6only=0 owner=1000"
	run as pbt_alice "$PB" 70=gopher -- "$PROBE"
	expect_refused 77
}

@test "README, user's shell: --check draft.conf checks a draft without privilege" {
	local d=$HOME1000
	cp "$BATS_TEST_DIRNAME/../contrib/user.conf" "$d/draft.conf"
	chown 1000:1000 "$d/draft.conf"
	run as_uid1000 bash -c 'cd "$1" && "$2" --check draft.conf' _ "$d" "$PB"
	expect_status 0
	expect_line "portbind: table OK: 1 section(s) in 1 file(s)"
	echo "port = 71" >> "$d/draft.conf"
	run as_uid1000 bash -c 'cd "$1" && "$2" --check draft.conf' _ "$d" "$PB"
	expect_status 78
	expect_line "draft.conf:9: duplicate key 'port' in [alice]"
}

@test "portbind.conf.example parses: its only errors are names and programs this machine may not have" {
	run "$PB" --check "$BATS_TEST_DIRNAME/../portbind.conf.example"
	local bad
	bad=$(grep -vE "^(.*portbind\.conf\.example:[0-9]+: (unknown user '.*'|unknown group '.*'|program /[^:]+: No such file or directory)|portbind: .*portbind\.conf\.example: [0-9]+ error\(s\)|portbind: table OK: .*)$" <<<"$output" || true)
	[ -z "$bad" ] || fail "unexpected errors in the example:" "$bad"
	[ "$status" -eq 0 ] || [ "$status" -eq 78 ] || fail "exit 0 or 78"
}
