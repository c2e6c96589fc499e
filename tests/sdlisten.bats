#!/usr/bin/env bats
# The real consumer: a client linked against Debian's libsystemd asks
# sd_listen_fds_with_names(3) for its sockets after the installed setuid
# portbind started it as a test user. It must receive exactly the sockets,
# order and names portbind set, and nothing once a fork has changed its
# pid (LISTEN_PID no longer matches), as a daemon would.
load lib

CLIENT=$PB_PREFIX/libexec/sdclient

setup_file() {
	# In the private prefix, not in bats' own 0700 temporary directory,
	# so that the test users can execute it; removed with the prefix.
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$CLIENT" "$BATS_TEST_DIRNAME/sdclient.c" -lsystemd
}

teardown_file() {
	rm -f "$CLIENT"
}

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
[dns]
port = 53
group = pbt_web
[alt]
port = 8000-8009
user = pbt_alice pbt_bob
T
}

# The output is exactly the lines given as arguments.
expect_output() {
	local want
	want=$(printf '%s\n' "$@")
	[ "$output" = "$want" ] || fail "expected exactly:" "$want"
}

@test "one socket: the client gets fd 3, named after the granting section" {
	run as pbt_alice "$PB" 80 -- "$CLIENT"
	expect_status 0
	expect_output "n=1" \
		"fd=3 name=web type=stream family=inet6 addr=:: port=80" \
		"open=3"
	expect_port_free 80
}

@test "two sockets, UDP on IPv4 and TCP on IPv6, in SPEC order with the given name" {
	local want=("n=2"
		"fd=3 name=dns type=dgram family=inet addr=127.0.0.1 port=53"
		"fd=4 name=tls type=stream family=inet6 addr=::1 port=443"
		"open=3,4")
	run as pbt_alice "$PB" '127.0.0.1:53/udp,[::1]:443=tls' -- "$CLIENT"
	expect_status 0
	expect_output "${want[@]}"
	# the same when root starts it for pbt_alice
	run "$PB" '127.0.0.1:53/udp,[::1]:443=tls' pbt_alice -- "$CLIENT"
	expect_status 0
	expect_output "${want[@]}"
}

@test "ten sockets of mixed TCP/UDP and IPv4/IPv6/dual stack arrive exactly, in order, with their names" {
	run as pbt_alice "$PB" \
		'443=tls,127.0.0.1:80,[::1]:80=web6,53/udp,127.0.0.1:53=dns-tcp,[::1]:8002/udp,0.0.0.0:8000/udp=stats,[::]:8001,9000,127.0.0.1:8003/udp' \
		-- "$CLIENT"
	expect_status 0
	expect_output "n=10" \
		"fd=3 name=tls type=stream family=inet6 addr=:: port=443" \
		"fd=4 name=web type=stream family=inet addr=127.0.0.1 port=80" \
		"fd=5 name=web6 type=stream family=inet6 addr=::1 port=80" \
		"fd=6 name=dns type=dgram family=inet6 addr=:: port=53" \
		"fd=7 name=dns-tcp type=stream family=inet addr=127.0.0.1 port=53" \
		"fd=8 name=alt type=dgram family=inet6 addr=::1 port=8002" \
		"fd=9 name=stats type=dgram family=inet addr=0.0.0.0 port=8000" \
		"fd=10 name=alt type=stream family=inet6 addr=:: port=8001" \
		"fd=11 name=unknown type=stream family=inet6 addr=:: port=9000" \
		"fd=12 name=alt type=dgram family=inet addr=127.0.0.1 port=8003" \
		"open=3,4,5,6,7,8,9,10,11,12"
}

@test "a wrapper that execs the client in place keeps LISTEN_PID: the client gets its socket" {
	run as pbt_bob "$PB" 8001 -- sh -c 'exec "$0"' "$CLIENT"
	expect_status 0
	expect_output "n=1" \
		"fd=3 name=alt type=stream family=inet6 addr=:: port=8001" \
		"open=3"
}

@test "a shell that forks the client (command not last): n=0 although the socket is open" {
	run as pbt_alice "$PB" 80 -- sh -c '"$0"; true' "$CLIENT"
	expect_status 0
	expect_output "n=0" "open=3"
}

@test "a pipeline in bash forks the client too: n=0" {
	run as pbt_alice "$PB" '80,53/udp' -- bash -c 'x=1; "$0" | cat' "$CLIENT"
	expect_status 0
	expect_output "n=0" "open=3,4"
}

@test "--inetd: no LISTEN_* variables, so n=0; the socket is on fd 0, nothing from 3 up" {
	run as pbt_alice "$PB" --inetd 80 -- "$CLIENT"
	expect_status 0
	expect_output "n=0" "open=-"
}
