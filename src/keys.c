/* keys.c: the value of each key of a table section, token by token, and
 * the ranges they fill. Pure apart from malloc, like table.c, which reads
 * the lines and calls add_token() for every token of a value. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

const char *const key_names[K_COUNT] = {
	"port", "protocol", "user", "group", "uid", "gid", "address", "program", "restrict_net",
};

bool ranges_add(struct ranges *r, struct range x)
{
	struct range *v = realloc(r->v, (r->n + 1) * sizeof(*v));

	if (!v)
		return false;
	r->v = v;
	r->v[r->n++] = x;
	return true;
}

bool ranges_has(const struct ranges *r, uint32_t x)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].lo <= x && x <= r->v[i].hi)
			return true;
	return false;
}

/* s (len bytes, not NUL-terminated: a token in the file's bytes) as a string. */
static char *copy(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

static bool add_name(char ***v, size_t *n, const char *s, size_t len)
{
	char *name = copy(s, len);
	char **nv = name ? realloc(*v, (*n + 1) * sizeof(*nv)) : NULL;

	if (!nv) {
		free(name);
		return false;
	}
	*v = nv;
	nv[(*n)++] = name;
	return true;
}

static bool add_addr(struct section *sec, const struct addr *a)
{
	struct addr *v = realloc(sec->addrs, (sec->naddrs + 1) * sizeof(*v));

	if (!v)
		return false;
	sec->addrs = v;
	sec->addrs[sec->naddrs++] = *a;
	return true;
}

/* A user or group name: no separators, not a number (numbers go in uid/gid,
 * so "user = 0" cannot be read two ways). */
static bool name_ok(const char *s, size_t len)
{
	bool digits = true;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':' || s[i] == '/' || s[i] == '#' || s[i] == '*')
			return false;
		if (s[i] < '0' || s[i] > '9')
			digits = false;
	}
	return !digits;
}

/* An absolute path with no empty, "." or ".." component. */
static bool path_ok(const char *s, size_t len)
{
	if (len < 2 || s[0] != '/' || s[len - 1] == '/')
		return false;
	/* s[i] is a '/', and the component after it s[i + 1 .. i + n]. */
	for (size_t i = 0, n; i < len; i += n + 1) {
		const char *c = s + i + 1, *slash = memchr(c, '/', len - i - 1);
		n = slash ? (size_t)(slash - c) : len - i - 1;
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

bool add_token(struct table *t, struct section *sec, enum key k, const char *s, size_t len)
{
	struct range r;
	struct addr a;

	switch (k) {
	case K_PORT:
		if (parse_range(s, len, 1, 65535, &r))
			return ranges_add(&sec->ports, r);
		table_error(t, "bad port '%.*s': want 1-65535 or LO-HI", (int)len, s);
		return true;
	case K_PROTOCOL:
		if (len == 3 && memcmp(s, "tcp", 3) == 0)
			sec->protos |= PROTO_TCP;
		else if (len == 3 && memcmp(s, "udp", 3) == 0)
			sec->protos |= PROTO_UDP;
		else
			table_error(t, "bad protocol '%.*s': want tcp or udp", (int)len, s);
		return true;
	case K_USER:
		if (len == 1 && s[0] == '*') {
			sec->everyone = true;
			return true;
		}
		/* fall through */
	case K_GROUP:
		if (!name_ok(s, len)) {
			table_error(t, "bad %s name '%.*s' (numeric ids go in uid or gid)", key_names[k],
				    (int)len, s);
			return true;
		}
		return k == K_USER ? add_name(&sec->users, &sec->nusers, s, len)
				   : add_name(&sec->groups, &sec->ngroups, s, len);
	case K_UID:
	case K_GID:
		if (parse_range(s, len, 0, MAX_ID, &r))
			return ranges_add(k == K_UID ? &sec->uids : &sec->gids, r);
		table_error(t, "bad %s '%.*s': want N or LO-HI, 0-%u", key_names[k], (int)len, s, MAX_ID);
		return true;
	case K_ADDRESS:
		if (parse_addr(s, len, 0, &a))
			return add_addr(sec, &a);
		table_error(t, "bad address '%.*s': want an IPv4 or IPv6 literal, not v4-mapped",
			    (int)len, s);
		return true;
	case K_PROGRAM:
		if (sec->program) {
			table_error(t, "program takes one path");
			return true;
		}
		if (!path_ok(s, len)) {
			table_error(t, "bad program '%.*s': want an absolute path without . or ..",
				    (int)len, s);
			return true;
		}
		sec->program = copy(s, len);
		return sec->program != NULL;
	case K_RESTRICT_NET: /* read whole by restrict_key() */
	case K_COUNT:
		break;
	}
	return false;
}
