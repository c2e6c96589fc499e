/* strmap.c: a map from strings to numbers, for lookups that must not cost
 * a pass over the whole table each (the names resolved; the labels have a
 * set of their own, in sections.c, with this hash). Open addressing, at
 * most three quarters full, the hash kept in the slot, each key a copy.
 * Pure apart from malloc. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

/* The hash of the len bytes at key (for the labels in sections.c too). */
uint32_t strmap_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
	/* A multiply carries only upwards: fold the high bits into the low
	 * ones the mask keeps (MurmurHash3's finalizer). */
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 33));
}

/* The slot of KEY (hash h), or the empty one where it would go: strings
 * are compared only when the hashes agree. */
static size_t slot(const struct strmap *m, const char *key, uint32_t h)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->v[i].key || (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0))
			return i;
}

bool strmap_get(const struct strmap *m, const char *key, uint32_t *val)
{
	size_t i = m->cap ? slot(m, key, strmap_hash(key, strlen(key))) : 0;

	if (!m->cap || !m->v[i].key)
		return false;
	*val = m->v[i].val;
	return true;
}

/* Room for n keys in all; false when out of memory. */
static bool strmap_reserve(struct strmap *m, size_t n)
{
	struct strmap bigger = { NULL, m->cap ? m->cap : 64, m->n };

	while (4 * n > 3 * bigger.cap)
		bigger.cap *= 2;
	if (bigger.cap == m->cap)
		return true;
	if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v))))
		return false;
	for (size_t k = 0; k < m->cap; k++) {
		size_t i = m->v[k].hash & (bigger.cap - 1);
		if (!m->v[k].key)
			continue;
		while (bigger.v[i].key)
			i = (i + 1) & (bigger.cap - 1);
		bigger.v[i] = m->v[k];
	}
	free(m->v);
	*m = bigger;
	return true;
}

/* Adds key with val and returns 0, or, if key is there already, sets *old
 * to its value and returns 1; -1 when out of memory. */
int strmap_add(struct strmap *m, const char *key, uint32_t val, uint32_t *old)
{
	uint32_t h = strmap_hash(key, strlen(key));
	size_t i;

	if (!strmap_reserve(m, m->n + 1))
		return -1;
	i = slot(m, key, h);
	if (m->v[i].key) {
		*old = m->v[i].val;
		return 1;
	}
	if (!(m->v[i].key = strdup(key)))
		return -1;
	m->v[i].hash = h;
	m->v[i].val = val;
	m->n++;
	return 0;
}

void strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
