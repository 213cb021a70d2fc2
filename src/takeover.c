/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attaching a ring at open, and taking over one a dead pager left.
 *
 * The hypervisor refuses a second ring (EBUSY), and its disable leaves a
 * vCPU that was paused for a page-in paused for good: only a response on
 * a ring releases it, and a vCPU touching a paged gfn while no ring exists
 * crashes the domain. Such vCPUs are left by a pager that died, and by one
 * that closed while the guest waited for a page it had evicted. So every
 * open, with the domain paused from start to end:
 *
 *   1. enables a ring; if one is enabled already and the pager asked to
 *      take over, disables it and enables a fresh one;
 *   2. answers every vCPU once, with VCPU_PAUSED and DROP_PAGE (release
 *      the vCPU, change no page); Xen 4.5 and later ignore the answer for
 *      a vCPU that is not paused;
 *   3. disables and enables once more, so that the ring the pager keeps
 *      has balanced indexes (those answers had no requests);
 *   4. unpauses. A released vCPU retries its access. If its gfn is still
 *      paged out it asks again on the new ring; if its request was taken
 *      (the gfn is paging-in), Xen raises no new one and the vCPU
 *      re-executes the access until the gfn is loaded: the new pager must
 *      load every gfn it adopts (see xpage_adopt in <xpage/xpage.h>).
 *
 * Xen 4.2 - 4.4 unpause a vCPU for any VCPU_PAUSED response without
 * checking that it was paused: a running vCPU's pause count goes below
 * zero and it stops for good. Nothing the hypervisor offers tells which
 * vCPUs are paused, so there step 2 is skipped: the vCPUs a dead pager
 * left paused stay paused (the log says so). A pager of this library
 * that closes or detaches on those releases releases the vCPUs it holds
 * requests of itself (xp_release_held), since its successor cannot.
 */
#include "private.h"

static int answer_all_vcpus(struct xpage *xp)
{
	uint32_t v = 0;

	while (v < xp->vcpus) {
		/* At most one ring's worth at a time; the hypervisor consumes
		 * responses when notified. */
		uint32_t batch = xp->layout->nr_slots;

		for (uint32_t i = 0; i < batch && v < xp->vcpus; i++, v++) {
			struct xp_response r = {
				.gfn = 0, .vcpu = v,
				.flags = XP_EV_VCPU_PAUSED | XP_EV_DROP_PAGE,
			};

			xp_put_response(xp, &r);
		}
		int rc = xp_push_responses(xp);

		if (rc < 0)
			return rc;
		/* Rebalance the ring between rounds. */
		rc = xp->ops->disable(xp->be);
		if (rc < 0)
			return rc;
		xp->enabled = false;
		rc = xp_ring_enable(xp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Disable the ring a dead pager left and enable a fresh one; the domain
 * is paused. */
static int take_over(struct xpage *xp)
{
	int rc;

	xp_log(xp, XPAGE_LOG_WARN, "domain %u has a paging ring already: "
	       "taking it over", xp->domid);
	rc = xp->ops->disable(xp->be);
	if (rc == -EBUSY)
		xp_log(xp, XPAGE_LOG_ERROR, "the old ring cannot be disabled: "
		       "vCPUs wait for ring space in the hypervisor");
	if (rc == 0)
		rc = xp_ring_enable(xp);
	if (rc == 0)
		xp->took_over = true;
	return rc;
}

int xp_ring_open(struct xpage *xp, bool may_take_over)
{
	int rc, urc;

	rc = xp->ops->pause(xp->be);
	if (rc < 0)
		return rc;
	rc = xp_ring_enable(xp);
	if (rc == -EBUSY && may_take_over)
		rc = take_over(xp);
	if (rc == 0 && xp->generation >= XPAGE_GEN_MEM_EVENT_45)
		rc = answer_all_vcpus(xp);
	else if (rc == 0 && xp->took_over)
		xp_log(xp, XPAGE_LOG_WARN, "Xen %u.%u cannot tell which vCPUs "
		       "the previous pager left paused, and an answer to a "
		       "vCPU that is not paused would stop it: they stay "
		       "paused", xp->xen_major, xp->xen_minor);
	urc = xp->ops->unpause(xp->be);
	if (rc == 0 && urc < 0)
		rc = urc;
	return rc;
}

void xp_release_held(struct xpage *xp)
{
	struct xp_gfn_table *t = &xp->table;
	size_t n = 0;

	if (xp->generation >= XPAGE_GEN_MEM_EVENT_45 || !t->used)
		return;
	while (t->used) {
		/* (answering deletes the record, which may move others) */
		size_t i = 0;

		while (t->slots[i].gfn == XP_INFLIGHT_EMPTY)
			i++;
		xp_answer_held(xp, t->slots[i].gfn, XP_EV_DROP_PAGE);
		n++;
	}
	xp_push_responses(xp);
	xp_log(xp, XPAGE_LOG_WARN, "Xen %u.%u: released the vCPUs waiting for "
	       "%zu paged-out gfns (a successor could not tell they are "
	       "paused); they retry their access until a pager loads them",
	       xp->xen_major, xp->xen_minor, n);
}
