/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paging rules: nominate, evict, prep, populate requests, foreign maps,
 * physmap population and removal (docs/xen-interface.md §1, §5, and the
 * behaviour of Xen's mem_paging.c / memory.c, re-described here).
 *
 *   nominate  ram_rw/logdirty with a frame and no extra reference (age 2:
 *             exactly one, the pager's mapping) -> paging_out; else -EBUSY
 *   evict     paging_out, no extra reference -> paged, frame freed; -EBUSY
 *   prep      paging_in or paged (else -ENOENT); no frame: a buffer is
 *             required (-EINVAL), the frame is allocated and filled; then
 *             ram_rw at once (waiting vCPUs still need a response)
 *   all three -ENODEV without a ring, -ESRCH on a dead domain, -ENOSYS on
 *             a hypervisor built without paging
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

static int nominate(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s;
	uint16_t want = g->pers->paging_age == 2 ? 1 : 0;

	if (gfn >= g->nr_gfns)
		return -EBUSY; /* no valid mfn */
	s = &g->gfn[gfn];
	if (!(s->flags & SG_FRAME) || !p2m_is_ram(s->p2mt))
		return -EBUSY;
	if (s->refs != want)
		return -EBUSY;
	if (fault_hit(g, g->fl.nominate_ebusy_pm))
		return -EBUSY;
	guest_set_p2mt(g, gfn, SIMP_P2M_RAM_PAGING_OUT);
	faults_after_nominate(g, gfn);
	return 0;
}

static int evict(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s;

	if (gfn >= g->nr_gfns)
		return -EBUSY;
	s = &g->gfn[gfn];
	if (!(s->flags & SG_FRAME) || s->p2mt != SIMP_P2M_RAM_PAGING_OUT)
		return -EBUSY;
	if (s->refs != 0)
		return -EBUSY;
	if (fault_hit(g, g->fl.evict_ebusy_pm))
		return -EBUSY;
	guest_frame_free(g, gfn);
	guest_set_p2mt(g, gfn, SIMP_P2M_RAM_PAGED);
	return 0;
}

static int prep(struct sim_guest *g, uint64_t gfn, uint32_t slot,
		const uint8_t *bounce)
{
	struct sim_gfn *s;

	if (slot != SIMP_NO_BUFFER && (slot >= SIMP_BOUNCE_SLOTS || !bounce))
		return -EINVAL; /* not a valid buffer address */
	if (gfn >= g->nr_gfns)
		return -ENOENT;
	s = &g->gfn[gfn];
	if (s->p2mt != SIMP_P2M_RAM_PAGING_IN && s->p2mt != SIMP_P2M_RAM_PAGED)
		return -ENOENT;
	if (!(s->flags & SG_FRAME)) {
		if (slot == SIMP_NO_BUFFER)
			return -EINVAL; /* since 4.2 a buffer is required */
		if (fault_hit(g, g->fl.load_enomem_pm))
			return -ENOMEM;
		const uint8_t *data = bounce + (size_t)slot * SIM_PAGE;

		guest_frame_alloc(g, gfn);
		/* Written through the memfd, not the mapping: the new frame
		 * gets the data without a page fault and a clear first. */
		if (pwrite(g->memfd, data, SIM_PAGE, (off_t)(gfn * SIM_PAGE)) !=
		    (ssize_t)SIM_PAGE)
			memcpy(guest_page(g, gfn), data, SIM_PAGE);
		oracle_verify(g, gfn, data, ORACLE_BY_LOAD);
	}
	/* A frame that never left (nominated, then touched) needs no data. */
	guest_set_p2mt(g, gfn, SIMP_P2M_RAM_RW);
	return 0;
}

int paging_op(struct sim_guest *g, const struct simp_paging_op *op,
	      const uint8_t *bounce)
{
	int rc = guest_check_paging(g, true);

	if (rc)
		return rc;
	switch (op->op) {
	case SIMP_PAGING_NOMINATE:
		return nominate(g, op->gfn);
	case SIMP_PAGING_EVICT:
		return evict(g, op->gfn);
	case SIMP_PAGING_PREP:
		return prep(g, op->gfn, op->bounce_slot, bounce);
	default:
		return -ENOSYS;
	}
}

int paging_populate(struct sim_guest *g, uint64_t gfn, struct sim_vcpu *v)
{
	struct sim_gfn *s = &g->gfn[gfn];
	struct sim_req req = { .gfn = gfn };
	uint8_t t;
	int rc = ring_claim(g);

	if (rc == -EOPNOTSUPP) {
		/* We are paging: there should be a ring. */
		sim_log(SIM_LOG_ERR, "d%u: paging gfn %#llx yet no ring in "
			"place", g->domid, (unsigned long long)gfn);
		guest_crash(g, "a paging gfn was accessed with no ring");
		return -ESHUTDOWN;
	}
	if (rc == -EBUSY) {
		if (v) {
			vcpu_enter_waitqueue(v);
			return -EAGAIN;
		}
		return -EBUSY;
	}
	t = s->p2mt;
	if (t == SIMP_P2M_RAM_PAGING_OUT || t == SIMP_P2M_RAM_PAGED) {
		/* Evict will fail now: tag the request (not on age 2). */
		if (t == SIMP_P2M_RAM_PAGING_OUT && g->pers->paging_age != 2)
			req.flags |= XP_EV_EVICT_FAIL;
		guest_set_p2mt(g, gfn, SIMP_P2M_RAM_PAGING_IN);
	}
	if (v && p2m_is_paging(t)) {
		vcpu_pause_for_paging(v);
		req.flags |= XP_EV_VCPU_PAUSED;
		g->st.faults++;
	} else if (t != SIMP_P2M_RAM_PAGING_OUT && t != SIMP_P2M_RAM_PAGED) {
		return 1; /* already on its way back, nobody paused */
	}
	if (!v)
		req.flags |= XP_EV_FOREIGN;
	req.p2mt = t;
	req.vcpu = v ? v->id : 0;
	ring_put(g, &req, v);
	return 0;
}

int paging_foreign_map(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s;

	if (gfn >= g->nr_gfns)
		return -EINVAL;
	s = &g->gfn[gfn];
	if (s->p2mt == SIMP_P2M_INVALID)
		return -EINVAL; /* not in the physmap */
	if ((s->flags & SG_FRAME) &&
	    (p2m_is_ram(s->p2mt) || s->p2mt == SIMP_P2M_RAM_PAGING_OUT ||
	     s->p2mt == SIMP_P2M_RAM_PAGING_IN)) {
		if (s->refs == UINT16_MAX)
			return -ENOMEM;
		s->refs++;
		return 0;
	}
	/* paged, or paging_in without a frame: ask for it, fail for now. */
	if (s->p2mt == SIMP_P2M_RAM_PAGED)
		paging_populate(g, gfn, NULL);
	return -ENOENT;
}

int paging_populate_physmap(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s;

	if (gfn >= g->nr_gfns)
		return -EINVAL;
	s = &g->gfn[gfn];
	if (s->p2mt != SIMP_P2M_INVALID)
		return -EEXIST;
	/* One frame slot per gfn: while the old frame is still referenced
	 * (the ring's own reference, or someone's mapping) a new one cannot
	 * go at the same place. Xen would allocate another frame; zeroing
	 * the old one under a live mapping (a pager's ring) would be worse
	 * than refusing. */
	if ((s->flags & SG_FRAME) && s->refs)
		return -EBUSY;
	guest_frame_alloc(g, gfn);
	if (gfn >= g->pages) {
		/* A special page (the ring gfn): Xen does not scrub frames a
		 * live domain freed, so the new one holds a previous owner's
		 * bytes, e.g. a dead pager's ring with its stale indexes. */
		uint8_t *pg = guest_page(g, gfn);
		uint32_t stale = 0x1ea7;

		memset(pg, 0xa5, SIM_PAGE);
		memcpy(pg + 0, &stale, 4);
		memcpy(pg + 8, &stale, 4);
		s->flags &= (uint8_t)~SG_ZERO;
	} else {
		s->flags |= SG_ZERO;
	}
	guest_set_p2mt(g, gfn, SIMP_P2M_RAM_RW);
	return 0;
}

int paging_send_drop(struct sim_guest *g, uint64_t gfn, uint32_t flags,
		     struct sim_vcpu *v)
{
	struct sim_req req = { .gfn = gfn, .flags = flags };
	int rc = ring_claim(g);

	if (rc == -EOPNOTSUPP)
		return 0; /* no ring: allowed, nobody to tell */
	if (rc == -EBUSY) {
		if (!v)
			return 0; /* a foreign caller does not wait */
		v->pending.kind = SIM_PEND_DROP;
		v->pending.gfn = gfn;
		v->pending.flags = flags;
		vcpu_enter_waitqueue(v);
		return -EAGAIN;
	}
	if (!v)
		req.flags |= XP_EV_FOREIGN;
	ring_put(g, &req, v);
	return 0;
}

int paging_remove(struct sim_guest *g, uint64_t gfn, struct sim_vcpu *v)
{
	struct sim_gfn *s;
	uint8_t t;

	if (gfn >= g->nr_gfns)
		return -ENOENT;
	s = &g->gfn[gfn];
	t = s->p2mt;
	if (t == SIMP_P2M_INVALID)
		return -ENOENT;
	guest_set_p2mt(g, gfn, SIMP_P2M_INVALID);
	if ((s->flags & SG_FRAME) && !s->refs)
		guest_frame_free(g, gfn);
	if (p2m_is_paging(t)) {
		uint32_t flags = XP_EV_DROP_PAGE;

		if (t == SIMP_P2M_RAM_PAGING_OUT && g->pers->paging_age != 2)
			flags |= XP_EV_EVICT_FAIL;
		return paging_send_drop(g, gfn, flags, v);
	}
	return 0;
}
