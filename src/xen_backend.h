/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the Xen backend, which is split by concern:
 *
 *   backend_xen.c      the handle: open/close, enable/disable of the ring,
 *                      pause, the event channel, the ops table;
 *   xenctrl_loader.c   finding and loading libxenctrl (xenctrl_loader.h);
 *   xen_compat.c       what differs between Xen releases in the structures
 *                      the backend decodes itself (domain info, gfn count);
 *   xen_paging_ops.c   nominate/evict/prep, one trap each or in multicalls;
 *   xen_map.c          mapping guest gfns without waiting for page-ins;
 *   xen_guest_walk.c   the gfns Xen touches for a guest on its own (its
 *                      runstate areas, the kernel stacks its hypercall
 *                      arguments live on, the page tables to them);
 *   xen_ram.c          which gfns of the guest are RAM;
 *   xen_host.c         the host handle: page offline, the M2P table.
 *
 * xenctrl.h comes first: it defines __XEN_TOOLS__, which the tool-only
 * parts of Xen's public headers (pulled in by every libxen* header) need.
 * Only its constants and public structures are used (and checked against
 * libxpage's own definitions); calls into libxenctrl go through struct
 * xp_xenctrl.
 */
#ifndef XPAGE_XEN_BACKEND_H
#define XPAGE_XEN_BACKEND_H

#include <xenctrl.h>

#include "private.h"
#include "xenctrl_loader.h"

#include <errno.h>
#include <time.h>

#include <xencall.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>

#define XP_XEN_PAGE_SIZE 4096u

/* A xentoollog logger handed to libxenctrl and the stable libraries, so
 * their messages reach the core's log function instead of stderr (with a
 * NULL logger they would create a stderr logger of their own). */
struct xp_tl_logger {
	xentoollog_logger base; /* first: the libraries see only this */
	xp_backend_log_fn log;
	void *ctx;
};

/* Mode of xp_xen_paging_ops, chosen at open (see xen_paging_ops.c). */
enum xp_xen_batching {
	XP_XEN_ONE_PER_TRAP = 0,  /* one libxenctrl call per operation */
	XP_XEN_MULTICALL = 1,     /* up to XP_XEN_MULTICALL_MAX per trap */
};

/* The kernel's page tables kept in view, at most (xen_guest_walk.c). */
#define XP_KTABLES_MAX 4096u

/* Page-table entries of an x86-64 guest. */
#define XP_PTE_P      0x1ull
#define XP_PTE_US     0x4ull
#define XP_PTE_PS     0x80ull
#define XP_PTE_NX     (1ull << 63)
#define XP_PTE_ADDR   0x000ffffffffff000ull

/* A set of gfns the guest runs code from (xen_guest_code.c): sorted and
 * each once after xp_code_end(); none when more than its room was
 * executable (a guest mapping data executable: its code cannot be told). */
struct xp_code_set {
	uint64_t *gfns;
	size_t n, max;
	bool over;
};

struct xp_backend {
	const struct xp_xen_sys *sys;
	struct xp_xenctrl xc;
	xp_xch *xch;
	uint32_t domid;
	uint32_t major, minor;
	size_t vcpu_off; /* offset of max_vcpu_id in xen_domctl_getdomaininfo */

	xp_backend_log_fn log;
	void *log_ctx;
	struct xp_tl_logger tl;

	xenforeignmemory_handle *fmem;
	int privcmd_fd; /* xen_map.c: -1 when mappings go through fmem */

	/* Set by enable, cleared by disable/forget. */
	void *ring;
	uint64_t ring_gfn;
	xenevtchn_handle *xce;
	evtchn_port_t remote_port;
	evtchn_port_t local_port;

	/* Page-aligned copy for xc_mem_paging_load, which refuses (EINVAL) an
	 * unaligned buffer up to at least Xen 4.12. */
	void *bounce;

	/* Batching of paging ops (xen_paging_ops.c). */
	enum xp_xen_batching batching;
	xencall_handle *xcall;
	struct xp_xen_multicall_entry *mc;
	struct xp_xen_mem_paging_op *mc_ops;
	unsigned char *mc_pages; /* XP_XEN_MULTICALL_MAX prep buffers */

	/* The last answer of ram_ranges and when (xen_ram.c). */
	struct xpage_gfn_range *ram;
	size_t ram_n;
	uint64_t ram_ns;

	/* Kernel stacks seen under each vCPU, the kernel's page tables and
	 * when they were read, from a CR3 that maps the kernel
	 * (xen_guest_walk.c). */
	struct xp_xen_stacks *stacks;
	uint32_t stacks_nr;
	uint64_t *ktables;
	size_t ktables_n;
	uint64_t ktables_ns;
	uint64_t kcr3;
	unsigned klevels;
	bool knx;             /* that vCPU had no-execute in force */
	/* The code the guest runs, from the same walks (xen_guest_code.c):
	 * its kernel's, the processes' its vCPUs were seen running, and the
	 * kernel's last-level tables read for it. */
	struct xp_code_set kcode, ucode;
	uint64_t *kl1;
	size_t kl1_n;
};

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t xp_xen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define XLOG(be, lvl, ...)                                            \
	do {                                                          \
		if ((be)->log)                                        \
			(be)->log((be)->log_ctx, (lvl), __VA_ARGS__); \
	} while (0)

/* -errno after a failed libxen* call. Xen 4.2's xc_mem_paging_load sets
 * errno = -EINVAL; a call that fails without errno becomes -EIO. */
static inline int xp_neg_errno(void)
{
	int e = errno;

	if (e < 0)
		e = -e;
	return e ? -e : -EIO;
}

static inline int xp_call_rc(int rc)
{
	return rc < 0 ? xp_neg_errno() : 0;
}

/* backend_xen.c: set up @tl to forward to @log; whether this machine runs
 * Xen (the tests' table answers in theirs). */
void xp_xen_tl_init(struct xp_tl_logger *tl, xp_backend_log_fn log,
		    void *ctx);
int xp_xen_present(void);

/* XEN_DOMCTL_getpageframeinfo3 (xc_get_pfn_type_batch): at most a batch
 * of frames a call, each answered with its type in the top nibble; XTAB:
 * no page of the domain's there. */
#define XP_PFINFO_BATCH 1024u
#define XP_PFINFO_MASK  (0xfull << 28)   /* XEN_DOMCTL_PFINFO_LTAB_MASK */
#define XP_PFINFO_XTAB  (0xfull << 28)   /* no page */
#define XP_PFINFO_BROKEN (0xdull << 28)  /* a broken page */

/* xen_compat.c */
size_t xp_xen_vcpu_off(uint32_t major, uint32_t minor);
int xp_xen_read_dominfo(struct xp_backend *be, struct xp_dominfo *info);
/* 1 when domain @domid is HVM or PVH (its frames are gfns to Xen), 0 when
 * PV, or a negative errno (-ESRCH: no such domain). */
int xp_xen_domain_is_hvm(const struct xp_xenctrl *xc, xp_xch *xch,
			 uint32_t domid);

/* xen_paging_ops.c */
void xp_xen_batching_open(struct xp_backend *be);
void xp_xen_batching_close(struct xp_backend *be);
int xp_xen_paging_ops(struct xp_backend *be, struct xp_paging_op *ops,
		      size_t n);

/* xen_map.c */
void xp_xen_map_open(struct xp_backend *be);
void xp_xen_map_close(struct xp_backend *be);
void *xp_xen_map(struct xp_backend *be, const uint64_t *gfns, size_t n,
		 int prot, int *err);
int xp_xen_unmap(struct xp_backend *be, void *addr, size_t n);

/* xen_ram.c */
struct xpage_gfn_range;
int xp_xen_ram_ranges(struct xp_backend *be, struct xpage_gfn_range *r,
		      size_t max);
void xp_xen_ram_close(struct xp_backend *be);

/* xen_logdirty.c */
int xp_xen_logdirty(struct xp_backend *be, unsigned op, uint64_t *bits,
		    uint64_t nr, uint64_t *dirty);

/* xen_guest_walk.c */
int xp_xen_hv_gfns(struct xp_backend *be, uint64_t *gfns, size_t cap);

/* xen_guest_code.c: the code the guest runs. xp_code_begin() empties the
 * sets before a walk of the kernel's tables (false when they cannot be
 * had: no code is then collected); the walk gives each executable large
 * page to xp_code_leaf() and each last-level table to be->kl1;
 * xp_code_end() reads those tables, walks the user half of each
 * top-level table in @tops (the processes the vCPUs were seen running)
 * and sorts both sets. */
bool xp_code_begin(struct xp_backend *be);
void xp_code_leaf(struct xp_code_set *set, uint64_t e, unsigned level,
		  bool nx, bool user);
void xp_code_end(struct xp_backend *be, const uint64_t *tops, size_t ntops);
void xp_code_fini(struct xp_backend *be);
int xp_xen_code_gfns(struct xp_backend *be, unsigned which,
		     const uint64_t **gfns);
void xp_xen_walk_close(struct xp_backend *be);

#endif
