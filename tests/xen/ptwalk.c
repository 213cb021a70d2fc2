/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-rig-ptwalk: the gfns Xen's own walk of a guest's page tables
 * goes through for the guest's per-CPU area, as seen from dom0. Runs in
 * dom0 of the real-Xen run (tests/xen), so that the gfns in the
 * hypervisor's diagnostic lines (build-xen.sh --diag) can be named.
 *
 *   xpage-rig-ptwalk DOMID
 *   xpage-rig-ptwalk --watch SECONDS DOMID
 *
 * For each vCPU: its CR3 and GS bases (Xen's HVM CPU save record), and
 * for the kernel's GS base (Linux keeps each CPU's per-CPU area there,
 * among it the runstate area it registers with Xen) the gfn of each
 * page-table level of the walk and of the page it ends at. One line per
 * vCPU: "XPRIG ptwalk vcpu=N cr3=... gs=... l4=... l3=... l2=... l1=...
 * page=..." (a level the walk does not use, a large page, is left out).
 *
 * --watch: for SECONDS, read every vCPU's CPU save record every 2 ms (what
 * a pager's guard does, only more often) and check the one thing that
 * must hold in long mode: one of the two GS bases (the active one or the
 * one SWAPGS brings in) is the kernel's, in the upper half. A record where
 * neither is, is printed (the first 16); at the end, or at SIGINT or
 * SIGTERM, the last line counts them:
 * "XPRIG ctxwatch reads=N odd=M".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xen/hvm/save.h>

#define PTE_P  0x1ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

static xenforeignmemory_handle *fmem;
static uint32_t domid;

/* Entry @idx of the page table at gfn @gfn, or 0 if unreadable. */
static uint64_t entry(uint64_t gfn, unsigned idx)
{
	xen_pfn_t pfn = gfn;
	int err = 0;
	uint64_t *t = xenforeignmemory_map(fmem, domid, PROT_READ, 1, &pfn, &err);
	uint64_t e = 0;

	if (t && !err)
		e = t[idx];
	if (t)
		xenforeignmemory_unmap(fmem, t, 1);
	return e;
}

static void walk(unsigned vcpu, uint64_t cr3, uint64_t va)
{
	static const char *name[] = { "l4", "l3", "l2", "l1" };
	uint64_t gfn = (cr3 & PTE_ADDR) >> 12, e;
	char line[512];
	int n = snprintf(line, sizeof(line), "XPRIG ptwalk vcpu=%u cr3=%#" PRIx64
			 " gs=%#" PRIx64, vcpu, cr3, va);

	for (int level = 0; level < 4; level++) {
		unsigned idx = (unsigned)(va >> (39 - 9 * level)) & 511;

		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%#" PRIx64,
			      name[level], gfn);
		e = entry(gfn, idx);
		if (!(e & PTE_P)) {
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " not_present");
			break;
		}
		if (level > 0 && level < 3 && (e & PTE_PS)) {
			uint64_t size = 1ull << (39 - 9 * level);
			uint64_t base = (e & PTE_ADDR) & ~(size - 1);

			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " page=%#" PRIx64 " large",
				      (base + (va & (size - 1))) >> 12);
			break;
		}
		gfn = (e & PTE_ADDR) >> 12;
		if (level == 3)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " page=%#" PRIx64, gfn);
	}
	printf("%s\n", line);
}

/* vCPU @v's CPU save record into @c: 0, or -1 when it cannot be read. */
static int read_cpu(xc_interface *xch, unsigned v, struct hvm_hw_cpu *c)
{
	memset(c, 0, sizeof(*c));
	return xc_domain_hvm_getcontext_partial(xch, domid, HVM_SAVE_CODE(CPU),
						v, c, sizeof(*c)) ? -1 : 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --watch: read the records for @secs seconds; 0 when none was odd. */
static int watch(xc_interface *xch, unsigned vcpus, double secs)
{
	const struct timespec gap = { 0, 2 * 1000 * 1000 };
	unsigned long reads = 0, odd = 0;
	double end = now_s() + secs;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && now_s() < end) {
		for (unsigned v = 0; v < vcpus; v++) {
			struct hvm_hw_cpu c;

			if (read_cpu(xch, v, &c))
				continue;
			reads++;
			if (!(c.msr_efer & (1ull << 10)) ||
			    (c.gs_base >> 63) || (c.shadow_gs >> 63))
				continue;
			if (odd++ < 16)
				printf("XPRIG ctxwatch_odd vcpu=%u rip=%#" PRIx64
				       " cs=%#x gs=%#" PRIx64 " shadow_gs=%#" PRIx64
				       "\n", v, c.rip, (unsigned)c.cs_sel,
				       c.gs_base, c.shadow_gs);
			fflush(stdout);
		}
		nanosleep(&gap, NULL);
	}
	printf("XPRIG ctxwatch reads=%lu odd=%lu\n", reads, odd);
	return odd != 0;
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	xc_domaininfo_t info;
	double secs = -1;

	if (argc == 4 && !strcmp(argv[1], "--watch")) {
		secs = strtod(argv[2], NULL);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [--watch SECONDS] DOMID\n", argv[0]);
		return 2;
	}
	domid = (uint32_t)strtoul(argv[1], NULL, 0);
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	if (!xch || !fmem ||
	    xc_domain_getinfolist(xch, domid, 1, &info) != 1 ||
	    info.domain != domid)
		return 2;
	if (secs >= 0)
		return watch(xch, info.max_vcpu_id + 1, secs);
	for (unsigned v = 0; v <= info.max_vcpu_id; v++) {
		struct hvm_hw_cpu c;

		if (read_cpu(xch, v, &c)) {
			printf("XPRIG ptwalk vcpu=%u unreadable\n", v);
			continue;
		}
		/* The kernel's GS base is the one in the upper half. */
		walk(v, c.cr3, (c.gs_base >> 63) ? c.gs_base : c.shadow_gs);
	}
	xenforeignmemory_close(fmem);
	xc_interface_close(xch);
	return 0;
}
