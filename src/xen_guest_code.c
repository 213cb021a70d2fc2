/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The code a guest runs, for xpage_gfn_hints() (backend op code_gfns):
 *
 * - its kernel's: every page the kernel's half of the address space maps
 *   executable and not for user mode (its code and its modules'), found
 *   on the walk of the kernel's tables xen_guest_walk.c makes for the
 *   hypervisor's own gfns: large pages as that walk meets them, the pages
 *   of its last-level tables read afterwards in one mapping call;
 * - the processes': every page the user half of a process's tables maps
 *   executable for user mode, for each process a vCPU was seen running
 *   (the top-level tables xen_guest_walk.c remembers per vCPU).
 *
 * Each vCPU runs that code all the time; on the project's rig, paging it
 * out while the guest ran lost the guest (docs/xen-hazards.md section 4).
 * Without no-execute in force every page is executable and nothing can
 * be told: no code is collected. Read again with the kernel's tables,
 * once a second.
 */
#include "xen_backend.h"

#include <stdlib.h>
#include <sys/mman.h>

/* Room per set: 256 MiB of code. */
#define XP_CODE_MAX 65536u
/* The user tables read per look, at most (a small process has ten). */
#define XP_UTABLES_MAX 1024u

bool xp_code_begin(struct xp_backend *be)
{
	struct xp_code_set *sets[2] = { &be->kcode, &be->ucode };

	for (int i = 0; i < 2; i++) {
		if (!sets[i]->gfns) {
			sets[i]->gfns = malloc(XP_CODE_MAX * sizeof(uint64_t));
			sets[i]->max = sets[i]->gfns ? XP_CODE_MAX : 0;
		}
		sets[i]->n = 0;
		sets[i]->over = false;
	}
	if (!be->kl1)
		be->kl1 = malloc(XP_KTABLES_MAX * sizeof(*be->kl1));
	be->kl1_n = 0;
	return be->kcode.gfns && be->ucode.gfns && be->kl1;
}

/* The @count gfns from @first are code. */
static void xp_code_add(struct xp_code_set *set, uint64_t first,
			uint64_t count)
{
	if (set->n + count > set->max) {
		set->over = true;
		return;
	}
	for (uint64_t i = 0; i < count; i++)
		set->gfns[set->n++] = first + i;
}

void xp_code_leaf(struct xp_code_set *set, uint64_t e, unsigned level,
		  bool nx, bool user)
{
	unsigned shift = 9 * (level - 1);

	if (!set->gfns || nx || (e & XP_PTE_NX) || !(e & XP_PTE_US) != !user)
		return;
	xp_code_add(set, ((e & XP_PTE_ADDR) >> 12) & ~((1ull << shift) - 1),
		    1ull << shift);
}

/* The kernel's code in the last-level tables of be->kl1. */
static void xp_code_kl1(struct xp_backend *be)
{
	int *err = be->kl1_n ? calloc(be->kl1_n, sizeof(*err)) : NULL;
	uint64_t *t = err ? xp_xen_map(be, be->kl1, be->kl1_n, PROT_READ, err)
			  : NULL;

	for (size_t j = 0; t && j < be->kl1_n; j++)
		for (unsigned i = 0; !err[j] && i < 512; i++)
			if (t[j * 512 + i] & XP_PTE_P)
				xp_code_leaf(&be->kcode, t[j * 512 + i], 1,
					     false, false);
	if (t)
		xp_xen_unmap(be, t, be->kl1_n);
	free(err);
}

/* A process's code under table @gfn at @level (its entries @lo .. @hi - 1,
 * each user-accessible), @budget tables at most. */
static void xp_code_user(struct xp_backend *be, uint64_t gfn, unsigned level,
			 unsigned hi, bool nx, unsigned *budget)
{
	uint64_t *t;
	int err = 0;

	if (!*budget)
		return;
	(*budget)--;
	t = xp_xen_map(be, &gfn, 1, PROT_READ, &err);
	if (!t)
		return;
	for (unsigned i = 0; !err && i < hi; i++) {
		uint64_t e = t[i];
		bool enx = nx || (e & XP_PTE_NX);

		if (!(e & XP_PTE_P) || !(e & XP_PTE_US))
			continue;
		if (level == 1 || (level <= 3 && (e & XP_PTE_PS)))
			xp_code_leaf(&be->ucode, e, level, enx, true);
		else if (!enx)
			xp_code_user(be, (e & XP_PTE_ADDR) >> 12, level - 1,
				     512, false, budget);
	}
	xp_xen_unmap(be, t, 1);
}

static int cmp_gfn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, each gfn once (a frame may be mapped at several addresses, or
 * by several processes); empty when there was too much. */
static void xp_code_finish(struct xp_code_set *set)
{
	size_t k = 0;

	if (set->over) {
		set->n = 0;
		return;
	}
	qsort(set->gfns, set->n, sizeof(*set->gfns), cmp_gfn);
	for (size_t i = 0; i < set->n; i++)
		if (!k || set->gfns[k - 1] != set->gfns[i])
			set->gfns[k++] = set->gfns[i];
	set->n = k;
}

void xp_code_end(struct xp_backend *be, const uint64_t *tops, size_t ntops)
{
	unsigned budget = XP_UTABLES_MAX;

	xp_code_kl1(be);
	for (size_t i = 0; i < ntops; i++)
		xp_code_user(be, tops[i], be->klevels, 256, false, &budget);
	xp_code_finish(&be->kcode);
	xp_code_finish(&be->ucode);
}

void xp_code_fini(struct xp_backend *be)
{
	free(be->kcode.gfns);
	free(be->ucode.gfns);
	free(be->kl1);
	be->kcode = (struct xp_code_set){ 0 };
	be->ucode = (struct xp_code_set){ 0 };
	be->kl1 = NULL;
	be->kl1_n = 0;
}

int xp_xen_code_gfns(struct xp_backend *be, unsigned which,
		     const uint64_t **gfns)
{
	const struct xp_code_set *set = which == XP_CODE_USER ? &be->ucode
							      : &be->kcode;

	*gfns = set->gfns;
	return (int)set->n;
}
