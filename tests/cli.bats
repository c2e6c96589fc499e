#!/usr/bin/env bats
# The command line as a caller sees it: every malformed argument vector is
# a usage error (64) with exactly one "portbind: ..." line and nothing run or
# bound; USER forms; the modes --help, --version, --dry-run, -v, --config.
# Callers are pbt_alice unless a test says otherwise.
load lib
bats_require_minimum_version 1.5.0

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
[dns]
port = 53
group = pbt_web
[bobs]
port = 8080
user = pbt_bob
T
	nbad=0
}

# Like expect_refused, but returns instead of failing the test, and says
# why on stdout, so that a loop of cases can go on and report every one.
refusal() {
	local want=$1 frag=$2
	[ "$status" -eq "$want" ] || { echo "exit status $status, expected $want"; return 1; }
	[ "$(grep -c . <<<"$output")" -eq 1 ] || { echo "expected exactly one line of output"; return 1; }
	[[ "$output" == "portbind: "* ]] || { echo "expected 'portbind: ...'"; return 1; }
	[ -z "$frag" ] || grep -qF -- "$frag" <<<"$output" ||
		{ echo "expected a line containing: $frag"; return 1; }
	! grep -q '^uid=' <<<"$output" || { echo "the command ran"; return 1; }
}

# One case of a table: STATUS FRAGMENT ARG... -- `portbind ARG...`, run by
# $caller (pbt_alice by default, "root" for root), is refused with STATUS
# and one line containing FRAGMENT. A failing case is printed, counted in
# nbad, and the loop goes on; the test ends with `cases_done`.
caller=pbt_alice
refuse() {
	local want=$1 frag=$2 why
	shift 2
	# (run -127 only tells bats that 127 is expected here, not a typo)
	local flag=--
	[ "$want" != 127 ] || flag=-127
	if [ "$caller" = root ]; then
		run "$flag" "$PB" "$@"
	else
		run "$flag" as "$caller" "$PB" "$@"
	fi
	if ! why=$(refusal "$want" "$frag"); then
		printf 'FAILED CASE (as %s): portbind%s\n  %s\n  got status %s, output:\n%s\n' \
			"$caller" "$(printf ' %q' "$@")" "$why" "$status" "$output" >&2
		nbad=$((nbad + 1))
	fi
}

# ARG... is accepted: with --dry-run in front it exits 0 and runs nothing.
accept_dry() {
	run as "$caller" "$PB" --dry-run "$@"
	if [ "$status" -ne 0 ] || grep -q '^uid=' <<<"$output"; then
		printf 'FAILED CASE (as %s): portbind --dry-run%s\n  expected exit 0\n  got status %s, output:\n%s\n' \
			"$caller" "$(printf ' %q' "$@")" "$status" "$output" >&2
		nbad=$((nbad + 1))
	fi
}

cases_done() {
	[ "$nbad" -eq 0 ] || fail "$nbad case(s) failed (see FAILED CASE above)"
	local p
	for p in 80 443 53 8080; do
		expect_port_free "$p"
	done
}

@test "bad ports are usage errors" {
	refuse 64 "bad SPEC" 0 -- "$PROBE"
	refuse 64 "bad SPEC" 65536 -- "$PROBE"
	refuse 64 "bad SPEC" 99999 -- "$PROBE"
	refuse 64 "" -1 -- "$PROBE"
	refuse 64 "bad SPEC" +80 -- "$PROBE"
	refuse 64 "bad SPEC" " 80" -- "$PROBE"
	refuse 64 "bad SPEC" "80 " -- "$PROBE"
	refuse 64 "bad SPEC" $'80\n' -- "$PROBE"
	refuse 64 "bad SPEC" 080 -- "$PROBE"
	refuse 64 "bad SPEC" 00080 -- "$PROBE"
	refuse 64 "bad SPEC" 0x50 -- "$PROBE"
	refuse 64 "bad SPEC" 80abc -- "$PROBE"
	refuse 64 "bad SPEC" 8O -- "$PROBE"
	refuse 64 "bad SPEC" 80.0 -- "$PROBE"
	refuse 64 "bad SPEC" 1e2 -- "$PROBE"
	# 4294967376 = 2^32 + 80 and 18446744073709551696 = 2^64 + 80: a parser
	# that wraps would bind port 80
	refuse 64 "bad SPEC" 4294967376 -- "$PROBE"
	refuse 64 "bad SPEC" 65616 -- "$PROBE"
	refuse 64 "bad SPEC" 18446744073709551696 -- "$PROBE"
	refuse 64 "bad SPEC" 127.0.0.1:4294967376 -- "$PROBE"
	refuse 64 "" "" -- "$PROBE"
	refuse 64 "bad SPEC" "$(rep 300 9)" -- "$PROBE"
	refuse 64 "bad SPEC" "$(rep 299 0)80" -- "$PROBE"
	refuse 64 "bad SPEC" 127.0.0.1:0 -- "$PROBE"
	refuse 64 "bad SPEC" 127.0.0.1: -- "$PROBE"
	refuse 64 "bad SPEC" "[::1]:65536" -- "$PROBE"
	refuse 64 "bad SPEC" "[::1]:" -- "$PROBE"
	refuse 64 "bad SPEC" /tcp -- "$PROBE"
	refuse 64 "bad SPEC" =web -- "$PROBE"
	cases_done
}

@test "bad SPECs are usage errors" {
	refuse 64 "protocol" 80/sctp -- "$PROBE"
	refuse 64 "protocol" 80/TCP -- "$PROBE"
	refuse 64 "protocol" 80/tcp6 -- "$PROBE"
	refuse 64 "protocol" 80/tc -- "$PROBE"
	refuse 64 "protocol" 80/ -- "$PROBE"
	refuse 64 "bad SPEC" / -- "$PROBE"
	refuse 64 "bad SPEC" 80/tcp/udp -- "$PROBE"
	# IPv6 must be bracketed, literal, not v4-mapped, without scope id
	refuse 64 "bad SPEC" ::1:80 -- "$PROBE"
	refuse 64 "bad SPEC" :::80 -- "$PROBE"
	refuse 64 "bad SPEC" "[::1:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[::1]80" -- "$PROBE"
	refuse 64 "bad SPEC" "[::1]" -- "$PROBE"
	refuse 64 "bad SPEC" "::1]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[[::1]]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[::ffff:127.0.0.1]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[::ffff:7f00:1]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[fe80::1%lo]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[127.0.0.1]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[]:80" -- "$PROBE"
	refuse 64 "bad SPEC" "[localhost]:80" -- "$PROBE"
	# IPv4: dotted quad only, as inet_pton reads it
	refuse 64 "bad SPEC" 127.000.0.1:80 -- "$PROBE"
	refuse 64 "bad SPEC" 127.0.0.01:80 -- "$PROBE"
	refuse 64 "bad SPEC" 1.2.3.4.5:80 -- "$PROBE"
	refuse 64 "bad SPEC" 127.1:80 -- "$PROBE"
	refuse 64 "bad SPEC" 2130706433:80 -- "$PROBE"
	refuse 64 "bad SPEC" 0x7f.0.0.1:80 -- "$PROBE"
	refuse 64 "bad SPEC" 256.0.0.1:80 -- "$PROBE"
	refuse 64 "bad SPEC" localhost:80 -- "$PROBE"
	refuse 64 "bad SPEC" :80 -- "$PROBE"
	refuse 64 "bad SPEC" " 127.0.0.1:80" -- "$PROBE"
	# NAME: 1-255 printable ASCII bytes without ':' or ','
	refuse 64 "NAME" 80= -- "$PROBE"
	refuse 64 "NAME" 80/tcp= -- "$PROBE"
	refuse 64 "NAME" 80=a:b -- "$PROBE"
	refuse 64 "NAME" 80=: -- "$PROBE"
	refuse 64 "NAME" $'80=a\tb' -- "$PROBE"
	refuse 64 "NAME" $'80=a\nb' -- "$PROBE"
	refuse 64 "NAME" $'80=a\x01b' -- "$PROBE"
	refuse 64 "NAME" $'80=a\x1b[31mb' -- "$PROBE"
	refuse 64 "NAME" $'80=a\x7fb' -- "$PROBE"
	refuse 64 "NAME" $'80=caf\xc3\xa9' -- "$PROBE"
	refuse 64 "NAME" "80=$(rep 256 n)" -- "$PROBE"
	refuse 64 "NAME" "80=$(rep 4000 n)" -- "$PROBE"
	# the list: duplicates, at most 64, no empty item
	refuse 64 "duplicate" 80,80/tcp -- "$PROBE"
	refuse 64 "duplicate" 80/tcp,80 -- "$PROBE"
	refuse 64 "duplicate" 80=a,80=b -- "$PROBE"
	refuse 64 "duplicate" 127.0.0.1:80,127.0.0.1:80/tcp -- "$PROBE"
	refuse 64 "duplicate" "[::1]:80,[0:0:0:0:0:0:0:1]:80" -- "$PROBE"
	refuse 64 "duplicate" 53/udp,80,53/udp -- "$PROBE"
	refuse 64 "64" "$(seq -s, 2000 2064)" -- "$PROBE"
	refuse 64 "64" "$(seq -s, 2000 3000)" -- "$PROBE"
	refuse 64 "empty" 80,,81 -- "$PROBE"
	refuse 64 "empty" ,80 -- "$PROBE"
	refuse 64 "empty" 80, -- "$PROBE"
	refuse 64 "empty" , -- "$PROBE"
	refuse 64 "" 80,81x -- "$PROBE"
	cases_done
}

@test "well-formed SPECs are accepted (boundaries of the rules above)" {
	accept_dry 80 -- "$PROBE"
	accept_dry 80/tcp -- "$PROBE"
	accept_dry 443/tcp -- "$PROBE"
	accept_dry 53/udp -- "$PROBE"
	accept_dry 53/tcp -- "$PROBE"
	accept_dry 127.0.0.1:80 -- "$PROBE"
	accept_dry 0.0.0.0:80 -- "$PROBE"
	accept_dry "[::1]:80" -- "$PROBE"
	accept_dry "[::]:80" -- "$PROBE"
	accept_dry "[0:0:0:0:0:0:0:1]:443/tcp" -- "$PROBE"
	accept_dry 80=x -- "$PROBE"
	accept_dry "80=a name with spaces" -- "$PROBE"
	accept_dry "80/tcp=$(rep 255 n)" -- "$PROBE"
	accept_dry 65535 -- "$PROBE"
	accept_dry 65535/udp -- "$PROBE"
	accept_dry 1024 -- "$PROBE"
	accept_dry 80,443,53/udp,53/tcp -- "$PROBE"
	accept_dry 53,53/udp=other -- "$PROBE"
	accept_dry 80,127.0.0.1:80 -- "$PROBE"
	accept_dry "$(seq -s, 2000 2063)" -- "$PROBE"
	accept_dry --backlog 1 80 -- "$PROBE"
	accept_dry --backlog=65535 80 -- "$PROBE"
	accept_dry --reuseport --allow-new-privs -v 80 -- "$PROBE"
	accept_dry --inetd 80 -- "$PROBE"
	accept_dry 80 pbt_alice -- "$PROBE" --ignored-by-portbind
	cases_done
}

@test "64 SPECs bind 64 sockets on fds 3 to 66" {
	run as pbt_alice "$PB" "$(seq -s, 2000 2063)" -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDS)" = 64 ] || fail "LISTEN_FDS"
	expect_line "fd.66=socket"
	expect_line "port=2063"
}

@test "a malformed command line around SPEC and COMMAND is a usage error" {
	refuse 64 "SPEC"
	refuse 64 "SPEC" -- "$PROBE"
	refuse 64 "SPEC" --
	refuse 64 "--" 80
	refuse 64 "--" 80 "$PROBE"
	refuse 64 "--" 80 "$PROBE" -v
	refuse 64 "--" 80 pbt_alice
	refuse 64 "--" 80 pbt_alice "$PROBE"
	refuse 64 "--" 80 pbt_alice extra -- "$PROBE"
	refuse 64 "COMMAND" 80 --
	refuse 64 "COMMAND" 80 pbt_alice --
	refuse 64 "COMMAND" 80 -- ""
	refuse 64 "COMMAND" 80 -- "" "$PROBE"
	refuse 64 "USER" 80 "" -- "$PROBE"
	refuse 64 "USER" 80 pbt_alice: -- "$PROBE"
	refuse 64 "USER" 80 :pbt_alice -- "$PROBE"
	refuse 64 "USER" 80 : -- "$PROBE"
	refuse 64 "USER" 80 pbt_alice:pbt_alice:pbt_alice -- "$PROBE"
	cases_done
}

@test "unknown, repeated and misused options are usage errors" {
	# unknown; no abbreviations, no bundling, no case folding
	refuse 64 "unknown option" --frobnicate 80 -- "$PROBE"
	refuse 64 "unknown option" -x 80 -- "$PROBE"
	refuse 64 "unknown option" - 80 -- "$PROBE"
	refuse 64 "unknown option" --inet 80 -- "$PROBE"
	refuse 64 "unknown option" --in 80 -- "$PROBE"
	refuse 64 "unknown option" --INETD 80 -- "$PROBE"
	refuse 64 "unknown option" ---inetd 80 -- "$PROBE"
	refuse 64 "unknown option" -vh 80 -- "$PROBE"
	refuse 64 "unknown option" -vv 80 -- "$PROBE"
	refuse 64 "unknown option" -v=1 80 -- "$PROBE"
	refuse 64 "unknown option" --backlog5 80 -- "$PROBE"
	refuse 64 "unknown option" --config-file=x 80 -- "$PROBE"
	refuse 64 "unknown option" $'--x\nportbind: granted' 80 -- "$PROBE"
	refuse 64 "unknown option" "--$(rep 5000 x)" 80 -- "$PROBE"
	# repeated, also in its other spelling
	refuse 64 "twice" --inetd --inetd 80 -- "$PROBE"
	refuse 64 "twice" --reuseport --reuseport 80 -- "$PROBE"
	refuse 64 "twice" --allow-new-privs --allow-new-privs 80 -- "$PROBE"
	refuse 64 "twice" --dry-run --dry-run 80 -- "$PROBE"
	refuse 64 "twice" -v -v 80 -- "$PROBE"
	refuse 64 "twice" -v --verbose 80 -- "$PROBE"
	refuse 64 "twice" --backlog 5 --backlog=6 80 -- "$PROBE"
	refuse 64 "twice" --backlog 5 --backlog 5 80 -- "$PROBE"
	refuse 64 "twice" --config /x --config /y 80 -- "$PROBE"
	refuse 64 "twice" --check --check
	refuse 64 "twice" --list --list
	refuse 64 "twice" -h --help
	refuse 64 "twice" --version --version
	# a value where none is taken
	refuse 64 "no value" --inetd=1 80 -- "$PROBE"
	refuse 64 "no value" --reuseport=yes 80 -- "$PROBE"
	refuse 64 "no value" --allow-new-privs=0 80 -- "$PROBE"
	refuse 64 "no value" --dry-run= 80 -- "$PROBE"
	refuse 64 "no value" --verbose=1 80 -- "$PROBE"
	refuse 64 "no value" --list=all
	refuse 64 "no value" --help=1
	refuse 64 "no value" --version=1
	# --backlog N, 1..65535, decimal
	refuse 64 "backlog" --backlog 0 80 -- "$PROBE"
	refuse 64 "backlog" --backlog 65536 80 -- "$PROBE"
	refuse 64 "backlog" --backlog abc 80 -- "$PROBE"
	refuse 64 "backlog" --backlog -1 80 -- "$PROBE"
	refuse 64 "backlog" --backlog 080 80 -- "$PROBE"
	refuse 64 "backlog" --backlog " 5" 80 -- "$PROBE"
	refuse 64 "backlog" --backlog 4294967297 80 -- "$PROBE"
	refuse 64 "backlog" --backlog=0x10 80 -- "$PROBE"
	refuse 64 "backlog" --backlog "" 80 -- "$PROBE"
	refuse 64 "backlog" --backlog= 80 -- "$PROBE"
	refuse 64 "backlog" --backlog
	# --inetd takes exactly one SPEC
	refuse 64 "inetd" --inetd 80,443 -- "$PROBE"
	refuse 64 "inetd" --inetd 80,53/udp -- "$PROBE"
	# the modes take no SPEC, USER or COMMAND, no run option, and exclude each other
	refuse 64 "" --check 80 -- "$PROBE"
	refuse 64 "" --check -- "$PROBE"
	refuse 64 "" --list 80 -- "$PROBE"
	refuse 64 "" --list 80
	refuse 64 "" --version 80 -- "$PROBE"
	refuse 64 "" --help 80 -- "$PROBE"
	refuse 64 "" --check --list
	refuse 64 "" --list --version
	refuse 64 "" --help --version
	refuse 64 "" --dry-run --check
	refuse 64 "" --inetd --list
	refuse 64 "" --backlog 5 --list
	refuse 64 "" --dry-run --list
	refuse 64 "" --reuseport --version
	# --self-bind binds nothing: no socket options, not with the modes
	refuse 64 "self-bind" --self-bind --inetd 80 -- "$PROBE"
	refuse 64 "self-bind" --self-bind --backlog 5 80 -- "$PROBE"
	refuse 64 "self-bind" --self-bind --reuseport 80 -- "$PROBE"
	refuse 64 "" --self-bind --list
	refuse 64 "twice" --self-bind --self-bind 80 -- "$PROBE"
	cases_done
}

@test "a command that cannot be found or executed: 127 or 126, one line, nothing left bound" {
	# a PATH without directories the caller cannot search (execvp says
	# EACCES, 126, when it met one)
	PATH=/usr/local/bin:/usr/bin:/bin
	refuse 127 "" 80 -- pbt-no-such-command
	refuse 127 "" 80 -- /nonexistent/probe
	refuse 127 "" 80 -- "$PROBE/x"
	refuse 126 "" 80 -- /etc/passwd
	refuse 126 "" 80 -- /
	refuse 126 "" 80 -- "${PROBE%/*}"
	cases_done
}

@test "argc 0 is a usage error with one 'portbind: ' line" {
	# perl's exec { PROG } () calls execve with an empty argv; Linux 5.18
	# and later turn that into argv = { "", NULL }: either way no SPEC.
	run as pbt_alice perl -e 'exec { $ARGV[0] } () or exit 99' "$PB"
	expect_refused 64
}

@test "a huge argv[0] or one with a newline does not change the message" {
	local huge
	huge=$(rep 120000 A)
	run as pbt_alice perl -e '$p = shift; exec { $p } @ARGV or exit 99' "$PB" "$huge" 0 -- "$PROBE"
	expect_refused 64
	run as pbt_alice perl -e '$p = shift; exec { $p } @ARGV or exit 99' "$PB" \
		$'evil\nportbind: granted' 0 -- "$PROBE"
	expect_refused 64
	expect_no_line "evil"
	run as pbt_alice perl -e '$p = shift; exec { $p } @ARGV or exit 99' "$PB" \
		'%s%n%s' 80 pbt_bob -- "$PROBE"
	expect_refused 77
	# and a granted run is not affected by it either
	run as pbt_alice perl -e '$p = shift; exec { $p } @ARGV or exit 99' "$PB" "$huge" 80 -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = 59001,59001,59001 ] || fail "uid"
}

@test "USER forms: unknown, malformed, or another user's are refused" {
	refuse 67 "unknown user" 80 pbt_nosuchuser -- "$PROBE"
	refuse 67 "unknown user" 80 PBT_ALICE -- "$PROBE"
	refuse 67 "unknown user" 80 "pbt_alice " -- "$PROBE"
	refuse 67 "unknown user" 80 59001 -- "$PROBE"
	refuse 64 "#-1" 80 "#-1" -- "$PROBE"
	refuse 64 "#4294967295" 80 "#4294967295" -- "$PROBE"
	refuse 64 "#4294967296" 80 "#4294967296" -- "$PROBE"
	refuse 64 "#" 80 "#18446744073709610617" -- "$PROBE"
	refuse 64 "#0x10" 80 "#0x10" -- "$PROBE"
	refuse 64 "#+5" 80 "#+5" -- "$PROBE"
	refuse 64 "#059001" 80 "#059001" -- "$PROBE"
	refuse 64 "user id" 80 "# 59001" -- "$PROBE"
	refuse 64 "user id" 80 "#" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#-1" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#4294967295" -- "$PROBE"
	# someone else, by name or number
	refuse 77 "another user" 80 pbt_bob -- "$PROBE"
	refuse 77 "another user" 80 "#59002" -- "$PROBE"
	refuse 77 "another user" 80 root -- "$PROBE"
	refuse 77 "another user" 80 "#0" -- "$PROBE"
	refuse 77 "another user" 80 "#59099" -- "$PROBE"
	refuse 77 "another user" 80 pbt_bob:pbt_alice -- "$PROBE"
	refuse 77 "another user" 1080 pbt_bob -- "$PROBE"
	refuse 77 "another user" 8080 pbt_bob -- "$PROBE"
	# herself with another group, even one she is a member of
	refuse 77 "another group" 80 pbt_alice:pbt_web -- "$PROBE"
	refuse 77 "another group" 80 pbt_alice:pbt_dev -- "$PROBE"
	refuse 77 "another group" 80 pbt_alice:root -- "$PROBE"
	refuse 77 "another group" 80 "pbt_alice:#0" -- "$PROBE"
	refuse 77 "another group" 80 "#59001:#59050" -- "$PROBE"
	refuse 67 "unknown group" 80 pbt_alice:pbt_nosuchgroup -- "$PROBE"
	cases_done
}

@test "a non-root caller may name itself, by name or #uid, and keeps its groups exactly" {
	local u
	for u in pbt_alice "#59001" pbt_alice:pbt_alice "pbt_alice:#59001" "#59001:pbt_alice"; do
		run as pbt_alice "$PB" 80 "$u" -- "$PROBE"
		expect_status 0
		[ "$(field uid)" = 59001,59001,59001 ] || fail "uid for USER $u"
		[ "$(field gid)" = 59001,59001,59001 ] || fail "gid for USER $u"
		[ "$(field groups)" = 59001,59050 ] || fail "groups for USER $u"
		expect_line "fd.3=socket"
	done
	# pbt_carol's supplementary groups are not shed or extended either
	run as pbt_carol "$PB" 53/udp pbt_carol -- "$PROBE"
	expect_status 0
	[ "$(field groups)" = 59003,59050,59051 ] || fail "groups"
}

@test "root: USER is required, uid 0 is refused, errors are one line" {
	caller=root
	refuse 64 "USER" 80 -- "$PROBE"
	refuse 77 "uid 0" 80 root -- "$PROBE"
	refuse 77 "uid 0" 80 "#0" -- "$PROBE"
	refuse 77 "uid 0" 80 root:pbt_web -- "$PROBE"
	refuse 77 "uid 0" 80 "#0:#59050" -- "$PROBE"
	refuse 67 "unknown user" 80 pbt_nosuchuser -- "$PROBE"
	refuse 67 "unknown group" 80 pbt_alice:pbt_nosuchgroup -- "$PROBE"
	refuse 67 "GROUP" 80 "#59099" -- "$PROBE"
	refuse 64 "user id" 80 "#-1" -- "$PROBE"
	refuse 64 "user id" 80 "#4294967295" -- "$PROBE"
	refuse 64 "" 0 pbt_alice -- "$PROBE"
	refuse 64 "" 80 pbt_alice --
	cases_done
	run "$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = 59001,59001,59001 ] || fail "uid"
	[ "$(field groups)" = 59001,59050 ] || fail "groups"
	# a #UID without passwd entry, with a GROUP: no supplementary groups
	# (the list may hold the primary gid, as initgroups would put it there)
	run "$PB" 2000 "#59099:pbt_web" -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = 59099,59099,59099 ] || fail "uid"
	[ "$(field gid)" = 59050,59050,59050 ] || fail "gid"
	case "$(field groups)" in "" | 59050) ;; *) fail "groups" ;; esac
}

@test "--help: exit 0, usage and exit codes on stdout, nothing run" {
	local a
	for a in --help -h; do
		run --separate-stderr as pbt_alice "$PB" "$a"
		expect_status 0
		[ -z "$stderr" ] || fail "stderr: $stderr"
		expect_line "usage: portbind"
		expect_line "SPEC"
		expect_line "--"
		local code
		for code in 64 67 69 71 75 77 78 126 127; do
			expect_line "$code"
		done
		expect_no_line "uid="
	done
}

@test "--version: exit 0, 'portbind 0.1.0'" {
	run --separate-stderr as pbt_alice "$PB" --version
	expect_status 0
	[ "$output" = "portbind 0.1.0" ] || fail "version line"
	[ -z "$stderr" ] || fail "stderr: $stderr"
	run "$PB" --version
	expect_status 0
	[ "$output" = "portbind 0.1.0" ] || fail "version line as root"
}

@test "--dry-run: the decision on stdout, exit 0 if granted, nothing bound or run" {
	run --separate-stderr as pbt_alice "$PB" --dry-run 80,53/udp,127.0.0.1:443,2000=free -- "$PROBE" --sleep 30
	expect_status 0
	[ -z "$stderr" ] || fail "stderr: $stderr"
	expect_line "80/tcp"
	expect_line "[web]"
	expect_line "53/udp"
	expect_line "[dns]"
	expect_line "127.0.0.1:443/tcp"
	expect_line "2000/tcp"
	expect_line "free"
	expect_line "$PROBE"
	expect_no_line "uid="
	expect_port_free 80
	expect_port_free 53
	expect_port_free 443
	expect_port_free 2000
}

@test "--dry-run: exit 77 when any SPEC is denied, explained on stdout, nothing bound or run" {
	run --separate-stderr as pbt_alice "$PB" --dry-run 80,8080 -- "$PROBE"
	expect_status 77
	expect_line "80/tcp"
	expect_line "8080/tcp"
	expect_line "denied"
	[[ "$stderr" == "portbind: "* ]] || fail "stderr: $stderr"
	[ "$(grep -c . <<<"$stderr")" -le 1 ] || fail "stderr: $stderr"
	expect_no_line "uid="
	expect_port_free 80
	expect_port_free 8080
	run --separate-stderr as pbt_alice "$PB" --dry-run 81 -- "$PROBE"
	expect_status 77
	expect_line "81/tcp"
	expect_line "denied"
	expect_no_line "uid="
	# a usage error stays a usage error
	run as pbt_alice "$PB" --dry-run 0 -- "$PROBE"
	expect_refused 64
}

@test "--self-bind with no guard enforcing the table here: exit 69, one line, nothing run; --dry-run and --list say kernel: no" {
	# The suites run in a private network namespace: a guard of the
	# host's, if any, enforces another one.
	run --separate-stderr as pbt_alice "$PB" --self-bind 80,53/udp -- "$PROBE" --sleep 30
	expect_status 69
	[[ "$stderr" == "portbind: --self-bind: the ownership table is not enforced: "*"; nothing was started" ]] ||
		fail "stderr: $stderr"
	[ "$(grep -c . <<<"$stderr")" = 1 ] || fail "one line: $stderr"
	[ -z "$output" ] || fail "the command ran: $output"
	expect_port_free 80
	run --separate-stderr as pbt_alice "$PB" --self-bind --dry-run 80 -- "$PROBE"
	expect_status 0
	expect_line "80/tcp name=web: granted by [web]"
	expect_line "; kernel: no"
	expect_line "; --self-bind needs it enforced"
	run --separate-stderr as pbt_alice "$PB" --list
	expect_status 0
	expect_line " kernel=no ("
	expect_no_line "kernel=yes"
	expect_line "kernel: not enforced: "
	# a denial stays a denial (77), decided before the guard is asked
	run --separate-stderr as pbt_alice "$PB" --self-bind 8080 -- "$PROBE"
	expect_status 77
}

@test "-v: the decision on stderr, then the command runs with the sockets" {
	local a
	for a in -v --verbose; do
		run --separate-stderr as pbt_alice "$PB" "$a" 80,53/udp -- "$PROBE"
		expect_status 0
		[ "$(field uid)" = 59001,59001,59001 ] || fail "uid ($a)"
		expect_line "fd.3=socket"
		expect_line "fd.4=socket"
		grep -qF "80/tcp" <<<"$stderr" || fail "no decision for 80/tcp on stderr ($a): $stderr"
		grep -qF "[web]" <<<"$stderr" || fail "no [web] on stderr ($a): $stderr"
		grep -qF "53/udp" <<<"$stderr" || fail "no decision for 53/udp on stderr ($a): $stderr"
		expect_no_line "granted by"
	done
	expect_port_free 80
	run --separate-stderr as pbt_alice "$PB" -v 8080 -- "$PROBE"
	expect_status 77
	grep -qF "denied" <<<"$stderr" || fail "stderr: $stderr"
	expect_no_line "uid="
}

@test "--config is for root only" {
	printf '[mine]\nport = 80\nuser = pbt_alice\n' > "$BATS_TEST_TMPDIR/t.conf"
	chmod 0644 "$BATS_TEST_TMPDIR/t.conf"
	refuse 77 "root" --config "$BATS_TEST_TMPDIR/t.conf" 80 -- "$PROBE"
	refuse 77 "root" --config="$BATS_TEST_TMPDIR/t.conf" 80 -- "$PROBE"
	refuse 77 "root" --config "$ETC/portbind.conf" 80 -- "$PROBE"
	refuse 77 "root" --config /nonexistent 80 -- "$PROBE"
	refuse 77 "root" --config "$BATS_TEST_TMPDIR/t.conf" --list
	refuse 77 "root" --config "$BATS_TEST_TMPDIR/t.conf" --check
	refuse 77 "root" --config "$BATS_TEST_TMPDIR/t.conf" --dry-run 80 -- "$PROBE"
	refuse 64 "" --config "$BATS_TEST_TMPDIR/t.conf" --check "$BATS_TEST_TMPDIR/t.conf"
	refuse 64 "" --config 80 -- "$PROBE"
	cases_done
}

@test "--config FILE by root replaces the table and portbind.d" {
	# beside the table: every directory above FILE must be root's alone (not /tmp)
	local f=$ETC/pbt-cli-t.conf
	printf '[other]\nport = 80\nuser = pbt_dave\n' > "$f"
	chown root:root "$f"
	chmod 0644 "$f"
	# portbind.d is not read with --config: a broken drop-in does not matter
	echo 'garbage' | dropin broken.conf
	run "$PB" --config "$f" 80 pbt_dave -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = 59004,59004,59004 ] || fail "uid"
	[ "$(field env.LISTEN_FDNAMES)" = other ] || fail "LISTEN_FDNAMES"
	run "$PB" --config="$f" --list
	expect_status 0
	expect_line "other"
	expect_no_line "web"
	run "$PB" --config "$f" --check
	expect_status 0
	expect_line "table OK"
	# the installed table is not consulted: its [web] would grant this
	run "$PB" --config "$f" 80 pbt_alice -- "$PROBE"
	expect_refused 77
	# and a bad --config file is a bad table
	printf '[other]\nport = 0\nuser = pbt_dave\n' > "$f"
	run "$PB" --config "$f" 80 pbt_dave -- "$PROBE"
	expect_status 78
	expect_line "$f:2:"
	expect_no_line "uid="
	# its owner and mode are checked like the installed table's
	printf '[other]\nport = 80\nuser = pbt_dave\n' > "$f"
	chown pbt_alice "$f"
	run "$PB" --config "$f" 80 pbt_dave -- "$PROBE"
	expect_status 78
	expect_no_line "uid="
	expect_port_free 80
	rm -f "$f"
}

@test "numbers that wrap 16, 32 or 64 bits are refused in every numeric place of the command line" {
	# 65616 = 2^16 + 80, 4294967376 = 2^32 + 80, 18446744073709551696 =
	# 2^64 + 80: a parser that wraps would read 80. Likewise 59001 (alice),
	# 59050 (pbt_web), 0 (root) and 7 (a backlog) plus 2^16, 2^32, 2^64.
	local port
	for port in 65616 4294967376 18446744073709551696 99999999999999999999999999; do
		refuse 64 "bad SPEC" "$port" -- "$PROBE"
		refuse 64 "bad SPEC" "$port/udp" -- "$PROBE"
		refuse 64 "bad SPEC" "127.0.0.1:$port" -- "$PROBE"
		refuse 64 "bad SPEC" "[::1]:$port/udp" -- "$PROBE"
		refuse 64 "bad SPEC" "443,$port" -- "$PROBE"
	done
	refuse 64 "backlog" --backlog 65543 80 -- "$PROBE"
	refuse 64 "backlog" --backlog 4294967303 80 -- "$PROBE"
	refuse 64 "backlog" --backlog=18446744073709551623 80 -- "$PROBE"
	# USER and GROUP ids, for a user naming herself (the wrapped value is
	# her own) and for root (the wrapped value is root's or pbt_web's)
	refuse 64 "user id" 80 "#4295026297" -- "$PROBE"
	refuse 64 "user id" 80 "#18446744073709610617" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#4295026297" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#18446744073709610617" -- "$PROBE"
	refuse 64 "group id" 80 "#59001:#4294967296" -- "$PROBE"
	caller=root
	refuse 64 "user id" 80 "#4294967296" -- "$PROBE"
	refuse 64 "user id" 80 "#18446744073709551616" -- "$PROBE"
	refuse 64 "user id" 80 "#4295026297" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#4294967296" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#18446744073709551616" -- "$PROBE"
	refuse 64 "group id" 80 "pbt_alice:#4295026346" -- "$PROBE"
	refuse 64 "bad SPEC" 4294967376 pbt_alice -- "$PROBE"
	refuse 64 "backlog" --backlog 4294967303 80 pbt_alice -- "$PROBE"
	cases_done
}

@test "everything after -- belongs to the command, options and '--' included" {
	local -a args=(--dry-run -v --help --version --config /nonexistent --inetd --backlog 0
		--check --list -- 80 pbt_bob -- "")
	run as pbt_alice "$PB" 8081 -- printf '<%s>\n' "${args[@]}"
	expect_status 0
	[ "$output" = "$(printf '<%s>\n' "${args[@]}")" ] || fail "the command should get exactly its arguments"
	run "$PB" 8081 pbt_alice -- printf '<%s>\n' "${args[@]}"
	expect_status 0
	[ "$output" = "$(printf '<%s>\n' "${args[@]}")" ] || fail "the command should get exactly its arguments (root)"
	# and the socket, with portbind's own options left as they were
	run as pbt_alice "$PB" 80 -- "$PROBE" --sleep 0
	expect_status 0
	[ "$(field env.LISTEN_FDS)" = 1 ] || fail "LISTEN_FDS"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1"
	expect_unbound 8081
	expect_unbound 80
}

@test "caller strings with a newline or an escape in USER, GROUP, COMMAND or a draft's name give one escaped line" {
	local evil=$'x\nportbind: granted\e[2J' name=$'x\nportbind granted\e[2J'
	# (no ':' in a name: it would split USER:GROUP)
	run as pbt_alice "$PB" 8080 "$name" -- "$PROBE"
	expect_refused 67 'unknown user '"'"'x\x0aportbind granted\x1b[2J'"'"
	run "$PB" 8080 "pbt_alice:$name" -- "$PROBE"
	expect_refused 67 'unknown group '"'"'x\x0aportbind granted\x1b[2J'"'"
	run -127 as pbt_alice env PATH=/usr/bin:/bin "$PB" 8080 -- "$evil"
	expect_refused 127 'x\x0aportbind: granted\x1b[2J: command not found'
	run -127 as pbt_alice "$PB" 8080 -- "/nonexistent/$evil"
	expect_refused 127 '/nonexistent/x\x0aportbind: granted\x1b[2J: No such file'
	# a draft whose name holds the forgery: every line names it escaped
	local d=$PB_PREFIX/draft-dir
	install -d -m 0755 "$d"
	printf '[a]\nport = 0\nuser = *\n' > "$d/$evil"
	run "$PB" --check "$d/$evil"
	rm -rf "$d"
	expect_status 78
	[ "$(grep -c . <<<"$output")" -eq 2 ] || fail "expected one error line and one summary line"
	expect_line 'x\x0aportbind: granted\x1b[2J:2: bad port'
	! LC_ALL=C grep -q $'\e' <<<"$output" || fail "a raw escape byte was printed"
}
