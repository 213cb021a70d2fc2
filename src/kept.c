/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kept pages: gfns the library evicted itself (xpage_unnominate's round
 * trip) and could not load back, because the hypervisor had no memory.
 * Their contents exist only in this process, and the pager has none (it
 * un-nominates what it did not write), so the library keeps each copy
 * and loads it back itself:
 *
 *   - at every dispatch, before the ring is read;
 *   - when the guest asks for the gfn (a populate): the request is held
 *     and no callback is made, since the pager has nothing to load;
 *   - at close, for a while, before paging is disabled.
 *
 * The guest releasing the gfn (a drop) frees its copy. The pager's own
 * xpage_load() of a kept gfn is refused (-EBUSY): its buffer cannot be
 * newer than the copy. A kept gfn reads EVICTED.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static ssize_t find(const struct xpage *xp, uint64_t gfn)
{
	for (size_t i = 0; i < xp->nkept; i++)
		if (xp->kept[i].gfn == gfn)
			return (ssize_t)i;
	return -1;
}

bool xp_kept_has(const struct xpage *xp, uint64_t gfn)
{
	return xp->nkept && find(xp, gfn) >= 0;
}

int xp_kept_add(struct xpage *xp, uint64_t gfn, const void *page)
{
	void *copy;

	if (xp->nkept == xp->cap_kept) {
		size_t cap = xp->cap_kept ? 2 * xp->cap_kept : 16;
		struct xp_kept *k = realloc(xp->kept, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		xp->kept = k;
		xp->cap_kept = cap;
	}
	copy = malloc(XPAGE_PAGE_SIZE);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, page, XPAGE_PAGE_SIZE);
	xp->kept[xp->nkept++] = (struct xp_kept){ .gfn = gfn, .page = copy };
	xp_gfn_set_state(&xp->table, gfn, XPAGE_GFN_EVICTED);
	xp->stats.evicted_now++; /* a drop notice counts it back down */
	xp_log(xp, XPAGE_LOG_WARN, "gfn 0x%llx: no memory to load it back; "
	       "the library keeps its contents and loads it back as soon as "
	       "the hypervisor has memory", (unsigned long long)gfn);
	return 0;
}

static void forget(struct xpage *xp, size_t i)
{
	free(xp->kept[i].page);
	xp->kept[i] = xp->kept[--xp->nkept];
}

void xp_kept_drop(struct xpage *xp, uint64_t gfn)
{
	ssize_t i = xp->nkept ? find(xp, gfn) : -1;

	if (i >= 0)
		forget(xp, (size_t)i);
}

/* Load kept page @i back. 0 (loaded, or released by the guest
 * meanwhile), -ENOMEM (still no memory: kept) or another negative errno
 * (the call failed as a whole: kept). */
static int load_one(struct xpage *xp, size_t i)
{
	struct xp_paging_op op = { .op = XP_PAGING_PREP,
				   .gfn = xp->kept[i].gfn,
				   .buf = xp->kept[i].page };
	int rc = xp_run_ops(xp, &op, 1);

	if (rc < 0)
		return rc;
	if (op.rc && op.rc != -ENOENT)
		return op.rc;
	/* -ENOENT: not paged any more, the guest released it */
	xp_gfn_set_state(&xp->table, op.gfn, XPAGE_GFN_RESIDENT);
	xp->stats.evicted_now--;
	xp_answer_held(xp, op.gfn, 0);
	if (!op.rc)
		xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx: loaded back from the "
		       "library's copy", (unsigned long long)op.gfn);
	forget(xp, i);
	return 0;
}

size_t xp_kept_retry(struct xpage *xp)
{
	for (size_t i = 0; i < xp->nkept;)
		if (load_one(xp, i) < 0)
			i++;
	xp_push_responses(xp);
	return xp->nkept;
}

bool xp_kept_populate(struct xpage *xp, uint64_t gfn)
{
	ssize_t i = xp->nkept ? find(xp, gfn) : -1;

	if (i < 0)
		return false;
	load_one(xp, (size_t)i); /* else held: the next dispatch retries */
	return true;
}

void xp_kept_close(struct xpage *xp, unsigned int max_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (unsigned int t = 0; xp->nkept && t < max_ms; t += 10) {
		if (!xp_kept_retry(xp))
			break;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < xp->nkept; i++)
		xp_log(xp, XPAGE_LOG_ERROR, "gfn 0x%llx is lost: the "
		       "hypervisor had no memory to load it back for %u ms, "
		       "and its only copy goes with this handle",
		       (unsigned long long)xp->kept[i].gfn, max_ms);
}

void xp_kept_fini(struct xpage *xp)
{
	while (xp->nkept)
		forget(xp, 0);
	free(xp->kept);
	xp->kept = NULL;
	xp->cap_kept = 0;
}
