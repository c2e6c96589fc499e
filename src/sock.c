/* sock.c: create and bind one socket while privileged.
 * Entry and exit: euid 0 with CAP_NET_BIND_SERVICE; nothing else changes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portbind.h"

static void setopt(int fd, int level, int name, int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) != 0)
		die(EXIT_SYSTEM, "setsockopt %s: %s", what, strerror(errno));
}

static int try_bind(const struct spec *sp, int family, uid_t owner, bool reuseport, int *err)
{
	int type = sp->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	memset(&u, 0, sizeof(u));
	if (family == AF_INET6) {
		/* No ADDRESS means both stacks, as systemd's ListenStream=80;
		 * an explicit [::] means IPv6 only. */
		setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, sp->addr.family == AF_INET6, "IPV6_V6ONLY");
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons(sp->port);
		memcpy(&u.in6.sin6_addr, sp->addr.bytes, 16);
		len = sizeof(u.in6);
	} else {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons(sp->port);
		memcpy(&u.in.sin_addr, sp->addr.bytes, 4); /* zero for the wildcard */
		len = sizeof(u.in);
	}
	if (sp->proto == PROTO_TCP)
		setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (reuseport)
		setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	/* The socket belongs to the target (ss -e, /proc/net/tcp, eBPF
	 * policies keyed on sk_uid), not to root. */
	if (fchown(fd, owner, (gid_t)-1) != 0)
		die(EXIT_SYSTEM, "fchown socket: %s", strerror(errno));
	if (bind(fd, &u.sa, len) != 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns a bound (and for TCP listening) close-on-exec socket, or exits:
 * the sockets bound before it close with us, so nothing stays bound. */
int sock_bind(const struct spec *sp, uid_t owner, int backlog, bool reuseport)
{
	char a[64];
	int err = 0;
	int fd = try_bind(sp, sp->addr.family ? sp->addr.family : AF_INET6, owner, reuseport, &err);

	/* IPv6 unavailable (ipv6.disable=1, or no IPv6 address at all): the
	 * wildcard falls back to 0.0.0.0, as systemd does. */
	if (fd < 0 && sp->addr.family == 0 && (err == EAFNOSUPPORT || err == EADDRNOTAVAIL))
		fd = try_bind(sp, AF_INET, owner, reuseport, &err);
	if (fd < 0 && err != EADDRINUSE && err != EADDRNOTAVAIL && err != EACCES && err != EPERM)
		die(EXIT_SYSTEM, "socket for %s:%u/%s: %s", addr_str(&sp->addr, a, sizeof(a)),
		    sp->port, proto_str(sp->proto), strerror(err));
	if (fd < 0)
		die(EXIT_BIND, "bind %s:%u/%s: %s", addr_str(&sp->addr, a, sizeof(a)), sp->port,
		    proto_str(sp->proto), strerror(err));
	/* A bound TCP socket that is not listening could serve as a privileged
	 * source port for outgoing connections: hand it over listening only. */
	if (sp->proto == PROTO_TCP && listen(fd, backlog) != 0)
		die(errno == EADDRINUSE ? EXIT_BIND : EXIT_SYSTEM, "listen %s:%u/tcp: %s",
		    addr_str(&sp->addr, a, sizeof(a)), sp->port, strerror(errno));
	return fd;
}

/* net.ipv4.ip_unprivileged_port_start of our network namespace, read now:
 * an unreadable value is an error, never a default. */
unsigned unpriv_port_start(void)
{
	char buf[16];
	int fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start",
		      O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	uint32_t v;

	if (fd < 0)
		die(EXIT_SYSTEM, "ip_unprivileged_port_start: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 2 || buf[n - 1] != '\n' || !parse_num(buf, (size_t)n - 1, 0, 65536, &v))
		die(EXIT_SYSTEM, "ip_unprivileged_port_start: unreadable value");
	return v;
}
