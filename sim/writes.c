/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Write tracking: Xen's log-dirty mode, the interface live migration
 * uses (XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, then CLEAN or PEEK for the
 * bitmap, OFF).
 *
 * While it is on, every guest write (a vCPU's or a foreign mapper's)
 * sets the gfn's bit; a page-in does not (Xen's prep copies the pager's
 * data in and restores the page as log-dirty, without marking it). One
 * user at a time: Xen answers an enable while tracking is on with
 * -EINVAL, whoever holds it. SIMP_LOGDIRTY_HOLD turns it on or off as a
 * live migration would, for tests of a pager that finds it taken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void writes_note(struct sim_guest *g, uint64_t gfn)
{
	if (g->ld_bits && gfn < g->nr_gfns)
		g->ld_bits[gfn / 64] |= 1ull << (gfn % 64);
}

void writes_fini(struct sim_guest *g)
{
	free(g->ld_bits);
	g->ld_bits = NULL;
}

static int writes_on(struct sim_guest *g)
{
	if (g->ld_bits)
		return -EINVAL; /* paging_log_dirty_enable(): already on */
	g->ld_bits = calloc((g->nr_gfns + 63) / 64, sizeof(uint64_t));
	return g->ld_bits ? 0 : -ENOMEM;
}

/* CLEAN / PEEK of one chunk into @out. */
static int writes_read(struct sim_guest *g, const struct simp_logdirty_req *q,
		       struct simp_logdirty *out)
{
	uint64_t nr = q->nr, w0 = q->first / 64;

	if (!g->ld_bits)
		return -EINVAL;
	if (q->first % 64 || nr > SIMP_LD_GFNS || q->first >= g->nr_gfns)
		return -EINVAL;
	if (nr > g->nr_gfns - q->first)
		nr = g->nr_gfns - q->first;
	out->first = q->first;
	out->nr = nr;
	for (uint64_t w = 0; w < (nr + 63) / 64; w++) {
		uint64_t m = g->ld_bits[w0 + w];

		if (nr - w * 64 < 64)
			m &= (1ull << (nr - w * 64)) - 1;
		out->bits[w] = m;
		out->dirty += (uint64_t)__builtin_popcountll(m);
		if (q->op == SIMP_LD_CLEAN)
			g->ld_bits[w0 + w] &= ~m;
	}
	return 0;
}

int writes_op(struct sim_guest *g, const struct simp_logdirty_req *q,
	      struct simp_logdirty *out)
{
	memset(out, 0, sizeof(*out));
	switch (q->op) {
	case SIMP_LD_ENABLE:
		return writes_on(g);
	case SIMP_LD_OFF:
		writes_fini(g);
		return 0;
	case SIMP_LD_CLEAN:
	case SIMP_LD_PEEK:
		return writes_read(g, q, out);
	default:
		return -EINVAL;
	}
}

int writes_hold(struct sim_guest *g, bool on)
{
	if (!on) {
		writes_fini(g);
		return 0;
	}
	return writes_on(g);
}
