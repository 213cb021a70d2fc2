/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Gfns the hypervisor touches itself on the guest's behalf, where a
 * paging request for them is fatal (backend op hv_gfns; on Xen the
 * runstate areas it writes from its scheduler and the guest page tables
 * it walks to them, docs/xen-hazards.md). They are never nominated or
 * evicted: xpage_nominate and xpage_evict answer -EBUSY for them, as Xen
 * answers for a page in use, and count them (stats.hv_refused).
 *
 * The set follows the guest (a vCPU's current page tables change with
 * every process switch), so it is asked for again when older than
 * XP_HV_REFRESH_NS; each gfn in it carries XP_GS_HV in the state table.
 */
#include "private.h"

#include <stdlib.h>
#include <time.h>

#define XP_HV_REFRESH_NS 50000000ull
/* Room for the set: a few hundred gfns per vCPU at most. */
#define XP_HV_PER_VCPU 256u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hv_mark(struct xpage *xp, bool on)
{
	for (size_t i = 0; i < xp->hv.n; i++)
		if (xp->hv.gfns[i] < xp->table.nr)
			xp_gfn_set_flag(&xp->table, xp->hv.gfns[i], XP_GS_HV, on);
}

/* A gfn newly in the set that is already out: the hazard is live. */
static void hv_warn_out(struct xpage *xp)
{
	for (size_t i = 0; i < xp->hv.n; i++) {
		uint64_t g = xp->hv.gfns[i];
		unsigned st;

		if (g >= xp->table.nr)
			continue;
		st = xp_gfn_state(&xp->table, g);
		if (st == XPAGE_GFN_EVICTED || st == XPAGE_GFN_PAGING_IN)
			xp_log(xp, XPAGE_LOG_WARN, "gfn 0x%llx, which the "
			       "hypervisor writes itself from its scheduler, "
			       "is paged out: load it before anything else",
			       (unsigned long long)g);
	}
}

void xp_hv_refresh(struct xpage *xp)
{
	uint64_t t = now_ns();
	size_t cap = (size_t)(xp->vcpus ? xp->vcpus : 1) * XP_HV_PER_VCPU;
	int rc;

	if (!xp->ops->hv_gfns || xp->hv.unsupported ||
	    (xp->hv.when_ns && t - xp->hv.when_ns < XP_HV_REFRESH_NS))
		return;
	if (cap > xp->hv.cap) {
		uint64_t *g = realloc(xp->hv.gfns, cap * sizeof(*g));

		if (!g)
			return; /* the old set stays in force */
		xp->hv.gfns = g;
		xp->hv.cap = cap;
	}
	hv_mark(xp, false);
	rc = xp->ops->hv_gfns(xp->be, xp->hv.gfns, xp->hv.cap);
	if (rc == -EOPNOTSUPP) {
		xp->hv.unsupported = true;
		xp->hv.n = 0;
		xp_log(xp, XPAGE_LOG_INFO, "the backend cannot tell which gfns "
		       "the hypervisor touches itself; none are held back");
		return;
	}
	if (rc < 0) {
		hv_mark(xp, true); /* keep the last set */
		return;
	}
	xp->hv.n = (size_t)rc;
	xp->hv.when_ns = t;
	hv_mark(xp, true);
	hv_warn_out(xp);
}

void xp_hv_fini(struct xpage *xp)
{
	free(xp->hv.gfns);
	xp->hv.gfns = NULL;
	xp->hv.n = xp->hv.cap = 0;
}
