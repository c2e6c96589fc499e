/* compile.c: the ownership table as portbind-guard's kernel judge reads it
 * (guard.h): one rule per section (or per piece of one), and for every
 * owned (protocol, port) the rules that may grant it. Shared by the guard,
 * which loads the result, and portbind, which compares its digest with the
 * loaded one (--self-bind, --list, --dry-run). Plain C: no libbpf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guard.h"
#include "portbind.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14 */
#endif

/* The kernel's dev_t (MAJOR << 20 | MINOR), which s_dev holds. */
__u64 kdev(unsigned long long dev)
{
	return (__u64)major(dev) << 20 | minor(dev);
}

static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* ---- the table, compiled ---- */

static bool add_rule(struct table *t, struct compiled *c, const struct section *s, size_t id,
		     size_t ad)
{
	static const struct addr any;
	struct guard_rule *r, *v = realloc(c->rules, (c->nrules + 1) * sizeof(*v));

	if (!v) {
		table_error(t, "out of memory");
		return false;
	}
	c->rules = v;
	r = memset(&v[c->nrules++], 0, sizeof(*r));
	r->flags = (s->everyone ? GR_EVERYONE : 0) | (s->naddrs == 0 ? GR_ANYADDR : 0) |
		   (policy_allows_addr(s, &any) ? GR_DUAL : 0) | (s->program ? GR_PINNED : 0);
	r->dev = s->program ? kdev(s->prog_dev) : 0;
	r->ino = s->program ? s->prog_ino : 0;
	for (size_t i = id; i < s->uids.n && r->nuids < GUARD_RANGES; i++, r->nuids++)
		r->uids[r->nuids] = (struct guard_range){ s->uids.v[i].lo, s->uids.v[i].hi };
	for (size_t i = id; i < s->gids.n && r->ngids < GUARD_RANGES; i++, r->ngids++)
		r->gids[r->ngids] = (struct guard_range){ s->gids.v[i].lo, s->gids.v[i].hi };
	for (size_t i = ad; i < s->naddrs && r->naddrs < GUARD_ADDRS; i++, r->naddrs++) {
		r->addrs[r->naddrs].family = (__u32)s->addrs[i].family;
		memcpy(r->addrs[r->naddrs].bytes, s->addrs[i].bytes, 16);
	}
	return true;
}

/* One section: its rules (pieces of GUARD_RANGES ids by GUARD_ADDRS
 * addresses: each piece repeats the rest, so any piece granting is the
 * section granting), then the ports it owns pointing to them. */
static void compile_section(struct table *t, struct compiled *c, const struct section *s,
			    size_t si, __u32 *last)
{
	size_t nid = s->uids.n > s->gids.n ? s->uids.n : s->gids.n;
	__u32 first = c->nrules;

	t->file = s->file;
	t->line = s->line;
	for (size_t id = 0; id == 0 || id < nid; id += GUARD_RANGES)
		for (size_t ad = 0; ad == 0 || ad < s->naddrs; ad += GUARD_ADDRS)
			if (!add_rule(t, c, s, id, ad))
				return;
	for (int proto = PROTO_TCP; proto <= PROTO_UDP; proto++) {
		if (!(s->protos & (unsigned)proto))
			continue;
		for (size_t k = 0; k < s->ports.n; k++)
			for (uint32_t p = s->ports.v[k].lo; p <= s->ports.v[k].hi; p++) {
				size_t at = (size_t)(proto - 1) * 65536 + p;
				struct guard_port *gp = &c->ports[at];
				if (last[at] == si + 1)
					continue; /* the section lists the port twice */
				last[at] = (__u32)si + 1;
				if (gp->nrules == 0)
					c->nports++;
				if (gp->nrules + (c->nrules - first) > GUARD_PORT_RULES) {
					table_error(t, "[%s]: port %u/%s has more than %d grants "
						       "(sections, or pieces of %d ids or %d addresses)",
						    s->label, p, proto_str(proto), GUARD_PORT_RULES,
						    GUARD_RANGES, GUARD_ADDRS);
					return;
				}
				for (__u32 r = first; r < c->nrules; r++)
					gp->rules[gp->nrules++] = r;
			}
	}
}

bool compile(struct table *t, struct compiled *c, const struct guard_conf *conf)
{
	__u32 *last = calloc(GUARD_SLOTS, sizeof(*last));

	memset(c, 0, sizeof(*c));
	c->ports = calloc(GUARD_SLOTS, sizeof(*c->ports));
	if (!last || !c->ports)
		die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < t->n && t->errors == 0; i++)
		compile_section(t, c, &t->s[i], i, last);
	t->file = NULL;
	free(last);
	c->digest = fnv(0xcbf29ce484222325ull, &conf->pb_dev, 2 * sizeof(__u64));
	c->digest = fnv(c->digest, c->rules, c->nrules * sizeof(*c->rules));
	for (size_t i = 0; i < GUARD_SLOTS; i++)
		if (c->ports[i].nrules)
			c->digest = fnv(fnv(c->digest, &i, sizeof(i)), &c->ports[i],
					sizeof(c->ports[i]));
	return t->errors == 0;
}

void compiled_free(struct compiled *c)
{
	free(c->rules);
	free(c->ports);
}


/* The cookie of the caller's network namespace, which the guard enforces;
 * 0 with errno. */
__u64 netns_cookie(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
		cookie = 0;
	err = errno;
	close(fd);
	errno = err;
	return cookie;
}
