/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library knows of how the guest uses a gfn, for a pager's
 * choice of victims (xpage_gfn_hints):
 *
 * - XPAGE_HINT_HV_TOUCHED: the hypervisor reads or writes it itself
 *   (hv_guard.c); xpage_nominate() and xpage_evict() refuse it.
 * - XPAGE_HINT_KERNEL_CODE: the guest's kernel maps it executable
 *   (backend op kcode_gfns; on Xen found on the same walk of the kernel's
 *   page tables as the hypervisor's own gfns, xen_guest_walk.c). The
 *   kernel runs that code at every interrupt and system call, so a vCPU
 *   meets a paged-out page of it at its next kernel entry; on the rig, a
 *   guest whose kernel code was paged out again and again while it ran
 *   was lost (docs/xen-hazards.md).
 *
 * Both sets come from the same look and follow the guest: the call looks
 * again when the last look is stale (at most as often as nominating
 * does).
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void xp_hints_take_code(struct xpage *xp)
{
	const uint64_t *g = NULL;
	int n;

	if (!xp->ops->kcode_gfns)
		return;
	n = xp->ops->kcode_gfns(xp->be, &g);
	if (n < 0 || (n > 0 && !g))
		return; /* the last set stays */
	if ((size_t)n > xp->hv.code_cap) {
		uint64_t *c = realloc(xp->hv.code, (size_t)n * sizeof(*c));

		if (!c)
			return;
		xp->hv.code = c;
		xp->hv.code_cap = (size_t)n;
	}
	if (n)
		memcpy(xp->hv.code, g, (size_t)n * sizeof(*g));
	xp->hv.code_n = (size_t)n;
}

bool xp_hints_kernel_code(const struct xpage *xp, uint64_t gfn)
{
	return xp->hv.code_n &&
	       bsearch(&gfn, xp->hv.code, xp->hv.code_n, sizeof(gfn), cmp_u64);
}

static int gfn_hints(xpage_t *xp, const uint64_t *gfns, size_t n,
		     unsigned int flags, uint32_t *hints)
{
	if ((n && (!gfns || !hints)) || flags)
		return xp_err(EINVAL);
	if (!xp->enabled)
		return xp_err(ESHUTDOWN);
	if (!n)
		return 0;
	xp_hv_refresh(xp);
	for (size_t i = 0; i < n; i++) {
		uint32_t h = 0;

		if (xp_hv_guarded(xp, gfns[i]))
			h |= XPAGE_HINT_HV_TOUCHED;
		if (xp_hints_kernel_code(xp, gfns[i]))
			h |= XPAGE_HINT_KERNEL_CODE;
		hints[i] = h;
	}
	return 0;
}

XPAGE_API int xpage_gfn_hints(xpage_t *xp, const uint64_t *gfns, size_t n,
			      unsigned int flags, uint32_t *hints)
{
	return XP_GUARDED(xp, XP_NEEDS_HV, gfn_hints(xp, gfns, n, flags, hints));
}
