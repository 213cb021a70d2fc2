/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_map() and xpage_unmap(): nominated gfns mapped read-only in one
 * mapping call, so the pager can write them out, and the record of each
 * mapping (a region) that unmap checks and that lets xpage_evict() know
 * which gfns the pager has held.
 */
#include "batch.h"

#include <stdlib.h>
#include <sys/mman.h>

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
		r->gfns[i] = status[i] == 0 ? gfns[i] : XP_GFN_NONE;
	xp->nregions++;
	return 0;
}

/* A gfn may be mapped when nominated and not mapped already. */
static int check_mappable(struct batch *b, size_t i, void *ctx)
{
	const struct xp_gfn_table *t = &b->xp->table;

	(void)ctx;
	if (xp_gfn_state(t, b->gfns[i]) != XPAGE_GFN_NOMINATED)
		return batch_misfit(b, i, NULL);
	if (xp_gfn_flag(t, b->gfns[i], XP_GS_MAPPED))
		return -EBUSY;
	return 0;
}

/*
 * Map the gfns that passed the check (status 0) in one mapping call,
 * leaving a hole at the place of each other one, so that page i is still
 * at addr + i * XPAGE_PAGE_SIZE. Their statuses get the hypervisor's
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
		addr = xp_map_counted(xp, q, n, PROT_READ, err);
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

static int unmap_region(xpage_t *xp, void *addr, size_t n);

static void *map_gfns(xpage_t *xp, const uint64_t *gfns, size_t n,
		      unsigned int flags, int *status)
{
	struct batch b = { .call = "xpage_map", .need = "nominated" };
	int rc = batch_open(&b, xp, gfns, n, status, flags, 0, 0);
	size_t ok = 0;
	void *addr;

	if (rc) {
		/* n = 0: nothing to map is no error */
		errno = rc < 0 ? -rc : 0;
		return NULL;
	}
	if (!batch_check(&b, check_mappable, NULL)) {
		errno = EINVAL;
		return NULL;
	}
	addr = map_passed(xp, gfns, n, status);
	if (!addr)
		return NULL;
	if (region_add(xp, addr, gfns, n, status) < 0) {
		xp->ops->unmap(xp->be, addr, n);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (status[i])
			continue;
		xp_gfn_set_flag(&xp->table, gfns[i], XP_GS_MAPPED | XP_GS_HELD,
				true);
		ok++;
	}
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
		if (r->gfns[i] != XP_GFN_NONE)
			xp_gfn_set_flag(&xp->table, r->gfns[i], XP_GS_MAPPED, false);
	free(r->gfns);
	*r = xp->regions[--xp->nregions];
	return rc < 0 ? xp_err(-rc) : 0;
}

int xp_unmap_all(struct xpage *xp)
{
	int rc = 0;

	while (xp->nregions) {
		int r = unmap_region(xp, xp->regions[0].addr, xp->regions[0].n);

		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

XPAGE_API void *xpage_map(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status)
{
	int rc = xp_enter(xp, XP_NEEDS_HV);
	void *addr;

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	addr = map_gfns(xp, gfns, n, flags, status);
	xp_leave(xp);
	return addr;
}

XPAGE_API int xpage_unmap(xpage_t *xp, void *addr, size_t n)
{
	return XP_GUARDED(xp, XP_NEEDS_HV, unmap_region(xp, addr, n));
}
