/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Walks of the guest's page tables that Xen makes itself, on a vCPU's
 * behalf: to write its runstate area (runstate.c) and to copy a
 * hypercall's arguments (hypercall.c). Both go through the same software
 * walk (__hvm_copy -> paging_gva_to_gfn -> the HAP guest walk), which
 * meets the gfns of the walk in order: the tables, then the page.
 *
 * Where the walks' gfns lie: Linux allocates its early page tables,
 * per-CPU areas and idle stacks from the top of RAM down (memblock), so
 * they are drawn from the top eighth of RAM, or the top gfns the walks
 * need in a small guest, by a stream seeded with the guest's seed.
 */
#include <errno.h>

#include "sim.h"

#define GOLDEN 0x9e3779b97f4a7c15ull

static bool picked(const uint64_t *gfns, uint32_t n, uint64_t gfn)
{
	for (uint32_t i = 0; i < n; i++)
		if (gfns[i] == gfn)
			return true;
	return false;
}

void walk_draw(const struct sim_guest *g, uint64_t salt, uint64_t *out,
	       uint32_t n, const uint64_t *taken, uint32_t ntaken)
{
	uint64_t region = g->pages / 8, st = sim_mix64(g->seed ^ salt);
	bool room;

	if (region < (uint64_t)n + ntaken)
		region = (uint64_t)n + ntaken;
	if (region > g->pages)
		region = g->pages;
	room = region >= (uint64_t)n + ntaken;
	for (uint32_t i = 0; i < n; i++) {
		do {
			st += GOLDEN;
			out[i] = g->pages - region + sim_mix64(st) % region;
		} while (room && (picked(out, i, out[i]) ||
				  picked(taken, ntaken, out[i])));
	}
}

bool walk_meets_paging(const struct sim_guest *g, const uint64_t *walk,
		       unsigned n, uint64_t *gfn)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t t = g->gfn[walk[i]].p2mt;

		if (p2m_is_ram(t))
			continue;
		*gfn = walk[i];
		return p2m_is_paging(t);
	}
	return false;
}

int walk_populate(struct sim_vcpu *v, uint64_t gfn, const char *what,
		  const char *why)
{
	struct sim_guest *g = v->g;

	if (g->ring && !ring_available(g)) {
		sim_log(SIM_LOG_ERR, "d%u: vCPU %u's %s needs gfn %#llx and "
			"the ring is full", g->domid, v->id, what,
			(unsigned long long)gfn);
		guest_crash(g, why);
		return -ESHUTDOWN;
	}
	if (paging_populate(g, gfn, v) == -ESHUTDOWN)
		return -ESHUTDOWN;
	return 1;
}
