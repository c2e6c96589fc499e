#!/usr/bin/env bats
# The ownership table: what a valid table is, how every kind of bad table is
# reported (FILE:LINE: message, exit 78) by `portbind --check` as root and by
# `portbind --check DRAFT` as a user, and that a rejected table makes a real
# run exit 78 with one line and nothing bound. Files, modes and portbind.d.
load lib
bats_require_minimum_version 1.5.0

# Programs for `program =` tests live next to the probe: a root-owned
# directory chain, unlike the temporary directories. All named pbt-tbl-*.
PROGDIR=${PROBE%/*}

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
T
	# Drafts: a directory the test users can reach and read.
	DRAFTS=$BATS_TEST_TMPDIR/drafts
	mkdir -p "$DRAFTS"
	chmod 0755 "$DRAFTS"
	local d=$BATS_TEST_TMPDIR
	while [ -n "${BATS_RUN_TMPDIR:-}" ] && [ "${d#"$BATS_RUN_TMPDIR"}" != "$d" ]; do
		chmod o+x "$d"
		[ "$d" != "$BATS_RUN_TMPDIR" ] || break
		d=${d%/*}
	done
	: >"$BATS_TEST_TMPDIR/failed"
	# The directories above the table, as tests/run made them (teardown
	# puts them back).
	CHAIN=$(stat -c '%a %u %g %n' "$PB_PREFIX" "$ETC")
}

# The prefix and SYSCONFDIR: a symbolic link replaced by the real directory
# again, owner and mode as they were; portbind.d, if there, as table()
# makes it. Fails if any of it fails.
restore_chain() {
	local mode uid gid dir
	if [ -L "$ETC" ]; then
		rm -f "$ETC" && mv "$PB_PREFIX/pbt-tbl-etc" "$ETC" || return 1
	fi
	while read -r mode uid gid dir; do
		chown "$uid:$gid" "$dir" && chmod "$mode" "$dir" || return 1
	done <<<"$CHAIN"
	[ -L "$ETC/portbind.d" ] || [ ! -d "$ETC/portbind.d" ] ||
		{ chown root:root "$ETC/portbind.d" && chmod 0755 "$ETC/portbind.d"; }
}

# Leave an ordinary table behind, whatever a test turned the files into (a
# FIFO or a symlink would trap the next suite's `table`).
teardown() {
	restore_chain
	rm -rf "$ETC/portbind.conf" "$ETC/portbind.d"
	[ -z "${PB_PREFIX:-}" ] || rm -rf "$PROGDIR"/pbt-tbl-* "$ETC"/pbt-tbl-* "$PB_PREFIX"/pbt-tbl-*
	table </dev/null
}

# FILE AT FRAGMENT: the output has a line "FILE:N: ...FRAGMENT...", N being
# AT ("4", or "1|4" when either line is right).
has_error_at() {
	local n
	for n in ${2//|/ }; do
		grep -F -- "$1:$n: " <<<"$output" | grep -qF -- "$3" && return 0
	done
	return 1
}

said() {
	printf '%s\n  status %s, output:\n%s\n' "$1" "${status:-}" "${output:-}"
}

# Judge the table in $casefile three ways; say what is wrong on stdout.
# (Not named "lines": `run` sets that array.)
judge() {
	local at=$1 frag=$2 conf=$ETC/portbind.conf draft=$DRAFTS/draft.conf

	table <"$casefile"
	run timeout 10 "$PB" --check
	[ "$status" -eq 78 ] || { said "root --check: exit $status, expected 78"; return 1; }
	has_error_at "$conf" "$at" "$frag" ||
		{ said "root --check: no line '$conf:($at): ...$frag...'"; return 1; }
	[[ "$(tail -n 1 <<<"$output")" == "portbind: "* ]] ||
		{ said "root --check: last line is not 'portbind: ...'"; return 1; }
	! grep -qF "table OK" <<<"$output" || { said "root --check: says table OK"; return 1; }

	run as pbt_alice timeout 10 "$PB" 80 -- "$PROBE"
	[ "$status" -eq 78 ] || { said "run as pbt_alice: exit $status, expected 78"; return 1; }
	[ "$(grep -c . <<<"$output")" -eq 1 ] && [[ "$output" == "portbind: "* ]] ||
		{ said "run as pbt_alice: expected one line 'portbind: ...'"; return 1; }
	! grep -q '^uid=' <<<"$output" || { said "run as pbt_alice: the command ran"; return 1; }
	[ -z "$(ss -Hantu 'sport = :80')" ] || { said "port 80 is in use"; return 1; }

	cp "$casefile" "$draft"
	chmod 0644 "$draft"
	run as pbt_alice timeout 10 "$PB" --check "$draft"
	[ "$status" -eq 78 ] || { said "draft --check as pbt_alice: exit $status, expected 78"; return 1; }
	has_error_at "$draft" "$at" "$frag" ||
		{ said "draft --check: no line '$draft:($at): ...$frag...'"; return 1; }
	return 0
}

# bad AT FRAGMENT DESCRIPTION < table: one case of a table-driven test;
# a failure is printed and recorded, and the next case runs.
bad() {
	local why
	casefile=$BATS_TEST_TMPDIR/case
	cat >"$casefile"
	if ! why=$(judge "$1" "$2"); then
		printf 'FAILED CASE: %s\n  %s\n  table (cat -A):\n%s\n' \
			"$3" "$why" "$(cat -A "$casefile" | head -c 2000)" >&2
		echo "$3" >>"$BATS_TEST_TMPDIR/failed"
	fi
}

# good DESCRIPTION < table: root --check says OK, the draft check too.
good() {
	local why=
	casefile=$BATS_TEST_TMPDIR/case
	cat >"$casefile"
	table <"$casefile"
	run timeout 10 "$PB" --check
	if [ "$status" -ne 0 ] || ! grep -qF "table OK" <<<"$output"; then
		why="root --check: exit $status"
	else
		cp "$casefile" "$DRAFTS/draft.conf"
		chmod 0644 "$DRAFTS/draft.conf"
		run as pbt_alice timeout 10 "$PB" --check "$DRAFTS/draft.conf"
		[ "$status" -eq 0 ] || why="draft --check: exit $status"
	fi
	if [ -n "$why" ]; then
		printf 'FAILED CASE (must be accepted): %s\n  %s\n  table (cat -A):\n%s\n  output:\n%s\n' \
			"$1" "$why" "$(cat -A "$casefile" | head -c 2000)" "$output" >&2
		echo "$1" >>"$BATS_TEST_TMPDIR/failed"
	fi
}

# (A file, not a variable: the cases are fed by pipelines, whose last part
# runs in a subshell.)
cases_done() {
	[ ! -s "$BATS_TEST_TMPDIR/failed" ] ||
		fail "$(grep -c . "$BATS_TEST_TMPDIR/failed") case(s) failed (see FAILED CASE above)"
}

# A section granting 80 to pbt_alice with one more line (line 4).
with4() {
	printf '[web]\nport = 80\nuser = pbt_alice\n%s\n' "$1"
}

# root --check of the installed files: exit 78, an error naming FILE, and a
# run as pbt_alice that is refused with one line and binds nothing.
expect_files_rejected() {
	run timeout 5 "$PB" --check
	expect_status 78
	expect_line "$1"
	expect_no_line "table OK"
	run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
	expect_refused 78 "table"
	expect_port_free 80
}

expect_files_ok() {
	run timeout 5 "$PB" --check
	expect_status 0
	expect_line "table OK"
}

@test "bad lines: length, bytes, indentation, sections" {
	local pad
	# 199 bytes and more; a long comment whose tail would be a key if the
	# parser split the line
	pad=$(rep 197 x)
	printf '[web]\nport = 80\nuser = pbt_alice\n# %s\n' "$pad" |
		bad 4 "longer" "a 199-byte comment"
	printf '[web]\nprotocol = tcp\nuser = pbt_alice\n;%s\nport = 80\n' "$(rep 300 ' ')" |
		bad 4 "longer" "a 301-byte comment of blanks"
	printf '[web]\nuser = pbt_alice\nprotocol = tcp\n; %s\n' "$(rep 195 x)port = 80" |
		bad 4 "longer" "a comment whose tail is 'port = 80'"
	printf '[web]\nuser = pbt_alice\nprotocol = tcp\n; %sport = 80\n' "$(rep 400 x)" |
		bad 4 "longer" "a comment whose tail (after 400 bytes) is 'port = 80'"
	printf '[web]\nport = 80\nuser = pbt_bob %s pbt_alice\n' "$(rep 200 ' ')" |
		bad 3 "longer" "a long value"
	# bytes
	printf '[web]\nport = 80\0 81\nuser = pbt_alice\n' | bad 2 "" "a NUL byte"
	printf '[web]\nport = 80\nuser = pbt_bob\0pbt_alice\n' | bad 3 "" "a NUL byte in a name"
	printf '[web]\r\nport = 80\nuser = pbt_alice\n' | bad 1 "" "CR"
	printf '[web]\nport = 80\r\nuser = pbt_alice\r\n' | bad "2|3" "" "CRLF"
	printf '[web]\nport = 80\nuser = pbt_alice\r\n' | bad 3 "" "CR in the last line"
	printf '[web]\nport = 80\nuser = pbt_\001alice\n' | bad 3 "" "control byte 0x01"
	printf '[web]\nport = 80\nuser = pbt_alice\033[2K\n' | bad 3 "" "escape 0x1b"
	printf '[web]\nport = 80\013\nuser = pbt_alice\n' | bad 2 "" "vertical tab"
	printf '[web]\nport = 80\014\nuser = pbt_alice\n' | bad 2 "" "form feed"
	printf '[web]\nport = 80\nuser = pbt_alice\177\n' | bad 3 "" "DEL"
	printf '[web]\nport = 80\nuser = pbt_alic\303\251\n' | bad 3 "" "UTF-8 in a name"
	printf '\357\273\277[web]\nport = 80\nuser = pbt_alice\n' | bad 1 "" "UTF-8 BOM"
	printf '[web]\nport = 80\n# caf\303\251\nuser = pbt_alice\n' | bad 3 "" "UTF-8 in a comment"
	printf '[web]\nport = 80\nuser = pbt_alice\n\200\n' | bad 4 "" "byte 0x80"
	# indented (continuation) lines
	printf '[web]\nport = 80\nuser = pbt_bob\n pbt_alice\n' | bad 4 "indented" "a continuation line"
	printf '[web]\nport = 8080\n\t80\nuser = pbt_alice\n' | bad 3 "indented" "a tab continuation"
	printf '[web]\nport = 80\n  user = pbt_alice\n' | bad 3 "indented" "an indented key"
	printf ' [web]\nport = 80\nuser = pbt_alice\n' | bad 1 "indented" "an indented section"
	# keys before any section
	printf 'port = 80\nuser = pbt_alice\n[web]\nport = 443\nuser = pbt_bob\n' |
		bad 1 "section" "a key before any section"
	printf '; comment\n\nuser = pbt_alice\n' | bad 3 "section" "a key with no section at all"
	# section headers
	printf '[web\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "unterminated [web"
	printf '[web] junk\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[web] junk"
	printf '[web]junk\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[web]junk"
	printf '[web]]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[web]]"
	printf '[[web]]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[[web]]"
	printf '[]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "empty label"
	printf '[ web]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[ web]"
	printf '[web ]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[web ]"
	printf '[we b]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "[we b]"
	printf '[web/1]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "/ in a label"
	printf '[web:1]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" ": in a label"
	printf '[web*]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "* in a label"
	printf '[web;x]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "; in a label"
	printf '[web\tx]\nport = 80\nuser = pbt_alice\n' | bad 1 "section" "tab in a label"
	printf '[%s]\nport = 80\nuser = pbt_alice\n' "$(rep 49 l)" | bad 1 "section" "a 49-byte label"
	printf '[%s]\nport = 80\nuser = pbt_alice\n' "$(rep 200 l)" | bad 1 "" "a 200-byte label"
	# duplicate labels, sections without keys
	printf '[web]\nport = 80\nuser = pbt_bob\n[web]\nport = 81\nuser = pbt_alice\n' |
		bad 4 "duplicate" "a duplicate label"
	printf '[web]\nport = 80\nuser = pbt_alice\n[db]\nport = 81\nuser = pbt_bob\n[web]\nport = 82\nuser = pbt_bob\n' |
		bad 7 "duplicate" "a duplicate label, not adjacent"
	printf '[empty]\n[web]\nport = 80\nuser = pbt_alice\n' | bad 1 "keys" "a section with no keys"
	printf '[web]\nport = 80\nuser = pbt_alice\n[empty]\n; only a comment\n' |
		bad 4 "keys" "a last section with no keys"
	printf '[web]\nuser = pbt_alice\nprotocol = tcp\n' | bad 1 "port" "a section without port"
	printf '[web]\nport = 80\nprotocol = tcp\naddress = 127.0.0.1\n' | bad 1 "" "a section granting to nobody"
	cases_done
}

@test "bad keys and values" {
	# the key = value form
	with4 'port: 80' | bad 4 "" "key: value"
	printf '[web]\nport: 80\nuser = pbt_alice\n' | bad 2 "" "port: 80"
	printf '[web]\nport = 80\nuser: pbt_alice\n' | bad 3 "" "user: pbt_alice"
	with4 'port 80' | bad 4 "" "a line without ="
	with4 'address' | bad 4 "" "a key without value and ="
	with4 '= 80' | bad 4 "" "a value without key"
	# unknown, misspelt, duplicate keys: rejected, never ignored
	with4 'colour = red' | bad 4 "unknown key" "an unknown key"
	with4 'adress = 127.0.0.1' | bad 4 "unknown key" "adress (misspelt address)"
	with4 'addresses = 127.0.0.1' | bad 4 "unknown key" "addresses"
	with4 'Address = 127.0.0.1' | bad 4 "unknown key" "Address"
	with4 'programm = /bin/true' | bad 4 "unknown key" "programm"
	printf '[web]\nports = 80\nuser = pbt_alice\n' | bad 2 "unknown key" "ports"
	printf '[web]\nport = 80\nusers = pbt_alice\n' | bad 3 "unknown key" "users"
	printf '[web]\nport = 80\nport = 81\nuser = pbt_alice\n' | bad 3 "duplicate key" "duplicate port"
	with4 'user = pbt_bob' | bad 4 "duplicate key" "duplicate user"
	printf '[web]\nport = 80\nuser = pbt_alice\naddress = 127.0.0.1\naddress = ::1\n' |
		bad 5 "duplicate key" "duplicate address"
	# empty values
	with4 'address =' | bad 4 "empty" "address ="
	with4 'address = ; loopback' | bad 4 "empty" "address = ; comment"
	with4 'protocol =' | bad 4 "empty" "protocol ="
	printf '[web]\nport =\nuser = pbt_alice\n' | bad 2 "empty" "port ="
	printf '[web]\nport = 80\nuser =\n' | bad 3 "empty" "user ="
	# a value that is only separators is just as empty
	with4 'address = ,' | bad 4 "" "address = , (empty list)"
	with4 'protocol = ,' | bad 4 "" "protocol = , (empty list)"
	printf '[web]\nport = ,\nuser = pbt_alice\n' | bad 2 "" "port = , (empty list)"
	printf '[web]\nport = 80\nuid = , ,\n' | bad "1|3" "" "uid = , , (empty list)"
	# ports
	printf '[web]\nport = 0\nuser = pbt_alice\n' | bad 2 "port" "port = 0"
	printf '[web]\nport = 90-80\nuser = pbt_alice\n' | bad 2 "port" "port = 90-80"
	printf '[web]\nport = 65536\nuser = pbt_alice\n' | bad 2 "port" "port = 65536"
	printf '[web]\nport = 1-65536\nuser = pbt_alice\n' | bad 2 "port" "port = 1-65536"
	printf '[web]\nport = 0-80\nuser = pbt_alice\n' | bad 2 "port" "port = 0-80"
	printf '[web]\nport = 4294967376\nuser = pbt_alice\n' | bad 2 "port" "port = 2^32+80"
	printf '[web]\nport = 080\nuser = pbt_alice\n' | bad 2 "port" "port = 080"
	printf '[web]\nport = +80\nuser = pbt_alice\n' | bad 2 "port" "port = +80"
	printf '[web]\nport = -80\nuser = pbt_alice\n' | bad 2 "port" "port = -80"
	printf '[web]\nport = 80-\nuser = pbt_alice\n' | bad 2 "port" "port = 80-"
	printf '[web]\nport = 80--90\nuser = pbt_alice\n' | bad 2 "port" "port = 80--90"
	printf '[web]\nport = 80-90-100\nuser = pbt_alice\n' | bad 2 "port" "port = 80-90-100"
	printf '[web]\nport = 0x50\nuser = pbt_alice\n' | bad 2 "port" "port = 0x50"
	printf '[web]\nport = 8O\nuser = pbt_alice\n' | bad 2 "port" "port = 8O"
	printf '[web]\nport = 80/tcp\nuser = pbt_alice\n' | bad 2 "port" "port = 80/tcp"
	printf '[web]\nport = 80;81\nuser = pbt_alice\n' | bad 2 "port" "port = 80;81"
	printf '[web]\nport = 80 # http\nuser = pbt_alice\n' | bad 2 "port" "# is no inline comment"
	printf '[web]\nport = http\nuser = pbt_alice\n' | bad 2 "port" "port = http"
	# protocols
	with4 'protocol = sctp' | bad 4 "protocol" "protocol = sctp"
	with4 'protocol = TCP' | bad 4 "protocol" "protocol = TCP"
	with4 'protocol = tcp/udp' | bad 4 "protocol" "protocol = tcp/udp"
	# uids and gids: decimal, 0-4294967294, LO <= HI
	printf '[web]\nport = 80\nuid = 5-4\n' | bad 3 "uid" "uid = 5-4"
	printf '[web]\nport = 80\nuid = 4294967295\n' | bad 3 "uid" "uid = 4294967295"
	printf '[web]\nport = 80\nuid = 0-4294967295\n' | bad 3 "uid" "uid = 0-4294967295"
	printf '[web]\nport = 80\nuid = 4294967296\n' | bad 3 "uid" "uid = 4294967296"
	printf '[web]\nport = 80\nuid = 4295026297\n' | bad 3 "uid" "uid = 2^32+59001"
	printf '[web]\nport = 80\nuid = -1\n' | bad 3 "uid" "uid = -1"
	printf '[web]\nport = 80\nuid = 059001\n' | bad 3 "uid" "uid = 059001"
	printf '[web]\nport = 80\nuid = 0xe679\n' | bad 3 "uid" "uid = 0xe679"
	printf '[web]\nport = 80\nuid = pbt_alice\n' | bad 3 "uid" "uid = a name"
	printf '[web]\nport = 80\ngid = 4294967295\n' | bad 3 "gid" "gid = 4294967295"
	printf '[web]\nport = 80\ngid = 9-1\n' | bad 3 "gid" "gid = 9-1"
	# names: never numbers, never unknown
	printf '[web]\nport = 80\nuser = 1000\n' | bad 3 "user" "user = 1000"
	printf '[web]\nport = 80\nuser = 59001\n' | bad 3 "user" "user = 59001 (alice's uid)"
	printf '[web]\nport = 80\ngroup = 59050\n' | bad 3 "group" "group = 59050"
	printf '[web]\nport = 80\nuser = #59001\n' | bad 3 "user" "user = #59001"
	printf '[web]\nport = 80\nuser = pbt_alice:pbt_web\n' | bad 3 "user" "user = user:group"
	printf '[web]\nport = 80\nuser = pbt_nosuchuser\n' | bad "1|3" "unknown user" "an unknown user"
	printf '[web]\nport = 80\nuser = pbt_alice pbt_nosuchuser\n' | bad "1|3" "unknown user" "one unknown user of two"
	printf '[web]\nport = 80\nuser = PBT_ALICE\n' | bad "1|3" "unknown user" "user in capitals"
	printf '[web]\nport = 80\ngroup = pbt_nosuchgroup\n' | bad "1|3" "unknown group" "an unknown group"
	printf '[web]\nport = 80\ngroup = pbt_web pbt_nosuchgroup\n' | bad "1|3" "unknown group" "one unknown group of two"
	# addresses: literals only, as inet_pton reads them
	with4 'address = 127.1' | bad 4 "address" "address = 127.1"
	with4 'address = ::ffff:1.2.3.4' | bad 4 "address" "address = ::ffff:1.2.3.4"
	with4 'address = ::ffff:127.0.0.1' | bad 4 "address" "address = ::ffff:127.0.0.1"
	with4 'address = 1.2.3.4.5' | bad 4 "address" "address = 1.2.3.4.5"
	with4 'address = 127.000.0.1' | bad 4 "address" "address = 127.000.0.1"
	with4 'address = 256.0.0.1' | bad 4 "address" "address = 256.0.0.1"
	with4 'address = localhost' | bad 4 "address" "address = localhost"
	with4 'address = [::1]' | bad 4 "address" "address = [::1]"
	with4 'address = fe80::1%lo' | bad 4 "address" "address = fe80::1%lo"
	with4 'address = 127.0.0.1/8' | bad 4 "address" "address = 127.0.0.1/8"
	with4 'address = 127.0.0.1:80' | bad 4 "address" "address = 127.0.0.1:80"
	with4 'address = *' | bad 4 "address" "address = *"
	with4 'address = ::1 127.1' | bad 4 "address" "a bad address after a good one"
	cases_done
}

@test "an address list without an address is an error, never 'any address'" {
	# "address = ," names no address; read as "no address restriction" it
	# would grant the wildcard (and every address) to a section meant to be
	# limited to some addresses.
	table <<'T'
[lo]
port = 80
protocol = tcp
address = ,
user = pbt_alice
T
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.conf:4: "
	run as pbt_alice "$PB" --dry-run 80 -- "$PROBE"
	expect_refused 78
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 78
	expect_port_free 80
}

@test "bad programs" {
	local cp=$PROGDIR/pbt-tbl-copy
	install -m 0755 -o root -g root "$PROBE" "$cp"
	ln -s "$PROBE" "$PROGDIR/pbt-tbl-link"
	install -m 0755 -o pbt_alice -g root "$PROBE" "$PROGDIR/pbt-tbl-alices"
	install -m 0775 -o root -g pbt_web "$PROBE" "$PROGDIR/pbt-tbl-gw"
	install -m 0644 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-noexec"
	install -d -m 0777 -o root -g root "$PROGDIR/pbt-tbl-open"
	install -m 0755 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-open/probe"
	install -d -m 1777 -o root -g root "$PROGDIR/pbt-tbl-sticky"
	install -m 0755 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-sticky/probe"
	install -d -m 0775 -o root -g pbt_web "$PROGDIR/pbt-tbl-gdir"
	install -m 0755 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-gdir/probe"
	install -d -m 0755 -o pbt_alice -g root "$PROGDIR/pbt-tbl-adir"
	install -m 0755 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-adir/probe"
	install -d -m 0755 -o root -g root "$PROGDIR/pbt-tbl-real"
	install -m 0755 -o root -g root "$PROBE" "$PROGDIR/pbt-tbl-real/probe"
	ln -s pbt-tbl-real "$PROGDIR/pbt-tbl-dirlink"

	with4 "program = probe" | bad "1|4" "program" "a relative path"
	with4 "program = ${PROGDIR#/}/probe" | bad "1|4" "program" "a path without the leading /"
	with4 "program = ./probe" | bad "1|4" "program" "./probe"
	with4 "program = $PROGDIR/../${PROGDIR##*/}/pbt-tbl-copy" | bad "1|4" "program" "a path with .."
	with4 "program = $PROGDIR/./pbt-tbl-copy" | bad "1|4" "program" "a path with ."
	with4 "program = $PROGDIR//pbt-tbl-copy" | bad "1|4" "program" "a path with //"
	with4 "program = $PROGDIR/pbt-tbl-copy/" | bad "1|4" "program" "a path ending in /"
	with4 "program = $PROGDIR/pbt-tbl-copy $PROBE" | bad "1|4" "program" "two programs"
	with4 "program = $PROGDIR/pbt-tbl-link" | bad "1|4" "symbolic link" "a symlink"
	with4 "program = $PROGDIR/pbt-tbl-dirlink/probe" | bad "1|4" "symbolic link" "a symlinked directory"
	with4 "program = $PROGDIR/pbt-tbl-alices" | bad "1|4" "program" "not owned by root"
	with4 "program = $PROGDIR/pbt-tbl-gw" | bad "1|4" "program" "group-writable"
	with4 "program = $PROGDIR/pbt-tbl-open/probe" | bad "1|4" "program" "in a world-writable directory"
	with4 "program = $PROGDIR/pbt-tbl-sticky/probe" | bad "1|4" "program" "in a sticky world-writable directory"
	with4 "program = $PROGDIR/pbt-tbl-gdir/probe" | bad "1|4" "program" "in a group-writable directory"
	with4 "program = $PROGDIR/pbt-tbl-adir/probe" | bad "1|4" "program" "in a directory not owned by root"
	with4 "program = $PROGDIR/pbt-tbl-missing" | bad "1|4" "program" "a missing program"
	with4 "program = $PROGDIR/pbt-tbl-missing/probe" | bad "1|4" "program" "a missing directory"
	with4 "program = $PROGDIR/pbt-tbl-noexec" | bad "1|4" "executable" "a non-executable program"
	with4 "program = $PROGDIR" | bad "1|4" "program" "a directory"
	with4 "program = $PROGDIR/pbt-tbl-copy/x" | bad "1|4" "program" "a file used as a directory"
	cases_done
	# the same section naming the real file is fine
	with4 "program = $PROGDIR/pbt-tbl-real/probe" | good "a root-owned program"
	with4 "program = $cp" | good "a root-owned program"
	cases_done
}

@test "every error of a table is reported, with its file and line" {
	table <<'T'
[web]
port = 0
user = pbt_alice
colour = red
[db]
port = 5432
uid = 5-4
T
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.conf:2: "
	expect_line "$ETC/portbind.conf:4: "
	expect_line "$ETC/portbind.conf:7: "
	[ "$(grep -c "^$ETC/portbind.conf:[0-9]*: " <<<"$output")" -eq 3 ] || fail "expected 3 file:line lines"
	expect_line "3 error"
	[[ "$(tail -n 1 <<<"$output")" == "portbind: "* ]] || fail "last line"
	# the same as a draft
	cp "$ETC/portbind.conf" "$DRAFTS/d.conf"
	chmod 0644 "$DRAFTS/d.conf"
	run as pbt_alice "$PB" --check "$DRAFTS/d.conf"
	expect_status 78
	expect_line "$DRAFTS/d.conf:2: "
	expect_line "$DRAFTS/d.conf:4: "
	expect_line "$DRAFTS/d.conf:7: "
	[ "$(grep -c "^$DRAFTS/d.conf:[0-9]*: " <<<"$output")" -eq 3 ] || fail "expected 3 file:line lines"
	# errors in several files: all of them
	printf '[x]\nport = 1\nuser = pbt_nosuchuser\n' | dropin a.conf
	printf '[y]\nport = 2\nuser = pbt_alice\nprotocol = icmp\n' | dropin b.conf
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.conf:2: "
	expect_line "$ETC/portbind.conf:4: "
	expect_line "$ETC/portbind.conf:7: "
	expect_line "$ETC/portbind.d/a.conf:"
	expect_line "$ETC/portbind.d/b.conf:4: "
	expect_line "5 error"
	# a non-root caller gets the count only, in one line, and nothing runs;
	# [x]'s unknown user is not looked up for a launch it cannot grant
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 78 "4 error"
	expect_port_free 80
}

@test "valid tables at the edges of the rules are accepted" {
	with4 '' | good "the minimal section"
	printf '[web]\nport = 80\nuser = pbt_alice' | good "no newline at the end"
	printf '[%s]\nport = 80\nuser = pbt_alice\n' "$(rep 48 l)" | good "a 48-byte label"
	printf '[A-Z_a.z-0.9]\nport = 80\nuser = pbt_alice\n' | good "every label character"
	printf '[web]\nport = 80\nuser = pbt_alice\n# %s\n' "$(rep 196 x)" | good "a 198-byte comment"
	printf '[web]\nport = 80\nuser = pbt_alice\n;%s\n' "$(rep 197 ' ')" | good "a 198-byte comment of blanks"
	printf '[web]\nport = 80 %s\nuser = pbt_alice\n' "$(rep 188 ' ')" | good "a 198-byte key line"
	printf '[web]\nport = 80\nuid = 0-4294967294\n' | good "uid = 0-4294967294"
	printf '[web]\nport = 80\ngid = 4294967294\n' | good "gid = 4294967294"
	printf '[web]\nport = 1-65535\nuser = *\n' | good "port = 1-65535, user = *"
	printf '[web]\nport\t=\t80,443 , 8000-8099\t53\nuser = pbt_alice,pbt_bob pbt_carol\n' |
		good "tabs, commas and blanks as separators"
	printf '[web] ; the web\nport = 80 ; http\nuser = pbt_alice ;alice\n' | good "inline comments"
	printf '[web]   \t\nport = 80   \nuser = pbt_alice\t\n' | good "trailing blanks"
	printf '# a\n; b\n\n   \n\t\n  ; indented comment\n[web]\n\nport = 80\n\n# c\nuser = pbt_alice\n' |
		good "comments and blank lines anywhere"
	printf '[web]\nport = 80\naddress = 127.0.0.1 ::1 0.0.0.0 :: 2001:db8::1\nuser = pbt_alice\n' |
		good "IPv4 and IPv6 addresses"
	printf '[web]\nport = 80\nprotocol = udp tcp\ngroup = pbt_web\nuid = 59002\ngid = 59051\nuser = pbt_dave\n' |
		good "every kind of grantee"
	printf '[web]\nport = 80\nuser = pbt_alice\n[db]\nport = 80\nuser = pbt_bob\n' |
		good "two sections listing one port"
	cases_done
}

@test "a good table: --check says OK, --list shows the table (root) or the caller's part" {
	table <<T
[web]
port = 80 443
protocol = tcp
user = pbt_alice
[dns]
port = 53
group = pbt_web ; alice (supplementary) and carol
[dev]
port = 8000-8099
uid = 59002-59003
address = 127.0.0.1 ::1
[pub]
port = 7000
user = *
[pinned]
port = 25
user = pbt_bob
program = $PROBE
T
	run "$PB" --check
	expect_status 0
	expect_line "table OK: 5 section"
	expect_line "1 file"
	[ "$(grep -c . <<<"$output")" -eq 1 ] || fail "one line"
	run as pbt_alice "$PB" --check
	expect_status 0
	expect_line "table OK"

	run --separate-stderr "$PB" --list
	expect_status 0
	local l
	for l in web dns dev pub pinned; do
		grep -q "^$l .*($ETC/portbind.conf:[0-9]*)$" <<<"$output" || fail "root --list: no [$l]"
	done
	expect_line "$PROBE"
	expect_line "(free)"

	run --separate-stderr as pbt_alice "$PB" --list
	expect_status 0
	for l in web dns pub; do
		grep -q "^$l " <<<"$output" || fail "alice --list: no [$l]"
	done
	for l in dev pinned; do
		! grep -q "^$l " <<<"$output" || fail "alice --list shows [$l]"
	done
	grep -q "^(free) .*1024-65535" <<<"$output" || fail "alice --list: no free-ports line"
	[ "$(grep -c . <<<"$output")" -eq 5 ] || fail "alice --list: 3 sections, the free line and the kernel line"

	run --separate-stderr as pbt_bob "$PB" --list
	expect_status 0
	for l in dev pub pinned; do
		grep -q "^$l " <<<"$output" || fail "bob --list: no [$l]"
	done
	for l in web dns; do
		! grep -q "^$l " <<<"$output" || fail "bob --list shows [$l]"
	done

	run --separate-stderr as pbt_dave "$PB" --list
	expect_status 0
	grep -q "^pub " <<<"$output" || fail "dave --list: no [pub]"
	[ "$(grep -c . <<<"$output")" -eq 3 ] || fail "dave --list: [pub], the free line and the kernel line"

	# with drop-ins: counted
	printf '[extra]\nport = 9000\nuser = pbt_dave\n' | dropin extra.conf
	run "$PB" --check
	expect_status 0
	expect_line "table OK: 6 section"
	expect_line "2 file"
}

@test "an empty table is valid" {
	table </dev/null
	run "$PB" --check
	expect_status 0
	expect_line "table OK: 0 section"
	run --separate-stderr as pbt_alice "$PB" --list
	expect_status 0
	[ "$(grep -c . <<<"$output")" -eq 2 ] || fail "only the free line and the kernel line"
	printf '; nothing here\n\n# at all\n' | table
	run "$PB" --check
	expect_status 0
	expect_line "table OK: 0 section"
	# without portbind.d at all
	rm -rf "$ETC/portbind.d"
	run "$PB" --check
	expect_status 0
	expect_line "table OK: 0 section"
	run as pbt_alice "$PB" 2000 -- "$PROBE"
	expect_status 0
}

@test "portbind.conf: wrong owner, mode or type, or missing, rejects the table" {
	chown pbt_alice "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"

	table </dev/null
	chown root:pbt_alice "$ETC/portbind.conf"
	chmod 0664 "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"

	chown root:root "$ETC/portbind.conf"
	chmod 0646 "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"

	chmod 0666 "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"

	# a symlink, even to a good root-owned file
	printf '[web]\nport = 80\nuser = pbt_alice\n' > "$ETC/pbt-tbl-real.conf"
	chmod 0644 "$ETC/pbt-tbl-real.conf"
	rm -f "$ETC/portbind.conf"
	ln -s pbt-tbl-real.conf "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"
	rm -f "$ETC/portbind.conf" "$ETC/pbt-tbl-real.conf"

	# a FIFO: no hang
	mkfifo -m 0644 "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"
	rm -f "$ETC/portbind.conf"

	mkdir -m 0755 "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"
	rmdir "$ETC/portbind.conf"

	# /dev/null is no table file either
	ln -s /dev/null "$ETC/portbind.conf"
	expect_files_rejected "$ETC/portbind.conf"
	rm -f "$ETC/portbind.conf"

	# missing
	expect_files_rejected "$ETC/portbind.conf"
}

@test "portbind.d: wrong owner, mode or type rejects the table; missing is fine" {
	chown pbt_alice "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"

	chown root:root "$ETC/portbind.d"
	chmod 0777 "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	chmod 1777 "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	chown root:pbt_web "$ETC/portbind.d"
	chmod 0775 "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"

	rm -rf "$ETC/portbind.d"
	install -d -m 0755 "$ETC/pbt-tbl-dir"
	ln -s pbt-tbl-dir "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	rm -rf "$ETC/portbind.d" "$ETC/pbt-tbl-dir"

	: > "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	rm -f "$ETC/portbind.d"

	mkfifo -m 0644 "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	rm -f "$ETC/portbind.d"

	expect_files_ok
}

# chain_bad WHAT LINE SCRIPT: after SCRIPT (eval'd), root's --check exits 78
# with a line containing LINE and no "table OK", pbt_alice's grant of port
# 80 is refused with 78 and nothing is bound; then the directories are put
# back and the table is OK again. A failing case is printed and recorded.
chain_bad() {
	local what=$1 line=$2 why=
	eval "$3"
	run timeout 5 "$PB" --check
	if [ "$status" -ne 78 ]; then
		why="root --check: exit $status, expected 78"
	elif ! grep -qF -- "$line" <<<"$output" || grep -qF "table OK" <<<"$output"; then
		why="root --check: no line '$line'"
	else
		run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
		if [ "$status" -ne 78 ] || [ "$(grep -c . <<<"$output")" -ne 1 ] ||
			[[ $output != "portbind: ownership table rejected"* ]]; then
			why="pbt_alice's grant of port 80: exit $status, expected 78 and one line"
		elif [ -n "$(ss -Hantu 'sport = :80')" ]; then
			why="port 80 is in use"
		fi
	fi
	if [ -n "$why" ]; then
		printf 'FAILED CASE: %s\n  %s\n  output:\n%s\n' "$what" "$why" "$output" >&2
		echo "$what" >>"$BATS_TEST_TMPDIR/failed"
	fi
	restore_chain || fail "could not restore the directories after: $what"
	run timeout 5 "$PB" --check
	[ "$status" -eq 0 ] || fail "the table is not OK again after: $what"
}

@test "every directory from / down to the table and portbind.d must be root's alone, sticky or not" {
	local conf=$ETC/portbind.conf
	# the table works before and after every case
	run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
	expect_status 0
	# the issue's case: SYSCONFDIR 0777, and `portbind --check` said OK
	chain_bad "SYSCONFDIR 0777" "$conf: directory $ETC: writable by group or others" \
		'chmod 0777 "$ETC"'
	chain_bad "SYSCONFDIR group-writable" "$conf: directory $ETC: writable by group or others" \
		'chown root:pbt_web "$ETC"; chmod 0775 "$ETC"'
	chain_bad "SYSCONFDIR owned by pbt_alice" "$conf: directory $ETC: not owned by root" \
		'chown pbt_alice "$ETC"'
	# others may not rename root's entries in a sticky directory, but may
	# take a name that is missing (portbind.d): refused like any other
	chain_bad "SYSCONFDIR root's, 1777 like /tmp" "$conf: directory $ETC: writable by group or others" \
		'chmod 1777 "$ETC"'
	chain_bad "the prefix above SYSCONFDIR group-writable" \
		"$conf: directory $PB_PREFIX: writable by group or others" \
		'chown root:pbt_web "$PB_PREFIX"; chmod 0775 "$PB_PREFIX"'
	chain_bad "the prefix above SYSCONFDIR owned by pbt_bob" \
		"$conf: directory $PB_PREFIX: not owned by root" 'chown pbt_bob "$PB_PREFIX"'
	chain_bad "the prefix above SYSCONFDIR 1777" \
		"$conf: directory $PB_PREFIX: writable by group or others" 'chmod 1777 "$PB_PREFIX"'
	# a symbolic link in the chain is refused, not followed
	chain_bad "SYSCONFDIR a symbolic link to a good directory" \
		"$conf: directory $ETC: is a symbolic link" \
		'mv "$ETC" "$PB_PREFIX/pbt-tbl-etc"; ln -s pbt-tbl-etc "$ETC"'
	# portbind.d is judged itself, and from the directory checked above it
	chain_bad "portbind.d 0777" "$ETC/portbind.d: writable by group or others" \
		'chmod 0777 "$ETC/portbind.d"'
	chain_bad "portbind.d 1777" "$ETC/portbind.d: writable by group or others" \
		'chmod 1777 "$ETC/portbind.d"'
	chain_bad "SYSCONFDIR 0777: portbind.d's directory too" \
		"$ETC/portbind.d: directory $ETC: writable by group or others" 'chmod 0777 "$ETC"'
	cases_done
	run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
	expect_status 0
}

@test "a user who could write SYSCONFDIR can neither swap the table nor move portbind.d away" {
	printf '[alices]\nport = 9000\nuser = pbt_alice\n' | dropin alice.conf
	# a root-owned file granting port 80 to pbt_bob, as an example or an
	# old table might be
	printf '[bob]\nport = 80\nuser = pbt_bob\n' >"$ETC/pbt-tbl-old.conf"
	chmod 0644 "$ETC/pbt-tbl-old.conf"
	chmod 0777 "$ETC"
	# moving portbind.d away would make port 9000 unlisted, so free for him
	run as pbt_bob mv "$ETC/portbind.d" "$ETC/pbt-tbl-gone.d"
	expect_status 0
	run as pbt_bob timeout 5 "$PB" 9000 -- "$PROBE"
	expect_refused 78 "ownership table rejected"
	expect_port_free 9000
	# and renaming the root-owned file over the table would give him port 80
	run as pbt_bob mv -f "$ETC/pbt-tbl-old.conf" "$ETC/portbind.conf"
	expect_status 0
	run as pbt_bob timeout 5 "$PB" 80 -- "$PROBE"
	expect_refused 78 "ownership table rejected"
	expect_port_free 80
	run timeout 5 "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.conf: directory $ETC: writable by group or others"
}

@test "root's --config FILE: its directories are checked too, from /; a draft's are not" {
	local open=$PB_PREFIX/pbt-tbl-open good=$PB_PREFIX/pbt-tbl-good sticky=$PB_PREFIX/pbt-tbl-sticky
	install -d -m 0755 "$good"
	install -d -m 0777 "$open"
	install -d -m 1777 "$sticky"
	printf '[other]\nport = 80\nuser = pbt_dave\n' >"$good/t.conf"
	chmod 0644 "$good/t.conf"
	cp -p "$good/t.conf" "$open/t.conf"
	cp -p "$good/t.conf" "$sticky/t.conf"
	ln -s pbt-tbl-good "$PB_PREFIX/pbt-tbl-link"

	run timeout 5 "$PB" --config "$good/t.conf" 80 pbt_dave -- "$PROBE"
	expect_status 0
	run timeout 5 "$PB" --config "$open/t.conf" 80 pbt_dave -- "$PROBE"
	expect_status 78
	expect_line "$open/t.conf: directory $open: writable by group or others"
	expect_no_line "uid="
	expect_port_free 80
	run timeout 5 "$PB" --config "$PB_PREFIX/pbt-tbl-link/t.conf" --check
	expect_status 78
	expect_line "directory $PB_PREFIX/pbt-tbl-link: is a symbolic link"
	# root's and sticky like /tmp, but writable by everyone
	run timeout 5 "$PB" --config "$sticky/t.conf" --check
	expect_status 78
	expect_line "$sticky/t.conf: directory $sticky: writable by group or others"
	# a relative path has directories above it that are not checked
	run bash -c 'cd "$1" && timeout 5 "$2" --config t.conf --check' _ "$good" "$PB"
	expect_status 78
	expect_line "t.conf: want an absolute path"
	run timeout 5 "$PB" --config "$good/../pbt-tbl-good/t.conf" --check
	expect_status 78
	expect_line "want a path without . or .."

	# a draft is read without privilege, and only its content is judged
	run as pbt_alice timeout 5 "$PB" --check "$open/t.conf"
	expect_status 0
	expect_line "table OK"
}

@test "portbind.d entries: wrong owner, mode or type of a .conf rejects the table" {
	local f=$ETC/portbind.d/x.conf
	printf '[x]\nport = 9000\nuser = pbt_bob\n' | dropin x.conf
	expect_files_ok

	chown pbt_alice "$f"
	expect_files_rejected "$f"
	chown root:pbt_alice "$f"
	chmod 0664 "$f"
	expect_files_rejected "$f"
	chown root:root "$f"
	chmod 0646 "$f"
	expect_files_rejected "$f"
	chmod 0644 "$f"
	expect_files_ok

	mv "$f" "$ETC/pbt-tbl-x"
	ln -s ../pbt-tbl-x "$f"
	expect_files_rejected "$f"
	rm -f "$f" "$ETC/pbt-tbl-x"

	mkfifo -m 0644 "$f"
	expect_files_rejected "$f"
	rm -f "$f"

	mkdir -m 0755 "$f"
	expect_files_rejected "$f"
	rmdir "$f"

	printf '[x]\nport = 0\nuser = pbt_bob\n' | dropin x.conf
	run "$PB" --check
	expect_status 78
	expect_line "$f:2: "
}

@test "portbind.d names: dotfiles and other suffixes ignored, odd .conf names rejected" {
	local d=$ETC/portbind.d n
	printf '[x]\nport = 9000\nuser = pbt_bob\n' | dropin x.conf
	# garbage, and alice-owned and world-writable: never read
	for n in .hidden.conf .x.conf .conf x.conf~ x.conf.bak x.conf.dpkg-old x.conf.rpmnew \
		x.cnf x.CONF README conf x.conf.swp "#x.conf#" x.conf.; do
		printf 'garbage\n[x]\nport = 0\n' > "$d/$n"
		chown pbt_alice "$d/$n"
		chmod 0666 "$d/$n"
	done
	mkfifo "$d/.fifo.conf"
	run timeout 5 "$PB" --check
	expect_status 0
	expect_line "table OK: 2 section"
	expect_line "2 file"
	run as pbt_bob "$PB" --dry-run 9000 -- "$PROBE"
	expect_status 0
	expect_line "[x]"

	# every character of [A-Za-z0-9_.@+-] is fine
	printf '[y]\nport = 9001\nuser = pbt_bob\n' | dropin "Az09_.@+-y.conf"
	expect_files_ok
	rm -f "$d/Az09_.@+-y.conf"

	for n in "a b.conf" $'a\nb.conf' $'a\tb.conf' "caf"$'\303\251'".conf" "a:b.conf" \
		"a;b.conf" "a\$b.conf" "a*b.conf" $'\033[2K.conf' "a'b.conf"; do
		printf '[z]\nport = 9002\nuser = pbt_bob\n' > "$d/$n"
		chmod 0644 "$d/$n"
		run timeout 5 "$PB" --check
		[ "$status" -eq 78 ] || fail "name $(printf %q "$n") accepted"
		grep -qF "$d" <<<"$output" || fail "name $(printf %q "$n"): no error naming $d"
		# the odd name is never printed raw
		[ "$(grep -c . <<<"$output")" -le 2 ] || fail "name $(printf %q "$n"): more lines than expected"
		run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
		expect_refused 78
		rm -f "$d/$n"
	done
	expect_files_ok
}

@test "table files are read in byte order: portbind.conf, then portbind.d/*.conf by name" {
	table <<'T'
[main]
port = 80
user = pbt_alice
T
	local n
	for n in a B 10 9 _u; do
		printf '[lbl%s]\nport = 8000\nuser = pbt_alice\n' "$n" | dropin "$n.conf"
	done
	run --separate-stderr "$PB" --list
	expect_status 0
	local order
	order=$(awk '$1 != "(free)" && $1 != "kernel:" { print $1 }' <<<"$output" | paste -sd ' ')
	[ "$order" = "main lbl10 lbl9 lblB lbl_u lbla" ] || fail "order: $order"
	# the first section in that order decides
	run as pbt_alice "$PB" --dry-run 8000 -- "$PROBE"
	expect_status 0
	expect_line "[lbl10]"
	run as pbt_alice "$PB" 8000 -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDNAMES)" = lbl10 ] || fail "LISTEN_FDNAMES"

	# a duplicate label is reported where it comes second, naming the first
	printf '[lbla]\nport = 8001\nuser = pbt_bob\n' | dropin B.conf
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.d/a.conf:1: "
	grep -F "$ETC/portbind.d/a.conf:1: " <<<"$output" | grep -qF "$ETC/portbind.d/B.conf:1" ||
		fail "the error does not name the first [lbla]"
}

@test "a duplicate label across portbind.conf and portbind.d is an error" {
	printf '[web]\nport = 8080\nuser = pbt_bob\n' | dropin x.conf
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.d/x.conf:1: "
	grep -F "$ETC/portbind.d/x.conf:1: " <<<"$output" | grep -F "duplicate" |
		grep -qF "$ETC/portbind.conf:1" || fail "expected 'duplicate ... portbind.conf:1'"
	run as pbt_bob "$PB" 8080 -- "$PROBE"
	expect_refused 78
	expect_port_free 8080
}

@test "a drop-in's first lines never extend the previous file's last section" {
	table <<'T'
[web]
port = 80
user = pbt_bob
T
	printf 'user = pbt_alice\n' | dropin x.conf
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.d/x.conf:1: "
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 78
	printf ' pbt_alice\n' | dropin x.conf
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.d/x.conf:1: "
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 78
	expect_port_free 80
}

@test "a large table (2000 sections) is accepted in reasonable time" {
	local i
	{
		for ((i = 1; i <= 1999; i++)); do
			printf '[s%d]\nport = %d\nuser = pbt_bob\naddress = 127.0.0.1 ::1\n' "$i" $((10000 + i))
		done
		printf '[last]\nport = 12000\nuser = pbt_alice\n'
	} | table
	SECONDS=0
	run timeout 20 "$PB" --check
	expect_status 0
	expect_line "table OK: 2000 section"
	run as pbt_alice timeout 20 "$PB" 12000 -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDNAMES)" = last ] || fail "LISTEN_FDNAMES"
	run as pbt_alice timeout 20 "$PB" 11999 -- "$PROBE"
	expect_refused 77
	[ "$SECONDS" -le 10 ] || fail "took $SECONDS seconds"
}

# The best of N wall times of "$@", in ms.
best_of() {
	local n=$1 i t best=
	shift
	for ((i = 0; i < n; i++)); do
		t=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t=$((($(date +%s%N) - t) / 1000000))
		[ -n "$best" ] && [ "$best" -le "$t" ] || best=$t
	done
	echo "$best"
}

@test "a launch resolves only the sections that could grant it; --check, --list and --dry-run resolve all" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
		[gone]
		port = 81
		user = pbt_nosuchuser
		[v6only]
		port = 82
		address = ::1
		group = pbt_nosuchgroup
	EOF
	# 80 is granted: the unknown names are in sections that cannot grant it
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDNAMES)" = web ] || fail "LISTEN_FDNAMES"
	# 82 is owned; [v6only] cannot grant 127.0.0.1, so it is not resolved
	run as pbt_alice "$PB" 127.0.0.1:82 -- "$PROBE"
	expect_refused 77
	# a section that lists the request's port, protocol and address is resolved
	run as pbt_alice "$PB" 81 -- "$PROBE"
	expect_refused 78
	run as pbt_alice "$PB" '[::1]:82' -- "$PROBE"
	expect_refused 78
	# the whole table for --check, --list, --dry-run and -v
	run "$PB" --check
	expect_status 78
	expect_line "unknown user 'pbt_nosuchuser'"
	expect_line "unknown group 'pbt_nosuchgroup'"
	run as pbt_alice "$PB" --list
	expect_status 78
	run as pbt_alice "$PB" --dry-run 80 -- "$PROBE"
	expect_status 78
	run as pbt_alice "$PB" -v 80 -- "$PROBE"
	expect_status 78
}

@test "30,000 sections: --check in well under a second, duplicate labels found across files" {
	local i
	for ((i = 1; i <= 30000; i++)); do
		printf '[s%d]\nport=%d\nuid=%d\n' "$i" $((i % 65535 + 1)) $((20000 + i))
	done | table
	[ "$(stat -c %s "$ETC/portbind.conf")" -le 1048576 ] || fail "over the 1 MiB limit"
	run timeout 20 "$PB" --check
	expect_status 0
	expect_line "table OK: 30000 section"
	printf '[s29999]\nport=1\nuid=1\n' | dropin z.conf
	run timeout 20 "$PB" --check
	expect_status 78
	expect_line "duplicate section [s29999] (first at $ETC/portbind.conf:89995)"
	rm "$ETC/portbind.d/z.conf"
	# the time, against a one-section table in the same run (the machine
	# is shared): a quadratic pass over 30,000 sections costs seconds
	local big one
	big=$(best_of 5 "$PB" --check)
	printf '[s1]\nport=1\nuid=1\n' | table
	one=$(best_of 5 "$PB" --check)
	echo "--check: 30,000 sections ${big} ms, one section ${one} ms"
	[ "$big" -le $((one + 200)) ] || fail "30,000 sections took ${big} ms, one ${one} ms"
}

@test "a table file over 1 MiB is rejected; 1 MiB exactly is fine" {
	local line='# a comment line, repeated to fill the file .....................'
	yes "$line" | head -c 1048576 | table
	[ "$(stat -c %s "$ETC/portbind.conf")" -eq 1048576 ]
	expect_files_ok
	yes "$line" | head -c 1048577 | table
	expect_files_rejected "$ETC/portbind.conf"
	# a drop-in too
	table </dev/null
	yes "$line" | head -c 1048577 | dropin big.conf
	expect_files_rejected "$ETC/portbind.d/big.conf"
	# and a draft
	yes "$line" | head -c 1048577 > "$DRAFTS/big.conf"
	chmod 0644 "$DRAFTS/big.conf"
	run as pbt_alice "$PB" --check "$DRAFTS/big.conf"
	expect_status 78
	expect_line "$DRAFTS/big.conf"
}

@test "--check DRAFT runs without privilege and skips only the ownership rules" {
	# the caller's own file, world-writable: its content is what counts
	printf '[web]\nport = 80\nuser = pbt_alice\n' > "$DRAFTS/mine.conf"
	chown pbt_alice "$DRAFTS/mine.conf"
	chmod 0666 "$DRAFTS/mine.conf"
	run as pbt_alice "$PB" --check "$DRAFTS/mine.conf"
	expect_status 0
	expect_line "OK"
	# a file the caller cannot read stays unread: no content in the errors
	printf '[web]\nsecretkey = hunter2\nport = 0\n' > "$DRAFTS/secret.conf"
	chmod 0600 "$DRAFTS/secret.conf"
	run as pbt_alice "$PB" --check "$DRAFTS/secret.conf"
	expect_status 78
	expect_no_line "hunter2"
	expect_no_line "secretkey"
	expect_no_line ":2:"
	run as pbt_alice "$PB" --check /etc/shadow
	expect_status 78
	expect_no_line "root"
	expect_no_line ":1:"
	# but root reads it
	run "$PB" --check "$DRAFTS/secret.conf"
	expect_status 78
	expect_line "$DRAFTS/secret.conf:2: "
	# a draft that is a FIFO does not hang; a missing one is an error
	mkfifo -m 0644 "$DRAFTS/fifo.conf"
	run as pbt_alice timeout 5 "$PB" --check "$DRAFTS/fifo.conf"
	expect_status 78
	run as pbt_alice "$PB" --check "$DRAFTS/none.conf"
	expect_status 78
	expect_line "$DRAFTS/none.conf"
	# the installed table is not involved
	printf 'garbage\n' | table
	run as pbt_alice "$PB" --check "$DRAFTS/mine.conf"
	expect_status 0
}

@test "--check DRAFT reports success with the documented line" {
	printf '[web]\nport = 80\nuser = pbt_alice\n[db]\nport = 5432\nuser = pbt_bob\n' > "$DRAFTS/d.conf"
	chmod 0644 "$DRAFTS/d.conf"
	run --separate-stderr as pbt_alice "$PB" --check "$DRAFTS/d.conf"
	expect_status 0
	[ "$output" = "portbind: table OK: 2 section(s) in 1 file(s)" ] ||
		[ "$output" = "portbind: table OK: 2 sections in 1 files" ] ||
		fail "expected 'portbind: table OK: 2 section(s) in 1 file(s)'"
}

@test "numbers that wrap 16, 32 or 64 bits are errors in every numeric key" {
	# a parser that wraps would read 80, 59001 (alice) or 59050 (pbt_web)
	printf '[web]\nport = 65616\nuser = pbt_alice\n' | bad 2 "port" "port = 2^16+80"
	printf '[web]\nport = 18446744073709551696\nuser = pbt_alice\n' | bad 2 "port" "port = 2^64+80"
	printf '[web]\nport = 79-65616\nuser = pbt_alice\n' | bad 2 "port" "port = 79-(2^16+80)"
	printf '[web]\nport = 4294967376-4294967377\nuser = pbt_alice\n' | bad 2 "port" "port = a range above 2^32"
	printf '[web]\nport = 80\nuid = 18446744073709610617\n' | bad 3 "uid" "uid = 2^64+59001"
	printf '[web]\nport = 80\nuid = 59000-4295026297\n' | bad 3 "uid" "uid = 59000-(2^32+59001)"
	printf '[web]\nport = 80\ngid = 4294967296\n' | bad 3 "gid" "gid = 2^32"
	printf '[web]\nport = 80\ngid = 4295026346\n' | bad 3 "gid" "gid = 2^32+59050"
	printf '[web]\nport = 80\ngid = 18446744073709610666\n' | bad 3 "gid" "gid = 2^64+59050"
	printf '[web]\nport = 80\ngid = 1-4294967296\n' | bad 3 "gid" "gid = 1-2^32"
	cases_done
}

# mksock PATH: a Unix socket file at PATH, owned by root, mode 0644.
mksock() {
	perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0],
		Listen => 1) or die "$!\n"' "$1"
	chmod 0644 "$1"
}

@test "device nodes and sockets where a table file or directory is expected reject the table" {
	local conf=$ETC/portbind.conf f=$ETC/portbind.d/x.conf
	# /dev/zero's device as portbind.conf: never read (it would not end)
	rm -f "$conf"
	mknod -m 0644 "$conf" c 1 5
	expect_files_rejected "$conf"
	rm -f "$conf"
	mknod -m 0644 "$conf" c 1 3
	expect_files_rejected "$conf"
	rm -f "$conf"
	mknod -m 0644 "$conf" b 7 0
	expect_files_rejected "$conf"
	rm -f "$conf"
	mksock "$conf"
	expect_files_rejected "$conf"
	rm -f "$conf"
	table </dev/null
	# the same as a drop-in
	mknod -m 0644 "$f" c 1 5
	expect_files_rejected "$f"
	rm -f "$f"
	mknod -m 0644 "$f" b 7 0
	expect_files_rejected "$f"
	rm -f "$f"
	mksock "$f"
	expect_files_rejected "$f"
	rm -f "$f"
	expect_files_ok
	# and as portbind.d itself
	rm -rf "$ETC/portbind.d"
	mknod -m 0755 "$ETC/portbind.d" c 1 3
	expect_files_rejected "$ETC/portbind.d"
	rm -f "$ETC/portbind.d"
	mksock "$ETC/portbind.d"
	expect_files_rejected "$ETC/portbind.d"
	rm -f "$ETC/portbind.d"
	# a draft that is a device or a socket: refused, no hang
	mknod -m 0644 "$DRAFTS/zero.conf" c 1 5
	mksock "$DRAFTS/sock.conf"
	run as pbt_alice timeout 5 "$PB" --check "$DRAFTS/zero.conf"
	expect_status 78
	run as pbt_alice timeout 5 "$PB" --check "$DRAFTS/sock.conf"
	expect_status 78
}

@test "odd portbind.d names never reach a terminal raw: no control byte, no extra line" {
	local d=$ETC/portbind.d n
	for n in $'a\nportbind: table OK.conf' $'\033]0;pwned\007.conf' $'\033[2J\033[H.conf' \
		$'x\x9b31m.conf' $'x\rportbind: table OK.conf' '%n%s%n.conf' $'a\tb.conf'; do
		printf '[z]\nport = 9002\nuser = pbt_bob\n' >"$d/$n"
		chmod 0644 "$d/$n"
		run timeout 5 "$PB" --check
		[ "$status" -eq 78 ] || fail "name $(printf %q "$n") accepted"
		[ "$(grep -c . <<<"$output")" -eq 2 ] || fail "name $(printf %q "$n"): expected 2 lines"
		! LC_ALL=C grep -q '[^[:print:]]' <<<"$output" || fail "name $(printf %q "$n"): a raw control byte"
		expect_no_line "table OK"
		run as pbt_alice timeout 5 "$PB" 80 -- "$PROBE"
		expect_refused 78
		! LC_ALL=C grep -q '[^[:print:]]' <<<"$output" || fail "name $(printf %q "$n"): a raw control byte"
		rm -f "$d/$n"
	done
	expect_files_ok
}

@test "a pinned program that is a script: 126 with one line, the script never runs, nothing bound" {
	local s=$PROGDIR/pbt-tbl-script
	printf '#!/bin/sh\necho SCRIPT-RAN\n' >"$s"
	chown root:root "$s"
	chmod 0755 "$s"
	table <<T
[web]
port = 80
user = pbt_alice
[script]
port = 87
program = $s
user = pbt_alice
T
	run as pbt_alice "$PB" 87 -- "$s"
	expect_refused 126 "script"
	expect_no_line "SCRIPT-RAN"
	run "$PB" 87 pbt_alice -- "$s"
	expect_refused 126 "script"
	expect_no_line "SCRIPT-RAN"
	expect_unbound 87
	# the same script on a port without a pin runs (it is executable)
	run as pbt_alice "$PB" 8087 -- "$s"
	expect_status 0
	[ "$output" = SCRIPT-RAN ] || fail "the unpinned script should run"
	expect_unbound 8087
}
