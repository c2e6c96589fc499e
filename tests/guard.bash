# For suites that run portbind-guard (guard.bats, selfbind.bats). Each test
# makes its own cgroup2 directory (never the root one) and its own bpf
# filesystem in a private mount namespace, held by one sleeping process:
# when the test ends, the namespace goes, and with it every pin, so no
# guard outlives a test. Processes are judged after moving into the test's
# cgroup; everything runs in the test run's private network namespace, and
# the sysctls the guard changes are restored.
load lib

GUARD=$PB_PREFIX/sbin/portbind-guard
BINDER=$PB_PREFIX/libexec/binder

# tests/binder.c, for setup_file.
build_binder() {
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BINDER" "$BATS_TEST_DIRNAME/binder.c"
}

# A cgroup ($CG) and a private bpffs held by process $holder; the sysctls saved.
guard_setup() {
	cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$cg2" ] || skip "no cgroup2 hierarchy is mounted"
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF"
	CG=$cg2/pbt-guard.$$.$BATS_TEST_NUMBER
	mkdir "$CG"
	saved_reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
	saved_range=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	mkfifo "$BATS_TEST_TMPDIR/ready"
	unshare -m --propagation private -- sh -c \
		'mount -t bpf pbt-bpf /sys/fs/bpf && echo ready > "$0" && exec sleep 600' \
		"$BATS_TEST_TMPDIR/ready" 3>&- &
	holder=$!
	read -r -t 10 _ <"$BATS_TEST_TMPDIR/ready" || fail "no private bpf filesystem"
}

# Every process of the test stopped, the pins gone with their namespace, the cgroup removed, the sysctls restored.
guard_teardown() {
	local i
	[ -n "${holder:-}" ] || return 0
	stop "$holder"
	kill_bgpids
	# The cgroup empties as its processes end: at most 2 s.
	for ((i = 0; i < 80; i++)); do
		rmdir "$CG" 2>/dev/null && break
		sleep 0.025
	done
	[ ! -d "$CG" ] || fail "cgroup $CG not removed"
	printf '%s\n' "$saved_reserved" >/proc/sys/net/ipv4/ip_local_reserved_ports
	printf '%s\n' "$saved_range" >/proc/sys/net/ipv4/ip_local_port_range
}

# portbind-guard in the test's mount namespace, pinned in its bpffs.
guard() {
	nsenter -m -t "$holder" -- "$GUARD" --pin-dir /sys/fs/bpf/pbt --cgroup "$CG" "$@"
}

# Run "$@" as user $1 (root: as is; "U:G:GROUPS" numeric ids) inside the
# test's cgroup, where the guard judges it.
in_cg() {
	local u=$1
	shift
	case $u in
	root) set -- "$@" ;;
	*:*) set -- setpriv --reuid="${u%%:*}" --regid="$(cut -d: -f2 <<<"$u")" \
		--groups="${u##*:}" -- "$@" ;;
	*) set -- setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@" ;;
	esac
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

# bind PROTO ADDR PORT as user $1 in the cgroup: $output is ok or the errno name.
bind_as() {
	local u=$1
	shift
	run in_cg "$u" "$BINDER" "$@"
}

expect_bind() { # WANT USER PROTO ADDR PORT
	local want=$1
	shift
	bind_as "$@"
	[ "$output" = "$want" ] || fail "$* : expected $want"
}

# A suite that needs more can define its own and call these.
setup() { guard_setup; }
teardown() { guard_teardown; }
