/*
 * binder - bind() the way a daemon does, for the guard tests.
 *
 *   binder PROTO ADDR PORT   one bind; prints "ok" or the errno name
 *   binder batch             one bind per stdin line "PROTO ADDR PORT"
 *   binder resv              bindresvport(3) on a TCP socket: the port
 *   binder zero PROTO        bind(0) on 0.0.0.0: the port the kernel chose
 *   binder auto              connect() of an unbound UDP socket to
 *                            127.0.0.1:9 (autobind): the port chosen
 *
 * ADDR: an IPv4 literal; an IPv6 literal (IPV6_V6ONLY on, unless it is
 * v4-mapped); "dual" for [::] with IPV6_V6ONLY off, as a dual-stack
 * daemon binds. Exit 0 when every bind succeeded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc's, which portmap and rpcbind's ancestors call; its header went
 * with glibc's sunrpc headers, the function stayed. */
int bindresvport(int fd, struct sockaddr_in *sin);

static int one(const char *proto, const char *addr, int port)
{
	int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int v6 = strchr(addr, ':') || strcmp(addr, "dual") == 0, fd, rc, off = 0, on = 1;

	fd = socket(v6 ? AF_INET6 : AF_INET, type, 0);
	if (fd < 0) {
		printf("socket: %s\n", strerror(errno));
		return 1;
	}
	if (v6 && strcmp(addr, "dual") != 0 && inet_pton(AF_INET6, addr, &in6.sin6_addr) != 1)
		return printf("bad address %s\n", addr), 1;
	if (!v6 && inet_pton(AF_INET, addr, &in.sin_addr) != 1)
		return printf("bad address %s\n", addr), 1;
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
			     (strcmp(addr, "dual") == 0 || IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) ? &off : &on,
			     sizeof(int)) != 0)
		return printf("IPV6_V6ONLY: %s\n", strerror(errno)), 1;
	rc = v6 ? bind(fd, (struct sockaddr *)&in6, sizeof(in6))
		: bind(fd, (struct sockaddr *)&in, sizeof(in));
	printf("%s\n", rc == 0 ? "ok" : strerrorname_np(errno));
	close(fd);
	return rc != 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	char proto[8], addr[64];
	int port, fd, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4)
		return one(argv[1], argv[2], atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "batch") == 0) {
		while (scanf("%7s %63s %d", proto, addr, &port) == 3)
			bad |= one(proto, addr, port);
		return bad;
	}
	if (argc == 2 && strcmp(argv[1], "resv") == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || bindresvport(fd, NULL) != 0)
			return printf("%s\n", strerrorname_np(errno)), 1;
	} else if (argc == 3 && strcmp(argv[1], "zero") == 0) {
		struct sockaddr_in any = { .sin_family = AF_INET };
		fd = socket(AF_INET, strcmp(argv[2], "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0)
			return printf("%s\n", strerrorname_np(errno)), 1;
	} else if (argc == 2 && strcmp(argv[1], "auto") == 0) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
			return printf("%s\n", strerrorname_np(errno)), 1;
	} else {
		fputs("usage: binder PROTO ADDR PORT | batch | resv | zero PROTO | auto\n", stderr);
		return 2;
	}
	if (getsockname(fd, (struct sockaddr *)&in, &len) != 0)
		return printf("getsockname: %s\n", strerror(errno)), 1;
	printf("%u\n", ntohs(in.sin_port));
	return 0;
}
