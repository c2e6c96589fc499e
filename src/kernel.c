/* kernel.c: whether portbind-guard enforces, in this network namespace,
 * the very table portbind has just read. The policy the guard loaded
 * carries the digest of the table as compile.c compiles it (resolved ids,
 * programs' inodes, this portbind's inode); portbind compiles its own table
 * the same way and compares. Read with bpf(2) directly, as root, from the
 * fixed pin directory: the setuid binary links no BPF library and takes no
 * path from the caller. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard.h"
#include "portbind.h"

static int bpf_fd(enum bpf_cmd cmd, union bpf_attr *a)
{
	return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* A lookup in map fd, which is closed; false with errno. */
static bool lookup_close(int fd, const void *key, void *value)
{
	union bpf_attr a;
	bool ok;
	int err;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)value;
	ok = bpf_fd(BPF_MAP_LOOKUP_ELEM, &a) == 0;
	err = errno;
	close(fd);
	errno = err;
	return ok;
}

static int obj_get(const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	a.file_flags = BPF_F_RDONLY;
	return bpf_fd(BPF_OBJ_GET, &a);
}

/* The conf entry of the policy in force: the generation in slot 0 of the
 * ports array in the guard's one slot, then its GK_CONF in the policy
 * hash; false with errno. */
static bool loaded_conf(struct guard_conf *conf)
{
	struct guard_key k = { .kind = GK_CONF };
	struct guard_slot head;
	union guard_value v;
	union bpf_attr a;
	__u32 zero = 0, id = 0;
	int fd;

	fd = obj_get(GUARD_PIN_DIR "/outer");
	if (fd < 0 || !lookup_close(fd, &zero, &id))
		return false;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	a.open_flags = BPF_F_RDONLY;
	fd = bpf_fd(BPF_MAP_GET_FD_BY_ID, &a);
	if (fd < 0 || !lookup_close(fd, &zero, &head))
		return false;
	k.gen = head.gen;
	fd = obj_get(GUARD_PIN_DIR "/policy");
	if (fd < 0 || !lookup_close(fd, &k, &v))
		return false;
	*conf = v.conf;
	return true;
}

enum kernel kernel_enforces(struct table *t)
{
	struct guard_conf loaded, mine = { 0 };
	struct compiled c;
	struct stat st;
	__u64 cookie;
	bool same;

	if (!loaded_conf(&loaded)) {
		if (errno == ENOENT)
			return KERNEL_NONE;
		die(EXIT_SYSTEM, "reading portbind-guard's policy in " GUARD_PIN_DIR ": %s",
		    strerror(errno));
	}
	if (!(cookie = netns_cookie()))
		die(EXIT_SYSTEM, "network namespace cookie: %s", strerror(errno));
	if (loaded.netns != cookie)
		return KERNEL_ELSEWHERE;
	/* The guard exempts the installed portbind by its inode: this one. */
	if (stat("/proc/self/exe", &st) != 0)
		die(EXIT_SYSTEM, "/proc/self/exe: %s", strerror(errno));
	mine.pb_dev = kdev(st.st_dev);
	mine.pb_ino = st.st_ino;
	if (!compile(t, &c, &mine)) {
		compiled_free(&c);
		return KERNEL_UNFIT;
	}
	same = c.digest == loaded.digest;
	compiled_free(&c);
	return same ? KERNEL_ENFORCED : KERNEL_STALE;
}

const char *kernel_str(enum kernel k)
{
	switch (k) {
	case KERNEL_ENFORCED:
		return "enforced by portbind-guard in this network namespace";
	case KERNEL_STALE:
		return "not enforced: portbind-guard enforces another version of the table "
		       "(run portbind-guard reload)";
	case KERNEL_UNFIT:
		return "not enforced: portbind-guard cannot load this table (see the errors above, "
		       "or portbind-guard load)";
	case KERNEL_ELSEWHERE:
		return "not enforced: portbind-guard enforces another network namespace";
	case KERNEL_NONE:
		break;
	}
	return "not enforced: portbind-guard is not loaded";
}
