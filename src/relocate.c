/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_relocate(): move resident gfns to new machine frames.
 *
 * Xen frees a gfn's frame when the gfn is evicted and allocates another
 * one when it is loaded back, and never allocates a frame that is
 * offlined or offline-pending. So a pager moves a gfn off its frame by
 * paging it out and straight back in: nominate it, then run the
 * un-nomination of unnominate.c (map, copy into memory, evict, load the
 * copy back). The contents are held only in the library's memory, for
 * the length of the call.
 *
 * A gfn the hypervisor itself reads or writes for the guest (hv_guard.c:
 * page tables on its walks, stacks it copies hypercall arguments from)
 * moves too, in a second round with the guest paused: no vCPU of the
 * guest runs, so none of those walks reaches the gfn while it is out.
 * A gfn the hypervisor refuses to nominate (granted away, mapped by a
 * device model or by anyone else) stays resident on its frame: -EBUSY.
 * One touched between its nominate and its evict stays NOMINATED: its
 * evict-fail notice, dispatched as for any nominated gfn, makes it
 * resident again (on the same frame).
 */
#include "batch.h"

#include <stdlib.h>
#include <time.h>

/* The gfns nominated for the move, and their places in the caller's
 * array. */
struct moving {
	uint64_t *gfns;
	size_t *pos;
	int *err;
	size_t k;
};

/* A gfn may move when resident; one paged out has no frame to move. */
static int check_relocatable(struct batch *b, size_t i, void *ctx)
{
	struct xp_paging_op *ops = ctx;
	struct xpage *xp = b->xp;
	uint64_t g = b->gfns[i];
	unsigned st = xp_gfn_state(&xp->table, g);

	if (st == XPAGE_GFN_EVICTED || st == XPAGE_GFN_PAGING_IN)
		return -EALREADY;
	if (st != XPAGE_GFN_RESIDENT)
		return batch_misfit(b, i, NULL);
	if (xp_hv_guarded(xp, g)) {
		xp->stats.hv_refused++;
		return -EBUSY;
	}
	ops[i] = batch_op(b, i, XP_PAGING_NOMINATE); /* compact() packs */
	return 0;
}

/* The queued operations, which check_relocatable() left at the place of
 * their gfn, to the front: how many. */
static size_t compact(const struct batch *b, struct xp_paging_op *ops)
{
	size_t k = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->status[i] == 0)
			ops[k++] = ops[i];
	return k;
}

static int moving_alloc(struct moving *m, size_t n)
{
	m->gfns = malloc(n * sizeof(*m->gfns));
	m->pos = malloc(n * sizeof(*m->pos));
	m->err = malloc(n * sizeof(*m->err));
	m->k = 0;
	return m->gfns && m->pos && m->err ? 0 : -ENOMEM;
}

static void moving_free(struct moving *m)
{
	free(m->gfns);
	free(m->pos);
	free(m->err);
}

/* Nominated: the round trip, each answer back to its caller position.
 * The nominated ones are taken out of the scratch first: xp_unnominate()
 * reuses it. The number moved, or the negative errno of a step that
 * failed as a whole. */
static int move(struct batch *b, struct moving *m,
		const struct xp_paging_op *ops, size_t k)
{
	int rc = 0, ok = 0;

	for (size_t j = 0; j < k; j++)
		if (ops[j].rc == 0) {
			m->gfns[m->k] = ops[j].gfn;
			m->pos[m->k++] = ops[j].idx;
		}
	if (m->k)
		rc = xp_unnominate(b->xp, m->gfns, m->k, m->err);
	for (size_t j = 0; j < m->k; j++) {
		b->status[m->pos[j]] = m->err[j];
		ok += m->err[j] == 0;
	}
	return rc < 0 ? rc : ok;
}

/* Check, nominate, move. */
static int relocate_checked(struct batch *b, struct moving *m)
{
	struct xpage *xp = b->xp;
	struct xp_paging_op *ops = batch_ops(xp, b->n);
	size_t k;
	int rc;

	if (!ops)
		return -ENOMEM;
	xp_hv_refresh(xp);
	batch_check(b, check_relocatable, ops);
	k = compact(b, ops);
	if (!k)
		return 0;
	rc = xp_nominate_ops(xp, ops, k);
	if (rc < 0)
		return batch_failed(b, rc);
	batch_apply(b, ops, k, XPAGE_GFN_NOMINATED);
	rc = move(b, m, ops, k);
	return rc < 0 ? xp_err(-rc) : rc;
}

/* The gfns of @b the first round refused as the hypervisor's own, moved
 * with the guest paused: the number moved (their statuses set), 0 when
 * there were none or the pause failed (they stay -EBUSY). Copies the
 * hypervisor had no memory to take back are retried for up to 1 s
 * before the guest runs again. */
static int relocate_paused(struct batch *b, struct moving *m)
{
	struct xpage *xp = b->xp;
	struct batch p = { .xp = xp, .call = b->call, .need = b->need };
	uint64_t *g = malloc(b->n * sizeof(*g));
	int *st = malloc(b->n * sizeof(*st));
	size_t *at = malloc(b->n * sizeof(*at)), k = 0;
	int rc = 0;

	for (size_t i = 0; g && st && at && i < b->n; i++)
		if (b->status[i] == -EBUSY && xp_hv_guarded(xp, b->gfns[i])) {
			g[k] = b->gfns[i];
			at[k++] = i;
		}
	if (k && xp->ops->pause(xp->be) == 0) {
		p.gfns = g;
		p.n = k;
		p.status = st;
		m->k = 0;
		xp->hv.paused_move = true;
		rc = relocate_checked(&p, m);
		xp->hv.paused_move = false;
		for (unsigned t = 0; xp->nkept && t < 100; t++)
			if (xp_kept_retry(xp))
				nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		xp->ops->unpause(xp->be);
		for (size_t j = 0; j < k; j++)
			b->status[at[j]] = st[j];
	}
	free(g), free(st), free(at);
	return rc;
}

static int relocate_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			 unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_relocate", .need = "resident" };
	struct moving m;
	int rc = batch_open(&b, xp, gfns, n, status, flags, 0,
			    BATCH_TRUSTS_RING);

	if (rc)
		return batch_opened(rc);
	if (moving_alloc(&m, n) < 0)
		rc = xp_err(ENOMEM);
	else
		rc = relocate_checked(&b, &m);
	if (rc >= 0) {
		int more = relocate_paused(&b, &m);

		rc = more < 0 ? more : rc + more;
	}
	moving_free(&m);
	return rc;
}

XPAGE_API int xpage_relocate(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status)
BATCH_ENTRY(relocate_gfns)
