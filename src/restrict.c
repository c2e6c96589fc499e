/* restrict.c: --restrict-net=MODE and the table's restrict_net = MODE.
 * Pure apart from malloc: what the modes mean, how a value is read, and
 * how the caller's wish and every granting section's minimum make the one
 * mode the command runs under. confine.c applies it.
 *
 *   handed          no new AF_INET, AF_INET6 or AF_PACKET socket; no TCP
 *                   bind or connect; no abstract unix socket outside
 *   connect=PORTS   no TCP bind; TCP connect to PORTS only
 *   bind            no TCP bind
 *
 * Strictest first: handed > connect=PORTS > bind > none. The caller may
 * ask for more than the table imposes, never for less; two connect lists
 * leave the ports in both. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

static int by_lo(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* PORT or LO-HI, separated by commas, 1-65535, none overlapping another;
 * kept sorted, so that the same set always reads the same. */
static int parse_ports(const char *s, size_t len, struct ranges *out)
{
	const char *end = s + len;

	if (len == 0)
		return 1;
	for (const char *p = s;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		struct range r;

		if (!parse_range(p, n, 1, 65535, &r))
			return 1;
		for (size_t i = 0; i < out->n; i++)
			if (r.lo <= out->v[i].hi && out->v[i].lo <= r.hi)
				return 1;
		if (!ranges_add(out, r))
			return -1;
		if (!comma)
			break;
		p = comma + 1;
	}
	qsort(out->v, out->n, sizeof(*out->v), by_lo);
	return 0;
}

/* "handed", "bind" or "connect=PORTS", exactly (no blanks, no case
 * folding). Returns 0, 1 for a bad value, -1 out of memory; out is
 * left empty unless 0. */
int restrict_parse(const char *s, size_t len, struct restrict_net *out)
{
	static const char connect[] = "connect=";
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len == 6 && memcmp(s, "handed", 6) == 0) {
		out->level = RESTRICT_HANDED;
	} else if (len == 4 && memcmp(s, "bind", 4) == 0) {
		out->level = RESTRICT_BIND;
	} else if (len >= sizeof(connect) - 1 && memcmp(s, connect, sizeof(connect) - 1) == 0) {
		out->level = RESTRICT_CONNECT;
		rc = parse_ports(s + sizeof(connect) - 1, len - (sizeof(connect) - 1), &out->ports);
	} else {
		rc = 1;
	}
	if (rc != 0)
		restrict_free(out);
	return rc;
}

/* The table's "restrict_net = MODE": one value, read whole (commas belong
 * to connect=PORTS here, not to a list of values). */
void restrict_key(struct table *t, struct section *sec, const char *value)
{
	int rc = restrict_parse(value, strlen(value), &sec->restrict_net);

	if (rc < 0)
		table_error(t, "out of memory");
	else if (rc > 0)
		table_error(t, "bad restrict_net '%s': want handed, bind or "
			       "connect=PORT[,PORT|LO-HI...] (1-65535, not overlapping)",
			    value);
}

/* The ports in both lists (each sorted and without overlaps, so is this). */
static bool intersect(struct ranges *a, const struct ranges *b)
{
	struct ranges out = { 0 };

	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++) {
			struct range r = {
				a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo,
				a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi,
			};
			if (r.lo <= r.hi && !ranges_add(&out, r)) {
				free(out.v);
				return false;
			}
		}
	free(a->v);
	*a = out;
	return true;
}

/* into becomes the stricter of into and r. */
static bool merge(struct restrict_net *into, const struct restrict_net *r)
{
	if (r->level < into->level)
		return true;
	if (r->level == into->level)
		return r->level != RESTRICT_CONNECT || intersect(&into->ports, &r->ports);
	restrict_free(into);
	into->level = r->level;
	for (size_t i = 0; i < r->ports.n; i++)
		if (!ranges_add(&into->ports, r->ports.v[i]))
			return false;
	return true;
}

/* The mode the command runs under: the caller's --restrict-net and the
 * restrict_net of every section that grants one of its sockets. */
bool restrict_effective(const struct cli *c, const struct grant *g, struct restrict_net *out)
{
	memset(out, 0, sizeof(*out));
	if (!merge(out, &c->restrict_net))
		return false;
	for (size_t i = 0; i < c->nspecs; i++)
		if (g[i].why == GRANT_SECTION && !merge(out, &g[i].by->restrict_net))
			return false;
	return true;
}

/* prefix and the mode as --restrict-net takes it; nothing for none. A
 * connect list that intersected to nothing is "connect=none". */
void restrict_put(FILE *out, const char *prefix, const struct restrict_net *r)
{
	static const char *const names[] = { "none", "bind", "connect=", "handed" };

	if (r->level == RESTRICT_NONE)
		return;
	fprintf(out, "%s%s", prefix, names[r->level]);
	if (r->level == RESTRICT_CONNECT && r->ports.n == 0)
		fputs("none", out);
	for (size_t i = 0; i < r->ports.n; i++) {
		fprintf(out, "%s%u", i ? "," : "", r->ports.v[i].lo);
		if (r->ports.v[i].hi != r->ports.v[i].lo)
			fprintf(out, "-%u", r->ports.v[i].hi);
	}
}

void restrict_free(struct restrict_net *r)
{
	free(r->ports.v);
	memset(r, 0, sizeof(*r));
}
