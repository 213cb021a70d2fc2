/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Each vCPU's runstate area, which Xen's scheduler writes at every context
 * switch of the vCPU (docs/xen-hazards.md, section 1).
 *
 * The guest registers the area at a guest virtual address. For an HVM or
 * PVH vCPU, Xen 4.5 and later write it from context_switch() in three
 * copies (the XEN_RUNSTATE_UPDATE flag set, the area, the flag cleared),
 * each through a software walk of the guest's page tables from the vCPU's
 * CR3 (__hvm_copy -> the HAP guest walk -> map_domain_gfn). A copy that
 * meets a gfn in a paging state, a table on the way or the area's page,
 * calls p2m_mem_paging_populate() for it and fails: the vCPU is paused once
 * more and a request is put, one per copy; the next copies meet the same
 * gfn, paging_in by then, and ask again. A vCPU paused that way is
 * descheduled at once, and switching it out writes its area again. With
 * no free ring slot the copy's claim would sleep on the ring's wait queue
 * from inside context_switch(): on the rig that ended in domain_crash()
 * from common/wait.c, or a guest triple fault with the hypervisor's own
 * registers in it. Here the domain crashes, with that reason.
 *
 * The walk's gfns stand in for a Linux guest's: its direct map's level-3
 * and level-2 tables, the same for every vCPU; a top-level table per
 * vCPU; the per-CPU page that holds the area. They are drawn from the top
 * of RAM (walk.c), distinct where RAM has room for them. Every HVM/PVH
 * guest has them, whatever its hypervisor writes: the top-level tables
 * are on its hypercalls' walks too (hypercall.c).
 *
 * A switch is due when the vCPU is woken (vcpu_kick: it was descheduled,
 * idle, paused or blocked, and goes on) and every SWITCH_PERIOD_NS while
 * it runs guest code (preemption), so a paged-out gfn on a walk is met
 * within a millisecond of a vCPU running. An idle vCPU (halted: no work,
 * no workload) is not switched until something wakes it.
 */
#include <errno.h>
#include <string.h>

#include "sim.h"

#define SWITCH_PERIOD_NS 1000000ull
/* Copies of the area per update (VMASST_TYPE_runstate_update_flag). */
#define COPIES 3
#define NR_SHARED 2u
/* Keeps the walk's stream apart from the guest's other seeded ones. */
#define WALK_SALT 0x72756e7374617465ull /* "runstate" */
#define CRASH_WHY "hypervisor slept in its scheduler waiting for a ring slot"

_Static_assert(SIM_MAX_VCPUS <= SIMP_RUNSTATE_MAX_VCPUS,
	       "SIMP_RUNSTATE_GFNS has a row for every vCPU");

/* Xen 4.5 and later, for a guest with HAP page tables (HVM, PVH). */
static bool has_walk(const struct sim_guest *g)
{
	const struct sim_personality *p = g->pers;

	return !(g->flags & SIM_GUEST_PV) &&
	       (p->xen_major > 4 || (p->xen_major == 4 && p->xen_minor >= 5));
}

void runstate_place(struct sim_guest *g)
{
	uint64_t gfns[NR_SHARED + 2 * SIM_MAX_VCPUS];

	g->runstate = has_walk(g);
	if (g->flags & SIM_GUEST_PV)
		return;
	walk_draw(g, WALK_SALT, gfns, NR_SHARED + 2 * g->nvcpus, NULL, 0);
	for (uint32_t v = 0; v < g->nvcpus; v++) {
		uint64_t *w = g->vcpu[v].rs_walk;

		w[0] = gfns[NR_SHARED + 2 * v];     /* top-level table */
		w[1] = gfns[0];                     /* direct map, level 3 */
		w[2] = gfns[1];                     /* direct map, level 2 */
		w[3] = gfns[NR_SHARED + 2 * v + 1]; /* the area's page */
	}
}

/*
 * One copy into @v's area: the walk stops at the first gfn that is not
 * RAM. In a paging state, it is populated for @v (paused, a request); not
 * in the physmap, the copy just fails. Returns 1 when a request was put,
 * 0 when none was needed, -ESHUTDOWN when the domain crashed.
 */
static int copy_once(struct sim_vcpu *v)
{
	uint64_t gfn;

	if (!walk_meets_paging(v->g, v->rs_walk, SIMP_RUNSTATE_WALK, &gfn))
		return 0;
	return walk_populate(v, gfn, "runstate update", CRASH_WHY);
}

/* One update of @v's area: the requests it put, or -ESHUTDOWN. */
static int update_area(struct sim_vcpu *v)
{
	int asked = 0;

	for (int c = 0; c < COPIES; c++) {
		int rc = copy_once(v);

		if (rc < 0)
			return rc;
		asked += rc;
	}
	return asked;
}

bool runstate_tick(struct sim_vcpu *v, bool busy)
{
	uint64_t now = sim_now_ns();

	if (!v->rs_due && (!busy || now - v->rs_switch_ns < SWITCH_PERIOD_NS))
		return false;
	v->rs_due = false;
	v->rs_switch_ns = now;
	if (!v->g->runstate)
		return false;
	if (update_area(v) > 0)
		update_area(v);   /* paused by it: switched out at once */
	return !vcpu_can_run(v);
}

void runstate_gfns(const struct sim_guest *g, struct simp_runstate *out)
{
	memset(out, 0, sizeof(*out));
	out->vcpus = g->nvcpus;
	if (!g->runstate)
		return;
	out->per_vcpu = SIMP_RUNSTATE_WALK;
	for (uint32_t v = 0; v < g->nvcpus; v++)
		memcpy(out->gfn[v], g->vcpu[v].rs_walk, sizeof(out->gfn[v]));
}
