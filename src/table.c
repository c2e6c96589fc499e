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
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

struct reader {
	struct table *t;
	struct labels *labels; /* of every text read so far */
	size_t text;           /* the index of this one */
	long cur;          /* index of the current section, -1 before the first */
	bool pending;      /* a [header] was read, its section not yet created */
	bool skipping;     /* a bad [header] was read: ignore keys up to the next */
	bool open;         /* t->s[t->n - 1] is the section being read */
	unsigned pending_line;
	char label[MAX_LABEL + 1];
};

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

/* Could the section decide one of the launch's requests? */
static bool decides(const struct table *t, const struct section *s)
{
	for (size_t i = 0; i < t->nonly; i++)
		if (policy_lists(s, &t->only[i]))
			return true;
	return false;
}

/* The open section is complete: judged whole, and forgotten for a launch
 * unless it could decide one of its requests, or for --check once its
 * names are resolved (its label is kept, so a duplicate is still found). */
static void end_section(struct reader *r)
{
	struct table *t = r->t;
	unsigned here = t->line;
	struct section *sec;

	if (!r->open)
		return;
	r->open = false;
	t->sections++;
	sec = &t->s[t->n - 1];
	finish_section(t, sec);
	if (t->judge_only && t->resolve)
		t->resolve(t, sec);
	t->file = sec->file;
	t->line = here;
	if (t->judge_only || (t->only && !decides(t, sec))) {
		section_free(sec);
		t->n--;
	}
}

static void header(struct reader *r, const char *s, size_t len)
{
	struct table *t = r->t;
	size_t n = header_label(s, len);
	const char *file;
	unsigned line = t->line;

	end_section(r);
	if (r->pending) {
		t->line = r->pending_line;
		table_error(t, "section [%s] has no keys", r->label);
		t->line = line;
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
	switch (labels_add(r->labels, r->text, s + 1, n, &file, &line)) {
	case 0:
		break;
	case 1:
		table_error(t, "duplicate section [%s] (first at %s:%u)", r->label, file, line);
		return;
	default:
		table_error(t, "out of memory");
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
		struct section *sec = section_new(t);
		if (!sec) {
			table_error(t, "out of memory");
			return NULL;
		}
		memcpy(sec->label, r->label, sizeof(sec->label));
		sec->file = t->file;
		sec->line = r->pending_line;
		r->cur = (long)t->n - 1;
		r->pending = false;
		r->open = true;
	}
	if (r->cur < 0) {
		table_error(t, "key before any [section]");
		return NULL;
	}
	return &t->s[r->cur];
}

/* The key named s (len bytes, none of them NUL), or K_COUNT. */
static int key_of(const char *s, size_t len)
{
	for (int k = 0; k < K_COUNT; k++) {
		size_t i = 0;
		while (i < len && key_names[k][i] == s[i])
			i++;
		if (i == len && key_names[k][i] == '\0')
			return k;
	}
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

/* Is every byte printable ASCII, 0x20-0x7e? Eight bytes at a time: a
 * word has a byte below 0x20 exactly when subtracting 0x20 from every byte
 * borrows into the high bit of one that had it clear, and a byte above
 * 0x7e exactly when adding 1 sets the high bit or it was set (Anderson's
 * "bit twiddling hacks": hasless, hasmore). A tab is not printable here;
 * its line is looked at again byte by byte. */
static bool printable(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones << 7;
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		uint64_t w;
		memcpy(&w, s + k, 8);
		if (((w - 0x20 * ones) & ~w & high) || (((w + ones) | w) & high))
			return false;
	}
	for (; k < len; k++)
		if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e)
			return false;
	return true;
}

/* The first byte a line may not hold (neither printable ASCII nor a tab),
 * or NULL. */
static const char *bad_byte(const char *s, size_t len)
{
	if (printable(s, len))
		return NULL;
	for (size_t k = 0; k < len; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') || (unsigned char)s[k] > 0x7e)
			return s + k;
	return NULL;
}

/* One line, without its '\n'. A ':' before the first '=' is refused, since
 * INI readers elsewhere take it as the separator and would read another
 * key. */
static void parse_line(struct reader *r, const char *s, size_t len)
{
	struct table *t = r->t;
	const char *eq, *bad;
	size_t i = 0;

	if (len > MAX_TABLE_LINE) {
		table_error(t, "line longer than %d bytes", MAX_TABLE_LINE);
		return;
	}
	if ((bad = bad_byte(s, len))) {
		table_error(t, "control or non-ASCII byte 0x%02x", (unsigned char)*bad);
		return;
	}
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == ';' || s[i] == '#')
		return;
	if (i > 0)
		table_error(t, "indented line (would continue the previous value)");
	else if (s[0] == '[')
		header(r, s, len);
	else if (!(eq = memchr(s, '=', len)) || memchr(s, ':', (size_t)(eq - s)))
		table_error(t, "want 'key = value'");
	else
		key_value(r, s, len, eq);
}

/* One text's bytes into t. Errors are counted in t->errors. */
static void parse_text(struct table *t, struct labels *labels, size_t text)
{
	struct reader r = { .t = t, .labels = labels, .text = text, .cur = -1 };
	const char *p = labels->texts[text].buf, *end = p + labels->texts[text].len;

	t->file = labels->texts[text].file;
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

/* Every file's text into t, in order, each label checked against those of
 * every text before (duplicates are errors across files too). The texts
 * must stay as they are until this returns. */
void table_parse_texts(struct table *t, const struct table_text *v, size_t n)
{
	struct labels labels;

	/* A table kept whole keeps a section for each label. */
	if (!labels_init(&labels, v, n) ||
	    (!t->only && !t->judge_only && !table_reserve(t, t->n + labels.max)))
		die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		parse_text(t, &labels, i);
	labels_free(&labels);
}
