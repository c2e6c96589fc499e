/* The table parser on several files at once (inputs split at byte 0xff),
 * then the decision on every section. Checks what a table that parsed
 * without error must be: every section valid, labels unique, a port and a
 * grantee each, and the decision never granted for a port it does not list.
 * A launch's reading, which keeps only the sections that could decide its
 * request, must count the same errors and decide the same. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../src/portbind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct section *s = &t->s[i];
		size_t len = strlen(s->label);
		if (len == 0 || len > MAX_LABEL || strspn(s->label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
			abort();
		if (s->ports.n == 0 || s->protos == 0 ||
		    !(s->everyone || s->uids.n || s->gids.n || s->nusers || s->ngroups))
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->s[j].label, s->label) == 0)
				abort();
	}
}

static void decide(const struct table *t)
{
	gid_t supp[2] = { 100, 59050 };
	struct ident id = { 59001, 59001, supp, 2, NULL };
	struct spec sp = { .proto = PROTO_TCP };
	enum verdict why;

	for (unsigned port = 1; port < 1100; port += 7) {
		sp.port = (uint16_t)port;
		sp.proto = port & 1 ? PROTO_UDP : PROTO_TCP;
		sp.addr.family = (port & 6) == 2 ? AF_INET : (port & 6) == 4 ? AF_INET6 : 0;
		const struct section *s = policy_decide(t, &sp, &id, 1, 2, 1024, &why);
		if ((why == GRANT_SECTION) != (s != NULL))
			abort();
		if (s && (!ranges_has(&s->ports, port) || !(s->protos & (unsigned)sp.proto)))
			abort();
		if (why == GRANT_FREE && port < 1024)
			abort();
	}
}

/* Parses up to four files of data, each a copy of its own (as each table
 * file is a mapping of its own); returns how many bytes were read. */
static size_t parse(struct table *t, const uint8_t *data, size_t size, const struct spec *only,
		    bool judge_only)
{
	static const char *const names[] = { "a.conf", "b.conf", "c.conf", "d.conf" };
	struct table_text texts[4];
	size_t start = 0, n = 0;

	table_init(t, NULL);
	t->only = only;
	t->nonly = only ? 1 : 0;
	t->judge_only = judge_only;
	for (size_t i = 0; i <= size && n < 4; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		texts[n] = (struct table_text){ names[n], malloc(i - start + 1), i - start };
		if (!texts[n].buf)
			abort();
		memcpy(texts[n++].buf, data + start, i - start);
		start = i + 1;
	}
	table_parse_texts(t, texts, n);
	for (size_t i = 0; i < n; i++)
		free(texts[i].buf);
	return start < size ? start : size;
}

/* A table read without error holds no byte but printable ASCII, tab and
 * newline (and the 0xff that split the files). */
static void check_bytes(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (data[i] != 0xff && data[i] != '\n' && data[i] != '\t' &&
		    (data[i] < 0x20 || data[i] > 0x7e))
			abort();
}

/* The launch's reading of the table against the whole one, for a few SPECs. */
static void launch_reads_alike(const struct table *whole, const uint8_t *data, size_t size)
{
	struct ident id = { 59001, 59001, NULL, 0, NULL };
	struct spec sp = { .proto = PROTO_TCP };
	enum verdict a, b;

	for (unsigned port = 1; port < 1100; port += 97) {
		struct table t;
		sp.port = (uint16_t)port;
		sp.proto = port & 2 ? PROTO_UDP : PROTO_TCP;
		sp.addr.family = port & 4 ? AF_INET : 0;
		parse(&t, data, size, &sp, false);
		const struct section *x = policy_decide(whole, &sp, &id, 1, 2, 1024, &a);
		const struct section *y = policy_decide(&t, &sp, &id, 1, 2, 1024, &b);
		if (t.errors != whole->errors || a != b || (x == NULL) != (y == NULL) ||
		    (x && strcmp(x->label, y->label) != 0))
			abort();
		table_free(&t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table t, judged;
	size_t used = parse(&t, data, size, NULL, false);

	/* --check's reading, which keeps no section, finds the same errors
	 * in as many sections as the whole table has. */
	parse(&judged, data, size, NULL, true);
	if (judged.errors != t.errors || judged.sections != t.n || judged.n != 0)
		abort();
	table_free(&judged);

	if (t.errors == 0) {
		check_bytes(data, used);
		check(&t);
		decide(&t);
		launch_reads_alike(&t, data, size);
	}
	table_free(&t);
	return 0;
}
