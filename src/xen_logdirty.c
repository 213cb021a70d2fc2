/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Log-dirty mode on Xen: the shadow ops live migration uses
 * (XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, CLEAN, PEEK, OFF), through
 * whichever libxenctrl entry the loaded release has (xenctrl_loader.h):
 * xc_logdirty_control from 4.16, the eight-argument xc_shadow_control
 * before. The bitmap goes through a hypercall buffer (memory the
 * hypervisor may write) and is copied into the pager's.
 */
#include "xen_backend.h"

#include <string.h>

/* libxpage's own copy of the op numbers (public/domctl.h). */
#define XP_SHADOW_OP_OFF             0u
#define XP_SHADOW_OP_ENABLE_LOGDIRTY 2u
#define XP_SHADOW_OP_CLEAN           11u
#define XP_SHADOW_OP_PEEK            12u

static int shadow_op(struct xp_backend *be, unsigned sop,
		     struct xp_xc_hcbuf *hb, unsigned long pages)
{
	struct xp_xen_shadow_stats st;
	long long rc;

	memset(&st, 0, sizeof(st));
	if (be->xc.logdirty_control) {
		rc = be->xc.logdirty_control(be->xch, be->domid, sop, hb,
					     pages, 0, &st);
	} else if (be->xc.shadow_control_old) {
		unsigned long mb = 0;

		rc = be->xc.shadow_control_old(be->xch, be->domid, sop, hb,
					       pages, &mb, 0, &st);
	} else {
		return -EOPNOTSUPP;
	}
	return rc < 0 ? xp_neg_errno() : 0;
}

/* The hypervisor's bitmap, bytes in gfn order (x86: little-endian
 * words), into the pager's words; the count of set bits. */
static uint64_t copy_bits(uint64_t *dst, const void *src, uint64_t nr)
{
	uint64_t words = (nr + 63) / 64, n = 0;

	memcpy(dst, src, words * 8);
	if (nr % 64)
		dst[words - 1] &= (1ull << (nr % 64)) - 1;
	for (uint64_t w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(dst[w]);
	return n;
}

static int read_log(struct xp_backend *be, unsigned sop, uint64_t *bits,
		    uint64_t nr, uint64_t *dirty)
{
	struct xp_xc_hcbuf hb;
	uint64_t bytes = (nr + 63) / 64 * 8;
	int pages = (int)((bytes + 4095) / 4096), rc;

	if (!be->xc.hcbuf_alloc_pages || !be->xc.hcbuf_free_pages)
		return -EOPNOTSUPP;
	memset(&hb, 0, sizeof(hb));
	if (!be->xc.hcbuf_alloc_pages(be->xch, &hb, pages) || !hb.hbuf)
		return -ENOMEM;
	memset(hb.hbuf, 0, (size_t)pages * 4096);
	rc = shadow_op(be, sop, &hb, (unsigned long)nr);
	if (rc == 0)
		*dirty = copy_bits(bits, hb.hbuf, nr);
	be->xc.hcbuf_free_pages(be->xch, &hb, pages);
	return rc;
}

int xp_xen_logdirty(struct xp_backend *be, unsigned op, uint64_t *bits,
		    uint64_t nr, uint64_t *dirty)
{
	switch (op) {
	case XP_LD_ENABLE:
		return shadow_op(be, XP_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0);
	case XP_LD_OFF:
		return shadow_op(be, XP_SHADOW_OP_OFF, NULL, 0);
	case XP_LD_CLEAN:
		return read_log(be, XP_SHADOW_OP_CLEAN, bits, nr, dirty);
	case XP_LD_PEEK:
		return read_log(be, XP_SHADOW_OP_PEEK, bits, nr, dirty);
	default:
		return -EINVAL;
	}
}
