/* strmap.c: a map from strings to numbers, for lookups that must not cost
 * a pass over the whole table each (the names resolved; the labels have a
 * set of their own, in sections.c, with this hash). Open addressing, at
 * most three quarters full, the hash kept in the slot; keys copied
 * into blocks that never move, a few kilobytes at a time rather than one
 * allocation each. Pure apart from malloc. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

#define KEY_BLOCK 4096

struct strmap_keys {
	struct strmap_keys *next;
	size_t used, size;
	char bytes[];
};

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
bool strmap_reserve(struct strmap *m, size_t n)
{
	struct strmap bigger = { NULL, m->cap ? m->cap : 64, m->n, m->keys };

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

/* A copy of key in the current key block, or in a new one. */
static const char *keep_key(struct strmap *m, const char *key)
{
	size_t len = strlen(key) + 1;
	struct strmap_keys *b = m->keys;

	if (!b || b->size - b->used < len) {
		size_t size = len > KEY_BLOCK ? len : KEY_BLOCK;
		if (!(b = malloc(sizeof(*b) + size)))
			return NULL;
		b->next = m->keys;
		b->used = 0;
		b->size = size;
		m->keys = b;
	}
	memcpy(b->bytes + b->used, key, len);
	b->used += len;
	return b->bytes + b->used - len;
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
	if (!(m->v[i].key = keep_key(m, key)))
		return -1;
	m->v[i].hash = h;
	m->v[i].val = val;
	m->n++;
	return 0;
}

void strmap_free(struct strmap *m)
{
	while (m->keys) {
		struct strmap_keys *next = m->keys->next;
		free(m->keys);
		m->keys = next;
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
