#!/usr/bin/env bats
# Privilege: what the command holds after a grant (ids, groups, every
# capability set, no_new_privs), and how portbind fails closed when it was
# started without the privilege it needs (reduced bounding set, securebits,
# no_new_privs, a tracer, no setuid bit, a nosuid mount). The controlling
# terminal of a root caller, and a missing syslog.
load lib

setup_file() {
	make_traversable "$BATS_FILE_TMPDIR"
	cat >"$BATS_FILE_TMPDIR/hold.c" <<'C'
/* hold FD SIG [TRACER ARG...] -- PROGRAM [ARG...]
 * Runs PROGRAM with fd FD on a full pipe that nobody reads, waits until it
 * sleeps there (blocked writing), then reports what its caller can do to
 * it: its ids in /proc/PID/status, ptrace attach and seize, reading
 * /proc/PID/{environ,mem,auxv,stack,syscall,fd,exe}, and TRACER (with
 * @PID@ replaced, e.g. strace -p @PID@) run to its end. Then sends SIG and
 * reports how PROGRAM ended: end=signal:N core=0|1 (the kernel's "core
 * dumped" bit), or end=exit:N. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(int ok) { return ok ? "ok" : strerrorname_np(errno); }

static char state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return '?';
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return '?';
	return p[2];
}

static void status_line(pid_t pid, const char *key)
{
	char path[64], buf[512];
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re"))) {
		printf("%s=%s\n", key, strerrorname_np(errno));
		return;
	}
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, key, strlen(key)) == 0 && buf[strlen(key)] == ':') {
			char *v = buf + strlen(key) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			for (char *c = v; *c; c++)
				if (*c == '\t')
					*c = ',';
			printf("%s=%s\n", key, v);
		}
	fclose(f);
}

int main(int argc, char **argv)
{
	int p[2], fd, sig, st, ok, k = 3;
	pid_t pid;
	char path[64], buf[64];

	while (k < argc && strcmp(argv[k], "--") != 0)
		k++;
	if (argc < 4 || k + 1 >= argc) {
		fprintf(stderr, "usage: hold FD SIG [TRACER...] -- PROGRAM [ARG...]\n");
		return 2;
	}
	fd = atoi(argv[1]);
	sig = atoi(argv[2]);
	if (pipe2(p, O_CLOEXEC) != 0)
		return 2;
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	memset(buf, 'x', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (dup2(p[1], fd) != fd)
			_exit(2);
		execv(argv[k + 1], argv + k + 1);
		_exit(127);
	}
	close(p[1]);
	/* Asleep in 20 looks in a row, 10 ms apart: blocked on the pipe. */
	for (int i = 0, n = 0; n < 20; i++) {
		struct timespec ts = { 0, 10000000 };
		if (i > 500) {
			printf("blocked=no state=%c\n", state(pid));
			kill(pid, SIGKILL);
			return 1;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			printf("blocked=no exited=%d\n", st);
			return 1;
		}
		n = state(pid) == 'S' ? n + 1 : 0;
		nanosleep(&ts, NULL);
	}
	printf("blocked=yes\npid=%d\n", (int)pid);
	status_line(pid, "Uid");
	status_line(pid, "Gid");
	status_line(pid, "CapEff");
	ok = ptrace(PTRACE_ATTACH, pid, 0, 0) == 0;
	printf("ptrace_attach=%s\n", err(ok));
	if (ok) {
		waitpid(pid, &st, __WALL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	ok = ptrace(PTRACE_SEIZE, pid, 0, 0) == 0;
	printf("ptrace_seize=%s\n", err(ok));
	if (ok) {
		ptrace(PTRACE_INTERRUPT, pid, 0, 0);
		waitpid(pid, &st, __WALL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	{
		static const char *const files[] = { "environ", "mem", "auxv", "stack", "syscall" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			ok = fd >= 0 && read(fd, buf, sizeof(buf)) >= 0;
			printf("read_%s=%s\n", files[i], err(ok));
			if (fd >= 0)
				close(fd);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	{
		DIR *d = opendir(path);
		printf("list_fd=%s\n", err(d != NULL));
		if (d)
			closedir(d);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	{
		char t[4096];
		printf("readlink_exe=%s\n", err(readlink(path, t, sizeof(t)) >= 0));
	}
	if (k > 3) {
		/* TRACER with @PID@ replaced: e.g. strace -p @PID@ */
		pid_t t;
		char num[16];
		snprintf(num, sizeof(num), "%d", (int)pid);
		for (int i = 3; i < k; i++)
			if (strcmp(argv[i], "@PID@") == 0)
				argv[i] = num;
		argv[k] = NULL;
		fflush(stdout);
		t = fork();
		if (t == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			execvp(argv[3], argv + 3);
			_exit(127);
		}
		waitpid(t, &st, 0);
		printf("tracer_exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		printf("tracer_state=%c\n", state(pid));
	}
	fflush(stdout);
	kill(pid, sig);
	/* 10 s at most: a PROGRAM that survives SIG is reported, not waited for. */
	for (int i = 0; (ok = waitpid(pid, &st, WNOHANG)) == 0; i++) {
		struct timespec ts = { 0, 10000000 };
		if (i == 1000) {
			printf("end=running 10 s after signal %d\n", sig);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
	if (ok != pid)
		return 2;
	if (WIFSIGNALED(st))
		printf("end=signal:%d core=%d\n", WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
	else
		printf("end=exit:%d core=0\n", WEXITSTATUS(st));
	return 0;
}
C
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/hold" "$BATS_FILE_TMPDIR/hold.c"
	chmod 0755 "$BATS_FILE_TMPDIR/hold"
}

setup() {
	HOLD=$BATS_FILE_TMPDIR/hold
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
T
}

ZERO=0000000000000000

# The command ran as uid $1, gid $2, groups $3 (sorted, comma separated)
# with every capability set empty, no_new_privs $4, and cannot get root back.
expect_dropped() {
	expect_status 0
	[ "$(field uid)" = "$1,$1,$1" ] || fail "uid should be $1 (real, effective, saved)"
	[ "$(field gid)" = "$2,$2,$2" ] || fail "gid should be $2 (real, effective, saved)"
	[ "$(field groups)" = "$3" ] || fail "groups should be $3"
	local s
	for s in inh prm eff amb bnd; do
		[ "$(field "cap_$s")" = "$ZERO" ] || fail "cap_$s should be $ZERO"
	done
	[ "$(field no_new_privs)" = "$4" ] || fail "no_new_privs should be $4"
	[ "$(field setuid0)" = fail ] || fail "the command could setuid(0)"
	echo "# dumpable=$(field dumpable) (uid $1; reported only)" >&3
}

expect_alice() {
	expect_dropped 59001 59001 59001,59050 "${1:-1}"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
}

# exit 71, one line, nothing run, nothing bound.
expect_71() {
	expect_refused 71 "${1:-}"
	expect_unbound 80
}

@test "a user's command runs with the user's ids, groups, no capabilities and no_new_privs" {
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_alice 1
	run as pbt_bob "$PB" 8080 -- "$PROBE"
	expect_dropped 59002 59051 59051 1
}

@test "--allow-new-privs: a user's command runs without no_new_privs, otherwise as dropped" {
	run as pbt_alice "$PB" --allow-new-privs 80 -- "$PROBE"
	expect_alice 0
}

@test "a command with file capabilities: 126 saying why, with or without --allow-new-privs; nothing runs" {
	local capped=$PB_PREFIX/libexec/probe-capped a
	cp "$PROBE" "$capped"
	setcap cap_net_raw+ep "$capped" || skip "setcap failed: no file capabilities on this filesystem"
	for a in "" --allow-new-privs; do
		run --separate-stderr as pbt_alice "$PB" $a 80 -- "$capped"
		expect_status 126
		[[ "$stderr" == *"cannot execute: the file has capabilities (security.capability)"*"setcap -r"* ]] ||
			fail "stderr ($a): $stderr"
		[ -z "$output" ] || fail "the command ran ($a): $output"
	done
	rm -f "$capped"
}

@test "root running a command as pbt_alice: the target's ids and groups only, no capabilities" {
	# root's own supplementary groups must not reach the command
	run setpriv --groups=0,4,27 -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run "$PB" 8080 pbt_bob -- "$PROBE"
	expect_dropped 59002 59051 59051 1
}

@test "root running a command as pbt_alice with --allow-new-privs: no_new_privs off, no capabilities" {
	run "$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 0
}

@test "root with inheritable and ambient capabilities (setpriv): the command has none" {
	run setpriv --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin -- \
		"$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run setpriv --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin -- \
		"$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 0
}

# The verification, on its own: each call of the drop made to report
# success while doing nothing (strace's retval=0, by a root tracer), at the
# occurrence a clean run shows after portbind's exec. Root starts it with
# groups of its own (as many as pbt_alice has, so that only their values
# differ) and an inheritable capability, so that every skipped call leaves
# something the verification must see in /proc/self/status or by getting
# root back.
@test "each drop call reporting success while doing nothing: 71 naming what stayed, never run" {
	command -v strace >/dev/null || skip "strace is not installed (tests/deps installs it)"
	local clean=$BATS_TEST_TMPDIR/clean.trace inj=$BATS_TEST_TMPDIR/inj.trace call pat want n
	local -a pb=(setpriv --groups=0,4 --inh-caps=+net_raw -- "$PB" 80 pbt_alice -- "$PROBE")
	run strace -qq -f -o "$clean" -- "${pb[@]}"
	expect_alice 1
	while IFS='|' read -r call pat want; do
		n=$(awk -v c="$call" -v p="$pat" -v pb="execve(\"$PB\"" '
			{ s = $0; sub(/^[0-9]+ +/, "", s) }
			index(s, pb) == 1 { started = 1 }
			index(s, c "(") == 1 { k++; if (started && index(s, p)) { print k; exit } }' "$clean")
		[ -n "$n" ] || fail "no $call ($pat) after portbind's exec in the clean trace"
		run strace -qq -f -o "$inj" -e inject="$call:retval=0:when=$n" -- "${pb[@]}"
		grep -F '(INJECTED)' "$inj" | grep -qF "$pat" || fail "$call #$n: the injection missed $pat"
		expect_71 "privilege drop failed: $want"
	done <<-'E'
	setgroups|setgroups(|supplementary groups not as set
	setresgid|setresgid(59001|gid 0 could be regained
	setresuid|setresuid(59001|uid 0 could be regained
	capset|capset(|CapInh not empty
	prctl|PR_CAPBSET_DROP|CapBnd not empty
	prctl|PR_SET_NO_NEW_PRIVS|no_new_privs not set
	E
}

@test "root with inheritable and ambient capabilities (capsh): the command has none" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	run capsh --caps='cap_net_raw,cap_net_admin+eip cap_setpcap,cap_setuid,cap_setgid+ep' \
		--addamb=cap_net_raw,cap_net_admin -- \
		-c 'grep -q "^CapAmb:.*3000$" /proc/self/status || { echo "ambient not set up"; exit 99; }
		    exec "$0" --allow-new-privs 80 pbt_alice -- "$1"' "$PB" "$PROBE"
	expect_alice 0
}

@test "a user with inheritable and ambient capabilities: the command has none" {
	# setpriv as root keeps net_raw inheritable and ambient across the
	# switch to pbt_alice; the setuid exec clears ambient, portbind must
	# clear the inheritable set, which survives exec and setresuid.
	run setpriv --inh-caps=+net_raw --ambient-caps=+net_raw --reuid=pbt_alice --regid=pbt_alice \
		--init-groups -- bash -c 'grep -q "^CapInh:.*2000$" /proc/self/status || exit 99
		exec "$@"' _ "$PB" 80 -- "$PROBE"
	expect_alice 1
}

# The name of each capability portbind needs, as setpriv spells it.
NEEDED=(setuid setgid net_bind_service setpcap chown)

expect_missing_cap() {
	expect_71
	[[ $output =~ capabilit.*(^|[^a-z_])(cap_)?$1([^a-z_]|$) ]] ||
		fail "the line should name the missing capability $1"
}

@test "a user started with a reduced bounding set: 71 naming the capability, nothing run or bound" {
	local c
	for c in "${NEEDED[@]}"; do
		run setpriv --bounding-set=-"$c" --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
			"$PB" 80 -- "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "root started with a reduced bounding set (setpriv): 71 naming the capability" {
	local c
	for c in "${NEEDED[@]}"; do
		run setpriv --bounding-set=-"$c" -- "$PB" 80 pbt_alice -- "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "root started with a reduced bounding set (capsh --drop): 71 naming the capability" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	local c
	for c in "${NEEDED[@]}"; do
		run capsh --drop="cap_$c" -- -c 'exec "$0" 80 pbt_alice -- "$1"' "$PB" "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "securebits noroot: the setuid exec gives no capabilities, 71" {
	run setpriv --securebits=+noroot -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_71 "capabilit"
	run setpriv --securebits=+noroot --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$PB" 80 -- "$PROBE"
	expect_71 "capabilit"
}

@test "securebits no_setuid_fixup (setresuid keeps capabilities): the command still has none" {
	run setpriv --securebits=+no_setuid_fixup -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run setpriv --securebits=+no_setuid_fixup --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$PB" 80 -- "$PROBE"
	expect_alice 1
}

@test "a user under no_new_privs: the setuid bit is not honoured, 71 'not running as root'" {
	run as pbt_alice setpriv --no-new-privs -- "$PB" 80 -- "$PROBE"
	expect_71 "not running as root"
}

@test "root under no_new_privs: the grant works and the command keeps no_new_privs" {
	run setpriv --no-new-privs -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
}

@test "root under no_new_privs with --allow-new-privs: it cannot be unset, the command runs with it" {
	# --allow-new-privs means "do not set it"; a caller's own no_new_privs
	# cannot be undone and takes nothing away from the drop.
	run setpriv --no-new-privs -- "$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 1
}

# A python3 that pbt_alice can run, for a tracer when strace is missing.
alice_python() {
	local p
	for p in /usr/bin/python3 /usr/local/bin/python3 /bin/python3; do
		as pbt_alice "$p" -c 'pass' 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

@test "a user tracing portbind: the setuid bit is ignored, 71, the command never runs" {
	if command -v strace >/dev/null; then
		run as pbt_alice strace -f -o /dev/null -- "$PB" 80 -- "$PROBE"
	else
		local py
		py=$(alice_python) || skip "neither strace nor python3 is installed: no tracer to test with"
		# PTRACE_TRACEME in the child, PTRACE_CONT from the parent
		run as pbt_alice "$py" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.ptrace(0, 0, None, None)
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    _, st = os.waitpid(pid, 0)
    if os.WIFEXITED(st): sys.exit(os.WEXITSTATUS(st))
    if os.WIFSIGNALED(st): sys.exit(128 + os.WTERMSIG(st))
    sig = os.WSTOPSIG(st)
    libc.ptrace(7, pid, None, ctypes.c_void_p(0 if sig == 5 else sig))
' "$PB" 80 -- "$PROBE"
	fi
	expect_71 "not running as root"
}

# A directory under $BATS_TEST_TMPDIR that the test users can reach (the
# run's temporary directory is root's alone; give others search access).
reachable_dir() {
	local d=$BATS_TEST_TMPDIR/$1 p
	mkdir -p "$d"
	chmod 0755 "$d"
	p=$d
	while [ "$p" != / ] && [ "$p" != "$(dirname "$BATS_RUN_TMPDIR")" ]; do
		chmod o+x "$p"
		p=$(dirname "$p")
	done
	as pbt_alice test -x "$d" || fail "cannot make $d reachable for pbt_alice"
	echo "$d"
}

@test "a copy of portbind without the setuid bit: 71 'not running as root'" {
	local d
	d=$(reachable_dir bin)
	install -m 0755 -o root -g root "$PB" "$d/portbind"
	run as pbt_alice "$d/portbind" 80 -- "$PROBE"
	expect_71 "not running as root"
}

@test "a setuid copy on a nosuid mount: 71 'not running as root' (and it works without nosuid)" {
	local d
	d=$(reachable_dir mnt)
	run unshare -m -- bash -c '
		mount -t tmpfs -o nosuid,mode=0755 pbtnosuid "$1" || exit 99
		install -m 4755 -o root -g root "$2" "$1/portbind" || exit 99
		exec setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$1/portbind" 80 -- "$3"' \
		_ "$d" "$PB" "$PROBE"
	expect_71 "not running as root"
	run unshare -m -- bash -c '
		mount -t tmpfs -o mode=0755 pbtsuid "$1" || exit 99
		install -m 4755 -o root -g root "$2" "$1/portbind" || exit 99
		exec setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$1/portbind" 80 -- "$3"' \
		_ "$d" "$PB" "$PROBE"
	expect_alice 1
}

@test "a terminal: the probe run directly has a controlling terminal (control)" {
	on_tty "$PROBE"
	expect_status 0
	[ "$(field ctty)" = yes ] || fail "the probe should see its controlling terminal"
	on_tty setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PROBE"
	[ "$(field ctty)" = yes ] || fail "the probe should see its controlling terminal"
}

@test "root from a terminal running a command as pbt_alice: the command has no controlling terminal" {
	# portbind is not the session leader here (a shell is)
	on_tty bash -c '"$@"; echo "exit=$?"' _ "$PB" 80 pbt_alice -- "$PROBE"
	grep -q '^exit=0$' <<<"$output" || fail "portbind should exit 0"
	[ "$(field uid)" = "59001,59001,59001" ] || fail "the command did not run as pbt_alice"
	[ "$(field ctty)" = no ] || fail "the command must not have root's terminal"
	expect_line "fd.0=chr cloexec=0 path=/dev/pts/"
}

@test "root from a terminal, portbind itself the session leader: the command runs without the terminal" {
	# giving up the terminal as session leader hangs up the foreground
	# process group, which is portbind itself
	on_tty "$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = "59001,59001,59001" ] || fail "the command did not run as pbt_alice"
	[ "$(field ctty)" = no ] || fail "the command must not have root's terminal"
}

# In with_private_dev: a user's and root's grant, each reporting its status.
BOTH_RUNS='
	setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PB" 80 -- "$PROBE"
	echo "status1=$?"
	"$PB" 443 pbt_alice -- "$PROBE"
	echo "status2=$?"'

expect_both_ran() {
	grep -q '^status1=0$' <<<"$output" || fail "the user's grant should work"
	grep -q '^status2=0$' <<<"$output" || fail "root's grant should work"
	[ "$(grep -c '^uid=59001,59001,59001$' <<<"$output")" = 2 ] || fail "both commands should run"
	[ "$(grep -c '^fds=0,1,2,3$' <<<"$output")" = 2 ] || fail "fds= should be 0,1,2,3 both times"
}

@test "no /dev/log at all: the grant still works" {
	run with_private_dev '[ ! -e /dev/log ] || exit 99; '"$BOTH_RUNS"
	expect_both_ran
}

@test "/dev/log that no daemon listens on (a file, /dev/null): the grant still works" {
	run with_private_dev 'touch /dev/log; '"$BOTH_RUNS"
	expect_both_ran
	run with_private_dev 'touch /dev/log; mount --bind /dev/null /dev/log; '"$BOTH_RUNS"
	expect_both_ran
}

# pbt_alice holds portbind (or, for the control, any program of hers) on a
# full pipe: `hold FD SIG [TRACER...] -- "$@"` as her, with core dumps
# unlimited, in a directory of hers ($CWD) where a core file would land.
# TRACER is strace -p (when installed), except for the control ($3 not
# portbind), which ptrace_attach=ok already shows traceable.
held() {
	local fd=$1 sig=$2
	shift 2
	local -a tracer=()
	[ "$1" = "$PB" ] && command -v strace >/dev/null && tracer=(timeout 5 strace -p @PID@)
	run setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- bash -c \
		'cd "$0" && ulimit -c unlimited && exec "$@"' "$CWD" "$HOLD" "$fd" "$sig" "${tracer[@]}" -- "$@"
}

@test "no ptrace, /proc or core dump window while portbind holds root: the caller blocks it mid-run and tries" {
	local pattern
	pattern=$(cat /proc/sys/kernel/core_pattern)
	CWD=$(reachable_dir cwd)
	chown pbt_alice "$CWD"
	# Control: a program of pbt_alice's own, held the same way, is open to
	# her, and dumps core on SIGSEGV where core dumps go to a file.
	held 1 11 /bin/cat /dev/zero
	expect_line "blocked=yes"
	expect_line "ptrace_attach=ok"
	expect_line "read_environ=ok"
	expect_line "end=signal:11"
	if [[ $pattern != "|"* ]] && [ -n "$pattern" ]; then
		expect_line "core=1"
		[ -n "$(ls -A "$CWD")" ] || fail "control: no core file in $CWD (core_pattern $pattern)"
	else
		echo "# core_pattern '$pattern': the control's core is not a file here" >&3
	fi
	rm -rf "${CWD:?}"/*
	# portbind blocked writing, while it holds root: a grant explained by
	# --dry-run (at exit, flushing stdout), a denial explained by -v on
	# stderr, --list, --check, and a usage error (before anything else).
	local -a ways=("1 11 --dry-run 80 -- $PROBE" "2 3 -v 81 -- $PROBE" "1 11 --list"
		"1 3 --check" "2 11 0 -- $PROBE")
	local w fd sig k
	for w in "${ways[@]}"; do
		read -r fd sig k <<<"$w"
		echo "holding portbind $k on fd $fd, then signal $sig"
		# shellcheck disable=SC2086
		held "$fd" "$sig" "$PB" $k
		expect_line "blocked=yes"
		[ "$(field Uid)" = 59001,0,0,0 ] || fail "portbind should be held with euid 0 ($k)"
		expect_line "ptrace_attach=EPERM"
		expect_line "ptrace_seize=EPERM"
		for f in environ mem auxv stack syscall; do
			[ "$(field "read_$f")" != ok ] || fail "/proc/PID/$f readable by the caller ($k)"
		done
		[ "$(field list_fd)" != ok ] || fail "/proc/PID/fd listable by the caller ($k)"
		[ "$(field readlink_exe)" != ok ] || fail "/proc/PID/exe readable by the caller ($k)"
		if command -v strace >/dev/null; then
			[ "$(field tracer_exit)" != 0 ] || fail "strace -p attached ($k)"
			[ "$(field tracer_state)" = S ] || fail "portbind not left as it was after strace -p ($k)"
		fi
		expect_line "end=signal:$sig core=0"
		[ -z "$(ls -A "$CWD")" ] || fail "a core file appeared: $(ls -A "$CWD") ($k)"
	done
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$pattern" ] || fail "core_pattern changed"
	expect_unbound 80
}

@test "the installed setuid portbind passes the hardening gate: PIE, full RELRO, NX stack, stack protector, FORTIFY, no library but libc" {
	run env ANALYZE_BINARY="$PB" "$BATS_TEST_DIRNAME/analyze" gate
	expect_status 0
	expect_line "analysis: 1 passed, 0 failed"
	expect_no_line "FAIL"
	[ "$(stat -c '%U %a' "$PB")" = "root 4755" ] || fail "installed as $(stat -c '%U %a' "$PB"), want root 4755"
}
