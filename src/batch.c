/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machinery every batch call shares (batch.h): opening a call,
 * checking each gfn against the state table without touching anything,
 * the scratch array of paging operations, running them through the
 * backend, and reporting a call that failed as a whole. A gfn that fails
 * a check keeps its state.
 */
#include "batch.h"

#include <stdlib.h>

int batch_open(struct batch *b, struct xpage *xp, const uint64_t *gfns,
	       size_t n, int *status, unsigned flags, unsigned known_flags,
	       unsigned needs)
{
	b->xp = xp;
	b->gfns = gfns;
	b->n = n;
	b->status = status;
	b->misfits = 0;
	if ((n && (!gfns || !status)) || (flags & ~known_flags))
		return -EINVAL;
	if (!xp->enabled)
		return -ESHUTDOWN;
	if (!n)
		return 1;
	if ((needs & BATCH_TRUSTS_RING) && xp->broken)
		return -EPROTO;
	return 0;
}

static const char *state_name(unsigned st)
{
	static const char *const names[] = {
		[XPAGE_GFN_RESIDENT] = "resident",
		[XPAGE_GFN_NOMINATED] = "nominated",
		[XPAGE_GFN_EVICTED] = "evicted",
		[XPAGE_GFN_PAGING_IN] = "paging in",
		[XPAGE_GFN_LOADED] = "loaded",
	};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

int batch_misfit(struct batch *b, size_t i, const char *have)
{
	if (!b->misfits++) {
		b->misfit_gfn = b->gfns[i];
		b->misfit_have = have ? have : state_name(
			xp_gfn_state(&b->xp->table, b->gfns[i]));
	}
	return -EINVAL;
}

static void log_misfits(const struct batch *b)
{
	if (b->misfits == 1)
		xp_log(b->xp, XPAGE_LOG_INFO, "%s: gfn 0x%llx is %s, not %s "
		       "(-EINVAL, unchanged)", b->call,
		       (unsigned long long)b->misfit_gfn, b->misfit_have,
		       b->need);
	else if (b->misfits > 1)
		xp_log(b->xp, XPAGE_LOG_INFO, "%s: %zu gfns in the wrong state "
		       "(-EINVAL, unchanged), the first 0x%llx %s, not %s",
		       b->call, b->misfits, (unsigned long long)b->misfit_gfn,
		       b->misfit_have, b->need);
}

/* Range and duplicate check of one gfn; marks it seen. 0 or -errno. */
static int check_gfn(struct xp_gfn_table *t, uint64_t gfn)
{
	if (gfn >= t->nr)
		return -ERANGE;
	if (xp_gfn_flag(t, gfn, XP_GS_SEEN))
		return -EALREADY;
	xp_gfn_set_flag(t, gfn, XP_GS_SEEN, true);
	return 0;
}

size_t batch_check(struct batch *b, batch_check_fn check, void *ctx)
{
	struct xp_gfn_table *t = &b->xp->table;
	size_t passed = 0;

	for (size_t i = 0; i < b->n; i++) {
		b->status[i] = check_gfn(t, b->gfns[i]);
		if (!b->status[i])
			b->status[i] = check(b, i, ctx);
		passed += b->status[i] == 0;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->gfns[i] < t->nr)
			xp_gfn_set_flag(t, b->gfns[i], XP_GS_SEEN, false);
	log_misfits(b);
	return passed;
}

struct xp_paging_op *batch_ops(struct xpage *xp, size_t n)
{
	if (n > xp->ops_cap) {
		size_t cap = n < 64 ? 64 : n;
		struct xp_paging_op *o = realloc(xp->ops_buf, cap * sizeof(*o));

		if (!o)
			return NULL;
		xp->ops_buf = o;
		xp->ops_cap = cap;
	}
	return xp->ops_buf;
}

size_t batch_apply(struct batch *b, const struct xp_paging_op *ops, size_t k,
		   unsigned to)
{
	size_t ok = 0;

	for (size_t j = 0; j < k; j++) {
		b->status[ops[j].idx] = ops[j].rc;
		if (ops[j].rc == 0) {
			xp_gfn_set_state(&b->xp->table, ops[j].gfn, to);
			ok++;
		}
	}
	return ok;
}

int xp_run_ops(struct xpage *xp, struct xp_paging_op *ops, size_t n)
{
	/* One trap for the batch where multicalls work, else one each. */
	size_t per_trap = xp->use_multicall ? n : 1;

	for (size_t i = 0; i < n; i += per_trap) {
		int rc = xp->ops->paging_ops(xp->be, &ops[i], per_trap);

		if (rc < 0)
			return rc;
		xp->stats.hypercalls += (uint64_t)rc;
	}
	return 0;
}

void *xp_map_counted(struct xpage *xp, const uint64_t *gfns, size_t n,
		     int prot, int *err)
{
	void *addr = xp->ops->map(xp->be, gfns, n, prot, err);

	xp->stats.hypercalls++;
	return addr;
}

int xp_call_failed(struct xpage *xp, int rc)
{
	if (rc == -EPROTO)
		xp->broken = true; /* the backend's answers are not trusted */
	if (rc == -ESRCH || rc == -ENODEV) {
		xp_log(xp, XPAGE_LOG_ERROR, "domain %u crashed or paging was "
		       "disabled under the pager", xp->domid);
		return -ESHUTDOWN;
	}
	xp_log(xp, XPAGE_LOG_ERROR, "hypervisor call failed: %s",
	       xpage_strerror(rc));
	return rc;
}

int batch_failed(struct batch *b, int rc)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->status[i] >= 0)
			b->status[i] = rc;
	return xp_err(-xp_call_failed(b->xp, rc));
}
