/* sections.c: the table in memory: its sections, its labels with where
 * each was first seen, the file names they point to, and its errors.
 * Pure apart from malloc and the error stream; table.c fills it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

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

/* A new, empty section at the end of the table; NULL when out of memory. */
struct section *section_new(struct table *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct section *v = realloc(t->s, cap * sizeof(*v));
		if (!v)
			return NULL;
		t->s = v;
		t->cap = cap;
	}
	return memset(&t->s[t->n++], 0, sizeof(struct section));
}

/* Room for n labels in all, and where each was first seen; false when out
 * of memory. */
bool table_reserve(struct table *t, size_t n)
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

/* A new label, first seen here: 0, or 1 and *first (its index in
 * t->firsts) if it was seen before; -1 when out of memory. */
int label_add(struct table *t, const char *label, unsigned line, uint32_t *first)
{
	int rc;

	if (!table_reserve(t, t->labels.n + 1))
		return -1;
	rc = strmap_add(&t->labels, label, (uint32_t)t->labels.n, first);
	if (rc == 0)
		t->firsts[t->labels.n - 1] = (struct first){ t->file, line };
	return rc;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void section_free(struct section *s)
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
