/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library knows of how the guest uses a gfn, for a pager's
 * choice of victims (xpage_gfn_hints):
 *
 * - XPAGE_HINT_HV_TOUCHED: the hypervisor reads or writes it itself
 *   (hv_guard.c); xpage_nominate() and xpage_evict() refuse it.
 * - XPAGE_HINT_KERNEL_CODE: the guest's kernel maps it executable; and
 *   XPAGE_HINT_USER_CODE: a process its vCPUs were seen running maps it
 *   executable (backend op code_gfns; on Xen xen_guest_code.c). The
 *   vCPUs run that code all the time, so each page of it paged out stops
 *   them again and again; on the rig, a guest whose code was paged out
 *   while it ran was lost (docs/xen-hazards.md section 4).
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

/* Keep the backend's set @which; the last one stays when it fails. */
static void take_set(struct xpage *xp, unsigned which)
{
	const uint64_t *g = NULL;
	int n = xp->ops->code_gfns(xp->be, which, &g);

	if (n < 0 || (n > 0 && !g))
		return;
	if ((size_t)n > xp->hv.code_cap[which]) {
		uint64_t *c = realloc(xp->hv.code[which], (size_t)n * sizeof(*c));

		if (!c)
			return;
		xp->hv.code[which] = c;
		xp->hv.code_cap[which] = (size_t)n;
	}
	if (n)
		memcpy(xp->hv.code[which], g, (size_t)n * sizeof(*g));
	xp->hv.code_n[which] = (size_t)n;
}

void xp_hints_take_code(struct xpage *xp)
{
	if (!xp->ops->code_gfns)
		return;
	take_set(xp, XP_CODE_KERNEL);
	take_set(xp, XP_CODE_USER);
}

void xp_hints_fini(struct xpage *xp)
{
	for (unsigned w = 0; w < 2; w++) {
		free(xp->hv.code[w]);
		xp->hv.code[w] = NULL;
		xp->hv.code_n[w] = xp->hv.code_cap[w] = 0;
	}
}

static bool in_set(const struct xpage *xp, unsigned which, uint64_t gfn)
{
	return xp->hv.code_n[which] &&
	       bsearch(&gfn, xp->hv.code[which], xp->hv.code_n[which],
		       sizeof(gfn), cmp_u64);
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
		if (in_set(xp, XP_CODE_KERNEL, gfns[i]))
			h |= XPAGE_HINT_KERNEL_CODE;
		if (in_set(xp, XP_CODE_USER, gfns[i]))
			h |= XPAGE_HINT_USER_CODE;
		hints[i] = h;
	}
	return 0;
}

XPAGE_API int xpage_gfn_hints(xpage_t *xp, const uint64_t *gfns, size_t n,
			      unsigned int flags, uint32_t *hints)
{
	return XP_GUARDED(xp, XP_NEEDS_HV, gfn_hints(xp, gfns, n, flags, hints));
}
