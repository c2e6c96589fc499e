#!/usr/bin/env bats
# The program: with `program =` a section grants its ports only to that
# very file. The caller names the command by a path it controls and can
# swap what the path leads to while portbind runs: the file portbind
# checked must be the file it executes. A symbolic link (or a directory on
# PATH) of pbt_alice's own is flipped, as fast as the kernel allows,
# between the pinned probe and an impostor of hers, while she runs portbind
# through it again and again. Every run must either be the pinned probe
# with the socket, or a refusal; the impostor never runs at all.
load lib

setup_file() {
	make_traversable "$BATS_FILE_TMPDIR"
	# flipper LINK TARGET1 TARGET2 SECONDS: points LINK at TARGET1, then at
	# TARGET2, and so on, each time atomically (a new link renamed over
	# LINK), about every 20-70 us, until SECONDS have passed; prints the
	# number of flips when it ends (also on SIGTERM).
	cat >"$BATS_FILE_TMPDIR/flipper.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	char tmp[4096];
	long flips = 0;
	struct timespec pause = { 0, 20000 };
	time_t end;

	if (argc != 5)
		return 2;
	snprintf(tmp, sizeof(tmp), "%s.new", argv[1]);
	end = time(NULL) + atoi(argv[4]);
	signal(SIGTERM, on_term);
	while (!stop && time(NULL) < end) {
		for (int i = 0; i < 100 && !stop; i++) {
			unlink(tmp);
			if (symlink(argv[2 + (flips & 1)], tmp) != 0 || rename(tmp, argv[1]) != 0) {
				perror("flipper");
				return 1;
			}
			flips++;
			nanosleep(&pause, NULL);
		}
	}
	printf("flips=%ld\n", flips);
	return 0;
}
C
	# impostor: a program of pbt_alice's that says so, and what it got.
	cat >"$BATS_FILE_TMPDIR/impostor.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	const char *n = getenv("LISTEN_FDS");

	printf("IMPOSTOR RAN LISTEN_FDS=%s fd3=%s\n", n ? n : "-",
	       fstat(3, &st) == 0 && S_ISSOCK(st.st_mode) ? "socket" : "none");
	return 0;
}
C
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/flipper" "$BATS_FILE_TMPDIR/flipper.c"
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/impostor" "$BATS_FILE_TMPDIR/impostor.c"
	chmod 0755 "$BATS_FILE_TMPDIR/flipper" "$BATS_FILE_TMPDIR/impostor"
}

setup() {
	table <<T
[pinned]
port = 87
program = $PROBE
user = pbt_alice
T
	# pbt_alice's own directory, reachable by her, with her impostor
	make_traversable "$BATS_TEST_TMPDIR"
	UDIR=$BATS_TEST_TMPDIR/alice
	install -d -m 0755 -o pbt_alice -g pbt_alice "$UDIR" "$UDIR/imp" "$UDIR/runs"
	install -m 0755 -o pbt_alice -g pbt_alice "$BATS_FILE_TMPDIR/impostor" "$UDIR/imp/probe"
	flip=
}

teardown() {
	[ -z "$flip" ] || stop "$flip"
}

# Start the flipper as pbt_alice: LINK between TARGET1 and TARGET2.
start_flipper() {
	setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$BATS_FILE_TMPDIR/flipper" "$1" "$2" "$3" 30 >"$BATS_TEST_TMPDIR/flips" 2>&1 3>&- &
	flip=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[ -L "$1" ] && break
		sleep 0.01
	done
	[ -L "$1" ] || fail "the flipper did not start: $(cat "$BATS_TEST_TMPDIR/flips")"
}

# pbt_alice runs `env "$@"` ($1 runs) as fast as she can, each run's output
# and status kept in $UDIR/runs.
race() {
	local n=$1
	shift
	run setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- bash -c '
		n=$1 dir=$2
		shift 2
		for ((i = 0; i < n; i++)); do
			env "$@" >"$dir/out.$i" 2>&1 </dev/null
			echo $? >"$dir/st.$i"
		done' _ "$n" "$UDIR/runs" "$@"
	expect_status 0
}

# Judge every run: the pinned probe with the socket (0), or one line of
# refusal (77, or 127/126 from a lookup that met the link mid-flip); never
# the impostor. Both outcomes must have happened, or nothing raced.
judge() {
	local n=$1 i st out granted=0 refused=0 bad=0 other=()
	stop "$flip"
	flip=
	for ((i = 0; i < n; i++)); do
		st=$(cat "$UDIR/runs/st.$i")
		out=$(cat "$UDIR/runs/out.$i")
		if grep -q IMPOSTOR <<<"$out"; then
			bad=$((bad + 1))
			other+=("run $i: THE IMPOSTOR RAN (status $st): $out")
		elif [ "$st" = 0 ] && grep -q '^uid=59001,59001,59001$' <<<"$out" &&
			grep -q '^fd\.3=socket cloexec=0 type=stream .* port=87 listening=1 .*owner=59001$' <<<"$out" &&
			grep -q '^env\.LISTEN_FDNAMES=pinned$' <<<"$out" && grep -q '^fds=0,1,2,3$' <<<"$out"; then
			granted=$((granted + 1))
		elif [ "$st" = 77 ] && [ "$(grep -c . <<<"$out")" = 1 ] && [[ $out == "portbind: "* ]]; then
			refused=$((refused + 1))
		else
			bad=$((bad + 1))
			other+=("run $i: status $st: $out")
		fi
	done
	echo "# $n runs: $granted granted to the pinned probe, $refused refused; $(cat "$BATS_TEST_TMPDIR/flips" 2>/dev/null)" >&3
	[ "$bad" -eq 0 ] || fail "${other[@]}"
	[ "$granted" -gt 0 ] || fail "no run was granted: the race never saw the pinned program"
	[ "$refused" -gt 0 ] || fail "no run was refused: the race never saw the impostor"
	expect_unbound 87
}

@test "control: through a link of pbt_alice's, the pinned probe gets the socket and her impostor is refused" {
	ln -s "$PROBE" "$UDIR/cmd"
	run as pbt_alice "$PB" 87 -- "$UDIR/cmd"
	expect_status 0
	[ "$(field env.LISTEN_FDNAMES)" = pinned ] || fail "LISTEN_FDNAMES"
	ln -sfn "$UDIR/imp/probe" "$UDIR/cmd"
	run as pbt_alice "$PB" 87 -- "$UDIR/cmd"
	expect_refused 77
	expect_no_line IMPOSTOR
	run as pbt_alice env PATH="$UDIR/imp" "$PB" 87 -- probe
	expect_refused 77
	expect_no_line IMPOSTOR
	expect_unbound 87
}

@test "a command link flipped between the pinned program and an impostor: the checked file is the executed file" {
	start_flipper "$UDIR/cmd" "$PROBE" "$UDIR/imp/probe"
	race 200 "$PB" 87 -- "$UDIR/cmd"
	judge 200
}

@test "a PATH directory flipped between the pinned program's and an impostor's: the checked file is the executed file" {
	# "probe" is looked up in $UDIR/bin, a link to the probe's directory
	# or to the impostor's
	start_flipper "$UDIR/bin" "${PROBE%/*}" "$UDIR/imp"
	race 200 PATH="$UDIR/bin" "$PB" 87 -- probe
	judge 200
}

@test "root running a flipped command as pbt_alice: the checked file is the executed file" {
	start_flipper "$UDIR/cmd" "$PROBE" "$UDIR/imp/probe"
	local i st out granted=0 refused=0 bad=()
	for ((i = 0; i < 60; i++)); do
		st=0
		out=$("$PB" 87 pbt_alice -- "$UDIR/cmd" 2>&1 </dev/null) || st=$?
		if grep -q IMPOSTOR <<<"$out"; then
			bad+=("run $i: THE IMPOSTOR RAN (status $st): $out")
		elif [ "$st" = 0 ] && grep -q '^env\.LISTEN_FDNAMES=pinned$' <<<"$out" &&
			grep -q '^uid=59001,59001,59001$' <<<"$out"; then
			granted=$((granted + 1))
		elif [ "$st" = 77 ] && [ "$(grep -c . <<<"$out")" = 1 ]; then
			refused=$((refused + 1))
		else
			bad+=("run $i: status $st: $out")
		fi
	done
	stop "$flip"
	flip=
	echo "# 60 runs: $granted granted, $refused refused; $(cat "$BATS_TEST_TMPDIR/flips")" >&3
	[ ${#bad[@]} -eq 0 ] || fail "${bad[@]}"
	[ "$granted" -gt 0 ] && [ "$refused" -gt 0 ] || fail "the race never saw both programs"
	expect_unbound 87
}
