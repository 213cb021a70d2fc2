/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_unnominate(): make nominated gfns ordinary resident pages again.
 *
 * Xen has no operation for that, so the library takes each page out and
 * puts it straight back, in four steps over the whole batch:
 *
 *   1. renominate: nominate again. A gfn adopted as nominated may in fact
 *      be an ordinary page: nominating it first makes the copy of step 2
 *      consistent (the guest cannot write it from then on, or the evict
 *      fails). For a gfn that is nominated, the hypervisor just refuses.
 *      Age 1 wants the page unmapped while nominating, age 2 mapped: so
 *      at age 2 this runs inside step 2, while the batch is mapped.
 *   2. copy: map the batch in one call, copy each page, unmap.
 *   3. evict the copied pages, retrying a passing refusal a few times.
 *   4. load each evicted page straight back with its copy.
 *
 * What became of each gfn is its outcome (enum outcome). A gfn whose
 * evict stays refused keeps its state: it was touched (its evict-fail
 * notice settles it) or is in use elsewhere. A gfn found released by the
 * guest on the way has nothing to give back: it is resident, and the drop
 * notice the hypervisor may have sent for it is owed (XP_GS_DROP_OWED).
 * docs/xen-interface.md has the hypervisor's rules these steps rely on.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum outcome {
	OPEN,      /* still on its way through the steps */
	BACK,      /* an ordinary resident page again */
	RELEASED,  /* released by the guest: resident, nothing to give back */
	REFUSED,   /* err says why; the state is kept (EVICTED when its load
		    * back failed) */
};

/* One un-nomination of a batch. */
struct unnom {
	struct xpage *xp;
	const uint64_t *gfns;
	size_t n;
	int *err;                  /* the caller's, one per gfn */
	unsigned char *out;        /* enum outcome, one per gfn */
	uint8_t *copy;             /* page j at copy + j * XPAGE_PAGE_SIZE */
	struct xp_paging_op *ops;  /* the handle's scratch, room for n */
};

static void refuse(struct unnom *u, size_t j, int err)
{
	u->out[j] = REFUSED;
	u->err[j] = err;
}

/* The guest released gfn j while it was being un-nominated. */
static void released(struct unnom *u, size_t j, const char *when)
{
	xp_log(u->xp, XPAGE_LOG_INFO, "gfn 0x%llx was released by the guest "
	       "%s", (unsigned long long)u->gfns[j], when);
	xp_gfn_set_flag(&u->xp->table, u->gfns[j], XP_GS_DROP_OWED, true);
	u->out[j] = RELEASED;
	u->err[j] = 0;
}

/* Step 1. A nominate that succeeds finds an ordinary page where the
 * library held a nominated (or, from xpage_load, evicted) one: the guest
 * released it and used it again. Its drop notice, if the hypervisor sent
 * one, is still to be read and must not be taken for news of what the
 * gfn is now. */
static int renominate(struct unnom *u)
{
	int rc;

	for (size_t j = 0; j < u->n; j++)
		u->ops[j] = (struct xp_paging_op){ .op = XP_PAGING_NOMINATE,
						   .gfn = u->gfns[j], .idx = j };
	rc = xp_run_ops(u->xp, u->ops, u->n);
	if (rc < 0)
		return rc;
	for (size_t j = 0; j < u->n; j++)
		if (u->ops[j].rc == 0)
			xp_gfn_set_flag(&u->xp->table, u->gfns[j],
					XP_GS_DROP_OWED, true);
	return 0;
}

/* Step 2 (and step 1 at age 2). A gfn that is not in the guest's physmap
 * (-EINVAL from the mapping) was released by the guest, and its drop
 * notice was lost (the hypervisor sends none when the ring is full) or is
 * still on the ring: it is no longer nominated. */
static int copy_pages(struct unnom *u)
{
	struct xpage *xp = u->xp;
	uint8_t *map = xp_map_counted(xp, u->gfns, u->n, PROT_READ, u->err);
	int rc = 0;

	if (!map) {
		for (size_t j = 0; j < u->n; j++)
			u->err[j] = -errno;
		/* (nothing renominated at age 2: err says why for each) */
	} else {
		if (xp->age >= 2)
			rc = renominate(u);
		for (size_t j = 0; rc == 0 && j < u->n; j++)
			if (!u->err[j])
				memcpy(u->copy + j * XPAGE_PAGE_SIZE,
				       map + j * XPAGE_PAGE_SIZE, XPAGE_PAGE_SIZE);
		xp->ops->unmap(xp->be, map, u->n);
		if (rc < 0)
			return rc;
	}
	for (size_t j = 0; j < u->n; j++) {
		if (u->err[j] == -EINVAL)
			released(u, j, "while nominated");
		else if (u->err[j])
			refuse(u, j, u->err[j]);
	}
	return 0;
}

/* Evict @n ops, retrying the ones refused with EBUSY a few times (a
 * passing reference, e.g. a toolstack mapping). */
static int evict_retrying(struct xpage *xp, struct xp_paging_op *ops, size_t n)
{
	for (int tries = 0; tries < 4; tries++) {
		size_t m = 0;
		int rc;

		/* Retry only the refused ones, kept at the front. */
		for (size_t i = 0; i < n; i++)
			if (tries == 0 || ops[i].rc == -EBUSY) {
				struct xp_paging_op t = ops[m];

				ops[m++] = ops[i];
				ops[i] = t;
			}
		if (!m)
			return 0;
		rc = xp_run_ops(xp, ops, m);
		if (rc < 0)
			return rc;
		if (tries < 3) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* Step 3. Returns how many were evicted (queued in ops[] as loads of
 * their copies, for step 4) or a negative errno. */
static int evict_copied(struct unnom *u)
{
	size_t m = 0, q = 0;
	int rc;

	for (size_t j = 0; j < u->n; j++)
		if (u->out[j] == OPEN)
			u->ops[m++] = (struct xp_paging_op){
				.op = XP_PAGING_EVICT, .gfn = u->gfns[j], .idx = j };
	rc = evict_retrying(u->xp, u->ops, m);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < m; i++) {
		struct xp_paging_op op = u->ops[i];

		if (op.rc) {
			refuse(u, op.idx, op.rc);
			continue;
		}
		op.op = XP_PAGING_PREP;
		op.buf = u->copy + op.idx * XPAGE_PAGE_SIZE;
		u->ops[q++] = op;
	}
	return (int)q;
}

/* Load @n pages back with their copies, retrying while the hypervisor is
 * short of memory: the copy is the only one left. */
static void load_back(struct xpage *xp, struct xp_paging_op *ops, size_t n)
{
	for (int tries = 0; tries < 1000; tries++) {
		size_t again = 0;
		int rc = xp_run_ops(xp, ops, n);

		if (rc < 0) {
			/* Failed as a whole: none may read as loaded. */
			for (size_t i = 0; i < n; i++)
				ops[i].rc = rc;
			return;
		}
		/* Only the ENOMEM ones go again, moved to the front; the
		 * others keep their answer behind them. */
		for (size_t i = 0; i < n; i++)
			if (ops[i].rc == -ENOMEM) {
				struct xp_paging_op t = ops[again];

				ops[again++] = ops[i];
				ops[i] = t;
			}
		if (!again)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		n = again;
	}
}

/* Step 4. -ENOENT: not paged any more, though it was evicted a moment
 * ago: the guest released it in between (and may have used the gfn
 * again, as a fresh page). Any other error: the page is out, and the
 * library keeps its copy (kept.c). */
static void load_copies_back(struct unnom *u, size_t q)
{
	struct xpage *xp = u->xp;

	load_back(xp, u->ops, q);
	for (size_t i = 0; i < q; i++) {
		size_t j = u->ops[i].idx;
		int rc = u->ops[i].rc;

		if (rc == 0) {
			u->out[j] = BACK;
		} else if (rc == -ENOENT) {
			released(u, j, "while being un-nominated");
		} else if (xp_kept_add(xp, u->gfns[j],
				       u->copy + j * XPAGE_PAGE_SIZE) == 0) {
			refuse(u, j, rc); /* kept: loaded back later */
		} else {
			xp_log(xp, XPAGE_LOG_ERROR, "gfn 0x%llx could not be "
			       "loaded back after un-nominating, and there is "
			       "no memory to keep its copy: %s",
			       (unsigned long long)u->gfns[j], xpage_strerror(rc));
			xp_gfn_set_state(&xp->table, u->gfns[j], XPAGE_GFN_EVICTED);
			xp->stats.evicted_now++;
			refuse(u, j, rc);
		}
	}
}

/*
 * After a takeover, a nominated gfn whose evict stays refused may have
 * been touched before the takeover: it is paging-in with its frame, and
 * the evict-fail notice that would make it present went with the old
 * ring. The vCPU that touched it, released by the takeover, is not paused
 * again and no new notice comes (a guest fault on a paging-in gfn only
 * repeats). A prep without data makes such a gfn present; it cannot put
 * other contents in place (it succeeds only where the frame is), and for
 * a gfn that is still merely nominated it answers ENOENT and changes
 * nothing.
 */
static void present_touched(struct unnom *u)
{
	for (size_t j = 0; j < u->n; j++) {
		struct xp_paging_op op = { .op = XP_PAGING_PREP,
					   .gfn = u->gfns[j] };

		if (u->err[j] != -EBUSY)
			continue;
		if (xp_run_ops(u->xp, &op, 1) < 0 || op.rc)
			continue;
		xp_log(u->xp, XPAGE_LOG_INFO, "gfn 0x%llx, nominated by the "
		       "previous pager and touched before the takeover, is "
		       "present again", (unsigned long long)u->gfns[j]);
		xp_answer_held(u->xp, u->gfns[j], 0);
		u->out[j] = BACK;
		u->err[j] = 0;
	}
}

static int steps(struct unnom *u)
{
	int q, rc;

	if (u->xp->age < 2 && (rc = renominate(u)) < 0)
		return rc;
	if ((rc = copy_pages(u)) < 0)
		return rc;
	if ((q = evict_copied(u)) < 0)
		return q;
	load_copies_back(u, (size_t)q);
	if (u->xp->took_over)
		present_touched(u);
	return 0;
}

int xp_unnominate(struct xpage *xp, const uint64_t *gfns, size_t n, int *err)
{
	struct unnom u = { .xp = xp, .gfns = gfns, .n = n, .err = err };
	int rc, answer;

	u.ops = batch_ops(xp, n);
	u.out = calloc(n, 1); /* OPEN */
	u.copy = malloc(n * XPAGE_PAGE_SIZE);
	if (!u.ops || !u.out || !u.copy)
		answer = rc = -ENOMEM;
	else if ((rc = steps(&u)) < 0)
		answer = xp_call_failed(xp, rc);
	else
		answer = 0;
	/* A step that failed as a whole leaves no gfn reading as done. */
	for (size_t j = 0; j < n; j++) {
		if (rc < 0)
			err[j] = rc;
		else if (u.out[j] != REFUSED)
			xp_gfn_set_state(&xp->table, gfns[j], XPAGE_GFN_RESIDENT);
	}
	free(u.out);
	free(u.copy);
	return answer;
}

/* The gfns of a call that passed its checks, in order. */
struct picked {
	uint64_t *gfns;
	size_t k;
};

/* A gfn may be un-nominated when nominated and not mapped by the handle. */
static int check_nominated(struct batch *b, size_t i, void *ctx)
{
	struct picked *p = ctx;
	const struct xp_gfn_table *t = &b->xp->table;

	if (xp_gfn_state(t, b->gfns[i]) != XPAGE_GFN_NOMINATED)
		return batch_misfit(b, i, NULL);
	if (xp_gfn_flag(t, b->gfns[i], XP_GS_MAPPED))
		return -EBUSY;
	p->gfns[p->k++] = b->gfns[i];
	return 0;
}

int xp_unnominate_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		       unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_unnominate", .need = "nominated" };
	struct picked p = { .gfns = NULL };
	int *err = NULL;
	size_t ok = 0;
	int rc = batch_open(&b, xp, gfns, n, status, flags, 0,
			    BATCH_TRUSTS_RING);

	if (rc)
		return batch_opened(rc);
	p.gfns = malloc(n * sizeof(*p.gfns));
	err = malloc(n * sizeof(*err));
	if (!p.gfns || !err)
		rc = -ENOMEM;
	else if (batch_check(&b, check_nominated, &p))
		rc = xp_unnominate(xp, p.gfns, p.k, err);
	/* The answers back to the caller's positions: the gfns that passed
	 * the checks (status 0), in order. */
	for (size_t i = 0, j = 0; i < n && j < p.k; i++) {
		if (status[i])
			continue;
		status[i] = err[j++];
		ok += status[i] == 0;
	}
	free(p.gfns);
	free(err);
	return rc < 0 ? xp_err(-rc) : (int)ok;
}

XPAGE_API int xpage_unnominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			       unsigned int flags, int *status)
BATCH_ENTRY(xp_unnominate_gfns)
