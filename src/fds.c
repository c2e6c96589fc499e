/* fds.c: file descriptors on entry and before exec. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>
#include <unistd.h>

#include "portbind.h"

/* Entry: the caller chose which fds are open. A closed 0, 1 or 2 would make
 * the next open() land there (a table file on "stdout"), so something goes
 * there first. For a caller other than root the C library has done it
 * already, and made the fd unusable: /dev/full write-only on 0, /dev/null
 * read-only on 1 and 2. We do the same for root, so a closed fd stays closed
 * in effect for the command. Every fd above 2 is the caller's and is closed
 * before we open any. */
void fds_sanitize(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF ||
		    open(fd ? "/dev/null" : "/dev/full", (fd ? O_RDONLY : O_WRONLY) | O_NOCTTY) != fd)
			_exit(EXIT_SYSTEM); /* no stderr to speak on */
	}
	if (close_range(3, ~0U, 0) != 0)
		die(EXIT_SYSTEM, "close_range: %s", strerror(errno));
}

/* Put socks[i] on fd 3 + i (or socks[0] on fd 0 for inetd) without
 * close-on-exec, close everything else above 2, and keep `keep` (the pinned
 * command, or -1) close-on-exec just above the sockets. Returns keep's new
 * number. All sockets first go above the target range, so no dup2() is a
 * no-op that leaves close-on-exec set and none overwrites a socket that is
 * still to be moved (skalibs' fd_move2 problem). */
int fds_place(const int *socks, size_t n, bool inetd, int keep)
{
	unsigned base = inetd ? 0 : 3, top = inetd ? 3 : 3 + (unsigned)n;
	int tmp[MAX_SPECS];

	for (size_t i = 0; i < n; i++) {
		tmp[i] = fcntl(socks[i], F_DUPFD_CLOEXEC, (int)top + 1);
		if (tmp[i] < 0)
			die(EXIT_SYSTEM, "moving sockets: %s", strerror(errno));
	}
	if (keep >= 0 && keep != (int)top) {
		if (dup3(keep, (int)top, O_CLOEXEC) != (int)top)
			die(EXIT_SYSTEM, "moving the command fd: %s", strerror(errno));
		keep = (int)top;
	}
	for (size_t i = 0; i < n; i++)
		if (dup2(tmp[i], (int)(base + i)) != (int)(base + i))
			die(EXIT_SYSTEM, "moving sockets: %s", strerror(errno));
	if (close_range(keep >= 0 ? top + 1 : top, ~0U, 0) != 0)
		die(EXIT_SYSTEM, "close_range: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (fcntl((int)(base + i), F_GETFD) != 0)
			die(EXIT_SYSTEM, "socket fd %zu not in place", base + i);
	return keep;
}
