#!/usr/bin/env bats
# make bench runs and prints every row of its table, each with a ratio it
# measured and the command that reruns it. With one round, a ratio is that
# round's time over the baseline's (the group's first row), so it must
# agree with the two medians printed beside it: a ratio that was not
# computed from the measurement fails. The figures themselves are not
# judged here (make check does not run the benchmark; the README gives
# them), except one: the number of system calls portbind makes before it
# executes the command, which has a bound below.
load lib

TREE=$BATS_TEST_DIRNAME/..

# Our own cgroups and prefixes: none may be left after a run.
leftovers() {
	local cg2
	cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	ls -d "$cg2"/portbind-bench.* /var/lib/portbind-bench.* 2>/dev/null || true
}

# expect_rows GROUP UNIT "LABEL|ID"...: each row is "LABEL N UNIT RATIO ...
# make bench BENCH=GROUP:ID ...", the first with ratio 1.00, the others
# with N / (the first's N), within what rounding N and the ratio loses.
expect_rows() {
	local group=$1 unit=$2 row label id line n ratio base=
	shift 2
	for row in "$@"; do
		label=${row%|*} id=${row#*|}
		line=$(grep -F -- "$label " <<<"$output") || fail "no row '$label'"
		[[ "$line" =~ ^${label//[()]/.}\ +([0-9.]+)\ $unit\ +([0-9]+\.[0-9]{2})\ .*\ make\ bench\ BENCH=$group:$id\ BENCH_BINDS=50\ BENCH_ROUNDS=1$ ]] ||
			fail "row '$label' is not 'LABEL N $unit RATIO ... make bench BENCH=$group:$id ...': $line"
		n=${BASH_REMATCH[1]} ratio=${BASH_REMATCH[2]}
		awk -v n="$n" 'BEGIN { exit !(n > 0) }' || fail "no time measured: $line"
		if [ -z "$base" ]; then
			base=$n
			[ "$ratio" = 1.00 ] || fail "the baseline's ratio: $line"
		else
			awk -v n="$n" -v b="$base" -v r="$ratio" \
				'BEGIN { d = n / b - r; e = 0.01 + r * 0.01; exit !(d < e && d > -e) }' ||
				fail "ratio $ratio is not $n / $base"
		fi
	done
}

@test "make bench prints every row with a measured ratio and the command that reruns it, draws them, and leaves nothing behind" {
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF"
	before=$(leftovers)
	plot=$BATS_TEST_TMPDIR/bench.svg
	run env BENCH_PLOT="$plot" make -s -C "$TREE" bench BENCH_ROUNDS=1 BENCH_BINDS=50
	expect_status 0
	expect_rows bind ns/bind "no guard|none" "empty bind4 program (the floor)|empty" \
		"guard, 65,536 owned ports by port|port" "guard, address-specific table|addr"
	expect_line "bind: 1 rounds of 50 binds per variant"
	local launch=("daemon binds a free port itself|base" "one extra exec: env (the floor)|exec"
		"portbind, non-root owner (setuid)|portbind" "portbind, root naming the user|root"
		"authbind, non-root owner|authbind" "setpriv, root, ambient capability|setpriv")
	# s6 is measured where Debian installs it, and the row says so where not
	if grep -q "^s6-applyuidgid, root, grants no port *not installed  *- " <<<"$output"; then
		echo "# s6 is not installed: its row says so" >&3
	else
		launch+=("s6-applyuidgid, root, grants no port|s6")
	fi
	expect_rows launch us "${launch[@]}"
	expect_rows table ms "launch, 10 sections|10" "launch, 1,000 sections|1000" \
		"launch, 10,000 sections|10000" "launch, 30,000 sections|30000"
	expect_rows check ms "portbind --check, 10 sections|10" "portbind --check, 1,000 sections|1000" \
		"portbind --check, 10,000 sections|10000" "portbind --check, 30,000 sections|30000"
	grep -Eq "^portbind syscalls, table in prefix +[1-9][0-9]* calls +- +- +<= 120 (ok|OVER) +make bench BENCH=launch:syscalls " <<<"$output" ||
		fail "no syscalls row 'portbind syscalls, table in prefix N calls - - <= 120'"
	# as installed, where an overlay can be mounted on /etc (the row says
	# why not where it cannot)
	if grep -q "^portbind syscalls, table in /etc *not measured: " <<<"$output"; then
		echo "# $(grep "^portbind syscalls, table in /etc" <<<"$output")" >&3
	else
		grep -Eq "^portbind syscalls, table in /etc +[1-9][0-9]* calls +- +- +<= 120 (ok|OVER) +make bench BENCH=launch:syscalls " <<<"$output" ||
			fail "no syscalls row 'portbind syscalls, table in /etc N calls - - <= 120'"
	fi
	expect_line "launch: 1 rounds, interleaved; each start from fork() to wait(); user nobody (uid 65534)"
	grep -Eq "^launch: overhead over the baseline in extra execs, .*: portbind [0-9.-]+, root [0-9.-]+, authbind" <<<"$output" ||
		fail "no line of overheads in extra execs"
	# the plot holds a bar for each launch row, labelled with its ratio,
	# and both lines
	expect_line "plot: $plot"
	grep -q '<svg' "$plot" || fail "$plot is not an SVG"
	local t texts=("launch, non-root owner" "portbind --check (root)" "authbind" "setpriv,")
	for t in "${launch[@]}"; do
		texts+=("$(grep -F -- "${t%|*} " <<<"$output" | awk '{ for (i = 1; i < NF; i++) if ($i == "us") print $(i + 1) }')")
	done
	for t in "${texts[@]}"; do
		grep -qF -- ">$t</tspan>" "$plot" || fail "the plot lacks '$t'"
	done
	# only what this run added counts (another run's may come and go)
	local left
	left=$(comm -13 <(printf '%s\n' "$before" | sort) <(leftovers | sort) | grep . || true)
	[ -z "$left" ] || fail "left behind: $left"
}

# The system calls of a launch, counted the way make bench counts them:
# strace -f -u on the setuid binary, the lines between portbind's execve
# and the command's. The issue's target is 120; it is not met: about 195
# are made in this layout (the table five directories from /; about 185
# as installed in /etc). Where they go: the dynamic loader and libc
# start-up (~33: libc opened and mapped; libseccomp is loaded only for
# --restrict-net=handed, after the drop), the name service
# (~25: nscd probed, then nsswitch.conf and the passwd file, for the
# caller and again for the table's names), the entry checks and the
# program's check as the caller (~20: each identity switch verified with
# capget), the table walk (~25: an openat and a fstat for every directory
# from / down, once for portbind.conf and portbind.d together, the file
# mapped, the directory read with getdents64), the socket (~10), the 41
# prctl(PR_CAPBSET_DROP) that empty the bounding set one capability at a
# time (and one more that finds the end), the drop and its verification
# (~15: setgroups, setres*id, capset, no_new_privs, then the attempts to
# get root back and one read of /proc/self/status), the fds (~5) and
# syslog (~12: /etc/localtime, socket, connect, send). The bound is a
# little above what is measured, so that a change that adds calls shows
# here.
@test "portbind makes at most 200 system calls from its execve to the command's (the target is 120)" {
	command -v strace >/dev/null || skip "strace is not installed (tests/deps installs it)"
	table <<-EOF
	[web]
	port = 80
	protocol = tcp
	user = pbt_alice
	EOF
	env -i PATH=/usr/bin:/bin strace -f -u pbt_alice -o "$BATS_TEST_TMPDIR/strace" \
		"$PB" 127.0.0.1:80 -- /bin/true || fail "portbind under strace failed"
	run "$TREE/tests/bench/syscalls" "$BATS_TEST_TMPDIR/strace"
	expect_status 0
	echo "# $output system calls from portbind's execve to the command's" >&3
	[ "$output" -le 200 ] || fail "$output system calls, more than 200:" \
		"$(awk '/ execve\(/ { n++; next } n == 1' "$BATS_TEST_TMPDIR/strace" | sed 's/^[0-9]* *//; s/(.*//' | sort | uniq -c | sort -rn)"
}
