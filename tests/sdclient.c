/* sdclient: what a daemon linked against libsystemd receives.
 *
 * Asks sd_listen_fds_with_names(3) (unsetting the LISTEN_* variables, as a
 * daemon does) for the sockets it was handed, and prints one line each:
 *
 *   n=2
 *   fd=3 name=web type=stream family=inet6 addr=:: port=80
 *   fd=4 name=dns type=dgram family=inet addr=127.0.0.1 port=53
 *   open=3,4
 *
 * "open=" lists every descriptor from 3 up that is open, whatever the library
 * said: sockets that reach a process whose pid is not LISTEN_PID are still
 * open there, but sd_listen_fds() reports n=0 and the daemon ignores them.
 * Exit status 1 if the library reports an error or a socket is unreadable.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static const char *type_name(int type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	default: return "other";
	}
}

static const char *family_name(int family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_UNIX: return "unix";
	default: return "other";
	}
}

/* "type=... family=... addr=... port=..." for socket fd, 0 on success. */
static int describe(int fd, char *buf, size_t len)
{
	int type, family;
	socklen_t sl = sizeof(type);
	struct sockaddr_storage ss;
	char addr[INET6_ADDRSTRLEN] = "-";
	unsigned port = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0)
		return -1;
	sl = sizeof(family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &sl) != 0)
		return -1;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, len, "type=%s family=%s addr=%s port=%u", type_name(type),
		 family_name(family), addr, port);
	return 0;
}

/* Every open descriptor >= 3, in order, comma-separated ("-" if none). */
static void print_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], n = 0, self, i, j;
	struct dirent *e;

	if (!d) {
		printf("open=?\n");
		return;
	}
	self = dirfd(d);
	while ((e = readdir(d)) != NULL && n < 1024) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd < 3 || fd == self)
			continue;
		fds[n++] = (int)fd;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	printf("open=");
	for (i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", fds[i]);
	printf("%s\n", n ? "" : "-");
}

int main(void)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	int i, rc = 0;

	if (n < 0) {
		printf("error=%s\n", strerror(-n));
		return 1;
	}
	printf("n=%d\n", n);
	for (i = 0; i < n; i++) {
		char desc[160];
		int fd = SD_LISTEN_FDS_START + i;
		if (describe(fd, desc, sizeof(desc)) != 0) {
			snprintf(desc, sizeof(desc), "unreadable");
			rc = 1;
		}
		printf("fd=%d name=%s %s\n", fd, names && names[i] ? names[i] : "-", desc);
	}
	print_open();
	if (names) {
		for (i = 0; names[i]; i++)
			free(names[i]);
		free(names);
	}
	return rc;
}
