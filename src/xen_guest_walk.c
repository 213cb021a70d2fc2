/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gfns Xen itself touches for a guest, where a paging request is
 * fatal (backend op hv_gfns). docs/xen-hazards.md has the evidence; in
 * short:
 *
 * - At every context switch of a guest vCPU, Xen writes the vCPU's
 *   runstate area (registered by the guest, at a guest virtual address)
 *   with a software walk of the guest's page tables from the vCPU's CR3.
 *   If any page on that walk, or the area itself, is nominated or paged
 *   out, each of the (up to three) copies raises a paging request and
 *   pauses the vCPU; with the 8-slot ring full, the vCPU then sleeps on
 *   the ring's wait queue from inside the scheduler, which crashes the
 *   domain or corrupts the vCPU's state (hazard H1).
 * - A hypercall's arguments are copied from the guest the same way, and a
 *   page in a paging state fails the copy: the hypercall returns -EFAULT,
 *   which Linux treats as a bug for its timer and event hypercalls (H3).
 *   The arguments live on the calling kernel stack, written just before
 *   the call, so a page of it nominated in between fails the call; and
 *   the guest's own accesses go through its TLB, never touching the page
 *   tables Xen's walk reads: a pager sees them as cold, and paging one out
 *   fails every hypercall made from under it (seen twice on the rig, both
 *   times a table of the kernel's vmalloc area, where stacks live).
 *
 * Linux keeps the runstate area among each CPU's per-CPU data, which the
 * kernel's GS base points at. For each vCPU this returns the page-table
 * pages of the walk from its current CR3 to the first XP_PERCPU_PAGES
 * pages at its kernel GS base and those pages; and the kernel stacks the
 * vCPU was seen on (the XP_STACK_PAGES around its stack pointer whenever
 * that is a kernel address; the last XP_STACKS_SEEN of them) with the
 * page tables to them, and the top-level tables of the last XP_STACKS_SEEN
 * processes it was seen running (it may switch back to any of them); and
 * what the processor reads to deliver an event to it (xp_walk_events:
 * its IDT, GDT, TSS and the stacks the TSS names).
 * And every page table of the kernel's half of the address space (the
 * top-level entries 256 .. 511, shared by every process), read from a
 * CR3 that maps the kernel (xp_maps_kernel), again every
 * XP_KTABLES_REFRESH_NS: the tables to any kernel address a hypercall
 * may pass. Long-mode guests only (4- and 5-level paging); a vCPU in
 * another mode adds nothing.
 */
#include "xen_backend.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* struct hvm_hw_cpu (public/arch-x86/hvm/save.h), the same at these
 * offsets from 4.2 to 4.22 (checked per release tag). */
#define XP_HVM_SAVE_CODE_CPU    2
#define XP_HVM_CPU_SIZE         1032
#define XP_HVM_CPU_OFF_RSP      568
#define XP_HVM_CPU_OFF_CR0      656
#define XP_HVM_CPU_OFF_CR3      672
#define XP_HVM_CPU_OFF_CR4      680
#define XP_HVM_CPU_OFF_GS_BASE  840
#define XP_HVM_CPU_OFF_SHADOW_GS 944
#define XP_HVM_CPU_OFF_EFER     992
#define XP_HVM_CPU_OFF_TR_BASE  856
#define XP_HVM_CPU_OFF_IDTR_BASE 872
#define XP_HVM_CPU_OFF_GDTR_BASE 880

_Static_assert(HVM_SAVE_CODE(CPU) == XP_HVM_SAVE_CODE_CPU, "HVM CPU code");
_Static_assert(sizeof(struct hvm_hw_cpu) >= XP_HVM_CPU_SIZE &&
	       offsetof(struct hvm_hw_cpu, rsp) == XP_HVM_CPU_OFF_RSP &&
	       offsetof(struct hvm_hw_cpu, cr0) == XP_HVM_CPU_OFF_CR0 &&
	       offsetof(struct hvm_hw_cpu, cr3) == XP_HVM_CPU_OFF_CR3 &&
	       offsetof(struct hvm_hw_cpu, cr4) == XP_HVM_CPU_OFF_CR4 &&
	       offsetof(struct hvm_hw_cpu, gs_base) == XP_HVM_CPU_OFF_GS_BASE &&
	       offsetof(struct hvm_hw_cpu, shadow_gs) == XP_HVM_CPU_OFF_SHADOW_GS &&
	       offsetof(struct hvm_hw_cpu, msr_efer) == XP_HVM_CPU_OFF_EFER &&
	       offsetof(struct hvm_hw_cpu, tr_base) == XP_HVM_CPU_OFF_TR_BASE &&
	       offsetof(struct hvm_hw_cpu, idtr_base) == XP_HVM_CPU_OFF_IDTR_BASE &&
	       offsetof(struct hvm_hw_cpu, gdtr_base) == XP_HVM_CPU_OFF_GDTR_BASE,
	       "struct hvm_hw_cpu layout");

/* Per-CPU pages kept resident per vCPU: Linux's static per-CPU section,
 * where its runstate area lives, is about 50 pages (6.1); a margin. */
#define XP_PERCPU_PAGES 128u

/* A kernel stack: Linux x86-64's is 16 KiB, aligned to its size. */
#define XP_STACK_PAGES 4u
#define XP_STACK_BYTES ((uint64_t)XP_STACK_PAGES * XP_XEN_PAGE_SIZE)
/* Stacks remembered per vCPU: a vCPU runs many tasks, each on its own
 * stack, and issues hypercalls from most of them; the idle task's and
 * the busiest ones' come round again and stay. */
#define XP_STACKS_SEEN 8u

/* The kernel's page tables are read again this often (they change when
 * the kernel maps new memory, e.g. a new task's stack), and at most this
 * many are kept. */
#define XP_KTABLES_REFRESH_NS 1000000000ull

struct xp_xen_stacks {
	uint64_t base[XP_STACKS_SEEN]; /* 0: free */
	unsigned next;                 /* the slot replaced next */
	uint64_t top[XP_STACKS_SEEN];  /* top-level tables seen (gfns) */
	unsigned next_top;
};

#define XP_CR0_PG     (1ull << 31)
#define XP_CR4_LA57   (1ull << 12)
#define XP_EFER_LMA   (1ull << 10)
#define XP_EFER_NXE   (1ull << 11)

struct xp_walk_regs {
	uint64_t cr3;
	uint64_t gs;      /* the kernel's GS base (upper half) */
	uint64_t rsp;
	unsigned levels;  /* 4 or 5 */
	bool nx;          /* no-execute in force (EFER.NXE) */
	uint64_t idt, gdt, tss; /* where the processor reads at each event */
};

/* The registers a walk starts from; -errno, or 1 when the vCPU is not in
 * long mode (nothing to walk). */
static int xp_walk_regs(struct xp_backend *be, uint32_t vcpu,
			struct xp_walk_regs *r)
{
	union { unsigned char b[XP_HVM_CPU_SIZE + 64]; uint64_t align; } c;
	uint64_t cr0, cr4, efer, gs, shadow;

	if (!be->xc.domain_hvm_getcontext_partial)
		return -EOPNOTSUPP;
	memset(&c, 0, sizeof(c));
	if (be->xc.domain_hvm_getcontext_partial(be->xch, be->domid,
						 XP_HVM_SAVE_CODE_CPU,
						 (uint16_t)vcpu, c.b,
						 XP_HVM_CPU_SIZE) < 0)
		return xp_neg_errno();
	memcpy(&cr0, c.b + XP_HVM_CPU_OFF_CR0, 8);
	memcpy(&r->cr3, c.b + XP_HVM_CPU_OFF_CR3, 8);
	memcpy(&r->rsp, c.b + XP_HVM_CPU_OFF_RSP, 8);
	memcpy(&cr4, c.b + XP_HVM_CPU_OFF_CR4, 8);
	memcpy(&gs, c.b + XP_HVM_CPU_OFF_GS_BASE, 8);
	memcpy(&shadow, c.b + XP_HVM_CPU_OFF_SHADOW_GS, 8);
	memcpy(&efer, c.b + XP_HVM_CPU_OFF_EFER, 8);
	memcpy(&r->idt, c.b + XP_HVM_CPU_OFF_IDTR_BASE, 8);
	memcpy(&r->gdt, c.b + XP_HVM_CPU_OFF_GDTR_BASE, 8);
	memcpy(&r->tss, c.b + XP_HVM_CPU_OFF_TR_BASE, 8);
	if (!(cr0 & XP_CR0_PG) || !(efer & XP_EFER_LMA))
		return 1;
	r->gs = (gs >> 63) ? gs : shadow;
	r->levels = (cr4 & XP_CR4_LA57) ? 5 : 4;
	r->nx = (efer & XP_EFER_NXE) != 0;
	return (r->gs >> 63) ? 0 : 1;
}

/* Page-table pages read during one hv_gfns call. */
#define XP_WALK_CACHE 32
struct xp_walk_cache {
	uint64_t gfn[XP_WALK_CACHE];
	uint64_t page[XP_WALK_CACHE][XP_XEN_PAGE_SIZE / 8];
	unsigned n;
};

/* Entry @idx of the table at @gfn; -ENOENT when the table page is paged
 * out (or cannot be read). */
static int xp_walk_entry(struct xp_backend *be, struct xp_walk_cache *wc,
			 uint64_t gfn, unsigned idx, uint64_t *e)
{
	unsigned i;
	int err = 0;
	void *p;

	for (i = 0; i < wc->n; i++)
		if (wc->gfn[i] == gfn)
			goto found;
	if (wc->n == XP_WALK_CACHE)
		wc->n = 0; /* more tables than expected: start over */
	p = xp_xen_map(be, &gfn, 1, PROT_READ, &err);
	if (!p)
		return -ENOENT;
	if (err) {
		xp_xen_unmap(be, p, 1);
		return -ENOENT;
	}
	i = wc->n++;
	wc->gfn[i] = gfn;
	memcpy(wc->page[i], p, XP_XEN_PAGE_SIZE);
	xp_xen_unmap(be, p, 1);
found:
	*e = wc->page[i][idx];
	return 0;
}

/* Add @gfn to @out unless present. */
static void xp_walk_add(uint64_t *out, size_t cap, size_t *n, uint64_t gfn)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == gfn)
			return;
	if (*n < cap)
		out[(*n)++] = gfn;
}

/* Walk @va: every table gfn on the way and the final gfn go to @out.
 * True when the walk reached a page. */
static bool xp_walk_va(struct xp_backend *be, struct xp_walk_cache *wc,
		       const struct xp_walk_regs *r, uint64_t va,
		       uint64_t *out, size_t cap, size_t *n)
{
	uint64_t gfn = (r->cr3 & XP_PTE_ADDR) >> 12, e;

	for (unsigned level = r->levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);

		xp_walk_add(out, cap, n, gfn);
		if (xp_walk_entry(be, wc, gfn, (unsigned)(va >> shift) & 511,
				  &e) < 0 || !(e & XP_PTE_P))
			return false;
		if (level == 1 || (level <= 3 && (e & XP_PTE_PS))) {
			uint64_t base = (e & XP_PTE_ADDR) & ~((1ull << shift) - 1);

			xp_walk_add(out, cap, n,
				    (base + (va & ((1ull << shift) - 1))) >> 12);
			return true;
		}
		gfn = (e & XP_PTE_ADDR) >> 12;
	}
	return false;
}

/* Whether @r's CR3 maps the kernel's half: always in the kernel; in user
 * mode, when its per-CPU area (at the kernel's GS base) is mapped there,
 * as it is in every process without page-table isolation (with it, a
 * process's tables map only the kernel's entry code). A vCPU busy in
 * user mode then still shows the kernel's tables. */
static bool xp_maps_kernel(struct xp_backend *be, struct xp_walk_cache *wc,
			   const struct xp_walk_regs *r)
{
	uint64_t scratch[8];
	size_t n = 0;

	return (r->rsp >> 63) ||
	       xp_walk_va(be, wc, r, r->gs, scratch, 8, &n);
}

/* Remember @v in @hist (XP_STACKS_SEEN slots, @next replaced next). */
static void xp_remember(uint64_t *hist, unsigned *next, uint64_t v)
{
	for (unsigned i = 0; i < XP_STACKS_SEEN; i++)
		if (hist[i] == v)
			return;
	hist[*next] = v;
	*next = (*next + 1) % XP_STACKS_SEEN;
}

/* Remember the kernel stack @r's vCPU is on, if it runs in the kernel,
 * and the top-level table of the process it runs: a walk from the CR3 of
 * any process the vCPU switches back to starts there. */
static void xp_stack_seen(struct xp_xen_stacks *st,
			  const struct xp_walk_regs *r)
{
	xp_remember(st->top, &st->next_top, (r->cr3 & XP_PTE_ADDR) >> 12);
	if (!(r->rsp >> 63))
		return; /* in user mode: its kernel stack is not known */
	xp_remember(st->base, &st->next, r->rsp & ~(XP_STACK_BYTES - 1));
}

/* The history of kernel stacks, one per vCPU; NULL when out of memory. */
static struct xp_xen_stacks *xp_stacks(struct xp_backend *be, uint32_t vcpus)
{
	if (vcpus > be->stacks_nr) {
		struct xp_xen_stacks *st = calloc(vcpus, sizeof(*st));

		if (!st)
			return be->stacks_nr ? be->stacks : NULL;
		if (be->stacks_nr)
			memcpy(st, be->stacks, be->stacks_nr * sizeof(*st));
		free(be->stacks);
		be->stacks = st;
		be->stacks_nr = vcpus;
	}
	return be->stacks;
}

/* The 64-bit word at byte @off of page @gfn (any alignment within the
 * page); false when it cannot be read. */
static bool xp_read_u64(struct xp_backend *be, struct xp_walk_cache *wc,
			uint64_t gfn, unsigned off, uint64_t *v)
{
	uint64_t lo, hi = 0;
	unsigned sh = 8 * (off % 8);

	if (off > XP_XEN_PAGE_SIZE - 8 ||
	    xp_walk_entry(be, wc, gfn, off / 8, &lo) < 0 ||
	    (sh && xp_walk_entry(be, wc, gfn, off / 8 + 1, &hi) < 0))
		return false;
	*v = sh ? (lo >> sh) | (hi << (64 - sh)) : lo;
	return true;
}

/* The gfn of the page at @va, or false. */
static bool xp_leaf_gfn(struct xp_backend *be, struct xp_walk_cache *wc,
			const struct xp_walk_regs *r, uint64_t va, uint64_t *gfn)
{
	uint64_t walk[8];
	size_t n = 0;

	if (!xp_walk_va(be, wc, r, va, walk, 8, &n) || !n)
		return false;
	*gfn = walk[n - 1];
	return true;
}

/* What the processor reads to deliver an interrupt or exception to the
 * vCPU: its IDT, GDT and TSS, and the stacks the TSS names (RSP0 and
 * the seven IST stacks: the top page of each and the one below). A page
 * of these paged out makes the delivery itself fault, at every event;
 * the emulator the rig runs on loses the guest then (RESULTS.md, loss
 * 11). Kernel addresses only. */
static void xp_walk_events(struct xp_backend *be, struct xp_walk_cache *wc,
			   const struct xp_walk_regs *r, uint64_t *gfns,
			   size_t cap, size_t *n)
{
	static const unsigned stack_at[] = { 4, 36, 44, 52, 60, 68, 76, 84 };
	const uint64_t at[4] = { r->idt, r->idt + XP_XEN_PAGE_SIZE - 1, r->gdt,
				 r->tss };
	unsigned off = (unsigned)(r->tss % XP_XEN_PAGE_SIZE);
	uint64_t tss;

	for (unsigned i = 0; i < 4; i++)
		if (at[i] >> 63)
			xp_walk_va(be, wc, r, at[i], gfns, cap, n);
	if (!(r->tss >> 63) || off + 92 > XP_XEN_PAGE_SIZE ||
	    !xp_leaf_gfn(be, wc, r, r->tss, &tss))
		return;
	for (unsigned i = 0; i < sizeof(stack_at) / sizeof(*stack_at); i++) {
		uint64_t top;

		if (!xp_read_u64(be, wc, tss, off + stack_at[i], &top) ||
		    !(top >> 63))
			continue;
		xp_walk_va(be, wc, r, top - 1, gfns, cap, n);
		xp_walk_va(be, wc, r, top - 1 - XP_XEN_PAGE_SIZE, gfns, cap, n);
	}
}

/* The gfns one vCPU's hazards take (see the top of this file). */
static void xp_walk_vcpu(struct xp_backend *be, struct xp_walk_cache *wc,
			 const struct xp_walk_regs *r,
			 const struct xp_xen_stacks *st,
			 uint64_t *gfns, size_t cap, size_t *n)
{
	for (unsigned i = 0; i < XP_PERCPU_PAGES; i++)
		xp_walk_va(be, wc, r, r->gs + (uint64_t)i * XP_XEN_PAGE_SIZE,
			   gfns, cap, n);
	xp_walk_events(be, wc, r, gfns, cap, n);
	for (unsigned s = 0; st && s < XP_STACKS_SEEN; s++)
		if (st->top[s])
			xp_walk_add(gfns, cap, n, st->top[s]);
	for (unsigned s = 0; st && s < XP_STACKS_SEEN; s++)
		for (unsigned i = 0; st->base[s] && i < XP_STACK_PAGES; i++)
			xp_walk_va(be, wc, r,
				   st->base[s] + (uint64_t)i * XP_XEN_PAGE_SIZE,
				   gfns, cap, n);
}

/* Append table @gfn to the kernel's tables; false when full. */
static bool xp_ktables_add(struct xp_backend *be, uint64_t gfn)
{
	if (be->ktables_n == XP_KTABLES_MAX)
		return false;
	be->ktables[be->ktables_n++] = gfn;
	return true;
}

/* Table @gfn at @level and every table under its entries @lo .. @hi - 1
 * into be->ktables; last-level tables whose path may execute into
 * be->kl1 (read later, all at once), executable large pages to
 * xp_code_leaf() (xen_guest_code.c). A table that cannot be read (paged out) is kept, what is
 * under it skipped. */
static void xp_ktables_walk(struct xp_backend *be, uint64_t gfn,
			    unsigned level, unsigned lo, unsigned hi, bool nx)
{
	uint64_t *t;
	int err = 0;

	if (!xp_ktables_add(be, gfn))
		return;
	if (level == 1) {
		if (!nx && be->kl1 && be->kl1_n < XP_KTABLES_MAX)
			be->kl1[be->kl1_n++] = gfn;
		return;
	}
	t = xp_xen_map(be, &gfn, 1, PROT_READ, &err);
	if (!t)
		return;
	for (unsigned i = lo; !err && i < hi; i++) {
		uint64_t e = t[i];
		bool enx = nx || (e & XP_PTE_NX);

		if (!(e & XP_PTE_P))
			continue;
		if (level <= 3 && (e & XP_PTE_PS))
			xp_code_leaf(&be->kcode, e, level, enx, false);
		else
			xp_ktables_walk(be, (e & XP_PTE_ADDR) >> 12, level - 1,
					0, 512, enx);
	}
	xp_xen_unmap(be, t, 1);
}

/* The code of the processes the vCPUs were seen running (their
 * top-level tables, each once) and the kernel's (xen_guest_code.c). */
static void xp_code_processes(struct xp_backend *be)
{
	uint64_t tops[XP_STACKS_SEEN * 8];
	size_t n = 0;

	for (uint32_t v = 0; v < be->stacks_nr; v++)
		for (unsigned s = 0; s < XP_STACKS_SEEN; s++) {
			uint64_t top = be->stacks[v].top[s];
			size_t i = 0;

			while (i < n && tops[i] != top)
				i++;
			if (top && i == n && n < sizeof(tops) / sizeof(*tops))
				tops[n++] = top;
		}
	xp_code_end(be, tops, n);
}

/* Read the kernel's tables (and the code the guest runs) again when
 * stale, from the last CR3 that mapped the kernel. */
static void xp_ktables_refresh(struct xp_backend *be)
{
	uint64_t t = xp_xen_now_ns();
	bool code;

	if (!be->kcr3 || (be->ktables_ns && t - be->ktables_ns <
			  XP_KTABLES_REFRESH_NS))
		return;
	if (!be->ktables) {
		be->ktables = malloc(XP_KTABLES_MAX * sizeof(*be->ktables));
		if (!be->ktables)
			return;
	}
	code = be->knx && xp_code_begin(be);
	be->ktables_n = 0;
	xp_ktables_walk(be, (be->kcr3 & XP_PTE_ADDR) >> 12, be->klevels,
			256, 512, !code);
	if (code)
		xp_code_processes(be);
	be->ktables_ns = t;
}

int xp_xen_hv_gfns(struct xp_backend *be, uint64_t *gfns, size_t cap)
{
	struct xp_walk_cache *wc;
	struct xp_xen_stacks *st;
	struct xp_dominfo di;
	size_t n = 0;
	int rc = xp_xen_read_dominfo(be, &di);

	if (rc < 0)
		return rc;
	if (!be->xc.domain_hvm_getcontext_partial)
		return -EOPNOTSUPP;
	wc = calloc(1, sizeof(*wc));
	if (!wc)
		return -ENOMEM;
	st = xp_stacks(be, di.vcpus);
	for (uint32_t v = 0; v < di.vcpus; v++) {
		struct xp_walk_regs r;

		if (xp_walk_regs(be, v, &r) != 0)
			continue; /* offline, not in long mode, or unreadable */
		if (xp_maps_kernel(be, wc, &r)) {
			be->kcr3 = r.cr3; /* the kernel's tables are here */
			be->klevels = r.levels;
			be->knx = r.nx;
		}
		if (st && v < be->stacks_nr)
			xp_stack_seen(&st[v], &r);
		xp_walk_vcpu(be, wc, &r, st && v < be->stacks_nr ? &st[v] : NULL,
			     gfns, cap, &n);
	}
	free(wc);
	xp_ktables_refresh(be);
	/* (duplicates of the walks above are removed by the core) */
	for (size_t i = 0; i < be->ktables_n && n < cap; i++)
		gfns[n++] = be->ktables[i];
	return (int)n;
}

void xp_xen_walk_close(struct xp_backend *be)
{
	free(be->stacks);
	be->stacks = NULL;
	be->stacks_nr = 0;
	free(be->ktables);
	be->ktables = NULL;
	be->ktables_n = 0;
	xp_code_fini(be);
	be->ktables_ns = 0;
	be->kcr3 = 0;
}
