/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's RAM on Xen (backend op ram_ranges). Dom0 cannot read an
 * HVM/PVH domain's memory map, but XEN_DOMCTL_getpageframeinfo3
 * (libxenctrl's xc_get_pfn_type_batch, exported by every release 4.2 ..
 * 4.22 though declared in its private header) tells, 1024 gfns per call,
 * which gfns have no page (XTAB: a hole, a special page of Xen's, or a
 * page that is paged out) or a broken one. Everything else is RAM. The
 * domctl takes no paging action: a paged-out gfn is reported as XTAB and
 * raises no page-in request; the core adds the gfns it holds paged out.
 */
#include "xen_backend.h"

#include <string.h>

#define XP_PFINFO_BATCH 1024u
#define XP_PFINFO_MASK  (0xfull << 28)   /* XEN_DOMCTL_PFINFO_LTAB_MASK */
#define XP_PFINFO_XTAB  (0xfull << 28)   /* no page */
#define XP_PFINFO_BROKEN (0xdull << 28)  /* a broken page */

_Static_assert(XEN_DOMCTL_PFINFO_LTAB_MASK == XP_PFINFO_MASK &&
	       XEN_DOMCTL_PFINFO_XTAB == XP_PFINFO_XTAB &&
	       XEN_DOMCTL_PFINFO_BROKEN == XP_PFINFO_BROKEN,
	       "XEN_DOMCTL_PFINFO_* values");

int xp_xen_ram_ranges(struct xp_backend *be, struct xpage_gfn_range *r,
		      size_t max)
{
	uint64_t types[XP_PFINFO_BATCH], prev = 0;
	struct xp_dominfo di;
	size_t n = 0;
	int rc;

	if (!be->xc.get_pfn_type_batch)
		return -EOPNOTSUPP;
	rc = xp_xen_read_dominfo(be, &di);
	if (rc < 0)
		return rc;
	for (uint64_t base = 0; base < di.nr_gfns; base += XP_PFINFO_BATCH) {
		unsigned k = (unsigned)(di.nr_gfns - base < XP_PFINFO_BATCH ?
					di.nr_gfns - base : XP_PFINFO_BATCH);

		for (unsigned i = 0; i < k; i++)
			types[i] = base + i;
		if (be->xc.get_pfn_type_batch(be->xch, be->domid, k, types) < 0)
			return xp_neg_errno();
		for (unsigned i = 0; i < k; i++) {
			uint64_t t = types[i] & XP_PFINFO_MASK;

			if (t == XP_PFINFO_XTAB || t == XP_PFINFO_BROKEN)
				continue;
			/* ranges past @max are counted, not written */
			if (n && prev + 1 == base + i) {
				if (n <= max)
					r[n - 1].count++;
			} else {
				if (n < max)
					r[n] = (struct xpage_gfn_range){
						.first = base + i, .count = 1 };
				n++;
			}
			prev = base + i;
		}
	}
	return n > (size_t)INT32_MAX ? -E2BIG : (int)n;
}
