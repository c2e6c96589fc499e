/* fds.c: file descriptors on entry and before exec. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "portbind.h"

/* Entry: the caller chose which fds are open. A closed 0, 1 or 2 would make
 * the next open() land there (a table file on "stdout"), so something goes
 * there first. In a secure-mode start (AT_SECURE: a caller other than
 * root) the C library has done it already, before main(), and made the fd
 * unusable: /dev/full write-only on 0, /dev/null read-only on 1 and 2. We
 * do the same when it has not (root), so a closed fd stays closed in effect
 * for the command. Every fd above 2 is the caller's and is closed before
 * we open any. */
void fds_sanitize(void)
{
	for (int fd = 0; fd <= 2 && !getauxval(AT_SECURE); fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		/* A message to a closed fd 2 goes nowhere, harmlessly. */
		if (errno != EBADF)
			die(EXIT_SYSTEM, "fd %d: %s", fd, strerror(errno));
		if (open(fd ? "/dev/null" : "/dev/full", (fd ? O_RDONLY : O_WRONLY) | O_NOCTTY) != fd)
			die(EXIT_SYSTEM, "cannot open a placeholder on fd %d", fd);
	}
	if (close_range(3, ~0U, 0) != 0)
		die(EXIT_SYSTEM, "close_range: %s", strerror(errno));
}

/* Put socks[i] on fd 3 + i (or socks[0] on fd 0 for inetd) without
 * close-on-exec, close everything else above 2, and keep *keep (the pinned
 * command, or -1) close-on-exec just above the sockets. All sockets first go
 * above the target range, so no dup2() is a no-op that leaves close-on-exec
 * set and none overwrites a socket that is still to be moved (skalibs'
 * fd_move2 problem). The fd calls come through `ops`, so the fuzzer runs
 * this very function against a model of the fd table. Returns 0, or -1
 * with errno set. */
int fds_move(const struct fd_ops *ops, const int *socks, size_t n, bool inetd, int *keep)
{
	int base = inetd ? 0 : 3, top = inetd ? 3 : 3 + (int)n;
	int tmp[MAX_SPECS];

	if (n > MAX_SPECS || (inetd && n != 1)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((tmp[i] = ops->dup_above(ops->ctx, socks[i], top + 1)) <= top)
			return -1;
	if (*keep >= 0 && *keep != top) {
		if (ops->dup_to(ops->ctx, *keep, top, true) != top)
			return -1;
		*keep = top;
	}
	for (size_t i = 0; i < n; i++)
		if (ops->dup_to(ops->ctx, tmp[i], base + (int)i, false) != base + (int)i)
			return -1;
	if (ops->close_from(ops->ctx, *keep >= 0 ? top + 1 : top) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (ops->getfd(ops->ctx, base + (int)i) != 0) {
			errno = EBADF;
			return -1;
		}
	return 0;
}

static int sys_dup_above(void *ctx, int fd, int min)
{
	(void)ctx;
	return fcntl(fd, F_DUPFD_CLOEXEC, min);
}

static int sys_dup_to(void *ctx, int fd, int to, bool cloexec)
{
	(void)ctx;
	return cloexec ? dup3(fd, to, O_CLOEXEC) : dup2(fd, to);
}

static int sys_close_from(void *ctx, int from)
{
	(void)ctx;
	return close_range((unsigned)from, ~0U, 0);
}

static int sys_getfd(void *ctx, int fd)
{
	(void)ctx;
	return fcntl(fd, F_GETFD);
}

/* Returns keep's new number. */
int fds_place(const int *socks, size_t n, bool inetd, int keep)
{
	static const struct fd_ops sys = { sys_dup_above, sys_dup_to, sys_close_from, sys_getfd,
					   NULL };

	if (fds_move(&sys, socks, n, inetd, &keep) != 0)
		die(EXIT_SYSTEM, "moving the sockets into place: %s", strerror(errno));
	return keep;
}
