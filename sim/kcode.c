/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest kernel's code: the pages a vCPU runs at every kernel entry
 * (an interrupt, a system call, the tick).
 *
 * Linux loads its code at 16 MiB, one run of gfns a few MiB long, and
 * runs some of it at least once a millisecond on a busy vCPU (the timer
 * tick). Here the run starts at gfn 0x1000 and takes a sixty-fourth of
 * RAM (at most 2,048 pages, at least one), in a guest large enough to
 * hold it below the top eighth of RAM (where the walks' gfns are); a
 * smaller guest has none. A busy vCPU enters the kernel every
 * ENTRY_PERIOD_NS and reads one page of it, a different one each time.
 * A paged-out page of it stops the vCPU there, as any access does, until
 * the page is back: a pager that pages out kernel code makes every vCPU
 * wait on it again and again. What Xen does then is no different from
 * any page-in; the emulated machine of the project's rig lost the guest
 * under it (docs/xen-hazards.md), which is the emulator's, not modelled.
 * A PV guest has none here (the Xen backend reads HVM/PVH page tables
 * only).
 */
#include <string.h>

#include "sim.h"

#define ENTRY_PERIOD_NS 1000000ull
#define LINUX_START 0x1000u
#define MAX_PAGES 2048u
/* Steps through the run in an order that is not the gfns'. */
#define STRIDE 97u

void kcode_place(struct sim_guest *g)
{
	uint64_t n = g->pages / 64, first = LINUX_START;

	g->kcode_first = g->kcode_count = 0;
	if (g->flags & SIM_GUEST_PV)
		return;
	if (n > MAX_PAGES)
		n = MAX_PAGES;
	if (!n)
		n = 1;
	if (first + n > g->pages - g->pages / 8)
		return; /* too small a guest */
	g->kcode_first = first;
	g->kcode_count = n;
}

bool kcode_tick(struct sim_vcpu *v)
{
	struct sim_guest *g = v->g;
	uint64_t now = sim_now_ns(), gfn;

	if (!g->kcode_count || v->pending.kind ||
	    now - v->kc_ns < ENTRY_PERIOD_NS)
		return false;
	v->kc_ns = now;
	gfn = g->kcode_first + (v->kc_next * STRIDE + v->id) % g->kcode_count;
	v->kc_next++;
	return vcpu_exec_kcode(v, gfn) != 0;
}

void kcode_range(const struct sim_guest *g, struct simp_range *out)
{
	memset(out, 0, sizeof(*out));
	out->first = g->kcode_first;
	out->count = g->kcode_count;
}
