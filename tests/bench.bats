#!/usr/bin/env bats
# make bench runs and prints every row of its table, each with a ratio it
# measured and the command that reruns it. With one round, a ratio is that
# round's time over the baseline's, so it must agree with the two medians
# printed beside it: a ratio that was not computed from the measurement
# fails. The figures themselves are not judged here (make check does not
# run the benchmark; the README gives them).
load lib

TREE=$BATS_TEST_DIRNAME/..

# Our own cgroups and prefixes: none may be left after a run.
leftovers() {
	local cg2
	cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	ls -d "$cg2"/portbind-bench.* /var/lib/portbind-bench.* 2>/dev/null || true
}

@test "make bench prints every row with a measured ratio and the command that reruns it, and leaves nothing behind" {
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF"
	before=$(leftovers)
	run make -s -C "$TREE" bench BENCH_ROUNDS=1 BENCH_BINDS=50
	expect_status 0
	local label id base=
	for row in "no guard|none" "empty bind4 program (the floor)|empty" \
		"guard, 65,536 owned ports by port|port" "guard, address-specific table|addr"; do
		label=${row%|*} id=${row#*|}
		line=$(grep -F -- "$label " <<<"$output") || fail "no row '$label'"
		[[ "$line" =~ ^${label//[()]/.}\ +([0-9]+)\ ns/bind\ +([0-9]+\.[0-9]{2})\ .*\ make\ bench\ BENCH=bind:$id\ BENCH_BINDS=50\ BENCH_ROUNDS=1$ ]] ||
			fail "row '$label' is not 'LABEL N ns/bind RATIO ... make bench BENCH=bind:$id ...': $line"
		ns=${BASH_REMATCH[1]} ratio=${BASH_REMATCH[2]}
		[ "$ns" -gt 0 ] || fail "no time measured: $line"
		if [ -z "$base" ]; then
			base=$ns
			[ "$ratio" = 1.00 ] || fail "the baseline's ratio: $line"
		else
			awk -v n="$ns" -v b="$base" -v r="$ratio" \
				'BEGIN { d = n / b - r; exit !(d < 0.02 && d > -0.02) }' ||
				fail "ratio $ratio is not $ns / $base"
		fi
	done
	expect_line "bind: 1 rounds of 50 binds per variant"
	[ "$(leftovers)" = "$before" ] || fail "left behind: $(leftovers)"
}
