/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Each vCPU's runstate area, which Xen's scheduler writes at every context
 * switch of the vCPU through a walk of the guest's page tables
 * (docs/xen-hazards.md, section 1): the gfns of each vCPU's walk.
 *
 * The walk's gfns stand in for a Linux guest's: its direct map's level-3
 * and level-2 tables, the same for every vCPU; a top-level table per
 * vCPU; the per-CPU page that holds the area. They are drawn from the top
 * eighth of RAM, or the top gfns the walks need in a small guest (Linux's
 * memblock allocates from the top down), by a stream seeded with the
 * guest's seed, distinct where RAM has room for them.
 */
#include <string.h>

#include "sim.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
#define NR_SHARED 2u
/* Keeps the walk's stream apart from the guest's other seeded ones. */
#define WALK_SALT 0x72756e7374617465ull /* "runstate" */

_Static_assert(SIM_MAX_VCPUS <= SIMP_RUNSTATE_MAX_VCPUS,
	       "SIMP_RUNSTATE_GFNS has a row for every vCPU");

/* Xen 4.5 and later, for a guest with HAP page tables (HVM, PVH). */
static bool has_walk(const struct sim_guest *g)
{
	const struct sim_personality *p = g->pers;

	return !(g->flags & SIM_GUEST_PV) &&
	       (p->xen_major > 4 || (p->xen_major == 4 && p->xen_minor >= 5));
}

static bool picked(const uint64_t *gfns, uint32_t n, uint64_t gfn)
{
	for (uint32_t i = 0; i < n; i++)
		if (gfns[i] == gfn)
			return true;
	return false;
}

void runstate_place(struct sim_guest *g)
{
	uint64_t gfns[NR_SHARED + 2 * SIM_MAX_VCPUS];
	uint32_t n = NR_SHARED + 2 * g->nvcpus;
	uint64_t region = g->pages / 8, st = sim_mix64(g->seed ^ WALK_SALT);

	g->runstate = has_walk(g);
	if (!g->runstate)
		return;
	if (region < n)
		region = n;
	if (region > g->pages)
		region = g->pages;
	for (uint32_t i = 0; i < n; i++) {
		do {
			st += GOLDEN;
			gfns[i] = g->pages - region + sim_mix64(st) % region;
		} while (region >= n && picked(gfns, i, gfns[i]));
	}
	for (uint32_t v = 0; v < g->nvcpus; v++) {
		uint64_t *w = g->vcpu[v].rs_walk;

		w[0] = gfns[NR_SHARED + 2 * v];     /* top-level table */
		w[1] = gfns[0];                     /* direct map, level 3 */
		w[2] = gfns[1];                     /* direct map, level 2 */
		w[3] = gfns[NR_SHARED + 2 * v + 1]; /* the area's page */
	}
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
