/*
 * launchbench - what starting a command costs through each of several
 * launchers, measured in one process, interleaved, for make bench.
 *
 *   launchbench ROUNDS DIR LOGSOCK < VARIANTS
 *
 * Run by root, in a private mount namespace. VARIANTS has one line per
 * variant, fields separated by tabs:
 *   ID  AS  SOURCE  ARGV0  ARG...
 * AS is "root" or UID:GID, the identity the variant is started with (the
 * child of this process drops to it, groups cleared, before its exec);
 * SOURCE is "-" or a directory that is exchanged with DIR (renameat2
 * RENAME_EXCHANGE, not timed) before each start of the variant and back
 * after it, so that variants with different ownership tables (drop-in
 * directories) can be interleaved. ARGV0 is a path. The first variant is
 * the baseline.
 *
 * In each round, for each variant in turn (a different one first in each
 * round), the clock is read, a child is forked, drops to AS and executes
 * ARGV with the environment PATH=/usr/bin:/bin alone and stdout on
 * /dev/null, and the clock is read again when the child has been waited
 * for. A child that does not exit with status 0 ends the run. One round
 * before the first is not counted.
 *
 * If /dev/log exists, a datagram socket bound at LOGSOCK is mounted over
 * it, and what is logged there is read and thrown away after each start
 * (not timed): a launcher that logs pays for sending, never the host's
 * logger, and the host's log receives nothing from the benchmark.
 *
 * Prints one line per variant, the first being the baseline:
 *   ID  MEDIAN-NS-PER-START  RATIO  RATIO-Q1  RATIO-Q3
 * where RATIO is the median over the rounds of (this variant's time / the
 * baseline's time in the same round), and Q1, Q3 its quartiles.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "launchbench"
#include "common.h"

#define MAX_VARIANTS 32
#define MAX_ARGS 32

struct variant {
	char *id, *source;
	int root;
	uid_t uid;
	gid_t gid;
	char *argv[MAX_ARGS + 1];
};

static unsigned long number(const char *s, unsigned long lo, unsigned long hi, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || (*end && *end != ':') || errno || v < lo || v > hi) {
		fprintf(stderr, "launchbench: %s: want %lu-%lu, not '%s'\n", what, lo, hi, s);
		exit(2);
	}
	return v;
}

static void parse(char *line, struct variant *v)
{
	char *f[MAX_ARGS + 3];
	unsigned n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *s = strtok(line, "\t"); s; s = strtok(NULL, "\t")) {
		if (n == MAX_ARGS + 3) {
			fprintf(stderr, "launchbench: too many arguments: %s\n", f[0]);
			exit(2);
		}
		f[n++] = s;
	}
	if (n < 4 || f[3][0] != '/') {
		fprintf(stderr, "launchbench: want ID AS SOURCE /ARGV0 [ARG...], tab-separated\n");
		exit(2);
	}
	v->id = f[0];
	v->root = strcmp(f[1], "root") == 0;
	if (!v->root) {
		char *colon = strchr(f[1], ':');
		if (!colon) {
			fprintf(stderr, "launchbench: AS is root or UID:GID, not '%s'\n", f[1]);
			exit(2);
		}
		v->uid = (uid_t)number(f[1], 1, 4294967294u, "UID");
		v->gid = (gid_t)number(colon + 1, 1, 4294967294u, "GID");
	}
	v->source = strcmp(f[2], "-") == 0 ? NULL : f[2];
	for (unsigned i = 3; i < n; i++)
		v->argv[i - 3] = f[i];
	v->argv[n - 3] = NULL;
}

/* The directory of variant v in place of DIR, or back where it was. */
static void swap_dir(const struct variant *v, const char *dir)
{
	if (v->source && renameat2(AT_FDCWD, v->source, AT_FDCWD, dir, RENAME_EXCHANGE) != 0)
		die(v->source);
}

static _Noreturn void start(const struct variant *v)
{
	static char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	int null = open("/dev/null", O_WRONLY);

	/* Our stdout is the result: the variant's goes nowhere. */
	if (null < 0 || dup2(null, 1) != 1 || close(null) != 0)
		die("/dev/null");

	if (!v->root && (setgroups(0, NULL) != 0 || setresgid(v->gid, v->gid, v->gid) != 0 ||
			 setresuid(v->uid, v->uid, v->uid) != 0))
		die("dropping to the variant's uid");
	execve(v->argv[0], v->argv, envp);
	die(v->argv[0]);
}

int main(int argc, char **argv)
{
	static struct variant vs[MAX_VARIANTS];
	static char buf[MAX_VARIANTS][8192];
	unsigned rounds, nv = 0;
	double *ns, *tmp;
	int logfd = -1;

	if (argc != 4) {
		fprintf(stderr, "usage: launchbench ROUNDS DIR LOGSOCK < VARIANTS\n");
		return 2;
	}
	rounds = (unsigned)number(argv[1], 1, 1000000, "ROUNDS");
	if (geteuid() != 0) {
		fprintf(stderr, "launchbench: must be run by root\n");
		return 2;
	}
	while (nv < MAX_VARIANTS && fgets(buf[nv], sizeof(buf[nv]), stdin))
		parse(buf[nv], &vs[nv]), nv++;
	if (nv == 0 || !feof(stdin)) {
		fprintf(stderr, "launchbench: want 1-%d variants on stdin\n", MAX_VARIANTS);
		return 2;
	}
	if (access("/dev/log", F_OK) == 0) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		if (strlen(argv[3]) >= sizeof(un.sun_path))
			die("LOGSOCK too long");
		strcpy(un.sun_path, argv[3]);
		logfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (logfd < 0 || bind(logfd, (struct sockaddr *)&un, sizeof(un)) != 0 ||
		    mount(argv[3], "/dev/log", NULL, MS_BIND, NULL) != 0)
			die("a log socket over /dev/log");
	}
	ns = calloc((size_t)rounds * nv, sizeof(*ns));
	tmp = calloc(rounds, sizeof(*tmp));
	if (!ns || !tmp)
		die("calloc");

	for (unsigned r = 0; r <= rounds; r++)
		for (unsigned k = 0; k < nv; k++) {
			unsigned v = (r + k) % nv;
			uint64_t t0, t1;
			int status;
			pid_t pid;

			swap_dir(&vs[v], argv[2]);
			t0 = now_ns();
			if ((pid = fork()) < 0)
				die("fork");
			if (pid == 0)
				start(&vs[v]);
			if (waitpid(pid, &status, 0) != pid)
				die("waitpid");
			t1 = now_ns();
			swap_dir(&vs[v], argv[2]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "launchbench: variant %s failed (status %d): %s ...\n",
					vs[v].id, status, vs[v].argv[0]);
				return 1;
			}
			while (logfd >= 0 && recv(logfd, buf[0], 1, MSG_DONTWAIT) >= 0)
				;
			if (r > 0) /* round 0 warms up */
				ns[(size_t)(r - 1) * nv + v] = (double)(t1 - t0);
		}

	for (unsigned v = 0; v < nv; v++) {
		double med, q1, q3;
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = ns[(size_t)r * nv + v];
		med = quantile(tmp, rounds, 0.5);
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = ns[(size_t)r * nv + v] / ns[(size_t)r * nv];
		q1 = quantile(tmp, rounds, 0.25);
		q3 = quantile(tmp, rounds, 0.75);
		printf("%s\t%.0f\t%.3f\t%.3f\t%.3f\n", vs[v].id, med, quantile(tmp, rounds, 0.5), q1, q3);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
