/* policy.c: the decision. Pure: no syscalls, no globals, no I/O, so the unit
 * tests and the fuzzer run the very code that decides in production. */
#include <string.h>
#include <sys/socket.h>

#include "portbind.h"

/* Does the section name this identity: its uid, its primary group or one of
 * its supplementary groups (names were resolved to ids when loading)? */
bool policy_names(const struct section *s, const struct ident *id)
{
	if (s->everyone || ranges_has(&s->uids, id->uid) || ranges_has(&s->gids, id->gid))
		return true;
	for (size_t i = 0; i < id->nsupp; i++)
		if (ranges_has(&s->gids, id->supp[i]))
			return true;
	return false;
}

static bool has_addr(const struct section *s, int family, const unsigned char *bytes)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i].family == family && memcmp(s->addrs[i].bytes, bytes, 16) == 0)
			return true;
	return false;
}

/* The dual-stack wildcard covers every IPv4 and IPv6 address, so it needs a
 * section without address restriction, or one listing both wildcards. */
bool policy_allows_addr(const struct section *s, const struct addr *a)
{
	static const unsigned char any[16];

	if (s->naddrs == 0)
		return true;
	if (a->family == 0)
		return has_addr(s, AF_INET, any) && has_addr(s, AF_INET6, any);
	return has_addr(s, a->family, a->bytes);
}

/* Does the section list the SPEC's protocol and port? policy_decide()
 * looks at no other section; a launch keeps no other (table.c). */
bool policy_lists(const struct section *s, const struct spec *sp)
{
	return (s->protos & (unsigned)sp->proto) && ranges_has(&s->ports, sp->port);
}

/* A (protocol, port) that any section lists belongs to the table: only a
 * matching section grants it, whatever its number. A port no section lists
 * is granted where the target could bind it without us. */
const struct section *policy_decide(const struct table *t, const struct spec *sp,
				    const struct ident *target, dev_t dev, ino_t ino,
				    unsigned unpriv_start, enum verdict *why)
{
	bool owned = false;

	for (size_t i = 0; i < t->n; i++) {
		const struct section *s = &t->s[i];
		if (!policy_lists(s, sp))
			continue;
		owned = true;
		if (!policy_allows_addr(s, &sp->addr) || !policy_names(s, target))
			continue;
		if (s->program && (s->prog_dev != dev || s->prog_ino != ino))
			continue;
		*why = GRANT_SECTION;
		return s;
	}
	if (owned)
		*why = DENY_OWNED;
	else if (sp->port >= unpriv_start)
		*why = GRANT_FREE;
	else
		*why = DENY_PRIVILEGED;
	return NULL;
}
