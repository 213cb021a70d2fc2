/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Batch operations on arrays of gfns: nominate, map/unmap, evict, load,
 * resume, adopt. Each call first checks every gfn against the state table
 * (range, duplicates, state) without touching anything, then sends the
 * valid ones to the hypervisor in one trap where it allows (multicall) and
 * applies the per-gfn results. A gfn that fails a check keeps its state.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* Shared preamble of every batch call: 0 to go on, 1 when there is
 * nothing to do (n = 0), or a negative errno. */
static int batch_begin(struct xpage *xp, const uint64_t *gfns, size_t n,
		       const int *status, unsigned flags, unsigned known_flags)
{
	if ((n && (!gfns || !status)) || (flags & ~known_flags))
		return -EINVAL;
	if (!xp->enabled)
		return -ESHUTDOWN;
	return n ? 0 : 1;
}

/* The answer of a call that batch_begin() stopped. */
static int begun(int rc)
{
	return rc < 0 ? xp_err(-rc) : 0;
}

/* Range and duplicate check of gfn i; marks it seen. 0 or -errno. */
static int check_gfn(struct xpage *xp, uint64_t gfn)
{
	if (gfn >= xp->table.nr)
		return -ERANGE;
	if (xp_gfn_flag(&xp->table, gfn, XP_GS_SEEN))
		return -EALREADY;
	xp_gfn_set_flag(&xp->table, gfn, XP_GS_SEEN, true);
	return 0;
}

static void clear_seen(struct xpage *xp, const uint64_t *gfns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gfns[i] < xp->table.nr)
			xp_gfn_set_flag(&xp->table, gfns[i], XP_GS_SEEN, false);
}

static const char *state_name(unsigned st)
{
	static const char *const names[] = {
		[XPAGE_GFN_RESIDENT] = "resident",
		[XPAGE_GFN_NOMINATED] = "nominated",
		[XPAGE_GFN_EVICTED] = "evicted",
		[XPAGE_GFN_PAGING_IN] = "paging in",
		[XPAGE_GFN_LOADED] = "loaded",
	};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* The gfns of one call refused for their state (-EINVAL): the first is
 * named in one log line with both states, however many there were. */
struct misfits {
	const char *call;   /* "xpage_evict" */
	const char *need;   /* the state the call needs */
	uint64_t gfn;
	const char *have;
	size_t n;
};

/* Note @gfn as refused; @have: its state in words (NULL: the table's). */
static int misfit(struct misfits *m, const struct xpage *xp, uint64_t gfn,
		  const char *have)
{
	if (!m->n++) {
		m->gfn = gfn;
		m->have = have ? have
			       : state_name(xp_gfn_state(&xp->table, gfn));
	}
	return -EINVAL;
}

static void misfits_log(const struct xpage *xp, const struct misfits *m)
{
	if (m->n == 1)
		xp_log(xp, XPAGE_LOG_INFO, "%s: gfn 0x%llx is %s, not %s "
		       "(-EINVAL, unchanged)", m->call,
		       (unsigned long long)m->gfn, m->have, m->need);
	else if (m->n > 1)
		xp_log(xp, XPAGE_LOG_INFO, "%s: %zu gfns in the wrong state "
		       "(-EINVAL, unchanged), the first 0x%llx %s, not %s",
		       m->call, m->n, (unsigned long long)m->gfn, m->have,
		       m->need);
}

static struct xp_paging_op *ops_reserve(struct xpage *xp, size_t n)
{
	if (n > xp->ops_cap) {
		size_t cap = n < 64 ? 64 : n;
		struct xp_paging_op *o = realloc(xp->ops_buf, cap * sizeof(*o));

		if (!o)
			return NULL;
		xp->ops_buf = o;
		xp->ops_cap = cap;
	}
	return xp->ops_buf;
}

int xp_run_ops(struct xpage *xp, struct xp_paging_op *ops, size_t n)
{
	int rc;

	if (!n)
		return 0;
	if (xp->use_multicall || n == 1) {
		rc = xp->ops->paging_ops(xp->be, ops, n);
		if (rc < 0)
			return rc;
		xp->stats.hypercalls += (uint64_t)rc;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		rc = xp->ops->paging_ops(xp->be, &ops[i], 1);
		if (rc < 0)
			return rc;
		xp->stats.hypercalls += (uint64_t)rc;
	}
	return 0;
}

static int fatal(struct xpage *xp, int rc)
{
	if (rc == -EPROTO)
		xp->broken = true; /* the backend's answers are not trusted */
	if (rc == -ESRCH || rc == -ENODEV) {
		xp_log(xp, XPAGE_LOG_ERROR, "domain %u crashed or paging was "
		       "disabled under the pager", xp->domid);
		return -ESHUTDOWN;
	}
	xp_log(xp, XPAGE_LOG_ERROR, "hypervisor call failed: %s",
	       xpage_strerror(rc));
	return rc;
}

/* A call that failed as a whole after queueing work: no gfn it left at
 * "0 so far" (or load's "nominated, restore later" 1) may read as done. */
static void fail_queued(int *status, size_t n, int rc)
{
	for (size_t i = 0; i < n; i++)
		if (status[i] >= 0)
			status[i] = rc;
}

static int finish(int rc, size_t ok)
{
	if (rc < 0)
		return xp_err(-rc);
	return (int)ok;
}

/* ------------------------------------------------------------------------ */

static void *map_gfns(struct xpage *xp, const uint64_t *gfns, size_t n,
		      int prot, int *status)
{
	void *addr = xp->ops->map(xp->be, gfns, n, prot, status);

	xp->stats.hypercalls++;
	return addr;
}

/*
 * The shared first half of nominate and evict: check each gfn (range,
 * duplicates, state @need, not mapped by this handle; for an evict,
 * mapped since its nomination; not one the hypervisor touches itself),
 * set its status, and queue an @op for the
 * ones that pass. Returns how many were queued.
 */
static size_t queue_ops(struct xpage *xp, const uint64_t *gfns, size_t n,
			int *status, struct xp_paging_op *ops, uint32_t op,
			struct misfits *m)
{
	unsigned need = op == XP_PAGING_EVICT ? XPAGE_GFN_NOMINATED
					      : XPAGE_GFN_RESIDENT;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t g = gfns[i];

		status[i] = check_gfn(xp, g);
		if (status[i])
			continue;
		if (xp_gfn_state(&xp->table, g) != need)
			status[i] = misfit(m, xp, g, NULL);
		else if (xp_gfn_flag(&xp->table, g, XP_GS_MAPPED))
			status[i] = -EBUSY;
		else if (op == XP_PAGING_EVICT &&
			 !xp_gfn_flag(&xp->table, g, XP_GS_HELD))
			status[i] = misfit(m, xp, g, "nominated but not mapped "
					   "since, so its contents were not "
					   "written out");
		else if (xp_hv_guarded(xp, g)) {
			status[i] = -EBUSY;
			xp->stats.hv_refused++;
		} else
			ops[k++] = (struct xp_paging_op){ .op = op, .gfn = g };
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, m);
	return k;
}

/* The shared second half: each queued op's result goes to its caller
 * position (ops are in caller order); a success moves the gfn to @to.
 * Returns the successes. */
static size_t apply_results(struct xpage *xp, const uint64_t *gfns, size_t n,
			    int *status, const struct xp_paging_op *ops,
			    size_t k, unsigned to)
{
	size_t ok = 0;

	for (size_t i = 0, j = 0; i < n && j < k; i++) {
		if (status[i] || gfns[i] != ops[j].gfn)
			continue;
		status[i] = ops[j++].rc;
		if (status[i] == 0) {
			xp_gfn_set_state(&xp->table, gfns[i], to);
			ok++;
		}
	}
	return ok;
}

static int nominate_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status)
{
	struct xp_paging_op *ops;
	size_t k = 0, ok = 0;
	void *held = NULL;
	int rc = batch_begin(xp, gfns, n, status, flags, 0);

	if (rc)
		return begun(rc);
	if (xp->broken)
		return xp_err(EPROTO);
	ops = ops_reserve(xp, n);
	if (!ops)
		return xp_err(ENOMEM);
	struct misfits m = { .call = "xpage_nominate", .need = "resident" };

	xp_hv_refresh(xp);
	k = queue_ops(xp, gfns, n, status, ops, XP_PAGING_NOMINATE, &m);
	if (!k)
		return 0;

	if (xp->age >= 2) {
		/* Age 2: the hypervisor wants the pager to hold a mapping of
		 * each gfn while nominating it. One mapping call for the
		 * batch, released right after. */
		uint64_t *g = malloc(k * sizeof(*g));
		int *err = malloc(k * sizeof(*err));

		if (!g || !err) {
			free(g);
			free(err);
			return xp_err(ENOMEM);
		}
		for (size_t j = 0; j < k; j++)
			g[j] = ops[j].gfn;
		held = map_gfns(xp, g, k, PROT_READ, err);
		/* A gfn that cannot be mapped cannot be nominated: answer what
		 * the hypervisor answers a nominate it refuses. */
		for (size_t j = 0; j < k; j++)
			ops[j].rc = held && !err[j] ? 0 : -EBUSY;
		free(g);
		free(err);
		/* Only gfns that mapped go on to nomination. */
		size_t m = 0;
		struct xp_paging_op *tmp = malloc(k * sizeof(*tmp));

		if (!tmp) {
			if (held)
				xp->ops->unmap(xp->be, held, k);
			return xp_err(ENOMEM);
		}
		memcpy(tmp, ops, k * sizeof(*tmp));
		for (size_t j = 0; j < k; j++)
			if (tmp[j].rc == 0)
				ops[m++] = tmp[j];
		rc = xp_run_ops(xp, ops, m);
		/* Re-merge: ops[0..m) carry nominate results. */
		for (size_t j = 0, q = 0; j < k; j++) {
			if (tmp[j].rc == 0)
				tmp[j].rc = rc < 0 ? rc : ops[q++].rc;
		}
		memcpy(ops, tmp, k * sizeof(*tmp));
		free(tmp);
		if (held)
			xp->ops->unmap(xp->be, held, k);
	} else {
		rc = xp_run_ops(xp, ops, k);
	}
	if (rc < 0) {
		fail_queued(status, n, rc);
		return xp_err(-fatal(xp, rc));
	}
	ok = apply_results(xp, gfns, n, status, ops, k, XPAGE_GFN_NOMINATED);
	xp->stats.nominated += ok;
	return finish(0, ok);
}

static int region_add(struct xpage *xp, void *addr, const uint64_t *gfns,
		      size_t n, const int *status)
{
	struct xp_region *r;

	if (xp->nregions == xp->cap_regions) {
		size_t cap = xp->cap_regions ? xp->cap_regions * 2 : 8;

		r = realloc(xp->regions, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		xp->regions = r;
		xp->cap_regions = cap;
	}
	r = &xp->regions[xp->nregions];
	r->gfns = malloc(n * sizeof(*r->gfns));
	if (!r->gfns)
		return -ENOMEM;
	r->addr = addr;
	r->n = n;
	for (size_t i = 0; i < n; i++)
		r->gfns[i] = status[i] == 0 ? gfns[i] : UINT64_MAX;
	xp->nregions++;
	return 0;
}

static int unmap_region(xpage_t *xp, void *addr, size_t n);

/* Which gfns xpage_map() may map: status 0 for those, else why not.
 * Returns how many may. */
static size_t check_mappable(struct xpage *xp, const uint64_t *gfns,
			     size_t n, int *status)
{
	struct misfits m = { .call = "xpage_map", .need = "nominated" };
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		status[i] = check_gfn(xp, gfns[i]);
		if (status[i])
			continue;
		if (xp_gfn_state(&xp->table, gfns[i]) != XPAGE_GFN_NOMINATED)
			status[i] = misfit(&m, xp, gfns[i], NULL);
		else if (xp_gfn_flag(&xp->table, gfns[i], XP_GS_MAPPED))
			status[i] = -EBUSY;
		else
			k++;
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, &m);
	return k;
}

/*
 * Map the gfns that passed check_mappable() (status 0) in one mapping
 * call, leaving a hole at the place of each other one, so that page i is
 * still at addr + i * XPAGE_PAGE_SIZE. Their statuses get the hypervisor's
 * answers. NULL with errno when nothing could be mapped.
 */
static void *map_passed(struct xpage *xp, const uint64_t *gfns, size_t n,
			int *status)
{
	uint64_t *q = malloc(n * sizeof(*q));
	int *err = malloc(n * sizeof(*err));
	void *addr = NULL;
	int e = ENOMEM;

	if (q && err) {
		for (size_t i = 0; i < n; i++)
			q[i] = status[i] ? XP_GFN_NONE : gfns[i];
		addr = map_gfns(xp, q, n, PROT_READ, err);
		e = errno;
	}
	for (size_t i = 0; i < n; i++)
		if (!status[i])
			status[i] = addr ? err[i] : -e;
	free(q);
	free(err);
	errno = e;
	return addr;
}

static void *map_gfns_for(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
{
	void *addr;
	size_t ok = 0;
	int rc = batch_begin(xp, gfns, n, status, flags, 0);

	if (rc) {
		/* n = 0: nothing to map is no error */
		errno = rc < 0 ? -rc : 0;
		return NULL;
	}
	if (!check_mappable(xp, gfns, n, status)) {
		errno = EINVAL;
		return NULL;
	}
	addr = map_passed(xp, gfns, n, status);
	if (!addr)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ok += status[i] == 0;
	if (region_add(xp, addr, gfns, n, status) < 0) {
		xp->ops->unmap(xp->be, addr, n);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (status[i] == 0)
			xp_gfn_set_flag(&xp->table, gfns[i],
					XP_GS_MAPPED | XP_GS_HELD, true);
	if (!ok) {
		/* Keep the contract: NULL when nothing could be mapped. */
		unmap_region(xp, addr, n);
		errno = ENOENT;
		return NULL;
	}
	return addr;
}

static int unmap_region(xpage_t *xp, void *addr, size_t n)
{
	struct xp_region *r = NULL;
	int rc;

	if (!addr && !n)
		return 0; /* what xpage_map() returns for n = 0 */
	if (!addr)
		return xp_err(EINVAL);
	for (size_t i = 0; i < xp->nregions; i++)
		if (xp->regions[i].addr == addr) {
			r = &xp->regions[i];
			break;
		}
	if (!r || r->n != n) {
		xp_log(xp, XPAGE_LOG_ERROR, "xpage_unmap: %p/%zu was not mapped "
		       "by xpage_map()", addr, n);
		return xp_err(EINVAL);
	}
	rc = xp->ops->unmap(xp->be, addr, n);
	for (size_t i = 0; i < n; i++)
		if (r->gfns[i] != UINT64_MAX)
			xp_gfn_set_flag(&xp->table, r->gfns[i], XP_GS_MAPPED, false);
	free(r->gfns);
	*r = xp->regions[--xp->nregions];
	return rc < 0 ? xp_err(-rc) : 0;
}

static int evict_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
{
	struct xp_paging_op *ops;
	size_t k = 0, ok = 0;
	int rc = batch_begin(xp, gfns, n, status, flags, 0);

	if (rc)
		return begun(rc);
	if (xp->broken)
		return xp_err(EPROTO);
	ops = ops_reserve(xp, n);
	if (!ops)
		return xp_err(ENOMEM);
	struct misfits m = { .call = "xpage_evict",
			     .need = "nominated and mapped since" };

	xp_hv_refresh(xp);
	k = queue_ops(xp, gfns, n, status, ops, XP_PAGING_EVICT, &m);
	rc = xp_run_ops(xp, ops, k);
	if (rc < 0) {
		fail_queued(status, n, rc);
		return xp_err(-fatal(xp, rc));
	}
	ok = apply_results(xp, gfns, n, status, ops, k, XPAGE_GFN_EVICTED);
	xp->stats.evicted += ok;
	xp->stats.evicted_now += ok;
	return finish(0, ok);
}

/* Answer the requests held for a loaded gfn; it is resident again. */
static void resume_one(struct xpage *xp, uint64_t gfn)
{
	xp_answer_held(xp, gfn, 0);
	xp_gfn_set_state(&xp->table, gfn, XPAGE_GFN_RESIDENT);
}

/*
 * The hypervisor refused a load (prep) of a gfn the library holds as
 * evicted with ENOENT: in its p2m the gfn is not paged out. That happens
 * to a gfn adopted after a takeover whose previous pager died between
 * nominate and evict: the frame never left, and since a nominated page
 * cannot be written by the guest, the frame holds the page's contents.
 * Un-nominating makes it an ordinary page again (or finds it already is).
 */
static int load_from_frame(struct xpage *xp, uint64_t gfn)
{
	unsigned was = xp_gfn_state(&xp->table, gfn);
	int st = 0;

	xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx is not paged out in the "
	       "hypervisor (never evicted, or released by the guest)",
	       (unsigned long long)gfn);
	xp_gfn_set_state(&xp->table, gfn, XPAGE_GFN_NOMINATED);
	xp->stats.evicted_now--;
	if (xpage_unnominate(xp, &gfn, 1, 0, &st) == 1) {
		/* Present again, or gone from the guest: any vCPU waiting on
		 * it is released (its access finds the page, or finds it
		 * released). */
		xp_answer_held(xp, gfn, 0);
		return 0;
	}
	if (st == -EBUSY &&
	    xp_gfn_state(&xp->table, gfn) == XPAGE_GFN_NOMINATED) {
		/* Nominated indeed, and the guest touched it meanwhile: its
		 * evict-fail notice is on the ring (or soon will be) and
		 * answering it makes the page present. Held as EVICTED, that
		 * notice would become a populate for data the frame has. */
		return -EBUSY;
	}
	if (xp_gfn_state(&xp->table, gfn) == XPAGE_GFN_NOMINATED) {
		xp_gfn_set_state(&xp->table, gfn, was);
		xp->stats.evicted_now++;
	}
	return -ENOENT;
}

/*
 * A load of a gfn that is only nominated needs no data, but the
 * hypervisor must make it present again: it is un-nominated. If the guest
 * touched it meanwhile, its evict-fail notice is on the ring; dispatching
 * it makes the gfn present and tells the pager (evict_fail), so the load
 * says -EBUSY until then. (After a takeover such a notice may be gone:
 * xpage_unnominate then makes the gfn present itself, and dispatch
 * confirms every notice, so a late one cannot undo a newer nomination.)
 */
static int restore_nominated(struct xpage *xp, uint64_t gfn)
{
	int st = 0;

	if (xpage_unnominate(xp, &gfn, 1, 0, &st) == 1)
		return 0;
	return st ? st : -EIO;
}

static int load_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			 void *const *bufs, unsigned int flags, int *status)
{
	struct misfits m = { .call = "xpage_load",
			     .need = "evicted, paging in or nominated" };
	struct xp_paging_op *ops;
	size_t k = 0, ok = 0;
	int rc = batch_begin(xp, gfns, n, status, flags, XPAGE_LOAD_RESUME);

	if (rc == 0 && !bufs)
		rc = -EINVAL;
	if (rc)
		return begun(rc);
	ops = ops_reserve(xp, n);
	if (!ops)
		return xp_err(ENOMEM);
	for (size_t i = 0; i < n; i++) {
		unsigned st;

		status[i] = check_gfn(xp, gfns[i]);
		if (status[i])
			continue;
		st = xp_gfn_state(&xp->table, gfns[i]);
		if (st == XPAGE_GFN_NOMINATED) {
			/* The frame never left: restored after the loop. */
			status[i] = 1;
		} else if (st == XPAGE_GFN_LOADED) {
			status[i] = -EALREADY;
		} else if (st != XPAGE_GFN_EVICTED && st != XPAGE_GFN_PAGING_IN) {
			status[i] = misfit(&m, xp, gfns[i], NULL);
		} else if (!bufs[i]) {
			status[i] = -EINVAL;
		} else {
			ops[k++] = (struct xp_paging_op){ .op = XP_PAGING_PREP,
							  .gfn = gfns[i],
							  .buf = bufs[i] };
		}
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, &m);
	rc = xp_run_ops(xp, ops, k);
	if (rc < 0) {
		fail_queued(status, n, rc);
		return xp_err(-fatal(xp, rc));
	}
	for (size_t i = 0, j = 0; i < n && j < k; i++) {
		if (status[i] || gfns[i] != ops[j].gfn)
			continue;
		status[i] = ops[j++].rc;
		if (status[i] != 0)
			continue;
		ok++;
		xp->stats.loaded++;
		xp->stats.evicted_now--;
		if (xp_gfn_flag(&xp->table, gfns[i], XP_GS_PENDING) &&
		    !(flags & XPAGE_LOAD_RESUME))
			xp_gfn_set_state(&xp->table, gfns[i], XPAGE_GFN_LOADED);
		else
			resume_one(xp, gfns[i]);
	}
	/* After the loop: these use the scratch ops buffer. */
	for (size_t i = 0; i < n; i++) {
		unsigned now = xp_gfn_state(&xp->table, gfns[i]);

		if (status[i] == -ENOENT &&
		    (now == XPAGE_GFN_EVICTED || now == XPAGE_GFN_PAGING_IN)) {
			status[i] = load_from_frame(xp, gfns[i]);
			ok += status[i] == 0;
		} else if (status[i] == 1) {
			status[i] = restore_nominated(xp, gfns[i]);
			ok += status[i] == 0;
		}
	}
	if (!xp->in_dispatch)
		xp_push_responses(xp);
	return finish(0, ok);
}

static int resume_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			   unsigned int flags, int *status)
{
	struct misfits m = { .call = "xpage_resume", .need = "loaded" };
	size_t ok = 0;
	int rc = batch_begin(xp, gfns, n, status, flags, 0);

	if (rc)
		return begun(rc);
	if (xp->broken)
		return xp_err(EPROTO);
	for (size_t i = 0; i < n; i++) {
		unsigned st;

		status[i] = check_gfn(xp, gfns[i]);
		if (status[i])
			continue;
		st = xp_gfn_state(&xp->table, gfns[i]);
		if (st == XPAGE_GFN_LOADED) {
			resume_one(xp, gfns[i]);
			ok++;
		} else if (st == XPAGE_GFN_RESIDENT) {
			status[i] = -EALREADY;
		} else {
			status[i] = misfit(&m, xp, gfns[i], NULL);
		}
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, &m);
	if (!xp->in_dispatch) {
		rc = xp_push_responses(xp);
		if (rc < 0) {
			fail_queued(status, n, rc);
			return xp_err(-fatal(xp, rc));
		}
	}
	return finish(0, ok);
}

static int adopt_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
{
	unsigned to = (flags & XPAGE_ADOPT_NOMINATED) ? XPAGE_GFN_NOMINATED
						      : XPAGE_GFN_EVICTED;
	struct misfits m = { .call = "xpage_adopt",
			     .need = "resident and not mapped" };
	size_t ok = 0;
	int rc = batch_begin(xp, gfns, n, status, flags, XPAGE_ADOPT_NOMINATED);

	if (rc)
		return begun(rc);
	for (size_t i = 0; i < n; i++) {
		status[i] = check_gfn(xp, gfns[i]);
		if (status[i])
			continue;
		if (xp_gfn_state(&xp->table, gfns[i]) != XPAGE_GFN_RESIDENT ||
		    xp_gfn_flag(&xp->table, gfns[i], XP_GS_MAPPED)) {
			status[i] = misfit(&m, xp, gfns[i], NULL);
			continue;
		}
		xp_gfn_set_state(&xp->table, gfns[i], to);
		ok++;
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, &m);
	if (to == XPAGE_GFN_EVICTED)
		xp->stats.evicted_now += ok;
	return finish(0, ok);
}

/* Load @n pages back with their copies, retrying while the hypervisor is
 * short of memory: the copy is the only one left. */
static void load_back(struct xpage *xp, struct xp_paging_op *ops, size_t n)
{
	for (int tries = 0; tries < 1000; tries++) {
		size_t again = 0;
		int rc = xp_run_ops(xp, ops, n);

		if (rc < 0) {
			/* Failed as a whole: none may read as loaded (their
			 * rc still says how the evict went). */
			for (size_t i = 0; i < n; i++)
				ops[i].rc = rc;
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (ops[i].rc == -ENOMEM)
				again++;
		if (!again)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		/* Only the ENOMEM ones go again; successes keep rc 0 by
		 * being moved out of the retried range. */
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (ops[i].rc == -ENOMEM) {
				struct xp_paging_op t = ops[m];
				ops[m++] = ops[i];
				ops[i] = t;
			}
		n = m;
	}
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
static void present_touched(struct xpage *xp, const uint64_t *g, int *err,
			    size_t k)
{
	for (size_t j = 0; j < k; j++) {
		struct xp_paging_op op = { .op = XP_PAGING_PREP, .gfn = g[j] };

		if (err[j] != -EBUSY)
			continue;
		if (xp_run_ops(xp, &op, 1) < 0 || op.rc)
			continue;
		xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx, nominated by the "
		       "previous pager and touched before the takeover, is "
		       "present again", (unsigned long long)g[j]);
		xp_answer_held(xp, g[j], 0);
		err[j] = 0;
	}
}

static int unnominate_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
			       unsigned int flags, int *status)
{
	struct xp_paging_op *ops;
	uint64_t *g = NULL;
	uint8_t *copy = NULL, *map = NULL;
	int *err = NULL;
	size_t k = 0, ok = 0, m;
	bool renominated = false;
	struct misfits mf = { .call = "xpage_unnominate", .need = "nominated" };
	int rc = batch_begin(xp, gfns, n, status, flags, 0);

	if (rc)
		return begun(rc);
	if (xp->broken)
		return xp_err(EPROTO);
	ops = ops_reserve(xp, n);
	g = malloc(n * sizeof(*g));
	err = malloc(n * sizeof(*err));
	if (!ops || !g || !err) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		status[i] = check_gfn(xp, gfns[i]);
		if (status[i])
			continue;
		if (xp_gfn_state(&xp->table, gfns[i]) != XPAGE_GFN_NOMINATED)
			status[i] = misfit(&mf, xp, gfns[i], NULL);
		else if (xp_gfn_flag(&xp->table, gfns[i], XP_GS_MAPPED))
			status[i] = -EBUSY;
		else
			g[k++] = gfns[i];
	}
	clear_seen(xp, gfns, n);
	misfits_log(xp, &mf);
	if (!k)
		goto out;
	copy = malloc(k * XPAGE_PAGE_SIZE);
	if (!copy) {
		rc = -ENOMEM;
		goto out;
	}
	/*
	 * 1. Nominate (again). A gfn adopted as nominated may in fact be an
	 *    ordinary page: nominating it first makes the copy below
	 *    consistent (the guest cannot write it from here on, or the
	 *    evict fails). For a gfn that is nominated, the hypervisor just
	 *    refuses. Age 2 wants the mapping held while nominating, age 1
	 *    an unmapped page.
	 * 2. Map and copy, unmap.
	 * 3. Evict; 4. load each evicted one straight back with its copy.
	 * A gfn whose evict stays refused keeps its state: it was touched
	 * (its evict-fail notice settles it) or is in use elsewhere.
	 */
	for (size_t j = 0; j < k; j++)
		ops[j] = (struct xp_paging_op){ .op = XP_PAGING_NOMINATE,
						.gfn = g[j] };
	if (xp->age < 2) {
		if ((rc = xp_run_ops(xp, ops, k)) < 0)
			goto fail;
		renominated = true;
	}
	map = map_gfns(xp, g, k, PROT_READ, err);
	if (!map) {
		int e = -errno;

		for (size_t j = 0; j < k; j++)
			err[j] = e;
	} else {
		if (xp->age >= 2) {
			if ((rc = xp_run_ops(xp, ops, k)) < 0) {
				xp->ops->unmap(xp->be, map, k);
				goto fail;
			}
			renominated = true;
		}
		for (size_t j = 0; j < k; j++)
			if (!err[j])
				memcpy(copy + j * XPAGE_PAGE_SIZE,
				       map + j * XPAGE_PAGE_SIZE, XPAGE_PAGE_SIZE);
		xp->ops->unmap(xp->be, map, k);
	}
	for (size_t j = 0; j < k; j++) {
		/* A nominate that succeeds finds an ordinary page where the
		 * library held a nominated (or, from xpage_load, evicted)
		 * one: the guest released it and used it again. Its drop
		 * notice, if the hypervisor sent one, is still to be read,
		 * and must not be taken for news of what the gfn is now. */
		if (renominated && ops[j].rc == 0)
			xp_gfn_set_flag(&xp->table, g[j], XP_GS_DROP_OWED, true);
		if (err[j] != -EINVAL)
			continue;
		/* Not in the guest's physmap: the guest released it, and its
		 * drop notice was lost (the hypervisor sends none when the
		 * ring is full) or is still on the ring. It is no longer
		 * nominated; there is nothing to give back. */
		xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx was released by the "
		       "guest while nominated", (unsigned long long)g[j]);
		xp_gfn_set_flag(&xp->table, g[j], XP_GS_DROP_OWED, true);
		err[j] = 1; /* settled below, without evict or load */
	}
	m = 0;
	for (size_t j = 0; j < k; j++)
		if (!err[j])
			ops[m++] = (struct xp_paging_op){ .op = XP_PAGING_EVICT,
							  .gfn = g[j],
							  .buf = copy + j * XPAGE_PAGE_SIZE };
	rc = evict_retrying(xp, ops, m);
	if (rc < 0)
		goto fail;
	size_t q = 0;
	for (size_t j = 0; j < m; j++) {
		size_t x = (size_t)((const uint8_t *)ops[j].buf - copy) /
			   XPAGE_PAGE_SIZE;

		if (ops[j].rc == 0) {
			ops[q] = ops[j];
			ops[q++].op = XP_PAGING_PREP;
		} else {
			err[x] = ops[j].rc;
		}
	}
	load_back(xp, ops, q);
	for (size_t j = 0; j < q; j++) {
		size_t x = (size_t)((const uint8_t *)ops[j].buf - copy) /
			   XPAGE_PAGE_SIZE;

		err[x] = ops[j].rc;
		if (ops[j].rc == -ENOENT) {
			/* Not paged any more, though it was evicted a moment
			 * ago: the guest released it in between (and may have
			 * used the gfn again, as a fresh page). Nothing to
			 * give back; its drop notice is owed. */
			xp_log(xp, XPAGE_LOG_INFO, "gfn 0x%llx was released by "
			       "the guest while being un-nominated",
			       (unsigned long long)g[x]);
			xp_gfn_set_flag(&xp->table, g[x], XP_GS_DROP_OWED, true);
			err[x] = 1;
		} else if (ops[j].rc) {
			/* The page is out and its copy is going away. */
			xp_log(xp, XPAGE_LOG_ERROR, "gfn 0x%llx could not be "
			       "loaded back after un-nominating: %s",
			       (unsigned long long)g[x], xpage_strerror(ops[j].rc));
			xp_gfn_set_state(&xp->table, g[x], XPAGE_GFN_EVICTED);
			xp->stats.evicted_now++;
		}
	}
	if (xp->took_over)
		present_touched(xp, g, err, k);
	/* results back to the caller's positions */
	for (size_t i = 0, j = 0; i < n && j < k; i++) {
		if (status[i] || gfns[i] != g[j])
			continue;
		status[i] = err[j] == 1 ? 0 : err[j];
		j++;
		if (!status[i]) {
			xp_gfn_set_state(&xp->table, gfns[i], XPAGE_GFN_RESIDENT);
			ok++;
		}
	}
	rc = 0;
	goto out;
fail:
	fail_queued(status, n, rc);
	rc = fatal(xp, rc);
out:
	free(g);
	free(err);
	free(copy);
	return finish(rc, ok);
}

/* ------------------------------------------------------------------------ */
/* Entry points: the guard (guard.c) around each call.                      */

/* The body of a batch entry point with the usual parameters. */
#define BATCH_ENTRY(call) \
	{ return XP_GUARDED(xp, XP_NEEDS_HV, call(xp, gfns, n, flags, status)); }

XPAGE_API int xpage_nominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status)
BATCH_ENTRY(nominate_gfns)

XPAGE_API void *xpage_map(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
{
	int rc = xp_enter(xp, XP_NEEDS_HV);
	void *addr;

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	addr = map_gfns_for(xp, gfns, n, flags, status);
	xp_leave(xp);
	return addr;
}

XPAGE_API int xpage_unmap(xpage_t *xp, void *addr, size_t n)
{
	return XP_GUARDED(xp, XP_NEEDS_HV,
			  unmap_region(xp, addr, n));
}

XPAGE_API int xpage_evict(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
BATCH_ENTRY(evict_gfns)

XPAGE_API int xpage_unnominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			       unsigned int flags, int *status)
BATCH_ENTRY(unnominate_gfns)

XPAGE_API int xpage_load(xpage_t *xp, const uint64_t *gfns, size_t n,
			 void *const *bufs, unsigned int flags, int *status)
{
	return XP_GUARDED(xp, XP_NEEDS_HV,
			  load_gfns(xp, gfns, n, bufs, flags, status));
}

XPAGE_API int xpage_resume(xpage_t *xp, const uint64_t *gfns, size_t n,
			   unsigned int flags, int *status)
BATCH_ENTRY(resume_gfns)

XPAGE_API int xpage_adopt(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
BATCH_ENTRY(adopt_gfns)
