/* guard.c: portbind-guard, the ownership table enforced by the kernel for
 * every bind() in one cgroup and one network namespace. Root only, never
 * setuid. The table is read and judged by the same code as portbind's
 * (parse.c, table.c, load.c, policy.c, compile.c); this file builds the
 * maps that guard.bpf.c reads, and attaches, swaps and detaches them;
 * guardsys.c finds where, guardstatus.c reports. */
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
#include "guardtool.h"
#include "portbind.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif

const char *const pins[7] = { "bind4", "bind6", "outer", "policy", "counts", "recent", "state" };

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

char *pin_path(const struct opts *o, const char *name)
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

/* ---- the pinned guard ---- */

int open_pin(const struct opts *o, const char *name)
{
	int fd = bpf_obj_get(pin_path(o, name));

	if (fd < 0 && errno == ENOENT)
		die(EXIT_NOTLOADED, "no guard is loaded in %s", o->pin_dir);
	if (fd < 0)
		die(EXIT_SYSTEM, "%s: %s", pin_path(o, name), strerror(errno));
	return fd;
}

void read_state(const struct opts *o, struct guard_state *st)
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

	skel = guard_bpf__open();
	if (skel)
		skel->rodata->guard_netns = conf.netns;
	if (!skel || guard_bpf__load(skel) != 0)
		die(EXIT_KERNEL, "the kernel refused the BPF programs (%s): BTF, bpf_set_retval "
				 "(5.18), lockdown or the verifier", strerror(errno));
	pol = build_policy(&c, conf, bpf_map__fd(skel->maps.policy), 1);
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
	    bpf_map__pin(skel->maps.policy, pin_path(o, "policy")) != 0 ||
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

/* The new generation is complete in the policy hash, beside the one in
 * force, before the one slot both programs read is swapped to its ports
 * array: each bind() sees the old table or the new, never a mix. */
static int cmd_reload(const struct opts *o, struct table *t)
{
	struct guard_state st;
	struct guard_conf conf = { .netns = this_netns() };
	struct compiled c;
	__u8 reserved[65536 / 8];
	__u32 zero = 0, gen;
	int outer, policy, old, ports;

	read_state(o, &st);
	if (st.netns != conf.netns)
		die(EXIT_USAGE, "reload from the network namespace the guard enforces");
	outer = open_pin(o, "outer");
	policy = open_pin(o, "policy");
	portbind_inode(o, &conf, true);
	if (!compile(t, &c, &conf))
		die(EXIT_TABLE, "ownership table rejected: %u error(s); the loaded policy stays",
		    t->errors);
	old = current_ports(outer, &gen);
	drop_generations(policy, gen);
	ports = build_policy(&c, conf, policy, gen + 1);
	merged_reserved(&st, &c, reserved);
	if (!write_reserved(reserved))
		die(EXIT_SYSTEM, "%s: %s; the loaded policy stays", RESERVED, strerror(errno));
	if (bpf_map_update_elem(outer, &zero, &ports, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "policy slot: %s; the loaded policy stays", strerror(errno));
	archive_counts(o, old);
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
