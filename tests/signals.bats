#!/usr/bin/env bats
# Signals, the terminal and the log: the caller may stop, resume and kill
# portbind at any moment, and must never catch it running the command
# half-dropped, nor ptrace it while it holds root; a command root runs as
# another user from a terminal cannot push input into root's terminal
# (TIOCSTI); nothing the caller controls can forge a syslog line.
load lib

setup_file() {
	make_traversable "$BATS_FILE_TMPDIR"
	cat >"$BATS_FILE_TMPDIR/sigloop.c" <<'C'
/* sigloop -n N -u UID -g GID -s SIG[,SIG...] -- PROGRAM [ARG...]
 * Runs PROGRAM N times and signals each run at a different moment of its
 * life, from its exec on (spread over the measured length of an
 * unsignalled run). SIG is one
 * of STOP TERM KILL HUP INT QUIT STOPKILL STOPTERM; STOP* runs are looked
 * at while stopped: once the command (comm "probe") runs, every id must be
 * UID/GID, every capability set empty and no_new_privs on; while portbind
 * holds root, a non-root sigloop must not be able to ptrace it. Each run
 * must end as a complete, correct probe report (exit 0, or killed by the
 * signal after reporting) or killed by the signal with no output at all.
 * Prints one line per violation, then a summary; exit 1 if any. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char uidline[64], gidline[64], self[64];
static int violations;

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void wait_us(long us)
{
	long end = now_us() + us;
	if (us > 200) {
		struct timespec ts = { 0, (us - 100) * 1000 };
		nanosleep(&ts, NULL);
	}
	while (now_us() < end)
		;
}

static void violation(int i, const char *what, const char *detail)
{
	printf("VIOLATION run %d: %s\n%s%s", i, what, detail ? detail : "", detail ? "\n" : "");
	violations++;
}

/* key: value of /proc/PID/status, tabs as commas; "" if absent */
static void status_value(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], buf[512];
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	out[0] = '\0';
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, key, strlen(key)) == 0 && buf[strlen(key)] == ':') {
			char *v = buf + strlen(key) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			for (char *c = v; *c; c++)
				if (*c == '\t')
					*c = ',';
			snprintf(out, size, "%s", v);
		}
	fclose(f);
}

static void comm_of(pid_t pid, char *out, size_t size)
{
	char path[64];
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	out[0] = '\0';
	if ((f = fopen(path, "re"))) {
		if (fgets(out, (int)size, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd" };
enum { N_STOP, N_PRIV, N_DROPPED, N_PROBE, N_OTHER, N_GONE, N_MAX };
static int stops[N_MAX];

/* The run is stopped: look at it. */
static void inspect(int i, pid_t pid)
{
	char comm[64], u[128], g[128], v[128], d[1024];
	int privileged;

	comm_of(pid, comm, sizeof(comm));
	status_value(pid, "Uid", u, sizeof(u));
	status_value(pid, "Gid", g, sizeof(g));
	if (strcmp(comm, "probe") == 0) {
		stops[N_PROBE]++;
		snprintf(d, sizeof(d), "  Uid %s Gid %s", u, g);
		if (strcmp(u, uidline) != 0 || strcmp(g, gidline) != 0)
			violation(i, "the command runs with ids not fully dropped", d);
		for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
			status_value(pid, caps[k], v, sizeof(v));
			if (strcmp(v, "0000000000000000") != 0) {
				snprintf(d, sizeof(d), "  %s %s", caps[k], v);
				violation(i, "the command holds capabilities", d);
			}
		}
		status_value(pid, "NoNewPrivs", v, sizeof(v));
		if (strcmp(v, "1") != 0)
			violation(i, "the command runs without no_new_privs", NULL);
		return;
	}
	if (strcmp(comm, "portbind") != 0) {
		stops[strcmp(comm, self) == 0 ? N_STOP : N_OTHER]++;
		return;
	}
	status_value(pid, "CapPrm", v, sizeof(v));
	{
		unsigned r = 1, e = 1, s = 1, f = 1;
		sscanf(u, "%u,%u,%u,%u", &r, &e, &s, &f);
		privileged = !r || !e || !s || !f || strcmp(v, "0000000000000000") != 0;
	}
	stops[privileged ? N_PRIV : N_DROPPED]++;
	if (privileged && getuid() != 0) {
		if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
			int st;
			waitpid(pid, &st, __WALL);
			ptrace(PTRACE_DETACH, pid, 0, 0);
			snprintf(d, sizeof(d), "  Uid %s CapPrm %s", u, v);
			violation(i, "the caller could ptrace portbind while it held privilege", d);
		}
	}
}

/* The complete report of a correctly dropped probe with one socket. */
static int report_ok(const char *out)
{
	static const char *const need[] = { "cap_inh=0000000000000000\n", "cap_prm=0000000000000000\n",
		"cap_eff=0000000000000000\n", "cap_amb=0000000000000000\n", "cap_bnd=0000000000000000\n",
		"no_new_privs=1\n", "setuid0=fail\n", "\nfd.3=socket cloexec=0 ", "\nfds=0,1,2,3\n" };
	char want[160];
	unsigned uid;

	if (sscanf(uidline, "%u", &uid) != 1)
		return 0;
	snprintf(want, sizeof(want), "uid=%u,%u,%u\n", uid, uid, uid);
	if (strncmp(out, want, strlen(want)) != 0)
		return 0;
	for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
		if (!strstr(out, need[k]))
			return 0;
	return 1;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static char out[65536];
	long samples[11];
	int n = 0, k, nsig = 0, ends[4] = { 0 };
	unsigned uid = 0, gid = 0;
	char *sigs[16], *s;
	long len = 0;
	struct rlimit nocore = { 0, 0 };

	for (k = 1; k < argc && strcmp(argv[k], "--") != 0; k++) {
		if (k + 1 >= argc)
			return 2;
		if (strcmp(argv[k], "-n") == 0)
			n = atoi(argv[++k]);
		else if (strcmp(argv[k], "-u") == 0)
			uid = (unsigned)atoi(argv[++k]);
		else if (strcmp(argv[k], "-g") == 0)
			gid = (unsigned)atoi(argv[++k]);
		else if (strcmp(argv[k], "-s") == 0)
			for (s = strtok(argv[++k], ","); s && nsig < 16; s = strtok(NULL, ","))
				sigs[nsig++] = s;
		else
			return 2;
	}
	if (k + 1 >= argc || n <= 0 || nsig == 0) {
		fprintf(stderr, "usage: sigloop -n N -u UID -g GID -s SIG[,SIG...] -- PROGRAM [ARG...]\n");
		return 2;
	}
	argv += k + 1;
	snprintf(uidline, sizeof(uidline), "%u,%u,%u,%u", uid, uid, uid, uid);
	snprintf(gidline, sizeof(gidline), "%u,%u,%u,%u", gid, gid, gid, gid);
	setrlimit(RLIMIT_CORE, &nocore);
	comm_of(getpid(), self, sizeof(self));

	/* i < 0: unsignalled runs that measure how long a run takes (the
	 * median of them: a sample where sigloop itself was not scheduled
	 * until the run was over is far too short). */
	for (int i = -11; i < n; i++) {
		const char *sig = i < 0 ? "" : sigs[i % nsig];
		int p[2], e[2], st, got = 0, expect_sig = 0;
		char c;
		long t0, delay = i < 0 ? 0 : len * ((i * 7919L) % 1000) / 1000;
		pid_t pid;
		ssize_t r;

		if (pipe2(p, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0)
			return 2;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			dup2(p[1], 1);
			dup2(p[1], 2);
			execv(argv[0], argv);
			_exit(127);
		}
		close(p[1]);
		close(e[1]);
		/* The exec closes e[1]: from then on, the run is PROGRAM's. */
		while (read(e[0], &c, 1) < 0 && errno == EINTR)
			;
		close(e[0]);
		t0 = now_us();
		if (i >= 0) {
			wait_us(delay);
			if (strncmp(sig, "STOP", 4) == 0) {
				kill(pid, SIGSTOP);
				if (waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st)) {
					inspect(i, pid);
					if (strcmp(sig, "STOPKILL") == 0)
						kill(pid, expect_sig = SIGKILL);
					else if (strcmp(sig, "STOPTERM") == 0)
						kill(pid, expect_sig = SIGTERM);
					kill(pid, SIGCONT);
				} else {
					stops[N_GONE]++;
					got = 1; /* already reaped */
				}
			} else {
				expect_sig = strcmp(sig, "TERM") == 0 ? SIGTERM
					   : strcmp(sig, "KILL") == 0 ? SIGKILL
					   : strcmp(sig, "HUP") == 0  ? SIGHUP
					   : strcmp(sig, "INT") == 0  ? SIGINT
					   : strcmp(sig, "QUIT") == 0 ? SIGQUIT
								      : -1;
				if (expect_sig < 0)
					return 2;
				kill(pid, expect_sig);
			}
		}
		size_t used = 0;
		while ((r = read(p[0], out + used, sizeof(out) - 1 - used)) > 0)
			used += (size_t)r;
		out[used] = '\0';
		close(p[0]);
		if (!got && waitpid(pid, &st, 0) != pid)
			return 2;
		if (i < 0) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !report_ok(out)) {
				printf("calibration run failed (status %d):\n%s\n", st, out);
				return 1;
			}
			samples[i + 11] = now_us() - t0;
			if (i == -1) {
				qsort(samples, 11, sizeof(samples[0]), cmp_long);
				len = samples[5];
			}
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && report_ok(out)) {
			ends[0]++;
		} else if (WIFSIGNALED(st) && WTERMSIG(st) == expect_sig && used == 0) {
			ends[1]++;
		} else if (WIFSIGNALED(st) && WTERMSIG(st) == expect_sig && report_ok(out)) {
			ends[2]++;
		} else {
			char d[1200];
			snprintf(d, sizeof(d), "  signal %s after %ld us; %s %d; output:\n%.1000s", sig,
				 delay, WIFSIGNALED(st) ? "killed by signal" : "exit status",
				 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), out);
			violation(i, "neither a complete correct run nor a clean death", d);
			ends[3]++;
		}
	}
	printf("runs=%d run_us=%ld stopped: own=%d portbind-privileged=%d portbind-dropped=%d "
	       "command=%d other=%d already-gone=%d; ended: complete=%d killed-silently=%d "
	       "killed-after-report=%d bad=%d\nviolations=%d\n",
	       n, len, stops[N_STOP], stops[N_PRIV], stops[N_DROPPED], stops[N_PROBE], stops[N_OTHER],
	       stops[N_GONE], ends[0], ends[1], ends[2], ends[3], violations);
	return violations != 0;
}
C
	# tiocsti: tries to push a byte into the terminal on fds 0, 1, 2 and
	# /dev/tty, printing tiocsti.N=ok or the errno name for each.
	cat >"$BATS_FILE_TMPDIR/tiocsti.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void try(const char *name, int fd)
{
	char c = ' ';

	if (fd < 0)
		printf("tiocsti.%s=%s\n", name, strerrorname_np(errno));
	else if (ioctl(fd, TIOCSTI, &c) == 0)
		printf("tiocsti.%s=ok\n", name);
	else
		printf("tiocsti.%s=%s\n", name, strerrorname_np(errno));
}

int main(void)
{
	try("0", 0);
	try("1", 1);
	try("2", 2);
	try("tty", open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
	printf("uid=%u\n", (unsigned)getuid());
	return 0;
}
C
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/sigloop" "$BATS_FILE_TMPDIR/sigloop.c"
	cc -O2 -Wall -o "$BATS_FILE_TMPDIR/tiocsti" "$BATS_FILE_TMPDIR/tiocsti.c"
	chmod 0755 "$BATS_FILE_TMPDIR/sigloop" "$BATS_FILE_TMPDIR/tiocsti"
}

setup() {
	SIGLOOP=$BATS_FILE_TMPDIR/sigloop
	TIOCSTI=$BATS_FILE_TMPDIR/tiocsti
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
T
}

# The sigloop summary line, for the record.
summary() {
	echo "# $(grep '^runs=' <<<"$output")" >&3
}

# sigloop's count of stops that found the run in phase $1.
stops_in() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$output" | head -n 1
}

@test "a caller stopping, resuming and killing portbind at any moment: a complete run or a clean death, never half-dropped" {
	# 720 runs of `portbind 80 -- probe` by pbt_alice, each signalled once
	# at a different moment (from the setuid exec to the end of the
	# probe): SIGSTOP (then looked at and resumed), SIGTERM, SIGKILL,
	# SIGHUP, SIGINT, SIGQUIT, SIGSTOP then SIGKILL, SIGSTOP then SIGTERM.
	# A run that leaves port 80 bound makes the next one fail (69).
	run as pbt_alice timeout 60 "$SIGLOOP" -n 720 -u 59001 -g 59001 \
		-s STOP,TERM,STOP,KILL,HUP,STOPKILL,INT,STOPTERM,QUIT -- "$PB" 80 -- "$PROBE"
	summary
	expect_status 0
	expect_line "violations=0"
	# the stops did catch portbind holding root, and the command running
	[ "$(stops_in portbind-privileged)" -gt 0 ] || fail "no stop landed while portbind held root"
	[ "$(stops_in command)" -gt 0 ] || fail "no stop landed in the command"
	expect_unbound 80
}

@test "root's command run as pbt_alice, signalled at any moment: a complete run or a clean death, never half-dropped" {
	run timeout 60 "$SIGLOOP" -n 240 -u 59001 -g 59001 -s STOP,TERM,STOPKILL,HUP -- \
		"$PB" 80 pbt_alice -- "$PROBE"
	summary
	expect_status 0
	expect_line "violations=0"
	[ "$(stops_in command)" -gt 0 ] || fail "no stop landed in the command"
	expect_unbound 80
}

# The result the tiocsti helper printed for fd $1, from on_tty's output (a
# byte TIOCSTI pushed is echoed by the terminal).
tiocsti_of() {
	grep -o "tiocsti\.$1=[A-Za-z]*" <<<"$output" | head -n 1 | cut -d= -f2
}

@test "TIOCSTI: a command root runs as pbt_alice from a terminal cannot push input into it" {
	local legacy
	legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)
	# Control: pbt_alice's program on root's terminal, without portbind,
	# can (when the kernel allows TIOCSTI at all), through every fd.
	on_tty setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$TIOCSTI"
	expect_line "uid=59001"
	if [ "$legacy" = 1 ]; then
		[ "$(tiocsti_of 0)" = ok ] || fail "control: TIOCSTI should work on the controlling terminal"
	else
		echo "# dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI anyway; no control" >&3
	fi
	# Through portbind, a shell being the session leader, and portbind
	# itself the session leader: no fd and no /dev/tty lets it in.
	on_tty bash -c '"$@"; echo "exit=$?"' _ "$PB" 80 pbt_alice -- "$TIOCSTI"
	expect_line "exit=0"
	expect_line "uid=59001"
	local fd
	for fd in 0 1 2 tty; do
		[ -n "$(tiocsti_of "$fd")" ] || fail "no result for fd $fd"
		[ "$(tiocsti_of "$fd")" != ok ] || fail "TIOCSTI on fd $fd worked"
	done
	on_tty "$PB" 80 pbt_alice -- "$TIOCSTI"
	expect_status 0
	expect_line "uid=59001"
	for fd in 0 1 2 tty; do
		[ -n "$(tiocsti_of "$fd")" ] || fail "no result for fd $fd (session leader)"
		[ "$(tiocsti_of "$fd")" != ok ] || fail "TIOCSTI on fd $fd worked (session leader)"
	done
	expect_unbound 80
}

# In with_private_dev: a listener on /dev/log that writes one line per
# datagram to $LOGFILE: "ctl=N text=T", N the number of bytes outside
# printable ASCII in it, T the datagram with such bytes shown as '?'.
LISTENER='
	"$PY" -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\"); os.chmod(\"/dev/log\", 0o666)
s.settimeout(20)
with open(sys.argv[1], \"a\") as f:
    while True:
        d = s.recv(1 << 20)
        ctl = sum(1 for b in d if b < 0x20 or b > 0x7e)
        t = \"\".join(chr(b) if 0x20 <= b <= 0x7e else \"?\" for b in d)
        f.write(\"ctl=%d text=%s\\n\" % (ctl, t)); f.flush()
" "$LOGFILE" 3>&- &
	py=$!
	for i in $(seq 100); do [ "$(stat -c %a /dev/log 2>/dev/null)" = 666 ] && break; sleep 0.05; done
	alice() { setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$@"; }
'

# A /dev/log listener needs python3; $LOGFILE is where it writes.
need_listener() {
	PY=$(command -v python3) || skip "python3 is not installed (needed for a /dev/log listener)"
	export LOGFILE=$BATS_TEST_TMPDIR/syslog PY
}

# The records in $LOGFILE put back together as portbind(1) LOGGING says, one
# line each, in the order of their first parts: "WHAT req=ID parts=N ITEMS".
# A datagram or record that breaks the format is a line "BAD: why: what":
# not one authpriv line of portbind[PID] "WHAT: req=PID@S.N part=K/N ..."
# of at most 900 bytes after "portbind[PID]: " (1024 in all), parts
# missing, repeated or out of order, a record's lines not agreeing, a cut
# item not marked at both ends.
records() {
	"$PY" - "$LOGFILE" <<'PY'
import re, sys
head = re.compile(r"ctl=0 text=<8[45]>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d portbind\[(\d+)\]: (.*)$")
line = re.compile(r"(granted|denied): req=((\d+)@\d+\.\d{9}) part=(\d+)/(\d+) (.+)$")
recs, order = {}, []
for raw in open(sys.argv[1]):
    raw = raw.rstrip("\n")
    h = head.match(raw)
    m = h and line.match(h.group(2))
    if not m or h.group(1) != m.group(3):
        print("BAD: not a record line: " + raw)
        continue
    if len(raw) - len("ctl=0 text=") > 1024 or len(h.group(2)) > 900:
        print("BAD: line too long: " + raw)
    req = m.group(1) + " req=" + m.group(2)
    k, n, body = int(m.group(4)), int(m.group(5)), m.group(6)
    if req not in recs:
        recs[req] = []
        order.append(req)
    parts = recs[req]
    if k != len(parts) + 1 or (parts and parts[0][0] != n) or k > n:
        print("BAD: part %d/%d out of order: %s" % (k, n, raw))
    parts.append((n, body))
for req in order:
    parts = [b for n, b in recs[req]]
    if len(parts) != recs[req][0][0]:
        print("BAD: %s has %d of %d parts" % (req, len(parts), recs[req][0][0]))
    text = parts[0]
    for prev, b in zip(parts, parts[1:]):
        if prev.endswith("\\") != b.startswith("\\"):
            print("BAD: a cut not marked at both ends: %s / %s" % (prev[-20:], b[:20]))
        text = text[:-1] + b[1:] if prev.endswith("\\") else text + " " + b
    print("%s parts=%d %s" % (req, len(parts), text))
PY
}

# The items of record line $1, one per line (the trailer's words too).
items() {
	tr ' ' '\n' <<<"$1"
}

# ARG exactly as the log writes an argument: bytes outside printable ASCII,
# the backslash and the space as \xHH.
escaped() {
	"$PY" -c 'import sys; print("".join(chr(b) if 0x20 < b <= 0x7e and b != 0x5c else "\\x%02x" % b for b in sys.argv[1].encode("utf-8", "surrogateescape")))' "$1"
}

@test "caller-controlled strings cannot forge a log line: one record per decision, one datagram per line, every byte escaped" {
	need_listener
	# A command path of pbt_alice's own with a newline and a forged line in
	# its name (a link to the probe), reachable by her.
	local d=$BATS_TEST_TMPDIR p
	p=$d
	while [ "$p" != / ]; do
		[ "$(stat -c %u "$p")" != 0 ] || chmod o+x "$p"
		p=$(dirname "$p")
	done
	export EVILDIR=$d/alice
	install -d -m 0755 -o pbt_alice -g pbt_alice "$EVILDIR"
	ln -s "$PROBE" "$EVILDIR/x"$'\n''portbind[1]: granted: caller=root(0)'
	export FORGE=$'x\nportbind[1]: granted: caller=root(0) target=root(0) socket=22/tcp[ssh] program=/bin/sh\x1b[2K\\'
	export BIG
	BIG=$(head -c 100000 /dev/zero | tr '\0' 'A')$'\n''portbind[1]: granted'
	run with_private_dev "$LISTENER"'
		# 1, 2: granted and denied, the forgery in an argument, in USER
		# and LOGNAME, and in argv[0]
		alice env USER="$FORGE" LOGNAME="$FORGE" perl -e '"'"'$p = shift; exec { $p } @ARGV'"'"' \
			"$PB" "$FORGE" 80 -- "$PROBE" --sleep 0 "$FORGE" >/dev/null 2>&1
		echo "status1=$?"
		alice env USER="$FORGE" "$PB" 81 -- "$PROBE" "$FORGE" >/dev/null 2>&1
		echo "status2=$?"
		# 3: the forgery in the command path (granted: an unlisted port)
		alice "$PB" 8080 -- "$EVILDIR"/x*granted* >/dev/null 2>&1
		echo "status3=$?"
		# 4: a printable NAME that looks like a log line
		alice "$PB" "80=portbind[1] granted caller=root(0)" -- "$PROBE" >/dev/null 2>&1
		echo "status4=$?"
		# 5: root running a command as pbt_alice, with the forgery in it
		USER="$FORGE" "$PB" 443 pbt_alice -- "$PROBE" --sleep 0 "$FORGE" >/dev/null 2>&1
		echo "status5=$?"
		# 6: an argument of 100000 bytes ending in a forgery
		alice "$PB" 80 -- "$PROBE" "$BIG" >/dev/null 2>&1
		echo "status6=$?"
		sleep 0.3
		kill $py'
	# the probe refuses unknown arguments (exit 2) after portbind ran it
	grep -q '^status1=2$' <<<"$output" || fail "run 1 should reach the probe"
	grep -q '^status2=77$' <<<"$output" || fail "run 2 should be denied"
	grep -q '^status3=0$' <<<"$output" || fail "run 3 should run the probe"
	grep -q '^status4=0$' <<<"$output" || fail "run 4 should run the probe"
	grep -q '^status5=2$' <<<"$output" || fail "run 5 should reach the probe"
	grep -q '^status6=2$' <<<"$output" || fail "run 6 should reach the probe"
	local log recs
	log=$(cat "$LOGFILE")
	recs=$(records)
	echo "$recs" | cut -c1-400 >&3
	! grep -q '^BAD' <<<"$recs" || fail "the log breaks the format:" "$recs"
	[ "$(grep -c . <<<"$recs")" -eq 6 ] || fail "expected 6 records, one per decision:" "$recs"
	! grep -qv '^ctl=0 ' <<<"$log" || fail "a datagram holds a raw control byte:" "$log"
	[ "$(grep -c '^denied req=[^ ]* parts=1 caller=pbt_alice(59001) ' <<<"$recs")" -eq 1 ] || fail "the denial record"
	[ "$(grep -c '^granted req=[^ ]* parts=[0-9]* caller=pbt_alice(59001) ' <<<"$recs")" -eq 4 ] || fail "alice's grant records"
	[ "$(grep -c '^granted req=[^ ]* parts=1 caller=root(0) target=pbt_alice(59001) ' <<<"$recs")" -eq 1 ] ||
		fail "root's grant record"
	# the forged path is only the command as she wrote it; the program is the probe
	grep -qF " program=$(readlink -f "$PROBE") dev=" <<<"$(grep ' socket=8080/tcp\[free\] ' <<<"$recs")" ||
		fail "run 3 should name the probe as the program"
	grep -qF 'x\x0aportbind[1]:\x20granted:\x20caller=root(0)' <<<"$recs" || fail "the newline is not escaped as \\x0a"
	grep -qF '\x1b[2K\x5c' <<<"$recs" || fail "ESC and backslash are not escaped"
	# no record holds a second field of the kinds the forgeries fake
	[ "$(grep -o ' program=' <<<"$recs" | wc -l)" -eq 6 ] && [ "$(grep -o ' socket=' <<<"$recs" | wc -l)" -eq 6 ] ||
		fail "a forged field reads as a real one:" "$recs"
	expect_unbound 80
	expect_unbound 443
	expect_unbound 8080
}

@test "grants and denials reach syslog as documented: authpriv, notice or warning, caller, target, every socket with its section, the program, its arguments" {
	need_listener
	run with_private_dev "$LISTENER"'
		bob() { setpriv --reuid=pbt_bob --regid=pbt_dev --init-groups -- "$@"; }
		alice "$PB" 80,127.0.0.1:8080/udp -- "$PROBE" --sleep 0 >/dev/null 2>&1
		bob "$PB" 443,81 -- "$PROBE" >/dev/null 2>&1
		"$PB" --dry-run 80 pbt_alice -- "$PROBE" >/dev/null 2>&1
		"$PB" --list >/dev/null 2>&1
		sleep 0.3
		kill $py'
	local log prog id
	log=$(cat "$LOGFILE")
	echo "$log" >&3
	[ "$(grep -c . <<<"$log")" -eq 2 ] || fail "one line per decision that would bind; --dry-run and --list log nothing:" "$log"
	prog=$(readlink -f "$PROBE")
	id=$(stat -L -c 'dev=%Hd:%Ld ino=%i' "$PROBE")
	# <85> is LOG_AUTHPRIV|LOG_NOTICE, <84> LOG_AUTHPRIV|LOG_WARNING
	grep -qE "^ctl=0 text=<85>.* portbind\[([0-9]+)\]: granted: req=\1@[0-9]+\.[0-9]{9} part=1/1 caller=pbt_alice\(59001\) target=pbt_alice\(59001\) socket=80/tcp\[web\] socket=127\.0\.0\.1:8080/udp\[free\] program=$prog $id arg0=$PROBE arg1=--sleep arg2=0$" <<<"$log" ||
		fail "the grant line" "$log"
	grep -qE "^ctl=0 text=<84>.* portbind\[([0-9]+)\]: denied: req=\1@[0-9]+\.[0-9]{9} part=1/1 caller=pbt_bob\(59002\) target=pbt_bob\(59002\) socket=443/tcp\[DENIED:owned\] socket=81/tcp\[DENIED:privileged\] program=$prog $id arg0=$PROBE$" <<<"$log" ||
		fail "the denial line" "$log"
}

@test "a record names every socket, whatever their number: 63 UDP SPECs on [::1] then 127.0.0.1:80/tcp, granted and denied, in lines of one request id" {
	need_listener
	local i udp=()
	for ((i = 0; i < 63; i++)); do udp+=("[::1]:$((20000 + i))/udp"); done
	export SPECS80 SPECS81
	SPECS80=$(IFS=,; echo "${udp[*]},127.0.0.1:80/tcp")
	SPECS81=$(IFS=,; echo "${udp[*]},127.0.0.1:81/tcp")
	run with_private_dev "$LISTENER"'
		alice "$PB" "$SPECS80" -- "$PROBE" >/dev/null 2>&1
		echo "status1=$?"
		alice "$PB" "$SPECS81" -- "$PROBE" >/dev/null 2>&1
		echo "status2=$?"
		sleep 0.3
		kill $py'
	grep -q '^status1=0$' <<<"$output" || fail "the 64 sockets should be granted"
	grep -q '^status2=77$' <<<"$output" || fail "port 81 should be denied"
	local recs rec what want
	recs=$(records)
	echo "$recs" | cut -c1-200 >&3
	! grep -q '^BAD' <<<"$recs" || fail "the log breaks the format:" "$recs"
	[ "$(grep -c . <<<"$recs")" -eq 2 ] || fail "expected 2 records" "$recs"
	for what in granted denied; do
		rec=$(grep "^$what " <<<"$recs")
		[[ $rec =~ \ parts=([0-9]+)\  ]] && [ "${BASH_REMATCH[1]}" -gt 1 ] ||
			fail "the $what record should take several lines" "$rec"
		want=$(printf ' socket=%s[free]' "${udp[@]}")
		if [ "$what" = granted ]; then
			want+=" socket=127.0.0.1:80/tcp[web]"
		else
			want+=" socket=127.0.0.1:81/tcp[DENIED:privileged]"
		fi
		grep -qF -- "$want program=$(readlink -f "$PROBE") " <<<"$rec" ||
			fail "the $what record should name all 64 sockets, in order:" "$rec"
		[ "$(items "$rec" | grep -c '^socket=')" -eq 64 ] || fail "64 socket items in the $what record" "$rec"
	done
	# every line carries the request id: as many lines as parts
	[ "$(grep -c ' req=' "$LOGFILE")" -eq "$(($(sed -n 's/.* parts=\([0-9]*\) .*/\1/p' <<<"$recs" | paste -sd+)))" ] ||
		fail "a line without its request id"
	expect_unbound 80
}

@test "the log names the program by the kernel's path, device and inode: /. 300 times, a symlink, PATH" {
	need_listener
	local d=$BATS_TEST_TMPDIR/alice
	make_traversable "$BATS_TEST_TMPDIR"
	install -d -m 0755 -o pbt_alice -g pbt_alice "$d"
	ln -s "$PROBE" "$d/sshd"
	export DOTS LINKDIR=$d
	DOTS=$(printf '/.%.0s' $(seq 300))$PROBE
	run with_private_dev "$LISTENER"'
		alice "$PB" 80 -- "$DOTS" >/dev/null 2>&1
		echo "status1=$?"
		alice "$PB" 81 -- "$DOTS" >/dev/null 2>&1
		echo "status2=$?"
		alice "$PB" 8080 -- "$LINKDIR/sshd" >/dev/null 2>&1
		echo "status3=$?"
		alice env PATH="$LINKDIR" "$PB" 8081 -- sshd >/dev/null 2>&1
		echo "status4=$?"
		sleep 0.3
		kill $py'
	grep -q '^status1=0$' <<<"$output" && grep -q '^status2=77$' <<<"$output" &&
		grep -q '^status3=0$' <<<"$output" && grep -q '^status4=0$' <<<"$output" ||
		fail "runs 1, 3 and 4 should be granted, 2 denied"
	local recs id
	recs=$(records)
	echo "$recs" | cut -c1-300 >&3
	! grep -q '^BAD' <<<"$recs" || fail "the log breaks the format:" "$recs"
	[ "$(grep -c . <<<"$recs")" -eq 4 ] || fail "expected 4 records" "$recs"
	id=$(stat -L -c 'dev=%Hd:%Ld ino=%i' "$PROBE")
	[ "$(grep -cF " program=$(readlink -f "$PROBE") $id arg0=" <<<"$recs")" -eq 4 ] ||
		fail "every record should name the probe by its path, device and inode:" "$recs"
	grep -qF " arg0=$DOTS" <<<"$(grep '^denied ' <<<"$recs")" || fail "arg0 is the command as written"
	grep -qF " arg0=sshd" <<<"$recs" || fail "arg0 is the command as written"
}

@test "arguments are unambiguous in the log: spaces, fake socket=, program= and command= fields, an argument cut between lines" {
	need_listener
	export FAKE='x socket=22/tcp[ssh] program=/bin/sh command=/bin/sh' LONG
	LONG=$(for i in $(seq 60); do printf ' socket=22/tcp[ssh]'; done)
	run with_private_dev "$LISTENER"'
		alice "$PB" 80 -- "$PROBE" "$FAKE" socket=22/tcp[ssh] "$LONG" >/dev/null 2>&1
		echo "status1=$?"
		alice "$PB" 81 -- "$PROBE" "$FAKE" socket=22/tcp[ssh] "$LONG" >/dev/null 2>&1
		echo "status2=$?"
		sleep 0.3
		kill $py'
	grep -q '^status1=2$' <<<"$output" || fail "run 1 should reach the probe"
	grep -q '^status2=77$' <<<"$output" || fail "run 2 should be denied"
	local recs rec what
	recs=$(records)
	echo "$recs" | cut -c1-400 >&3
	! grep -q '^BAD' <<<"$recs" || fail "the log breaks the format:" "$recs"
	for what in granted denied; do
		rec=$(grep "^$what " <<<"$recs")
		[ -n "$rec" ] || fail "no $what record" "$recs"
		[ "$(items "$rec" | grep -c '^socket=')" -eq 1 ] && [ "$(items "$rec" | grep -c '^program=')" -eq 1 ] &&
			[ "$(items "$rec" | grep -c '^command=')" -eq 0 ] || fail "a fake field reads as a real one:" "$rec"
		items "$rec" | grep -qxF "arg1=$(escaped "$FAKE")" || fail "arg1 should be FAKE, escaped" "$rec"
		items "$rec" | grep -qxF "arg2=socket=22/tcp[ssh]" || fail "arg2" "$rec"
		items "$rec" | grep -qxF "arg3=$(escaped "$LONG")" || fail "arg3 should be LONG, whole" "$rec"
	done
	# LONG is longer than a line: cut, with a backslash at both ends, so
	# no line of it starts with a fake field
	grep -qE ' part=[0-9]+/[0-9]+ \\' "$LOGFILE" || fail "no line continues a cut item:" "$(cat "$LOGFILE")"
	! grep -qE ' part=[0-9]+/[0-9]+ socket=22/' "$LOGFILE" || fail "a line starts with a fake field"
	expect_unbound 80
}

@test "a huge argument list is shortened with a count of what was left out; the sockets and the program never are" {
	need_listener
	export HUGE
	HUGE=$(head -c 100000 /dev/zero | tr '\0' 'B')
	run with_private_dev "$LISTENER"'
		alice "$PB" 80 -- "$PROBE" $(seq 20000) "$HUGE" >/dev/null 2>&1
		echo "status1=$?"
		alice "$PB" 81 -- "$PROBE" $(seq 20000) "$HUGE" >/dev/null 2>&1
		echo "status2=$?"
		alice "$PB" 8080 -- "$PROBE" "$HUGE" x >/dev/null 2>&1
		echo "status3=$?"
		sleep 0.3
		kill $py'
	grep -q '^status1=2$' <<<"$output" && grep -q '^status2=77$' <<<"$output" &&
		grep -q '^status3=2$' <<<"$output" || fail "runs 1 and 3 should reach the probe, 2 be denied"
	local recs rec args all shown n m k v item
	recs=$(records)
	echo "$recs" | cut -c1-200 >&3
	! grep -q '^BAD' <<<"$recs" || fail "the log breaks the format:" "$recs"
	[ "$(grep -c . <<<"$recs")" -eq 3 ] || fail "expected 3 records" "$recs"
	while read -r rec; do
		[[ $rec == *" program=$(readlink -f "$PROBE") "* ]] || fail "the program" "$rec"
		case $rec in
		*socket=8080/*) args=("$PROBE" "$HUGE" x) ;;
		*) args=("$PROBE" $(seq 20000) "$HUGE") ;;
		esac
		[[ $rec == *" socket=80/tcp[web] "* || $rec == *" socket=81/tcp[DENIED:privileged] "* ||
			$rec == *" socket=8080/tcp[free] "* ]] || fail "the socket" "$rec"
		# at most 4096 bytes of arguments: 5 lines at most in all
		[[ $rec =~ \ parts=([0-9]+)\  ]] && [ "${BASH_REMATCH[1]}" -le 6 ] || fail "too many lines" "$rec"
		# the arguments logged are the first ones, in order, the last
		# one cut; the count is of the bytes and arguments after
		k=0 shown=0 all=0
		for v in "${args[@]}"; do all=$((all + ${#v})); done
		while read -r item; do
			if [[ $item == "arg$k="* ]]; then
				v=${item#*=}
				[ "$v" = "${args[$k]}" ] || fail "arg$k is not the argument" "$rec"
			elif [[ $item == "arg$k-cut="* ]]; then
				v=${item#*=}
				[[ ${args[$k]} == "$v"* ]] && [ "$v" != "${args[$k]}" ] || fail "arg$k-cut is not its start" "$rec"
			else
				fail "unexpected item $item" "$rec"
			fi
			shown=$((shown + ${#v}))
			[[ $item == *-cut=* ]] || k=$((k + 1))
		done < <(items "$rec" | grep -E '^arg[0-9]+(-cut)?=')
		n=$((all - shown)) m=$((${#args[@]} - k))
		[[ $rec == *" (${n} more bytes in ${m} argument"*" not logged)" ]] ||
			fail "expected '(${n} more bytes in ${m} arguments not logged)' at the end" "$rec"
	done <<<"$recs"
	expect_unbound 80
}
