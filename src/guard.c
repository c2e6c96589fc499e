/* guard.c: portbind-guard, the ownership table enforced by the kernel for
 * every bind() in one cgroup and one network namespace. Root only, never
 * setuid. The table is read and judged by the same code as portbind's
 * (parse.c, table.c, load.c, policy.c); this file turns it into the maps
 * that guard.bpf.c reads, and attaches, swaps, reports and detaches. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard.h"
#include "guard.skel.h"
#include "portbind.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif

/* Exit codes beyond portbind's (documented in portbind-guard(8)). */
enum {
	EXIT_STALE = 2,     /* status: loaded, but the table on disk differs */
	EXIT_NOTLOADED = 3, /* no guard pinned in the pin directory */
	EXIT_KERNEL = 69,   /* no BTF, no cgroup2, no bpffs, verifier or lockdown */
	EXIT_LOADED = 73,   /* load: a guard is already pinned there */
};

#define RESERVED "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define PORT_RANGE "/proc/sys/net/ipv4/ip_local_port_range"

/* Kept in the pin directory (bpffs holds only BPF objects, so a one-entry
 * array map): where the guard is attached, which namespace it enforces, and
 * the administrator's own ip_local_reserved_ports, restored on unload. */
struct guard_state {
	char cgroup[512];
	__u64 netns, netns_ino;
	__u64 loaded; /* CLOCK_REALTIME seconds */
	__u8 reserved[65536 / 8];
};

static const char *const pins[] = { "bind4", "bind6", "outer", "counts", "recent", "state" };

struct opts {
	const char *cmd, *config, *cgroup, *pin_dir, *portbind;
};


static _Noreturn void usage(void)
{
	fputs("usage: portbind-guard load|reload|unload|status [--config FILE] [--cgroup DIR]\n"
	      "                      [--pin-dir DIR] [--portbind PATH]\n"
	      "  --config FILE    the table (default " SYSCONFDIR "/portbind.conf and\n"
	      "                   " SYSCONFDIR "/portbind.d/*.conf)\n"
	      "  --cgroup DIR     cgroup2 directory to attach to (default: the root of the\n"
	      "                   cgroup2 hierarchy)\n"
	      "  --pin-dir DIR    where the guard is pinned (default /sys/fs/bpf/portbind)\n"
	      "  --portbind PATH  the installed portbind (default " BINDIR "/portbind)\n",
	      stderr);
	exit(EXIT_USAGE);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--config") == 0)
			slot = &o->config;
		else if (strcmp(argv[i], "--cgroup") == 0)
			slot = &o->cgroup;
		else if (strcmp(argv[i], "--pin-dir") == 0)
			slot = &o->pin_dir;
		else if (strcmp(argv[i], "--portbind") == 0)
			slot = &o->portbind;
		else if (argv[i][0] == '-' || o->cmd)
			usage(); /* --help too */
		else
			o->cmd = argv[i];
		if (slot) {
			if (++i == argc || *slot)
				usage();
			*slot = argv[i];
		}
	}
	if (!o->cmd || (strcmp(o->cmd, "load") != 0 && strcmp(o->cmd, "reload") != 0 &&
			strcmp(o->cmd, "unload") != 0 && strcmp(o->cmd, "status") != 0))
		usage();
	if (!o->pin_dir)
		o->pin_dir = "/sys/fs/bpf/portbind";
	if (!o->portbind)
		o->portbind = BINDIR "/portbind";
}

static char *pin_path(const struct opts *o, const char *name)
{
	static char buf[4096];

	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", o->pin_dir, name) >= sizeof(buf))
		die(EXIT_USAGE, "--pin-dir too long");
	return buf;
}

/* The table as portbind reads it, or exit 78 with its file:line errors. */
static void read_table(struct table *t, const struct opts *o, FILE *errout)
{
	table_init(t, errout);
	load_table(t, o->config ? o->config : SYSCONFDIR "/portbind.conf",
		   o->config ? NULL : SYSCONFDIR "/portbind.d", true);
}

/* A complete new policy map: conf, rules, ports. Returns its fd. */
static int build_policy(const struct compiled *c, struct guard_conf conf)
{
	union guard_value v;
	struct guard_key k;
	int fd;

	conf.digest = c->digest;
	conf.nports = c->nports;
	conf.nrules = c->nrules;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "pb_policy", sizeof(k), sizeof(v),
			    1 + c->nrules + c->nports, NULL);
	if (fd < 0)
		die(EXIT_KERNEL, "cannot create the policy map: %s", strerror(errno));
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.kind = GK_CONF;
	v.conf = conf;
	if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) != 0)
		die(EXIT_SYSTEM, "policy map: %s", strerror(errno));
	k.kind = GK_RULE;
	for (__u32 i = 0; i < c->nrules; i++) {
		k.idx = i;
		memset(&v, 0, sizeof(v));
		v.rule = c->rules[i];
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) != 0)
			die(EXIT_SYSTEM, "policy map: %s", strerror(errno));
	}
	k.kind = GK_PORT;
	k.idx = 0;
	for (size_t i = 0; i < GUARD_SLOTS; i++) {
		if (!c->ports[i].nrules)
			continue;
		k.proto = (__u8)(i / 65536 + 1);
		k.port = (__u16)(i % 65536);
		memset(&v, 0, sizeof(v));
		v.port = c->ports[i];
		v.port.netns = conf.netns;
		v.port.pb_dev = conf.pb_dev;
		v.port.pb_ino = conf.pb_ino;
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) != 0)
			die(EXIT_SYSTEM, "policy map: %s", strerror(errno));
	}
	return fd;
}

/* ---- where: cgroup2, network namespace, portbind ---- */

/* The first cgroup2 mount in /proc/self/mountinfo: /sys/fs/cgroup on a
 * unified layout, /sys/fs/cgroup/unified on a hybrid one. */
static char *cgroup2_root(void)
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

static __u64 this_netns(void)
{
	__u64 cookie = netns_cookie();

	if (!cookie)
		die(EXIT_KERNEL, "network namespace cookie: %s", strerror(errno));
	return cookie;
}
/* The installed portbind: root's alone like a pinned program, or a user
 * could make another file the exemption. Missing: no exemption. */
static void portbind_inode(const struct opts *o, struct guard_conf *conf, bool warn)
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
static bool write_reserved(const __u8 *bits)
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

static void read_reserved(__u8 *bits)
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
static void merged_reserved(const struct guard_state *st, const struct compiled *c, __u8 *bits)
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

/* ---- the pinned guard ---- */

static int open_pin(const struct opts *o, const char *name)
{
	int fd = bpf_obj_get(pin_path(o, name));

	if (fd < 0 && errno == ENOENT)
		die(EXIT_NOTLOADED, "no guard is loaded in %s", o->pin_dir);
	if (fd < 0)
		die(EXIT_SYSTEM, "%s: %s", pin_path(o, name), strerror(errno));
	return fd;
}

static void read_state(const struct opts *o, struct guard_state *st)
{
	__u32 zero = 0;
	int fd = open_pin(o, "state");

	if (bpf_map_lookup_elem(fd, &zero, st) != 0)
		die(EXIT_SYSTEM, "state map: %s", strerror(errno));
	close(fd);
}

static void unpin_all(const struct opts *o)
{
	for (size_t i = 0; i < sizeof(pins) / sizeof(*pins); i++)
		if (unlink(pin_path(o, pins[i])) != 0 && errno != ENOENT)
			fprintf(stderr, "portbind-guard: %s: %s\n", pin_path(o, pins[i]),
				strerror(errno));
	if (rmdir(o->pin_dir) != 0 && errno != ENOENT)
		fprintf(stderr, "portbind-guard: %s: %s\n", o->pin_dir, strerror(errno));
}

__attribute__((format(printf, 2, 0))) static int print_quiet(enum libbpf_print_level level,
								const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("PORTBIND_GUARD_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* A load that failed after its first pin: remove every pin (links not
 * pinned detach when this process exits), put the administrator's
 * ip_local_reserved_ports back, and exit with one line. */
static _Noreturn void undo_load(const struct opts *o, const struct guard_state *st, int code,
				const char *what, const char *where)
{
	int err = errno;

	unpin_all(o);
	if (!write_reserved(st->reserved))
		fprintf(stderr, "portbind-guard: %s: not restored: %s\n", RESERVED,
			strerror(errno));
	die(code, "%s %s: %s; nothing is left attached", what, where, strerror(err));
}

/* Everything is built and checked before anything is pinned or attached;
 * from the first pin on, a failure removes what was done, so a failed load
 * leaves nothing attached and the sysctl as it was. */
static int cmd_load(const struct opts *o, struct table *t)
{
	struct guard_conf conf = { .netns = this_netns() };
	struct guard_state *st = calloc(1, sizeof(*st));
	char *cgroup = o->cgroup ? strdup(o->cgroup) : cgroup2_root();
	struct bpf_link *link4 = NULL, *link6 = NULL;
	struct guard_bpf *skel;
	struct compiled c;
	struct statfs sfs;
	struct stat sb;
	__u8 reserved[65536 / 8];
	__u32 zero = 0;
	int cg, pol, sfd, probe;

	if (!st || !cgroup)
		die(EXIT_SYSTEM, "out of memory");
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		die(EXIT_KERNEL, "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				 "CONFIG_DEBUG_INFO_BTF is needed");
	/* A refusal is bpf_set_retval(-EADDRINUSE), which cgroup programs have
	 * since Linux 5.18; asked first, so that an older kernel is named as
	 * such rather than as a verifier refusal. libbpf answers 1 when the
	 * verifier knows the helper, or when the probe itself was refused
	 * (lockdown): the load below then says so. */
	probe = libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_set_retval, NULL);
	if (probe == 0)
		die(EXIT_KERNEL, "the kernel has no bpf_set_retval() for cgroup programs: "
				 "Linux 5.18 or later is needed");
	if (probe < 0)
		die(EXIT_KERNEL, "cannot probe the kernel's BPF helpers: %s", strerror(-probe));
	cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		die(EXIT_USAGE, "cgroup %s: %s", cgroup, strerror(errno));
	if (fstatfs(cg, &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
		die(EXIT_KERNEL, "%s is not a cgroup2 directory", cgroup);
	if (stat(o->pin_dir, &sb) == 0)
		die(EXIT_LOADED, "a guard is already loaded in %s: use reload or unload",
		    o->pin_dir);
	portbind_inode(o, &conf, true);
	if (!compile(t, &c, &conf))
		die(EXIT_TABLE, "ownership table rejected: %u error(s)", t->errors);

	skel = guard_bpf__open_and_load();
	if (!skel)
		die(EXIT_KERNEL, "the kernel refused the BPF programs (%s): BTF, bpf_set_retval "
				 "(5.18), lockdown or the verifier", strerror(errno));
	pol = build_policy(&c, conf);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.outer), &zero, &pol, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "policy slot: %s", strerror(errno));
	snprintf(st->cgroup, sizeof(st->cgroup), "%s", cgroup);
	st->netns = conf.netns;
	if (stat("/proc/self/ns/net", &sb) == 0)
		st->netns_ino = sb.st_ino;
	st->loaded = (__u64)time(NULL);
	read_reserved(st->reserved);
	merged_reserved(st, &c, reserved);
	sfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pb_state", 4, sizeof(*st), 1, NULL);
	if (sfd < 0 || bpf_map_update_elem(sfd, &zero, st, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "state map: %s", strerror(errno));

	if (mkdir(o->pin_dir, 0700) != 0)
		die(errno == ENOENT ? EXIT_KERNEL : EXIT_SYSTEM, "%s: %s", o->pin_dir,
		    strerror(errno));
	if (statfs(o->pin_dir, &sfs) != 0 || sfs.f_type != BPF_FS_MAGIC) {
		rmdir(o->pin_dir);
		die(EXIT_KERNEL, "%s is not on a bpf filesystem", o->pin_dir);
	}
	if (bpf_obj_pin(sfd, pin_path(o, "state")) != 0 ||
	    bpf_map__pin(skel->maps.outer, pin_path(o, "outer")) != 0 ||
	    bpf_map__pin(skel->maps.counts, pin_path(o, "counts")) != 0 ||
	    bpf_map__pin(skel->maps.recent, pin_path(o, "recent")) != 0)
		undo_load(o, st, EXIT_KERNEL, "cannot pin in", o->pin_dir);
	if (!write_reserved(reserved))
		undo_load(o, st, EXIT_SYSTEM, "cannot write", RESERVED);
	if (!(link4 = bpf_program__attach_cgroup(skel->progs.bind4, cg)) ||
	    !(link6 = bpf_program__attach_cgroup(skel->progs.bind6, cg)))
		undo_load(o, st, EXIT_KERNEL, "cannot attach to", cgroup);
	if (bpf_link__pin(link4, pin_path(o, "bind4")) != 0 ||
	    bpf_link__pin(link6, pin_path(o, "bind6")) != 0)
		undo_load(o, st, EXIT_KERNEL, "cannot pin in", o->pin_dir);
	printf("portbind-guard: loaded: %u owned port(s), digest %016llx, attached to %s\n",
	       c.nports, (unsigned long long)c.digest, cgroup);
	return 0;
}

/* The new policy is complete before the one slot both programs read is
 * swapped: each bind() sees the old table or the new, never a mix. */
static int cmd_reload(const struct opts *o, struct table *t)
{
	struct guard_state st;
	struct guard_conf conf = { .netns = this_netns() };
	struct compiled c;
	__u8 reserved[65536 / 8];
	__u32 zero = 0;
	int outer, pol;

	read_state(o, &st);
	if (st.netns != conf.netns)
		die(EXIT_USAGE, "reload from the network namespace the guard enforces");
	outer = open_pin(o, "outer");
	portbind_inode(o, &conf, true);
	if (!compile(t, &c, &conf))
		die(EXIT_TABLE, "ownership table rejected: %u error(s); the loaded policy stays",
		    t->errors);
	pol = build_policy(&c, conf);
	merged_reserved(&st, &c, reserved);
	if (!write_reserved(reserved))
		die(EXIT_SYSTEM, "%s: %s; the loaded policy stays", RESERVED, strerror(errno));
	if (bpf_map_update_elem(outer, &zero, &pol, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "policy slot: %s; the loaded policy stays", strerror(errno));
	printf("portbind-guard: reloaded: %u owned port(s), digest %016llx\n", c.nports,
	       (unsigned long long)c.digest);
	compiled_free(&c);
	return 0;
}

static int cmd_unload(const struct opts *o)
{
	struct guard_state st;
	int rc = 0;

	read_state(o, &st);
	if (st.netns != this_netns()) {
		fprintf(stderr, "portbind-guard: not in the enforced network namespace: "
				"ip_local_reserved_ports left as it is there\n");
		rc = EXIT_SYSTEM;
	} else if (!write_reserved(st.reserved)) {
		fprintf(stderr, "portbind-guard: %s: %s\n", RESERVED, strerror(errno));
		rc = EXIT_SYSTEM;
	}
	unpin_all(o);
	printf("portbind-guard: unloaded from %s\n", st.cgroup);
	return rc;
}

/* ---- status ---- */

static int by_time(const void *a, const void *b)
{
	const struct guard_event *x = a, *y = b;

	return x->boot_ns < y->boot_ns ? -1 : x->boot_ns > y->boot_ns;
}

static void print_refusals(const struct opts *o)
{
	struct guard_event ev[GUARD_RECENT];
	struct timespec boot, real;
	int fd = open_pin(o, "recent");
	size_t n = 0;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	for (__u32 i = 0; i < GUARD_RECENT; i++)
		if (bpf_map_lookup_elem(fd, &i, &ev[n]) == 0 && ev[n].boot_ns)
			n++;
	close(fd);
	qsort(ev, n, sizeof(*ev), by_time);
	printf("last refusals: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		time_t when = real.tv_sec - (time_t)((__u64)boot.tv_sec - ev[i].boot_ns / 1000000000u);
		struct addr a = { .family = (int)ev[i].family };
		char stamp[32], comm[80], addr[64];
		struct tm tm;
		memcpy(a.bytes, ev[i].addr, 16);
		ev[i].comm[15] = '\0';
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
		printf("  %s uid %u pid %u comm %s %s %s port %u\n", stamp, ev[i].uid, ev[i].pid,
		       clean(ev[i].comm, comm, sizeof(comm)), proto_str((int)ev[i].proto),
		       a.family ? addr_str(&a, addr, sizeof(addr)) : "[::] dual-stack", ev[i].port);
	}
}

/* Grants and refusals of every port the enforced policy owns, in order. */
static void print_counts(const struct opts *o, int pol)
{
	static __u8 owned[GUARD_SLOTS / 8];
	struct guard_key k, *prev = NULL;
	struct guard_count cnt;
	int counts = open_pin(o, "counts");

	memset(owned, 0, sizeof(owned));
	while (bpf_map_get_next_key(pol, prev, &k) == 0) {
		__u32 i = (__u32)(k.proto - 1) * 65536 + k.port;
		if (k.kind == GK_PORT && i < GUARD_SLOTS)
			owned[i / 8] |= (__u8)(1u << (i % 8));
		prev = &k;
	}
	printf("port        grants  refusals\n");
	for (__u32 i = 0; i < GUARD_SLOTS; i++) {
		char p[16];
		if (!(owned[i / 8] & (1u << (i % 8))))
			continue;
		if (bpf_map_lookup_elem(counts, &i, &cnt) != 0)
			die(EXIT_SYSTEM, "counters map: %s", strerror(errno));
		snprintf(p, sizeof(p), "%u/%s", i % 65536, proto_str((int)(i / 65536 + 1)));
		printf("%-11s %7llu %9llu\n", p, (unsigned long long)cnt.grants,
		       (unsigned long long)cnt.refusals);
	}
	close(counts);
}

static int cmd_status(const struct opts *o, struct table *t)
{
	struct guard_state st;
	union guard_value v;
	struct guard_key k = { .kind = GK_CONF };
	struct guard_conf disk = { 0 };
	__u32 zero = 0, id;
	struct compiled c;
	int outer, pol, rc = 0;
	bool attached = true;

	read_state(o, &st);
	/* A link whose cgroup was removed stays pinned, attached to nothing. */
	for (int i = 0; i < 2; i++) {
		struct bpf_link_info li;
		__u32 lilen = sizeof(li);
		int fd = bpf_obj_get(pin_path(o, pins[i]));
		memset(&li, 0, sizeof(li));
		attached = attached && fd >= 0 && bpf_obj_get_info_by_fd(fd, &li, &lilen) == 0 &&
			   li.type == BPF_LINK_TYPE_CGROUP && li.cgroup.cgroup_id != 0;
		if (fd >= 0)
			close(fd);
	}
	printf("attached: %s to %s (bind4, bind6)\n", attached ? "yes" : "NO", st.cgroup);
	printf("network namespace: net:[%llu] (cookie %llu)%s\n", (unsigned long long)st.netns_ino,
	       (unsigned long long)st.netns, st.netns == this_netns() ? ", this one" : "");
	outer = open_pin(o, "outer");
	if (bpf_map_lookup_elem(outer, &zero, &id) != 0 || (pol = bpf_map_get_fd_by_id(id)) < 0 ||
	    bpf_map_lookup_elem(pol, &k, &v) != 0)
		die(EXIT_SYSTEM, "cannot read the enforced policy: %s", strerror(errno));
	printf("owned ports: %u\n", v.conf.nports);
	portbind_inode(o, &disk, false);
	bool compiled = t->errors == 0;
	if (!compiled || !compile(t, &c, &disk)) {
		printf("table: digest %016llx; the table on disk is invalid (%u error(s))\n",
		       (unsigned long long)v.conf.digest, t->errors);
		rc = EXIT_STALE;
	} else if (c.digest != v.conf.digest) {
		printf("table: digest %016llx; the table on disk differs (%016llx): reload\n",
		       (unsigned long long)v.conf.digest, (unsigned long long)c.digest);
		rc = EXIT_STALE;
	} else {
		printf("table: digest %016llx, matches the table on disk\n",
		       (unsigned long long)v.conf.digest);
	}
	if (compiled)
		compiled_free(&c);
	print_counts(o, pol);
	print_refusals(o);
	return attached ? rc : EXIT_NOTLOADED;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct table t;

	log_ident = "portbind-guard";
	parse_args(&o, argc, argv);
	if (geteuid() != 0)
		die(EXIT_DENIED, "must be run by root");
	libbpf_set_print(print_quiet);
	if (strcmp(o.cmd, "unload") == 0)
		return cmd_unload(&o);
	/* status judges the table silently: it reports a count, not lines. */
	read_table(&t, &o, strcmp(o.cmd, "status") == 0 ? NULL : stderr);
	if (strcmp(o.cmd, "status") == 0)
		return cmd_status(&o, &t);
	if (t.errors)
		die(EXIT_TABLE, "ownership table rejected: %u error(s)%s", t.errors,
		    strcmp(o.cmd, "reload") == 0 ? "; the loaded policy stays" : "");
	return strcmp(o.cmd, "load") == 0 ? cmd_load(&o, &t) : cmd_reload(&o, &t);
}
