/*
 * bindbench - what bind() costs in one cgroup against another, measured in
 * one process, interleaved, for make bench.
 *
 *   bindbench ROUNDS BINDS PORT UID ID=CGROUP [ID=CGROUP...]
 *
 * Run by root. A worker process becomes UID (no groups, no capability) and
 * waits; in each round, for each cgroup in turn (a different one first in
 * each round), root moves the worker into that cgroup, and the worker
 * opens BINDS TCP sockets, binds them to 127.0.0.1:PORT, PORT+1, ... with
 * the clock read before the first bind() and after the last, and closes
 * them. A socket is judged by the hooks of the cgroup it was created in,
 * so every socket is new. One round before the first is not counted. A
 * bind that fails ends the run: a measurement of refusals is no
 * measurement of grants.
 *
 * Prints one line per cgroup, the first being the baseline:
 *   ID  MEDIAN-NS-PER-BIND  RATIO  RATIO-Q1  RATIO-Q3
 * where RATIO is the median over the rounds of (this cgroup's time / the
 * baseline's time in the same round), and Q1, Q3 its quartiles.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bindbench"
#include "common.h"

#define MAX_VARIANTS 16

static unsigned long number(const char *s, unsigned long lo, unsigned long hi, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "bindbench: %s: want %lu-%lu, not '%s'\n", what, lo, hi, s);
		exit(2);
	}
	return v;
}

static void read_all(int fd, void *buf, size_t n)
{
	ssize_t r = read(fd, buf, n);

	if (r == 0) {
		fprintf(stderr, "bindbench: the worker ended\n");
		exit(1);
	}
	if (r != (ssize_t)n)
		die("read");
}

/* The worker: UID for good, then one batch of binds per command byte;
 * answers with the nanoseconds the binds took. */
/* BINDBENCH_WHOLE=1: time socket(), bind() and close() together, a bind
 * as a daemon makes it, instead of bind() alone. */
static _Noreturn void worker(int cmd, int res, unsigned binds, unsigned port, uid_t uid)
{
	const char *w = getenv("BINDBENCH_WHOLE");
	int whole = w && strcmp(w, "1") == 0;
	int *fds = calloc(binds, sizeof(*fds));
	unsigned char v;
	ssize_t r;

	if (!fds)
		die("calloc");
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
		die("dropping to the bench uid");
	if (setresuid(0, 0, 0) == 0 || getuid() != uid || geteuid() != uid) {
		fprintf(stderr, "bindbench: still privileged\n");
		exit(1);
	}
	while ((r = read(cmd, &v, 1)) == 1) {
		struct sockaddr_in in = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		unsigned failed = 0;
		int err = 0;
		uint64_t t0 = 0, t1 = 0;

		if (whole)
			t0 = now_ns();
		for (unsigned i = 0; i < binds; i++)
			if ((fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
				die("socket");
		if (!whole)
			t0 = now_ns();
		for (unsigned i = 0; i < binds; i++) {
			in.sin_port = htons((uint16_t)(port + i));
			if (bind(fds[i], (struct sockaddr *)&in, sizeof(in)) != 0 && !failed) {
				failed = i + 1;
				err = errno;
			}
		}
		if (!whole)
			t1 = now_ns();
		for (unsigned i = 0; i < binds; i++)
			if (close(fds[i]) != 0)
				die("close");
		if (whole)
			t1 = now_ns();
		if (failed) {
			fprintf(stderr, "bindbench: bind 127.0.0.1:%u/tcp as uid %u in cgroup %u: %s\n",
				port + failed - 1, (unsigned)uid, v, strerror(err));
			exit(1);
		}
		t1 -= t0;
		if (write(res, &t1, sizeof(t1)) != (ssize_t)sizeof(t1))
			die("write");
	}
	if (r != 0)
		die("read");
	exit(0);
}

static void move_to(const char *cgroup, pid_t pid)
{
	char path[4096], buf[32];
	int fd, n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup) >= sizeof(path))
		die("cgroup path too long");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) != 0)
		die(path);
}

int main(int argc, char **argv)
{
	unsigned rounds, binds, port, nv = (unsigned)argc - 5;
	const char *id[MAX_VARIANTS], *cgroup[MAX_VARIANTS];
	int cmd[2], res[2], status;
	double *ns, *tmp;
	struct rlimit rl;
	uid_t uid;
	pid_t pid;

	if (argc < 6 || nv > MAX_VARIANTS) {
		fprintf(stderr, "usage: bindbench ROUNDS BINDS PORT UID ID=CGROUP [ID=CGROUP...]\n");
		return 2;
	}
	rounds = (unsigned)number(argv[1], 1, 1000000, "ROUNDS");
	binds = (unsigned)number(argv[2], 1, 60000, "BINDS");
	port = (unsigned)number(argv[3], 1, 65535, "PORT");
	uid = (uid_t)number(argv[4], 1, 4294967294u, "UID");
	if (port + binds - 1 > 65535) {
		fprintf(stderr, "bindbench: PORT + BINDS - 1 is above 65535\n");
		return 2;
	}
	for (unsigned v = 0; v < nv; v++) {
		char *eq = strchr(argv[5 + v], '=');
		if (!eq || eq == argv[5 + v] || !eq[1]) {
			fprintf(stderr, "bindbench: want ID=CGROUP, not '%s'\n", argv[5 + v]);
			return 2;
		}
		*eq = '\0';
		id[v] = argv[5 + v];
		cgroup[v] = eq + 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bindbench: must be run by root (it moves the worker between cgroups)\n");
		return 2;
	}
	/* A descriptor per socket of a batch. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	if (rl.rlim_cur < binds + 16) {
		rl.rlim_cur = rl.rlim_max = binds + 16 > rl.rlim_max ? binds + 16 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("setrlimit");
	}
	ns = calloc((size_t)rounds * nv, sizeof(*ns));
	tmp = calloc(rounds, sizeof(*tmp));
	if (!ns || !tmp)
		die("calloc");
	if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(res, O_CLOEXEC) != 0)
		die("pipe");
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		/* The worker ends with root, whatever ends root. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
			die("prctl");
		close(cmd[1]);
		close(res[0]);
		worker(cmd[0], res[1], binds, port, uid);
	}
	close(cmd[0]);
	close(res[1]);

	for (unsigned r = 0; r <= rounds; r++)
		for (unsigned k = 0; k < nv; k++) {
			unsigned char v = (unsigned char)((r + k) % nv);
			uint64_t t;
			move_to(cgroup[v], pid);
			if (write(cmd[1], &v, 1) != 1)
				die("write");
			read_all(res[0], &t, sizeof(t));
			if (r > 0) /* round 0 warms up */
				ns[(size_t)(r - 1) * nv + v] = (double)t;
		}
	close(cmd[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bindbench: the worker failed\n");
		return 1;
	}

	for (unsigned v = 0; v < nv; v++) {
		double med, q1, q3;
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = ns[(size_t)r * nv + v] / binds;
		med = quantile(tmp, rounds, 0.5);
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = ns[(size_t)r * nv + v] / ns[(size_t)r * nv];
		q1 = quantile(tmp, rounds, 0.25);
		q3 = quantile(tmp, rounds, 0.75);
		printf("%s\t%.0f\t%.3f\t%.3f\t%.3f\n", id[v], med, quantile(tmp, rounds, 0.5), q1, q3);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
