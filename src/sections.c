/* sections.c: the table in memory: its sections, the file names they
 * point to and its errors, and the labels of a table being read.
 * Pure apart from memory (malloc, and madvise for a big table) and the
 * error stream; table.c fills it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "portbind.h"

#define POPULATE_MIN 65536 /* bytes: smaller blocks are not worth a call */

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

/* Memory about to be written all over: its pages faulted in by the
 * kernel in one call (MADV_POPULATE_WRITE, Linux 5.14) rather than one
 * page fault at a time, which costs a big table several milliseconds on a
 * virtual machine. Only a hint: the data is not touched, and a kernel
 * without it (EINVAL) or short of memory just leaves the faults to come. */
static void populate(void *p, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + size) & ~(page - 1);

	if (size >= POPULATE_MIN && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
}

/* Room for n sections in all (false when out of memory): a table read
 * whole is given its size at once, as many sections as it has labels. */
bool table_reserve(struct table *t, size_t n)
{
	struct section *v;

	if (n <= t->cap)
		return true;
	if (!(v = realloc(t->s, n * sizeof(*v))))
		return false;
	populate(v + t->cap, (n - t->cap) * sizeof(*v));
	t->s = v;
	t->cap = n;
	return true;
}

/* A new, empty section at the end of the table; NULL when out of memory. */
struct section *section_new(struct table *t)
{
	if (t->n == t->cap && !table_reserve(t, t->cap ? 2 * t->cap : 16))
		return NULL;
	return memset(&t->s[t->n++], 0, sizeof(struct section));
}

/* The labels of the table being read, to find a duplicate in one lookup.
 * A label is not copied: it is read where it stands in its text, which
 * outlives the set (table_parse_texts() holds both). Open addressing, at
 * most three quarters full, sized once for as many labels as the texts
 * have '[' bytes, since a label begins a line with one: the set never
 * grows. Eight bytes a slot and twelve a label, the memory a launch
 * touches for every section of a big table. False when out of memory. */
bool labels_init(struct labels *l, const struct table_text *texts, size_t ntexts)
{
	size_t max = 0;

	memset(l, 0, sizeof(*l));
	l->texts = texts;
	for (size_t i = 0; i < ntexts; i++) {
		const char *p = texts[i].buf, *end = p + texts[i].len;
		while (p < end && (p = memchr(p, '[', (size_t)(end - p))))
			max++, p++;
	}
	if (max >= UINT32_MAX / 2)
		return false;
	for (l->cap = 64; 4 * max > 3 * l->cap;)
		l->cap *= 2;
	l->max = max;
	l->v = malloc(l->cap * sizeof(*l->v) + max * sizeof(*l->at));
	if (!l->v)
		return false;
	populate(l->v, l->cap * sizeof(*l->v) + max * sizeof(*l->at));
	memset(l->v, 0, l->cap * sizeof(*l->v));
	l->at = (struct label_at *)(l->v + l->cap);
	return true;
}

/* Is the label at b (which ends at a ']' in its text) the len bytes at s?
 * Compared byte by byte, so that nothing past b's ']' is read. */
static bool same_label(const char *b, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && b[i] == s[i])
		i++;
	return i == len && b[len] == ']';
}

/* The label at s (len bytes before a ']', in text number `text`, on line
 * *line): 0 if new, 1 if seen before, with where it first was in *file
 * and *line; -1 if the set is full, which one label a '[' rules out. */
int labels_add(struct labels *l, size_t text, const char *s, size_t len, const char **file,
	       unsigned *line)
{
	uint32_t h = strmap_hash(s, len);
	size_t i = h & (l->cap - 1);

	for (; l->v[i].k; i = (i + 1) & (l->cap - 1)) {
		const struct label_at *a = &l->at[l->v[i].k - 1];
		if (l->v[i].hash == h && same_label(l->texts[a->text].buf + a->off, s, len)) {
			*file = l->texts[a->text].file;
			*line = a->line;
			return 1;
		}
	}
	if (l->n == l->max)
		return -1;
	l->at[l->n++] = (struct label_at){ (uint32_t)(s - l->texts[text].buf), *line, (uint32_t)text };
	l->v[i] = (struct label_slot){ h, (uint32_t)l->n };
	return 0;
}

void labels_free(struct labels *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
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
