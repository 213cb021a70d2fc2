/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host handle on Xen (host_backend.h): XEN_SYSCTL_page_offline_op
 * through libxenguest's xc_mark_page_offline, xc_mark_page_online and
 * xc_query_page_offline_status, and the machine-to-phys table mapped
 * read-only with xc_map_m2p, its size from libxenctrl's
 * xc_maximum_ram_page, as xen-hptool and xen-mfndump do. Both libraries
 * are loaded at run time, of one release (xenctrl_loader.c); a call a
 * release lacks makes its operation -EOPNOTSUPP, said once in the log.
 */
#include "xen_backend.h"
#include "host_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* libxpage's copies of Xen's numbers (page_offline.h), checked. */
_Static_assert(sysctl_page_offline == XP_PGOFF_OFFLINE &&
	       sysctl_page_online == XP_PGOFF_ONLINE &&
	       sysctl_query_page_offline == XP_PGOFF_QUERY, "sub-commands");
_Static_assert(PG_OFFLINE_OFFLINED == XP_PG_OFFLINE_OFFLINED &&
	       PG_OFFLINE_PENDING == XP_PG_OFFLINE_PENDING &&
	       PG_OFFLINE_FAILED == XP_PG_OFFLINE_FAILED &&
	       PG_OFFLINE_AGAIN == XP_PG_OFFLINE_AGAIN &&
	       PG_OFFLINE_XENPAGE == XP_PG_OFFLINE_XENPAGE &&
	       PG_OFFLINE_ANONYMOUS == XP_PG_OFFLINE_ANONYMOUS &&
	       PG_OFFLINE_NOT_CONV_RAM == XP_PG_OFFLINE_NOT_CONV_RAM &&
	       PG_OFFLINE_OWNED == XP_PG_OFFLINE_OWNED &&
	       PG_OFFLINE_BROKEN == XP_PG_OFFLINE_BROKEN &&
	       PG_OFFLINE_OWNER_SHIFT == XP_PG_OFFLINE_OWNER_SHIFT &&
	       PG_OFFLINE_INVALID == XP_PG_OFFLINE_INVALID, "offline words");
_Static_assert(PG_OFFLINE_STATUS_OFFLINED == XP_PG_STATUS_OFFLINED &&
	       PG_OFFLINE_STATUS_OFFLINE_PENDING ==
	       XP_PG_STATUS_OFFLINE_PENDING &&
	       PG_OFFLINE_STATUS_BROKEN == XP_PG_STATUS_BROKEN, "query words");
_Static_assert(DOMID_XEN == XP_DOMID_XEN && DOMID_IO == XP_DOMID_IO &&
	       DOMID_INVALID == XP_DOMID_INVALID &&
	       DOMID_XEN == XPAGE_OWNER_XEN && DOMID_IO == XPAGE_OWNER_IO &&
	       DOMID_INVALID == XPAGE_OWNER_NONE, "domain ids");

/* libxc's M2P mapping: whole 2 MiB chunks (M2P_SIZE). */
#define XP_M2P_CHUNK (1ul << 21)

struct xp_host_backend {
	struct xp_xenctrl xc;
	struct xp_xenguest xg;
	xp_xch *xch;
	struct xp_tl_logger tl;
	xp_backend_log_fn log;
	void *log_ctx;
	unsigned long *m2p;   /* mapped at the first m2p call */
	size_t m2p_len;
	uint64_t max_mfn;
	bool said;            /* a missing call was logged */
};

#define HLOG(hb, lvl, ...) (hb)->log((hb)->log_ctx, (lvl), __VA_ARGS__)

static void xen_host_close(struct xp_host_backend *hb)
{
	if (!hb)
		return;
	if (hb->m2p)
		munmap(hb->m2p, hb->m2p_len);
	xp_xenguest_unload(&hb->xg);
	if (hb->xch)
		hb->xc.interface_close(hb->xch);
	xp_xenctrl_unload(&hb->xc);
	free(hb);
}

/* libxenctrl opened; libxenguest beside it, or a warning. */
static int attach(struct xp_host_backend *hb)
{
	char why[320];
	int rc = xp_xenctrl_find(&hb->xc, why, sizeof(why));

	if (rc < 0) {
		HLOG(hb, XPAGE_LOG_ERROR, "xen: %s", why);
		return rc;
	}
	hb->xch = hb->xc.interface_open(&hb->tl.base, &hb->tl.base, 0);
	if (!hb->xch) {
		rc = xp_neg_errno();
		HLOG(hb, XPAGE_LOG_ERROR, "xen: xc_interface_open: %s",
		     strerror(-rc));
		return rc == -EACCES || rc == -EPERM ? rc : -ENOENT;
	}
	if (xp_xenguest_load(hb->xc.path, &hb->xg, why, sizeof(why)) < 0)
		HLOG(hb, XPAGE_LOG_WARN, "xen: no libxenguest beside %s (%s): "
		     "page offline and the machine-to-phys table are not "
		     "available", hb->xc.path, why);
	return 0;
}

static int xen_host_open(struct xp_host_backend **out, const char *arg,
			 xp_backend_log_fn log, void *log_ctx)
{
	struct xp_host_backend *hb;
	int rc;

	(void)arg;
	if (!xp_xen_present())
		return -ENOENT;
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return -ENOMEM;
	hb->log = log;
	hb->log_ctx = log_ctx;
	xp_xen_tl_init(&hb->tl, log, log_ctx);
	rc = attach(hb);
	if (rc < 0) {
		xen_host_close(hb);
		return rc;
	}
	*out = hb;
	return 0;
}

/* A call the loaded release lacks: -EOPNOTSUPP, said once. */
static int missing(struct xp_host_backend *hb, const char *call)
{
	if (!hb->said)
		HLOG(hb, XPAGE_LOG_ERROR, "xen: %s has no %s: this Xen's tool "
		     "libraries cannot %s", hb->xg.dl ? hb->xg.path
		     : "libxenguest (not loaded)", call,
		     strstr(call, "m2p") || strstr(call, "ram_page")
		     ? "read the machine-to-phys table" : "offline frames");
	hb->said = true;
	return -EOPNOTSUPP;
}

static int xen_host_page_offline(struct xp_host_backend *hb, unsigned cmd,
				 uint64_t first, uint64_t last,
				 uint32_t *status)
{
	int (*fn)(xp_xch *, unsigned long, unsigned long, uint32_t *) =
		cmd == XP_PGOFF_OFFLINE ? hb->xg.mark_page_offline :
		cmd == XP_PGOFF_ONLINE ? hb->xg.mark_page_online :
		hb->xg.query_page_offline_status;
	const char *name = cmd == XP_PGOFF_OFFLINE ? "xc_mark_page_offline" :
			   cmd == XP_PGOFF_ONLINE ? "xc_mark_page_online" :
			   "xc_query_page_offline_status";

	if (!fn)
		return missing(hb, name);
	errno = 0;
	return xp_call_rc(fn(hb->xch, first, last, status));
}

/* The table's size (XENMEM_maximum_ram_page, either form), mapped. */
static int map_m2p(struct xp_host_backend *hb)
{
	unsigned long max = 0;
	int r;

	if (!hb->xc.maximum_ram_page)
		return missing(hb, "xc_maximum_ram_page");
	if (!hb->xg.map_m2p)
		return missing(hb, "xc_map_m2p");
	r = hb->xc.maximum_ram_page(hb->xch, &max);
	if (r < 0)
		return xp_neg_errno();
	if (r > 0)
		max = (unsigned long)r; /* 4.2 - 4.5: the value returned */
	hb->m2p = hb->xg.map_m2p(hb->xch, max, PROT_READ, NULL);
	if (!hb->m2p)
		return xp_neg_errno();
	hb->max_mfn = max;
	hb->m2p_len = (max * sizeof(unsigned long) + XP_M2P_CHUNK - 1) &
		      ~(XP_M2P_CHUNK - 1);
	return 0;
}

static int xen_host_m2p(struct xp_host_backend *hb, const uint64_t *mfns,
			size_t n, uint64_t *gfns, uint64_t *max)
{
	int rc = hb->m2p ? 0 : map_m2p(hb);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		unsigned long e = mfns[i] < hb->max_mfn ? hb->m2p[mfns[i]]
							: ~0ul;

		/* INVALID_M2P_ENTRY (~0) and SHARED_M2P_ENTRY (~0 - 1) */
		gfns[i] = e >= ~0ul - 1 ? XP_M2P_INVALID : e;
	}
	*max = hb->max_mfn;
	return 0;
}

/* Xen's page-frame info on dom0: for a PV dom0 the numbers it takes are
 * machine frames, and a frame dom0 does not own answers XTAB. A
 * translated (PVH) dom0 would read them as its gfns: nothing is said
 * for it, nor for the pages of Xen's own that Xen shares with dom0
 * (shared info, grant frames: XTAB too). dom0's frames are never marked:
 * Xen never frees them, and the rig's one-CPU host stopped at the offline
 * operation on one in three boots (tests/xen/RESULTS.md). */
static int xen_host_dom0_owns(struct xp_host_backend *hb,
			      const uint64_t *mfns, size_t n, bool *owned)
{
	uint64_t t[XP_PFINFO_BATCH];
	int hvm;

	memset(owned, 0, n * sizeof(*owned));
	if (!hb->xc.get_pfn_type_batch)
		return 0;
	hvm = xp_xen_domain_is_hvm(&hb->xc, hb->xch, 0);
	if (hvm != 0)
		return hvm < 0 ? hvm : 0;
	for (size_t i = 0; i < n; i += XP_PFINFO_BATCH) {
		size_t k = n - i < XP_PFINFO_BATCH ? n - i : XP_PFINFO_BATCH;

		memcpy(t, mfns + i, k * sizeof(*t));
		if (hb->xc.get_pfn_type_batch(hb->xch, 0, (unsigned)k, t) < 0)
			return xp_neg_errno();
		for (size_t j = 0; j < k; j++) {
			uint64_t type = t[j] & XP_PFINFO_MASK;

			owned[i + j] = type != XP_PFINFO_XTAB &&
				       type != XP_PFINFO_BROKEN;
		}
	}
	return 0;
}

static const struct xp_host_ops xp_host_xen = {
	.name = "xen",
	.open = xen_host_open,
	.close = xen_host_close,
	.page_offline = xen_host_page_offline,
	.m2p = xen_host_m2p,
	.dom0_owns = xen_host_dom0_owns,
};

const struct xp_host_ops *const xp_host_xen_ops = &xp_host_xen;
