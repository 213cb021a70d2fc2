/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-in prefetch, for guests that walk their memory in order.
 *
 * When is a fault part of a walk? The pager remembers the heads of the
 * last PF_HISTORY faults: the faulting gfn, or, when a prefetch followed
 * it, the last gfn that prefetch loaded. A fault at gfn f is a step
 * forward when the heads hold a chain of PF_STEPS faults below it, each
 * at most PF_NEAR gfns after the one before, or a shorter chain that
 * ends at a forward prefetch's head (the walk went through what was
 * loaded ahead); backward the same way. Interleaved walks (one per vCPU)
 * each keep their own heads. Faults spread over memory (a hot set,
 * uniform random) almost never form such a chain (for 16 heads among
 * 2,000 gfns out, about one fault in 200,000 would), and prefetch
 * nothing.
 *
 * What is loaded: up to --prefetch gfns after f in the walk's direction
 * that are out and went out with f, i.e. whose records follow f's in the
 * store (a batch's victims are packed into adjacent records, raw or
 * compressed): one more run of the same read, and the same xpage_load
 * batch. They are read, checked and decompressed as any page-in (from
 * the RAM tier when it holds them). It stops at the first gfn that is
 * resident, queued, zero, refused as corrupt or stored elsewhere.
 *
 * Was it worth it? A page loaded ahead is "used" when a later fault of
 * the same walk lies beyond it (the walk went past it without faulting),
 * and "wasted" when it goes out again before that. The guest's reads of
 * a resident page are not visible to a pager, so "used" is inferred from
 * the walk; pages neither used nor wasted yet are "pending".
 */
#include "pager.h"

#include <errno.h>
#include <stdlib.h>

int prefetch_init(struct prefetch *pf, uint64_t nr_gfns, uint32_t depth)
{
	*pf = (struct prefetch){ .depth = depth };
	for (unsigned i = 0; i < PF_HISTORY; i++)
		pf->head[i] = UINT64_MAX;
	if (!depth)
		return 0;
	pf->mark = calloc((nr_gfns + 63) / 64 + 1, sizeof(*pf->mark));
	return pf->mark ? 0 : -ENOMEM;
}

void prefetch_fini(struct prefetch *pf)
{
	free(pf->mark);
	pf->mark = NULL;
}

static bool marked(const struct prefetch *pf, uint64_t g)
{
	return pf->mark[g / 64] >> (g % 64) & 1;
}

static void unmark(struct prefetch *pf, uint64_t g)
{
	pf->mark[g / 64] &= ~(1ull << (g % 64));
}

/* The head of the history one step (at most PF_NEAR gfns) behind @cur
 * in direction @dir, or -1. */
static int step_behind(const struct prefetch *pf, uint64_t cur, int dir)
{
	for (unsigned i = 0; i < PF_HISTORY; i++) {
		uint64_t h = pf->head[i];
		uint64_t d = dir > 0 ? cur - h : h - cur;

		if (h != UINT64_MAX && h != cur && d >= 1 && d <= PF_NEAR)
			return (int)i;
	}
	return -1;
}

/* Does @f step a walk in direction @dir: PF_STEPS faults in a row, each
 * at most PF_NEAR gfns after the one before, or one step after what a
 * prefetch of that walk loaded? */
static bool walks(const struct prefetch *pf, uint64_t f, int dir)
{
	uint64_t cur = f;

	for (unsigned links = 0; links < PF_STEPS; links++) {
		int i = step_behind(pf, cur, dir);

		if (i < 0)
			return false;
		if (pf->dir[i] == dir)
			return true;
		cur = pf->head[i];
	}
	return true;
}

/* +1: @f steps a walk forward, -1 backward, 0: not a walk. */
static int walk_dir(const struct prefetch *pf, uint64_t f)
{
	if (walks(pf, f, 1))
		return 1;
	return walks(pf, f, -1) ? -1 : 0;
}

/* The pages loaded ahead that the walk reaching @f went past. */
static void settle_used(struct prefetch *pf, uint64_t f, int dir,
			uint64_t nr)
{
	uint64_t reach = pf->depth + 2 * PF_NEAR;

	for (uint64_t d = 1; d <= reach; d++) {
		uint64_t g = f - (uint64_t)dir * d;

		if ((dir > 0 && d > f) || g >= nr)
			break;
		if (marked(pf, g)) {
			unmark(pf, g);
			pf->used++;
		}
	}
}

/* Is @g out and stored right next to @prev, the gfn before it in
 * direction @dir: its record the one after @prev's in the store (the
 * one before it, backward)? Records take 1 to 8 slots (store.h). */
static bool went_out_with(const struct pager *p, uint64_t prev, uint64_t g,
			  int dir)
{
	const uint16_t busy = GF_OUT | GF_QUEUED | GF_BATCH | GF_STUCK |
			      GF_ZERO | GF_CORRUPT;

	if (g >= p->nr_gfns || (p->gfl[g] & busy) != GF_OUT)
		return false;
	if (dir > 0)
		return p->slot[g] == store_next_slot(p->store, p->slot[prev]);
	return store_next_slot(p->store, p->slot[g]) == p->slot[prev];
}

static void remember(struct prefetch *pf, uint64_t head, int dir)
{
	pf->head[pf->next] = head;
	pf->dir[pf->next] = (int8_t)dir;
	pf->next = (pf->next + 1) % PF_HISTORY;
}

size_t prefetch_pick(struct pager *p, uint64_t f, struct ld *out, size_t max)
{
	struct prefetch *pf = &p->pf;
	int dir;
	size_t n = 0;

	if (!pf->depth)
		return 0;
	dir = walk_dir(pf, f);
	if (dir)
		settle_used(pf, f, dir, p->nr_gfns);
	if (!dir || p->slot[f] == STORE_NO_SLOT || p->draining) {
		remember(pf, f, 0);
		return 0;
	}
	for (uint32_t d = 1; d <= pf->depth && n < max; d++) {
		uint64_t g = f + (uint64_t)(int64_t)(dir * (int)d);

		if ((dir < 0 && d > f) ||
		    !went_out_with(p, g - (uint64_t)(int64_t)dir, g, dir))
			break;
		p->gfl[g] |= GF_QUEUED; /* not picked twice */
		out[n++] = (struct ld){ .gfn = g, .slot = p->slot[g],
					.qi = UINT32_MAX };
	}
	pf->runs += n != 0;
	remember(pf, n ? out[n - 1].gfn : f, n ? dir : 0);
	return n;
}

void prefetch_loaded(struct pager *p, uint64_t gfn)
{
	p->pf.mark[gfn / 64] |= 1ull << (gfn % 64);
	p->pf.loaded++;
}

void prefetch_evicted(struct pager *p, uint64_t gfn)
{
	if (p->pf.mark && marked(&p->pf, gfn)) {
		unmark(&p->pf, gfn);
		p->pf.wasted++;
	}
}

uint64_t prefetch_pending(const struct prefetch *pf)
{
	return pf->loaded - pf->used - pf->wasted;
}
