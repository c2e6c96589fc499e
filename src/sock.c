/* sock.c: create and bind one socket while privileged.
 * Entry and exit: euid 0 with CAP_NET_BIND_SERVICE; nothing else changes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
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

/* The command can take a handed TCP socket out of the listening state
 * (connect() to AF_UNSPEC, shutdown(SHUT_RD)); tcp_disconnect() keeps its
 * port, and before Linux 6.18 the next connect() leaves from that port
 * (__inet_hash_connect()), a privileged source port that rsh or NFS
 * "secure" exports trust. So every segment with SYN and ACK set is dropped
 * on arrival: no connection the socket (or one accepted from it, which
 * inherits the filter) starts can complete. Serving never sees a SYN-ACK.
 * Locked: the command can neither remove nor replace the filter. The
 * socket filter sees the TCP header at offset 0 (tcp_filter()). */
static void lock_syn_ack_filter(int fd, const struct spec *sp)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13), /* the TCP flags */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x12, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),          /* SYN and ACK: drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff), /* anything else: keep */
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	int one = 1, locked = 0;
	socklen_t len = sizeof(locked);
	char a[64];

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, &len) != 0)
		die(EXIT_SYSTEM, "locking the SYN-ACK filter on %s:%u/tcp: %s",
		    addr_str(&sp->addr, a, sizeof(a)), sp->port, strerror(errno));
	if (locked != 1)
		die(EXIT_SYSTEM, "locking the SYN-ACK filter on %s:%u/tcp: not locked",
		    addr_str(&sp->addr, a, sizeof(a)), sp->port);
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
	if (sp->proto == PROTO_TCP)
		lock_syn_ack_filter(fd, sp);
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
