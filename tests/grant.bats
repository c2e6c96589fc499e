#!/usr/bin/env bats
# The grant/deny matrix: who may bind which (protocol, address, port), as
# decided by the ownership table, for every way a section can name its
# users (user, primary or supplementary group, uid range, everyone) and
# every restriction it can add (address, protocol, pinned program).
#
# Each @test runs one table of cases, one per line:
#   caller | SPEC | USER | COMMAND | status | LISTEN_FDNAMES or message
# caller:  a test user, or "root".
# USER:    the USER argument, "-" for none.
# COMMAND: probe   the installed probe ($PROBE, the pinned program)
#          copy    a copy of the probe in a directory pbt_alice owns
#          link    a symbolic link to $PROBE in that directory
#          PATH    "probe", found through PATH in $PB_PREFIX/libexec
#          shadow  "probe", found through PATH in pbt_alice's directory first
#          true    /bin/true
# status 0: the probe ran as the target with one listening/bound socket per
#           SPEC on fd 3... and LISTEN_FDNAMES as given; every port is free
#           again afterwards.
# status N: exactly one line "portbind: ..." containing the message, exit N,
#           the command never ran and no port of the request is bound.
# All failing cases of a table are reported, each with its line.
load lib

setup() {
	table <<T
; users by name
[web]
port = 80 443
protocol = tcp
user = pbt_alice

; groups: pbt_bob through his primary group, pbt_carol through a
; supplementary one
[devs]
port = 8443
group = pbt_dev

; pbt_alice and pbt_carol through their supplementary group
[webgrp]
port = 8444
group = pbt_web

; pbt_carol and pbt_dave by uid range
[range]
port = 82
uid = 59003-59004

[all]
port = 83
user = *

[local]
port = 84
address = 127.0.0.1 ::1
user = pbt_alice

[wild]
port = 85
address = 0.0.0.0 ::
user = pbt_alice

; above 1024, for one address: the port is owned on every address
[daveaddr]
port = 8085
address = 127.0.0.1
user = pbt_dave

[tcponly]
port = 86 9001
protocol = tcp
user = pbt_alice

[pinned]
port = 87
program = $PROBE
user = pbt_alice

[bobs]
port = 9000
user = pbt_bob

; the first section that matches names the socket
[first]
port = 88
user = pbt_alice
[second]
port = 88
user = pbt_alice pbt_bob
T
	# A directory of pbt_alice's own, reachable by her, holding a copy of
	# the probe and a symbolic link to the pinned one.
	make_traversable "$BATS_TEST_TMPDIR"
	UDIR=$BATS_TEST_TMPDIR/alice
	install -d -m 0755 -o pbt_alice -g pbt_alice "$UDIR"
	install -m 0755 -o pbt_alice -g pbt_alice "$PROBE" "$UDIR/probe"
	ln -s "$PROBE" "$UDIR/link"
}

trim() {
	local x=$1
	x=${x#"${x%%[![:space:]]*}"}
	x=${x%"${x##*[![:space:]]}"}
	printf '%s' "$x"
}

# The numeric uid a case's command must run as.
target_uid() {
	local caller=$1 user=$2
	if [ "$user" != - ]; then
		id -u "${user%%:*}"
	elif [ "$caller" = root ]; then
		echo 0
	else
		id -u "$caller"
	fi
}

# The probe line expected for SPEC on fd FD, owned by UID.
socket_line() {
	local fd=$1 spec=${2%%=*} owner=$3 type=stream listening=1 family addr port v6only
	case $spec in
	*/udp) type=dgram listening=0 ;;
	esac
	spec=${spec%/*}
	if [[ $spec == \[* ]]; then
		family=inet6 addr=${spec%%]*} addr=${addr#[} port=${spec##*]:} v6only=1
	elif [[ $spec == *:* ]]; then
		family=inet addr=${spec%%:*} port=${spec##*:} v6only=-
	else
		family=inet6 addr=:: port=$spec v6only=0
	fi
	echo "fd.$fd=socket cloexec=0 type=$type family=$family addr=$addr port=$port listening=$listening v6only=$v6only owner=$owner"
}

spec_port() {
	local s=${1%%=*}
	s=${s%/*}
	echo "${s##*:}"
}

# expect_refused, usable where errexit is off (in a condition): stops at
# the first mismatch and returns 1.
refused() {
	expect_status "$1" || return 1
	[ "$(grep -c . <<<"$output")" -eq 1 ] || { fail "expected exactly one line of output"; return 1; }
	[[ $output == "portbind: "* ]] || { fail "expected 'portbind: ...'"; return 1; }
	[ -z "${2:-}" ] || expect_line "$2" || return 1
	expect_no_line "uid=" || return 1
}

# Runs one case; prints what is wrong and returns 1 if it fails.
check_case() {
	local caller=$1 spec=$2 user=$3 cmd=$4 want=$5 expect=$6
	local -a pre=(env) argv=("$PB" "$spec")
	local uid n i fds p

	[ "$user" = - ] || argv+=("$user")
	argv+=(--)
	case $cmd in
	probe) argv+=("$PROBE") ;;
	copy) argv+=("$UDIR/probe") ;;
	link) argv+=("$UDIR/link") ;;
	true) argv+=(/bin/true) ;;
	PATH) pre+=("PATH=$PB_PREFIX/libexec:/usr/bin:/bin") argv+=(probe) ;;
	shadow) pre+=("PATH=$UDIR:$PB_PREFIX/libexec:/usr/bin:/bin") argv+=(probe) ;;
	*) fail "bad COMMAND column '$cmd'"; return 1 ;;
	esac
	if [ "$caller" = root ]; then
		run "${pre[@]}" "${argv[@]}"
	else
		run as "$caller" "${pre[@]}" "${argv[@]}"
	fi

	IFS=, read -r -a specs <<<"$spec"
	if [ "$want" = 0 ]; then
		uid=$(target_uid "$caller" "$user")
		n=${#specs[@]}
		expect_status 0 || return 1
		[ "$(field uid)" = "$uid,$uid,$uid" ] || { fail "expected uid=$uid,$uid,$uid"; return 1; }
		fds=0,1,2
		for ((i = 0; i < n; i++)); do
			expect_line "$(socket_line $((3 + i)) "${specs[i]}" "$uid")" || return 1
			fds+=,$((3 + i))
		done
		[ "$(field fds)" = "$fds" ] || { fail "expected fds=$fds"; return 1; }
		[ "$(field env.LISTEN_FDS)" = "$n" ] || { fail "expected LISTEN_FDS=$n"; return 1; }
		[ "$(field env.LISTEN_PID)" = "$(field pid)" ] || { fail "expected LISTEN_PID = pid"; return 1; }
		[ "$(field env.LISTEN_FDNAMES)" = "$expect" ] ||
			{ fail "expected LISTEN_FDNAMES=$expect"; return 1; }
	else
		refused "$want" "$expect" || return 1
	fi
	for p in "${specs[@]}"; do
		expect_port_free "$(spec_port "$p")" || return 1
	done
}

# Runs every case read from stdin (blank lines and '#' lines skipped).
cases() {
	local line caller spec user cmd want expect bad=0 total=0
	local -a cols
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		IFS='|' read -r -a cols <<<"$line"
		if [ ${#cols[@]} -ne 6 ]; then
			echo "malformed case: $line" >&2
			bad=$((bad + 1))
			continue
		fi
		caller=$(trim "${cols[0]}") spec=$(trim "${cols[1]}") user=$(trim "${cols[2]}")
		cmd=$(trim "${cols[3]}") want=$(trim "${cols[4]}") expect=$(trim "${cols[5]}")
		total=$((total + 1))
		if ! check_case "$caller" "$spec" "$user" "$cmd" "$want" "$expect"; then
			echo "^^^ FAILED CASE: $line" >&2
			echo >&2
			bad=$((bad + 1))
		fi
	done
	[ "$total" -gt 0 ] || { echo "no cases" >&2; return 1; }
	[ "$bad" -eq 0 ] || { echo "$bad of $total case(s) failed" >&2; return 1; }
}

@test "users by name, groups (primary and supplementary), uid ranges, user = *" {
	cases <<'C'
# caller  | SPEC     | USER | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 80       | -    | probe   | 0  | web
pbt_alice | 443      | -    | probe   | 0  | web
pbt_bob   | 80       | -    | probe   | 77 | permission denied
pbt_carol | 443      | -    | probe   | 77 | permission denied
# group pbt_dev: pbt_bob's primary group, one of pbt_carol's supplementary ones
pbt_bob   | 8443     | -    | probe   | 0  | devs
pbt_carol | 8443     | -    | probe   | 0  | devs
pbt_alice | 8443     | -    | probe   | 77 | permission denied
pbt_dave  | 8443     | -    | probe   | 77 | permission denied
# group pbt_web: a supplementary group of pbt_alice and pbt_carol
pbt_alice | 8444     | -    | probe   | 0  | webgrp
pbt_carol | 8444/udp | -    | probe   | 0  | webgrp
pbt_bob   | 8444     | -    | probe   | 77 | permission denied
pbt_dave  | 8444     | -    | probe   | 77 | permission denied
# uid = 59003-59004
pbt_carol | 82       | -    | probe   | 0  | range
pbt_dave  | 82/udp   | -    | probe   | 0  | range
pbt_alice | 82       | -    | probe   | 77 | permission denied
pbt_bob   | 82       | -    | probe   | 77 | permission denied
# user = *
pbt_alice | 83       | -    | probe   | 0  | all
pbt_bob   | 83/udp   | -    | probe   | 0  | all
pbt_dave  | 83       | -    | probe   | 0  | all
C
}

@test "ports no section lists, and listed ports above 1024" {
	cases <<'C'
# caller  | SPEC      | USER | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 8080      | -    | probe   | 0  | unknown
pbt_dave  | 8080/udp  | -    | probe   | 0  | unknown
pbt_dave  | 1024      | -    | probe   | 0  | unknown
pbt_dave  | 1023      | -    | probe   | 77 | permission denied
pbt_alice | 81        | -    | probe   | 77 | permission denied
pbt_alice | 81/udp    | -    | probe   | 77 | permission denied
# 9000 belongs to pbt_bob, both protocols, although it is above 1024
pbt_bob   | 9000      | -    | probe   | 0  | bobs
pbt_bob   | 9000/udp  | -    | probe   | 0  | bobs
pbt_alice | 9000      | -    | probe   | 77 | permission denied
pbt_alice | 9000/udp  | -    | probe   | 77 | permission denied
pbt_carol | 9000      | -    | probe   | 77 | permission denied
C
}

@test "protocol restriction: a tcp-only section grants no udp" {
	cases <<'C'
# caller  | SPEC      | USER | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 86        | -    | probe   | 0  | tcponly
pbt_alice | 86/tcp    | -    | probe   | 0  | tcponly
pbt_alice | 86/udp    | -    | probe   | 77 | permission denied
pbt_alice | 80/udp    | -    | probe   | 77 | permission denied
pbt_alice | 9001      | -    | probe   | 0  | tcponly
pbt_bob   | 9001      | -    | probe   | 77 | permission denied
# no section lists 9001/udp: an unlisted unprivileged port
pbt_bob   | 9001/udp  | -    | probe   | 0  | unknown
C
}

@test "address restriction: only the listed addresses, the wildcard only if both wildcards are listed" {
	cases <<'C'
# caller  | SPEC           | USER | COMMAND | status | LISTEN_FDNAMES or message
# [local]: address = 127.0.0.1 ::1
pbt_alice | 127.0.0.1:84   | -    | probe   | 0  | local
pbt_alice | [::1]:84       | -    | probe   | 0  | local
pbt_alice | [::1]:84/udp   | -    | probe   | 0  | local
pbt_alice | 127.0.0.2:84   | -    | probe   | 77 | permission denied
pbt_alice | 84             | -    | probe   | 77 | permission denied
pbt_alice | 0.0.0.0:84     | -    | probe   | 77 | permission denied
pbt_alice | [::]:84        | -    | probe   | 77 | permission denied
pbt_bob   | 127.0.0.1:84   | -    | probe   | 77 | permission denied
# [daveaddr]: 8085 on 127.0.0.1 only, and owned, not free, on the others
# (a launch keeps only the sections that list its port, whatever their
# address: this one must still deny)
pbt_dave  | 127.0.0.1:8085 | -    | probe   | 0  | daveaddr
pbt_dave  | 127.0.0.2:8085 | -    | probe   | 77 | permission denied
pbt_bob   | 127.0.0.2:8085 | -    | probe   | 77 | permission denied
pbt_bob   | 8085           | -    | probe   | 77 | permission denied
# [wild]: address = 0.0.0.0 ::
pbt_alice | 85             | -    | probe   | 0  | wild
pbt_alice | 0.0.0.0:85     | -    | probe   | 0  | wild
pbt_alice | [::]:85        | -    | probe   | 0  | wild
pbt_alice | 127.0.0.1:85   | -    | probe   | 77 | permission denied
pbt_alice | [::1]:85       | -    | probe   | 77 | permission denied
# no address restriction: any address
pbt_alice | 127.0.0.2:80   | -    | probe   | 0  | web
pbt_alice | [::1]:443      | -    | probe   | 0  | web
pbt_alice | 0.0.0.0:80     | -    | probe   | 0  | web
C
}

# wild_table ADDRESS...: the table is one section [wild], port 85 for
# pbt_alice on those addresses.
wild_table() {
	printf '[wild]\nport = 85\naddress = %s\nuser = pbt_alice\n' "$*" | table
}

@test "one wildcard address alone never grants the dual-stack socket of a bare port" {
	wild_table 0.0.0.0
	cases <<'C'
# caller  | SPEC         | USER      | COMMAND | status | LISTEN_FDNAMES or message
# address = 0.0.0.0 only: IPv4's wildcard, not the dual-stack socket
pbt_alice | 85           | -         | probe   | 77 | permission denied
pbt_alice | 85/udp       | -         | probe   | 77 | permission denied
root      | 85           | pbt_alice | probe   | 77 | permission denied
pbt_alice | [::]:85      | -         | probe   | 77 | permission denied
pbt_alice | 0.0.0.0:85   | -         | probe   | 0  | wild
pbt_alice | 0.0.0.0:85/udp | -       | probe   | 0  | wild
C
	wild_table ::
	cases <<'C'
# address = :: only: IPv6's wildcard, not the dual-stack socket
pbt_alice | 85           | -         | probe   | 77 | permission denied
pbt_alice | 85/udp       | -         | probe   | 77 | permission denied
root      | 85           | pbt_alice | probe   | 77 | permission denied
pbt_alice | 0.0.0.0:85   | -         | probe   | 77 | permission denied
pbt_alice | [::]:85      | -         | probe   | 0  | wild
pbt_alice | [::]:85/udp  | -         | probe   | 0  | wild
C
	wild_table :: 0.0.0.0
	cases <<'C'
# both wildcards (listed the other way round in setup): the dual-stack socket too
pbt_alice | 85           | -         | probe   | 0  | wild
pbt_alice | 85/udp       | -         | probe   | 0  | wild
root      | 85           | pbt_alice | probe   | 0  | wild
C
}

@test "program pin: only the pinned file receives the sockets" {
	cases <<'C'
# caller  | SPEC | USER      | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 87   | -         | probe   | 0  | pinned
pbt_alice | 87   | -         | copy    | 77 | permission denied
pbt_alice | 87   | -         | true    | 77 | permission denied
pbt_alice | 87   | -         | PATH    | 0  | pinned
pbt_alice | 87   | -         | shadow  | 77 | permission denied
pbt_alice | 87   | -         | link    | 0  | pinned
pbt_bob   | 87   | -         | probe   | 77 | permission denied
root      | 87   | pbt_alice | probe   | 0  | pinned
root      | 87   | pbt_alice | copy    | 77 | permission denied
root      | 87   | pbt_bob   | probe   | 77 | permission denied
# the pin applies to the section, not to the unlisted ports
pbt_alice | 8080 | -         | copy    | 0  | unknown
C
}

@test "root names USER and is granted what the table grants to that user" {
	cases <<'C'
# caller | SPEC     | USER      | COMMAND | status | LISTEN_FDNAMES or message
root     | 80       | pbt_alice | probe   | 0  | web
root     | 8444     | pbt_alice | probe   | 0  | webgrp
root     | 8443     | pbt_carol | probe   | 0  | devs
root     | 82       | pbt_dave  | probe   | 0  | range
root     | 9000     | pbt_bob   | probe   | 0  | bobs
root     | 8080     | pbt_dave  | probe   | 0  | unknown
root     | 9000     | pbt_alice | probe   | 77 | permission denied
root     | 80       | pbt_bob   | probe   | 77 | permission denied
root     | 81       | pbt_alice | probe   | 77 | permission denied
root     | 8443     | pbt_alice | probe   | 77 | permission denied
C
}

@test "several SPECs: all granted, or nothing is bound" {
	cases <<'C'
# caller  | SPEC                         | USER      | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 80,443                       | -         | probe   | 0  | web:web
pbt_alice | 443,80,8080/udp,[::1]:84     | -         | probe   | 0  | web:web:unknown:local
pbt_alice | 80,81                        | -         | probe   | 77 | permission denied
pbt_alice | 81,80                        | -         | probe   | 77 | permission denied
pbt_alice | 8080,9000                    | -         | probe   | 77 | permission denied
pbt_alice | 80,443,8444,127.0.0.2:84     | -         | probe   | 77 | permission denied
pbt_alice | 87,8080                      | -         | copy    | 77 | permission denied
root      | 80,9000                      | pbt_alice | probe   | 77 | permission denied
root      | 80,9000                      | pbt_bob   | probe   | 77 | permission denied
C
}

@test "names: the label of the first matching section, or =NAME" {
	cases <<'C'
# caller  | SPEC                 | USER | COMMAND | status | LISTEN_FDNAMES or message
pbt_alice | 88                   | -    | probe   | 0  | first
pbt_bob   | 88                   | -    | probe   | 0  | second
pbt_carol | 88                   | -    | probe   | 77 | permission denied
pbt_alice | 88=mine              | -    | probe   | 0  | mine
pbt_alice | 80=http              | -    | probe   | 0  | http
pbt_alice | 80=http,443          | -    | probe   | 0  | http:web
pbt_alice | 80,443=https         | -    | probe   | 0  | web:https
pbt_alice | 8080=web             | -    | probe   | 0  | web
pbt_alice | 8080=a b.c-d_e       | -    | probe   | 0  | a b.c-d_e
C
}

@test "--list as pbt_alice shows exactly the sections that grant to her" {
	run as pbt_alice "$PB" --list
	expect_status 0
	local got
	got=$(awk '{print $1}' <<<"$output" | sort | tr '\n' ' ')
	[ "$got" = "(free) all first kernel: local pinned second tcponly web webgrp wild " ] ||
		fail "sections listed: $got"
	expect_no_line "bobs"
	expect_no_line "devs"
	expect_no_line "range"
	expect_line "(free)           tcp,udp  1024-65535 unless listed above (anyone)"
	expect_line "program=$PROBE"
}

@test "--list as pbt_bob shows his sections and none of pbt_alice's" {
	run as pbt_bob "$PB" --list
	expect_status 0
	local got
	got=$(awk '{print $1}' <<<"$output" | sort | tr '\n' ' ')
	[ "$got" = "(free) all bobs devs kernel: second " ] || fail "sections listed: $got"
}

@test "--dry-run explains a denial and binds and runs nothing" {
	run as pbt_alice "$PB" --dry-run 80,9000,81 -- "$PROBE"
	expect_status 77
	expect_line "80/tcp name=web: granted by [web] ($ETC/portbind.conf:"
	expect_line "9000/tcp name=unknown: denied: the table lists this port, but no section grants it"
	expect_line "81/tcp name=unknown: denied: privileged port and no section lists it"
	expect_line "command $PROBE as pbt_alice(59001) gid 59001 groups"
	expect_line "portbind: permission denied"
	expect_no_line "uid="
	expect_port_free 80
	expect_port_free 9000
	expect_port_free 81
}

@test "--dry-run explains a pin denial and a grant" {
	run as pbt_alice "$PB" --dry-run 87 -- "$UDIR/probe"
	expect_status 77
	expect_line "87/tcp name=unknown: denied: the table lists this port, but no section grants it to this user, address and program"
	expect_no_line "uid="
	run as pbt_alice "$PB" --dry-run 87 -- "$PROBE"
	expect_status 0
	expect_line "87/tcp name=pinned: granted by [pinned]"
	expect_no_line "uid="
	expect_port_free 87
}

@test "--dry-run names every section that lists the port and the condition it failed; others' sections only as a count" {
	# address: [local] lists 127.0.0.1 and ::1, not the dual-stack wildcard
	run as pbt_alice "$PB" --dry-run 84 -- "$PROBE"
	expect_status 77
	expect_line "  [local] ("
	expect_line "not granted: address: lists 127.0.0.1 ::1; not [::] dual-stack"
	# protocol: [tcponly] is TCP only
	run as pbt_alice "$PB" --dry-run 86/udp -- "$PROBE"
	expect_status 77
	expect_line "[tcponly] ("
	expect_line "not granted: protocol: lists tcp only"
	# program: [pinned] wants the probe, with its device and inode, and says what was given
	run as pbt_alice "$PB" --dry-run 87 -- /bin/true
	expect_status 77
	expect_line "not granted: program: wants $PROBE (dev "
	expect_line "; the command is /bin/true (dev "
	# the granting section says so
	run as pbt_alice "$PB" --dry-run 84/tcp -- "$PROBE"
	expect_status 77
	run as pbt_alice "$PB" --dry-run 127.0.0.1:84 -- "$PROBE"
	expect_status 0
	expect_line "  [local] ("
	expect_line "): grants"
	# another user's section is counted, never shown to a caller other than root
	run as pbt_bob "$PB" --dry-run 80 -- "$PROBE"
	expect_status 77
	expect_no_line "[web]"
	expect_no_line "pbt_alice"
	expect_line "and 1 section(s) that do not name 59002: not granted"
	# root sees the condition with the target's identity
	run "$PB" --dry-run 80 pbt_bob -- "$PROBE"
	expect_status 77
	expect_line "[web] ("
	expect_line "not granted: user or group: grants user=pbt_alice; not uid 59002 gid "
	# in dry-run mode the refusal does not send the caller to --dry-run
	run --separate-stderr as pbt_bob "$PB" --dry-run 80 -- "$PROBE"
	[ "$stderr" = "portbind: permission denied" ] || fail "stderr: $stderr"
}
