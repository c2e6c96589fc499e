/*
 * netprobe - test command for --restrict-net: tries each network action
 * named on its command line, in order, and reports each as one line
 * ACTION=ok or ACTION=ERRNO (e.g. EACCES), then exits 0.
 * Addresses are 127.0.0.1; waits are bounded (2 s).
 *
 *   bind-tcp:PORT     bind a new TCP socket to PORT and listen
 *   bind-udp:PORT     bind a new UDP socket to PORT
 *   listen-tcp        listen on a new, unbound TCP socket (the kernel picks a port)
 *   socket:FAMILY     create a socket: inet, inet6, packet, netlink, unix, and
 *                     inet-hibits (AF_INET with bits set above the int's 32)
 *   connect-tcp:PORT  connect over TCP to PORT
 *   udp:PORT          send a datagram from a new UDP socket to PORT, await the echo
 *   udp-handed:PORT   the same from the handed UDP socket on fd 4
 *   unix:PATH         connect to the named unix stream socket PATH
 *   abstract:NAME     connect to the abstract unix stream socket @NAME
 *   abstract-self:NAME  listen on @NAME itself, then connect to it
 *   uring             io_uring_setup
 *   accept:FD         accept one connection on FD, send "hello\n", close it
 *
 * netprobe --abi prints abi=N, the Landlock ABI of this kernel (0: none).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <linux/landlock.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_in loopback(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* -1 with errno set, or 0. */
static int in_socket(int type, const char *port, int (*op)(int, const struct sockaddr *, socklen_t))
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, type, 0), rc;

	if (fd < 0)
		return -1;
	rc = op(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc == 0 && type == SOCK_STREAM && op == bind)
		rc = listen(fd, 1);
	close(fd);
	return rc;
}

static int udp_echo(int fd, const char *port)
{
	struct sockaddr_in a = loopback(port);
	struct timeval tv = { .tv_sec = 2 };
	char buf[16];

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4 ||
	    recv(fd, buf, sizeof(buf), 0) < 0)
		return -1;
	return 0;
}

static int unix_connect(const char *name, int abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	if (fd < 0 || n + 2 > sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path + abstract, name, n);
	rc = connect(fd, (struct sockaddr *)&a,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (size_t)abstract));
	close(fd);
	return rc;
}

static int abstract_self(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	if (fd < 0 || n + 2 > sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path + 1, name, n);
	if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1)) != 0 ||
	    listen(fd, 1) != 0)
		return -1;
	rc = unix_connect(name, 1);
	close(fd);
	return rc;
}

static int make_socket(const char *family)
{
	int fd;

	if (strcmp(family, "inet") == 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(family, "inet6") == 0)
		fd = socket(AF_INET6, SOCK_STREAM, 0);
	else if (strcmp(family, "packet") == 0)
		fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	else if (strcmp(family, "netlink") == 0)
		fd = socket(AF_NETLINK, SOCK_RAW, 0);
	else if (strcmp(family, "unix") == 0)
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(family, "inet-hibits") == 0)
		fd = (int)syscall(SYS_socket, 0x100000000L | AF_INET, SOCK_STREAM, 0);
	else
		return errno = EINVAL, -1;
	return fd < 0 ? -1 : close(fd);
}

static int accept_one(int fd)
{
	int c = accept(fd, NULL, NULL);

	if (c < 0)
		return -1;
	if (write(c, "hello\n", 6) != 6)
		return -1;
	return close(c);
}

static int uring(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(SYS_io_uring_setup, 1, &p);
	return fd < 0 ? -1 : close(fd);
}

static int act(const char *a)
{
	const char *colon = strchr(a, ':'), *arg = colon ? colon + 1 : "";
	size_t n = colon ? (size_t)(colon - a) : strlen(a);

#define IS(s) (n == strlen(s) && strncmp(a, s, n) == 0)
	if (IS("bind-tcp"))
		return in_socket(SOCK_STREAM, arg, bind);
	if (IS("bind-udp"))
		return in_socket(SOCK_DGRAM, arg, bind);
	if (IS("connect-tcp"))
		return in_socket(SOCK_STREAM, arg, connect);
	if (IS("listen-tcp")) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		return fd < 0 ? -1 : listen(fd, 1) != 0 ? -1 : close(fd);
	}
	if (IS("udp"))
		return udp_echo(socket(AF_INET, SOCK_DGRAM, 0), arg);
	if (IS("udp-handed"))
		return udp_echo(4, arg);
	if (IS("socket"))
		return make_socket(arg);
	if (IS("unix"))
		return unix_connect(arg, 0);
	if (IS("abstract"))
		return unix_connect(arg, 1);
	if (IS("abstract-self"))
		return abstract_self(arg);
	if (IS("uring"))
		return uring();
	if (IS("accept"))
		return accept_one(atoi(arg));
	fprintf(stderr, "netprobe: unknown action %s\n", a);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--abi") == 0) {
		long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
				 LANDLOCK_CREATE_RULESET_VERSION);
		printf("abi=%ld\n", v < 0 ? 0 : v);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		int rc = act(argv[i]);
		const char *name = rc == 0 ? "ok" : strerrorname_np(errno);
		printf("%s=%s\n", argv[i], name ? name : "?");
		fflush(stdout);
	}
	return 0;
}
