#!/usr/bin/env bats
# The listening guarantee on an older kernel: Linux 6.1 (Debian 12's), booted
# as user-mode-linux on this machine's root file system (tests/oldkernel),
# runs the installed portbind with the outbound tries of network.bats. There
# a socket taken out of listening sends its SYN again, and only portbind's
# locked SYN-ACK filter keeps the connection from being made.

load lib

setup_file() {
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/outbound" "$BATS_TEST_DIRNAME/outbound.c"
	chmod 0755 "$BATS_FILE_TMPDIR/outbound"
	make_traversable "$BATS_FILE_TMPDIR"
}

# The lines of run $1 (v4, v6, dual) in the output of oldkernel.
run_of() {
	awk -v r="$1" '/^RUN /{on = ($2 == r); next} /^(RUN|served|RECORDED)/{on = 0} on' <<<"$output"
}

@test "on Linux 6.1, a handed TCP socket never connects out from its privileged port: AF_UNSPEC or shutdown then connect, sendto MSG_FASTOPEN, dup, rebind; IPv4, IPv6 and dual stack; and it still serves clients" {
	command -v linux >/dev/null || skip "user-mode-linux is not installed (tests/deps installs it)"
	table <<'T'
[web]
port = 80-82
protocol = tcp
user = pbt_alice
T
	run "$BATS_TEST_DIRNAME/oldkernel" "$BATS_TEST_TMPDIR" "$PB" "$BATS_FILE_TMPDIR/outbound" "$PROBE"
	echo "$output"
	[ "$status" != 77 ] || skip "$(grep '^oldkernel: ' <<<"$output" | tail -n 1)"
	expect_status 0
	[[ $(field kernel) == 6.1.* ]] || fail "the UML kernel should be Linux 6.1"
	[ "$(field ipv6)" = yes ] || fail "the UML kernel should have IPv6"
	local r lines sport
	for r in "v4 socket=inet v6only=- port=80" "v6 socket=inet6 v6only=1 port=81" \
		"dual socket=inet6 v6only=0 port=82"; do
		lines=$(run_of "${r%% *}")
		grep -qx "${r#* }" <<<"$lines" || fail "run $r: no such socket" "$lines"
		grep -qx 'status=0' <<<"$lines" && grep -qx 'uid=59001' <<<"$lines" || fail "run $r: outbound failed" "$lines"
		[ "$(grep -cE '^try\.filter_(detach|replace|unlock)=EPERM$' <<<"$lines")" = 3 ] ||
			fail "run $r: the SYN-ACK filter is not locked" "$lines"
		! grep -q '^try\..*=connected$' <<<"$lines" || fail "run $r: a try connected out" "$lines"
		# Linux 6.1 sent the SYN (Linux 6.18 refuses with EINVAL): the
		# filter, not the kernel, is what this run tested.
		grep -qx 'try.shutdown_rd.connect=pending' <<<"$lines" && grep -qx 'try.unspec.connect=pending' <<<"$lines" ||
			fail "run $r: the kernel did not send the SYN" "$lines"
		sport=$(sed -n 's/^control=connected sport=//p' <<<"$lines")
		[ -n "$sport" ] && sed -n '/^RECORDED$/,$p' <<<"$output" | grep -q " port=$sport\$" ||
			fail "run $r: the recorder did not hear the control connection"
	done
	! sed -n '/^RECORDED$/,$p' <<<"$output" | grep -qE ' port=8[012]$' ||
		fail "a connection arrived from a privileged port"
	[ "$(field served.client)" = "hello from probe uid=59001" ] && [ "$(field served.3)" = stream ] ||
		fail "a client should be served through the filter"
}
