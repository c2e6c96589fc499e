/* fds_move(), the production fd placement, against a model of the fd
 * table: any mix of open fds, sockets and the command fd anywhere above 2,
 * including in the target range and on each other's targets. Afterwards
 * exactly fds 0-2, the sockets (in order, without close-on-exec) and the
 * command fd (close-on-exec, just above) must be open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/portbind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFD 512
struct model {
	int id[NFD]; /* 0: closed */
	bool cloexec[NFD];
};

static int m_dup_above(void *ctx, int fd, int min)
{
	struct model *m = ctx;
	if (fd < 0 || fd >= NFD || !m->id[fd] || min < 0)
		return errno = EBADF, -1;
	for (int i = min; i < NFD; i++)
		if (!m->id[i]) {
			m->id[i] = m->id[fd];
			m->cloexec[i] = true;
			return i;
		}
	return errno = EMFILE, -1;
}

/* dup2(fd, fd) is a no-op that keeps close-on-exec; dup3(fd, fd) fails. */
static int m_dup_to(void *ctx, int fd, int to, bool cloexec)
{
	struct model *m = ctx;
	if (fd < 0 || fd >= NFD || !m->id[fd] || to < 0 || to >= NFD)
		return errno = EBADF, -1;
	if (fd == to)
		return cloexec ? (errno = EINVAL, -1) : to;
	m->id[to] = m->id[fd];
	m->cloexec[to] = cloexec;
	return to;
}

static int m_close_from(void *ctx, int from)
{
	struct model *m = ctx;
	for (int i = from; i < NFD; i++)
		m->id[i] = 0;
	return 0;
}

static int m_getfd(void *ctx, int fd)
{
	struct model *m = ctx;
	if (fd < 0 || fd >= NFD || !m->id[fd])
		return errno = EBADF, -1;
	return m->cloexec[fd] ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct fd_ops ops = { m_dup_above, m_dup_to, m_close_from, m_getfd, &m };
	int socks[MAX_SPECS], keep = -1, base, top;
	size_t n, p = 2;
	bool inetd;

	if (size < 2)
		return 0;
	memset(&m, 0, sizeof(m));
	m.id[0] = 1000, m.id[1] = 1001, m.id[2] = 1002;
	inetd = data[0] & 0x80;
	n = inetd ? 1 : (data[0] & 0x7f) % (MAX_SPECS + 1);
	/* Place each socket, then the command fd, at a free number 3..258. */
	for (size_t i = 0; i <= n; i++) {
		int fd = 3 + (p < size ? data[p++] : (int)i);
		while (m.id[fd])
			fd++;
		if (i == n) {
			if (!(data[1] & 1))
				break;
			keep = fd;
			m.id[fd] = 999;
		} else {
			socks[i] = fd;
			m.id[fd] = (int)i + 1;
		}
		m.cloexec[fd] = true;
	}
	/* Other open fds, some without close-on-exec. */
	for (; p + 1 < size; p += 2) {
		int fd = 3 + data[p];
		if (!m.id[fd]) {
			m.id[fd] = 2000 + fd;
			m.cloexec[fd] = data[p + 1] & 1;
		}
	}
	if (fds_move(&ops, socks, n, inetd, &keep) != 0)
		abort();
	base = inetd ? 0 : 3;
	top = inetd ? 3 : 3 + (int)n;
	for (int fd = 0; fd < NFD; fd++) {
		int want = fd < 3 ? 1000 + fd : 0;
		bool cloexec = false;
		if (fd >= base && fd < base + (int)n)
			want = fd - base + 1;
		else if (fd == top && keep >= 0)
			want = 999, cloexec = true;
		if (m.id[fd] != want || (want && fd >= 3 && m.cloexec[fd] != cloexec) ||
		    (want && fd >= base && fd < base + (int)n && m.cloexec[fd]))
			abort();
	}
	if (keep >= 0 && keep != top)
		abort();
	return 0;
}
