/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fault injector: deterministic for a given seed and sequence of
 * operations. Each decision draws from the guest's fault stream only when
 * that fault's rate is non-zero, so enabling one fault does not shift the
 * decisions of a run that did not use it.
 *
 *   nominate_ebusy_pm  a nominate that would succeed answers -EBUSY
 *   evict_ebusy_pm     an evict that would succeed answers -EBUSY
 *   load_enomem_pm     a prep that needs a new frame answers -ENOMEM
 *   race_access_pm     right after a successful nominate, an idle guest
 *                      vCPU reads the gfn (it is paused, the pager gets
 *                      EVICT_FAIL); with no idle vCPU, a foreign read
 *   race_drop_pm       right after a successful nominate, the guest
 *                      releases the gfn (DROP_PAGE | EVICT_FAIL)
 *   event_delay_us     each notification to the pager is delayed
 *   ring_slots_held    ring slots counted as busy (a smaller ring)
 */
#include <errno.h>

#include "sim.h"

#define GOLDEN 0x9e3779b97f4a7c15ull

int faults_set(struct sim_guest *g, const struct simp_faults *f)
{
	if (f->nominate_ebusy_pm > 1000 || f->evict_ebusy_pm > 1000 ||
	    f->load_enomem_pm > 1000 || f->race_access_pm > 1000 ||
	    f->race_drop_pm > 1000 || f->event_delay_us > 1000000 ||
	    f->ring_slots_held > g->layout->nr_slots)
		return -EINVAL;
	g->fl = *f;
	g->frng = sim_mix64(f->seed ^ 0x6661756c74730000ull);
	/* Fewer held slots may free room for waiting vCPUs. */
	if (g->ring)
		ring_wake(g);
	return 0;
}

uint32_t fault_rand(struct sim_guest *g)
{
	g->frng += GOLDEN;
	return (uint32_t)(sim_mix64(g->frng) >> 32);
}

bool fault_hit(struct sim_guest *g, uint32_t pm)
{
	if (!pm)
		return false;
	return fault_rand(g) % 1000 < pm;
}

void faults_after_nominate(struct sim_guest *g, uint64_t gfn)
{
	struct sim_vcpu *v;

	if (fault_hit(g, g->fl.race_access_pm)) {
		v = vcpu_pick_idle(g, fault_rand(g));
		sim_log(SIM_LOG_DEBUG, "d%u: fault: access to nominated gfn "
			"%#llx", g->domid, (unsigned long long)gfn);
		if (v)
			vcpu_access(v, gfn, false);
		else
			foreign_access(g, gfn, false);
		return;
	}
	if (fault_hit(g, g->fl.race_drop_pm)) {
		v = vcpu_pick_idle(g, fault_rand(g));
		sim_log(SIM_LOG_DEBUG, "d%u: fault: release of nominated gfn "
			"%#llx", g->domid, (unsigned long long)gfn);
		paging_remove(g, gfn, v);
	}
}
