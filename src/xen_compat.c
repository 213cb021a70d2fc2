/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What differs between Xen releases in the structures the Xen backend
 * decodes itself, and the checks that libxpage's own definitions of Xen's
 * wire structures agree with the installed headers (whatever release).
 */
#include "xen_backend.h"

#include <string.h>

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
#define XP_DOMINFO_OFF_TOT_PAGES       8
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
_Static_assert(__HYPERVISOR_memory_op == XP_XEN_HYPERVISOR_memory_op &&
	       __HYPERVISOR_multicall == XP_XEN_HYPERVISOR_multicall &&
	       XENMEM_paging_op == XP_XEN_XENMEM_paging_op,
	       "hypercall numbers");
_Static_assert(XENMEM_paging_op_nominate == XP_PAGING_NOMINATE &&
	       XENMEM_paging_op_evict == XP_PAGING_EVICT &&
	       XENMEM_paging_op_prep == XP_PAGING_PREP,
	       "paging sub-operations");
/* Our copy of a Xen structure has its size and the offset of field @f. */
#define XP_SAME_SIZE(ours, xens) (sizeof(struct ours) == sizeof(struct xens))
#define XP_SAME_FIELD(ours, xens, f) \
	(offsetof(struct ours, f) == offsetof(struct xens, f))
_Static_assert(XP_SAME_SIZE(xp_xen_mem_paging_op, xen_mem_paging_op) &&
	       XP_SAME_FIELD(xp_xen_mem_paging_op, xen_mem_paging_op, domain) &&
	       XP_SAME_FIELD(xp_xen_mem_paging_op, xen_mem_paging_op, buffer) &&
	       XP_SAME_FIELD(xp_xen_mem_paging_op, xen_mem_paging_op, gfn),
	       "struct xen_mem_paging_op layout");
_Static_assert(XP_SAME_SIZE(xp_xen_multicall_entry, multicall_entry) &&
	       XP_SAME_FIELD(xp_xen_multicall_entry, multicall_entry, result) &&
	       XP_SAME_FIELD(xp_xen_multicall_entry, multicall_entry, args),
	       "struct multicall_entry layout");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, domain) ==
		       XP_DOMINFO_OFF_DOMAIN &&
	       offsetof(struct xen_domctl_getdomaininfo, flags) ==
		       XP_DOMINFO_OFF_FLAGS &&
	       offsetof(struct xen_domctl_getdomaininfo, tot_pages) ==
		       XP_DOMINFO_OFF_TOT_PAGES &&
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

/* Domain @domid's xen_domctl_getdomaininfo into @buf (XP_XEN_DOMINFO_BUF
 * bytes): 0, -ESRCH (no such domain) or another negative errno. */
static int raw_dominfo(const struct xp_xenctrl *xc, xp_xch *xch,
		       uint32_t domid, unsigned char *buf)
{
	uint16_t dom;

	memset(buf, 0, XP_XEN_DOMINFO_BUF);
	if (xc->domain_getinfo_single) {
		if (xc->domain_getinfo_single(xch, domid, buf) < 0)
			return xp_neg_errno();
	} else {
		/* Lists domains from domid upwards: check it is this one. */
		int rc = xc->domain_getinfolist(xch, domid, 1, buf);

		if (rc < 0)
			return xp_neg_errno();
		if (rc == 0)
			return -ESRCH;
	}
	memcpy(&dom, buf + XP_DOMINFO_OFF_DOMAIN, sizeof(dom));
	return dom == domid ? 0 : -ESRCH;
}

int xp_xen_read_dominfo(struct xp_backend *be, struct xp_dominfo *info)
{
	union {
		unsigned char b[XP_XEN_DOMINFO_BUF];
		uint64_t align;
	} buf;
	uint32_t flags, max_vcpu_id;
	uint64_t max_pages, tot_pages;
	int rc = raw_dominfo(&be->xc, be->xch, be->domid, buf.b);

	if (rc < 0)
		return rc;
	memcpy(&flags, buf.b + XP_DOMINFO_OFF_FLAGS, sizeof(flags));
	memcpy(&max_pages, buf.b + XP_DOMINFO_OFF_MAX_PAGES, sizeof(max_pages));
	memcpy(&tot_pages, buf.b + XP_DOMINFO_OFF_TOT_PAGES, sizeof(tot_pages));
	memcpy(&max_vcpu_id, buf.b + be->vcpu_off, sizeof(max_vcpu_id));

	if (info) {
		memset(info, 0, sizeof(*info));
		info->domid = be->domid;
		info->vcpus = max_vcpu_id + 1;
		info->hvm = !!(flags & XP_DOMINF_hvm_guest);
		info->dying = !!(flags & (XP_DOMINF_dying | XP_DOMINF_shutdown));
		info->nr_gfns = xp_xen_nr_gfns(be, max_pages);
		info->tot_pages = tot_pages;
	}
	return 0;
}

int xp_xen_domain_is_hvm(const struct xp_xenctrl *xc, xp_xch *xch,
			 uint32_t domid)
{
	union {
		unsigned char b[XP_XEN_DOMINFO_BUF];
		uint64_t align;
	} buf;
	uint32_t flags;
	int rc = raw_dominfo(xc, xch, domid, buf.b);

	if (rc < 0)
		return rc;
	memcpy(&flags, buf.b + XP_DOMINFO_OFF_FLAGS, sizeof(flags));
	return !!(flags & XP_DOMINF_hvm_guest);
}

/* Offset of max_vcpu_id in xen_domctl_getdomaininfo for a release. */
size_t xp_xen_vcpu_off(uint32_t major, uint32_t minor)
{
	return (major == 4 && minor == 2) ? XP_DOMINFO_OFF_MAX_VCPU_ID_4_2
					  : XP_DOMINFO_OFF_MAX_VCPU_ID;
}
