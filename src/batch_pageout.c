/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page-out half of the batch calls: xpage_nominate() (resident ->
 * NOMINATED) and xpage_evict() (NOMINATED and written -> EVICTED). Both
 * refuse the gfns the hypervisor touches itself (hv_guard.c).
 */
#include "batch.h"

#include <stdlib.h>
#include <sys/mman.h>

/* What nominate and evict queue. */
struct pageout {
	uint32_t op;               /* XP_PAGING_NOMINATE or _EVICT */
	struct xp_paging_op *ops;
	size_t k;
};

/* A gfn may be nominated when resident, evicted when nominated and
 * mapped since (so its contents were written out); never while mapped by
 * this handle, nor one the hypervisor touches itself. */
static int check_pageout(struct batch *b, size_t i, void *ctx)
{
	struct pageout *q = ctx;
	struct xpage *xp = b->xp;
	uint64_t g = b->gfns[i];
	unsigned need = q->op == XP_PAGING_EVICT ? XPAGE_GFN_NOMINATED
						 : XPAGE_GFN_RESIDENT;

	if (xp_gfn_state(&xp->table, g) != need)
		return batch_misfit(b, i, NULL);
	if (xp_gfn_flag(&xp->table, g, XP_GS_MAPPED))
		return -EBUSY;
	if (q->op == XP_PAGING_EVICT && !xp_gfn_flag(&xp->table, g, XP_GS_HELD))
		return batch_misfit(b, i, "nominated but not mapped since, so "
				    "its contents were not written out");
	if (xp_hv_guarded(xp, g)) {
		xp->stats.hv_refused++;
		return -EBUSY;
	}
	q->ops[q->k++] = batch_op(b, i, q->op);
	return 0;
}

/*
 * Age 2: the hypervisor wants the pager to hold a mapping of each gfn
 * while nominating it. One mapping call for the batch, released right
 * after. A gfn that cannot be mapped cannot be nominated: it gets what
 * the hypervisor answers a nominate it refuses (-EBUSY).
 */
static int nominate_mapped(struct xpage *xp, struct xp_paging_op *ops,
			   size_t k)
{
	uint64_t *g = calloc(k, sizeof(*g));
	int *err = malloc(k * sizeof(*err));
	void *held = NULL;
	size_t m = 0;
	int rc = -ENOMEM;

	if (g && err) {
		for (size_t j = 0; j < k; j++)
			g[j] = ops[j].gfn;
		held = xp_map_counted(xp, g, k, PROT_READ, err);
		/* The mapped ones to the front, in order; the others wait
		 * behind them with their answer. */
		for (size_t j = 0; j < k; j++) {
			struct xp_paging_op t = ops[j];

			if (held && !err[j]) {
				ops[j] = ops[m];
				ops[m++] = t;
			} else {
				ops[j].rc = -EBUSY;
			}
		}
		rc = xp_run_ops(xp, ops, m);
		if (held)
			xp->ops->unmap(xp->be, held, k);
	}
	free(g);
	free(err);
	return rc;
}

/* The opening both calls share: check the batch and queue what passes
 * (q->k operations). 0 to go on, 1 when there is nothing to do (n = 0),
 * or a negative errno. */
static int queue_pageout(struct batch *b, struct pageout *q, xpage_t *xp,
			 const uint64_t *gfns, size_t n, unsigned int flags,
			 int *status)
{
	int rc = batch_open(b, xp, gfns, n, status, flags, 0,
			    BATCH_TRUSTS_RING);

	if (rc)
		return rc < 0 ? rc : 1;
	q->ops = batch_ops(xp, n);
	if (!q->ops)
		return -ENOMEM;
	xp_hv_refresh(xp);
	batch_check(b, check_pageout, q);
	return 0;
}

int xp_nominate_ops(struct xpage *xp, struct xp_paging_op *ops, size_t k)
{
	if (xp->age >= 2)
		return nominate_mapped(xp, ops, k);
	return xp_run_ops(xp, ops, k);
}

static int nominate_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			 unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_nominate", .need = "resident" };
	struct pageout q = { .op = XP_PAGING_NOMINATE };
	int rc = queue_pageout(&b, &q, xp, gfns, n, flags, status);
	size_t ok;

	if (rc || !q.k)
		return batch_opened(rc);
	rc = xp_nominate_ops(xp, q.ops, q.k);
	if (rc < 0)
		return batch_failed(&b, rc);
	ok = batch_apply(&b, q.ops, q.k, XPAGE_GFN_NOMINATED);
	xp->stats.nominated += ok;
	return (int)ok;
}

XPAGE_API int xpage_nominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status)
BATCH_ENTRY(nominate_gfns)

static int evict_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		      unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_evict",
			   .need = "nominated and mapped since" };
	struct pageout q = { .op = XP_PAGING_EVICT };
	int rc = queue_pageout(&b, &q, xp, gfns, n, flags, status);
	size_t ok;

	if (rc)
		return batch_opened(rc);
	rc = xp_run_ops(xp, q.ops, q.k);
	if (rc < 0)
		return batch_failed(&b, rc);
	ok = batch_apply(&b, q.ops, q.k, XPAGE_GFN_EVICTED);
	xp->stats.evicted += ok;
	xp->stats.evicted_now += ok;
	return (int)ok;
}

XPAGE_API int xpage_evict(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
BATCH_ENTRY(evict_gfns)
