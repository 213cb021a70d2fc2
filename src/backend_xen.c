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
 *
 * The other concerns of the backend have files of their own (see
 * xen_backend.h): the libxenctrl loader, release layouts, paging ops and
 * gfn mapping.
 */
#include "xen_backend.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Constants of Xen's public interface, stable since 4.2. */
#define XP_HVM_PARAM_PAGING_RING_PFN 27
#define XP_XENVER_version            0

_Static_assert(HVM_PARAM_PAGING_RING_PFN == XP_HVM_PARAM_PAGING_RING_PFN,
	       "HVM_PARAM_PAGING_RING_PFN");
_Static_assert(XENVER_version == XP_XENVER_version, "XENVER_version");

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
	.privcmd_open = xp_xen_privcmd_open,
	.privcmd_mmap = xp_xen_privcmd_mmap,
	.privcmd_mmapbatch = xp_xen_privcmd_mmapbatch,
	.privcmd_munmap = munmap,
};

static const struct xp_xen_sys *xp_xen_sys = &xp_xen_real_sys;

void xp_xen_set_sys(const struct xp_xen_sys *sys)
{
	xp_xen_sys = sys ? sys : &xp_xen_real_sys;
}

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */

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

void xp_xen_tl_init(struct xp_tl_logger *tl, xp_backend_log_fn log,
		    void *ctx)
{
	tl->base.vmessage = xp_tl_vmessage;
	tl->base.progress = xp_tl_progress;
	tl->base.destroy = xp_tl_destroy;
	tl->log = log;
	tl->ctx = ctx;
}

int xp_xen_present(void)
{
	return xp_xen_sys->xen_present();
}

/* ------------------------------------------------------------------------ */
/* The handle                                                               */

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
	xp_xen_batching_close(be);
	xp_xen_map_close(be);
	xp_xen_walk_close(be);
	xp_xen_ram_close(be);
	if (be->fmem)
		be->sys->fmem_close(be->fmem);
	if (be->xch)
		be->xc.interface_close(be->xch);
	xp_xenctrl_unload(&be->xc);
	free(be);
}

/* libxenctrl loaded and opened, the hypervisor's release known. */
static int xp_xen_attach(struct xp_backend *be)
{
	char why[320];
	int rc, ver;

	rc = xp_xenctrl_find(&be->xc, why, sizeof(why));
	if (rc < 0) {
		XLOG(be, XPAGE_LOG_ERROR, "xen: %s", why);
		return rc;
	}
	XLOG(be, XPAGE_LOG_DEBUG, "xen: loaded %s", be->xc.path);
	be->xch = be->xc.interface_open(&be->tl.base, &be->tl.base, 0);
	if (!be->xch) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xc_interface_open: %s",
		     strerror(-rc));
		return rc == -EACCES || rc == -EPERM ? rc : -ENOENT;
	}
	ver = be->xc.version(be->xch, XP_XENVER_version, NULL);
	if (ver < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xc_version: %s", strerror(-rc));
		return rc;
	}
	be->major = (uint32_t)ver >> 16;
	be->minor = (uint32_t)ver & 0xffff;
	if (be->major < 4 || (be->major == 4 && be->minor < 2)) {
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: Xen %u.%u predates the Xen 4.2 paging interface",
		     be->major, be->minor);
		return -EOPNOTSUPP;
	}
	be->vcpu_off = xp_xen_vcpu_off(be->major, be->minor);
	return 0;
}

static struct xp_backend *xp_xen_new(uint32_t domid, xp_backend_log_fn log,
				     void *log_ctx)
{
	struct xp_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return NULL;
	be->sys = xp_xen_sys;
	be->domid = domid;
	be->privcmd_fd = -1;
	be->log = log;
	be->log_ctx = log_ctx;
	xp_xen_tl_init(&be->tl, log, log_ctx);
	return be;
}

static int xp_xen_open(struct xp_backend **out, uint32_t domid,
		       const char *arg, xp_backend_log_fn log, void *log_ctx)
{
	struct xp_backend *be;
	int rc;

	(void)arg;
	*out = NULL;
	if (!xp_xen_sys->xen_present()) {
		if (log)
			log(log_ctx, XPAGE_LOG_DEBUG,
			    "xen: this machine runs no Xen (no /dev/xen/privcmd, no /proc/xen/capabilities)");
		return -ENOENT;
	}
	be = xp_xen_new(domid, log, log_ctx);
	if (!be)
		return -ENOMEM;
	rc = xp_xen_attach(be);
	if (rc == 0 && (rc = xp_xen_read_dominfo(be, NULL)) < 0)
		XLOG(be, XPAGE_LOG_ERROR, "xen: domain %u: %s", domid,
		     strerror(-rc));
	if (rc == 0 && !(be->fmem = be->sys->fmem_open(&be->tl.base, 0))) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xenforeignmemory_open: %s",
		     strerror(-rc));
	}
	if (rc < 0) {
		xp_xen_close(be);
		return rc;
	}
	xp_xen_map_open(be);
	xp_xen_batching_open(be);
	XLOG(be, XPAGE_LOG_INFO, "xen: Xen %u.%u, domain %u, libxenctrl %s, %s, "
	     "gfns mapped %s", be->major, be->minor, domid, be->xc.path,
	     be->batching == XP_XEN_MULTICALL ? "paging ops in multicalls"
					       : "one trap per paging op",
	     be->privcmd_fd >= 0 ? "through privcmd" : "through libxenforeignmemory");
	*out = be;
	return 0;
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
	return be->batching == XP_XEN_MULTICALL;
}

static const char *xp_xen_tool_library(struct xp_backend *be)
{
	return be->xc.path[0] ? be->xc.path : NULL;
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

/* Map the ring's gfn, populating it first when it has no frame (a dead
 * pager's ring gfn was taken out of the physmap). NULL with *@rc set on
 * failure; *@populated says whether this call populated the gfn, which
 * the caller must then remove again. */
static void *xp_xen_ring_page(struct xp_backend *be, uint64_t gfn,
			      int *populated, int *rc)
{
	xen_pfn_t pfn = gfn;
	void *page = xp_xen_map_ring(be, gfn, rc);

	*populated = 0;
	if (page)
		return page;
	XLOG(be, XPAGE_LOG_DEBUG, "xen: ring gfn %#llx not mapped (%s); "
	     "populating it", (unsigned long long)gfn, strerror(-*rc));
	if (be->xc.domain_populate_physmap_exact(be->xch, be->domid, 1, 0, 0,
						 &pfn) < 0) {
		*rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: populating ring gfn %#llx of domain %u: %s",
		     (unsigned long long)gfn, be->domid, strerror(-*rc));
		return NULL;
	}
	*populated = 1;
	page = xp_xen_map_ring(be, gfn, rc);
	if (!page)
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: mapping ring gfn %#llx of domain %u: %s",
		     (unsigned long long)gfn, be->domid, strerror(-*rc));
	return page;
}

/* Open an event channel handle and bind it to the ring's @port. On
 * failure whatever was opened stays in *@xce / *@lport for the caller's
 * undo. 0 or -errno. */
static int xp_xen_bind_port(struct xp_backend *be, uint32_t port,
			    xenevtchn_handle **xce,
			    xenevtchn_port_or_error_t *lport)
{
	const struct xp_xen_sys *sys = be->sys;
	int rc;

	*xce = sys->evtchn_open(&be->tl.base, 0);
	if (!*xce) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR, "xen: xenevtchn_open: %s",
		     strerror(-rc));
		return rc;
	}
	*lport = sys->evtchn_bind_interdomain(*xce, be->domid, port);
	if (*lport < 0) {
		rc = xp_neg_errno();
		XLOG(be, XPAGE_LOG_ERROR,
		     "xen: binding event channel %u of domain %u: %s", port,
		     be->domid, strerror(-rc));
		return rc;
	}
	return 0;
}

/* Take back what a failed enable did: disable paging if it was enabled,
 * release the event channel and the ring mapping, and remove the ring gfn
 * if the enable populated it (@populated_gfn, 0 if it did not). */
static void xp_xen_enable_undo(struct xp_backend *be, int enabled,
			       xenevtchn_handle *xce,
			       xenevtchn_port_or_error_t lport, void *page,
			       uint64_t populated_gfn)
{
	const struct xp_xen_sys *sys = be->sys;
	xen_pfn_t pfn = populated_gfn;

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
	if (populated_gfn &&
	    be->xc.domain_decrease_reservation_exact(be->xch, be->domid, 1, 0,
						     &pfn) < 0)
		XLOG(be, XPAGE_LOG_WARN,
		     "xen: removing the ring gfn populated for a failed enable: %s",
		     strerror(errno));
}

/*
 * The Xen 4.2+ sequence (the order of xenpaging_init): ring gfn from
 * HVM_PARAM_PAGING_RING_PFN; map it (populating it first if the map
 * fails); xc_mem_paging_enable; bind the event channel; remove the gfn from
 * the guest physmap so the guest can never write the ring. Any failure
 * undoes what was done (disable, unbind, unmap, and remove a gfn this call
 * populated). The ring's shared header is left as it is: Xen's enable
 * resets only its own private indexes, and the library initialises the
 * header while the domain is still paused (xp_ring_attach in handle.c).
 */
static int xp_xen_enable(struct xp_backend *be, uint32_t age, void **ring)
{
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

	page = xp_xen_ring_page(be, gfn, &populated, &rc);
	if (!page) {
		if (populated)
			goto undo;
		return rc;
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

	rc = xp_xen_bind_port(be, port, &xce, &lport);
	if (rc < 0)
		goto undo;

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
	xp_xen_enable_undo(be, enabled, xce, lport, page, populated ? gfn : 0);
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
	.tool_library = xp_xen_tool_library,
	.enable = xp_xen_enable,
	.disable = xp_xen_disable,
	.forget = xp_xen_forget,
	.pause = xp_xen_pause,
	.unpause = xp_xen_unpause,
	.paging_ops = xp_xen_paging_ops,
	.map = xp_xen_map,
	.unmap = xp_xen_unmap,
	.hv_gfns = xp_xen_hv_gfns,
	.code_gfns = xp_xen_code_gfns,
	.ram_ranges = xp_xen_ram_ranges,
	.logdirty = xp_xen_logdirty,
	.evtchn_fd = xp_xen_evtchn_fd,
	.notify = xp_xen_notify,
	.ack = xp_xen_ack,
};

const struct xp_backend_ops *const xp_backend_xen_ops = &xp_backend_xen;