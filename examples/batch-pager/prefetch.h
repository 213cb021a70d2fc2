/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-in prefetch: when the guest's recent faults walk its memory in
 * order, a populate loads with its gfn the next ones in the walk's
 * direction that went out with it (the following records of the store),
 * in the same read and the same xpage_load batch.
 */
#ifndef BATCH_PAGER_PREFETCH_H
#define BATCH_PAGER_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_HISTORY 16u   /* recent faults remembered */
#define PF_NEAR 2u       /* "in order": the next fault within this many */
#define PF_STEPS 3u      /* faults in order before a walk is believed */

struct prefetch {
	uint32_t depth;          /* --prefetch: gfns loaded ahead, 0: off */
	/* the heads of recent streams: a fault's gfn, or the last gfn a
	 * prefetch loaded after it, with its direction (0: a lone fault) */
	uint64_t head[PF_HISTORY];
	int8_t dir[PF_HISTORY];
	unsigned next;
	uint64_t *mark;          /* bit per gfn: prefetched, not yet seen used */
	/* figures */
	uint64_t runs;           /* faults that prefetched */
	uint64_t loaded;         /* pages loaded ahead */
	uint64_t used;           /* ... that the guest's walk went past */
	uint64_t wasted;         /* ... paged out again before that */
};

struct pager;
struct ld;

/* 0 or -ENOMEM. */
int prefetch_init(struct prefetch *pf, uint64_t nr_gfns, uint32_t depth);
void prefetch_fini(struct prefetch *pf);
/* A demand page-in of @gfn: settles which marked pages the walk went
 * past, and, when the recent faults look sequential, appends to @out (at
 * most @max) the gfns to load with it. Returns how many. */
size_t prefetch_pick(struct pager *p, uint64_t gfn, struct ld *out,
		     size_t max);
/* @gfn was loaded ahead (status 0). */
void prefetch_loaded(struct pager *p, uint64_t gfn);
/* @gfn goes out again: wasted if it was loaded ahead and never used. */
void prefetch_evicted(struct pager *p, uint64_t gfn);
/* Marked pages not settled yet. */
uint64_t prefetch_pending(const struct prefetch *pf);

#endif
