/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the Xen backend (backend_xen.c) and its tests.
 *
 * libxenctrl has no stable ABI: its soname follows the Xen release
 * (libxenctrl.so.4.2 ... libxenctrl.so.4.22) and its prototypes change
 * between releases. libxpage therefore does not link it: it is loaded at
 * run time with dlopen and every function is resolved with dlsym into the
 * table below, typed by libxpage's OWN prototypes (never xenctrl.h's, which
 * describe only the release installed at build time).
 *
 * The differences between releases are call-compatible on the LP64 ABIs Xen
 * paging exists on (x86_64; the SysV calling convention passes every one of
 * these in a 64-bit register):
 *  - gfn: unsigned long (4.2 - 4.5) vs uint64_t (4.6+): both 64-bit;
 *  - domid: domid_t (uint16_t, up to 4.9) vs uint32_t (4.10+): a domid is
 *    below DOMID_FIRST_RESERVED (0x7ff0), so the register holds the same
 *    zero-extended value either way;
 *  - hvm param: int / unsigned long * (xc_get_hvm_param) vs uint32_t /
 *    uint64_t * (xc_hvm_param_get): same sizes;
 *  - xc_domain_maximum_gpfn: (xch, domid) returning the gpfn (4.2 - 4.5) vs
 *    (xch, domid, xen_pfn_t *out) returning 0 (4.6+): NOT the same contract;
 *    see xp_xen_nr_gfns() in backend_xen.c for how both are handled.
 */
#ifndef XPAGE_XENCTRL_LOADER_H
#define XPAGE_XENCTRL_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <xencall.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

/* Opaque: libxenctrl's xc_interface. */
typedef struct xp_xc_interface xp_xch;

/* libxenctrl's xc_hypercall_buffer_t (the same members in every release
 * 4.2 .. 4.22): memory the hypervisor may copy to, and its bookkeeping. */
struct xp_xc_hcbuf {
	void *hbuf;
	struct xp_xc_hcbuf *param_shadow;
	int dir;
	void *ubuf;
	size_t sz;
};

/* xen_domctl_shadow_op_stats. */
struct xp_xen_shadow_stats {
	uint32_t fault_count;
	uint32_t dirty_count;
};

/* Every libxenctrl function the backend calls. A NULL pointer is a symbol
 * the loaded release lacks (only possible for the optional ones and for one
 * of each "one of" pair). */
struct xp_xenctrl {
	void *dl;             /* dlopen handle */
	char path[256];       /* the name that was loaded */

	/* Required in every release 4.2 .. 4.22. */
	xp_xch *(*interface_open)(void *logger, void *dombuild_logger,
				  unsigned int open_flags);
	int (*interface_close)(xp_xch *xch);
	int (*version)(xp_xch *xch, int cmd, void *arg);
	int (*mem_paging_enable)(xp_xch *xch, uint32_t domid, uint32_t *port);
	int (*mem_paging_disable)(xp_xch *xch, uint32_t domid);
	int (*mem_paging_nominate)(xp_xch *xch, uint32_t domid, uint64_t gfn);
	int (*mem_paging_evict)(xp_xch *xch, uint32_t domid, uint64_t gfn);
	int (*mem_paging_load)(xp_xch *xch, uint32_t domid, uint64_t gfn,
			       void *buffer);
	int (*domain_pause)(xp_xch *xch, uint32_t domid);
	int (*domain_unpause)(xp_xch *xch, uint32_t domid);
	int (*domain_populate_physmap_exact)(xp_xch *xch, uint32_t domid,
					     unsigned long nr_extents,
					     unsigned int extent_order,
					     unsigned int mem_flags,
					     uint64_t *extent_start);
	int (*domain_decrease_reservation_exact)(xp_xch *xch, uint32_t domid,
						 unsigned long nr_extents,
						 unsigned int extent_order,
						 uint64_t *extent_start);

	/* Required: at least one of each pair. */
	int (*hvm_param_get)(xp_xch *xch, uint32_t domid, uint32_t param,
			     uint64_t *value);              /* 4.5+ */
	int (*get_hvm_param)(xp_xch *xch, uint32_t domid, int param,
			     unsigned long *value);         /* 4.2+ */
	/* Both fill one struct xen_domctl_getdomaininfo (see backend_xen.c
	 * for the fields relied on); @info must hold XP_XEN_DOMINFO_BUF. */
	int (*domain_getinfo_single)(xp_xch *xch, uint32_t domid,
				     void *info);           /* 4.18+ */
	int (*domain_getinfolist)(xp_xch *xch, uint32_t first_domain,
				  unsigned int max_domains,
				  void *info);              /* 4.2+ */

	/* Optional. */
	int (*vm_event_get_version)(xp_xch *xch);           /* 4.13+ */
	int (*mem_paging_prep)(xp_xch *xch, uint32_t domid, uint64_t gfn);
	int (*domain_nr_gpfns)(xp_xch *xch, uint32_t domid,
			       uint64_t *gpfns);            /* 4.6+ */
	/* Called with three arguments; a 4.2 - 4.5 library ignores the third
	 * and returns the gpfn, a 4.6+ one stores it there and returns 0. */
	int (*domain_maximum_gpfn)(xp_xch *xch, uint32_t domid,
				   uint64_t *gpfns);
	/* One record of a domain's HVM save state (4.1+): the vCPU
	 * registers Xen's own walk of the guest's page tables starts from
	 * (xen_guest_walk.c). */
	int (*domain_hvm_getcontext_partial)(xp_xch *xch, uint32_t domid,
					     uint16_t typecode,
					     uint16_t instance, void *buf,
					     uint32_t size);
	/* XEN_DOMCTL_getpageframeinfo3 for @num gfns (at most 1024), each
	 * replaced by its XEN_DOMCTL_PFINFO_* type (4.2+, exported though
	 * declared in libxenctrl's private header): xen_ram.c. */
	int (*get_pfn_type_batch)(xp_xch *xch, uint32_t domid, unsigned num,
				  uint64_t *arr);
	/* Log-dirty mode (xen_logdirty.c). 4.16+: xc_logdirty_control, with
	 * the bitmap in a hypercall buffer; before, the same shadow op went
	 * through an eight-argument xc_shadow_control, a name 4.16 kept for
	 * a five-argument call without a bitmap. The loader keeps the old
	 * form only where xc_logdirty_control is absent, so it is never
	 * called with the wrong arguments. */
	long long (*logdirty_control)(xp_xch *xch, uint32_t domid,
				      unsigned int sop,
				      struct xp_xc_hcbuf *bitmap,
				      unsigned long pages, unsigned int mode,
				      struct xp_xen_shadow_stats *stats);
	int (*shadow_control_old)(xp_xch *xch, uint32_t domid,
				  unsigned int sop, struct xp_xc_hcbuf *bitmap,
				  unsigned long pages, unsigned long *mb,
				  uint32_t mode,
				  struct xp_xen_shadow_stats *stats);
	void *(*hcbuf_alloc_pages)(xp_xch *xch, struct xp_xc_hcbuf *b,
				   int nr_pages);
	/* XENMEM_maximum_ram_page (xen_host.c). Called with two arguments:
	 * 4.2 - 4.5 take one and return the value, 4.6+ store it through
	 * the second and return 0. */
	int (*maximum_ram_page)(xp_xch *xch, unsigned long *max_mfn);
	void (*hcbuf_free_pages)(xp_xch *xch, struct xp_xc_hcbuf *b,
				 int nr_pages);
};

/* Bytes reserved for one xen_domctl_getdomaininfo (88 in 4.2, 96 in
 * 4.3 - 4.15, 104 in 4.16 - 4.22): generous room for later growth. */
#define XP_XEN_DOMINFO_BUF 1024

/*
 * Load exactly @path (a file name dlopen searches for, or a path) and
 * resolve the table. Returns 0, or
 *   -ENOENT   dlopen failed (@why has dlerror's text);
 *   -ELIBBAD  a symbol every release 4.2+ has is missing (@why names it).
 * On failure nothing stays loaded and @out is zeroed.
 */
int xp_xenctrl_load(const char *path, struct xp_xenctrl *out, char *why,
		    size_t whylen);

/*
 * Find libxenctrl: the exact path in $XPAGE_XENCTRL when set (read with
 * secure_getenv; no fallback when it fails), else "libxenctrl.so", then
 * the versioned sonames from newest to oldest (libxenctrl.so.4.22 ..
 * libxenctrl.so.4.2). A library that loads but lacks a required symbol is
 * skipped and the search goes on. Returns 0, -ENOENT (nothing loadable) or
 * -ELIBBAD (only incomplete libraries found; @why names the first missing
 * symbol).
 */
int xp_xenctrl_find(struct xp_xenctrl *out, char *why, size_t whylen);

void xp_xenctrl_unload(struct xp_xenctrl *x);

/*
 * libxenguest, of the same release as the libxenctrl loaded: Xen's page
 * offline calls and the machine-to-phys mapping were never in
 * libxenctrl (tools/libxc/xc_offline_page.c was built into libxenguest
 * up to 4.14, tools/libs/guest/xg_offline_page.c from 4.15), with the
 * same prototypes in every release 4.2 .. 4.22. Every symbol is
 * optional: a NULL one makes its operation -EOPNOTSUPP.
 */
struct xp_xenguest {
	void *dl;
	char path[256];
	int (*mark_page_offline)(xp_xch *xch, unsigned long start,
				 unsigned long end, uint32_t *status);
	int (*mark_page_online)(xp_xch *xch, unsigned long start,
				unsigned long end, uint32_t *status);
	int (*query_page_offline_status)(xp_xch *xch, unsigned long start,
					 unsigned long end, uint32_t *status);
	/* xen_pfn_t is unsigned long on x86 */
	unsigned long *(*map_m2p)(xp_xch *xch, unsigned long max_mfn,
				  int prot, unsigned long *mfn0);
};

/*
 * Load libxenguest: exactly $XPAGE_XENGUEST when set (secure_getenv),
 * else the name of @xenctrl_path with libxenctrl replaced by libxenguest
 * (libxenctrl.so.4.17 -> libxenguest.so.4.17), so that both are of one
 * release. 0, or -ENOENT (dlopen failed: @why says why); on failure
 * nothing stays loaded and @out is zeroed.
 */
int xp_xenguest_load(const char *xenctrl_path, struct xp_xenguest *out,
		     char *why, size_t whylen);
void xp_xenguest_unload(struct xp_xenguest *g);

/*
 * The stable tool libraries the backend links (libxenevtchn,
 * libxenforeignmemory, libxencall) and the "does this machine run Xen"
 * probe, behind one table so tests can replace them and check the order
 * of the enable sequence and its undo path without a hypervisor.
 */
struct xp_xen_sys {
	int (*xen_present)(void);

	xenevtchn_handle *(*evtchn_open)(struct xentoollog_logger *logger,
					 unsigned int open_flags);
	int (*evtchn_close)(xenevtchn_handle *xce);
	int (*evtchn_fd)(xenevtchn_handle *xce);
	int (*evtchn_notify)(xenevtchn_handle *xce, evtchn_port_t port);
	xenevtchn_port_or_error_t (*evtchn_bind_interdomain)(
		xenevtchn_handle *xce, uint32_t domid,
		evtchn_port_t remote_port);
	int (*evtchn_unbind)(xenevtchn_handle *xce, evtchn_port_t port);
	xenevtchn_port_or_error_t (*evtchn_pending)(xenevtchn_handle *xce);
	int (*evtchn_unmask)(xenevtchn_handle *xce, evtchn_port_t port);

	xenforeignmemory_handle *(*fmem_open)(struct xentoollog_logger *logger,
					      unsigned int open_flags);
	int (*fmem_close)(xenforeignmemory_handle *fmem);
	void *(*fmem_map)(xenforeignmemory_handle *fmem, uint32_t dom,
			  int prot, size_t pages, const xen_pfn_t arr[],
			  int err[]);
	int (*fmem_unmap)(xenforeignmemory_handle *fmem, void *addr,
			  size_t pages);

	xencall_handle *(*call_open)(struct xentoollog_logger *logger,
				     unsigned int open_flags);
	int (*call_close)(xencall_handle *xcall);
	void *(*call_alloc_buffer)(xencall_handle *xcall, size_t size);
	void (*call_free_buffer)(xencall_handle *xcall, void *p);
	int (*call2)(xencall_handle *xcall, unsigned int op, uint64_t arg1,
		     uint64_t arg2);

	/* The privcmd device, for maps that never wait (xen_map.c): open it
	 * (fd or -1), make a region for @len bytes (MAP_FAILED on failure),
	 * fill it with @n gfns in one IOCTL_PRIVCMD_MMAPBATCH_V2 (0, or -1
	 * with errno; ENOENT: some gfns are in a paging state; err[i] is each
	 * gfn's -errno), and release a region. */
	int (*privcmd_open)(void);
	void *(*privcmd_mmap)(int fd, size_t len, int prot);
	int (*privcmd_mmapbatch)(int fd, uint32_t domid, void *addr, size_t n,
				 const uint64_t *gfns, int *err);
	int (*privcmd_munmap)(void *addr, size_t len);
};

/* The real privcmd calls of struct xp_xen_sys (xen_map.c). */
int xp_xen_privcmd_open(void);
void *xp_xen_privcmd_mmap(int fd, size_t len, int prot);
int xp_xen_privcmd_mmapbatch(int fd, uint32_t domid, void *addr, size_t n,
			     const uint64_t *gfns, int *err);

/* Replace the table for handles opened afterwards; NULL restores the real
 * libraries. For tests only; not thread-safe. */
void xp_xen_set_sys(const struct xp_xen_sys *sys);

/* Largest number of paging operations put in one multicall. */
#define XP_XEN_MULTICALL_MAX 256u

/* The wire structures of the multicall path (libxpage's own definitions;
 * backend_xen.c checks them against the installed Xen headers). */
struct xp_xen_multicall_entry {
	uint64_t op;
	uint64_t result;
	uint64_t args[6];
};

struct xp_xen_mem_paging_op {
	uint8_t op;       /* XP_PAGING_* */
	uint8_t pad0;
	uint16_t domain;
	uint32_t pad1;
	uint64_t buffer;  /* XEN_GUEST_HANDLE_64(const_uint8) */
	uint64_t gfn;
};

#define XP_XEN_HYPERVISOR_memory_op 12
#define XP_XEN_HYPERVISOR_multicall 13
#define XP_XEN_XENMEM_paging_op     20

#endif
