/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Negotiation: which ring generation the hypervisor speaks, which paging
 * age both sides speak, and which features are in force.
 *
 * The generation is asked for where the hypervisor answers the query
 * (xc_vm_event_get_version, Xen 4.13+), else inferred from the Xen
 * version, and then confirmed by the version word of the first request
 * (dispatch.c). The age is the highest both speak; the hypervisor's is 1
 * unless it reports another. Unknown bits were refused by the caller.
 */
#include "private.h"

int xp_generation_for_xen(uint32_t major, uint32_t minor)
{
	if (major != 4)
		return major > 4 ? XPAGE_GEN_VM_EVENT_V7 : 0;
	if (minor < 2)
		return 0; /* 4.1 and older: pager-allocated rings, no load */
	if (minor <= 4)
		return XPAGE_GEN_MEM_EVENT_42;
	if (minor == 5)
		return XPAGE_GEN_MEM_EVENT_45;
	if (minor <= 7)
		return XPAGE_GEN_VM_EVENT_V1;
	if (minor <= 10)
		return XPAGE_GEN_VM_EVENT_V2;
	if (minor == 11)
		return XPAGE_GEN_VM_EVENT_V3;
	if (minor == 12)
		return XPAGE_GEN_VM_EVENT_V4;
	if (minor == 13)
		return XPAGE_GEN_VM_EVENT_V5;
	if (minor == 14)
		return XPAGE_GEN_VM_EVENT_V6;
	return XPAGE_GEN_VM_EVENT_V7;
}

int xp_generation_for_version_word(uint32_t version)
{
	if (version < 1 || version > 7)
		return 0;
	return XPAGE_GEN_VM_EVENT_V1 + (int)version - 1;
}

static int highest_age(uint32_t mask)
{
	for (int a = 31; a >= 0; a--)
		if (mask & (1u << a))
			return a + 1;
	return 0;
}

/* The ring generation: asked where the hypervisor answers the query,
 * else implied by the Xen version. Sets generation, layout, codec. */
static int learn_generation(struct xpage *xp)
{
	uint32_t ver = 0;
	int rc, gen;

	rc = xp->ops->vm_event_version ? xp->ops->vm_event_version(xp->be, &ver)
				       : -ENOSYS;
	if (rc == 0) {
		gen = xp_generation_for_version_word(ver);
		if (!gen) {
			xp_log(xp, XPAGE_LOG_ERROR,
			       "the hypervisor reports ring interface version %u, "
			       "which this library does not know", ver);
			return -EOPNOTSUPP;
		}
		xp->hv_features |= XPAGE_FEAT_VERSION_QUERY;
	} else if (rc != -ENOSYS && rc != -EOPNOTSUPP) {
		return rc;
	} else {
		gen = xp_generation_for_xen(xp->xen_major, xp->xen_minor);
		if (!gen) {
			xp_log(xp, XPAGE_LOG_ERROR,
			       "Xen %u.%u is older than 4.2; its paging interface "
			       "(pager-allocated ring, no load) is not supported",
			       xp->xen_major, xp->xen_minor);
			return -EOPNOTSUPP;
		}
	}
	xp->generation = (uint32_t)gen;
	xp->layout = xp_ring_layout(gen);
	xp->codec = xp_codec_for(xp->layout);
	return 0;
}

/* The highest age both speak; a hypervisor without the notion speaks
 * age 1 (docs/xen-interface.md §6). */
static int agree_age(struct xpage *xp, uint32_t pager_ages)
{
	uint32_t hv_age = 1, common;
	int rc = xp->ops->paging_age ? xp->ops->paging_age(xp->be, &hv_age)
				     : -ENOSYS;

	if (rc == -ENOSYS || rc == -EOPNOTSUPP)
		hv_age = 1;
	else if (rc < 0)
		return rc;
	if (hv_age < 1 || hv_age > 32) {
		xp_log(xp, XPAGE_LOG_ERROR, "the hypervisor reports paging age %u",
		       hv_age);
		return -EPROTO;
	}
	common = pager_ages & (1u << (hv_age - 1));
	if (!common) {
		xp_log(xp, XPAGE_LOG_ERROR,
		       "the hypervisor speaks paging age %u; this pager speaks "
		       "ages mask 0x%x: no common age (the hypervisor would "
		       "refuse the ring with ENOEXEC)", hv_age, pager_ages);
		return -ENOEXEC;
	}
	xp->age = (uint32_t)highest_age(common);
	return 0;
}

/* What the hypervisor offers, and what is in force: the features the
 * pager requires (all of them, or -EOPNOTSUPP) or wants. */
static int agree_features(struct xpage *xp, uint64_t required,
			  uint64_t wanted)
{
	uint64_t missing;

	/* Every supported generation (4.2+) reports drops and loads with a
	 * buffer; EVICT_FAIL comes from the hypervisor except at age 2. */
	xp->hv_features |= XPAGE_FEAT_DROP | XPAGE_FEAT_LOAD_BUFFER;
	if (xp->age < 2)
		xp->hv_features |= XPAGE_FEAT_EVICT_FAIL_HV;
	if (xp->ops->can_multicall && xp->ops->can_multicall(xp->be) > 0)
		xp->hv_features |= XPAGE_FEAT_MULTICALL;
	missing = required & ~xp->hv_features;
	for (int b = 0; b < 64; b++)
		if (missing & (1ull << b))
			xp_log(xp, XPAGE_LOG_ERROR, "required feature '%s' is not "
			       "offered by Xen %u.%u (%s, age %u)",
			       xpage_feature_name(1ull << b), xp->xen_major,
			       xp->xen_minor, xp->layout->name, xp->age);
	if (missing)
		return -EOPNOTSUPP;
	xp->features = xp->hv_features & (required | wanted);
	xp->use_multicall = (xp->features & XPAGE_FEAT_MULTICALL) != 0;
	return 0;
}

int xp_negotiate(struct xpage *xp, uint32_t pager_ages, uint64_t required,
		 uint64_t wanted)
{
	uint32_t major = 0, minor = 0;
	int rc = xp->ops->xen_version(xp->be, &major, &minor);

	if (rc < 0) {
		xp_log(xp, XPAGE_LOG_ERROR, "cannot read the Xen version: %s",
		       xpage_strerror(rc));
		return rc;
	}
	xp->xen_major = major;
	xp->xen_minor = minor;
	xp->hv_features = 0;
	if ((rc = learn_generation(xp)) < 0 ||
	    (rc = agree_age(xp, pager_ages)) < 0 ||
	    (rc = agree_features(xp, required, wanted)) < 0)
		return rc;
	xp_log(xp, XPAGE_LOG_INFO,
	       "negotiated: Xen %u.%u, %s, age %u, features 0x%llx",
	       major, minor, xp->layout->name, xp->age,
	       (unsigned long long)xp->features);
	return 0;
}
