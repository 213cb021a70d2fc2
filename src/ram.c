/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_ram_ranges(): the gfns of the guest that are RAM, so that a pager
 * picks its victims there and never asks the hypervisor about a hole.
 *
 * The backend says what the hypervisor knows (the simulator its layout,
 * Xen the p2m). Its answer is checked like anything the hypervisor sends:
 * ranges in ascending order, disjoint, inside the guest. A gfn with no
 * page because it is paged out may be missing from a p2m walk; the gfns
 * this handle holds out of the ordinary (nominated, evicted, paging in,
 * loaded) are RAM whatever the backend says, and are merged in.
 */
#include "private.h"

#include <stdlib.h>

/* The ranges being built: @out gets the first @max, all are counted. */
struct ram_out {
	struct xpage_gfn_range *out;
	size_t max, n;
	struct xpage_gfn_range cur; /* open range, count 0: none */
};

static void flush(struct ram_out *o)
{
	if (!o->cur.count)
		return;
	if (o->n < o->max)
		o->out[o->n] = o->cur;
	o->n++;
	o->cur.count = 0;
}

/* Add gfns first .. first + count - 1, at or after everything so far. */
static void add(struct ram_out *o, uint64_t first, uint64_t count)
{
	uint64_t end = o->cur.first + o->cur.count;

	if (o->cur.count && first <= end) {
		if (first + count > end)
			o->cur.count = first + count - o->cur.first;
		return;
	}
	flush(o);
	o->cur = (struct xpage_gfn_range){ .first = first, .count = count };
}

/* The gfns in from .. to - 1 that the table holds out of the ordinary. */
static void add_held(struct ram_out *o, const struct xp_gfn_table *t,
		     uint64_t from, uint64_t to)
{
	for (uint64_t g = from; g < to; g++)
		if (xp_gfn_state(t, g) != XPAGE_GFN_RESIDENT)
			add(o, g, 1);
}

/* The backend's answer: @n ranges, ascending, disjoint, in the guest. */
static bool well_formed(const struct xpage_gfn_range *r, size_t n,
			uint64_t nr_gfns)
{
	uint64_t next = 0;

	for (size_t i = 0; i < n; i++) {
		if (!r[i].count || r[i].first < next ||
		    r[i].first >= nr_gfns || r[i].count > nr_gfns - r[i].first)
			return false;
		next = r[i].first + r[i].count;
	}
	return true;
}

/* The backend's ranges into a fresh array (*@n of them). 0 or -errno. */
static int backend_ranges(struct xpage *xp, struct xpage_gfn_range **r,
			  size_t *n)
{
	int rc = xp->ops->ram_ranges(xp->be, NULL, 0), again;

	for (int tries = 0; rc >= 0 && tries < 4; tries++) {
		*r = calloc((size_t)rc + 1, sizeof(**r));
		if (!*r)
			return -ENOMEM;
		again = xp->ops->ram_ranges(xp->be, *r, (size_t)rc);
		if (again >= 0 && again <= rc) {
			*n = (size_t)again;
			return 0;
		}
		free(*r);
		*r = NULL;
		rc = again; /* the memory changed in between */
	}
	return rc < 0 ? rc : -EAGAIN;
}

static int ram_ranges(struct xpage *xp, struct xpage_gfn_range *ranges,
		      size_t max)
{
	struct ram_out o = { .out = ranges, .max = max };
	struct xpage_gfn_range *r = NULL;
	uint64_t next = 0;
	size_t n = 0;
	int rc;

	if (max && !ranges)
		return xp_err(EINVAL);
	if (!xp->ops->ram_ranges)
		return xp_err(EOPNOTSUPP);
	rc = backend_ranges(xp, &r, &n);
	if (rc == 0 && !well_formed(r, n, xp->table.nr)) {
		xp_log(xp, XPAGE_LOG_ERROR, "the hypervisor's RAM ranges of "
		       "domain %u are not ascending ranges inside its %llu "
		       "gfns", xp->domid, (unsigned long long)xp->table.nr);
		rc = -EPROTO;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		add_held(&o, &xp->table, next, r[i].first);
		add(&o, r[i].first, r[i].count);
		next = r[i].first + r[i].count;
	}
	free(r);
	if (rc < 0)
		return xp_err(-rc);
	add_held(&o, &xp->table, next, xp->table.nr);
	flush(&o);
	return o.n > INT32_MAX ? xp_err(EOVERFLOW) : (int)o.n;
}

XPAGE_API int xpage_ram_ranges(xpage_t *xp, struct xpage_gfn_range *ranges,
			       size_t max)
{
	return XP_GUARDED(xp, XP_NEEDS_HV, ram_ranges(xp, ranges, max));
}
