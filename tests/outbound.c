/*
 * outbound - tries to make an outgoing TCP connection from a socket that
 * portbind handed over listening, in every way an unprivileged command can.
 *
 *   outbound FD PORT         attempts on the listening socket FD, each to
 *                            loopback PORT, then one control connection
 *                            from a fresh socket of the command's own
 *   outbound --record PORT SECONDS
 *                            listens on [::]:PORT (IPv4 and IPv6) and prints
 *                            the source of every connection that arrives,
 *                            for at most SECONDS
 *
 * Prints key=value lines: try.NAME=RESULT per attempt, where RESULT is the
 * errno name of the call that refused, "connected" (an outgoing connection
 * from the socket's port was made) or "pending" (still connecting after the
 * timeout); step.NAME=RESULT for a call that prepares an attempt.  Before
 * each attempt the socket is put back to listening on its port.  Every wait
 * is bounded by SO_SNDTIMEO or poll().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 2000

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static int fd, family, v6only;
static unsigned short dport, sport;
static union addr self; /* the handed socket's own address */

static void die(const char *what)
{
	fprintf(stderr, "outbound: %s: %s\n", what, strerror(errno));
	exit(2);
}

static const char *err(int rc)
{
	return rc == 0 ? "ok" : strerrorname_np(errno);
}

static unsigned short port_of(const union addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

/* Loopback PORT in the handed socket's family; mapped: ::ffff:127.0.0.1. */
static socklen_t target(union addr *a, int fam, int mapped)
{
	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(dport);
		a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(a->in);
	}
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_port = htons(dport);
	inet_pton(AF_INET6, mapped ? "::ffff:127.0.0.1" : "::1", &a->in6.sin6_addr);
	return sizeof(a->in6);
}

/* The outcome of a connect() or sendto() that did not fail at once. */
static const char *outcome(int s, int rc)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int e = 0;
	socklen_t l = sizeof(e);

	if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN)
		return strerrorname_np(errno);
	if (poll(&p, 1, WAIT_MS) == 0)
		return "pending";
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
		die("SO_ERROR");
	return e ? strerrorname_np(e) : "connected";
}

static const char *try_connect(int s, int mapped)
{
	union addr a;
	socklen_t l = target(&a, family, mapped);

	return outcome(s, connect(s, &a.sa, l));
}

static const char *try_fastopen(int s)
{
	union addr a;
	socklen_t l = target(&a, family, 0);

	return outcome(s, (int)sendto(s, "x", 1, MSG_FASTOPEN, &a.sa, l) < 0 ? -1 : 0);
}

/* With TCP_FASTOPEN_CONNECT, connect() only records the address: the SYN
 * leaves with the first write. */
static const char *try_fastopen_connect(int s)
{
	union addr a;
	socklen_t l = target(&a, family, 0);

	if (connect(s, &a.sa, l) != 0)
		return outcome(s, -1);
	return outcome(s, write(s, "x", 1) < 0 ? -1 : 0);
}

static int disconnect(int s)
{
	struct sockaddr u = { .sa_family = AF_UNSPEC };

	return connect(s, &u, sizeof(u));
}

/* Back to listening on the privileged port, without the TCP Fast Open
 * options an attempt set (only a closed socket can clear them), or the test
 * cannot go on. */
static void relisten(const char *after)
{
	union addr a;
	socklen_t l = sizeof(a);
	int on = 0, zero = 0;
	socklen_t ol = sizeof(on);

	disconnect(fd);
	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &zero, sizeof(zero)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, &zero, sizeof(zero)) != 0 ||
	    listen(fd, 16) != 0 || getsockname(fd, &a.sa, &l) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) != 0)
		die(after);
	if (!on || port_of(&a) != sport) {
		fprintf(stderr, "outbound: after %s: listening=%d port=%u\n", after, on, port_of(&a));
		exit(2);
	}
}

static void report(const char *name, const char *result)
{
	printf("try.%s=%s\n", name, result);
	fflush(stdout);
	relisten(name);
}

/* A new socket of the command's own, with OPT set, bound to the handed
 * socket's address and port: the privileged-port check of bind() applies. */
static const char *bind_beside(int opt)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	socklen_t l = family == AF_INET ? sizeof(self.in) : sizeof(self.in6);
	const char *r;

	if (s < 0)
		die("socket");
	if (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		die("IPV6_V6ONLY");
	if (setsockopt(s, SOL_SOCKET, opt, &one, sizeof(one)) != 0)
		die("setsockopt");
	r = err(bind(s, &self.sa, l));
	close(s);
	return r;
}

static void attempts(void)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	int one = 1, d;
	char buf[64];

	/* Blocking calls wait at most WAIT_MS. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		die("SO_SNDTIMEO");

	{
		/* portbind's locked SYN-ACK filter: neither removed nor replaced. */
		struct sock_filter keep = BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
		struct sock_fprog prog = { 1, &keep };
		int zero = 0;
		printf("try.filter_detach=%s\n", err(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero))));
		printf("try.filter_replace=%s\n", err(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))));
		printf("try.filter_unlock=%s\n", err(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &zero, sizeof(zero))));
	}
	report("listening.connect", try_connect(fd, 0));
	report("listening.sendto_fastopen", try_fastopen(fd));

	printf("step.unspec=%s\n", err(disconnect(fd)));
	report("unspec.connect", try_connect(fd, 0));
	disconnect(fd);
	report("unspec.sendto_fastopen", try_fastopen(fd));
	disconnect(fd);
	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, &one, sizeof(one)) != 0)
		die("TCP_FASTOPEN_NO_COOKIE");
	report("unspec.sendto_fastopen_nocookie", try_fastopen(fd));
	disconnect(fd);
	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)) != 0)
		die("TCP_FASTOPEN_CONNECT");
	report("unspec.fastopen_connect", try_fastopen_connect(fd));
	if (family == AF_INET6 && !v6only) {
		disconnect(fd);
		report("unspec.connect_v4mapped", try_connect(fd, 1));
	}

	printf("step.shutdown_rd=%s\n", err(shutdown(fd, SHUT_RD)));
	report("shutdown_rd.connect", try_connect(fd, 0));
	printf("step.shutdown_rdwr=%s\n", err(shutdown(fd, SHUT_RDWR)));
	report("shutdown_rdwr.connect", try_connect(fd, 0));
	printf("step.shutdown_wr=%s\n", err(shutdown(fd, SHUT_WR)));
	report("shutdown_wr.connect", try_connect(fd, 0));

	/* The same socket through another descriptor. */
	d = dup(fd);
	if (d < 0)
		die("dup");
	printf("step.dup_unspec=%s\n", err(disconnect(d)));
	snprintf(buf, sizeof(buf), "%s", try_connect(fd, 0));
	close(d);
	report("dup.connect", buf);

	disconnect(fd);
	printf("step.relisten=%s\n", err(listen(fd, 16)));
	report("relisten.connect", try_connect(fd, 0));

	/* A second bind() to another port, to leave the privileged one. */
	disconnect(fd);
	{
		union addr any = self;
		socklen_t l = family == AF_INET ? sizeof(any.in) : sizeof(any.in6);

		if (family == AF_INET)
			any.in.sin_port = 0;
		else
			any.in6.sin6_port = 0;
		printf("step.rebind=%s\n", err(bind(fd, &any.sa, l)));
	}
	report("rebind.connect", try_connect(fd, 0));

	/* TCP_REPAIR would let the command place a connection by hand. */
	report("repair", err(setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one))));

	/* SO_REUSEADDR / SO_REUSEPORT: a socket of the command's own on the port. */
	printf("step.reuseport=%s\n", err(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))));
	report("reuseport.bind", bind_beside(SO_REUSEPORT));
	report("reuseaddr.bind", bind_beside(SO_REUSEADDR));
}

/* A connection from a fresh socket: shows the recorder hears what arrives. */
static void control(void)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	union addr a;
	socklen_t l = sizeof(a);
	const char *r;

	if (s < 0)
		die("socket");
	r = try_connect(s, 0);
	if (getsockname(s, &a.sa, &l) != 0)
		die("getsockname");
	printf("control=%s sport=%u\n", r, port_of(&a));
	fflush(stdout);
	close(s);
}

static int record(const char *port, const char *seconds)
{
	int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0, one = 1;
	union addr a = { .in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT } };
	socklen_t al = sizeof(a.in6);
	time_t end = time(NULL) + atoi(seconds);

	a.in6.sin6_port = htons((unsigned short)atoi(port));
	if (l < 0 && errno == EAFNOSUPPORT) { /* a kernel without IPv6 */
		l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		a.in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = a.in6.sin6_port };
		al = sizeof(a.in);
	} else if (l >= 0 && setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) {
		die("record: IPV6_V6ONLY");
	}
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(l, &a.sa, al) != 0 || listen(l, 64) != 0)
		die("record: listen");
	while (time(NULL) < end) {
		struct pollfd p = { .fd = l, .events = POLLIN };
		char host[INET6_ADDRSTRLEN];
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		al = sizeof(a);
		c = accept4(l, &a.sa, &al, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		printf("from=%s port=%u\n",
		       inet_ntop(a.sa.sa_family, a.sa.sa_family == AF_INET6 ? (void *)&a.in6.sin6_addr
									   : (void *)&a.in.sin_addr,
				 host, sizeof(host)),
		       port_of(&a));
		fflush(stdout);
		close(c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	socklen_t l = sizeof(self);
	int type = 0;
	socklen_t tl = sizeof(type), vl = sizeof(v6only);

	if (argc == 4 && strcmp(argv[1], "--record") == 0)
		return record(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: outbound FD PORT | outbound --record PORT SECONDS\n");
		return 2;
	}
	fd = atoi(argv[1]);
	dport = (unsigned short)atoi(argv[2]);
	if (getsockname(fd, &self.sa, &l) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0)
		die("fd");
	family = self.sa.sa_family;
	sport = port_of(&self);
	if (type != SOCK_STREAM || (family != AF_INET && family != AF_INET6)) {
		fprintf(stderr, "outbound: fd %d is not a TCP socket\n", fd);
		return 2;
	}
	if (family == AF_INET6 && getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &vl) != 0)
		die("IPV6_V6ONLY");
	printf("uid=%u\nsocket=%s v6only=%s port=%u\n", (unsigned)getuid(),
	       family == AF_INET ? "inet" : "inet6", family == AF_INET ? "-" : v6only ? "1" : "0",
	       sport);
	attempts();
	control();
	return 0;
}
