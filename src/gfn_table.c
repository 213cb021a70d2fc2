/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gfn state table; see gfn_table.h. */
#include "gfn_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int xp_table_init(struct xp_gfn_table *t, uint64_t nr_gfns)
{
	memset(t, 0, sizeof(*t));
	if (nr_gfns == 0 || nr_gfns > (UINT64_C(1) << 40))
		return -EINVAL;
	t->map_len = (size_t)nr_gfns;
	t->st = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->st == MAP_FAILED) {
		t->st = NULL;
		return -ENOMEM;
	}
	t->nr = nr_gfns;
	t->cap = 64;
	t->slots = malloc(t->cap * sizeof(*t->slots));
	if (!t->slots) {
		munmap(t->st, t->map_len);
		t->st = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].gfn = XP_INFLIGHT_EMPTY;
	return 0;
}

void xp_table_fini(struct xp_gfn_table *t)
{
	if (t->slots) {
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].gfn != XP_INFLIGHT_EMPTY)
				free(t->slots[i].more);
		free(t->slots);
	}
	if (t->st)
		munmap(t->st, t->map_len);
	memset(t, 0, sizeof(*t));
}

static inline size_t hash_gfn(uint64_t gfn, size_t cap)
{
	return (size_t)((gfn * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static struct xp_inflight *probe(struct xp_gfn_table *t, uint64_t gfn)
{
	size_t i = hash_gfn(gfn, t->cap);

	while (t->slots[i].gfn != XP_INFLIGHT_EMPTY && t->slots[i].gfn != gfn)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int grow(struct xp_gfn_table *t)
{
	size_t ncap = t->cap * 2, ocap = t->cap;
	struct xp_inflight *old = t->slots, *ns = malloc(ncap * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		ns[i].gfn = XP_INFLIGHT_EMPTY;
	t->slots = ns;
	t->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].gfn != XP_INFLIGHT_EMPTY)
			*probe(t, old[i].gfn) = old[i];
	free(old);
	return 0;
}

struct xp_inflight *xp_inflight_find(struct xp_gfn_table *t, uint64_t gfn)
{
	struct xp_inflight *f;

	if (!(t->st[gfn] & XP_GS_PENDING))
		return NULL;
	f = probe(t, gfn);
	return f->gfn == gfn ? f : NULL;
}

int xp_inflight_add(struct xp_gfn_table *t, uint64_t gfn, uint32_t vcpu,
		    uint32_t flags)
{
	struct xp_inflight *f;
	struct xp_req *r;

	if ((t->used + 1) * 4 > t->cap * 3 && grow(t) < 0)
		return -ENOMEM;
	f = probe(t, gfn);
	if (f->gfn != gfn) {
		f->gfn = gfn;
		f->n = 0;
		f->cap = 0;
		f->more = NULL;
		t->used++;
		t->st[gfn] |= XP_GS_PENDING;
	}
	if (f->n >= XP_INFLIGHT_INLINE + f->cap) {
		uint32_t ncap = f->cap ? f->cap * 2 : 4;
		struct xp_req *m = realloc(f->more, ncap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		f->more = m;
		f->cap = ncap;
	}
	r = xp_inflight_req(f, f->n++);
	r->vcpu = vcpu;
	r->flags = flags;
	return (int)f->n;
}

void xp_inflight_del(struct xp_gfn_table *t, uint64_t gfn)
{
	struct xp_inflight *f = probe(t, gfn);
	size_t i, j;

	t->st[gfn] &= (uint8_t)~XP_GS_PENDING;
	if (f->gfn != gfn)
		return;
	free(f->more);
	f->gfn = XP_INFLIGHT_EMPTY;
	t->used--;
	/* Backward-shift deletion keeps probe chains intact without
	 * tombstones. */
	i = (size_t)(f - t->slots);
	j = i;
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (t->slots[j].gfn == XP_INFLIGHT_EMPTY)
			break;
		size_t home = hash_gfn(t->slots[j].gfn, t->cap);
		/* Move j into the hole at i if its home is not in (i, j]. */
		bool between = (i <= j) ? (home > i && home <= j)
					: (home > i || home <= j);
		if (!between) {
			t->slots[i] = t->slots[j];
			t->slots[j].gfn = XP_INFLIGHT_EMPTY;
			i = j;
		}
	}
}

size_t xp_table_bytes(const struct xp_gfn_table *t, size_t *inflight_bytes)
{
	size_t inf = t->cap * sizeof(*t->slots);

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].gfn != XP_INFLIGHT_EMPTY)
			inf += t->slots[i].cap * sizeof(struct xp_req);
	if (inflight_bytes)
		*inflight_bytes = inf;
	return t->map_len + inf;
}
