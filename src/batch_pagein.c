/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page-in half of the batch calls: xpage_load() (contents back into
 * evicted gfns), xpage_resume() (answer the vCPUs waiting on them) and
 * xpage_adopt() (gfns a dead pager left out, after a takeover).
 */
#include "batch.h"

#include <stdlib.h>

/* Answer the requests held for a loaded gfn; it is resident again. */
static void resume_one(struct xpage *xp, uint64_t gfn)
{
	xp_answer_held(xp, gfn, 0);
	xp_gfn_set_state(&xp->table, gfn, XPAGE_GFN_RESIDENT);
}

/*
 * What a load queues, in the handle's scratch operations: from the front
 * the loads with data (ops[0 .. k)); from the back the gfns that are only
 * nominated (ops[n - nominated .. n)), whose frames never left and which
 * are un-nominated instead. The two never meet: each gfn queues once.
 */
struct loading {
	void *const *bufs;
	struct xp_paging_op *ops;
	size_t n, k, nominated;
};

static int check_loadable(struct batch *b, size_t i, void *ctx)
{
	struct loading *q = ctx;
	unsigned st = xp_gfn_state(&b->xp->table, b->gfns[i]);
	struct xp_paging_op op = batch_op(b, i, XP_PAGING_PREP);

	if (st == XPAGE_GFN_NOMINATED) {
		q->ops[q->n - ++q->nominated] = op;
		return 0;
	}
	if (st == XPAGE_GFN_LOADED)
		return -EALREADY;
	if (st != XPAGE_GFN_EVICTED && st != XPAGE_GFN_PAGING_IN)
		return batch_misfit(b, i, NULL);
	if (xp_kept_has(b->xp, b->gfns[i]))
		return -EBUSY; /* the library loads it from its copy */
	if (!q->bufs[i])
		return -EINVAL;
	op.buf = q->bufs[i];
	q->ops[q->k++] = op;
	return 0;
}

/* The loads with data that succeeded: resident at once with
 * XPAGE_LOAD_RESUME or when nobody waits, else LOADED until resumed. */
static size_t loaded(struct batch *b, const struct loading *q, unsigned flags)
{
	struct xpage *xp = b->xp;
	size_t ok = 0;

	for (size_t j = 0; j < q->k; j++) {
		uint64_t g = q->ops[j].gfn;

		b->status[q->ops[j].idx] = q->ops[j].rc;
		if (q->ops[j].rc)
			continue;
		ok++;
		xp->stats.loaded++;
		xp->stats.evicted_now--;
		if (xp_gfn_flag(&xp->table, g, XP_GS_PENDING) &&
		    !(flags & XPAGE_LOAD_RESUME))
			xp_gfn_set_state(&xp->table, g, XPAGE_GFN_LOADED);
		else
			resume_one(xp, g);
	}
	return ok;
}

/* A gfn whose frame never left, given back by un-nominating it. */
struct frame {
	size_t at;        /* caller position */
	bool evicted;     /* held as evicted (else nominated) */
	unsigned was;     /* its state before, when held as evicted */
};

/*
 * The gfns of a load whose frames are still there. Those held as
 * nominated, queued by check_loadable(); and those held as evicted whose
 * load the hypervisor refused with -ENOENT: in its p2m they are not paged
 * out. That happens to a gfn adopted after a takeover whose previous
 * pager died between nominate and evict: the frame never left, and since
 * a nominated page cannot be written by the guest, it holds the page's
 * contents. Both kinds are made ordinary pages by one un-nomination
 * (unnominate.c), which also finds a gfn that already is one.
 */
static size_t find_frames(struct batch *b, const struct loading *q,
			  struct frame *f, uint64_t *g)
{
	struct xpage *xp = b->xp;
	size_t m = 0;

	for (size_t j = 0; j < q->k; j++) {
		uint64_t gfn = q->ops[j].gfn;
		unsigned now = xp_gfn_state(&xp->table, gfn);

		if (q->ops[j].rc != -ENOENT ||
		    (now != XPAGE_GFN_EVICTED && now != XPAGE_GFN_PAGING_IN))
			continue;
		xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx is not paged out in the "
		       "hypervisor (never evicted, or released by the guest)",
		       (unsigned long long)gfn);
		f[m] = (struct frame){ .at = q->ops[j].idx, .evicted = true,
				       .was = now };
		g[m++] = gfn;
	}
	for (size_t j = q->n - q->nominated; j < q->n; j++) {
		size_t at = q->ops[j].idx;

		if (xp_gfn_flag(&xp->table, b->gfns[at], XP_GS_MAPPED)) {
			b->status[at] = -EBUSY;
			continue;
		}
		f[m] = (struct frame){ .at = at };
		g[m++] = b->gfns[at];
	}
	return m;
}

/*
 * The status of frame @f after its un-nomination answered @err. A gfn
 * held as evicted that the guest touched meanwhile is nominated indeed:
 * its evict-fail notice is on the ring (or soon will be) and answering it
 * makes the page present, so it stays NOMINATED with -EBUSY (held as
 * EVICTED, that notice would become a populate for data the frame has).
 * Otherwise it goes back to what it was, and the load says -ENOENT.
 */
static int frame_status(struct xpage *xp, const struct frame *f,
			uint64_t gfn, int err)
{
	bool nominated = xp_gfn_state(&xp->table, gfn) == XPAGE_GFN_NOMINATED;

	if (!f->evicted)
		return err;
	if (!err) {
		/* Present again, or gone from the guest: any vCPU waiting on
		 * it is released (its access finds the page, or finds it
		 * released). */
		xp_answer_held(xp, gfn, 0);
		return 0;
	}
	if (err == -EBUSY && nominated)
		return -EBUSY;
	if (nominated) {
		xp_gfn_set_state(&xp->table, gfn, f->was);
		xp->stats.evicted_now++;
	}
	return -ENOENT;
}

/* Give back the gfns whose frames never left (find_frames); returns how
 * many are resident now. */
static size_t load_frames(struct batch *b, const struct loading *q)
{
	struct xpage *xp = b->xp;
	size_t m, ok = 0, nr = q->k + q->nominated;
	struct frame *f = malloc(nr * sizeof(*f));
	uint64_t *g = malloc(nr * sizeof(*g));
	int *err = malloc(nr * sizeof(*err));

	if (!f || !g || !err) {
		for (size_t j = q->n - q->nominated; j < q->n; j++)
			b->status[q->ops[j].idx] = -ENOMEM;
		m = 0;
	} else {
		/* Copied out of the scratch operations, which the
		 * un-nomination reuses. */
		m = find_frames(b, q, f, g);
	}
	for (size_t j = 0; j < m; j++)
		if (f[j].evicted) {
			/* un-nominating is what gives such a frame back */
			xp_gfn_set_state(&xp->table, g[j], XPAGE_GFN_NOMINATED);
			xp->stats.evicted_now--;
		}
	if (m && xp->broken)
		for (size_t j = 0; j < m; j++)
			err[j] = -EPROTO;
	else if (m)
		xp_unnominate(xp, g, m, err);
	for (size_t j = 0; j < m; j++) {
		b->status[f[j].at] = frame_status(xp, &f[j], g[j], err[j]);
		ok += b->status[f[j].at] == 0;
	}
	free(f);
	free(g);
	free(err);
	return ok;
}

static int load_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		     void *const *bufs, unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_load",
			   .need = "evicted, paging in or nominated" };
	struct loading q = { .bufs = bufs, .n = n };
	size_t ok;
	int rc = batch_open(&b, xp, gfns, n, status, flags, XPAGE_LOAD_RESUME,
			    0);

	if (rc == 0 && !bufs)
		rc = -EINVAL;
	if (rc)
		return batch_opened(rc);
	q.ops = batch_ops(xp, n);
	if (!q.ops)
		return xp_err(ENOMEM);
	batch_check(&b, check_loadable, &q);
	rc = xp_run_ops(xp, q.ops, q.k);
	if (rc < 0)
		return batch_failed(&b, rc);
	ok = loaded(&b, &q, flags);
	if (q.nominated || ok < q.k)
		ok += load_frames(&b, &q);
	if (!xp->in_dispatch)
		xp_push_responses(xp);
	return (int)ok;
}

XPAGE_API int xpage_load(xpage_t *xp, const uint64_t *gfns, size_t n,
			 void *const *bufs, unsigned int flags, int *status)
{
	return XP_GUARDED(xp, XP_NEEDS_HV,
			  load_gfns(xp, gfns, n, bufs, flags, status));
}

/* A loaded gfn is resumed at once: its waiting vCPUs are answered. */
static int check_resumable(struct batch *b, size_t i, void *ctx)
{
	unsigned st = xp_gfn_state(&b->xp->table, b->gfns[i]);

	(void)ctx;
	if (st == XPAGE_GFN_RESIDENT)
		return -EALREADY;
	if (st != XPAGE_GFN_LOADED)
		return batch_misfit(b, i, NULL);
	resume_one(b->xp, b->gfns[i]);
	return 0;
}

static int resume_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		       unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_resume", .need = "loaded" };
	size_t ok;
	int rc = batch_open(&b, xp, gfns, n, status, flags, 0,
			    BATCH_TRUSTS_RING);

	if (rc)
		return batch_opened(rc);
	ok = batch_check(&b, check_resumable, NULL);
	if (!xp->in_dispatch) {
		rc = xp_push_responses(xp);
		if (rc < 0)
			return batch_failed(&b, rc);
	}
	return (int)ok;
}

XPAGE_API int xpage_resume(xpage_t *xp, const uint64_t *gfns, size_t n,
			   unsigned int flags, int *status)
BATCH_ENTRY(resume_gfns)

/* A gfn is adopted when resident and not mapped: it takes state *@to at
 * once. */
static int check_adoptable(struct batch *b, size_t i, void *ctx)
{
	const unsigned *to = ctx;

	if (xp_gfn_state(&b->xp->table, b->gfns[i]) != XPAGE_GFN_RESIDENT ||
	    xp_gfn_flag(&b->xp->table, b->gfns[i], XP_GS_MAPPED))
		return batch_misfit(b, i, NULL);
	xp_gfn_set_state(&b->xp->table, b->gfns[i], *to);
	return 0;
}

static int adopt_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		      unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_adopt",
			   .need = "resident and not mapped" };
	unsigned to = (flags & XPAGE_ADOPT_NOMINATED) ? XPAGE_GFN_NOMINATED
						      : XPAGE_GFN_EVICTED;
	size_t ok;
	int rc = batch_open(&b, xp, gfns, n, status, flags,
			    XPAGE_ADOPT_NOMINATED, 0);

	if (rc)
		return batch_opened(rc);
	ok = batch_check(&b, check_adoptable, &to);
	if (to == XPAGE_GFN_EVICTED)
		xp->stats.evicted_now += ok;
	return (int)ok;
}

XPAGE_API int xpage_adopt(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
BATCH_ENTRY(adopt_gfns)
