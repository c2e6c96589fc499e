#!/usr/bin/env bats
# contrib/authbind-to-portbind: authbind configurations built here, their
# drafts checked with portbind --check FILE as a test user, and the sections
# they give (ports, users, groups, uids, addresses, protocol). What portbind
# cannot express is named (a NOT CONVERTED comment, a line on stderr, exit
# 1), never guessed. The last tests put real authbind (its setuid helper
# reading the configuration through a bind mount over /etc/authbind, in a
# private mount namespace) and portbind --dry-run with the draft installed
# side by side on the same requests: the same verdicts where the draft is
# exact, and never a grant authbind would refuse where it is not.
load lib
bats_require_minimum_version 1.5.0

AB=$BATS_TEST_DIRNAME/../contrib/authbind-to-portbind

setup() {
	D=$PB_PREFIX/authbind-test
	rm -rf "$D"
	install -d -m 0755 "$D" "$D/conf" "$D/conf/byport" "$D/conf/byaddr" "$D/conf/byuid"
}

teardown() {
	rm -rf "$D"
}

# ab NAME MODE OWNER[:GROUP] [CONTENT]: the file NAME of the configuration.
ab() {
	printf '%s' "${4:-}" >"$D/conf/$1"
	chown "$3" "$D/conf/$1"
	chmod "$2" "$D/conf/$1"
}

# Run the script on the configuration: $output is the draft (also in
# $D/draft.conf), $stderr what it names.
convert() {
	run --separate-stderr "$AB" "$D/conf"
	printf '%s\n' "$output" >"$D/draft.conf"
	chmod 0644 "$D/draft.conf"
}

# The draft passes portbind --check FILE, run by a test user, with $1 sections.
expect_checked() {
	local o
	o=$(as pbt_dave "$PB" --check "$D/draft.conf" 2>&1) || fail "portbind --check refused the draft:" "$o"
	[ "$o" = "portbind: table OK: $1 section(s) in 1 file(s)" ] || fail "portbind --check: $o"
}

# The key lines of section [$1] of the draft.
section_of() {
	awk -v l="[$1]" '$0 == l { on = 1; next } /^\[/ { on = 0 } on && / = /' "$D/draft.conf"
}

expect_section() {
	local got
	got=$(section_of "$1")
	[ "$got" = "$2" ] || fail "[$1]: expected" "$2" "got:" "$got"
}

# The labels of the draft, in order, on one line.
labels() {
	sed -n 's/^\[\(.*\)\]$/\1/p' "$D/draft.conf" | tr '\n' ' ' | sed 's/ $//'
}

expect_labels() {
	[ "$(labels)" = "$1" ] || fail "labels: expected '$1'" "got: '$(labels)'"
}

# stderr holds a line containing $1, and the draft a NOT CONVERTED comment with it.
expect_named() {
	grep -qF -- "authbind-to-portbind: not converted: $1" <<<"$stderr" || fail "stderr lacks: $1" "--- stderr:" "$stderr"
	grep -qF -- "# NOT CONVERTED: $1" "$D/draft.conf" || fail "draft lacks NOT CONVERTED: $1"
}

# The draft has an "# ignored:" comment containing $1.
expect_ignored() {
	grep -qF -- "# ignored: $1" "$D/draft.conf" || fail "draft lacks ignored: $1"
}

@test "byport/: the executable bits name who gets the port, as access(2) judges them; TCP and UDP" {
	ab byport/80 0500 pbt_alice                 # owner only
	ab byport/81 0550 root:pbt_web              # root's bits do not count: the group
	ab byport/82 0510 pbt_alice:pbt_web         # owner and group
	ab byport/83 0050 pbt_bob:pbt_web           # the group, whose owner is not a member
	ab byport/84 0755 root                      # everyone
	ab byport/85 0644 root                      # no one: a file that exists and grants nothing
	ab byport/9 0111 pbt_dave:pbt_dev           # everyone, numeric order before 80
	ab 'byport/!600' 0100 pbt_carol             # 512-1023 have "!" before the leaf name
	convert
	expect_status 0
	[ -z "$stderr" ] || fail "stderr: $stderr"
	expect_checked 7
	expect_labels "authbind-byport-9 authbind-byport-80 authbind-byport-81 authbind-byport-82 authbind-byport-83 authbind-byport-84 authbind-byport-600"
	expect_section authbind-byport-80 $'port = 80\nprotocol = tcp udp\nuser = pbt_alice'
	expect_section authbind-byport-81 $'port = 81\nprotocol = tcp udp\ngroup = pbt_web'
	expect_section authbind-byport-82 $'port = 82\nprotocol = tcp udp\nuser = pbt_alice\ngroup = pbt_web'
	expect_section authbind-byport-83 $'port = 83\nprotocol = tcp udp\ngroup = pbt_web'
	expect_section authbind-byport-84 $'port = 84\nprotocol = tcp udp\nuser = *'
	expect_section authbind-byport-9 $'port = 9\nprotocol = tcp udp\nuser = *'
	expect_section authbind-byport-600 $'port = 600\nprotocol = tcp udp\nuser = pbt_carol'
	grep -qF "# byport/85: no one but root may bind port 85" "$D/draft.conf" || fail "byport/85 not mentioned"
	# an owner or group without a name is written as a number
	ab byport/86 0510 59099:59098
	convert
	expect_section authbind-byport-86 $'port = 86\nprotocol = tcp udp\nuid = 59099\ngid = 59098'
	expect_checked 8
}

@test "byport/: modes that mean 'everyone except' are named, not converted, and the exit status is 1" {
	ab byport/80 0500 pbt_alice
	ab byport/81 0705 pbt_alice:pbt_dev         # everyone but the members of pbt_dev
	ab byport/82 0015 pbt_bob:pbt_web           # everyone but the owner
	ab byport/83 0050 pbt_carol:pbt_web         # pbt_web but not carol, who is a member
	ab byport/84 0050 59099:pbt_web             # the owner has no passwd entry: cannot tell
	convert
	expect_status 1
	expect_named "byport/81: mode 0705 lets everyone but the members of gid 59051 execute it"
	expect_named "byport/82: mode 0015 lets everyone but its owner uid 59002 execute it"
	expect_named "byport/83: mode 0050 lets the members of gid 59050 but not its owner uid 59003"
	expect_named "byport/84: mode 0050 lets the members of gid 59050 but not its owner uid 59099"
	[ "$(grep -c . <<<"$stderr")" = 4 ] || fail "expected 4 lines on stderr:" "$stderr"
	grep -qF "# 4 grant(s) of authbind's could not be converted" "$D/draft.conf" || fail "no count in the header"
	expect_labels "authbind-byport-80"
	expect_checked 1
}

@test "byport/: names authbind never looks up are ignored comments and grant nothing" {
	ab byport/600 0755 root                     # 512-1023 need "!"
	ab 'byport/!80' 0755 root                   # below 512 must not have it
	ab byport/1024 0755 root                    # authbind leaves 1024 and up alone
	ab byport/080 0755 root                     # authbind prints ports without leading zeros
	ab byport/http 0755 root
	ab byport/0 0755 root
	ln -s /nonexistent "$D/conf/byport/90"      # access(2) says ENOENT: absent
	ln -s 91 "$D/conf/byport/91"                # ELOOP: authbind refuses port 91 there
	ab byuid/59001 0644 root $'0.0.0.0/0,90-91\n::/0,90-91\n'
	convert
	expect_status 0
	expect_checked 1
	expect_labels "authbind-byuid-59001"
	expect_section authbind-byuid-59001 $'port = 90\nprotocol = tcp udp\nuid = 59001'
	expect_ignored "byuid/59001: ports 91: byport/ decides them first"
	expect_ignored "byport/600: authbind looks for byport/!600 for ports 512-1023"
	expect_ignored "byport/!80: authbind looks for byport/80 for ports below 512"
	expect_ignored "byport/1024: authbind handles ports below 1024 only"
	expect_ignored "byport/080: not a name authbind looks up"
	expect_ignored "byport/http: not a name authbind looks up"
	expect_ignored "byport/0: not a name authbind looks up"
	expect_ignored "byport/90: a dangling symbolic link"
}

@test "byaddr/: ADDR:PORT (IPv4) before ADDR,PORT, IPv6 short before long form, byport/ before both" {
	ab byaddr/127.0.0.1:53 0500 pbt_alice
	ab byaddr/127.0.0.1,53 0755 root            # tried after 127.0.0.1:53, never reached
	ab byaddr/::1,53 0010 root:pbt_dev
	ab byaddr/0:0:0:0:0:0:0:1,54 0755 root      # the long form of ::1
	ab byaddr/2001:db8::1,70 0500 pbt_bob
	ab byaddr/2001:db8:0:0:0:0:0:1,70 0755 root # tried after 2001:db8::1,70
	ab 'byaddr/!127.0.0.2,700' 0755 root
	ab byaddr/127.0.0.1,80 0755 root            # byport/80 decides port 80
	ab byport/80 0500 pbt_carol
	ab byaddr/::1:55 0755 root                  # the ":" form is IPv4 only
	ab byaddr/2001:DB8::2,71 0755 root          # inet_ntop prints lower case
	ab byaddr/127.000.0.1,72 0755 root
	ab byaddr/127.0.0.1,700 0755 root           # 700 needs "!"
	convert
	expect_status 0
	expect_checked 6
	expect_labels "authbind-byport-80 authbind-byaddr-127.0.0.1-53 authbind-byaddr-__1-53 authbind-byaddr-__1-54 authbind-byaddr-2001_db8__1-70 authbind-byaddr-127.0.0.2-700"
	expect_section authbind-byaddr-127.0.0.1-53 $'port = 53\nprotocol = tcp udp\naddress = 127.0.0.1\nuser = pbt_alice'
	expect_section authbind-byaddr-__1-53 $'port = 53\nprotocol = tcp udp\naddress = ::1\ngroup = pbt_dev'
	expect_section authbind-byaddr-__1-54 $'port = 54\nprotocol = tcp udp\naddress = ::1\nuser = *'
	expect_section authbind-byaddr-2001_db8__1-70 $'port = 70\nprotocol = tcp udp\naddress = 2001:db8::1\nuser = pbt_bob'
	expect_section authbind-byaddr-127.0.0.2-700 $'port = 700\nprotocol = tcp udp\naddress = 127.0.0.2\nuser = *'
	expect_ignored "byaddr/127.0.0.1,53: byaddr/127.0.0.1:53 is tried first"
	expect_ignored "byaddr/2001:db8:0:0:0:0:0:1,70: byaddr/2001:db8::1,70 is tried first"
	expect_ignored "byaddr/127.0.0.1,80: byport/80 decides port 80 first"
	expect_ignored "byaddr/::1:55: not an address as authbind prints it"
	expect_ignored "byaddr/2001:DB8::2,71: not an address as authbind prints it"
	expect_ignored "byaddr/127.000.0.1,72: not an address as authbind prints it"
	expect_ignored "byaddr/127.0.0.1,700: authbind puts ! before the name for ports 512-1023 only"
	# a mapped address portbind refuses is named
	ab byaddr/::ffff:127.0.0.1,56 0755 root
	convert
	expect_status 1
	expect_named "byaddr/::ffff:127.0.0.1,56: portbind refuses IPv4-mapped addresses"
	expect_checked 6
}

@test "byuid/: each line form gives uid = UID with one address or any; ranges and one family alone are named" {
	ab byuid/59001 0644 root "127.0.0.1,100
::1,101-102
127.0.0.1/32:103,104
  10.1.2.3/32: 105,  106
0.0.0.0/0,110-119
::/0,110-119
0.0.0.0-255.255.255.255,120
::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,120
2001:db8::5-2001:db8::5,121
10.0.0.0/8,130
10.0.0.1-10.0.0.9,131
2001:db8::/32,132
0.0.0.0/0,140
::/0,141
::ffff:127.0.0.1,142
# a comment, with a comma
garbage
127.0.0.1,600
10.0.0.1/8,150
127.0.0.1/8-9,151
127.0.0.1,152 x
 127.0.0.1,153
"
	# line 23 is quoted in a comment longer than a table line may be; fgets()
	# splits line 24; authbind reads line 25 only up to its NUL
	{ printf '%250s,80\n' '' | tr ' ' x; printf '127.0.0.1,%300s81\n' ''; printf '127.0.0.1,82\0junk\n'; } >>"$D/conf/byuid/59001"
	ab 'byuid/!59001' 0600 root $'0.0.0.0/0,600-610\n::/0,600-610\n'
	ab byuid/0 0644 root $'0.0.0.0/0,1-511\n::/0,1-511\n'
	ab byuid/alice 0644 root $'0.0.0.0/0,1-511\n'
	convert
	expect_status 1
	expect_checked 6
	expect_labels "authbind-byuid-59001 authbind-byuid-59001-127.0.0.1 authbind-byuid-59001-__1 authbind-byuid-59001-10.1.2.3 authbind-byuid-59001-2001_db8__5 authbind-byuid-59001-high"
	expect_section authbind-byuid-59001 $'port = 110-120\nprotocol = tcp udp\nuid = 59001'
	expect_section authbind-byuid-59001-127.0.0.1 $'port = 100 103-104\nprotocol = tcp udp\naddress = 127.0.0.1\nuid = 59001'
	expect_section authbind-byuid-59001-__1 $'port = 101-102\nprotocol = tcp udp\naddress = ::1\nuid = 59001'
	expect_section authbind-byuid-59001-10.1.2.3 $'port = 105-106\nprotocol = tcp udp\naddress = 10.1.2.3\nuid = 59001'
	expect_section authbind-byuid-59001-2001_db8__5 $'port = 121\nprotocol = tcp udp\naddress = 2001:db8::5\nuid = 59001'
	expect_section authbind-byuid-59001-high $'port = 600-610\nprotocol = tcp udp\nuid = 59001'
	expect_named 'byuid/59001:10: "10.0.0.0/8,130": the IPv4 network 10.0.0.0/8'
	expect_named 'byuid/59001:11: "10.0.0.1-10.0.0.9,131": the IPv4 range'
	expect_named 'byuid/59001:12: "2001:db8::/32,132": the IPv6 network 2001:db8::/32'
	expect_named 'byuid/59001:15: "::ffff:127.0.0.1,142": portbind refuses IPv4-mapped addresses'
	expect_named "byuid/59001: every IPv4 address but no IPv6 one on ports 140"
	expect_named "byuid/59001: every IPv6 address but no IPv4 one on ports 141"
	expect_named "byuid/59001:24: a line longer than authbind reads at once"
	expect_named "byuid/59001:25: a line with a NUL"
	[ "$(grep -c . <<<"$stderr")" = 8 ] || fail "expected 8 lines on stderr:" "$stderr"
	expect_ignored 'byuid/59001:23: "xxxxxxxx'
	[ -z "$(awk 'length > 198' "$D/draft.conf")" ] || fail "a draft line is longer than 198 bytes"
	expect_ignored 'byuid/59001:17: "garbage": no comma'
	expect_ignored 'byuid/59001:18: "127.0.0.1,600" names no port this file is read for (1-511)'
	expect_ignored 'byuid/59001:19: "10.0.0.1/8,150": bits set beyond /8'
	expect_ignored 'byuid/59001:20: "127.0.0.1/8-9,151": both / and -'
	expect_ignored 'byuid/59001:21: "127.0.0.1,152 x": not ports as authbind reads them'
	expect_ignored 'byuid/59001:22: " 127.0.0.1,153": not an address'
	expect_ignored "byuid/0: root never goes through authbind"
	expect_ignored "byuid/alice: not a name authbind looks up"
	! grep -q "a comment" "$D/draft.conf" || fail "a comment line of byuid was reported"
}

@test "byuid/ is read only where byport/ and byaddr/ have no file: decided ports are left out, 'any but' is named" {
	ab byport/80 0600 root                      # no one may bind 80: byuid is never read for it
	ab byaddr/127.0.0.1,90 0500 pbt_alice       # decides 127.0.0.1:90 for everyone
	ab byuid/59002 0644 root $'0.0.0.0/0,80\n::/0,80\n127.0.0.1,90\n::1,90\n0.0.0.0/0,91\n::/0,91\n0.0.0.0/0,90\n::/0,90\n'
	convert
	expect_status 1
	expect_checked 3
	expect_labels "authbind-byaddr-127.0.0.1-90 authbind-byuid-59002 authbind-byuid-59002-__1"
	expect_section authbind-byuid-59002 $'port = 91\nprotocol = tcp udp\nuid = 59002'
	expect_section authbind-byuid-59002-__1 $'port = 90\nprotocol = tcp udp\naddress = ::1\nuid = 59002'
	expect_ignored "byuid/59002: ports 80: byport/ decides them first"
	expect_ignored "byuid/59002: 127.0.0.1 ports 90: byaddr/ decides them first"
	expect_named "byuid/59002: any address on ports 90: byaddr/ decides some addresses there first"
	[ "$(grep -c . <<<"$stderr")" = 1 ] || fail "expected 1 line on stderr:" "$stderr"
}

@test "the draft is the same on every run; usage errors exit 2; an empty configuration gives an empty table" {
	ab byport/80 0500 pbt_alice
	ab byaddr/::1,53 0755 root
	ab byuid/59004 0644 root $'127.0.0.1,70\n'
	convert
	expect_status 0
	first=$output
	convert
	[ "$output" = "$first" ] || fail "a second run differs"
	run --separate-stderr "$AB" "$D/missing"
	expect_status 2
	[[ $stderr == "authbind-to-portbind: "*"not a directory" ]] || fail "stderr: $stderr"
	run --separate-stderr "$AB" "$D/conf" extra
	expect_status 2
	run --separate-stderr "$AB" --bogus
	expect_status 2
	rm -rf "$D/conf"/*/*
	convert
	expect_status 0
	expect_checked 0
	# access(2) walks byport/ as the caller: if not everyone may, no draft
	chmod 0750 "$D/conf/byport"
	run --separate-stderr "$AB" "$D/conf"
	expect_status 2
	[[ $stderr == *"byport: not searchable by every user"* ]] || fail "stderr: $stderr"
	chmod 0755 "$D/conf/byport"
	# byuid files must be readable: a partial draft is refused
	ab byuid/59004 0600 root $'127.0.0.1,70\n'
	install -m 0755 "$AB" "$D/ab"          # where a test user can run it
	run --separate-stderr as pbt_alice "$D/ab" "$D/conf"
	expect_status 2
	[[ $stderr == *"byuid/59004: cannot read it"* ]] || fail "stderr: $stderr"
}

# --- real authbind against portbind with the draft ----------------------

# Each request "USER ADDR PORT" of $D/requests, bound through authbind (TCP)
# in a mount namespace where the configuration is /etc/authbind, and asked
# of portbind --dry-run over TCP and UDP with the draft as the table.
# Prints "USER ADDR PORT authbind=V tcp=V udp=V", V being yes or no.
verdicts() {
	cat >"$D/bind.py" <<'PY'
import errno, socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind((a, p))
    print("yes")
except OSError as e:
    # authbind(1): EACCES from access(2), EPERM without a byuid file,
    # ENOENT when no line of it matches, ELOOP from a looping byport file
    print("no" if e.errno in (errno.EACCES, errno.EPERM, errno.ENOENT, errno.ELOOP) else "error %s" % e)
PY
	chmod 0644 "$D/bind.py"
	local ab
	# shellcheck disable=SC2016 # the script expands its own arguments
	ab=$(unshare -m -- bash -c '
		set -e
		mount --bind "$1/conf" /etc/authbind
		while read -r u a p; do
			v=$(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
				timeout 10 authbind python3 "$1/bind.py" "$a" "$p" 2>&1)
			echo "$u $a $p $v"
		done <"$1/requests"' _ "$D") || { fail "authbind run failed: $ab"; return 1; }
	table <"$D/draft.conf"
	local u a p v spec t s rc
	while read -r u a p v; do
		[ "$v" = yes ] || [ "$v" = no ] || { fail "authbind: $u $a $p: $v"; return 1; }
		spec=$a
		[[ $a != *:* ]] || spec="[$a]"
		s="$u $a $p authbind=$v"
		for t in tcp udp; do
			rc=0
			as "$u" "$PB" --dry-run "$spec:$p/$t" -- "$PROBE" >/dev/null 2>&1 || rc=$?
			case $rc in
			0) s+=" $t=yes" ;;
			77) s+=" $t=no" ;;
			*) fail "portbind --dry-run $spec:$p/$t as $u: exit $rc"; return 1 ;;
			esac
		done
		echo "$s"
	done <<<"$ab"
}

# Every test user on 127.0.0.1 and ::1 for each port in "$@".
requests() {
	local u a p
	for u in pbt_alice pbt_bob pbt_carol pbt_dave; do
		for a in 127.0.0.1 ::1; do
			for p in "$@"; do echo "$u $a $p"; done
		done
	done >"$D/requests"
}

@test "real authbind and portbind with the exact draft give every user the same verdict on every request" {
	command -v authbind >/dev/null || skip "authbind is not installed (tests/deps installs it)"
	ab byport/80 0500 pbt_alice
	ab byport/81 0550 root:pbt_web
	ab byport/82 0050 pbt_bob:pbt_web
	ab byport/83 0755 root
	ab byport/84 0600 root
	ab 'byport/!600' 0100 pbt_dave
	ab byaddr/127.0.0.1:85 0500 pbt_carol
	ab byaddr/127.0.0.1,85 0755 root
	ab byaddr/::1,86 0010 root:pbt_dev
	ln -s 93 "$D/conf/byport/93"                # a loop: authbind refuses 93 to everyone
	ab byuid/59004 0644 root $'127.0.0.1,87\n::1/128,88\n0.0.0.0/0,89-90\n::/0,89-90\n127.0.0.1/32:91,93\n'
	ab 'byuid/!59002' 0644 root $'0.0.0.0-255.255.255.255,601\n::/0,601\n'
	ab byuid/59002 0644 root $'127.0.0.1,84\n127.0.0.1,85\n'
	ab byuid/59003 0644 root $'::1,86\n'
	convert
	expect_status 0
	[ -z "$stderr" ] || fail "the draft should be exact: $stderr"
	requests 80 81 82 83 84 85 86 87 88 89 90 91 92 93 600 601
	run verdicts
	[ "$status" = 0 ] || fail "verdicts failed"
	local differ granted
	differ=$(grep -Ev 'authbind=(yes|no) tcp=\1 udp=\1$' <<<"$output" || true)
	[ -z "$differ" ] || fail "verdicts differ:" "$differ"
	# the comparison has teeth: both grants and refusals were seen
	granted=$(grep -c 'authbind=yes' <<<"$output")
	[ "$granted" -ge 20 ] && [ "$granted" -le 100 ] || fail "granted $granted of 128"
	expect_line "pbt_carol 127.0.0.1 85 authbind=yes tcp=yes udp=yes"
	expect_line "pbt_bob 127.0.0.1 85 authbind=no tcp=no udp=no"
	expect_line "pbt_bob ::1 85 authbind=no tcp=no udp=no"
	expect_line "pbt_dave ::1 89 authbind=yes tcp=yes udp=yes"
}

@test "real authbind and portbind with a draft that names what it dropped: the draft never grants more" {
	command -v authbind >/dev/null || skip "authbind is not installed (tests/deps installs it)"
	ab byport/80 0705 pbt_alice:pbt_alice       # everyone but alice's group
	ab byport/81 0050 pbt_carol:pbt_web         # pbt_web but carol
	ab byport/82 0500 pbt_bob
	ab byaddr/127.0.0.1,83 0500 pbt_alice
	ab byuid/59004 0644 root $'0.0.0.0/0,83-85\n::/0,83-84\n127.0.0.0/8,86\n::1,87\n'
	convert
	expect_status 1
	requests 80 81 82 83 84 85 86 87
	run verdicts
	[ "$status" = 0 ] || fail "verdicts failed"
	local more lost
	more=$(grep -E 'authbind=no .*=yes' <<<"$output" || true)
	[ -z "$more" ] || fail "the draft grants what authbind refuses:" "$more"
	# and it did drop something authbind grants, each named above
	lost=$(grep -cE 'authbind=yes tcp=no' <<<"$output")
	[ "$lost" -ge 5 ] || fail "expected dropped grants, saw $lost"
	expect_line "pbt_bob 127.0.0.1 82 authbind=yes tcp=yes udp=yes"
	expect_line "pbt_dave 127.0.0.1 80 authbind=yes tcp=no udp=no"
	expect_line "pbt_dave ::1 83 authbind=yes tcp=no udp=no"
	expect_line "pbt_dave ::1 84 authbind=yes tcp=yes udp=yes"
	expect_line "pbt_dave ::1 87 authbind=yes tcp=yes udp=yes"
}
