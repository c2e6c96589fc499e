#!/usr/bin/env bats
# Sockets as the daemon receives them: TCP and UDP, IPv4, IPv6 and dual
# stack, several at once, inetd mode, bind failures.
load lib

setup_file() {
	make_traversable "$BATS_FILE_TMPDIR"
	# sockopts FD: for the socket on FD and for a new socket of the same
	# family and type made by the caller itself, tries options that need
	# privilege (CAP_NET_ADMIN or CAP_NET_RAW) and a few that do not:
	#   opt.NAME=<result on FD> own=<result on its own socket>
	# each result "ok" or the errno name; then connect=<result> of FD to
	# 127.0.0.1:9 (or [::1]:9), which for a TCP socket would make it a
	# client from its privileged port.
	cat >"$BATS_FILE_TMPDIR/sockopts.c" <<'C'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *try(int fd, int level, int opt, const void *v, socklen_t len)
{
	return setsockopt(fd, level, opt, v, len) == 0 ? "ok" : strerrorname_np(errno);
}

int main(int argc, char **argv)
{
	int fd = argc > 1 ? atoi(argv[1]) : 3, type, own, one = 1, seven = 7, big = 1 << 22;
	socklen_t len = sizeof(type);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct {
		const char *name;
		int level, opt;
		const void *v;
		socklen_t len;
	} o[] = {
		{ "SO_MARK", SOL_SOCKET, SO_MARK, &one, sizeof(one) },
		{ "SO_PRIORITY_7", SOL_SOCKET, SO_PRIORITY, &seven, sizeof(seven) },
		{ "SO_RCVBUFFORCE", SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big) },
		{ "SO_SNDBUFFORCE", SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big) },
		{ "SO_DEBUG", SOL_SOCKET, SO_DEBUG, &one, sizeof(one) },
		{ "IP_TRANSPARENT", SOL_IP, IP_TRANSPARENT, &one, sizeof(one) },
		{ "IPV6_TRANSPARENT", SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one) },
		{ "SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, "lo", 3 },
		{ "IP_FREEBIND", SOL_IP, IP_FREEBIND, &one, sizeof(one) },
		{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one) },
	};

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		perror("sockopts: fd");
		return 2;
	}
	own = socket(ss.ss_family, type, 0);
	if (own < 0) {
		perror("sockopts: socket");
		return 2;
	}
	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if ((o[i].level == SOL_IP && ss.ss_family != AF_INET) ||
		    (o[i].level == SOL_IPV6 && ss.ss_family != AF_INET6))
			continue;
		printf("opt.%s=%s", o[i].name, try(fd, o[i].level, o[i].opt, o[i].v, o[i].len));
		printf(" own=%s\n", try(own, o[i].level, o[i].opt, o[i].v, o[i].len));
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
		to.sin6_addr = in6addr_loopback;
		printf("connect=%s\n", connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 ? "ok"
				       : strerrorname_np(errno));
	} else {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		printf("connect=%s\n", connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 ? "ok"
				       : strerrorname_np(errno));
	}
	printf("uid=%u\n", (unsigned)getuid());
	return 0;
}
C
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/sockopts" "$BATS_FILE_TMPDIR/sockopts.c"
	chmod 0755 "$BATS_FILE_TMPDIR/sockopts"
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/outbound" "$BATS_TEST_DIRNAME/outbound.c"
	chmod 0755 "$BATS_FILE_TMPDIR/outbound"
}

setup() {
	SOCKOPTS=$BATS_FILE_TMPDIR/sockopts
	OUTBOUND=$BATS_FILE_TMPDIR/outbound
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
[dns]
port = 53
group = pbt_web
T
}

@test "a granted TCP port arrives listening on fd 3, dual stack, owned by the target" {
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_status 0
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds"
	[ "$(field env.LISTEN_FDS)" = 1 ] || fail "LISTEN_FDS"
	[ "$(field env.LISTEN_FDNAMES)" = web ] || fail "LISTEN_FDNAMES"
	[ "$(field env.LISTEN_PID)" = "$(field pid)" ] || fail "LISTEN_PID"
	expect_port_free 80
}

teardown() {
	kill_bgpids
	restore_sysctls || true
}

# Real clients: the server side would keep every connection it closed in
# TIME_WAIT on the granted port for a minute, which later "port is free"
# checks would see. No TIME_WAIT buckets in this namespace while we talk.
no_time_wait() {
	set_sysctl net.ipv4.tcp_max_tw_buckets 0
}

# Wait (at most 5 s) for the background command to end; status and output.
finish_bg() {
	wait_pid "$bg"
	output=$(cat "$out")
}

# A TCP client: connect to HOST PORT, print the first line received.
tcp_hello() {
	local c line=
	exec {c}<>"/dev/tcp/$1/$2" || return 1
	IFS= read -r -t 5 line <&"$c" || true
	exec {c}>&-
	printf '%s\n' "$line"
}

# A UDP client: send a datagram to HOST PORT, print the one answer.
udp_hello() {
	local c
	exec {c}<>"/dev/udp/$1/$2" || return 1
	printf 'hello?\n' >&"$c"
	timeout 5 dd bs=65536 count=1 status=none <&"$c"
	exec {c}>&-
}

# One granted socket: "$PB" $1 as pbt_alice, the probe line for fd 3.
expect_socket() {
	run as pbt_alice "$PB" "$1" -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be 0,1,2,3"
	expect_line "fd.3=socket cloexec=0 $2 owner=59001"
}

@test "UDP on 127.0.0.1: an IPv4 datagram socket, bound, not listening" {
	expect_socket 127.0.0.1:53/udp "type=dgram family=inet addr=127.0.0.1 port=53 listening=0 v6only=-"
	[ "$(field env.LISTEN_FDNAMES)" = dns ] || fail "LISTEN_FDNAMES"
	expect_port_free 53
}

@test "UDP on [::1]: IPv6 only" {
	expect_socket '[::1]:53/udp' "type=dgram family=inet6 addr=::1 port=53 listening=0 v6only=1"
}

@test "UDP without address: one dual-stack IPv6 socket" {
	expect_socket 53/udp "type=dgram family=inet6 addr=:: port=53 listening=0 v6only=0"
}

@test "UDP on [::] is IPv6 only and on 0.0.0.0 IPv4 only" {
	expect_socket '[::]:53/udp' "type=dgram family=inet6 addr=:: port=53 listening=0 v6only=1"
	expect_socket 0.0.0.0:53/udp "type=dgram family=inet addr=0.0.0.0 port=53 listening=0 v6only=-"
}

@test "TCP on 127.0.0.1: IPv4, listening" {
	expect_socket 127.0.0.1:80 "type=stream family=inet addr=127.0.0.1 port=80 listening=1 v6only=-"
	expect_socket 127.0.0.1:80/tcp "type=stream family=inet addr=127.0.0.1 port=80 listening=1 v6only=-"
}

@test "TCP on [::1]: IPv6 only, listening" {
	expect_socket '[::1]:80' "type=stream family=inet6 addr=::1 port=80 listening=1 v6only=1"
}

@test "TCP on [::]: IPv6 only (v6only=1), listening" {
	expect_socket '[::]:80' "type=stream family=inet6 addr=:: port=80 listening=1 v6only=1"
}

@test "TCP on 0.0.0.0: IPv4 only" {
	expect_socket 0.0.0.0:80 "type=stream family=inet addr=0.0.0.0 port=80 listening=1 v6only=-"
}

@test "TCP without address: dual stack (inet6, v6only=0)" {
	expect_socket 80 "type=stream family=inet6 addr=:: port=80 listening=1 v6only=0"
}

@test "several sockets at once arrive in SPEC order with their names" {
	run as pbt_alice "$PB" '443=tls,127.0.0.1:80=plain,[::1]:53/udp,8080/udp=alt,8081' -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3,4,5,6,7" ] || fail "fds= should be 0..7"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=443 listening=1 v6only=0 owner=59001"
	expect_line "fd.4=socket cloexec=0 type=stream family=inet addr=127.0.0.1 port=80 listening=1 v6only=- owner=59001"
	expect_line "fd.5=socket cloexec=0 type=dgram family=inet6 addr=::1 port=53 listening=0 v6only=1 owner=59001"
	expect_line "fd.6=socket cloexec=0 type=dgram family=inet6 addr=:: port=8080 listening=0 v6only=0 owner=59001"
	expect_line "fd.7=socket cloexec=0 type=stream family=inet6 addr=:: port=8081 listening=1 v6only=0 owner=59001"
	[ "$(field env.LISTEN_FDS)" = 5 ] || fail "LISTEN_FDS"
	[ "$(field env.LISTEN_FDNAMES)" = "tls:plain:dns:alt:unknown" ] || fail "LISTEN_FDNAMES"
}

@test "a real TCP client over IPv4 reaches the command on the dual-stack socket" {
	no_time_wait
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --serve-once
	wait_bound tcp 80
	run tcp_hello 127.0.0.1 80
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's greeting"
	finish_bg
	expect_status 0
	expect_line "served.3=stream"
	expect_settled 80
}

@test "a real TCP client over IPv6 ::1 reaches the command on the dual-stack socket" {
	no_time_wait
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --serve-once
	wait_bound tcp 80
	run tcp_hello ::1 80
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's greeting"
	finish_bg
	expect_status 0
	expect_line "served.3=stream"
	expect_settled 80
}

@test "a real TCP client reaches a command root started as pbt_alice, on several sockets" {
	no_time_wait
	bg_as root "$PB" '127.0.0.1:80,[::1]:443' pbt_alice -- "$PROBE" --serve-once
	wait_bound tcp 443
	run tcp_hello 127.0.0.1 80
	[ "$output" = "hello from probe uid=59001" ] || fail "greeting on 127.0.0.1:80"
	run tcp_hello ::1 443
	[ "$output" = "hello from probe uid=59001" ] || fail "greeting on [::1]:443"
	finish_bg
	expect_status 0
	expect_line "served.3=stream"
	expect_line "served.4=stream"
	expect_settled 80
	expect_settled 443
}

@test "a real UDP client over IPv4 and IPv6 gets the command's answer" {
	bg_as pbt_alice "$PB" 53/udp -- "$PROBE" --serve-once
	wait_bound udp 53
	run udp_hello 127.0.0.1 53
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's answer"
	finish_bg
	expect_status 0
	expect_line "served.3=dgram"
	bg_as pbt_alice "$PB" '[::1]:53/udp' -- "$PROBE" --serve-once
	wait_bound udp 53
	run udp_hello ::1 53
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's answer over IPv6"
	finish_bg
	expect_status 0
	expect_line "served.3=dgram"
	expect_unbound 53
}

@test "--inetd: the socket is fd 0, nothing on 3.., no LISTEN_* (inherited ones removed)" {
	run as pbt_alice env LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=x LISTEN_PIDFDID=7 \
		"$PB" --inetd 80 -- "$PROBE"
	expect_status 0
	expect_line "fd.0=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	[ "$(field fds)" = "0,1,2" ] || fail "fds= should be 0,1,2"
	local v
	for v in LISTEN_FDS LISTEN_PID LISTEN_FDNAMES LISTEN_PIDFDID; do
		[ "$(field "env.$v")" = "<unset>" ] || fail "$v should be unset"
	done
	run "$PB" --inetd 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_status 0
	expect_line "fd.0=socket cloexec=0 type=stream family=inet addr=127.0.0.1 port=80 listening=1 v6only=- owner=59001"
	[ "$(field fds)" = "0,1,2" ] || fail "fds= should be 0,1,2"
	[ "$(field env.LISTEN_FDS)" = "<unset>" ] || fail "LISTEN_FDS should be unset"
}

@test "--inetd with UDP: the datagram socket is fd 0" {
	run as pbt_alice "$PB" --inetd 127.0.0.1:53/udp -- "$PROBE"
	expect_status 0
	expect_line "fd.0=socket cloexec=0 type=dgram family=inet addr=127.0.0.1 port=53 listening=0 v6only=- owner=59001"
	[ "$(field fds)" = "0,1,2" ] || fail "fds= should be 0,1,2"
	[ "$(field env.LISTEN_FDS)" = "<unset>" ] || fail "LISTEN_FDS should be unset"
}

@test "--inetd: a real TCP client is served by the command on fd 0" {
	no_time_wait
	bg_as pbt_alice "$PB" --inetd 80 -- "$PROBE" --inetd --serve-once
	wait_bound tcp 80
	run tcp_hello 127.0.0.1 80
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's greeting"
	finish_bg
	expect_status 0
	expect_line "served.0=stream"
	expect_settled 80
}

@test "--inetd: a real UDP client is answered by the command on fd 0" {
	bg_as pbt_alice "$PB" --inetd 53/udp -- "$PROBE" --inetd --serve-once
	wait_bound udp 53
	run udp_hello ::1 53
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's answer"
	finish_bg
	expect_status 0
	expect_line "served.0=dgram"
}

@test "TCP port already in use: 69 with one line, the command does not run" {
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --sleep 30
	wait_bound tcp 80
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 69 "80"
	run "$PB" 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_refused 69 "80"
}

@test "UDP port already in use: 69 with one line" {
	bg_as pbt_alice "$PB" 53/udp -- "$PROBE" --sleep 30
	wait_bound udp 53
	run as pbt_alice "$PB" 53/udp -- "$PROBE"
	expect_refused 69 "53"
	run as pbt_alice "$PB" 127.0.0.1:53/udp -- "$PROBE"
	expect_refused 69 "53"
}

@test "several SPECs, a later one in use: 69, and the earlier ones are not left bound" {
	bg_as pbt_alice "$PB" 443 -- "$PROBE" --sleep 30
	wait_bound tcp 443
	run as pbt_alice "$PB" '80,53/udp,443' -- "$PROBE"
	expect_refused 69 "443"
	expect_unbound 80
	expect_unbound 53
	# the holder is untouched
	[ -n "$(ss -Hltn 'sport = :443')" ] || fail "the first holder of 443 lost its socket"
}

@test "an address that is not local: 69 (bind fails, nothing is sent)" {
	run as pbt_alice "$PB" 192.0.2.1:8080 -- "$PROBE"
	expect_refused 69 "192.0.2.1"
	run as pbt_alice "$PB" 192.0.2.1:80 -- "$PROBE"
	expect_refused 69 "192.0.2.1"
	run as pbt_alice "$PB" '[2001:db8::1]:8080/udp' -- "$PROBE"
	expect_refused 69 "2001:db8::1"
	run "$PB" 192.0.2.1:8080 pbt_bob -- "$PROBE"
	expect_refused 69 "192.0.2.1"
}

@test "IPv6 disabled by sysctl: no address stays one dual-stack socket (as systemd does), [::1] fails with 69" {
	set_sysctl net.ipv6.conf.all.disable_ipv6 1
	set_sysctl net.ipv6.conf.lo.disable_ipv6 1
	expect_socket 80 "type=stream family=inet6 addr=:: port=80 listening=1 v6only=0"
	run as pbt_alice "$PB" '[::1]:80' -- "$PROBE"
	expect_refused 69 "::1"
	expect_socket 127.0.0.1:80 "type=stream family=inet addr=127.0.0.1 port=80 listening=1 v6only=-"
}

@test "a kernel without IPv6 (socket(AF_INET6) fails EAFNOSUPPORT): no address falls back to 0.0.0.0" {
	command -v strace >/dev/null || skip "strace is not installed"
	# root traces, so the setuid binary keeps its privilege. A first run
	# finds which socket() call is portbind's AF_INET6 one (the C library
	# makes AF_UNIX ones for NSS before it); the second makes it fail as
	# on a kernel without IPv6.
	local t=$BATS_TEST_TMPDIR/trace n
	strace -qq -o "$t" -e trace=socket "$PB" 80 pbt_alice -- /bin/true
	n=$(grep -n AF_INET6 "$t" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "no AF_INET6 socket() call seen"
	run strace -qq -o /dev/null -e trace=socket -e inject=socket:error=EAFNOSUPPORT:when="$n" \
		"$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	expect_line "fd.3=socket cloexec=0 type=stream family=inet addr=0.0.0.0 port=80 listening=1 v6only=- owner=59001"
}

@test "IPv6 disabled: a real IPv4 client still reaches the command on the wildcard" {
	no_time_wait
	set_sysctl net.ipv6.conf.all.disable_ipv6 1
	set_sysctl net.ipv6.conf.lo.disable_ipv6 1
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --serve-once
	wait_bound tcp 80
	run tcp_hello 127.0.0.1 80
	[ "$output" = "hello from probe uid=59001" ] || fail "the client should get the probe's greeting"
	finish_bg
	expect_status 0
}

@test "sockets are owned by the target uid (probe and ss -e)" {
	bg_as pbt_alice "$PB" '80,53/udp' -- "$PROBE" --sleep 30
	wait_bound udp 53
	run ss -Hltne 'sport = :80'
	expect_line "uid:59001"
	run ss -Hlune 'sport = :53'
	expect_line "uid:59001"
	bg_as root "$PB" 8080 pbt_bob -- "$PROBE" --sleep 30
	wait_bound tcp 8080
	run ss -Hltne 'sport = :8080'
	expect_line "uid:59002"
	run "$PB" 127.0.0.1:8081 pbt_bob -- "$PROBE"
	expect_status 0
	expect_line "fd.3=socket cloexec=0 type=stream family=inet addr=127.0.0.1 port=8081 listening=1 v6only=- owner=59002"
}

@test "--backlog sets the listen backlog (both spellings), default 4096" {
	bg_as pbt_alice "$PB" --backlog 7 80 -- "$PROBE" --sleep 30
	wait_bound tcp 80
	[ "$(ss -Hltn 'sport = :80' | awk '{print $3}')" = 7 ] || fail "backlog 7: $(ss -Hltn 'sport = :80')"
	bg_as pbt_alice "$PB" --backlog=9 443 -- "$PROBE" --sleep 30
	wait_bound tcp 443
	[ "$(ss -Hltn 'sport = :443')" ] || fail "nothing on 443"
	[ "$(ss -Hltn 'sport = :443' | awk '{print $3}')" = 9 ] || fail "backlog 9: $(ss -Hltn 'sport = :443')"
	bg_as pbt_alice "$PB" 8080 -- "$PROBE" --sleep 30
	wait_bound tcp 8080
	[ "$(ss -Hltn 'sport = :8080' | awk '{print $3}')" = 4096 ] || fail "default backlog: $(ss -Hltn 'sport = :8080')"
}

@test "--reuseport: two portbinds of the same user hold the same TCP and UDP port" {
	bg_as pbt_alice "$PB" --reuseport '80,53/udp' -- "$PROBE" --sleep 30
	wait_bound udp 53
	run as pbt_alice "$PB" --reuseport '80,53/udp' -- "$PROBE"
	expect_status 0
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	expect_line "fd.4=socket cloexec=0 type=dgram family=inet6 addr=:: port=53 listening=0 v6only=0 owner=59001"
	run "$PB" --reuseport 80 pbt_alice -- "$PROBE"
	expect_status 0
	# without --reuseport on the newcomer the port is taken
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_refused 69 "80"
	run as pbt_alice "$PB" 53/udp -- "$PROBE"
	expect_refused 69 "53"
}

@test "--reuseport does not let another user join the group (sockets belong to the target)" {
	bg_as pbt_alice "$PB" --reuseport '8080,8080/udp' -- "$PROBE" --sleep 30
	wait_bound udp 8080
	run as pbt_bob "$PB" --reuseport 8080 -- "$PROBE"
	expect_refused 69 "8080"
	run as pbt_bob "$PB" --reuseport 8080/udp -- "$PROBE"
	expect_refused 69 "8080"
	run "$PB" --reuseport 8080 pbt_bob -- "$PROBE"
	expect_refused 69 "8080"
	run "$PB" --reuseport 8080/udp pbt_alice -- "$PROBE"
	expect_status 0
}

@test "an unlisted port below ip_unprivileged_port_start is denied; lowering the sysctl grants it" {
	run as pbt_alice "$PB" 81 -- "$PROBE"
	expect_refused 77
	set_sysctl net.ipv4.ip_unprivileged_port_start 80
	run as pbt_alice "$PB" 81 -- "$PROBE"
	expect_status 0
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=81 listening=1 v6only=0 owner=59001"
	[ "$(field env.LISTEN_FDNAMES)" = unknown ] || fail "LISTEN_FDNAMES"
	run as pbt_bob "$PB" 81/udp -- "$PROBE"
	expect_status 0
	# a listed port stays the table's
	run as pbt_bob "$PB" 80 -- "$PROBE"
	expect_refused 77
	run as pbt_bob "$PB" 443 -- "$PROBE"
	expect_refused 77
	set_sysctl net.ipv4.ip_unprivileged_port_start 1024
	run as pbt_alice "$PB" 81 -- "$PROBE"
	expect_refused 77
}

# The options that need privilege fail on a granted socket with EPERM or
# EACCES, and every option does on it exactly what it does on a socket the
# command made itself.
expect_no_privileged_option() {
	expect_status 0
	[ "$(field uid)" = 59001 ] || fail "the command should run as pbt_alice"
	local line name got own n=0
	while IFS= read -r line; do
		[[ $line == opt.* ]] || continue
		n=$((n + 1))
		name=${line%%=*} name=${name#opt.}
		got=${line#*=} got=${got%% *}
		own=${line##* own=}
		[ "$got" = "$own" ] || fail "$name on the granted socket: $got, on its own socket: $own"
		case $name in
		SO_MARK | SO_PRIORITY_7 | SO_RCVBUFFORCE | SO_SNDBUFFORCE | SO_DEBUG | IP_TRANSPARENT | IPV6_TRANSPARENT)
			[ "$got" = EPERM ] || [ "$got" = EACCES ] || fail "$name should need privilege: $got" ;;
		esac
	done <<<"$output"
	[ "$n" -ge 8 ] || fail "too few options tried"
}

@test "no privileged socket option on a granted socket: SO_MARK, IP(V6)_TRANSPARENT, SO_PRIORITY 7, *BUFFORCE, SO_DEBUG" {
	local spec
	for spec in 80 127.0.0.1:80 '[::1]:443' 53/udp 127.0.0.1:53/udp '[::]:53/udp'; do
		echo "SPEC $spec"
		run as pbt_alice "$PB" "$spec" -- "$SOCKOPTS" 3
		expect_no_privileged_option
		run "$PB" "$spec" pbt_alice -- "$SOCKOPTS" 3
		expect_no_privileged_option
	done
	run as pbt_alice "$PB" --inetd 127.0.0.1:80 -- "$SOCKOPTS" 0
	expect_no_privileged_option
	expect_unbound 80
	expect_unbound 53
}

@test "a granted TCP socket cannot be used as a client from its port: it is listening, connect fails" {
	local spec
	for spec in 80 127.0.0.1:80 '[::1]:80' '[::]:443' 0.0.0.0:443; do
		echo "SPEC $spec"
		run as pbt_alice "$PB" "$spec" -- "$SOCKOPTS" 3
		expect_status 0
		[ "$(field connect)" = EISCONN ] || [ "$(field connect)" = EINVAL ] ||
			fail "connect() on the granted socket: $(field connect)"
	done
	run as pbt_alice "$PB" --inetd 80 -- "$SOCKOPTS" 0
	expect_status 0
	[ "$(field connect)" = EISCONN ] || [ "$(field connect)" = EINVAL ] ||
		fail "connect() on the granted socket: $(field connect)"
	expect_unbound 80
	expect_unbound 443
}

# What tests/outbound.c tries on a handed TCP socket, and how each try is
# refused on Linux 6.18: step.* prepares a try, try.* must not connect. A
# former listener that connect(AF_UNSPEC) or shutdown(SHUT_RD) closed keeps
# its port; Linux 6.18 refuses its next connect() (EINVAL), older kernels
# send the SYN, and portbind's locked filter drops the SYN-ACK (see
# SECURITY.md), so there the connect times out instead. The errno of a try
# after a disconnect is the kernel's; the filter's and that nothing
# connects are portbind's.
outbound_refusals() {
	cat <<'E'
try.filter_detach=EPERM
try.filter_replace=EPERM
try.filter_unlock=EPERM
try.listening.connect=EISCONN
try.listening.sendto_fastopen=EISCONN
step.unspec=ok
try.unspec.connect=EINVAL
try.unspec.sendto_fastopen=EINVAL
try.unspec.sendto_fastopen_nocookie=EINVAL
try.unspec.fastopen_connect=EINVAL
step.shutdown_rd=ok
try.shutdown_rd.connect=EINVAL
step.shutdown_rdwr=ok
try.shutdown_rdwr.connect=EINVAL
step.shutdown_wr=ok
try.shutdown_wr.connect=EISCONN
step.dup_unspec=ok
try.dup.connect=EINVAL
step.relisten=ok
try.relisten.connect=EISCONN
step.rebind=EINVAL
try.rebind.connect=EINVAL
try.repair=EPERM
step.reuseport=ok
try.reuseport.bind=EACCES
try.reuseaddr.bind=EACCES
E
	[ "$1" != "v6only=0" ] || echo try.unspec.connect_v4mapped=EINVAL
}

# outbound ran on a socket on port 80 as pbt_alice: every try was refused
# as listed, and its control connection (from a socket of its own) reached
# the recorder, so the recorder hears what arrives.
expect_outbound_refused() {
	expect_status 0
	[ "$(field uid)" = 59001 ] || fail "the command should run as pbt_alice"
	local sock want got sport i
	sock=$(field socket)
	[[ $sock == *" port=80" ]] || fail "the handed socket should be on port 80"
	want=$(outbound_refusals "$(awk '{print $2}' <<<"$sock")" | sort)
	got=$(grep -E '^(try|step)\.' <<<"$output" | sort)
	[ "$(cut -d= -f1 <<<"$got")" = "$(cut -d= -f1 <<<"$want")" ] ||
		fail "tries on $sock, expected vs got:" "$(diff <(echo "$want") <(echo "$got"))"
	! grep -q '^try\..*=connected$' <<<"$got" || fail "a try connected out on $sock:" "$got"
	grep -q '^try.filter_detach=EPERM$' <<<"$got" && grep -q '^try.filter_replace=EPERM$' <<<"$got" &&
		grep -q '^try.filter_unlock=EPERM$' <<<"$got" || fail "the SYN-ACK filter is not locked on $sock:" "$got"
	[ "$(uname -r | cut -d. -f1-2)" != 6.18 ] || [ "$got" = "$want" ] ||
		fail "tries on $sock (Linux 6.18), expected vs got:" "$(diff <(echo "$want") <(echo "$got"))"
	[[ $(field control) == "connected sport="* ]] || fail "the control connection failed"
	sport=$(field control) sport=${sport#*sport=}
	for ((i = 0; i < 200; i++)); do
		grep -q " port=$sport\$" "$rec" && break
		sleep 0.025
	done
	grep -q " port=$sport\$" "$rec" || fail "the recorder did not hear the control connection from port $sport"
}

@test "a handed TCP socket never connects out from its privileged port: connect, AF_UNSPEC or shutdown then connect, sendto MSG_FASTOPEN, dup, re-listen, TCP_REPAIR, SO_REUSEADDR/SO_REUSEPORT; IPv4, IPv6 and dual stack" {
	no_time_wait
	local spec rec
	# Records the source of every connection to port 7070, IPv4 and IPv6.
	bg_as root "$OUTBOUND" --record 7070 60
	wait_bound tcp 7070
	rec=$out
	for spec in 127.0.0.1:80 '[::1]:80' 80; do
		echo "SPEC $spec"
		run as pbt_alice "$PB" "$spec" -- "$OUTBOUND" 3 7070
		echo "$output"
		expect_outbound_refused
		run "$PB" "$spec" pbt_alice -- "$OUTBOUND" 3 7070
		expect_outbound_refused
	done
	run as pbt_alice "$PB" --inetd 80 -- "$OUTBOUND" 0 7070
	expect_outbound_refused
	echo "connections the recorder heard:"
	cat "$rec"
	! grep -q ' port=80$' "$rec" || fail "a connection arrived from port 80:" "$(cat "$rec")"
	expect_unbound 80
}
