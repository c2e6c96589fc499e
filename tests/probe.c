/*
 * probe - test command run through portbind.
 *
 * Reports what it received (identity, capabilities, process flags,
 * environment, open file descriptors) on stdout, one fact per line as
 * key=value, then exits 0.  Needs nothing beyond libc.
 *
 * Options:
 *   --serve-once  after reporting, serve one client on each passed socket
 *                 (fds 3..3+LISTEN_FDS-1, or fd 0 with --inetd)
 *   --inetd       the socket is on fd 0
 *   --sleep N     sleep N seconds before exiting
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 4096

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return (x > y) - (x < y);
}

/* Collect open fds (without the one used to read the directory), sorted. */
static int list_fds(int *fds)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v;

		if (e->d_name[0] == '.')
			continue;
		v = strtol(e->d_name, &end, 10);
		if (*end != '\0' || v < 0 || v > INT_MAX || (int)v == dirfd(d))
			continue;
		if (n == MAX_FDS) {
			fprintf(stderr, "probe: too many open fds\n");
			exit(1);
		}
		fds[n++] = (int)v;
	}
	closedir(d);
	qsort(fds, n, sizeof(*fds), cmp_int);
	return n;
}

static void print_groups(void)
{
	static gid_t g[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, g);

	if (n < 0)
		die("getgroups");
	qsort(g, n, sizeof(*g), cmp_gid);
	printf("groups=");
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", (unsigned)g[i]);
	printf("\n");
}

/* Masks are copied as the kernel prints them in /proc/self/status. */
static void print_caps(void)
{
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd" };
	static const char *const names[] = { "inh", "prm", "eff", "amb", "bnd" };
	char line[256], key[32], value[32], hex[5][32];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		die("open /proc/self/status");
	for (int i = 0; i < 5; i++)
		strcpy(hex[i], "<missing>");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31[^:]: %31[0-9a-fA-F]", key, value) != 2)
			continue;
		for (int i = 0; i < 5; i++)
			if (strcmp(key, keys[i]) == 0)
				strcpy(hex[i], value);
	}
	fclose(f);
	for (int i = 0; i < 5; i++)
		printf("cap_%s=%s\n", names[i], hex[i]);
}

static void print_env(const char *name)
{
	const char *v = getenv(name);

	printf("env.%s=%s\n", name, v ? v : "<unset>");
}

static int sockopt(int fd, int level, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, opt, &v, &len) < 0)
		return -1;
	return v;
}

static int cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags < 0 ? -1 : (flags & FD_CLOEXEC) != 0;
}

static void print_socket(int fd, const struct stat *st)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[128] = "-";	/* >= INET6_ADDRSTRLEN and sun_path + "@" */
	char port[16] = "-", v6only[8] = "-";
	const char *family = "other", *type = "other";
	int t = sockopt(fd, SOL_SOCKET, SO_TYPE);

	if (t == SOCK_STREAM)
		type = "stream";
	else if (t == SOCK_DGRAM)
		type = "dgram";
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		strcpy(addr, "error");
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		family = "inet";
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(port, sizeof(port), "%u", ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		family = "inet6";
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(port, sizeof(port), "%u", ntohs(sin6->sin6_port));
		snprintf(v6only, sizeof(v6only), "%d",
			 sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY));
	} else if (ss.ss_family == AF_UNIX) {
		/* path, "@name" if abstract, "-" if unnamed */
		const char *path = ((struct sockaddr_un *)&ss)->sun_path;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		int plen = len > off ? (int)(len - off) : 0;

		family = "unix";
		if (plen > 1 && path[0] == '\0')
			snprintf(addr, sizeof(addr), "@%.*s", plen - 1, path + 1);
		else if (plen > 0)
			snprintf(addr, sizeof(addr), "%.*s", (int)strnlen(path, plen), path);
	}
	printf("fd.%d=socket cloexec=%d type=%s family=%s addr=%s port=%s listening=%d v6only=%s owner=%u\n",
	       fd, cloexec(fd), type, family, addr, port,
	       sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN) > 0, v6only, (unsigned)st->st_uid);
}

static void print_fd(int fd)
{
	struct stat st;
	char link[64], path[PATH_MAX];
	const char *kind = "other";
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		printf("fd.%d=error\n", fd);
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		print_socket(fd, &st);
		return;
	}
	if (S_ISREG(st.st_mode))
		kind = "file";
	else if (S_ISDIR(st.st_mode))
		kind = "dir";
	else if (S_ISCHR(st.st_mode))
		kind = "chr";
	else if (S_ISFIFO(st.st_mode))
		kind = "fifo";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		strcpy(path, "?");
	else
		path[n] = '\0';
	printf("fd.%d=%s cloexec=%d path=%s\n", fd, kind, cloexec(fd), path);
}

/* Serve one client on a passed socket; reports served.N=... */
static void serve(int fd, uid_t ruid)
{
	char msg[64], buf[2048];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int len = snprintf(msg, sizeof(msg), "hello from probe uid=%u\n", (unsigned)ruid);
	int type = sockopt(fd, SOL_SOCKET, SO_TYPE);

	if (type == SOCK_STREAM && sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN) > 0) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			die("accept");
		if (write(c, msg, len) != len)
			die("write");
		if (close(c) < 0)
			die("close");
		printf("served.%d=stream\n", fd);
	} else if (type == SOCK_DGRAM) {
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen) < 0)
			die("recvfrom");
		if (sendto(fd, msg, len, 0, (struct sockaddr *)&peer, plen) != len)
			die("sendto");
		printf("served.%d=dgram\n", fd);
	} else {
		printf("served.%d=skipped\n", fd);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static int fds[MAX_FDS];
	int nfds, serve_once = 0, inetd = 0, fd, envc = 0;
	long sleep_s = 0;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--serve-once") == 0) {
			serve_once = 1;
		} else if (strcmp(argv[i], "--inetd") == 0) {
			inetd = 1;
		} else if (strcmp(argv[i], "--sleep") == 0 && i + 1 < argc) {
			char *end;

			sleep_s = strtol(argv[++i], &end, 10);
			if (*end != '\0' || sleep_s < 0) {
				fprintf(stderr, "probe: bad --sleep value\n");
				return 2;
			}
		} else {
			fprintf(stderr, "probe: unknown argument: %s\n", argv[i]);
			return 2;
		}
	}

	/* First, before this program opens anything itself. */
	nfds = list_fds(fds);

	if (getresuid(&ru, &eu, &su) < 0)
		die("getresuid");
	if (getresgid(&rg, &eg, &sg) < 0)
		die("getresgid");
	printf("uid=%u,%u,%u\n", (unsigned)ru, (unsigned)eu, (unsigned)su);
	printf("gid=%u,%u,%u\n", (unsigned)rg, (unsigned)eg, (unsigned)sg);
	print_groups();
	print_caps();
	printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	printf("pid=%ld\n", (long)getpid());
	printf("setuid0=%s\n", setuid(0) == 0 ? "ok" : "fail");

	print_env("LISTEN_FDS");
	print_env("LISTEN_PID");
	print_env("LISTEN_FDNAMES");
	print_env("LISTEN_PIDFDID");
	print_env("LD_PRELOAD");
	print_env("LD_LIBRARY_PATH");
	print_env("GLIBC_TUNABLES");
	for (char **e = environ; e && *e; e++)
		envc++;
	printf("env.count=%d\n", envc);

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	printf("ctty=%s\n", fd >= 0 ? "yes" : "no");
	if (fd >= 0 && close(fd) < 0)
		die("close /dev/tty");

	for (int i = 0; i < nfds; i++)
		print_fd(fds[i]);
	printf("fds=");
	for (int i = 0; i < nfds; i++)
		printf("%s%d", i ? "," : "", fds[i]);
	printf("\n");
	if (fflush(stdout) != 0)
		die("stdout");

	if (serve_once) {
		if (inetd) {
			serve(0, ru);
		} else {
			const char *s = getenv("LISTEN_FDS");
			int n = s ? atoi(s) : 0;

			for (int i = 0; i < n; i++)
				serve(3 + i, ru);
		}
	}
	if (sleep_s > 0)
		sleep((unsigned)sleep_s);
	return 0;
}
