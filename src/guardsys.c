/* guardsys.c: where portbind-guard applies and what it changes besides
 * its maps: the cgroup2 root, this network namespace, the installed
 * portbind whose binds are judged on its caller's identity, and
 * ip_local_reserved_ports. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guardtool.h"
#include "portbind.h"

/* ---- where: cgroup2, network namespace, portbind ---- */

/* The first cgroup2 mount in /proc/self/mountinfo: /sys/fs/cgroup on a
 * unified layout, /sys/fs/cgroup/unified on a hybrid one. */
char *cgroup2_root(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], *found = NULL;

	if (!f)
		die(EXIT_SYSTEM, "/proc/self/mountinfo: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - "), *field[5], *save = NULL, *p = line;
		int n = 0;
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		while (n < 5 && (field[n] = strtok_r(p, " ", &save)))
			n++, p = NULL;
		if (n == 5)
			found = strdup(field[4]);
		if (n == 5 && !found)
			die(EXIT_SYSTEM, "out of memory");
	}
	fclose(f);
	if (!found)
		die(EXIT_KERNEL, "no cgroup2 hierarchy is mounted");
	/* mountinfo escapes blanks as \040: decode in place. */
	for (char *r = found, *w = found;; r++, w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
			*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else if (!(*w = *r)) {
			break;
		}
	}
	return found;
}

__u64 this_netns(void)
{
	__u64 cookie = netns_cookie();

	if (!cookie)
		die(EXIT_KERNEL, "network namespace cookie: %s", strerror(errno));
	return cookie;
}
/* The installed portbind: root's alone like a pinned program, or a user
 * could make another file the exemption. Missing: no exemption. */
void portbind_inode(const struct opts *o, struct guard_conf *conf, bool warn)
{
	struct stat st;

	if (stat(o->portbind, &st) != 0) {
		if (errno != ENOENT)
			die(EXIT_SYSTEM, "%s: %s", o->portbind, strerror(errno));
		if (warn)
				fprintf(stderr, "portbind-guard: %s: not found: binds through portbind "
					"are judged as any other program's\n", o->portbind);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		die(EXIT_USAGE, "%s: not a regular file root's alone", o->portbind);
	conf->pb_dev = kdev(st.st_dev);
	conf->pb_ino = st.st_ino;
}

/* ---- ip_local_reserved_ports ---- */

static void read_sysctl(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (n < 0)
		die(EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	close(fd);
	buf[n] = '\0';
}

/* False with errno set; the caller says so. */
bool write_reserved(const __u8 *bits)
{
	static char buf[65536 * 12];
	size_t k = 0;
	int fd;

	for (uint32_t p = 1; p < 65536; p++) {
		uint32_t hi = p;
		if (!(bits[p / 8] & (1u << (p % 8))))
			continue;
		while (hi + 1 < 65536 && (bits[(hi + 1) / 8] & (1u << ((hi + 1) % 8))))
			hi++;
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, hi > p ? "%s%u-%u" : "%s%u",
				      k ? "," : "", p, hi);
		p = hi;
	}
	buf[k++] = '\n';
	fd = open(RESERVED, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (write(fd, buf, k) != (ssize_t)k) {
		int err = errno;
		close(fd);
		errno = err;
		return false;
	}
	return close(fd) == 0;
}

void read_reserved(__u8 *bits)
{
	static char buf[65536 * 12];
	char *p = buf;

	memset(bits, 0, 65536 / 8);
	read_sysctl(RESERVED, buf, sizeof(buf));
	while (*p && *p != '\n') {
		struct range r;
		size_t len = strcspn(p, ",\n");
		if (!parse_range(p, len, 0, 65535, &r))
			die(EXIT_SYSTEM, "%s: unexpected value", RESERVED);
		for (uint32_t x = r.lo; x <= r.hi; x++)
			bits[x / 8] |= (__u8)(1u << (x % 8));
		p += len + (p[len] == ',');
	}
}

/* The administrator's entries plus every owned port that bind(0),
 * connect() or sendto() could otherwise pick: those inside
 * ip_local_port_range. No hook sees an automatic port choice. Computed
 * before anything is pinned, so that reading the sysctls cannot fail
 * after. */
void merged_reserved(const struct guard_state *st, const struct compiled *c, __u8 *bits)
{
	char buf[64];
	size_t n1, blank, n2;
	uint32_t lo, hi;

	/* "LO\tHI\n" */
	read_sysctl(PORT_RANGE, buf, sizeof(buf));
	n1 = strcspn(buf, " \t");
	blank = strspn(buf + n1, " \t");
	n2 = strcspn(buf + n1 + blank, "\n");
	if (!parse_num(buf, n1, 1, 65535, &lo) || !parse_num(buf + n1 + blank, n2, lo, 65535, &hi))
		die(EXIT_SYSTEM, "%s: unexpected value", PORT_RANGE);
	memcpy(bits, st->reserved, sizeof(st->reserved));
	for (uint32_t p = lo; p <= hi; p++)
		if (c->ports[p].nrules || c->ports[65536 + p].nrules)
			bits[p / 8] |= (__u8)(1u << (p % 8));
}
