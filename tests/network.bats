#!/usr/bin/env bats
# Sockets as the daemon receives them: TCP and UDP, IPv4, IPv6 and dual
# stack, several at once, inetd mode, bind failures.
load lib

setup() {
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
