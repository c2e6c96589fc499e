#!/usr/bin/env bats
# The command's environment: the caller's, minus every LISTEN_* variable of
# the socket-activation protocol (replaced by portbind's own, or none in
# --inetd mode), minus the loader's variables for a caller other than root;
# everything else unchanged. An environment too large to execute the
# command with portbind's additions is exit 126 with nothing left bound.
# portbind never sets a locale.
load lib
bats_require_minimum_version 1.5.0

setup_file() {
	make_traversable "$BATS_FILE_TMPDIR"
	# envexec [-f MARGIN] [NAME=VALUE|ANYTHING ...] -- PROGRAM [ARG...]
	# executes PROGRAM with exactly the given environment entries (in order,
	# duplicates and entries without '=' included). With -f, PAD<n>=xxx...
	# entries are added so that this very execve() uses all but MARGIN bytes
	# of the kernel's argument space (strings incl. the file name and their
	# NULs, plus a pointer per argv/envp entry; 1/4 of RLIMIT_STACK, at most
	# 3/4 of 8 MiB, at least 128 KiB).
	cat >"$BATS_FILE_TMPDIR/envexec.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long margin = -1, need;
	int i = 1, e0, ne, nc, n;
	char **env, **cmd;

	if (argc > 2 && strcmp(argv[1], "-f") == 0) {
		margin = atol(argv[2]);
		i = 3;
	}
	for (e0 = i; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: envexec [-f MARGIN] [ENTRY...] -- PROGRAM [ARG...]\n");
		return 2;
	}
	ne = i - e0;
	cmd = argv + i + 1;
	nc = argc - i - 1;
	env = calloc((size_t)ne + 1000, sizeof(*env));
	if (!env)
		return 2;
	for (n = 0; n < ne; n++)
		env[n] = argv[e0 + n];
	if (margin != -1) {
		struct rlimit rl;
		unsigned long lim = 6UL << 20, used;

		if (getrlimit(RLIMIT_STACK, &rl) != 0)
			return 2;
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < lim)
			lim = rl.rlim_cur / 4;
		if (lim < 131072)
			lim = 131072;
		used = strlen(cmd[0]) + 1 + sizeof(char *) * (unsigned long)(nc + ne);
		for (int k = 0; k < nc; k++)
			used += strlen(cmd[k]) + 1;
		for (int k = 0; k < ne; k++)
			used += strlen(env[k]) + 1;
		need = (long)lim - margin - (long)used;
		while (need > 0 && n < ne + 999) {
			/* an entry of len bytes costs len + 1 + a pointer */
			long cost = need > 100000 ? 100000 : need;
			long len;
			char *s;
			int h;

			if (need - cost > 0 && need - cost < 64)
				cost -= 64;
			len = cost - 1 - (long)sizeof(char *);
			if (len < 16)
				break;
			s = malloc((size_t)len + 1);
			if (!s)
				return 2;
			h = snprintf(s, (size_t)len + 1, "PAD%d=", n);
			memset(s + h, 'x', (size_t)(len - h));
			s[len] = '\0';
			env[n++] = s;
			need -= cost;
		}
	}
	env[n] = NULL;
	execve(cmd[0], cmd, env);
	perror("envexec: execve");
	return 127;
}
C
	# envdump: its pid, then every environment entry, one per line.
	cat >"$BATS_FILE_TMPDIR/envdump.c" <<'C'
#include <stdio.h>
#include <unistd.h>
extern char **environ;
int main(void)
{
	printf("pid=%ld\n", (long)getpid());
	for (char **e = environ; *e; e++)
		printf("E=%s\n", *e);
	return 0;
}
C
	cc -O2 -o "$BATS_FILE_TMPDIR/envexec" "$BATS_FILE_TMPDIR/envexec.c"
	cc -O2 -o "$BATS_FILE_TMPDIR/envdump" "$BATS_FILE_TMPDIR/envdump.c"
	chmod 0755 "$BATS_FILE_TMPDIR/envexec" "$BATS_FILE_TMPDIR/envdump"
}

setup() {
	ENVEXEC=$BATS_FILE_TMPDIR/envexec
	ENVDUMP=$BATS_FILE_TMPDIR/envdump
	table <<'T'
[web]
port = 80
user = pbt_alice pbt_bob
T
}

# The environment envdump printed, one entry a line, sorted.
dumped_env() {
	sed -n 's/^E=//p' <<<"$output" | LC_ALL=C sort
}

# The environment envdump printed is exactly the lines of $1 (any order).
expect_env() {
	local want got
	want=$(LC_ALL=C sort <<<"$1")
	got=$(dumped_env)
	[ "$got" = "$want" ] || fail "expected exactly this environment:" "$want" "--- got:" "$got"
}

# Every caller-supplied LISTEN_* form: duplicates, and entries without '='.
CALLER_LISTEN=(LISTEN_FDS=5 LISTEN_PID=1 LISTEN_FDNAMES=evil:more LISTEN_PIDFDID=4242
	LISTEN_FDS=7 LISTEN_PID=99999 LISTEN_FDNAMES=again LISTEN_PIDFDID=1
	LISTEN_FDS LISTEN_PID LISTEN_FDNAMES LISTEN_PIDFDID)

@test "a caller's LISTEN_* variables, duplicated or without '=', are replaced by portbind's" {
	run as pbt_alice "$ENVEXEC" "${CALLER_LISTEN[@]}" FOO=bar -- "$PB" 80,8080/udp -- "$ENVDUMP"
	expect_status 0
	local pid
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	expect_env "FOO=bar
LISTEN_FDS=2
LISTEN_PID=$pid
LISTEN_FDNAMES=web:unknown"
	expect_port_free 80
}

@test "the probe sees portbind's LISTEN_FDS, LISTEN_PID (its own pid), LISTEN_FDNAMES, no LISTEN_PIDFDID" {
	run as pbt_alice "$ENVEXEC" "${CALLER_LISTEN[@]}" FOO=bar -- "$PB" 80 -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDS)" = 1 ] || fail "LISTEN_FDS"
	[ "$(field env.LISTEN_PID)" = "$(field pid)" ] || fail "LISTEN_PID is not the probe's pid"
	[ "$(field env.LISTEN_FDNAMES)" = web ] || fail "LISTEN_FDNAMES"
	[ "$(field env.LISTEN_PIDFDID)" = "<unset>" ] || fail "LISTEN_PIDFDID reached the command"
	[ "$(field env.count)" = 4 ] || fail "expected 4 variables: FOO and portbind's three"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
}

@test "a root caller's LISTEN_* variables are replaced too" {
	run "$ENVEXEC" "${CALLER_LISTEN[@]}" FOO=bar -- "$PB" 80 pbt_bob -- "$ENVDUMP"
	expect_status 0
	local pid
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	expect_env "FOO=bar
LISTEN_FDS=1
LISTEN_PID=$pid
LISTEN_FDNAMES=web"
}

@test "--inetd: no LISTEN_* variable at all, the caller's removed" {
	run as pbt_alice "$ENVEXEC" "${CALLER_LISTEN[@]}" FOO=bar -- "$PB" --inetd 80 -- "$ENVDUMP"
	expect_status 0
	expect_env "FOO=bar"
	run as pbt_alice "$ENVEXEC" "${CALLER_LISTEN[@]}" FOO=bar -- "$PB" --inetd 80 -- "$PROBE"
	expect_status 0
	local v
	for v in LISTEN_FDS LISTEN_PID LISTEN_FDNAMES LISTEN_PIDFDID; do
		[ "$(field "env.$v")" = "<unset>" ] || fail "$v reached the command"
	done
	[ "$(field env.count)" = 1 ] || fail "expected only FOO"
	expect_line "fd.0=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	expect_port_free 80
}

@test "variables that only start like LISTEN_* pass through" {
	run as pbt_alice "$ENVEXEC" LISTEN_FDSX=1 LISTEN_PID_FILE=/x XLISTEN_FDS=2 LISTEN_=3 \
		listen_fds=4 -- "$PB" 8080 -- "$ENVDUMP"
	expect_status 0
	local pid
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	expect_env "LISTEN_FDSX=1
LISTEN_PID_FILE=/x
XLISTEN_FDS=2
LISTEN_=3
listen_fds=4
LISTEN_FDS=1
LISTEN_PID=$pid
LISTEN_FDNAMES=unknown"
}

@test "other variables pass through unchanged" {
	local -a vars=(FOO=bar "SPACES=a  b	c" "EQ=x=y=z" EMPTY= "PATH=/nonexistent/bin:/usr/bin:/bin"
		HOME=/nonexistent "UTF8=$(printf 'gr\303\274n')" "LONG=$(printf 'v%.0s' {1..5000})"
		USER=pbt_bob)
	run as pbt_alice "$ENVEXEC" "${vars[@]}" -- "$PB" --inetd 8080 -- "$ENVDUMP"
	expect_status 0
	expect_env "$(printf '%s\n' "${vars[@]}")"
	run "$ENVEXEC" "${vars[@]}" -- "$PB" --inetd 8080 pbt_alice -- "$ENVDUMP"
	expect_status 0
	expect_env "$(printf '%s\n' "${vars[@]}")"
}

@test "a caller other than root: LD_PRELOAD and LD_LIBRARY_PATH do not reach the command" {
	run as pbt_alice env LD_PRELOAD=/nonexistent/pbt-preload.so \
		LD_LIBRARY_PATH=/nonexistent/lib FOO=bar "$PB" 8080 -- "$PROBE"
	expect_status 0
	[ "$(field env.LD_PRELOAD)" = "<unset>" ] || fail "LD_PRELOAD reached the command"
	[ "$(field env.LD_LIBRARY_PATH)" = "<unset>" ] || fail "LD_LIBRARY_PATH reached the command"
}

@test "a caller other than root: GLIBC_TUNABLES does not reach the command" {
	# a tunable the C library keeps for the children of a setuid program
	run as pbt_alice env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
		"$PB" 8080 -- "$PROBE"
	expect_status 0
	[ "$(field env.GLIBC_TUNABLES)" = "<unset>" ] || fail "GLIBC_TUNABLES reached the command"
}

@test "a caller other than root: GLIBC_TUNABLES with only erased tunables does not reach the command either" {
	run as pbt_alice env GLIBC_TUNABLES=glibc.malloc.check=0 "$PB" 8080 -- "$PROBE"
	expect_status 0
	[ "$(field env.GLIBC_TUNABLES)" = "<unset>" ] || fail "GLIBC_TUNABLES reached the command"
}

@test "a root caller's loader variables pass through (root chose them)" {
	run env LD_LIBRARY_PATH=/nonexistent/lib GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
		"$PB" 8080 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field env.LD_LIBRARY_PATH)" = /nonexistent/lib ] || fail "LD_LIBRARY_PATH"
	[ "$(field env.GLIBC_TUNABLES)" = glibc.malloc.mmap_threshold=131072 ] || fail "GLIBC_TUNABLES"
	[ "$(field uid)" = 59001,59001,59001 ] || fail "uid"
}

# A table section whose 48-character label names 64 ports, so that the
# LISTEN_FDNAMES portbind adds is much longer than the arguments it drops.
big_names_table() {
	LABEL=$(printf 'n%.0s' {1..48})
	table <<T
[$LABEL]
port = 10000-10063
user = *
T
	SPECS=$(seq -s, 10000 10063)
}

@test "the helper's argument accounting is exact (guards the E2BIG test)" {
	big_names_table
	ulimit -s 8192
	# 200 bytes short of the limit: portbind starts (and fails later).
	run as pbt_alice "$ENVEXEC" -f 200 FOO=bar -- "$PB" "$SPECS" -- "$PROBE"
	expect_line "portbind: "
	expect_no_line "envexec"
	# 200 bytes over: the kernel refuses to start portbind itself.
	run -127 as pbt_alice "$ENVEXEC" -f -200 FOO=bar -- "$PB" "$SPECS" -- "$PROBE"
	expect_status 127
	expect_line "envexec: execve: Argument list too long"
	# Far from the limit: everything runs.
	run as pbt_alice "$ENVEXEC" -f 8000 FOO=bar -- "$PB" "$SPECS" -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDS)" = 64 ] || fail "LISTEN_FDS"
}

@test "an environment that leaves no room for portbind's additions: 126, one line, nothing bound" {
	big_names_table
	ulimit -s 8192
	# portbind starts with 1000 bytes to spare; LISTEN_FDNAMES alone is
	# over 3000 bytes, the arguments it drops (its own path, SPECs, --)
	# under 500.
	run as pbt_alice "$ENVEXEC" -f 1000 FOO=bar -- "$PB" "$SPECS" -- "$PROBE"
	expect_refused 126 "Argument list too long"
	local p
	for p in $(seq 10000 10063); do
		expect_port_free "$p"
	done
	# The same for a root caller.
	run "$ENVEXEC" -f 1000 FOO=bar -- "$PB" "$SPECS" pbt_alice -- "$PROBE"
	expect_refused 126 "Argument list too long"
	for p in $(seq 10000 10063); do
		expect_port_free "$p"
	done
	# With room for the additions, the same request runs.
	run as pbt_alice "$ENVEXEC" -f 4000 FOO=bar -- "$PB" "$SPECS" -- "$PROBE"
	expect_status 0
	[ "$(field env.LISTEN_FDNAMES)" = "$(printf "$LABEL%.0s:" {1..64} | sed 's/:$//')" ] ||
		fail "LISTEN_FDNAMES"
}

@test "a caller's LANG and LC_* do not change portbind's messages" {
	local -a de=(LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8 LC_MESSAGES=de_DE.UTF-8 LANGUAGE=de)
	run as pbt_alice env "${de[@]}" "$PB" 81 -- "$PROBE"
	[ "$output" = "portbind: permission denied: run with --dry-run to see why" ] ||
		fail "expected the English refusal"
	expect_status 77
	run -127 as pbt_alice env "${de[@]}" "$PB" 8080 -- /nonexistent/pbt-command
	expect_status 127
	[ "$output" = "portbind: /nonexistent/pbt-command: No such file or directory" ] ||
		fail "expected the English message"
}

@test "a German locale that works for other programs does not change portbind's messages" {
	# root may point the C library at a locale of its own (LOCPATH is
	# ignored only for a caller other than root).
	local loc=$BATS_TEST_TMPDIR/locale
	mkdir -p "$loc"
	localedef -i de_DE -f UTF-8 "$loc/de_DE.UTF-8" >/dev/null 2>&1 || true
	local -a de=(LOCPATH="$loc" LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8 LANGUAGE=de)
	run env "${de[@]}" cat /nonexistent/pbt-command
	expect_line "Datei oder Verzeichnis nicht gefunden"
	run -127 env "${de[@]}" "$PB" 8080 pbt_alice -- /nonexistent/pbt-command
	expect_status 127
	[ "$output" = "portbind: /nonexistent/pbt-command: No such file or directory" ] ||
		fail "expected the English message"
	run env "${de[@]}" "$PB" 81 pbt_alice -- "$PROBE"
	expect_status 77
	[ "$output" = "portbind: permission denied: run with --dry-run to see why" ] ||
		fail "expected the English refusal"
	run env "${de[@]}" "$PB" 80 '#59999' -- "$PROBE"
	expect_status 67
	[ "$output" = "portbind: user id #59999 has no passwd entry: name a GROUP too" ] ||
		fail "expected the English message"
}

# Every loader variable of the C library's list for set-user-ID programs,
# and the other variables that list holds, as a caller would set them.
LOADER_VARS=(LD_PRELOAD=/nonexistent/pbt.so LD_LIBRARY_PATH=/nonexistent/lib
	LD_AUDIT=/nonexistent/pbt-audit.so LD_BIND_NOW=1 LD_BIND_NOT=1
	LD_DEBUG_OUTPUT=/nonexistent/pbt-debug LD_DYNAMIC_WEAK=1 LD_HWCAP_MASK=0
	LD_ORIGIN_PATH=/nonexistent LD_PROFILE=pbt.so LD_PROFILE_OUTPUT=/nonexistent
	LD_SHOW_AUXV=1 LD_USE_LOAD_BIAS=0 LD_ASSUME_KERNEL=9.9.9 LD_PBT_ANYTHING=1 LD_=1
	GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072)
UNSAFE_VARS=(TMPDIR=/nonexistent/tmp TZDIR=/nonexistent/zoneinfo LOCPATH=/nonexistent/locale
	NLSPATH=/nonexistent/%N HOSTALIASES=/nonexistent/hosts RES_OPTIONS=debug)
HARMLESS_VARS=(FOO=bar ld_preload=/lower/case XLD_PRELOAD=/not/a/loader/var LDX=1 GLIBC_OTHER=1)

@test "a caller other than root: every LD_* variable, GLIBC_TUNABLES and the C library's unsafe ones are removed" {
	run as pbt_alice "$ENVEXEC" "${LOADER_VARS[@]}" "${UNSAFE_VARS[@]}" "${HARMLESS_VARS[@]}" -- \
		"$PB" 8080 -- "$ENVDUMP"
	expect_status 0
	local env v
	env=$(dumped_env)
	! grep -q '^LD_' <<<"$env" || fail "LD_* reached the command:" "$(grep '^LD_' <<<"$env")"
	! grep -q '^GLIBC_TUNABLES=' <<<"$env" || fail "GLIBC_TUNABLES reached the command"
	for v in "${UNSAFE_VARS[@]}"; do
		! grep -q "^${v%%=*}=" <<<"$env" || fail "${v%%=*} reached the command"
	done
	for v in "${HARMLESS_VARS[@]}"; do
		grep -qxF "$v" <<<"$env" || fail "$v should pass through"
	done
	grep -q '^LISTEN_FDS=1$' <<<"$env" || fail "LISTEN_FDS"
	# the same for a user's grant of a listed port, and in --inetd mode
	run as pbt_alice "$ENVEXEC" "${LOADER_VARS[@]}" "${UNSAFE_VARS[@]}" FOO=bar -- \
		"$PB" --inetd 80 -- "$ENVDUMP"
	expect_status 0
	expect_env "FOO=bar"
	expect_unbound 8080
	expect_unbound 80
}

@test "a root caller's loader and unsafe variables pass through unchanged (root chose them)" {
	# (LD_PRELOAD, LD_AUDIT, LD_PROFILE and LD_SHOW_AUXV would act on
	# portbind and the command themselves; the others only name things)
	local -a vars=(LD_LIBRARY_PATH=/nonexistent/lib LD_BIND_NOW=1 LD_DYNAMIC_WEAK=1
		LD_PBT_ANYTHING=1 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 "${UNSAFE_VARS[@]}"
		"${HARMLESS_VARS[@]}")
	run "$ENVEXEC" "${vars[@]}" -- "$PB" --inetd 8080 pbt_alice -- "$ENVDUMP"
	expect_status 0
	expect_env "$(printf '%s\n' "${vars[@]}")"
}

@test "portbind never runs a shell: no /bin/sh for a file without #!, no shell syntax, no fork" {
	local d=$BATS_FILE_TMPDIR/alice
	install -d -m 0755 -o pbt_alice -g pbt_alice "$d"
	# executable, but no #! line: execvp(3) would hand it to /bin/sh
	printf 'touch %s/ran-by-sh\necho RAN-BY-SH\n' "$d" >"$d/noshebang"
	chown pbt_alice "$d/noshebang"
	chmod 0755 "$d/noshebang"
	run as pbt_alice "$PB" 8080 -- "$d/noshebang"
	expect_refused 126 "Exec format error"
	[ ! -e "$d/ran-by-sh" ] || fail "a shell ran the file"
	run "$PB" 8080 pbt_alice -- "$d/noshebang"
	expect_refused 126 "Exec format error"
	[ ! -e "$d/ran-by-sh" ] || fail "a shell ran the file"
	# shell syntax in COMMAND is a file name, in the arguments just bytes
	run -127 as pbt_alice "$PB" 8080 -- "touch $d/ran-by-sh; echo RAN-BY-SH"
	expect_refused 127
	run as pbt_alice "$PB" 8080 -- printf '%s\n' "\$(touch $d/ran-by-sh)" "\`touch $d/ran-by-sh\`" \
		"; touch $d/ran-by-sh" '*' '$HOME'
	expect_status 0
	[ "$output" = "\$(touch $d/ran-by-sh)
\`touch $d/ran-by-sh\`
; touch $d/ran-by-sh
*
\$HOME" ] || fail "the arguments should arrive as given"
	[ ! -e "$d/ran-by-sh" ] || fail "a shell ran the arguments"
	# traced (root, so the setuid exec stays): after its own exec, the
	# only exec is the command's, and portbind never forks
	if command -v strace >/dev/null; then
		local t=$BATS_TEST_TMPDIR/trace
		strace -f -qq -o "$t" -e trace=execve,execveat,fork,vfork,clone,clone3 \
			"$PB" 8080 pbt_alice -- "$PROBE" >/dev/null
		grep -q "execve(\"$PB\"" "$t" || fail "no exec of portbind traced: $(cat "$t")"
		local calls
		calls=$(grep -v "execve(\"$PB\"" "$t" | grep -E 'exec|fork|clone' | grep -v ' = -1 ')
		[ "$(grep -c . <<<"$calls")" = 1 ] && grep -qE "^[0-9]+ +execve(at)?\(" <<<"$calls" ||
			fail "expected one exec, of the command, and nothing else:" "$calls"
		! grep -q '/sh"' "$t" || fail "a shell was executed: $(cat "$t")"
	fi
	expect_unbound 8080
}
