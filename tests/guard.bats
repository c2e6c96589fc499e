#!/usr/bin/env bats
# portbind-guard: the table enforced by the kernel for every bind() in a
# cgroup. Each test has its own cgroup2 directory, bpf filesystem and
# restored sysctls (tests/guard.bash).
load guard

ORACLE=$PB_PREFIX/libexec/guard-oracle
SRC=$BATS_TEST_DIRNAME/../src

setup_file() {
	build_binder
	cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$SRC" -DSYSCONFDIR="\"$ETC\"" \
		-o "$ORACLE" "$BATS_TEST_DIRNAME/guard-oracle.c" "$SRC/parse.c" "$SRC/table.c" "$SRC/sections.c" "$SRC/keys.c" "$SRC/strmap.c" \
		"$SRC/chain.c" "$SRC/load.c" "$SRC/stamp.c" "$SRC/policy.c" "$SRC/log.c" "$SRC/restrict.c"
	# A byte-identical copy of the pinned binder, also root's alone.
	cp "$BINDER" "$PB_PREFIX/libexec/binder-copy"
}

@test "a granted user binds a privileged port with no capability; another user and root get EADDRINUSE" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
	EOF
	expect_bind EACCES pbt_alice tcp 0.0.0.0 80
	run guard load
	expect_status 0
	expect_line "2 owned port(s)" # 80/tcp and 80/udp
	expect_bind ok pbt_alice tcp 0.0.0.0 80
	expect_bind ok pbt_alice udp 0.0.0.0 80
	expect_bind EADDRINUSE pbt_bob tcp 0.0.0.0 80
	expect_bind EADDRINUSE root tcp 0.0.0.0 80
	expect_bind EADDRINUSE root udp 127.0.0.1 80
	# A v6 socket does not get around a v4 reservation.
	expect_bind EADDRINUSE root tcp dual 80
	expect_bind EADDRINUSE root tcp ::ffff:127.0.0.1 80
	# Outside the guarded cgroup, and in another network namespace, the
	# kernel's own rules.
	run "$BINDER" tcp 0.0.0.0 80
	[ "$output" = ok ] || fail "root outside the cgroup"
	run in_cg root unshare -n -- "$BINDER" tcp 0.0.0.0 80
	[ "$output" = ok ] || fail "root in another network namespace"
	run in_cg root unshare -n -- setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$BINDER" tcp 0.0.0.0 80
	[ "$output" = EACCES ] || fail "pbt_alice in another network namespace"
}

@test "a port the table does not list keeps the kernel's normal rules" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
	EOF
	guard load
	expect_bind EACCES pbt_alice tcp 0.0.0.0 81
	expect_bind ok root tcp 0.0.0.0 81
	expect_bind ok pbt_bob tcp 0.0.0.0 8081
	# bind() to port 0 is not judged: the kernel picks a port.
	run in_cg pbt_bob "$BINDER" zero tcp
	expect_status 0
}

@test "groups (primary and supplementary), uid ranges and user = *" {
	table <<-EOF
		[web]
		port = 82
		group = pbt_web
		[dev]
		port = 83
		group = pbt_dev
		[range]
		port = 84
		uid = 59003-59004
		[all]
		port = 85
		user = *
		[gids]
		port = 86
		gid = 59040-59051
	EOF
	guard load
	expect_bind ok pbt_alice tcp 0.0.0.0 82   # supplementary
	expect_bind ok pbt_carol tcp 0.0.0.0 82   # supplementary
	expect_bind EADDRINUSE pbt_bob tcp 0.0.0.0 82
	expect_bind EADDRINUSE 59001:59001:59001 tcp 0.0.0.0 82 # alice without pbt_web
	expect_bind ok pbt_bob tcp 0.0.0.0 83     # primary
	expect_bind ok pbt_carol tcp 0.0.0.0 83
	expect_bind EADDRINUSE pbt_alice tcp 0.0.0.0 83
	expect_bind ok pbt_carol tcp 0.0.0.0 84
	expect_bind ok pbt_dave tcp 0.0.0.0 84
	expect_bind EADDRINUSE pbt_bob tcp 0.0.0.0 84
	expect_bind ok pbt_dave udp 0.0.0.0 85
	expect_bind ok root udp 0.0.0.0 85
	expect_bind ok 61000:61000:61000 udp 0.0.0.0 85
	# Supplementary groups past the first ones are read too.
	expect_bind ok 61000:61000:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,59045 tcp 0.0.0.0 86
	expect_bind EADDRINUSE 61000:61000:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18 tcp 0.0.0.0 86
}

@test "addresses: v4, v6, v4-mapped and dual-stack are judged as policy_decide judges them" {
	table <<-EOF
		[v4]
		port = 86
		address = 127.0.0.1
		user = pbt_alice
		[v6]
		port = 87
		address = ::1
		user = pbt_alice
		[both]
		port = 88
		address = 0.0.0.0, ::
		user = pbt_alice
		[any4]
		port = 89
		address = 0.0.0.0
		user = pbt_alice
	EOF
	guard load
	expect_bind ok pbt_alice tcp 127.0.0.1 86
	expect_bind EADDRINUSE pbt_alice tcp 0.0.0.0 86
	expect_bind ok pbt_alice tcp ::ffff:127.0.0.1 86
	expect_bind EADDRINUSE pbt_bob tcp ::ffff:127.0.0.1 86
	expect_bind ok pbt_alice udp ::1 87
	expect_bind EADDRINUSE pbt_alice udp dual 87
	expect_bind ok pbt_alice tcp dual 88
	expect_bind ok pbt_alice tcp :: 88
	expect_bind ok pbt_alice tcp 0.0.0.0 88
	# [::] with IPV6_V6ONLY off is a bind of [::] too: 0.0.0.0 alone is not enough.
	expect_bind EADDRINUSE pbt_alice tcp dual 89
	expect_bind ok pbt_alice tcp 0.0.0.0 89
	expect_bind ok pbt_alice tcp ::ffff:0.0.0.0 89
}

@test "a pinned program is granted and a byte-identical copy is refused" {
	table <<-EOF
		[pinned]
		port = 90
		user = pbt_alice
		program = $BINDER
	EOF
	guard load
	cmp "$BINDER" "$PB_PREFIX/libexec/binder-copy"
	expect_bind ok pbt_alice tcp 0.0.0.0 90
	run in_cg pbt_alice "$PB_PREFIX/libexec/binder-copy" tcp 0.0.0.0 90
	[ "$output" = EADDRINUSE ] || fail "the copy was not refused"
	expect_bind EADDRINUSE pbt_bob tcp 0.0.0.0 90
}

@test "root's bindresvport() skips the owned ports in 512-1023" {
	table <<-EOF
		[reserved]
		port = 512-699, 701-1023
		user = pbt_dave
	EOF
	for i in 1 2 3; do
		run in_cg root "$BINDER" resv
		[ "$output" != 700 ] || break
	done
	[ "$output" != 700 ] || skip "bindresvport() picked 700 three times without the guard"
	guard load
	for i in 1 2 3 4 5; do
		run in_cg root "$BINDER" resv
		expect_status 0
		[ "$output" = 700 ] || fail "bindresvport() took an owned port"
	done
}

@test "bind(0) never lands on an owned port in a narrowed ip_local_port_range; unload restores the administrator's reserved ports" {
	echo "40000 40003" >/proc/sys/net/ipv4/ip_local_port_range
	echo 45000 >/proc/sys/net/ipv4/ip_local_reserved_ports
	table <<-EOF
		[low]
		port = 40000-40002
		user = pbt_dave
		[outside]
		port = 80
		user = pbt_dave
	EOF
	guard load
	[ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)" = "40000-40002,45000" ] ||
		fail "reserved: $(cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
	for i in $(seq 10); do
		for p in tcp udp; do
			run in_cg pbt_bob "$BINDER" zero $p
			[ "$output" = 40003 ] || fail "bind(0) over $p chose $output"
		done
		run in_cg pbt_bob "$BINDER" auto
		[ "$output" = 40003 ] || fail "connect() autobind chose $output"
	done
	run guard unload
	expect_status 0
	[ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)" = 45000 ] ||
		fail "not restored: $(cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
	expect_bind EACCES pbt_dave tcp 0.0.0.0 80
}

@test "reload swaps the policy; a bad table is refused with file:line and the old policy stays" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
	EOF
	guard load
	table <<-EOF
		[web]
		port = 80
		user = pbt_bob
	EOF
	run guard reload
	expect_status 0
	expect_bind ok pbt_bob tcp 0.0.0.0 80
	expect_bind EADDRINUSE pbt_alice tcp 0.0.0.0 80
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
		prot = tcp
	EOF
	run "$PB" --check "$ETC/portbind.conf"
	check=$(grep ":4:" <<<"$output")
	[ -n "$check" ] || fail "portbind --check gave no file:line"
	run guard reload
	expect_status 78
	expect_line "$check"
	expect_line "the loaded policy stays"
	expect_bind ok pbt_bob tcp 0.0.0.0 80
	expect_bind EADDRINUSE pbt_alice tcp 0.0.0.0 80
}

@test "reload is atomic: binds during reloads back and forth see the old or the new policy, never none" {
	# Root's --config files, in a directory chain that is root's alone.
	local a=$ETC/pbt-guard-a.conf b=$ETC/pbt-guard-b.conf
	printf '[web]\nport = 80\nuser = pbt_alice\n' >"$a"
	printf '[web]\nport = 80\nuser = pbt_bob\n[other]\nport = 81\nuser = pbt_bob\n' >"$b"
	chmod 0644 "$a" "$b"
	guard load --config "$a"
	yes "tcp 0.0.0.0 80" | head -n 200000 >"$BATS_TEST_TMPDIR/binds"
	out=$BATS_TEST_TMPDIR/out
	in_cg pbt_alice "$BINDER" batch <"$BATS_TEST_TMPDIR/binds" >"$out" &
	bg=$!
	bgpids+=("$bg")
	# Reloads back and forth for as long as the binds go on (at least 10
	# pairs, at most 100), so that both policies are seen.
	for ((i = 0; i < 100 && (i < 10 || $(kill -0 "$bg" 2>/dev/null && echo 1 || echo 0)); i++)); do
		guard reload --config "$b" >/dev/null
		guard reload --config "$a" >/dev/null
	done
	wait_pid "$bg" 60
	sort "$out" | uniq -c >"$BATS_TEST_TMPDIR/seen"
	! grep -q EACCES "$BATS_TEST_TMPDIR/seen" || fail "a bind saw no policy: $(cat "$BATS_TEST_TMPDIR/seen")"
	grep -q ' ok$' "$BATS_TEST_TMPDIR/seen" || fail "alice never bound: $(cat "$BATS_TEST_TMPDIR/seen")"
	grep -q ' EADDRINUSE$' "$BATS_TEST_TMPDIR/seen" || fail "bob's policy never seen: $(cat "$BATS_TEST_TMPDIR/seen")"
	[ "$(grep -c . "$out")" = 200000 ] || fail "binds: $(cat "$BATS_TEST_TMPDIR/seen")"
}

@test "status: where, which namespace, the digest, owned ports, counters and the last refusals" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
	EOF
	guard load
	expect_bind ok pbt_alice tcp 0.0.0.0 80
	expect_bind EADDRINUSE pbt_bob tcp 127.0.0.1 80
	run guard status
	expect_status 0
	expect_line "attached: yes to $CG"
	expect_line "network namespace: net:[$(stat -L -c %i /proc/self/ns/net)]"
	expect_line "matches the table on disk"
	expect_line "owned ports: 2"
	grep -Eq '^80/tcp +1 +1$' <<<"$output" || fail "counters"
	expect_line "uid 59002 pid "
	expect_line "comm binder tcp 127.0.0.1 port 80"
	printf '[web]\nport = 80\nuser = pbt_bob\n' >"$ETC/portbind.conf"
	run guard status
	expect_status 2
	expect_line "the table on disk differs"
	# a reload keeps the counts, and counts on from them
	guard reload
	expect_bind ok pbt_bob tcp 0.0.0.0 80
	run guard status
	expect_status 0
	grep -Eq '^80/tcp +2 +1$' <<<"$output" || fail "counters after a reload: $output"
	run guard unload
	run guard status
	expect_status 3
}

@test "portbind's own grant to a user works under the guard, pinned too, and nobody else can borrow it" {
	table <<-EOF
		[pinned]
		port = 90
		user = pbt_alice
		program = $PROBE
		[web]
		port = 91
		group = pbt_web
	EOF
	# Without the exemption (no installed portbind named), the pinned
	# grant fails at bind: the executable then is portbind, not the probe.
	run guard load --portbind /nonexistent/portbind
	expect_status 0
	run in_cg pbt_alice "$PB" 90 -- "$PROBE"
	expect_status 69
	guard unload
	guard load
	run in_cg pbt_alice "$PB" 90 -- "$PROBE"
	expect_status 0
	expect_line "fd.3="
	run in_cg root "$PB" 90 pbt_alice -- "$PROBE"
	expect_status 0
	run in_cg pbt_carol "$PB" 91 -- "$PROBE"
	expect_status 0
	run in_cg pbt_bob "$PB" 90 -- "$PROBE"
	expect_status 77
	# A setuid-root copy of portbind is another inode: no exemption.
	cp -p "$PB" "$PB_PREFIX/bin/portbind-copy"
	run in_cg pbt_alice "$PB_PREFIX/bin/portbind-copy" 90 -- "$PROBE"
	rm -f "$PB_PREFIX/bin/portbind-copy"
	expect_status 69
	expect_line "Address already in use"
	# Her own binder is not the pinned probe.
	expect_bind EADDRINUSE pbt_alice tcp 0.0.0.0 90
}

@test "failures: one line, a documented exit code, nothing attached" {
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
		bogus = 1
	EOF
	run guard load
	expect_status 78
	expect_line "portbind.conf:4: unknown key 'bogus'"
	run guard status
	expect_status 3
	table <<-EOF
		[web]
		port = 80
		user = pbt_alice
	EOF
	run nsenter -m -t "$holder" -- "$GUARD" --pin-dir /sys/fs/bpf/pbt --cgroup /proc load
	expect_status 69
	expect_line "is not a cgroup2 directory"
	run nsenter -m -t "$holder" -- "$GUARD" --pin-dir "$BATS_TEST_TMPDIR/pins" --cgroup "$CG" load
	expect_status 69
	expect_line "is not on a bpf filesystem"
	[ ! -e "$BATS_TEST_TMPDIR/pins" ] || fail "pin directory left behind"
	[ -z "$(bpftool cgroup show "$CG")" ] || fail "left attached: $(bpftool cgroup show "$CG")"
	run guard status
	expect_status 3
	guard load
	run guard load
	expect_status 73
	run setpriv --reuid=pbt_bob --regid=pbt_dev --init-groups -- "$GUARD" status
	expect_status 77
	[ "$(grep -c . <<<"$output")" = 1 ] || fail "one line"
}

@test "differential: the kernel's verdict and policy_decide() agree on random tables and binds (fixed seed)" {
	run "$BATS_TEST_DIRNAME/guard-diff" "${PB_GUARD_SEED:-8}" "${PB_GUARD_ROUNDS:-12}" \
		"$ETC/diff.conf" "$CG" "$BINDER" "$PB_PREFIX/libexec/binder-copy" "$ORACLE" -- \
		nsenter -m -t "$holder" -- "$GUARD" --pin-dir /sys/fs/bpf/pbt --cgroup "$CG"
	expect_status 0
	expect_line " 0 disagreements"
}

# ---- failures of load: one line, a documented exit code, nothing left ----

# A table whose owned port 40001 lies in a narrowed ip_local_port_range, so
# that a load adds it to ip_local_reserved_ports (45000 is the
# administrator's own entry, which a failed load must leave alone).
failure_table() {
	echo "40000 40003" >/proc/sys/net/ipv4/ip_local_port_range
	echo 45000 >/proc/sys/net/ipv4/ip_local_reserved_ports
	table <<-EOF
		[web]
		port = 80, 40001
		user = pbt_alice
	EOF
}

# Exit $1 and exactly one line, "portbind-guard: ...".
expect_one_line() {
	expect_status "$1"
	[ "$(grep -c . <<<"$output")" = 1 ] || fail "expected exactly one line"
	[[ $output == "portbind-guard: "* ]] || fail "expected 'portbind-guard: ...'"
}

# Nothing of a failed load is left: no program on the test's cgroup (links
# of an exited loader are gone within 2 s), no pin directory, and
# ip_local_reserved_ports as the administrator had it.
expect_nothing_left() {
	local i
	for ((i = 0; i < 40; i++)); do
		[ -z "$(bpftool cgroup show "$CG")" ] && break
		sleep 0.05
	done
	[ -z "$(bpftool cgroup show "$CG")" ] || fail "left attached: $(bpftool cgroup show "$CG")"
	nsenter -m -t "$holder" -- test ! -e /sys/fs/bpf/pbt || fail "pin directory left behind"
	[ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)" = 45000 ] ||
		fail "reserved ports: $(cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
}

# portbind-guard load under strace with the options "$@", as guard() runs it.
strace_load() {
	nsenter -m -t "$holder" -- strace -f -qq "$@" -- "$GUARD" --pin-dir /sys/fs/bpf/pbt \
		--cgroup "$CG" load
}

@test "failures: a kernel without BTF: 69, one line naming it, nothing left" {
	failure_table
	# /sys/kernel/btf/vmlinux missing, in a mount namespace of this run only
	run nsenter -m -t "$holder" -- unshare -m -- sh -c \
		'mount -t tmpfs pbt-nobtf /sys/kernel/btf && exec "$@"' sh \
		"$GUARD" --pin-dir /sys/fs/bpf/pbt --cgroup "$CG" load
	expect_one_line 69
	expect_line "the kernel has no BTF"
	expect_nothing_left
}

@test "failures: a kernel before 5.18 (no bpf_set_retval for cgroup programs): 69, one line naming 5.18, nothing left" {
	failure_table
	# The bpf() of such a kernel for the helper, in front of libbpf's probe:
	# a verifier refusal naming the helper unknown (tests/no-set-retval.c).
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$BATS_TEST_TMPDIR/no-set-retval.so" \
		"$BATS_TEST_DIRNAME/no-set-retval.c" -ldl
	run nsenter -m -t "$holder" -- env LD_PRELOAD="$BATS_TEST_TMPDIR/no-set-retval.so" \
		"$GUARD" --pin-dir /sys/fs/bpf/pbt --cgroup "$CG" load
	expect_one_line 69
	expect_line "Linux 5.18 or later is needed"
	expect_nothing_left
	# The same load on this kernel as it is
	run guard load
	expect_status 0
}

@test "failures: the kernel refusing bpf() from any call on (verifier, lockdown): 69 or 71, one line, nothing left" {
	local trace=$BATS_TEST_TMPDIR/trace seen=$BATS_TEST_TMPDIR/seen n total
	failure_table
	# How many bpf() calls a load makes, counted on this kernel and libbpf
	strace_load -o "$trace" -e trace=bpf >/dev/null
	guard unload >/dev/null
	total=$(grep -c '^[0-9]* *bpf(' "$trace")
	[ "$total" -ge 20 ] || fail "only $total bpf() calls traced"
	: >"$seen"
	for ((n = 1; n <= total; n++)); do
		run strace_load -o /dev/null -e trace=bpf -e inject=bpf:error=EPERM:when=$n+
		[ "$status" = 69 ] || [ "$status" = 71 ] || fail "bpf() refused from call $n of $total on"
		expect_one_line "$status"
		expect_nothing_left
		printf '%s\n' "$output" >>"$seen"
	done
	# Among them the program load, the pins and the attach
	run cat "$seen"
	expect_line "the kernel refused the BPF programs"
	expect_line "cannot pin in /sys/fs/bpf/pbt"
	expect_line "cannot attach to $CG"
}

@test "failures after the pins: the attach or the reserved ports failing removes every pin and restores ip_local_reserved_ports" {
	local trace=$BATS_TEST_TMPDIR/trace n links
	failure_table
	strace_load -o "$trace" -e trace=bpf >/dev/null
	guard unload >/dev/null
	# Each attach (BPF_LINK_CREATE) failing alone: by then the maps are
	# pinned and 40001 is reserved; for bind6, bind4 is attached too.
	links=$(grep -n 'bpf(BPF_LINK_CREATE' "$trace" | cut -d: -f1)
	[ "$(wc -w <<<"$links")" = 2 ] || fail "expected two attaches, bind4 and bind6: $links"
	for n in $links; do
		run strace_load -o /dev/null -e trace=bpf -e inject=bpf:error=EPERM:when=$n
		expect_one_line 69
		expect_line "cannot attach to $CG: Operation not permitted; nothing is left attached"
		expect_nothing_left
	done
	# Writing ip_local_reserved_ports failing, after the pins
	run strace_load -o /dev/null -P /proc/sys/net/ipv4/ip_local_reserved_ports \
		-e trace=write -e inject=write:error=EIO:when=1
	expect_one_line 71
	expect_line "cannot write /proc/sys/net/ipv4/ip_local_reserved_ports: Input/output error"
	expect_nothing_left
	# Nothing stale blocks the next load
	run guard load
	expect_status 0
	[ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)" = "40001,45000" ] ||
		fail "reserved: $(cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
}

@test "MPTCP binds are judged as TCP binds: an MPTCP socket binds through its first TCP subflow" {
	# Debian's python3: the test users cannot reach one in root's home
	/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)' 2>/dev/null ||
		skip "no MPTCP in this kernel (or net.mptcp.enabled = 0)"
	table <<-EOF
		[web]
		port = 80
		protocol = tcp
		user = pbt_alice
	EOF
	guard load
	# mptcp_bind USER FAMILY ADDR PORT: ok or the errno name
	mptcp_bind() {
		run in_cg "$1" /usr/bin/python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET,
                  socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
try:
    s.bind((sys.argv[2], int(sys.argv[3])))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "${@:2}"
	}
	mptcp_bind pbt_alice 4 0.0.0.0 80
	[ "$output" = ok ] || fail "the owner over MPTCP, IPv4"
	mptcp_bind pbt_alice 6 :: 80
	[ "$output" = ok ] || fail "the owner over MPTCP, dual stack"
	mptcp_bind pbt_bob 4 0.0.0.0 80
	[ "$output" = EADDRINUSE ] || fail "another user over MPTCP"
	mptcp_bind root 4 127.0.0.1 80
	[ "$output" = EADDRINUSE ] || fail "root over MPTCP, IPv4"
	mptcp_bind root 6 :: 80
	[ "$output" = EADDRINUSE ] || fail "root over MPTCP, dual stack"
}
