/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Gfns the hypervisor touches itself on the guest's behalf, where a
 * paging request for them is fatal (backend op hv_gfns; on Xen the
 * runstate areas it writes from its scheduler, the kernel stacks it
 * copies hypercall arguments from, and the guest page tables it walks to
 * them, docs/xen-hazards.md). They are never nominated or evicted:
 * xpage_nominate and xpage_evict answer -EBUSY for them, as Xen answers
 * for a page in use, and count them (stats.hv_refused).
 *
 * The set follows the guest (a vCPU's current page tables change with
 * every process switch), so it is asked for again when older than
 * XP_HV_REFRESH_NS, or ten times what the last answer took when that is
 * longer: the look never takes more than a tenth of the pager's time
 * (under emulation an answer takes milliseconds: each vCPU is paused to
 * read its registers). It is kept sorted, so xp_hv_guarded() is a binary
 * search.
 */
#include "private.h"

#include <stdlib.h>
#include <time.h>

#define XP_HV_REFRESH_NS 50000000ull
/* Room for the set: a few hundred gfns per vCPU, and the kernel's page
 * tables, shared by all (xen_guest_walk.c keeps at most 4096). */
#define XP_HV_PER_VCPU 320u
#define XP_HV_SHARED 4096u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_gfn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sort the set and drop duplicates (page tables are shared by vCPUs). */
static size_t sort_unique(uint64_t *g, size_t n)
{
	size_t out = 0;

	qsort(g, n, sizeof(*g), cmp_gfn);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || g[out - 1] != g[i])
			g[out++] = g[i];
	return out;
}

bool xp_hv_guarded(const struct xpage *xp, uint64_t gfn)
{
	return xp->hv.n && !xp->hv.paused_move &&
	       bsearch(&gfn, xp->hv.gfns, xp->hv.n, sizeof(gfn), cmp_gfn);
}

/* Gfns newly in the set (not in @prev, sorted, @prev_n of them) that are
 * already out: the hazard is live for them. One line per refresh. */
static void hv_warn_out(struct xpage *xp, const uint64_t *prev, size_t prev_n)
{
	uint64_t first = 0;
	size_t out = 0;

	for (size_t i = 0; i < xp->hv.n; i++) {
		uint64_t g = xp->hv.gfns[i];
		unsigned st;

		if (g >= xp->table.nr ||
		    (prev_n && bsearch(&g, prev, prev_n, sizeof(g), cmp_gfn)))
			continue;
		st = xp_gfn_state(&xp->table, g);
		if (st != XPAGE_GFN_EVICTED && st != XPAGE_GFN_PAGING_IN)
			continue;
		if (!out++)
			first = g;
	}
	if (out)
		xp_log(xp, XPAGE_LOG_WARN, "%zu gfns the hypervisor now reads or "
		       "writes itself for the guest are paged out (the first "
		       "0x%llx); they stay out until a touch raises a "
		       "page-in, and a touch by the hypervisor may then fail",
		       out,
		       (unsigned long long)first);
}

void xp_hv_refresh(struct xpage *xp)
{
	uint64_t t = now_ns();
	uint64_t *fresh;
	size_t prev_n, cap = (size_t)(xp->vcpus ? xp->vcpus : 1) * XP_HV_PER_VCPU +
			     XP_HV_SHARED;
	int rc;

	if (!xp->ops->hv_gfns || xp->hv.unsupported ||
	    (xp->hv.when_ns && t - xp->hv.when_ns < XP_HV_REFRESH_NS) ||
	    (xp->hv.when_ns && t - xp->hv.when_ns < 10 * xp->hv.last_ns))
		return;
	if (cap > xp->hv.cap) {
		/* Both buffers grow together: they swap at each answer. */
		uint64_t *g = realloc(xp->hv.spare, cap * sizeof(*g));

		if (!g)
			return; /* the old set stays in force */
		xp->hv.spare = g;
		g = realloc(xp->hv.gfns, cap * sizeof(*g));
		if (!g)
			return;
		xp->hv.gfns = g;
		xp->hv.cap = cap;
	}
	/* Ask into the spare buffer: on failure the last set stays whole. */
	fresh = xp->hv.spare;
	rc = xp->ops->hv_gfns(xp->be, fresh, cap);
	if (rc == -EOPNOTSUPP) {
		xp->hv.unsupported = true;
		xp->hv.n = 0;
		xp_log(xp, XPAGE_LOG_INFO, "the backend cannot tell which gfns "
		       "the hypervisor touches itself; none are held back");
		return;
	}
	if (rc < 0)
		return;
	xp->hv.last_ns = now_ns() - t;
	xp->hv.looks++;
	xp->hv.look_ns += xp->hv.last_ns;
	prev_n = xp->hv.n;
	xp->hv.spare = xp->hv.gfns;
	xp->hv.gfns = fresh;
	xp->hv.n = sort_unique(fresh, (size_t)rc);
	xp->hv.when_ns = t;
	xp_hints_take_code(xp);
	xp_log(xp, XPAGE_LOG_DEBUG, "the hypervisor's own gfns: %zu, code: "
	       "%zu of the kernel's and %zu of processes', looked in %.1f ms",
	       xp->hv.n, xp->hv.code_n[XP_CODE_KERNEL],
	       xp->hv.code_n[XP_CODE_USER], (double)xp->hv.last_ns / 1e6);
	hv_warn_out(xp, xp->hv.spare, prev_n);
}

void xp_hv_fini(struct xpage *xp)
{
	if (xp->hv.looks)
		xp_log(xp, XPAGE_LOG_DEBUG, "the hypervisor's own gfns: %u "
		       "looks, %.1f ms in all, %zu gfns at the last",
		       xp->hv.looks, (double)xp->hv.look_ns / 1e6, xp->hv.n);
	free(xp->hv.gfns);
	free(xp->hv.spare);
	xp_hints_fini(xp);
	xp->hv.gfns = xp->hv.spare = NULL;
	xp->hv.n = xp->hv.cap = 0;
}
