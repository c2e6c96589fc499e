#!/usr/bin/env bats
# Real daemons from Debian, started through the installed setuid portbind on
# privileged ports, each answering a real client while it runs as an
# unprivileged user with every capability set empty and no_new_privs on:
#
#   lighttpd               LISTEN_FDS   80/tcp, one dual-stack socket   www-data   curl (IPv4, IPv6)
#   systemd-socket-proxyd  LISTEN_FDS   81/tcp, to a backend on 8081   nobody     curl
#   unbound                LISTEN_FDS   53/udp+tcp, 127.0.0.1 and ::1   unbound    dig (UDP, TCP)
#   atftpd                 --inetd      69/udp on fd 0                  nobody     tftp
#   fcgiwrap               --inetd      90/tcp on fd 0 (FastCGI)        www-data   cgi-fcgi
#
# tests/deps installs every one of them. Configuration and data live under
# the test's own temporary directory and are passed with command-line
# flags; the host's /etc and /run are never touched.
load lib

LIGHTTPD=/usr/sbin/lighttpd
PROXYD=/lib/systemd/systemd-socket-proxyd
UNBOUND=/usr/sbin/unbound
ATFTPD=/usr/sbin/atftpd
FCGIWRAP=/usr/sbin/fcgiwrap
# Debian's own interpreter, whatever PATH says.
PYTHON=/usr/bin/python3

setup_file() {
	local f
	for f in "$LIGHTTPD" "$PROXYD" "$UNBOUND" "$ATFTPD" "$FCGIWRAP" "$PYTHON"; do
		[ -x "$f" ] || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	for f in curl dig tftp cgi-fcgi ss; do
		command -v "$f" >/dev/null || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	# Every port below is privileged here: no daemon could bind it itself.
	[ "$(sysctl -n net.ipv4.ip_unprivileged_port_start)" -gt 90 ] || {
		echo "net.ipv4.ip_unprivileged_port_start is too low for these tests" >&2
		return 1
	}
}

setup() {
	# The daemon users must reach their files under the test's directory.
	make_traversable "$BATS_TEST_TMPDIR"
	T=$BATS_TEST_TMPDIR
	# Each daemon's port belongs to its user in the table, pinned to the
	# daemon's executable where the table can name it.
	table <<TABLE
[web]
port = 80
protocol = tcp
user = www-data
program = $(readlink -f "$LIGHTTPD")

[proxy]
port = 81
protocol = tcp
user = nobody
program = $(readlink -f "$PROXYD")

[dns]
port = 53
user = unbound
program = $(readlink -f "$UNBOUND")

[tftp]
port = 69
protocol = udp
user = nobody
program = $(readlink -f "$ATFTPD")

[fastcgi]
port = 90
protocol = tcp
user = www-data
program = $(readlink -f "$FCGIWRAP")
TABLE
	run "$PB" --check
	expect_status 0
	# Real clients: the side that closes first would keep each connection
	# in TIME_WAIT on these ports for a minute, where later suites check
	# that the ports are free. No TIME_WAIT buckets in this (the test
	# run's private) network namespace while the daemons talk.
	set_sysctl net.ipv4.tcp_max_tw_buckets 0
}

teardown() {
	local p
	for p in "${bgpids[@]}"; do
		stop "$p"
	done
	restore_sysctls
}



# The socket(s) on PROTO ($1: tcp listening, udp bound) port $2: exactly
# $3 of them; and a socket held by pid $4 on fd $5 ("" for any fd), owned
# by uid $6, whose line contains $7 (e.g. its local address).
expect_held() {
	local opt=-Hltnpe line
	[ "$1" = udp ] && opt=-Hlunpe
	output=$(ss $opt "sport = :$2")
	[ "$(grep -c . <<<"$output")" -eq "$3" ] || fail "expected $3 $1 socket(s) on port $2"
	line=$(grep -E "pid=$4,fd=${5:-[0-9]+}[),]" <<<"$output") || fail "no $1 socket on port $2 held by pid $4 on fd $5"
	grep -qF " uid:$6 " <<<"$line" || fail "the socket on fd $5 is not owned by uid $6: $line"
	grep -qF -- "$7" <<<"$line" || fail "the socket on fd $5 is not on $7: $line"
}

# HTTP GET $1 with curl, never through a proxy, 2 s at most.
get() {
	curl -fsS -g --noproxy '*' --max-time 2 "$1"
}

# For a daemon that takes systemd's sockets only on a host booted with
# systemd (sd_booted(3): /run/systemd/system is a directory): runs
# "$2" "$3"... in a private mount namespace where /run/systemd is a fresh
# tmpfs with (if $1 is "booted") or without a system directory in it. The
# host's /run is not touched. Used as: unshare -m -- bash -c "$SD_NS" _ ...
SD_NS='set -e
if [ -d /run/systemd ]; then
	mount -t tmpfs -o mode=0755 pbt-systemd /run/systemd
else
	mount -t tmpfs -o mode=0755 pbt-run /run
	mkdir /run/systemd
fi
[ "$1" != booted ] || mkdir /run/systemd/system
shift
exec "$@"'

# What the host's /run/systemd looks like, to compare before and after.
host_run_systemd() {
	findmnt -n -o TARGET,FSTYPE /run/systemd || true
	[ -d /run/systemd/system ] && echo "system: yes" || echo "system: no"
}

@test "lighttpd serves port 80 as www-data over IPv4 and IPv6 on one dual-stack socket" {
	mkdir "$T/www"
	echo "hello from lighttpd, started by portbind" >"$T/www/index.html"
	chmod 0755 "$T/www"
	chmod 0644 "$T/www/index.html"
	cat >"$T/lighttpd.conf" <<C
server.document-root = "$T/www"
server.port = 80
server.systemd-socket-activation = "enable"
index-file.names = ( "index.html" )
C
	bg_as root "$PB" 80 www-data -- "$LIGHTTPD" -D -f "$T/lighttpd.conf"
	eventually get http://127.0.0.1/
	[ "$output" = "hello from lighttpd, started by portbind" ] || fail "IPv4: wrong page"
	run get 'http://[::1]/'
	expect_status 0
	[ "$output" = "hello from lighttpd, started by portbind" ] || fail "IPv6: wrong page"
	expect_unprivileged "$bg" www-data "$LIGHTTPD"
	# one socket, the wildcard with IPV6_V6ONLY off, portbind's fd 3
	expect_held tcp 80 1 "$bg" 3 33 "*:80"
	expect_line "v6only:0"
	stop "$bg"
	expect_settled 80
}

@test "the table pins port 80 to lighttpd: another program as www-data is refused" {
	run "$PB" 80 www-data -- "$FCGIWRAP"
	expect_refused 77
	run as www-data "$PB" 80 -- "$FCGIWRAP"
	expect_refused 77
	expect_unbound 80
}

@test "systemd-socket-proxyd, started by nobody on port 81, proxies to a backend on 8081" {
	mkdir "$T/backend"
	echo "backend content via the proxy" >"$T/backend/page.txt"
	chmod 0755 "$T/backend"
	chmod 0644 "$T/backend/page.txt"
	# the backend: any server on an unprivileged port, here pbt_alice's
	bg_as pbt_alice "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/backend" 8081
	local backend=$bg
	eventually get http://127.0.0.1:8081/page.txt
	# the proxy: nobody itself asks portbind for port 81
	bg_as nobody "$PB" 81 -- "$PROXYD" 127.0.0.1:8081
	eventually get http://127.0.0.1:81/page.txt
	[ "$output" = "backend content via the proxy" ] || fail "IPv4: wrong content"
	run get 'http://[::1]:81/page.txt'
	expect_status 0
	[ "$output" = "backend content via the proxy" ] || fail "IPv6: wrong content"
	expect_unprivileged "$bg" nobody "$PROXYD"
	expect_held tcp 81 1 "$bg" 3 65534 "*:81"
	# the backend's own socket is its own, as pbt_alice
	expect_held tcp 8081 1 "$backend" "" 59001 "127.0.0.1:8081"
	stop "$bg"
	stop "$backend"
	expect_settled 81
	expect_settled 8081
}

# unbound's configuration: it listens on 127.0.0.1 and ::1, port 53, and
# with use-systemd takes, for each, the passed socket of that address and
# type (sd_is_socket_sockaddr) instead of binding one. It runs as the user
# portbind made it (username ""), in the foreground, logging to stderr.
unbound_conf() {
	cat >"$T/unbound.conf" <<C
server:
	interface: 127.0.0.1
	interface: ::1
	port: 53
	use-systemd: yes
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	module-config: "iterator"
	local-zone: "portbind.test." static
	local-data: "www.portbind.test. 300 IN A 192.0.2.80"
	local-data: 'www.portbind.test. 300 IN TXT "served through portbind"'
C
	chmod 0644 "$T/unbound.conf"
}

# The four sockets, in this order: fds 3, 4, 5, 6.
DNS_SPECS='127.0.0.1:53/udp,127.0.0.1:53/tcp,[::1]:53/udp,[::1]:53/tcp'

ask() {
	dig +short +time=1 +tries=1 "$@"
}

@test "unbound answers DNS over UDP and TCP, IPv4 and IPv6, on the four sockets portbind passed" {
	unbound_conf
	local host_before
	host_before=$(host_run_systemd)
	bg_as root unshare -m -- bash -c "$SD_NS" _ booted \
		"$PB" "$DNS_SPECS" unbound -- "$UNBOUND" -d -c "$T/unbound.conf"
	eventually ask @127.0.0.1 -p 53 www.portbind.test A
	[ "$output" = 192.0.2.80 ] || fail "UDP over IPv4: wrong answer"
	run ask +tcp @127.0.0.1 -p 53 www.portbind.test TXT
	[ "$output" = '"served through portbind"' ] || fail "TCP over IPv4: wrong answer"
	run ask @::1 -p 53 www.portbind.test TXT
	[ "$output" = '"served through portbind"' ] || fail "UDP over IPv6: wrong answer"
	run ask +tcp @::1 -p 53 www.portbind.test A
	[ "$output" = 192.0.2.80 ] || fail "TCP over IPv6: wrong answer"
	run ask @127.0.0.1 -p 53 nothing.portbind.test A
	[ -z "$output" ] || fail "an unknown name should have no answer"
	expect_unprivileged "$bg" unbound "$UNBOUND"
	# Exactly portbind's four sockets, each on the fd portbind put it on;
	# unbound, without privilege, could not have bound port 53 itself.
	local uid
	uid=$(id -u unbound)
	expect_held udp 53 2 "$bg" 3 "$uid" "127.0.0.1:53"
	expect_held tcp 53 2 "$bg" 4 "$uid" "127.0.0.1:53"
	expect_held udp 53 2 "$bg" 5 "$uid" "[::1]:53"
	expect_held tcp 53 2 "$bg" 6 "$uid" "[::1]:53"
	output=$(cat "$out")
	expect_no_line "systemd is not running"
	expect_no_line "can't bind"
	stop "$bg"
	expect_settled 53
	[ "$(host_run_systemd)" = "$host_before" ] || fail "the host's /run/systemd changed"
}

@test "unbound cannot bind port 53 itself: without the sockets, or without systemd, it fails" {
	unbound_conf
	# portbind's sockets, but no /run/systemd/system: sd_booted() says no,
	# unbound ignores LISTEN_FDS and its own bind() is refused
	run timeout 10 unshare -m -- bash -c "$SD_NS" _ not-booted \
		"$PB" "$DNS_SPECS" unbound -- "$UNBOUND" -d -c "$T/unbound.conf"
	expect_status 1
	expect_line "systemd is not running"
	expect_line "can't bind socket: Permission denied for 127.0.0.1 port 53"
	# systemd "booted", but started as the unbound user without portbind:
	# no LISTEN_* at all, so it binds itself, which is refused
	run timeout 10 unshare -m -- bash -c "$SD_NS" _ booted \
		setpriv --reuid=unbound --regid="$(id -g unbound)" --init-groups -- \
		"$UNBOUND" -d -c "$T/unbound.conf"
	expect_status 1
	expect_no_line "systemd is not running"
	expect_line "can't bind socket: Permission denied for 127.0.0.1 port 53"
	expect_unbound 53
}

@test "atftpd takes the UDP socket on fd 0 (--inetd) and serves a file over IPv4 and IPv6" {
	mkdir "$T/tftp"
	echo "a file served by atftpd through portbind" >"$T/tftp/boot.txt"
	chmod 0755 "$T/tftp"
	chmod 0644 "$T/tftp/boot.txt"
	bg_as root "$PB" --inetd 69/udp nobody -- "$ATFTPD" --logfile - --tftpd-timeout 60 "$T/tftp"
	rm -f "$T/got4" "$T/got6"
	eventually timeout 5 tftp -m binary 127.0.0.1 69 -c get boot.txt "$T/got4"
	[ "$(cat "$T/got4")" = "a file served by atftpd through portbind" ] || fail "IPv4: wrong file"
	run timeout 5 tftp -m binary ::1 69 -c get boot.txt "$T/got6"
	[ "$(cat "$T/got6")" = "a file served by atftpd through portbind" ] || fail "IPv6: wrong file"
	expect_unprivileged "$bg" nobody "$ATFTPD"
	expect_held udp 69 1 "$bg" 0 65534 "*:69"
	output=$(cat "$out")
	# one dual-stack socket: the IPv4 client arrives as a mapped address
	expect_line "Serving boot.txt to ::ffff:127.0.0.1:"
	expect_line "Serving boot.txt to ::1:"
	stop "$bg"
	expect_settled 69
}

@test "fcgiwrap, started by www-data, takes the TCP listening socket on fd 0 (--inetd) and runs a CGI script" {
	mkdir "$T/cgi"
	cat >"$T/cgi/hello" <<'S'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "hello from a CGI script, uid=$(id -u), query=$QUERY_STRING"
S
	chmod 0755 "$T/cgi" "$T/cgi/hello"
	bg_as www-data "$PB" --inetd 127.0.0.1:90 -- "$FCGIWRAP"
	eventually env -i SCRIPT_FILENAME="$T/cgi/hello" REQUEST_METHOD=GET QUERY_STRING=x=1 \
		timeout 5 cgi-fcgi -bind -connect 127.0.0.1:90
	expect_line "Content-Type: text/plain"
	expect_line "hello from a CGI script, uid=33, query=x=1"
	expect_unprivileged "$bg" www-data "$FCGIWRAP"
	expect_held tcp 90 1 "$bg" 0 33 "127.0.0.1:90"
	stop "$bg"
	expect_settled 90
}

@test "--inetd refuses more than one SPEC (64) and binds nothing" {
	run "$PB" --inetd '69/udp,127.0.0.1:69/udp' nobody -- "$ATFTPD" "$BATS_TEST_TMPDIR"
	expect_refused 64 "--inetd takes exactly one SPEC"
	run as www-data "$PB" --inetd '127.0.0.1:90,[::1]:90' -- "$FCGIWRAP"
	expect_refused 64 "--inetd takes exactly one SPEC"
	expect_unbound 69
	expect_unbound 90
}
