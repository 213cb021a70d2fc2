/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Each vCPU's kernel stack, where a guest writes the arguments of its
 * hypercalls, which Xen copies in through a software walk of the guest's
 * page tables (docs/xen-hazards.md, section 3): a gfn of the walk in a
 * paging state fails the copy, and the hypercall.
 *
 * The walk stands in for a Linux guest's with vmap'ed stacks: the vCPU's
 * top-level table (its runstate walk's), the three tables of the stack
 * area (the idle tasks' stacks are allocated one after another at boot,
 * under one last-level table: the same for every vCPU), then the stack's
 * SIMP_STACK_PAGES pages. The stacks and tables are drawn like the
 * runstate walks' gfns (walk.c), apart from them. SIMP_STACK_GFNS gives
 * them to a client.
 */
#include <string.h>

#include "sim.h"

#define NR_SHARED 3u
/* Keeps the stacks' stream apart from the guest's other seeded ones. */
#define STACK_SALT 0x737461636b736565ull /* "stacksee" */

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
