/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The front end of the paging ring (the hypervisor's side), after Xen's
 * vm_event code as described in docs/xen-interface.md §2, §3, §5, §8.
 *
 * The ring lives in the ring gfn's frame (the guest memfd), in the byte
 * layout of the personality's generation (ring_layout.h). Accounting is
 * Xen's: a request holds its slot until the pager's response for it has
 * been consumed, free = slots - (req_prod - rsp_cons) - injected held
 * slots (never more than the ring has, even after answers without
 * requests). A guest vCPU that finds no free slot waits in the wait queue; a
 * foreign requester gets no request. After a guest vCPU's put, if fewer
 * free slots than vCPUs remain and the vCPU is not paused for a page-in,
 * it is blocked (mark_and_pause) until space frees. The pager's notify is
 * an eventfd a per-ring thread waits on; it consumes the responses with
 * vm_event_resume()'s rules (every operation on the domain delivers a
 * pending notify first; the thread, --resume-delay-us after it, one that
 * no operation delivered).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sim.h"
#include "xpage/xpage.h"

static uint64_t next_ring_id = 1;

/* Deliver the pager's notification if there is one: consume its
 * responses. Called with the guest lock held, by the ring thread and by
 * guest_lock() itself. On Xen the notify hypercall (EVTCHNOP_send) runs
 * vm_event_resume() before it returns; here it is an eventfd, so every
 * operation on the domain first delivers a pending one: whatever follows
 * a notify sees its effect. Responses published but never notified are
 * left alone, as on Xen. */
static void ring_deliver(struct sim_guest *g, bool drain_only_if_pending)
{
	struct sim_ring *r = g->ring;
	uint64_t v;

	if (drain_only_if_pending &&
	    xp_ring_load_idx(r->page, XP_RING_OFF_RSP_PROD) == r->rsp_cons)
		return;
	if (read(r->efd_from_pager, &v, sizeof(v)) == (ssize_t)sizeof(v))
		ring_consume(g);
}

void ring_sync(struct sim_guest *g)
{
	if (g->ring)
		ring_deliver(g, true);
}

/* --resume-delay-us: how long the ring thread lets a notify wait for an
 * operation to deliver it. Set once, before any ring exists. */
static uint32_t resume_delay_us = RING_RESUME_DELAY_US_DEFAULT;

void ring_set_resume_delay_us(uint32_t us)
{
	resume_delay_us = us;
}

/* The ring thread delivers notifications no operation delivers. It does
 * not act on a notify at once: the pager that notified usually goes on
 * with an operation on the domain (its next load, a map, a touch), whose
 * guest_lock() delivers the notify anyway, and a thread taking the guest
 * lock and resuming vCPUs at that moment only competes with the pager for
 * the CPU and the lock (on two CPUs it pushed "load -> notified" of a
 * page-in from 0.6 us to 3-17 us: bench/RESULTS.md). So it waits
 * resume_delay_us after the notify; if an operation delivered it
 * meanwhile, the eventfd has been read and there is nothing to do.
 * Otherwise it delivers it then (and with it any notify that came during
 * the wait): a vCPU that no operation touches is resumed at most
 * resume_delay_us (plus timer slack and scheduling) after the notify. */
static void *ring_thread(void *arg)
{
	struct sim_ring *r = arg;
	struct sim_guest *g = r->g;
	struct pollfd pf[2] = { { .fd = r->efd_from_pager, .events = POLLIN },
				{ .fd = r->efd_stop, .events = POLLIN } };
	struct timespec delay = {
		.tv_sec = resume_delay_us / 1000000u,
		.tv_nsec = (long)(resume_delay_us % 1000000u) * 1000,
	};

	/* The delay is a bound: no default slack of 50 us on top. */
	prctl(PR_SET_TIMERSLACK, 1000ul, 0, 0, 0);
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		if (resume_delay_us) {
			/* Wait, unless told to stop; then see whether an
			 * operation delivered the notify meanwhile. */
			int n = ppoll(&pf[1], 1, &delay, NULL);

			if (n < 0 && errno != EINTR)
				break;
			if (n > 0)
				break;
			if (poll(pf, 1, 0) == 0)
				continue;
		}
		/* The eventfd is read under the guest lock only, so an
		 * operation that takes the lock after a notify either finds
		 * it pending or finds its responses consumed. */
		guest_lock(g);
		if (g->ring == r)
			ring_deliver(g, false);
		guest_unlock(g);
	}
	return NULL;
}

/* Close the ring's event descriptors that are open. */
static void close_eventfds(const struct sim_ring *r)
{
	const int fds[] = { r->efd_to_pager, r->efd_from_pager, r->efd_stop };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int ring_enable(struct sim_guest *g, uint32_t declared_age, int fds[2],
		uint32_t *port)
{
	uint64_t gfn = g->ring_gfn; /* first special page */
	struct sim_gfn *s = &g->gfn[gfn];
	struct sim_ring *r;
	int rc;

	rc = guest_check_paging(g, false);
	if (rc)
		return rc;
	if (!g->nvcpus)
		return -EINVAL;
	if (g->flags & (SIM_GUEST_NO_HAP | SIM_GUEST_PV))
		return -ENODEV;
	if (g->flags & SIM_GUEST_IOMMU)
		return -EMLINK;
	if (g->flags & SIM_GUEST_POD)
		return -EXDEV;
	if (g->pers->paging_age && declared_age != g->pers->paging_age)
		return -ENOEXEC;
	if (g->ring)
		return -EBUSY;
	if (!p2m_is_ram(s->p2mt) || !(s->flags & SG_FRAME))
		return -EOPNOTSUPP;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->g = g;
	r->id = __atomic_fetch_add(&next_ring_id, 1, __ATOMIC_RELAXED);
	r->gfn = gfn;
	r->nr_slots = g->layout->nr_slots;
	r->efd_to_pager = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->efd_from_pager = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->efd_stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd_to_pager < 0 || r->efd_from_pager < 0 || r->efd_stop < 0) {
		rc = -errno;
		goto fail;
	}
	r->page = guest_page(g, gfn);
	/* As Xen's vm_event_enable (FRONT_RING_INIT): only the hypervisor's
	 * private indexes start at 0 (the struct is zeroed); the shared header
	 * is left as the page holds it, for the pager to initialise. */
	rc = pthread_create(&r->thread, NULL, ring_thread, r);
	if (rc) {
		rc = -rc;
		goto fail;
	}
	s->refs++; /* the hypervisor's own reference on the ring frame */
	r->port = g->next_port++;
	g->ring = r;
	fds[0] = r->efd_to_pager;
	fds[1] = r->efd_from_pager;
	*port = r->port;
	sim_log(SIM_LOG_INFO, "d%u: paging enabled, ring gfn %#llx, port %u, "
		"%s, %u slots", g->domid, (unsigned long long)gfn, r->port,
		g->layout->name, r->nr_slots);
	return 0;

fail:
	close_eventfds(r);
	free(r);
	return rc;
}

int ring_disable(struct sim_guest *g, bool force, struct sim_ring **out)
{
	struct sim_ring *r = g->ring;

	*out = NULL;
	if (!force) {
		int rc = guest_check_paging(g, false);

		if (rc)
			return rc;
	}
	if (!r)
		return -EINVAL;
	if (r->waiters && !force)
		return -EBUSY;
	/* Unblock the vCPUs blocked only for ring space. A vCPU paused for
	 * a page-in stays paused (its vm_event pause count is untouched). */
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		struct sim_vcpu *v = &g->vcpu[i];

		if (v->blocked) {
			v->blocked = false;
			vcpu_kick(v);
		}
		v->in_waitqueue = false;
	}
	r->blocked = 0;
	r->waiters = 0;
	g->ring = NULL;
	/* The hypervisor's reference on the ring frame goes; if the gfn left
	 * the physmap, the frame goes with it. */
	guest_frame_put(g, r->gfn);
	*out = r;
	sim_log(SIM_LOG_INFO, "d%u: paging disabled", g->domid);
	return 0;
}

void ring_free(struct sim_ring *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	if (write(r->efd_stop, &one, sizeof(one)) < 0) {
		/* cannot fail on a fresh eventfd */
	}
	pthread_join(r->thread, NULL);
	close_eventfds(r);
	free(r);
}

uint32_t ring_available(const struct sim_guest *g)
{
	const struct sim_ring *r = g->ring;
	uint32_t used, held;

	if (!r)
		return 0;
	/* Responses beyond the requests (answers without a request) do not
	 * make the ring larger than it is. */
	used = (int32_t)(r->req_prod_pvt - r->rsp_cons) > 0 ?
	       r->req_prod_pvt - r->rsp_cons : 0;
	held = g->fl.ring_slots_held;
	if (used + held >= r->nr_slots)
		return 0;
	return r->nr_slots - used - held;
}

int ring_claim(struct sim_guest *g)
{
	if (!g->ring)
		return -EOPNOTSUPP;
	return ring_available(g) ? 0 : -EBUSY;
}

static void encode(const struct xp_ring_layout *l, volatile uint8_t *slot,
		   const struct sim_req *q)
{
	uint32_t flags, pflags;

	memset((void *)slot, 0, l->slot_size);
	xp_flags_to_raw(l, q->flags, &flags, &pflags);
	if (l->era == XP_ERA_VM_EVENT) {
		xp_wr32(slot, l->off_version, l->version);
		xp_wr32(slot, l->off_flags, flags);
		xp_wr32(slot, l->off_pflags, pflags);
	} else {
		/* mem_event: one flags word holds everything. */
		xp_wr32(slot, l->off_flags, flags | pflags);
	}
	if (l->reason_width == 2)
		xp_wr16(slot, l->off_reason, (uint16_t)l->reason_paging);
	else
		xp_wr32(slot, l->off_reason, l->reason_paging);
	xp_wr32(slot, l->off_vcpu, q->vcpu);
	xp_wr64(slot, l->off_gfn, q->gfn);
	xp_wr32(slot, l->off_p2mt, q->p2mt);
}

void ring_put(struct sim_guest *g, const struct sim_req *req,
	      struct sim_vcpu *v)
{
	struct sim_ring *r = g->ring;
	const struct xp_ring_layout *l = g->layout;

	if (!r)
		return;
	encode(l, xp_ring_slot(r->page, l, r->req_prod_pvt), req);
	r->req_prod_pvt++;
	xp_ring_store_idx(r->page, XP_RING_OFF_REQ_PROD, r->req_prod_pvt);
	g->st.requests++;
	r->notify_pending = true;
	/* The black eye of vm_event_put_request(): a guest vCPU that leaves
	 * fewer free slots than vCPUs is paused until the ring drains. */
	if (v && ring_available(g) < g->nvcpus && v->vm_event_pause == 0 &&
	    !v->blocked) {
		v->blocked = true;
		r->blocked++;
	}
}

/* Wake vCPUs waiting for ring space: the wait queue first, else the
 * blocked ones, round robin, one per free slot (vm_event_wake). */
void ring_wake(struct sim_guest *g)
{
	struct sim_ring *r = g->ring;
	uint32_t avail = ring_available(g);

	if (!r || !avail)
		return;
	if (r->waiters) {
		for (uint32_t i = 0; i < g->nvcpus && avail; i++) {
			if (g->vcpu[i].in_waitqueue) {
				vcpu_kick(&g->vcpu[i]);
				avail--;
			}
		}
		return;
	}
	for (uint32_t j = 0; j < g->nvcpus && r->blocked && avail; j++) {
		uint32_t k = (r->last_wake + 1 + j) % g->nvcpus;
		struct sim_vcpu *v = &g->vcpu[k];

		if (v->blocked) {
			v->blocked = false;
			r->blocked--;
			avail--;
			r->last_wake = k;
			vcpu_kick(v);
		}
	}
}

/*
 * What a response does depends on the release (Xen's sources):
 *   4.2 - 4.4  p2m_mem_paging_resume(): the vCPU id is not checked (Xen
 *              indexes its vCPU array with it); the p2m is resumed
 *              whatever the vCPU's state; VCPU_PAUSED calls vcpu_unpause()
 *              without checking that the vCPU was paused, so the shared
 *              pause count of a running vCPU goes below zero and, as
 *              vcpu_runnable() wants it zero, the vCPU stops for good.
 *   4.5        the vCPU id is checked; the p2m is resumed whatever; the
 *              unpause only for a vCPU paused by mem_event ("Too many
 *              unpause attempts" otherwise).
 *   4.6 - 4.7  vm_event_resume(): the version word is checked, then as
 *              4.5 (the paging resume only for reason MEM_PAGING).
 *   4.8 -      nothing happens for a vCPU that is not paused by vm_event.
 */
static bool resume_needs_paused(const struct sim_guest *g)
{
	return g->pers->generation >= XPAGE_GEN_VM_EVENT_V2;
}

static bool unpause_needs_paused(const struct sim_guest *g)
{
	return g->pers->generation >= XPAGE_GEN_MEM_EVENT_45;
}

/* The version word, DUMMY and the vCPU id: false if Xen drops the
 * response before it looks at the vCPU (counted as ignored). */
static bool response_readable(struct sim_guest *g, volatile uint8_t *slot,
			      bool *paging_reason)
{
	const struct xp_ring_layout *l = g->layout;
	uint32_t vcpu = xp_rd32(slot, l->off_vcpu);

	*paging_reason = true;
	if (l->era == XP_ERA_VM_EVENT) {
		uint32_t version = xp_rd32(slot, l->off_version);

		if (version != l->version) {
			sim_log(SIM_LOG_WARN, "d%u: vm_event interface version "
				"mismatch (response version %u, expected %u)",
				g->domid, version, l->version);
			return false;
		}
		*paging_reason = xp_rd32(slot, l->off_reason) == l->reason_paging;
	} else if (xp_rd32(slot, l->off_flags) & l->f_dummy) {
		return false;
	}
	if (vcpu >= g->nvcpus) {
		sim_log(SIM_LOG_WARN, "d%u: response for invalid vCPU %u%s",
			g->domid, vcpu, unpause_needs_paused(g) ? "" :
			" (Xen 4.2-4.4 would index past its vCPU array)");
		return false;
	}
	return true;
}

/* VCPU_PAUSED: unpause @v, as the release does. False if refused. */
static bool response_unpause(struct sim_guest *g, struct sim_vcpu *v)
{
	if (v->vm_event_pause <= 0 && unpause_needs_paused(g)) {
		sim_log(SIM_LOG_DEBUG, "d%u: vCPU %u mem_event: too many "
			"unpause attempts", g->domid, v->id);
		return false;
	}
	vcpu_unpause_paging(v);
	if (v->vm_event_pause < 0)
		sim_log(SIM_LOG_WARN, "d%u: vCPU %u unpaused while not paused: "
			"pause count %d, it stops running (Xen 4.2-4.4)",
			g->domid, v->id, v->vm_event_pause);
	return true;
}

static void resume_one(struct sim_guest *g, volatile uint8_t *slot)
{
	const struct xp_ring_layout *l = g->layout;
	uint32_t flags = xp_rd32(slot, l->off_flags);
	uint32_t pflags = xp_rd32(slot, l->off_pflags);
	uint64_t gfn = xp_rd64(slot, l->off_gfn);
	bool paging_reason, done = false;
	struct sim_vcpu *v;

	if (!response_readable(g, slot, &paging_reason)) {
		g->st.ignored++;
		return;
	}
	v = &g->vcpu[xp_rd32(slot, l->off_vcpu)];
	if (v->vm_event_pause <= 0 && resume_needs_paused(g)) {
		g->st.ignored++;
		sim_log(SIM_LOG_DEBUG, "d%u: response for vCPU %u, which is "
			"not paused: ignored", g->domid, v->id);
		return;
	}
	if (paging_reason && !(pflags & l->f_drop_page) && gfn < g->nr_gfns &&
	    g->gfn[gfn].p2mt == SIMP_P2M_RAM_PAGING_IN &&
	    (g->gfn[gfn].flags & SG_FRAME)) {
		guest_set_p2mt(g, gfn, SIMP_P2M_RAM_RW);
		done = true;
	}
	if ((flags & l->f_vcpu_paused) && response_unpause(g, v))
		done = true;
	if (done || !(flags & l->f_vcpu_paused))
		g->st.responses++;
	else
		g->st.ignored++;
}

void ring_consume(struct sim_guest *g)
{
	struct sim_ring *r = g->ring;
	const struct xp_ring_layout *l = g->layout;
	uint32_t prod, n;

	if (!r)
		return;
	prod = xp_ring_load_idx(r->page, XP_RING_OFF_RSP_PROD);
	n = prod - r->rsp_cons;
	/* Like Xen, consume every response the back end published, even
	 * more than there were requests: a pager taking over answers each
	 * vCPU its predecessor left paused (docs/xen-interface.md §8). A ring holds at most
	 * nr_slots responses, so an index further ahead is garbage: read
	 * one ring's worth and say so. */
	if (n > r->nr_slots) {
		g->st.overruns++;
		sim_log(SIM_LOG_WARN, "d%u: ring overrun: rsp_prod %u, "
			"rsp_cons %u, req_prod %u", g->domid, prod,
			r->rsp_cons, r->req_prod_pvt);
		n = r->nr_slots;
	}
	while (n--) {
		volatile uint8_t *slot = xp_ring_slot(r->page, l, r->rsp_cons);

		r->rsp_cons++;
		xp_ring_store_idx(r->page, XP_RING_OFF_RSP_EVENT,
				  r->rsp_cons + 1);
		resume_one(g, slot);
	}
	ring_wake(g);
}

void ring_notify_flush(struct sim_guest *g)
{
	struct sim_ring *r = g->ring;
	uint64_t one = 1;

	if (!r || !r->notify_pending)
		return;
	if (g->fl.event_delay_us) {
		uint64_t id = r->id;
		uint32_t us = g->fl.event_delay_us;

		pthread_mutex_unlock(&g->lock);
		usleep(us);
		pthread_mutex_lock(&g->lock);
		r = g->ring;
		if (!r || r->id != id || !r->notify_pending)
			return;
	}
	r->notify_pending = false;
	if (write(r->efd_to_pager, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the pager has events */
	}
}
