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
 *
 * A PVH guest's gfns are mostly one hole (its RAM at the bottom, a few
 * special pages just below 4 GiB): scanning all of them costs a thousand
 * calls, seconds under emulation. The scan works inwards from both ends
 * and stops once it has found as many pages as the domain holds
 * (tot_pages): the gfns between are a hole. Should the count change
 * during the scan, or more be found than the domain holds (pages of other
 * domains mapped into its p2m), the middle is scanned too. The answer is
 * kept a second, for the core's second call (count, then fill).
 */
#include "xen_backend.h"

#include <stdlib.h>
#include <string.h>

#define XP_RAM_KEEP_NS 1000000000ull
#define XP_RAM_SLACK 64u

_Static_assert(XEN_DOMCTL_PFINFO_LTAB_MASK == XP_PFINFO_MASK &&
	       XEN_DOMCTL_PFINFO_XTAB == XP_PFINFO_XTAB &&
	       XEN_DOMCTL_PFINFO_BROKEN == XP_PFINFO_BROKEN,
	       "XEN_DOMCTL_PFINFO_* values");

/* Ranges of RAM, in the order found. */
struct xp_ram_list {
	struct xpage_gfn_range *r;
	size_t n, cap;
};

/* Append gfns @first .. @first + @count - 1, joining the last range when
 * adjacent. */
static int xp_ram_add(struct xp_ram_list *l, uint64_t first, uint64_t count)
{
	if (l->n && l->r[l->n - 1].first + l->r[l->n - 1].count == first) {
		l->r[l->n - 1].count += count;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct xpage_gfn_range *r = realloc(l->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n++] = (struct xpage_gfn_range){ .first = first, .count = count };
	return 0;
}

/* Chunk @c (gfns c * 1024 ..) into @l; *@found counts its RAM gfns. */
static int xp_ram_chunk(struct xp_backend *be, uint64_t nr, uint64_t c,
			struct xp_ram_list *l, uint64_t *found)
{
	uint64_t types[XP_PFINFO_BATCH], base = c * XP_PFINFO_BATCH;
	unsigned k = (unsigned)(nr - base < XP_PFINFO_BATCH ? nr - base
							   : XP_PFINFO_BATCH);

	for (unsigned i = 0; i < k; i++)
		types[i] = base + i;
	if (be->xc.get_pfn_type_batch(be->xch, be->domid, k, types) < 0)
		return xp_neg_errno();
	for (unsigned i = 0; i < k; i++) {
		uint64_t t = types[i] & XP_PFINFO_MASK;

		if (t == XP_PFINFO_XTAB || t == XP_PFINFO_BROKEN)
			continue;
		if (xp_ram_add(l, base + i, 1) < 0)
			return -ENOMEM;
		(*found)++;
	}
	return 0;
}

/* One scan of @nr gfns, inwards from both ends, until @enough RAM gfns
 * are found or every chunk is scanned (*@all). The RAM into @out,
 * ascending; *@found counts it. */
static int xp_ram_scan(struct xp_backend *be, uint64_t nr, uint64_t enough,
		       struct xp_ram_list *out, uint64_t *found, bool *all)
{
	uint64_t nchunks = (nr + XP_PFINFO_BATCH - 1) / XP_PFINFO_BATCH;
	uint64_t a = 0, b = nchunks, nhi = 0;
	struct xp_ram_list hi = { 0 };
	size_t *hi_start; /* where each high chunk's ranges start in @hi */
	int rc = 0;

	*found = 0;
	hi_start = calloc(nchunks / 2 + 2, sizeof(*hi_start));
	if (!hi_start)
		return -ENOMEM;
	while (a < b && *found < enough && rc == 0) {
		rc = xp_ram_chunk(be, nr, a++, out, found);
		if (a < b && *found < enough && rc == 0) {
			hi_start[nhi++] = hi.n;
			rc = xp_ram_chunk(be, nr, --b, &hi, found);
		}
	}
	hi_start[nhi] = hi.n;
	*all = a == b;
	/* the high chunks were scanned from the top: lowest first now */
	for (uint64_t c = nhi; rc == 0 && c-- > 0;)
		for (size_t i = hi_start[c]; rc == 0 && i < hi_start[c + 1]; i++)
			rc = xp_ram_add(out, hi.r[i].first, hi.r[i].count);
	free(hi.r);
	free(hi_start);
	return rc;
}

/* How many RAM gfns a scan may stop at, for a domain holding @tot. */
static uint64_t xp_ram_enough(uint64_t tot)
{
	if (!tot)
		return UINT64_MAX; /* not known: everything */
	return tot - (tot / 2 < XP_RAM_SLACK ? tot / 2 : XP_RAM_SLACK);
}

/* The guest's RAM now into @out: a scan that stops near tot_pages,
 * checked against the domain's count afterwards, or a whole one. */
static int xp_ram_read(struct xp_backend *be, struct xp_ram_list *out)
{
	struct xp_dominfo before, after;
	uint64_t found;
	bool all;
	int rc = xp_xen_read_dominfo(be, &before);

	if (rc == 0)
		rc = xp_ram_scan(be, before.nr_gfns,
				 xp_ram_enough(before.tot_pages), out, &found,
				 &all);
	if (rc == 0 && !all)
		rc = xp_xen_read_dominfo(be, &after);
	if (rc == 0 && !all && (found > before.tot_pages ||
				after.nr_gfns != before.nr_gfns ||
				found < xp_ram_enough(after.tot_pages))) {
		out->n = 0; /* the count moved: no hole can be assumed */
		rc = xp_ram_scan(be, after.nr_gfns, UINT64_MAX, out, &found,
				 &all);
	}
	return rc;
}

int xp_xen_ram_ranges(struct xp_backend *be, struct xpage_gfn_range *r,
		      size_t max)
{
	uint64_t t = xp_xen_now_ns();

	if (!be->xc.get_pfn_type_batch)
		return -EOPNOTSUPP;
	if (!be->ram_ns || t - be->ram_ns >= XP_RAM_KEEP_NS) {
		struct xp_ram_list l = { 0 };
		int rc = xp_ram_read(be, &l);

		if (rc < 0) {
			free(l.r);
			return rc;
		}
		free(be->ram);
		be->ram = l.r;
		be->ram_n = l.n;
		/* kept from when it was read: a scan that took longer than
		 * XP_RAM_KEEP_NS would otherwise never be kept */
		be->ram_ns = xp_xen_now_ns();
	}
	if (max && be->ram_n)
		memcpy(r, be->ram,
		       (max < be->ram_n ? max : be->ram_n) * sizeof(*r));
	return be->ram_n > (size_t)INT32_MAX ? -E2BIG : (int)be->ram_n;
}

void xp_xen_ram_close(struct xp_backend *be)
{
	free(be->ram);
	be->ram = NULL;
	be->ram_n = 0;
	be->ram_ns = 0;
}
