/* strmap.c: a map from strings to numbers, for lookups that must not cost
 * a pass over the whole table each (section labels, resolved names). Open
 * addressing, at most half full, keys copied. Pure apart from malloc. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

static uint64_t hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	/* A multiply carries only upwards: fold the high bits into the low
	 * ones the mask keeps (MurmurHash3's finalizer). */
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* The slot of KEY (hash h), or the empty one where it would go. The hash
 * is kept in the slot: a probe compares strings only when hashes agree. */
static size_t slot(const struct strmap *m, const char *key, uint64_t h)
{
	for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->v[i].key || (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0))
			return i;
}

/* A key known to be absent (growing): its first empty slot. */
static size_t empty_slot(const struct strmap *m, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->v[i].key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	size_t i = m->cap ? slot(m, key, hash(key)) : 0;

	if (!m->cap || !m->v[i].key)
		return false;
	*val = m->v[i].val;
	return true;
}

/* Room for n keys; false when out of memory. */
bool strmap_reserve(struct strmap *m, size_t n)
{
	struct strmap bigger = { NULL, m->cap ? m->cap : 64, m->n };

	while (2 * n > bigger.cap)
		bigger.cap *= 2;
	if (bigger.cap == m->cap)
		return true;
	if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v))))
		return false;
	for (size_t k = 0; k < m->cap; k++)
		if (m->v[k].key)
			bigger.v[empty_slot(&bigger, m->v[k].hash)] = m->v[k];
	free(m->v);
	*m = bigger;
	return true;
}

/* Adds or replaces; false when out of memory. */
bool strmap_put(struct strmap *m, const char *key, size_t val)
{
	uint64_t h = hash(key);
	size_t i;

	if (!strmap_reserve(m, m->n + 1))
		return false;
	i = slot(m, key, h);
	if (!m->v[i].key) {
		if (!(m->v[i].key = strdup(key)))
			return false;
		m->v[i].hash = h;
		m->n++;
	}
	m->v[i].val = val;
	return true;
}

void strmap_free(struct strmap *m)
{
	for (size_t k = 0; k < m->cap; k++)
		free(m->v[k].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
