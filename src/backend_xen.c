/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Xen backend: struct xp_backend_ops spoken through Xen's tool
 * libraries.
 *
 *  - libxenevtchn, libxenforeignmemory and libxencall have stable,
 *    symbol-versioned ABIs: they are linked.
 *  - libxenctrl changes its ABI with every release: it is loaded with
 *    dlopen and resolved into libxpage's own table (xenctrl_loader.h), the
 *    way LibVMI does, so one libxpage binary serves Xen 4.2 .. 4.22.
 *
 * One handle is used by one thread at a time. Nothing here prints: every
 * message, including those of the tool libraries (which are handed a
 * xentoollog logger that forwards to the core's log function), goes to the
 * log function given to open().
 *
 * Errors: each op returns 0 or the negative errno Xen (or the tool
 * library) gave. Backend-specific choices:
 *   open: -ENOENT   the machine runs no Xen (no /dev/xen/privcmd and no
 *                   /proc/xen/capabilities), no libxenctrl could be loaded,
 *                   or xc_interface_open failed for another reason than
 *                   permissions (EACCES/EPERM are passed through: "not
 *                   root" should not read as "no Xen");
 *         -ELIBBAD  libxenctrl was found but lacks a function every release
 *                   since 4.2 has (the log names it);
 *         -EOPNOTSUPP the hypervisor predates Xen 4.2;
 *         -ESRCH    no such domain.
 *   evtchn_fd/notify/ack before enable (or after disable/forget): -EBADF.
 */
/*
 * xenctrl.h comes first: it defines __XEN_TOOLS__, which the tool-only
 * parts of Xen's public headers (pulled in by every libxen* header) need,
 * and it is used only for the constants and public structures checked
 * below. None of its prototypes is used: calls into libxenctrl go through
 * struct xp_xenctrl.
 */
#include <xenctrl.h>

#include "private.h"
#include "xenctrl_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xencall.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>

#define XP_XEN_PAGE_SIZE 4096u

/* Constants of Xen's public interface, stable since 4.2. */
#define XP_HVM_PARAM_PAGING_RING_PFN 27
#define XP_XENVER_version            0

/* xen_domctl_getdomaininfo (public/domctl.h), as every release 4.2 .. 4.22
 * has it (checked per release tag in Xen's tree):
 *   domid_t domain @0; uint32_t flags @4; uint64 tot_pages @8;
 *   uint64 max_pages @16;
 * then 4.2:  shr, paged, shared_info_frame, cpu_time, nr_online_vcpus @56,
 *            max_vcpu_id @60 (88 bytes);
 *      4.3+: outstanding_pages @24 pushes them by 8: nr_online_vcpus @64,
 *            max_vcpu_id @68 (96 bytes; 104 from 4.16 with gpaddr_bits).
 * The domctl/sysctl interface versions make a libxenctrl work only with
 * its own hypervisor release, so the hypervisor's version picks the
 * layout. Flag bits (unchanged 4.2 .. 4.22): dying 0, hvm_guest 1,
 * shutdown 2, paused 3. */
#define XP_DOMINFO_OFF_DOMAIN          0
#define XP_DOMINFO_OFF_FLAGS           4
#define XP_DOMINFO_OFF_MAX_PAGES       16
#define XP_DOMINFO_OFF_MAX_VCPU_ID_4_2 60
#define XP_DOMINFO_OFF_MAX_VCPU_ID     68
#define XP_DOMINF_dying     (1u << 0)
#define XP_DOMINF_hvm_guest (1u << 1)
#define XP_DOMINF_shutdown  (1u << 2)
#define XP_DOMINF_paused    (1u << 3)

/* What the installed headers (whatever release) say must agree. */
_Static_assert(sizeof(unsigned long) == sizeof(uint64_t) &&
	       sizeof(xen_pfn_t) == sizeof(uint64_t),
	       "Xen paging tools are LP64 only (see xenctrl_loader.h)");
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "dlsym results are stored as function pointers");
_Static_assert(HVM_PARAM_PAGING_RING_PFN == XP_HVM_PARAM_PAGING_RING_PFN,
	       "HVM_PARAM_PAGING_RING_PFN");
_Static_assert(XENVER_version == XP_XENVER_version, "XENVER_version");
_Static_assert(__HYPERVISOR_memory_op == XP_XEN_HYPERVISOR_memory_op &&
	       __HYPERVISOR_multicall == XP_XEN_HYPERVISOR_multicall &&
	       XENMEM_paging_op == XP_XEN_XENMEM_paging_op,
	       "hypercall numbers");
_Static_assert(XENMEM_paging_op_nominate == XP_PAGING_NOMINATE &&
	       XENMEM_paging_op_evict == XP_PAGING_EVICT &&
	       XENMEM_paging_op_prep == XP_PAGING_PREP,
	       "paging sub-operations");
_Static_assert(sizeof(struct xp_xen_mem_paging_op) ==
		       sizeof(struct xen_mem_paging_op) &&
	       offsetof(struct xp_xen_mem_paging_op, domain) ==
		       offsetof(struct xen_mem_paging_op, domain) &&
	       offsetof(struct xp_xen_mem_paging_op, buffer) ==
		       offsetof(struct xen_mem_paging_op, buffer) &&
	       offsetof(struct xp_xen_mem_paging_op, gfn) ==
		       offsetof(struct xen_mem_paging_op, gfn),
	       "struct xen_mem_paging_op layout");
_Static_assert(sizeof(struct xp_xen_multicall_entry) ==
		       sizeof(struct multicall_entry) &&
	       offsetof(struct xp_xen_multicall_entry, result) ==
		       offsetof(struct multicall_entry, result) &&
	       offsetof(struct xp_xen_multicall_entry, args) ==
		       offsetof(struct multicall_entry, args),
	       "struct multicall_entry layout");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, domain) ==
		       XP_DOMINFO_OFF_DOMAIN &&
	       offsetof(struct xen_domctl_getdomaininfo, flags) ==
		       XP_DOMINFO_OFF_FLAGS &&
	       offsetof(struct xen_domctl_getdomaininfo, max_pages) ==
		       XP_DOMINFO_OFF_MAX_PAGES &&
	       offsetof(struct xen_domctl_getdomaininfo, max_vcpu_id) ==
		       XP_DOMINFO_OFF_MAX_VCPU_ID &&
	       sizeof(struct xen_domctl_getdomaininfo) <= XP_XEN_DOMINFO_BUF,
	       "xen_domctl_getdomaininfo leading fields");
_Static_assert(XEN_DOMINF_dying == XP_DOMINF_dying &&
	       XEN_DOMINF_hvm_guest == XP_DOMINF_hvm_guest &&
	       XEN_DOMINF_shutdown == XP_DOMINF_shutdown &&
	       XEN_DOMINF_paused == XP_DOMINF_paused,
	       "XEN_DOMINF_* bits");

/* ------------------------------------------------------------------------ */
/* Loading libxenctrl                                                       */

enum {
	XP_SYM_REQUIRED = 0,
	XP_SYM_OPTIONAL = 1,
	XP_SYM_HVM_PARAM = 2, /* one of the HVM_PARAM group is required */
	XP_SYM_DOMINFO = 3,   /* one of the DOMINFO group is required */
};

struct xp_xenctrl_sym {
	const char *name;
	size_t off;
	int kind;
};

#define XP_SYM(name, field, kind) { name, offsetof(struct xp_xenctrl, field), kind }

/* The release table. Verified against tools/include/xenctrl.h (and
 * tools/libxc/xenctrl.h before 4.15) at every RELEASE-4.x.0 tag 4.2 .. 4.22:
 *   every release: xc_interface_open/close, xc_version,
 *     xc_mem_paging_enable/disable/nominate/evict/prep/load,
 *     xc_domain_pause/unpause, xc_domain_populate_physmap_exact,
 *     xc_domain_decrease_reservation_exact, xc_get_hvm_param,
 *     xc_domain_getinfolist, xc_domain_maximum_gpfn;
 *   4.5+:  xc_hvm_param_get;
 *   4.6+:  xc_domain_nr_gpfns (and xc_domain_maximum_gpfn's out-parameter);
 *   4.13+: xc_vm_event_get_version;
 *   4.18+: xc_domain_getinfo_single (xc_domain_getinfo was removed). */
static const struct xp_xenctrl_sym xp_xenctrl_syms[] = {
	XP_SYM("xc_interface_open", interface_open, XP_SYM_REQUIRED),
	XP_SYM("xc_interface_close", interface_close, XP_SYM_REQUIRED),
	XP_SYM("xc_version", version, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_enable", mem_paging_enable, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_disable", mem_paging_disable, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_nominate", mem_paging_nominate, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_evict", mem_paging_evict, XP_SYM_REQUIRED),
	XP_SYM("xc_mem_paging_load", mem_paging_load, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_pause", domain_pause, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_unpause", domain_unpause, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_populate_physmap_exact",
	       domain_populate_physmap_exact, XP_SYM_REQUIRED),
	XP_SYM("xc_domain_decrease_reservation_exact",
	       domain_decrease_reservation_exact, XP_SYM_REQUIRED),
	XP_SYM("xc_hvm_param_get", hvm_param_get, XP_SYM_HVM_PARAM),
	XP_SYM("xc_get_hvm_param", get_hvm_param, XP_SYM_HVM_PARAM),
	XP_SYM("xc_domain_getinfo_single", domain_getinfo_single,
	       XP_SYM_DOMINFO),
	XP_SYM("xc_domain_getinfolist", domain_getinfolist, XP_SYM_DOMINFO),
	XP_SYM("xc_vm_event_get_version", vm_event_get_version,
	       XP_SYM_OPTIONAL),
	XP_SYM("xc_mem_paging_prep", mem_paging_prep, XP_SYM_OPTIONAL),
	XP_SYM("xc_domain_nr_gpfns", domain_nr_gpfns, XP_SYM_OPTIONAL),
	XP_SYM("xc_domain_maximum_gpfn", domain_maximum_gpfn, XP_SYM_OPTIONAL),
};

/* Newest first; "libxenctrl.so" (the development symlink) is tried before
 * these. Xen 4.1's library is libxenctrl.so.4.0 and is not supported. */
static const char *const xp_xenctrl_sonames[] = {
	"libxenctrl.so.4.22", "libxenctrl.so.4.21", "libxenctrl.so.4.20",
	"libxenctrl.so.4.19", "libxenctrl.so.4.18", "libxenctrl.so.4.17",
	"libxenctrl.so.4.16", "libxenctrl.so.4.15", "libxenctrl.so.4.14",
	"libxenctrl.so.4.13", "libxenctrl.so.4.12", "libxenctrl.so.4.11",
	"libxenctrl.so.4.10", "libxenctrl.so.4.9", "libxenctrl.so.4.8",
	"libxenctrl.so.4.7", "libxenctrl.so.4.6", "libxenctrl.so.4.5",
	"libxenctrl.so.4.4", "libxenctrl.so.4.3", "libxenctrl.so.4.2",
};

static void *xp_sym_slot(struct xp_xenctrl *x, size_t off)
{
	return (char *)x + off;
}

int xp_xenctrl_load(const char *path, struct xp_xenctrl *out, char *why,
		    size_t whylen)
{
	struct xp_xenctrl x;
	int have_hvm = 0, have_dominfo = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	if (why && whylen)
		why[0] = '\0';

	dlerror();
	x.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!x.dl) {
		const char *e = dlerror();

		if (why && whylen)
			snprintf(why, whylen, "%s", e ? e : path);
		return -ENOENT;
	}
	snprintf(x.path, sizeof(x.path), "%s", path);

	for (i = 0; i < sizeof(xp_xenctrl_syms) / sizeof(xp_xenctrl_syms[0]);
	     i++) {
		const struct xp_xenctrl_sym *s = &xp_xenctrl_syms[i];
		void *p = dlsym(x.dl, s->name);

		if (!p && s->kind == XP_SYM_REQUIRED) {
			if (why && whylen)
				snprintf(why, whylen,
					 "%s lacks %s, which every Xen release since 4.2 has",
					 path, s->name);
			dlclose(x.dl);
			return -ELIBBAD;
		}
		memcpy(xp_sym_slot(&x, s->off), &p, sizeof(p));
		if (p && s->kind == XP_SYM_HVM_PARAM)
			have_hvm = 1;
		if (p && s->kind == XP_SYM_DOMINFO)
			have_dominfo = 1;
	}
	if (!have_hvm || !have_dominfo) {
		if (why && whylen)
			snprintf(why, whylen, "%s lacks %s", path,
				 !have_hvm ? "both xc_hvm_param_get and xc_get_hvm_param"
					   : "both xc_domain_getinfo_single and xc_domain_getinfolist");
		dlclose(x.dl);
		return -ELIBBAD;
	}
	*out = x;
	return 0;
}

int xp_xenctrl_find(struct xp_xenctrl *out, char *why, size_t whylen)
{
	const char *env = secure_getenv("XPAGE_XENCTRL");
	char first_bad[256] = "";
	int rc;
	size_t i;

	if (env && env[0])
		return xp_xenctrl_load(env, out, why, whylen);

	rc = xp_xenctrl_load("libxenctrl.so", out, first_bad,
			     sizeof(first_bad));
	if (rc == 0)
		return 0;
	if (rc != -ELIBBAD)
		first_bad[0] = '\0';
	for (i = 0; i < sizeof(xp_xenctrl_sonames) / sizeof(xp_xenctrl_sonames[0]);
	     i++) {
		char tmp[256];

		rc = xp_xenctrl_load(xp_xenctrl_sonames[i], out, tmp,
				     sizeof(tmp));
		if (rc == 0)
			return 0;
		if (rc == -ELIBBAD && !first_bad[0])
			snprintf(first_bad, sizeof(first_bad), "%s", tmp);
	}
	if (first_bad[0]) {
		if (why && whylen)
			snprintf(why, whylen, "%s", first_bad);
		return -ELIBBAD;
	}
	if (why && whylen)
		snprintf(why, whylen,
			 "no libxenctrl found (tried libxenctrl.so and libxenctrl.so.4.22 .. 4.2)");
	return -ENOENT;
}

void xp_xenctrl_unload(struct xp_xenctrl *x)
{
	if (x->dl)
		dlclose(x->dl);
	memset(x, 0, sizeof(*x));
}

/* ------------------------------------------------------------------------ */
/* The linked tool libraries, replaceable by tests                          */

static int xp_real_xen_present(void)
{
	return access("/dev/xen/privcmd", F_OK) == 0 ||
	       access("/proc/xen/capabilities", F_OK) == 0;
}

static const struct xp_xen_sys xp_xen_real_sys = {
	.xen_present = xp_real_xen_present,
	.evtchn_open = xenevtchn_open,
	.evtchn_close = xenevtchn_close,
	.evtchn_fd = xenevtchn_fd,
	.evtchn_notify = xenevtchn_notify,
	.evtchn_bind_interdomain = xenevtchn_bind_interdomain,
	.evtchn_unbind = xenevtchn_unbind,
	.evtchn_pending = xenevtchn_pending,
	.evtchn_unmask = xenevtchn_unmask,
	.fmem_open = xenforeignmemory_open,
	.fmem_close = xenforeignmemory_close,
	.fmem_map = xenforeignmemory_map,
	.fmem_unmap = xenforeignmemory_unmap,
	.call_open = xencall_open,
	.call_close = xencall_close,
	.call_alloc_buffer = xencall_alloc_buffer,
	.call_free_buffer = xencall_free_buffer,
	.call2 = xencall2,
};

static const struct xp_xen_sys *xp_xen_sys = &xp_xen_real_sys;

void xp_xen_set_sys(const struct xp_xen_sys *sys)
{
	xp_xen_sys = sys ? sys : &xp_xen_real_sys;
}

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */

/* A xentoollog logger handed to libxenctrl and the stable libraries, so
 * their messages reach the core's log function instead of stderr (with a
 * NULL logger they would create a stderr logger of their own). */
struct xp_tl_logger {
	xentoollog_logger base; /* first: the libraries see only this */
	xp_backend_log_fn log;
	void *ctx;
};

static void xp_tl_vmessage(xentoollog_logger *logger, xentoollog_level level,
			   int errnoval, const char *context,
			   const char *format, va_list al)
{
	struct xp_tl_logger *tl = (struct xp_tl_logger *)logger;
	char msg[400];
	char ebuf[128];
	int lvl;

	if (!tl->log)
		return;
	/* Tool-library errors are often expected (a failed first map of the
	 * ring gfn); the backend logs its own decisions at ERROR. */
	if (level >= XTL_ERROR)
		lvl = XPAGE_LOG_WARN;
	else if (level >= XTL_INFO)
		lvl = XPAGE_LOG_INFO;
	else
		lvl = XPAGE_LOG_DEBUG;
	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0)
		tl->log(tl->ctx, lvl, "xen %s: %s: %s", context ? context : "tools",
			msg, strerror_r(errnoval, ebuf, sizeof(ebuf)));
	else
		tl->log(tl->ctx, lvl, "xen %s: %s", context ? context : "tools",
			msg);
}

static void xp_tl_progress(xentoollog_logger *logger, const char *context,
			   const char *doing_what, int percent,
			   unsigned long done, unsigned long total)
{
	(void)logger, (void)context, (void)doing_what, (void)percent;
	(void)done, (void)total;
}

static void xp_tl_destroy(xentoollog_logger *logger)
{
	(void)logger; /* embedded in the handle; never freed by the libraries */
}

/* ------------------------------------------------------------------------ */
/* The handle                                                               */

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

	/* Set by enable, cleared by disable/forget. */
	void *ring;
	uint64_t ring_gfn;
	xenevtchn_handle *xce;
	evtchn_port_t remote_port;
	evtchn_port_t local_port;

	/* Page-aligned copy for xc_mem_paging_load, which refuses (EINVAL) an
	 * unaligned buffer up to at least Xen 4.12. */
	void *bounce;

	/* Multicall (only with XPAGE_XEN_MULTICALL=1). */
	int multicall;
	xencall_handle *xcall;
	struct xp_xen_multicall_entry *mc;
	struct xp_xen_mem_paging_op *mc_ops;
	unsigned char *mc_pages; /* XP_XEN_MULTICALL_MAX prep buffers */
};

#define XLOG(be, lvl, ...)                                            \
	do {                                                          \
		if ((be)->log)                                        \
			(be)->log((be)->log_ctx, (lvl), __VA_ARGS__); \
	} while (0)

/* -errno after a failed libxen* call. Xen 4.2's xc_mem_paging_load sets
 * errno = -EINVAL; a call that fails without errno becomes -EIO. */
static int xp_neg_errno(void)
{
	int e = errno;

	if (e < 0)
		e = -e;
	return e ? -e : -EIO;
}

static int xp_call_rc(int rc)
{
	return rc < 0 ? xp_neg_errno() : 0;
}

/* Number of gfns: xc_domain_nr_gpfns (4.6+) gives maximum gpfn + 1. On
 * 4.2 - 4.5 xc_domain_maximum_gpfn(xch, domid) returns the gpfn; it is
 * called through a three-argument pointer, harmless on the SysV ABI (the
 * extra register is ignored), and a 4.6+ library that lacked nr_gpfns
 * would store the value through the third argument and return 0 instead:
 * the sentinel tells the two apart. Falls back to max_pages. */
static uint64_t xp_xen_nr_gfns(struct xp_backend *be, uint64_t max_pages)
{
	uint64_t n = 0;

	if (be->xc.domain_nr_gpfns) {
		if (be->xc.domain_nr_gpfns(be->xch, be->domid, &n) == 0 && n)
			return n;
	} else if (be->xc.domain_maximum_gpfn) {
		uint64_t out = UINT64_MAX;
		int rc = be->xc.domain_maximum_gpfn(be->xch, be->domid, &out);

		if (rc > 0 || (rc == 0 && out == UINT64_MAX))
			return (uint64_t)rc + 1;
		if (rc == 0)
			return out + 1;
	}
	XLOG(be, XPAGE_LOG_DEBUG,
	     "xen: no maximum gpfn for domain %u; using max_pages %llu",
	     be->domid, (unsigned long long)max_pages);
	return max_pages;
}

static int xp_xen_read_dominfo(struct xp_backend *be, struct xp_dominfo *info)
{
	union {
		unsigned char b[XP_XEN_DOMINFO_BUF];
		uint64_t align;
	} buf;
	uint16_t dom;
	uint32_t flags, max_vcpu_id;
	uint64_t max_pages;

	memset(&buf, 0, sizeof(buf));
	if (be->xc.domain_getinfo_single) {
		if (be->xc.domain_getinfo_single(be->xch, be->domid, buf.b) < 0)
			return xp_neg_errno();
	} else {
		/* Lists domains from domid upwards: check it is this one. */
		int rc = be->xc.domain_getinfolist(be->xch, be->domid, 1, buf.b);

		if (rc < 0)
			return xp_neg_errno();
		if (rc == 0)
			return -ESRCH;
	}
	memcpy(&dom, buf.b + XP_DOMINFO_OFF_DOMAIN, sizeof(dom));
	if (dom != be->domid)
		return -ESRCH;
	memcpy(&flags, buf.b + XP_DOMINFO_OFF_FLAGS, sizeof(flags));
	memcpy(&max_pages, buf.b + XP_DOMINFO_OFF_MAX_PAGES, sizeof(max_pages));
	memcpy(&max_vcpu_id, buf.b + be->vcpu_off, sizeof(max_vcpu_id));

	if (info) {
		memset(info, 0, sizeof(*info));
		info->domid = be->domid;
		info->vcpus = max_vcpu_id + 1;
		info->hvm = !!(flags & XP_DOMINF_hvm_guest);
		info->paused = !!(flags & XP_DOMINF_paused);
		info->dying = !!(flags & (XP_DOMINF_dying | XP_DOMINF_shutdown));
		info->nr_gfns = xp_xen_nr_gfns(be, max_pages);
	}
	return 0;
}

static void xp_xen_free_mc(struct xp_backend *be)
{
	if (!be->xcall)
		return;
	if (be->mc)
		be->sys->call_free_buffer(be->xcall, be->mc);
	if (be->mc_ops)
		be->sys->call_free_buffer(be->xcall, be->mc_ops);
	if (be->mc_pages)
		be->sys->call_free_buffer(be->xcall, be->mc_pages);
	be->mc = NULL;
	be->mc_ops = NULL;
	be->mc_pages = NULL;
}

/* Unbind and unmap what enable set up; leaves paging as it is. */
static void xp_xen_release_ring(struct xp_backend *be)
{
	if (be->xce) {
		if (be->sys->evtchn_unbind(be->xce, be->local_port) < 0)
			XLOG(be, XPAGE_LOG_WARN,
			     "xen: unbinding event channel port %u: %s",
			     be->local_port, strerror(errno));
		be->sys->evtchn_close(be->xce);
		be->xce = NULL;
	}
	if (be->ring) {
		be->sys->fmem_unmap(be->fmem, be->ring, 1);
		be->ring = NULL;
	}
	be->local_port = be->remote_port = 0;
	be->ring_gfn = 0;
}

static void xp_xen_close(struct xp_backend *be)
{
	if (!be)
		return;
	xp_xen_release_ring(be);
	xp_xen_free_mc(be);
	if (be->xcall)
		be->sys->call_close(be->xcall);
	if (be->fmem)
		be->sys->fmem_close(be->fmem);
	if (be->xch)
		be->xc.interface_close(be->xch);
	xp_xenctrl_unload(&be->xc);
	free(be->bounce);
	free(be);
}

static int xp_xen_open(struct xp_backend **out, uint32_t domid,
		       const char *arg, xp_backend_log_fn log, void *log_ctx)
{
	const struct xp_xen_sys *sys = xp_xen_sys;
	struct xp_backend *be;
	char why[320];
	const char *mc_env;
	int rc, ver;

	(void)arg;
	*out = NULL;
	if (!sys->xen_present()) {
		if (log)
			log(log_ctx, XPAGE_LOG_DEBUG,
			    "xen: this machine runs no Xen (no /dev/xen/privcmd, no /proc/xen/capabilities)");
		return -ENOENT;
	}

	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->sys = sys;
	be->domid = domid;
	be->log = log;
	be->log_ctx = log_ctx;
	be->tl.base.vmessage = xp_tl_vmessage;
	be->tl.base.progress = xp_tl_progress;
	be->tl.base.destroy = xp_tl_destroy;
	be->tl.log = log;
	be->tl.ctx = log_ctx;

	rc = xp_xenctrl_find(&be->xc, why, sizeof(why));
	if (rc < 0) {
		XLOG(be, XPAGE_LOG_ERROR, "xen: %s", why);
		goto fail;
	}
	XLOG(be, XPAGE_LOG_DEBUG, "xen: loaded %s", be->xc.path);

	be->xch = be->xc.interface_open(&be->tl.base, &be->tl.base, 0);
	if (!be->xch) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xc_interface_open: %s",
		     strerror(-rc));
		if (rc != -EACCES && rc != -EPERM)
			rc = -ENOENT;
		goto fail;
	}

	ver = be->xc.version(be->xch, XP_XENVER_version, NULL);
	if (ver < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xc_version: %s", strerror(-rc));
		goto fail;
	}
	be->major = (uint32_t)ver >> 16;
	be->minor = (uint32_t)ver & 0xffff;
	if (be->major < 4 || (be->major == 4 && be->minor < 2)) {
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: Xen %u.%u predates the Xen 4.2 paging interface",
		     be->major, be->minor);
		rc = -EOPNOTSUPP;
		goto fail;
	}
	be->vcpu_off = (be->major == 4 && be->minor == 2)
			       ? XP_DOMINFO_OFF_MAX_VCPU_ID_4_2
			       : XP_DOMINFO_OFF_MAX_VCPU_ID;

	rc = xp_xen_read_dominfo(be, NULL);
	if (rc < 0) {
		XLOG(be, XPAGE_LOG_ERROR, "xen: domain %u: %s", domid,
		     strerror(-rc));
		goto fail;
	}

	be->fmem = sys->fmem_open(&be->tl.base, 0);
	if (!be->fmem) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xenforeignmemory_open: %s",
		     strerror(-rc));
		goto fail;
	}

	/* Whether a multicall returns each paging op's own result is still to
	 * be confirmed on a real Xen: opt in only. */
	mc_env = getenv("XPAGE_XEN_MULTICALL");
	if (mc_env && strcmp(mc_env, "1") == 0) {
		be->xcall = sys->call_open(&be->tl.base, 0);
		if (be->xcall)
			be->multicall = 1;
		else
			XLOG(be, XPAGE_LOG_WARN,
			     "xen: xencall_open: %s; one trap per paging op",
			     strerror(errno));
	}

	XLOG(be, XPAGE_LOG_INFO, "xen: Xen %u.%u, domain %u, libxenctrl %s%s",
	     be->major, be->minor, domid, be->xc.path,
	     be->multicall ? ", multicall" : "");
	*out = be;
	return 0;

fail:
	xp_xen_close(be);
	return rc;
}

static int xp_xen_domain_info(struct xp_backend *be, struct xp_dominfo *info)
{
	return xp_xen_read_dominfo(be, info);
}

static int xp_xen_version(struct xp_backend *be, uint32_t *major,
			  uint32_t *minor)
{
	*major = be->major;
	*minor = be->minor;
	return 0;
}

static int xp_xen_vm_event_version(struct xp_backend *be, uint32_t *version)
{
	int v;

	if (!be->xc.vm_event_get_version)
		return -ENOSYS;
	v = be->xc.vm_event_get_version(be->xch);
	if (v < 0)
		return xp_neg_errno();
	*version = (uint32_t)v;
	return 0;
}

static int xp_xen_paging_age(struct xp_backend *be, uint32_t *age)
{
	(void)be, (void)age;
	return -ENOSYS; /* no upstream Xen reports an age */
}

static int xp_xen_can_multicall(struct xp_backend *be)
{
	return be->multicall;
}

static int xp_xen_ring_gfn(struct xp_backend *be, uint64_t *gfn)
{
	if (be->xc.hvm_param_get) {
		uint64_t v = 0;

		if (be->xc.hvm_param_get(be->xch, be->domid,
					 XP_HVM_PARAM_PAGING_RING_PFN, &v) < 0)
			return xp_neg_errno();
		*gfn = v;
	} else {
		unsigned long v = 0;

		if (be->xc.get_hvm_param(be->xch, be->domid,
					 XP_HVM_PARAM_PAGING_RING_PFN, &v) < 0)
			return xp_neg_errno();
		*gfn = v;
	}
	return 0;
}

/* Map the ring gfn read/write; NULL with *rc on failure. */
static void *xp_xen_map_ring(struct xp_backend *be, uint64_t gfn, int *rc)
{
	xen_pfn_t pfn = gfn;
	int err = 0;
	void *p;

	errno = 0;
	p = be->sys->fmem_map(be->fmem, be->domid, PROT_READ | PROT_WRITE, 1,
			      &pfn, &err);
	if (!p) {
		*rc = xp_neg_errno();
		return NULL;
	}
	if (err) {
		be->sys->fmem_unmap(be->fmem, p, 1);
		*rc = err < 0 ? err : -err;
		return NULL;
	}
	return p;
}

static const char *xp_xen_enable_reason(int err)
{
	switch (err) {
	case EBUSY:
		return "a paging ring is already enabled (a pager is active, or one died: take over)";
	case ENODEV:
		return "no hardware-assisted paging (EPT/NPT) for this domain";
	case EMLINK:
		return "the domain uses an IOMMU or device passthrough";
	case EXDEV:
		return "the domain is populate-on-demand";
	case EOPNOTSUPP:
		return "Xen refuses paging (no ring gfn, or dom0 is PVH)";
	case ENOSYS:
		return "the hypervisor was built without CONFIG_MEM_PAGING";
	case EINVAL:
		return "the domain has no vCPUs, or is the caller's own";
	default:
		return strerror(err);
	}
}

/*
 * The Xen 4.2+ sequence (the order of xenpaging_init): ring gfn from
 * HVM_PARAM_PAGING_RING_PFN; map it (populating it first if the map
 * fails); xc_mem_paging_enable; bind the event channel; remove the gfn from
 * the guest physmap so the guest can never write the ring. Any failure
 * undoes what was done (disable, unbind, unmap, and remove a gfn this call
 * populated). The ring header is NOT initialised: the hypervisor's enable
 * did that, and requests may already be posted.
 */
static int xp_xen_enable(struct xp_backend *be, uint32_t age, void **ring)
{
	const struct xp_xen_sys *sys = be->sys;
	xenevtchn_handle *xce = NULL;
	xenevtchn_port_or_error_t lport = -1;
	uint32_t port = 0;
	uint64_t gfn = 0;
	xen_pfn_t pfn;
	int populated = 0, enabled = 0;
	void *page;
	int rc;

	if (be->ring)
		return -EALREADY;
	if (age)
		XLOG(be, XPAGE_LOG_DEBUG,
		     "xen: Xen has no paging age; age %u not declared", age);

	rc = xp_xen_ring_gfn(be, &gfn);
	if (rc < 0) {
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: reading HVM_PARAM_PAGING_RING_PFN of domain %u: %s",
		     be->domid, strerror(-rc));
		return rc;
	}
	if (gfn == 0) {
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: domain %u has no paging ring gfn (HVM_PARAM_PAGING_RING_PFN is 0)",
		     be->domid);
		return -EOPNOTSUPP;
	}

	page = xp_xen_map_ring(be, gfn, &rc);
	if (!page) {
		XLOG(be, XPAGE_LOG_DEBUG,
		     "xen: ring gfn %#llx not mapped (%s); populating it",
		     (unsigned long long)gfn, strerror(-rc));
		pfn = gfn;
		if (be->xc.domain_populate_physmap_exact(be->xch, be->domid, 1,
							 0, 0, &pfn) < 0) {
			rc = xp_neg_errno();
			XLOG(be, XPAGE_LOG_ERROR,
			     "xen: populating ring gfn %#llx of domain %u: %s",
			     (unsigned long long)gfn, be->domid, strerror(-rc));
			return rc;
		}
		populated = 1;
		page = xp_xen_map_ring(be, gfn, &rc);
		if (!page) {
			XLOG(be, XPAGE_LOG_ERROR,
			     "xen: mapping ring gfn %#llx of domain %u: %s",
			     (unsigned long long)gfn, be->domid, strerror(-rc));
			goto undo;
		}
	}

	if (be->xc.mem_paging_enable(be->xch, be->domid, &port) < 0) {
		rc = xp_neg_errno();
		/* EBUSY is the caller's to judge (a takeover, or its error) */
		XLOG(be, rc == -EBUSY ? XPAGE_LOG_INFO : XPAGE_LOG_ERROR,
		     "xen: enabling paging on domain %u: %s",
		     be->domid, xp_xen_enable_reason(-rc));
		goto undo;
	}
	enabled = 1;

	xce = sys->evtchn_open(&be->tl.base, 0);
	if (!xce) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xenevtchn_open: %s",
		     strerror(-rc));
		goto undo;
	}
	lport = sys->evtchn_bind_interdomain(xce, be->domid, port);
	if (lport < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: binding event channel %u of domain %u: %s", port,
		     be->domid, strerror(-rc));
		goto undo;
	}

	pfn = gfn;
	if (be->xc.domain_decrease_reservation_exact(be->xch, be->domid, 1, 0,
						     &pfn) < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: removing ring gfn %#llx from domain %u's physmap: %s; "
		     "paging not enabled (the guest could write the ring)",
		     (unsigned long long)gfn, be->domid, strerror(-rc));
		populated = 0; /* it is still there: nothing more to remove */
		goto undo;
	}

	be->ring = page;
	be->ring_gfn = gfn;
	be->xce = xce;
	be->remote_port = port;
	be->local_port = (evtchn_port_t)lport;
	*ring = page;
	XLOG(be, XPAGE_LOG_DEBUG,
	     "xen: paging enabled on domain %u: ring gfn %#llx, port %u (local %u)",
	     be->domid, (unsigned long long)gfn, port, (unsigned)lport);
	return 0;

undo:
	if (enabled && be->xc.mem_paging_disable(be->xch, be->domid) < 0)
		XLOG(be, XPAGE_LOG_WARN,
		     "xen: disabling paging on domain %u after a failed enable: %s",
		     be->domid, strerror(errno));
	if (xce) {
		if (lport >= 0)
			sys->evtchn_unbind(xce, (evtchn_port_t)lport);
		sys->evtchn_close(xce);
	}
	if (page)
		sys->fmem_unmap(be->fmem, page, 1);
	if (populated) {
		pfn = gfn;
		if (be->xc.domain_decrease_reservation_exact(be->xch, be->domid,
							     1, 0, &pfn) < 0)
			XLOG(be, XPAGE_LOG_WARN,
			     "xen: removing the ring gfn populated for a failed enable: %s",
			     strerror(errno));
	}
	return rc;
}

/* Disable paging first; only when Xen agreed are the event channel and the
 * mapping released (on failure, e.g. EBUSY while vCPUs wait for ring space,
 * the ring stays usable and the caller may retry or forget). Also used
 * without a ring of this handle, to disable a dead pager's ring. */
static int xp_xen_disable(struct xp_backend *be)
{
	if (be->xc.mem_paging_disable(be->xch, be->domid) < 0) {
		int rc = xp_neg_errno();

		XLOG(be, XPAGE_LOG_ERROR, "xen: disabling paging on domain %u: %s",
		     be->domid, strerror(-rc));
		return rc;
	}
	xp_xen_release_ring(be);
	return 0;
}

static void xp_xen_forget(struct xp_backend *be)
{
	xp_xen_release_ring(be);
}

static int xp_xen_pause(struct xp_backend *be)
{
	return xp_call_rc(be->xc.domain_pause(be->xch, be->domid));
}

static int xp_xen_unpause(struct xp_backend *be)
{
	return xp_call_rc(be->xc.domain_unpause(be->xch, be->domid));
}

/* A page-aligned pointer to @buf's contents for xc_mem_paging_load. */
static void *xp_xen_aligned(struct xp_backend *be, const void *buf)
{
	if (((uintptr_t)buf & (XP_XEN_PAGE_SIZE - 1)) == 0)
		return (void *)(uintptr_t)buf; /* libxenctrl only reads it */
	if (!be->bounce &&
	    posix_memalign(&be->bounce, XP_XEN_PAGE_SIZE, XP_XEN_PAGE_SIZE)) {
		be->bounce = NULL;
		return NULL;
	}
	memcpy(be->bounce, buf, XP_XEN_PAGE_SIZE);
	return be->bounce;
}

/* One trap per operation. Returns the number of traps. */
static int xp_xen_ops_loop(struct xp_backend *be, struct xp_paging_op *ops,
			   size_t n)
{
	int traps = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct xp_paging_op *op = &ops[i];
		int r;

		errno = 0;
		switch (op->op) {
		case XP_PAGING_NOMINATE:
			r = be->xc.mem_paging_nominate(be->xch, be->domid, op->gfn);
			break;
		case XP_PAGING_EVICT:
			r = be->xc.mem_paging_evict(be->xch, be->domid, op->gfn);
			break;
		case XP_PAGING_PREP:
			if (op->buf) {
				void *b = xp_xen_aligned(be, op->buf);

				if (!b) {
					op->rc = -ENOMEM;
					continue;
				}
				r = be->xc.mem_paging_load(be->xch, be->domid,
							   op->gfn, b);
			} else if (be->xc.mem_paging_prep) {
				r = be->xc.mem_paging_prep(be->xch, be->domid,
							   op->gfn);
			} else {
				op->rc = -EOPNOTSUPP;
				continue;
			}
			break;
		default:
			op->rc = -EINVAL;
			continue;
		}
		traps++;
		op->rc = xp_call_rc(r);
	}
	return traps;
}

static int xp_xen_mc_alloc(struct xp_backend *be, int want_pages)
{
	const struct xp_xen_sys *sys = be->sys;

	if (!be->mc) {
		be->mc = sys->call_alloc_buffer(be->xcall,
			XP_XEN_MULTICALL_MAX * sizeof(*be->mc));
		if (!be->mc)
			return -ENOMEM;
	}
	if (!be->mc_ops) {
		be->mc_ops = sys->call_alloc_buffer(be->xcall,
			XP_XEN_MULTICALL_MAX * sizeof(*be->mc_ops));
		if (!be->mc_ops)
			return -ENOMEM;
	}
	if (want_pages && !be->mc_pages) {
		be->mc_pages = sys->call_alloc_buffer(be->xcall,
			(size_t)XP_XEN_MULTICALL_MAX * XP_XEN_PAGE_SIZE);
		if (!be->mc_pages)
			return -ENOMEM;
	}
	return 0;
}

/* One __HYPERVISOR_multicall for up to XP_XEN_MULTICALL_MAX operations:
 * each entry is memory_op(XENMEM_paging_op, &its xen_mem_paging_op), all
 * in libxencall's hypercall-safe memory (prep data copied there too).
 * Returns 1 (traps), 0 if nothing needed a trap, or -errno if the
 * multicall itself failed (the chunk's rc are then set to it). */
static int xp_xen_mc_chunk(struct xp_backend *be, struct xp_paging_op *ops,
			   size_t n)
{
	uint16_t idx[XP_XEN_MULTICALL_MAX];
	int want_pages = 0, rc;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (ops[i].op == XP_PAGING_PREP && ops[i].buf)
			want_pages = 1;
	rc = xp_xen_mc_alloc(be, want_pages);
	if (rc < 0) {
		for (i = 0; i < n; i++)
			ops[i].rc = rc;
		return rc;
	}

	for (i = 0; i < n; i++) {
		struct xp_paging_op *op = &ops[i];
		struct xp_xen_mem_paging_op *mpo = &be->mc_ops[k];
		struct xp_xen_multicall_entry *e = &be->mc[k];

		if (op->op != XP_PAGING_NOMINATE && op->op != XP_PAGING_EVICT &&
		    op->op != XP_PAGING_PREP) {
			op->rc = -EINVAL;
			continue;
		}
		memset(mpo, 0, sizeof(*mpo));
		mpo->op = (uint8_t)op->op;
		mpo->domain = (uint16_t)be->domid;
		mpo->gfn = op->gfn;
		if (op->op == XP_PAGING_PREP && op->buf) {
			unsigned char *page = be->mc_pages + k * XP_XEN_PAGE_SIZE;

			memcpy(page, op->buf, XP_XEN_PAGE_SIZE);
			mpo->buffer = (uint64_t)(uintptr_t)page;
		}
		memset(e, 0, sizeof(*e));
		e->op = XP_XEN_HYPERVISOR_memory_op;
		e->args[0] = XP_XEN_XENMEM_paging_op;
		e->args[1] = (uint64_t)(uintptr_t)mpo;
		idx[k++] = (uint16_t)i;
	}
	if (k == 0)
		return 0;

	errno = 0;
	if (be->sys->call2(be->xcall, XP_XEN_HYPERVISOR_multicall,
			   (uint64_t)(uintptr_t)be->mc, k) < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: multicall of %zu paging ops: %s",
		     k, strerror(-rc));
		for (i = 0; i < k; i++)
			ops[idx[i]].rc = rc;
		return rc;
	}
	for (i = 0; i < k; i++) {
		long res = (long)be->mc[i].result;

		ops[idx[i]].rc = res < 0 ? (int)res : 0;
	}
	return 1;
}

static int xp_xen_paging_ops(struct xp_backend *be, struct xp_paging_op *ops,
			     size_t n)
{
	int traps = 0;
	size_t done;

	if (!be->multicall)
		return xp_xen_ops_loop(be, ops, n);

	for (done = 0; done < n;) {
		size_t chunk = n - done;
		int rc;

		if (chunk > XP_XEN_MULTICALL_MAX)
			chunk = XP_XEN_MULTICALL_MAX;
		rc = xp_xen_mc_chunk(be, ops + done, chunk);
		if (rc < 0) {
			if (done == 0) {
				/* Nothing issued: the whole batch failed. */
				size_t i;

				for (i = chunk; i < n; i++)
					ops[i].rc = rc;
				return rc;
			}
			rc = 1; /* later chunk: its ops carry the error */
		}
		traps += rc;
		done += chunk;
	}
	return traps;
}

/*
 * One xenforeignmemory_map call for the whole batch. Note for callers:
 * on Linux, libxenforeignmemory itself retries (usleep(100) loop) every
 * gfn the kernel reports ENOENT for (a gfn in a paging state) until the
 * page is back, so mapping a gfn the pager has evicted does not return
 * -ENOENT but waits for its page-in -- which this same thread would have
 * to serve. The -ENOENT of the contract can only be seen on systems whose
 * library does not retry.
 */
static void *xp_xen_map(struct xp_backend *be, const uint64_t *gfns, size_t n,
			int prot, int *err)
{
	void *addr;
	size_t i;

	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	/* uint64_t and xen_pfn_t are the same size (asserted above). */
	addr = be->sys->fmem_map(be->fmem, be->domid, prot, n,
				 (const xen_pfn_t *)gfns, err);
	if (!addr) {
		if (!errno)
			errno = EIO;
		return NULL;
	}
	if (err)
		for (i = 0; i < n; i++)
			if (err[i] > 0) /* Linux gives -errno, the doc errno */
				err[i] = -err[i];
	return addr;
}

static int xp_xen_unmap(struct xp_backend *be, void *addr, size_t n)
{
	return xp_call_rc(be->sys->fmem_unmap(be->fmem, addr, n));
}

static int xp_xen_evtchn_fd(struct xp_backend *be)
{
	int fd;

	if (!be->xce)
		return -EBADF;
	fd = be->sys->evtchn_fd(be->xce);
	return fd < 0 ? xp_neg_errno() : fd;
}

static int xp_xen_notify(struct xp_backend *be)
{
	if (!be->xce)
		return -EBADF;
	return xp_call_rc(be->sys->evtchn_notify(be->xce, be->local_port));
}

/* Consume one pending notification and unmask the port. Never blocks:
 * xenevtchn_pending reads the (blocking) evtchn fd, so poll it first. */
static int xp_xen_ack(struct xp_backend *be)
{
	struct pollfd pfd;
	xenevtchn_port_or_error_t port;
	int r;

	if (!be->xce)
		return -EBADF;
	pfd.fd = be->sys->evtchn_fd(be->xce);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return xp_neg_errno();
	r = poll(&pfd, 1, 0);
	if (r < 0)
		return xp_neg_errno();
	if (r == 0 || !(pfd.revents & POLLIN))
		return 0;
	port = be->sys->evtchn_pending(be->xce);
	if (port < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return xp_neg_errno();
	}
	return xp_call_rc(be->sys->evtchn_unmask(be->xce, (evtchn_port_t)port));
}

static const struct xp_backend_ops xp_backend_xen = {
	.name = "xen",
	.open = xp_xen_open,
	.close = xp_xen_close,
	.domain_info = xp_xen_domain_info,
	.xen_version = xp_xen_version,
	.vm_event_version = xp_xen_vm_event_version,
	.paging_age = xp_xen_paging_age,
	.can_multicall = xp_xen_can_multicall,
	.enable = xp_xen_enable,
	.disable = xp_xen_disable,
	.forget = xp_xen_forget,
	.pause = xp_xen_pause,
	.unpause = xp_xen_unpause,
	.paging_ops = xp_xen_paging_ops,
	.map = xp_xen_map,
	.unmap = xp_xen_unmap,
	.evtchn_fd = xp_xen_evtchn_fd,
	.notify = xp_xen_notify,
	.ack = xp_xen_ack,
};

const struct xp_backend_ops *const xp_backend_xen_ops = &xp_backend_xen;
