/* confine.c: --restrict-net, applied after the drop and before the exec.
 * On entry: the target's ids, every capability set empty, no_new_privs on,
 * the granted sockets bound. On exit: the same, inside a Landlock domain
 * (and, for handed, under a seccomp filter) that the command inherits and
 * can never leave. None of this runs with privilege, and none of it can
 * widen anything: a kernel that cannot do what the mode says ends the run
 * (exit 71) before the command starts. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "portbind.h"

/* The Landlock ABI as the kernel defines it (include/uapi/linux/landlock.h
 * of Linux 6.12). Older headers lack the network and scope parts, so the
 * layouts are spelled out here; the kernel rejects a size it does not know. */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#define RULE_NET_PORT 2 /* enum landlock_rule_type: LANDLOCK_RULE_NET_PORT */

struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port; /* host byte order */
} __attribute__((packed));

_Static_assert(sizeof(struct ruleset_attr) == 24, "landlock_ruleset_attr of ABI 6");
_Static_assert(sizeof(struct net_port_attr) == 16, "landlock_net_port_attr");

/* The highest Landlock ABI this kernel offers: 0 if it has none, or has
 * it but not enabled (ENOSYS, EOPNOTSUPP). */
int confine_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

/* ABI 4 brought TCP bind and connect, ABI 6 the abstract unix scope. */
int confine_needs(enum restrict_level level)
{
	return level == RESTRICT_HANDED ? 6 : level == RESTRICT_NONE ? 0 : 4;
}

static void add_port(int fd, uint64_t access, uint32_t port)
{
	struct net_port_attr a = { .allowed_access = access, .port = port };

	if (syscall(SYS_landlock_add_rule, fd, RULE_NET_PORT, &a, 0) != 0)
		die(EXIT_SYSTEM, "--restrict-net: landlock_add_rule port %u: %s", port,
		    strerror(errno));
}

/* TCP bind refused (but for --self-bind's own TCP SPECs), TCP connect
 * refused but to the listed ports (connect= and handed, which lists none),
 * abstract unix sockets outside the domain unreachable (handed). */
static void landlock(const struct restrict_net *r, const struct cli *c)
{
	struct ruleset_attr attr = { .handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP };
	size_t size = offsetof(struct ruleset_attr, scoped);
	int fd;

	if (r->level >= RESTRICT_CONNECT)
		attr.handled_access_net |= LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (r->level == RESTRICT_HANDED) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		die(EXIT_SYSTEM, "--restrict-net: landlock_create_ruleset: %s", strerror(errno));
	for (size_t i = 0; i < r->ports.n; i++)
		for (uint32_t p = r->ports.v[i].lo; p <= r->ports.v[i].hi; p++)
			add_port(fd, LANDLOCK_ACCESS_NET_CONNECT_TCP, p);
	for (size_t i = 0; c->self_bind && i < c->nspecs; i++)
		if (c->specs[i].proto == PROTO_TCP)
			add_port(fd, LANDLOCK_ACCESS_NET_BIND_TCP, c->specs[i].port);
	/* Landlock asks for no_new_privs (or CAP_SYS_ADMIN, which we do not
	 * hold): priv_drop() set it and verified it. */
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0)
		die(EXIT_SYSTEM, "--restrict-net: landlock_restrict_self: %s", strerror(errno));
	if (close(fd) != 0)
		die(EXIT_SYSTEM, "--restrict-net: close: %s", strerror(errno));
}

/* libseccomp, for handed only, loaded here: after the drop, so that no
 * library but the C library is ever mapped while portbind holds root, and
 * a launch without handed does not load it at all. By its soname, found
 * the way the dynamic loader finds a needed library (for a caller other
 * than root, never through LD_LIBRARY_PATH, which the loader ignores in a
 * setuid program); the prototypes are the header's. It stays loaded
 * until the exec. */
static struct {
	void *lib;
	typeof(seccomp_init) *init;
	typeof(seccomp_rule_add) *rule_add;
	typeof(seccomp_syscall_resolve_name) *resolve_name;
	typeof(seccomp_load) *load;
	typeof(seccomp_release) *release;
} sc;

static void seccomp_open(void)
{
	sc.lib = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!sc.lib || !(sc.init = dlsym(sc.lib, "seccomp_init")) ||
	    !(sc.rule_add = dlsym(sc.lib, "seccomp_rule_add")) ||
	    !(sc.resolve_name = dlsym(sc.lib, "seccomp_syscall_resolve_name")) ||
	    !(sc.load = dlsym(sc.lib, "seccomp_load")) ||
	    !(sc.release = dlsym(sc.lib, "seccomp_release"))) {
		const char *err = dlerror();
		die(EXIT_SYSTEM, "--restrict-net=handed: libseccomp: %s", err ? err : "no symbol");
	}
}

/* handed: socket() of AF_INET, AF_INET6 and AF_PACKET fails with
 * EAFNOSUPPORT, what a kernel without that family answers, so a daemon
 * that probes for IPv6 goes on without it instead of dying. io_uring fails
 * with ENOSYS: its IORING_OP_SOCKET creates sockets without socket(2).
 * The family is compared in its low 32 bits only: the kernel reads an int,
 * and an equality test on the whole register would let 0x100000002 pass
 * as AF_INET. Calls of another ABI (32-bit x86 on x86_64) kill the
 * process: libseccomp's default for a foreign architecture. */
static void filter_sockets(void)
{
	static const int families[] = { AF_INET, AF_INET6, AF_PACKET };
	static const char *const uring[] = { "io_uring_setup", "io_uring_enter",
					     "io_uring_register" };
	scmp_filter_ctx ctx;
	int rc = 0;

	seccomp_open();
	if (!(ctx = sc.init(SCMP_ACT_ALLOW)))
		die(EXIT_SYSTEM, "--restrict-net: seccomp_init failed");
	for (size_t i = 0; rc == 0 && i < sizeof(families) / sizeof(families[0]); i++)
		rc = sc.rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				 SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)families[i]));
	for (size_t i = 0; rc == 0 && i < sizeof(uring) / sizeof(uring[0]); i++) {
		int nr = sc.resolve_name(uring[i]);
		rc = nr == __NR_SCMP_ERROR ? -ENOENT : sc.rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	}
	if (rc != 0)
		die(EXIT_SYSTEM, "--restrict-net=handed: the seccomp filter could not be built: %s",
		    strerror(-rc));
	/* libseccomp reports the kernel's refusal as ECANCELED, whatever it was. */
	if (sc.load(ctx) != 0)
		die(EXIT_SYSTEM, "--restrict-net=handed: the kernel refused the seccomp filter");
	sc.release(ctx);
}

/* The strictest of the caller's --restrict-net and of the restrict_net of
 * every section granting one of its sockets, or exit. */
void confine_net(const struct cli *c, const struct grant *g)
{
	struct restrict_net rn, *r = &rn;
	int abi, need;

	if (!restrict_effective(c, g, r))
		die(EXIT_SYSTEM, "out of memory");
	if (r->level == RESTRICT_NONE)
		return;
	need = confine_needs(r->level);
	/* The table imposes what the caller's options cannot keep (the
	 * caller's own --restrict-net with them is a usage error). */
	if (r->level == RESTRICT_HANDED && c->self_bind)
		die(EXIT_DENIED, "--self-bind: restrict_net = handed leaves the command nothing "
				 "to bind: nothing was started");
	if (c->allow_new_privs)
		die(EXIT_DENIED, "--allow-new-privs: restrict_net needs no_new_privs: nothing "
				 "was started");
	abi = confine_abi();
	if (abi == 0)
		die(EXIT_SYSTEM, "--restrict-net: this kernel has no Landlock enabled, the mode "
				 "needs Landlock ABI %d: nothing was started", need);
	if (abi < need)
		die(EXIT_SYSTEM, "--restrict-net: this kernel has Landlock ABI %d, the mode "
				 "needs %d: nothing was started", abi, need);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		die(EXIT_SYSTEM, "--restrict-net: no_new_privs is off");
	landlock(r, c);
	if (r->level == RESTRICT_HANDED)
		filter_sockets();
	restrict_free(r);
}
