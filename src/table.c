/* table.c: one table file's bytes to sections. Pure apart from malloc: the
 * caller reads the files (load.c), this file only judges their text.
 *
 * The grammar is small and strict, and every line is judged whole before
 * any of it reaches the policy: a line is blank, a comment (';' or '#'
 * first), "[label]" (a comment may follow), or "key = value" starting in
 * the first column, where " ;" or "\t;" begins a comment. Anything else,
 * including a line over MAX_TABLE_LINE bytes, a control or non-ASCII byte
 * and an indented line, is an error, and any error anywhere rejects the
 * whole table. There is no continuation line, no quoting and no escape. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

struct reader {
	struct table *t;
	long cur;          /* index of the current section, -1 before the first */
	bool pending;      /* a [header] was read, its section not yet created */
	bool skipping;     /* a bad [header] was read: ignore keys up to the next */
	bool open;         /* t->s[t->n - 1] is the section being read */
	unsigned pending_line;
	char label[MAX_LABEL + 1];
};

void table_init(struct table *t, FILE *errout)
{
	memset(t, 0, sizeof(*t));
	t->errout = errout;
}

void table_error(struct table *t, const char *fmt, ...)
{
	va_list ap;

	t->errors++;
	if (!t->errout)
		return;
	if (t->file && t->line)
		fprintf(t->errout, "%s:%u: ", t->file, t->line);
	else if (t->file)
		fprintf(t->errout, "%s: ", t->file);
	else
		fprintf(t->errout, "portbind: ");
	va_start(ap, fmt);
	vfprintf(t->errout, fmt, ap);
	va_end(ap);
	fputc('\n', t->errout);
}

static bool is_label_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "[label]", then only blanks or a comment. Returns the label length, 0 if bad. */
static size_t header_label(const char *s, size_t len)
{
	size_t n = 1;

	while (n < len && is_label_char(s[n]))
		n++;
	if (n == 1 || n - 1 > MAX_LABEL || n >= len || s[n] != ']')
		return 0;
	for (size_t i = n + 1; i < len; i++) {
		if (s[i] == ';' || s[i] == '#')
			break;
		if (!is_blank(s[i]))
			return 0;
	}
	return n - 1;
}

/* Room for n sections. */
static bool table_reserve(struct table *t, size_t n)
{
	if (n > t->cap) {
		size_t cap = n > 2 * t->cap ? n : 2 * t->cap;
		struct section *v = realloc(t->s, cap * sizeof(*v));
		if (!v)
			return false;
		t->s = v;
		t->cap = cap;
	}
	return true;
}

/* Room for n labels in all; false when out of memory. */
static bool labels_reserve(struct table *t, size_t n)
{
	if (n > t->firsts_cap) {
		size_t cap = n > 2 * t->firsts_cap ? n : 2 * t->firsts_cap;
		struct first *v = realloc(t->firsts, cap * sizeof(*v));
		if (!v)
			return false;
		t->firsts = v;
		t->firsts_cap = cap;
	}
	return strmap_reserve(&t->labels, n);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void section_free(struct section *s)
{
	free(s->ports.v);
	free(s->uids.v);
	free(s->gids.v);
	free_names(s->users, s->nusers);
	free_names(s->groups, s->ngroups);
	free(s->addrs);
	free(s->program);
	restrict_free(&s->restrict_net);
}

static void finish_section(struct table *t, struct section *sec)
{
	unsigned who = (1u << K_USER) | (1u << K_GROUP) | (1u << K_UID) | (1u << K_GID);

	t->line = sec->line;
	if (!(sec->keys & (1u << K_PORT)))
		table_error(t, "[%s] has no port", sec->label);
	if (!(sec->keys & who))
		table_error(t, "[%s] grants to nobody: give user, group, uid or gid", sec->label);
	if (!(sec->keys & (1u << K_PROTOCOL)))
		sec->protos = PROTO_TCP | PROTO_UDP;
}

/* Could the section decide one of the launch's requests? policy_decide()
 * passes over every section that does not list the protocol and port. */
static bool decides(const struct table *t, const struct section *s)
{
	for (size_t i = 0; i < t->nonly; i++)
		if ((s->protos & (unsigned)t->only[i].proto) && ranges_has(&s->ports, t->only[i].port))
			return true;
	return false;
}

/* The open section is complete: judged whole, and for a launch, forgotten
 * unless it could decide one of its requests (its label is kept, so a
 * duplicate is still found). */
static void end_section(struct reader *r)
{
	struct table *t = r->t;
	unsigned here = t->line;
	struct section *sec;

	if (!r->open)
		return;
	r->open = false;
	sec = &t->s[t->n - 1];
	finish_section(t, sec);
	t->line = here;
	if (t->only && !decides(t, sec)) {
		section_free(sec);
		t->n--;
	}
}

static void header(struct reader *r, const char *s, size_t len)
{
	struct table *t = r->t;
	size_t n = header_label(s, len), first;

	end_section(r);
	if (r->pending) {
		unsigned here = t->line;
		t->line = r->pending_line;
		table_error(t, "section [%s] has no keys", r->label);
		t->line = here;
	}
	r->pending = false;
	r->skipping = true;
	if (n == 0) {
		table_error(t, "bad section header: want [label] with 1-%d of A-Z a-z 0-9 _ . -",
			    MAX_LABEL);
		return;
	}
	memcpy(r->label, s + 1, n);
	r->label[n] = '\0';
	if (strmap_get(&t->labels, r->label, &first)) {
		table_error(t, "duplicate section [%s] (first at %s:%u)", r->label,
			    t->firsts[first].file, t->firsts[first].line);
		return;
	}
	r->pending = true;
	r->skipping = false;
	r->pending_line = t->line;
}

/* The section the keys that follow go to: created at its first key. */
static struct section *current(struct reader *r)
{
	struct table *t = r->t;

	if (r->pending) {
		if (!table_reserve(t, t->n + 1)) {
			table_error(t, "out of memory");
			return NULL;
		}
		struct section *sec = memset(&t->s[t->n], 0, sizeof(*sec));
		memcpy(sec->label, r->label, sizeof(sec->label));
		sec->file = t->file;
		sec->line = r->pending_line;
		r->cur = (long)t->n++;
		r->pending = false;
		r->open = true;
		if (!labels_reserve(t, t->labels.n + 1) ||
		    !strmap_put(&t->labels, sec->label, t->labels.n)) {
			table_error(t, "out of memory");
			return NULL;
		}
		t->firsts[t->labels.n - 1] = (struct first){ sec->file, sec->line };
	}
	if (r->cur < 0) {
		table_error(t, "key before any [section]");
		return NULL;
	}
	return &t->s[r->cur];
}

/* The key named s (len bytes), or K_COUNT. */
static int key_of(const char *s, size_t len)
{
	for (int k = 0; k < K_COUNT; k++)
		if (strlen(key_names[k]) == len && memcmp(s, key_names[k], len) == 0)
			return k;
	return K_COUNT;
}

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

/* A value's tokens, between blanks and commas; "address = ," has none and
 * must not become "no address restriction". restrict_net's is read whole
 * (its commas belong to connect=PORTS). */
static void value(struct table *t, struct section *sec, int k, const char *v, size_t len)
{
	unsigned tokens = 0;

	if (k == K_RESTRICT_NET) {
		char whole[MAX_TABLE_LINE + 1];
		memcpy(whole, v, len);
		whole[len] = '\0';
		restrict_key(t, sec, whole);
		return;
	}
	for (size_t i = 0, n; i < len; i += n) {
		while (i < len && is_sep(v[i]))
			i++;
		for (n = 0; i + n < len && !is_sep(v[i + n]); n++)
			;
		if (n == 0)
			break;
		tokens++;
		if (!add_token(t, sec, (enum key)k, v + i, n)) {
			table_error(t, "out of memory");
			return;
		}
	}
	if (tokens == 0)
		table_error(t, "empty value for '%s'", key_names[k]);
}

/* "key = value": s (len bytes, no control byte, first byte not blank),
 * split at eq, its first '='. */
static void key_value(struct reader *r, const char *s, size_t len, const char *eq)
{
	struct table *t = r->t;
	size_t nlen = (size_t)(eq - s), i = nlen + 1, vlen = 0;
	struct section *sec;
	int k;

	if (r->skipping && r->cur >= 0)
		return;
	if (!(sec = current(r)))
		return;
	while (nlen > 0 && is_blank(s[nlen - 1]))
		nlen--;
	if ((k = key_of(s, nlen)) == K_COUNT) {
		table_error(t, "unknown key '%.*s'", (int)nlen, s);
		return;
	}
	if (sec->keys & (1u << k)) {
		table_error(t, "duplicate key '%s' in [%s]", key_names[k], sec->label);
		return;
	}
	sec->keys |= 1u << k;
	sec->key_line[k] = t->line;
	/* The value: a comment, from a ';' after a blank, goes; then the
	 * blanks around what is left. */
	while (i + vlen < len && !(s[i + vlen] == ';' && vlen > 0 && is_blank(s[i + vlen - 1])))
		vlen++;
	for (; vlen > 0 && is_blank(s[i]); vlen--)
		i++;
	while (vlen > 0 && is_blank(s[i + vlen - 1]))
		vlen--;
	value(t, sec, k, s + i, vlen);
}

/* One line, without its '\n'. A ':' before the first '=' is refused, since
 * INI readers elsewhere take it as the separator and would read another
 * key. */
static void parse_line(struct reader *r, const char *s, size_t len)
{
	struct table *t = r->t;
	const char *eq = NULL;
	bool colon = false;
	size_t i = 0;

	if (len > MAX_TABLE_LINE) {
		table_error(t, "line longer than %d bytes", MAX_TABLE_LINE);
		return;
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			table_error(t, "control or non-ASCII byte 0x%02x", c);
			return;
		}
		if (c == '=' && !eq)
			eq = s + k;
		colon |= c == ':' && !eq;
	}
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == ';' || s[i] == '#')
		return;
	if (i > 0)
		table_error(t, "indented line (would continue the previous value)");
	else if (s[0] == '[')
		header(r, s, len);
	else if (!eq || colon)
		table_error(t, "want 'key = value'");
	else
		key_value(r, s, len, eq);
}

/* Parse one file's bytes into t. Errors are counted in t->errors. */
void table_parse(struct table *t, const char *file, const char *buf, size_t len)
{
	struct reader r = { .t = t, .cur = -1 };
	const char *p = buf, *end = buf + len;

	t->file = file;
	t->line = 0;
	t->nfiles++;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		t->line++;
		parse_line(&r, p, n);
		p = nl ? nl + 1 : end;
	}
	end_section(&r);
	if (r.pending) {
		t->line = r.pending_line;
		table_error(t, "section [%s] has no keys", r.label);
	}
	t->file = NULL;
}

/* Keep a malloc'd file name alive as long as the table (sections point to it). */
bool table_keep(struct table *t, char *path)
{
	char **v = realloc(t->paths, (t->npaths + 1) * sizeof(*v));

	if (!v) {
		table_error(t, "out of memory");
		free(path);
		return false;
	}
	t->paths = v;
	t->paths[t->npaths++] = path;
	return true;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		section_free(&t->s[i]);
	free(t->s);
	strmap_free(&t->labels);
	free(t->firsts);
	t->firsts = NULL;
	t->firsts_cap = 0;
	t->cap = 0;
	free_names(t->paths, t->npaths);
	for (size_t i = 0; i < t->nstamps; i++)
		free(t->stamps[i].path);
	free(t->stamps);
	t->stamps = NULL;
	t->nstamps = 0;
	t->s = NULL;
	t->paths = NULL;
	t->n = t->npaths = 0;
}
