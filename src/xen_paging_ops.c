/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nominate, evict and prep (load) for the Xen backend. Each paging
 * operation is one XENMEM_paging_op memory op. With libxencall they go
 * to the hypervisor in multicalls, up to XP_XEN_MULTICALL_MAX per trap,
 * each entry with its own result (checked on a real Xen 4.17 by the rig's
 * multicall probe, tests/xen/mcprobe.c: a batch mixing good and refused
 * gfns gives, gfn by gfn, the statuses of one operation per trap). Where
 * libxencall cannot be opened, or the first multicall is refused as a
 * whole, each operation is its own libxenctrl call, and the log says so.
 */
#include "xen_backend.h"

#include <stdlib.h>
#include <string.h>


/* A page-aligned pointer to @buf's contents for xc_mem_paging_load. */
static void *xp_xen_aligned(struct xp_backend *be, const void *buf)
{
	if (((uintptr_t)buf & (XP_XEN_PAGE_SIZE - 1)) == 0)
		return (void *)(uintptr_t)buf; /* libxenctrl only reads it */
	if (!be->bounce &&
	    posix_memalign(&be->bounce, XP_XEN_PAGE_SIZE, XP_XEN_PAGE_SIZE)) {
		be->bounce = NULL;
		return NULL;
	}
	memcpy(be->bounce, buf, XP_XEN_PAGE_SIZE);
	return be->bounce;
}

/* One trap per operation. Returns the number of traps. */
static int xp_xen_ops_loop(struct xp_backend *be, struct xp_paging_op *ops,
			   size_t n)
{
	int traps = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct xp_paging_op *op = &ops[i];
		int r;

		errno = 0;
		switch (op->op) {
		case XP_PAGING_NOMINATE:
			r = be->xc.mem_paging_nominate(be->xch, be->domid, op->gfn);
			break;
		case XP_PAGING_EVICT:
			r = be->xc.mem_paging_evict(be->xch, be->domid, op->gfn);
			break;
		case XP_PAGING_PREP:
			if (op->buf) {
				void *b = xp_xen_aligned(be, op->buf);

				if (!b) {
					op->rc = -ENOMEM;
					continue;
				}
				r = be->xc.mem_paging_load(be->xch, be->domid,
							   op->gfn, b);
			} else if (be->xc.mem_paging_prep) {
				r = be->xc.mem_paging_prep(be->xch, be->domid,
							   op->gfn);
			} else {
				op->rc = -EOPNOTSUPP;
				continue;
			}
			break;
		default:
			op->rc = -EINVAL;
			continue;
		}
		traps++;
		op->rc = xp_call_rc(r);
	}
	return traps;
}

static int xp_xen_mc_alloc(struct xp_backend *be, int want_pages)
{
	const struct xp_xen_sys *sys = be->sys;

	if (!be->mc) {
		be->mc = sys->call_alloc_buffer(be->xcall,
			XP_XEN_MULTICALL_MAX * sizeof(*be->mc));
		if (!be->mc)
			return -ENOMEM;
	}
	if (!be->mc_ops) {
		be->mc_ops = sys->call_alloc_buffer(be->xcall,
			XP_XEN_MULTICALL_MAX * sizeof(*be->mc_ops));
		if (!be->mc_ops)
			return -ENOMEM;
	}
	if (want_pages && !be->mc_pages) {
		be->mc_pages = sys->call_alloc_buffer(be->xcall,
			(size_t)XP_XEN_MULTICALL_MAX * XP_XEN_PAGE_SIZE);
		if (!be->mc_pages)
			return -ENOMEM;
	}
	return 0;
}

/* One __HYPERVISOR_multicall for up to XP_XEN_MULTICALL_MAX operations:
 * each entry is memory_op(XENMEM_paging_op, &its xen_mem_paging_op), all
 * in libxencall's hypercall-safe memory (prep data copied there too).
 * Returns 1 (traps), 0 if nothing needed a trap, or -errno if the
 * multicall itself failed (the chunk's rc are then set to it). */
static int xp_xen_mc_chunk(struct xp_backend *be, struct xp_paging_op *ops,
			   size_t n)
{
	uint16_t idx[XP_XEN_MULTICALL_MAX];
	int want_pages = 0, rc;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (ops[i].op == XP_PAGING_PREP && ops[i].buf)
			want_pages = 1;
	rc = xp_xen_mc_alloc(be, want_pages);
	if (rc < 0) {
		for (i = 0; i < n; i++)
			ops[i].rc = rc;
		return rc;
	}

	for (i = 0; i < n; i++) {
		struct xp_paging_op *op = &ops[i];
		struct xp_xen_mem_paging_op *mpo = &be->mc_ops[k];
		struct xp_xen_multicall_entry *e = &be->mc[k];

		if (op->op != XP_PAGING_NOMINATE && op->op != XP_PAGING_EVICT &&
		    op->op != XP_PAGING_PREP) {
			op->rc = -EINVAL;
			continue;
		}
		memset(mpo, 0, sizeof(*mpo));
		mpo->op = (uint8_t)op->op;
		mpo->domain = (uint16_t)be->domid;
		mpo->gfn = op->gfn;
		if (op->op == XP_PAGING_PREP && op->buf) {
			unsigned char *page = be->mc_pages + k * XP_XEN_PAGE_SIZE;

			memcpy(page, op->buf, XP_XEN_PAGE_SIZE);
			mpo->buffer = (uint64_t)(uintptr_t)page;
		}
		memset(e, 0, sizeof(*e));
		e->op = XP_XEN_HYPERVISOR_memory_op;
		e->args[0] = XP_XEN_XENMEM_paging_op;
		e->args[1] = (uint64_t)(uintptr_t)mpo;
		idx[k++] = (uint16_t)i;
	}
	if (k == 0)
		return 0;

	errno = 0;
	if (be->sys->call2(be->xcall, XP_XEN_HYPERVISOR_multicall,
			   (uint64_t)(uintptr_t)be->mc, k) < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: multicall of %zu paging ops: %s",
		     k, strerror(-rc));
		for (i = 0; i < k; i++)
			ops[idx[i]].rc = rc;
		return rc;
	}
	for (i = 0; i < k; i++) {
		long res = (long)be->mc[i].result;

		ops[idx[i]].rc = res < 0 ? (int)res : 0;
	}
	return 1;
}

/* Errors of a multicall as a whole that mean it ran nothing: this
 * hypervisor (or the dom0 kernel's privcmd) does not let the pager batch. */
static bool xp_xen_mc_refused(int rc)
{
	return rc == -ENOSYS || rc == -EPERM || rc == -EOPNOTSUPP ||
	       rc == -EACCES;
}

int xp_xen_paging_ops(struct xp_backend *be, struct xp_paging_op *ops,
		      size_t n)
{
	int traps = 0;
	size_t done;

	if (be->batching != XP_XEN_MULTICALL)
		return xp_xen_ops_loop(be, ops, n);

	for (done = 0; done < n;) {
		size_t chunk = n - done;
		int rc;

		if (chunk > XP_XEN_MULTICALL_MAX)
			chunk = XP_XEN_MULTICALL_MAX;
		rc = xp_xen_mc_chunk(be, ops + done, chunk);
		if (rc < 0 && done == 0 && xp_xen_mc_refused(rc)) {
			XLOG(be, XPAGE_LOG_WARN, "xen: multicall refused (%s): "
			     "one trap per paging operation from now on",
			     strerror(-rc));
			be->batching = XP_XEN_ONE_PER_TRAP;
			return xp_xen_ops_loop(be, ops, n);
		}
		if (rc < 0) {
			if (done == 0) {
				/* Nothing issued: the whole batch failed. */
				size_t i;

				for (i = chunk; i < n; i++)
					ops[i].rc = rc;
				return rc;
			}
			rc = 1; /* later chunk: its ops carry the error */
		}
		traps += rc;
		done += chunk;
	}
	return traps;
}

static void xp_xen_free_mc(struct xp_backend *be)
{
	if (!be->xcall)
		return;
	if (be->mc)
		be->sys->call_free_buffer(be->xcall, be->mc);
	if (be->mc_ops)
		be->sys->call_free_buffer(be->xcall, be->mc_ops);
	if (be->mc_pages)
		be->sys->call_free_buffer(be->xcall, be->mc_pages);
	be->mc = NULL;
	be->mc_ops = NULL;
	be->mc_pages = NULL;
}

/* Unbind and unmap what enable set up; leaves paging as it is. */

/* Choose the batching at open: multicalls where libxencall opens. */
void xp_xen_batching_open(struct xp_backend *be)
{
	be->batching = XP_XEN_ONE_PER_TRAP;
	be->xcall = be->sys->call_open(&be->tl.base, 0);
	if (be->xcall)
		be->batching = XP_XEN_MULTICALL;
	else
		XLOG(be, XPAGE_LOG_WARN, "xen: xencall_open: %s; one trap per "
		     "paging operation", strerror(errno));
}

void xp_xen_batching_close(struct xp_backend *be)
{
	xp_xen_free_mc(be);
	if (be->xcall)
		be->sys->call_close(be->xcall);
	be->xcall = NULL;
	free(be->bounce);
	be->bounce = NULL;
}
