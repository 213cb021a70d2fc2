/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Each vCPU's timer hypercall, whose arguments Xen copies from the
 * guest's kernel stack (docs/xen-hazards.md, section 3).
 *
 * An HVM or PVH guest passes hypercall arguments by guest virtual
 * address, and Xen copies them in through a software walk of the guest's
 * page tables (copy_from_user_hvm -> __hvm_copy -> paging_gva_to_gfn), on
 * every release imitated here. A copy that meets a gfn in a paging state,
 * a table on the way or the arguments' page, calls
 * p2m_mem_paging_populate() for it (the vCPU paused once more, a request)
 * and fails: the hypercall returns -EFAULT. The vCPU sees that when it
 * runs again, after the pager's answer, and Linux BUGs on it
 * (xen_vcpuop_set_next_event): the domain is lost. With no free ring slot
 * the claim would wait for one, and the copy fail all the same: the
 * domain crashes at once.
 *
 * Linux writes the arguments on the calling kernel stack just before the
 * call, so the page under them was just touched: it is lethal only when
 * a nomination lands between the guest's write and Xen's copy. Here the
 * vCPU writes them (a guest access, which faults as any other would, but
 * is not counted among the workload's), then leaves the guest lock for
 * TRAP_US (the trap into Xen, at the simulator's pace: a hypercall's
 * round trip takes from a few to some tens of microseconds here), then
 * Xen copies. The guest's own walks of its
 * page tables (the MMU's) are not modelled, so the tables are met by
 * Xen's copies alone (and by workload accesses that pick their gfns at
 * random): a paging gfn among them fails the next call.
 *
 * The walk stands in for a Linux guest's with vmap'ed stacks: the vCPU's
 * top-level table (its runstate walk's), the three tables of the stack
 * area (the idle tasks' stacks are allocated one after another at boot,
 * under one last-level table: the same for every vCPU), then the stack's
 * SIMP_STACK_PAGES pages; the arguments lie in its top page, where the
 * idle loop and the timer code run. The stacks and tables are drawn like
 * the runstate walks' gfns (walk.c), apart from them.
 *
 * A vCPU makes the call when it goes idle after being woken (Linux
 * programs its next timer event on entering idle), and every
 * CALL_PERIOD_NS while it has guest code to run (the tick's timer
 * reprogramming), so a paging gfn on a walk is met within a millisecond
 * of a vCPU running. A gfn of the walk out of the physmap ends the walk
 * with nothing asked: only the workload's random balloon releases do
 * that, which no kernel does to its own stack or page tables.
 */
#include <errno.h>
#include <string.h>

#include "sim.h"

#define CALL_PERIOD_NS 1000000ull
#define TRAP_US 20u
#define NR_SHARED 3u
#define TOP_PAGE (SIMP_STACK_WALK - 1)
/* Keeps the stacks' stream apart from the guest's other seeded ones. */
#define STACK_SALT 0x737461636b736565ull /* "stacksee" */
#define CRASH_WHY "hypercall argument copy failed (-EFAULT): guest BUG"

_Static_assert(SIM_MAX_VCPUS <= SIMP_RUNSTATE_MAX_VCPUS,
	       "SIMP_STACK_GFNS has a row for every vCPU");

void hypercall_place(struct sim_guest *g)
{
	uint64_t taken[2 + 2 * SIM_MAX_VCPUS];
	uint64_t gfns[NR_SHARED + SIMP_STACK_PAGES * SIM_MAX_VCPUS];
	uint32_t n = 0;

	g->hcall = !(g->flags & SIM_GUEST_PV);
	if (!g->hcall)
		return;
	for (uint32_t v = 0; v < g->nvcpus; v++) {
		const uint64_t *rs = g->vcpu[v].rs_walk;

		if (!v) {
			taken[n++] = rs[1];
			taken[n++] = rs[2];
		}
		taken[n++] = rs[0];
		taken[n++] = rs[3];
	}
	walk_draw(g, STACK_SALT, gfns, NR_SHARED + SIMP_STACK_PAGES * g->nvcpus,
		  taken, n);
	for (uint32_t v = 0; v < g->nvcpus; v++) {
		uint64_t *w = g->vcpu[v].hc_walk;

		w[0] = g->vcpu[v].rs_walk[0];   /* top-level table */
		memcpy(w + 1, gfns, NR_SHARED * sizeof(*w));
		memcpy(w + 1 + NR_SHARED, gfns + NR_SHARED +
		       SIMP_STACK_PAGES * v, SIMP_STACK_PAGES * sizeof(*w));
	}
}

/*
 * Xen's copy of @v's arguments: the tables, then the top page. A paging
 * gfn fails it: the request, and -EFAULT waiting for @v when it runs.
 */
void hypercall_copy(struct sim_vcpu *v)
{
	uint64_t walk[1 + NR_SHARED + 1], gfn;

	memcpy(walk, v->hc_walk, (1 + NR_SHARED) * sizeof(walk[0]));
	walk[1 + NR_SHARED] = v->hc_walk[TOP_PAGE];
	if (!walk_meets_paging(v->g, walk, 1 + NR_SHARED + 1, &gfn))
		return;
	sim_log(SIM_LOG_ERR, "d%u: vCPU %u's timer hypercall: copying its "
		"arguments met paging gfn %#llx: -EFAULT", v->g->domid, v->id,
		(unsigned long long)gfn);
	if (walk_populate(v, gfn, "hypercall argument copy", CRASH_WHY) > 0)
		v->pending.kind = SIM_PEND_EFAULT;
}

void hypercall_failed(struct sim_vcpu *v)
{
	sim_log(SIM_LOG_ERR, "d%u: vCPU %u: its timer hypercall returned "
		"-EFAULT, and the guest kernel BUGs", v->g->domid, v->id);
	guest_crash(v->g, CRASH_WHY);
}

bool hypercall_tick(struct sim_vcpu *v, bool busy)
{
	struct sim_guest *g = v->g;
	uint64_t now = sim_now_ns();

	if (!g->hcall || v->pending.kind)
		return false;
	if (busy ? now - v->hc_call_ns < CALL_PERIOD_NS : !v->hc_idle_due)
		return false;
	v->hc_idle_due = busy; /* running, it calls again going idle */
	v->hc_call_ns = now;
	if (vcpu_write_args(v, v->hc_walk[TOP_PAGE]) != 0)
		return true; /* faulted: re-executed when @v runs again */
	vcpu_sleep_us(v, TRAP_US);
	if (!g->crashed && !g->destroyed && !g->stopping)
		hypercall_copy(v);
	return true;
}

void hypercall_gfns(const struct sim_guest *g, struct simp_stacks *out)
{
	memset(out, 0, sizeof(*out));
	out->vcpus = g->nvcpus;
	if (!g->hcall)
		return;
	out->per_vcpu = SIMP_STACK_WALK;
	for (uint32_t v = 0; v < g->nvcpus; v++)
		memcpy(out->gfn[v], g->vcpu[v].hc_walk, sizeof(out->gfn[v]));
}
