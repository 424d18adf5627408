/*
 * The receipt matching table (see bench_ids.h): a pool of entries and an
 * open-addressing index over their keys (linear probing, deletion by
 * backward shift, so no tombstones pile up in a long run). An entry has
 * one key in exact mode and up to three in hexdec mode; the index may
 * hold the same key for several entries.
 */
#include <stdlib.h>
#include <string.h>

#include "smpp/dlr.h"

#include "bench_ids.h"

#define MAX_KEYS	3
#define NONE		UINT32_MAX

struct entry {
	uint64_t	value;
	uint64_t	keys[MAX_KEYS];
	uint8_t		nkeys;
};

struct islot {
	uint64_t	key;		/* 0 = empty */
	uint32_t	entry;
};

struct bench_ids {
	enum bench_id_match	 match;
	struct entry		*entries;
	uint32_t		*free_stack;
	size_t			 n_free;
	size_t			 cap;
	struct islot		*index;
	size_t			 mask;
	size_t			 count;
};

static uint64_t
mix(uint64_t x)
{
	/* splitmix64's finaliser: every input bit moves every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t
hash_text(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a, then mixed */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ull;
	}
	h = mix(h ^ len);
	return h != 0 ? h : 1;
}

static uint64_t
hash_number(uint64_t v)
{
	uint64_t h = mix(v ^ 0x6e756d6265727321ull);

	return h != 0 ? h : 1;
}

/* The keys of an id; returns how many (0 for a bad id). */
static int
id_keys(enum bench_id_match m, const char *id, size_t len,
    uint64_t keys[MAX_KEYS])
{
	struct smpp_dlr_idset set;
	int n = 0;

	if (len == 0 || len > SMPP_DLR_ID_MAX)
		return 0;
	if (m == BENCH_ID_EXACT) {
		keys[0] = hash_text(id, len);
		return 1;
	}
	if (smpp_dlr_id_canon(id, len, SMPP_DLR_ID_TOLERANT, &set, NULL) != 0)
		return 0;
	keys[n++] = hash_text(set.text, strlen(set.text));
	if (set.has_hex)
		keys[n++] = hash_number(set.hex);
	if (set.has_dec && !(set.has_hex && set.dec == set.hex))
		keys[n++] = hash_number(set.dec);
	return n;
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static void
init_free(struct bench_ids *t)
{
	/* Entries are handed out from the bottom of the pool first. */
	for (size_t i = 0; i < t->cap; i++)
		t->free_stack[i] = (uint32_t)(t->cap - 1 - i);
	t->n_free = t->cap;
	t->count = 0;
}

struct bench_ids *
bench_ids_new(size_t max_entries, enum bench_id_match m)
{
	struct bench_ids *t;
	size_t nslots;

	if (max_entries == 0 || max_entries > ((size_t)1 << 26))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->match = m;
	t->cap = max_entries;
	/* At most half full: probes stay short. */
	nslots = pow2_at_least(max_entries * (m == BENCH_ID_EXACT ? 1 :
	    MAX_KEYS) * 2);
	t->mask = nslots - 1;
	t->entries = calloc(max_entries, sizeof(*t->entries));
	t->free_stack = calloc(max_entries, sizeof(*t->free_stack));
	t->index = calloc(nslots, sizeof(*t->index));
	if (t->entries == NULL || t->free_stack == NULL || t->index == NULL) {
		bench_ids_free(t);
		return NULL;
	}
	/* calloc zeroed the index: its pages stay untouched until used. */
	init_free(t);
	return t;
}

void
bench_ids_free(struct bench_ids *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->free_stack);
	free(t->index);
	free(t);
}

void
bench_ids_clear(struct bench_ids *t)
{
	init_free(t);
	memset(t->index, 0, (t->mask + 1) * sizeof(*t->index));
}

size_t
bench_ids_count(const struct bench_ids *t)
{
	return t->count;
}

static void
index_insert(struct bench_ids *t, uint64_t key, uint32_t e)
{
	size_t i = (size_t)key & t->mask;

	while (t->index[i].key != 0)
		i = (i + 1) & t->mask;
	t->index[i].key = key;
	t->index[i].entry = e;
}

/* Removes the slot at i and shifts back the run that follows it. */
static void
index_delete_at(struct bench_ids *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (t->index[j].key == 0)
			break;
		home = (size_t)t->index[j].key & t->mask;
		/* Move j back to i unless its home lies cyclically in
		 * (i, j]: then it is already as close as it can be. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->index[i] = t->index[j];
		i = j;
	}
	t->index[i].key = 0;
	t->index[i].entry = 0;
}

static void
index_delete(struct bench_ids *t, uint64_t key, uint32_t e)
{
	size_t i = (size_t)key & t->mask;

	while (t->index[i].key != 0) {
		if (t->index[i].key == key && t->index[i].entry == e) {
			index_delete_at(t, i);
			return;
		}
		i = (i + 1) & t->mask;
	}
}

int
bench_ids_put(struct bench_ids *t, const char *id, size_t len,
    uint64_t value)
{
	uint64_t keys[MAX_KEYS];
	struct entry *en;
	uint32_t e;
	int n;

	if ((n = id_keys(t->match, id, len, keys)) == 0)
		return BENCH_IDS_EBADID;
	if (t->n_free == 0)
		return BENCH_IDS_EFULL;
	e = t->free_stack[--t->n_free];
	en = &t->entries[e];
	en->value = value;
	en->nkeys = (uint8_t)n;
	for (int k = 0; k < n; k++) {
		en->keys[k] = keys[k];
		index_insert(t, keys[k], e);
	}
	t->count++;
	return 0;
}

/* The entry matching id, or NONE. */
static uint32_t
find(const struct bench_ids *t, const char *id, size_t len)
{
	uint64_t keys[MAX_KEYS];
	int n = id_keys(t->match, id, len, keys);

	for (int k = 0; k < n; k++) {
		size_t i = (size_t)keys[k] & t->mask;

		while (t->index[i].key != 0) {
			if (t->index[i].key == keys[k])
				return t->index[i].entry;
			i = (i + 1) & t->mask;
		}
	}
	return NONE;
}

int
bench_ids_peek(const struct bench_ids *t, const char *id, size_t len,
    uint64_t *value)
{
	uint32_t e = find(t, id, len);

	if (e == NONE)
		return 0;
	if (value != NULL)
		*value = t->entries[e].value;
	return 1;
}

int
bench_ids_take(struct bench_ids *t, const char *id, size_t len,
    uint64_t *value)
{
	uint32_t e = find(t, id, len);
	struct entry *en;

	if (e == NONE)
		return 0;
	en = &t->entries[e];
	if (value != NULL)
		*value = en->value;
	for (int k = 0; k < en->nkeys; k++)
		index_delete(t, en->keys[k], e);
	en->nkeys = 0;
	t->free_stack[t->n_free++] = e;
	t->count--;
	return 1;
}
