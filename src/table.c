/* table.c: one table file's bytes to sections. Pure apart from malloc: the
 * caller reads the files (load.c), this file only judges their text.
 *
 * inih does the key = value splitting and comments, but on its own it would
 * let text reach the policy that the administrator did not write as a grant:
 * it splits lines over 200 bytes and parses the tail as a new line, cuts
 * section names at 49 bytes, stops at a NUL, joins indented lines to the
 * previous value, ignores text after ']' and goes on after errors. So every
 * line passes check_line() in our reader first, a line that fails is handed
 * to inih as blank, and any error anywhere rejects the whole table. */
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

_Static_assert(MAX_TABLE_LINE + 2 <= INI_MAX_LINE, "inih must see whole lines");

struct reader {
	struct table *t;
	const char *p, *end;
	long cur;          /* index of the current section, -1 before the first */
	bool pending;      /* a [header] was read, its section not yet created */
	bool skipping;     /* a bad [header] was read: ignore keys up to the next */
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
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return n - 1;
}

/* Everything inih would otherwise treat silently. Returns false if the line
 * must not reach inih. */
static bool check_line(struct reader *r, const char *s, size_t len)
{
	struct table *t = r->t;
	size_t i = 0;

	if (len > MAX_TABLE_LINE) {
		table_error(t, "line longer than %d bytes", MAX_TABLE_LINE);
		return false;
	}
	for (size_t k = 0; k < len; k++)
		if ((s[k] < 0x20 && s[k] != '\t') || (unsigned char)s[k] > 0x7e) {
			table_error(t, "control or non-ASCII byte 0x%02x", (unsigned char)s[k]);
			return false;
		}
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == ';' || s[i] == '#')
		return true;
	if (i > 0) {
		table_error(t, "indented line (would continue the previous value)");
		return false;
	}
	if (s[0] == '[') {
		size_t n = header_label(s, len);
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
			return false;
		}
		memcpy(r->label, s + 1, n);
		r->label[n] = '\0';
		size_t first;
		if (strmap_get(&t->labels, r->label, &first)) {
			table_error(t, "duplicate section [%s] (first at %s:%u)", r->label,
				    t->s[first].file, t->s[first].line);
			return false;
		}
		r->pending = true;
		r->skipping = false;
		r->pending_line = t->line;
		return true;
	}
	const char *eq = memchr(s, '=', len), *colon = memchr(s, ':', len);
	if (!eq || (colon && colon < eq)) {
		table_error(t, "want 'key = value'");
		return false;
	}
	return true;
}

/* inih's reader: one line per call, checked first; a bad line goes in blank. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	const char *line = r->p, *nl;
	size_t len;

	if (r->p >= r->end)
		return NULL;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	len = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	r->p = nl ? nl + 1 : r->end;
	r->t->line++;
	if (!check_line(r, line, len) || len + 2 > (size_t)num)
		len = 0;
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* Lines that start a section, at most. */
static size_t count_headers(const char *p, const char *end)
{
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		n += *p == '[';
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* Room for n sections, and their labels. */
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
	return strmap_reserve(&t->labels, n);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	struct table *t = r->t;
	struct section *sec;
	int k;

	if (r->skipping && r->cur >= 0)
		return 1;
	if (r->pending) {
		if (!table_reserve(t, t->n + 1)) {
			table_error(t, "out of memory");
			return 1;
		}
		if (strcmp(section, r->label) != 0) {
			table_error(t, "section name mismatch");
			return 1;
		}
		sec = memset(&t->s[t->n], 0, sizeof(*sec));
		memcpy(sec->label, r->label, sizeof(sec->label));
		sec->file = t->file;
		sec->line = r->pending_line;
		r->cur = (long)t->n++;
		r->pending = false;
		if (!strmap_put(&t->labels, sec->label, (size_t)r->cur)) {
			table_error(t, "out of memory");
			return 1;
		}
	}
	if (r->cur < 0) {
		table_error(t, "key before any [section]");
		return 1;
	}
	sec = &t->s[r->cur];
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(name, key_names[k]) == 0)
			break;
	if (k == K_COUNT) {
		table_error(t, "unknown key '%s'", name);
		return 1;
	}
	if (sec->keys & (1u << k)) {
		table_error(t, "duplicate key '%s' in [%s]", name, sec->label);
		return 1;
	}
	sec->keys |= 1u << k;
	sec->key_line[k] = t->line;
	if (k == K_RESTRICT_NET) {
		restrict_key(t, sec, value);
		return 1;
	}
	/* Tokens between blanks and commas; "address = ," has none and must
	 * not become "no address restriction". */
	unsigned tokens = 0;
	for (const char *p = value + strspn(value, " \t,"); *p; tokens++) {
		size_t len = strcspn(p, " \t,");
		if (!add_token(t, sec, (enum key)k, p, len)) {
			table_error(t, "out of memory");
			return 1;
		}
		p += len;
		p += strspn(p, " \t,");
	}
	if (tokens == 0)
		table_error(t, "empty value for '%s'", name);
	return 1;
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

/* Parse one file's bytes into t. Errors are counted in t->errors. */
void table_parse(struct table *t, const char *file, const char *buf, size_t len)
{
	struct reader r = { .t = t, .p = buf, .end = buf + len, .cur = -1 };
	size_t first = t->n;
	int rc;

	/* Room for every section at once: no copies, no rehashing as it grows. */
	if (!table_reserve(t, t->n + count_headers(buf, buf + len))) {
		table_error(t, "out of memory");
		return;
	}

	t->file = file;
	t->line = 0;
	t->nfiles++;
	rc = ini_parse_stream(read_line, &r, on_key, &r);
	if (rc != 0) {
		t->line = rc > 0 ? (unsigned)rc : t->line;
		table_error(t, "syntax error");
	}
	if (r.pending) {
		t->line = r.pending_line;
		table_error(t, "section [%s] has no keys", r.label);
	}
	for (size_t i = first; i < t->n; i++)
		finish_section(t, &t->s[i]);
	t->file = NULL;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
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
	for (size_t i = 0; i < t->n; i++) {
		struct section *s = &t->s[i];
		free(s->ports.v);
		free(s->uids.v);
		free(s->gids.v);
		free_names(s->users, s->nusers);
		free_names(s->groups, s->ngroups);
		free(s->addrs);
		free(s->program);
		restrict_free(&s->restrict_net);
	}
	free(t->s);
	strmap_free(&t->labels);
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
