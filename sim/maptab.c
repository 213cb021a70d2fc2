/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-connection table of foreign mappings; see maptab.h. */
#include <errno.h>
#include <stdlib.h>

#include "maptab.h"

#define EMPTY UINT64_MAX

static size_t slot_of(const struct maptab *t, uint64_t gfn)
{
	return (size_t)((gfn * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1);
}

static int grow(struct maptab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	uint64_t *keys = malloc(cap * sizeof(*keys));
	uint32_t *counts = malloc(cap * sizeof(*counts));
	struct maptab n = { keys, counts, cap, 0 };

	if (!keys || !counts) {
		free(keys);
		free(counts);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		keys[i] = EMPTY;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (t->keys[i] == EMPTY)
			continue;
		for (j = slot_of(&n, t->keys[i]); keys[j] != EMPTY;
		     j = (j + 1) & (cap - 1))
			;
		keys[j] = t->keys[i];
		counts[j] = t->counts[i];
		n.len++;
	}
	free(t->keys);
	free(t->counts);
	*t = n;
	return 0;
}

int maptab_add(struct maptab *t, uint64_t gfn)
{
	size_t i;

	if ((t->len + 1) * 2 > t->cap && grow(t) < 0)
		return -ENOMEM;
	for (i = slot_of(t, gfn); t->keys[i] != EMPTY;
	     i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == gfn) {
			if (t->counts[i] == UINT32_MAX)
				return -ENOMEM;
			t->counts[i]++;
			return 0;
		}
	}
	t->keys[i] = gfn;
	t->counts[i] = 1;
	t->len++;
	return 0;
}

int maptab_del(struct maptab *t, uint64_t gfn)
{
	size_t i, j, mask = t->cap - 1;

	if (!t->cap)
		return -ENOENT;
	for (i = slot_of(t, gfn); t->keys[i] != gfn; i = (i + 1) & mask)
		if (t->keys[i] == EMPTY)
			return -ENOENT;
	if (--t->counts[i])
		return 0;
	/* Backward-shift deletion keeps probe chains intact. */
	for (j = (i + 1) & mask; t->keys[j] != EMPTY; j = (j + 1) & mask) {
		size_t home = slot_of(t, t->keys[j]);

		/* Move j into the hole i unless home lies in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t->keys[i] = t->keys[j];
			t->counts[i] = t->counts[j];
			i = j;
		}
	}
	t->keys[i] = EMPTY;
	t->len--;
	return 0;
}

void maptab_drain(struct maptab *t, void (*fn)(void *, uint64_t, uint32_t),
		  void *ctx)
{
	for (size_t i = 0; i < t->cap; i++) {
		if (t->keys[i] == EMPTY)
			continue;
		fn(ctx, t->keys[i], t->counts[i]);
		t->keys[i] = EMPTY;
	}
	t->len = 0;
}

void maptab_free(struct maptab *t)
{
	free(t->keys);
	free(t->counts);
	t->keys = NULL;
	t->counts = NULL;
	t->cap = t->len = 0;
}
