/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taking over a domain whose pager died with the ring enabled.
 *
 * The hypervisor refuses a second ring (EBUSY), and its disable leaves a
 * vCPU that was paused for a page-in paused for good: only a response on
 * a ring releases it, and a vCPU touching a paged gfn while no ring exists
 * crashes the domain. So, with the domain paused from start to end:
 *
 *   1. disable the dead pager's ring;
 *   2. enable a fresh ring and answer every vCPU once, with VCPU_PAUSED and
 *      DROP_PAGE (release the vCPU, change no page); the hypervisor ignores
 *      the answer for a vCPU that is not paused (vm_event era and Xen 4.5,
 *      which count vm_event pauses);
 *   3. disable and enable once more, so that the ring the pager keeps has
 *      balanced indexes (those answers had no requests);
 *   4. unpause. A released vCPU retries its access. If its gfn is still
 *      paged out it asks again on the new ring; if the dead pager had taken
 *      its request (the gfn is paging-in), Xen raises no new one and the
 *      vCPU re-executes the access until the gfn is loaded: the new pager
 *      must load every gfn it adopts (see xpage_adopt in <xpage/xpage.h>).
 *
 * Xen 4.2 - 4.4 unpause a vCPU for any VCPU_PAUSED response without
 * checking that it was paused (its pause count would underflow), so there
 * step 2 is skipped and the log says that vCPUs the dead pager left paused
 * cannot be released.
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

int xp_takeover(struct xpage *xp)
{
	int rc, urc;

	xp_log(xp, XPAGE_LOG_WARN, "domain %u has a paging ring already: "
	       "taking it over", xp->domid);
	rc = xp->ops->pause(xp->be);
	if (rc < 0)
		return rc;
	rc = xp->ops->disable(xp->be);
	if (rc == -EBUSY) {
		xp_log(xp, XPAGE_LOG_ERROR, "the old ring cannot be disabled: "
		       "vCPUs wait for ring space in the hypervisor");
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = xp_ring_enable(xp);
	if (rc < 0)
		goto out;
	if (xp->generation >= XPAGE_GEN_MEM_EVENT_45)
		rc = answer_all_vcpus(xp);
	else
		xp_log(xp, XPAGE_LOG_WARN, "Xen %u.%u cannot tell which vCPUs "
		       "the previous pager left paused; they stay paused",
		       xp->xen_major, xp->xen_minor);
	if (rc < 0)
		goto out;
	xp->took_over = true;
out:
	urc = xp->ops->unpause(xp->be);
	if (rc == 0 && urc < 0)
		rc = urc;
	return rc;
}
