/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Draining the paging ring: every request is decoded by the negotiated
 * codec into one normalised event, checked (indexes, gfn range, version),
 * and turned into at most one callback per gfn:
 *
 *   - drop (DROP_PAGE): the guest released the gfn; the library forgets it,
 *     answers any vCPU waiting on it, and tells the pager.
 *   - evict-fail (the gfn still has its frame: the hypervisor's EVICT_FAIL
 *     flag, or a request for a gfn the library holds as nominated when the
 *     hypervisor does not send the flag): answered at once, the pager is
 *     told to drop its write-out.
 *   - populate (the gfn has no frame): the first request for a gfn makes
 *     one populate callback; later ones are held with it (coalesced) and
 *     all are answered by xpage_resume().
 *
 * What a request means is decided in one place, classify(), whose comment
 * holds the whole decision table; act() then takes one action per verdict.
 *
 * Every request gets exactly one response, because the ring's slots are
 * freed only by responses. Requests that need no answer from the pager
 * (foreign, dummy, drop) are answered at once.
 */
#include "private.h"

#include <poll.h>

void xp_put_response(struct xpage *xp, const struct xp_response *rsp)
{
	volatile uint8_t *slot = xp_ring_slot(xp->ring, xp->layout,
					      xp->rsp_prod_pvt);

	xp->codec->encode(xp->layout, slot, rsp);
	xp->rsp_prod_pvt++;
	xp->rsp_unpushed++;
	xp->stats.responses++;
}

int xp_push_responses(struct xpage *xp)
{
	if (!xp->rsp_unpushed || !xp->enabled)
		return 0;
	xp_ring_store_idx(xp->ring, XP_RING_OFF_RSP_PROD, xp->rsp_prod_pvt);
	xp->rsp_unpushed = 0;
	return xp->ops->notify(xp->be);
}

static void answer(struct xpage *xp, const struct xp_event *ev, uint32_t extra)
{
	struct xp_response r = {
		.gfn = ev->gfn, .vcpu = ev->vcpu,
		.flags = (ev->flags & (XP_EV_VCPU_PAUSED | XP_EV_FOREIGN |
				       XP_EV_DROP_PAGE | XP_EV_EVICT_FAIL)) | extra,
	};

	xp_put_response(xp, &r);
}

void xp_answer_held(struct xpage *xp, uint64_t gfn, uint32_t extra)
{
	struct xp_inflight *f = xp_inflight_find(&xp->table, gfn);

	if (!f)
		return;
	for (uint32_t i = 0; i < f->n; i++) {
		struct xp_req *q = xp_inflight_req(f, i);
		struct xp_response r = { .gfn = gfn, .vcpu = q->vcpu,
					 .flags = (q->flags & XP_EV_VCPU_PAUSED) |
						  extra };

		xp_put_response(xp, &r);
	}
	xp_inflight_del(&xp->table, gfn);
}

/*
 * What a request means, from the request and the library's records alone
 * (no side effect). The whole decision, in the order it is taken:
 *
 *   request                       gfn's state / records      verdict
 *   ----------------------------  -------------------------  -----------
 *   gfn or vCPU not of the guest  -                          OUTSIDE
 *   dummy                         -                          DUMMY
 *   drop                          a drop is owed             OLD_DROP
 *   drop                          otherwise                  DROP
 *   page-in                       RESIDENT                   STALE
 *   page-in, frame intact (*)     NOMINATED                  EVICT_FAIL
 *   page-in                       NOMINATED                  STALE
 *   page-in, vCPU paused          this vCPU's request held   REPEAT
 *   page-in                       PAGING_IN or LOADED        JOIN
 *   page-in                       EVICTED                    POPULATE
 *
 * (*) the hypervisor's EVICT_FAIL flag, or a p2m type of paging-out
 * (age 2 sends no flag). Closing changes no verdict, only whether the
 * pager is told. An EVICT_FAIL is confirmed with the hypervisor before
 * it is believed (confirm_touched), and may turn out STALE then.
 */
enum verdict {
	OUTSIDE,     /* answered with DROP_PAGE (no page changes), ignored */
	DUMMY,       /* answered */
	OLD_DROP,    /* the notice of a release the library settled: answered */
	DROP,        /* the guest released the gfn: forgotten, pager told */
	STALE,       /* older than the gfn's state: answered, no callback */
	EVICT_FAIL,  /* touched while nominated: resident again, pager told */
	/* From here on, page-ins for a gfn held as paged out: */
	REPEAT,      /* the same vCPU asked again: answered, the first held */
	JOIN,        /* held with the requests already waiting for the gfn */
	POPULATE,    /* the first request for an evicted gfn: pager told */
};

/* Does the request say the gfn still has its frame? */
static bool frame_intact(const struct xp_event *ev)
{
	return (ev->flags & XP_EV_EVICT_FAIL) || ev->p2mt == XP_P2M_PAGING_OUT;
}

/* Is a request of @vcpu for @gfn held already? */
static bool held_for_vcpu(struct xpage *xp, uint64_t gfn, uint32_t vcpu)
{
	struct xp_inflight *f = xp_inflight_find(&xp->table, gfn);

	for (uint32_t i = 0; f && i < f->n; i++) {
		const struct xp_req *q = xp_inflight_req(f, i);

		if (q->vcpu == vcpu && (q->flags & XP_EV_VCPU_PAUSED))
			return true;
	}
	return false;
}

static enum verdict classify(struct xpage *xp, const struct xp_event *ev)
{
	unsigned st;

	if (ev->gfn >= xp->table.nr ||
	    ((ev->flags & XP_EV_VCPU_PAUSED) && ev->vcpu >= xp->vcpus))
		return OUTSIDE;
	if (ev->flags & XP_EV_DUMMY)
		return DUMMY;
	if (ev->flags & XP_EV_DROP_PAGE)
		return xp_gfn_flag(&xp->table, ev->gfn, XP_GS_DROP_OWED) ?
		       OLD_DROP : DROP;
	st = xp_gfn_state(&xp->table, ev->gfn);
	if (st == XPAGE_GFN_RESIDENT)
		return STALE;
	if (st == XPAGE_GFN_NOMINATED)
		return frame_intact(ev) ? EVICT_FAIL : STALE;
	if ((ev->flags & XP_EV_VCPU_PAUSED) &&
	    held_for_vcpu(xp, ev->gfn, ev->vcpu))
		return REPEAT;
	if (st == XPAGE_GFN_PAGING_IN || st == XPAGE_GFN_LOADED)
		return JOIN;
	return POPULATE;
}

/* A notice older than what the library knows of the gfn. The answer
 * releases a waiting vCPU; if it touches the gfn again, that is news. */
static void stale(struct xpage *xp, const struct xp_event *ev,
		  const char *what)
{
	if (what)
		xp_log(xp, XPAGE_LOG_DEBUG, "gfn 0x%llx: %s",
		       (unsigned long long)ev->gfn, what);
	answer(xp, ev, 0);
	xp->stats.stale++;
	xp->stats.coalesced++; /* as 1.0 counted them */
}

static void outside(struct xpage *xp, const struct xp_event *ev)
{
	/* Not a gfn or vCPU of this guest: answer (so the slot is freed),
	 * asking the hypervisor to change no page (DROP_PAGE). */
	xp->stats.bad_events++;
	xp_log(xp, XPAGE_LOG_ERROR, "request for gfn 0x%llx vcpu %u outside "
	       "the guest (%llu gfns, %u vcpus): answered, ignored",
	       (unsigned long long)ev->gfn, ev->vcpu,
	       (unsigned long long)xp->table.nr, xp->vcpus);
	answer(xp, ev, XP_EV_DROP_PAGE);
}

static void drop(struct xpage *xp, const struct xp_event *ev)
{
	unsigned st = xp_gfn_state(&xp->table, ev->gfn);

	answer(xp, ev, 0);
	xp_answer_held(xp, ev->gfn, XP_EV_DROP_PAGE);
	xp_kept_drop(xp, ev->gfn);
	/* (a LOADED gfn left the evicted count at its load) */
	if (st == XPAGE_GFN_EVICTED || st == XPAGE_GFN_PAGING_IN)
		xp->stats.evicted_now--;
	xp_gfn_set_state(&xp->table, ev->gfn, XPAGE_GFN_RESIDENT);
	xp->stats.drops++;
	if (xp->cbs.drop && !xp->closing)
		xp->cbs.drop(xp, ev->gfn, xp->cbs.user);
}

/*
 * The notice of a release the library already settled (the gfn stopped
 * mapping, or came back as an ordinary page): the pager was told then.
 * The gfn may have been paged out again since; forgetting it now would
 * lose that page. If the owed notice was never sent (a full ring) and
 * this is a newer release, the gfn is still found released by the next
 * evict, load or un-nomination.
 */
static void old_drop(struct xpage *xp, const struct xp_event *ev)
{
	xp_gfn_set_flag(&xp->table, ev->gfn, XP_GS_DROP_OWED, false);
	stale(xp, ev, "a drop notice of a release settled earlier (state "
	      "unchanged)");
}

/*
 * An evict-fail notice for a NOMINATED gfn is confirmed before it is
 * believed: a prep without data succeeds only on a paging-in gfn that
 * still has its frame, which is what a touch of a nominated gfn leaves,
 * and makes it present (a response alone does that only for a paused
 * vCPU, so a foreign mapper's touch needs the prep anyway). It cannot put
 * other contents in place. -ENOENT means the gfn is not paging-in: the
 * notice is older than this nomination (it was touched, made present some
 * other way, e.g. by xpage_unnominate after a takeover, and nominated
 * again before the notice was read), and the gfn is still nominated.
 * Returns 0 (confirmed), -ENOENT (stale) or another error (not known).
 */
static int confirm_touched(struct xpage *xp, uint64_t gfn)
{
	struct xp_paging_op op = { .op = XP_PAGING_PREP, .gfn = gfn };
	int rc = xp_run_ops(xp, &op, 1);

	return rc < 0 ? rc : op.rc;
}

static void evict_fail(struct xpage *xp, const struct xp_event *ev)
{
	int rc = confirm_touched(xp, ev->gfn);

	if (rc == -ENOENT) {
		stale(xp, ev, "an evict-fail notice older than its nomination "
		      "(still nominated)");
		return;
	}
	if (rc < 0 && !(ev->flags & XP_EV_VCPU_PAUSED))
		xp_log(xp, XPAGE_LOG_WARN, "gfn 0x%llx touched by a foreign "
		       "mapper while nominated stays paging-in in the "
		       "hypervisor: %s", (unsigned long long)ev->gfn,
		       xpage_strerror(rc));
	/* Touched while nominated: its frame is intact, present again, and
	 * the response releases the vCPU. */
	answer(xp, ev, 0);
	xp_gfn_set_state(&xp->table, ev->gfn, XPAGE_GFN_RESIDENT);
	if (ev->flags & XP_EV_EVICT_FAIL)
		xp->stats.evict_fails++;
	else
		xp->stats.evict_fails_synth++;
	if (xp->cbs.evict_fail && !xp->closing)
		xp->cbs.evict_fail(xp, ev->gfn, xp->cbs.user);
}

/* A page-in for a gfn the library holds as paged out. Where the
 * hypervisor says the frame is intact, never let the pager drop its copy
 * on that word: it is served as a page-in all the same (a load cannot
 * overwrite an intact frame: prep copies only into a gfn without one). */
static void warn_intact(struct xpage *xp, const struct xp_event *ev)
{
	if (!frame_intact(ev))
		return;
	xp_log(xp, xp->took_over ? XPAGE_LOG_INFO : XPAGE_LOG_WARN,
	       "evict failure reported for gfn 0x%llx, which is held as "
	       "evicted: served as a page-in%s", (unsigned long long)ev->gfn,
	       xp->took_over ?
	       " (after a takeover: adopted as evicted, still nominated)" : "");
}

/*
 * Hold a page-in request until the load answers it. Without memory it
 * cannot be held: its vCPU is released now, and as the gfn stays
 * paging-in, the vCPU re-executes its access until the load (Xen raises
 * no new request for a paging-in gfn). A request nobody waits on is
 * answered now, to keep the slot accounting right. Returns whether a
 * paused vCPU waits for the load.
 */
static bool hold(struct xpage *xp, const struct xp_event *ev)
{
	bool paused = ev->flags & XP_EV_VCPU_PAUSED;

	if (paused && xp_inflight_add(&xp->table, ev->gfn, ev->vcpu,
				      ev->flags) < 0) {
		xp_log(xp, XPAGE_LOG_ERROR, "out of memory holding a request "
		       "for gfn 0x%llx: its vCPU is released and waits for the "
		       "load", (unsigned long long)ev->gfn);
		paused = false;
	}
	if (!paused)
		answer(xp, ev, 0);
	return paused;
}

static void populate(struct xpage *xp, const struct xp_event *ev)
{
	bool paused = hold(xp, ev);
	struct xpage_populate p = {
		.sz = sizeof(p), .gfn = ev->gfn, .vcpu = ev->vcpu,
		.flags = (paused ? XPAGE_POPULATE_PAUSED : 0) |
			 ((ev->flags & XP_EV_FOREIGN) ? XPAGE_POPULATE_FOREIGN : 0),
		.requests = 1,
	};

	if (xp_kept_populate(xp, ev->gfn))
		return; /* the library's own copy, loaded (or kept held) */
	xp_gfn_set_state(&xp->table, ev->gfn, XPAGE_GFN_PAGING_IN);
	if (xp->closing)
		return; /* held; xpage_close reports it */
	xp->stats.populates++;
	xp->cbs.populate(xp, &p, xp->cbs.user);
}

/* One action per verdict. */
static void act(struct xpage *xp, const struct xp_event *ev, enum verdict v)
{
	if (v >= REPEAT)
		warn_intact(xp, ev);
	switch (v) {
	case OUTSIDE:
		outside(xp, ev);
		break;
	case DUMMY:
		answer(xp, ev, 0);
		break;
	case OLD_DROP:
		old_drop(xp, ev);
		break;
	case DROP:
		drop(xp, ev);
		break;
	case STALE:
		/* The request was queued before an earlier answer or load
		 * made the gfn present, or while it was paged out in an
		 * earlier round (loaded and nominated again since): its p2m
		 * type tells the past, not the present. */
		stale(xp, ev, NULL);
		break;
	case EVICT_FAIL:
		evict_fail(xp, ev);
		break;
	case REPEAT:
		/* Xen touched the gfn itself for the vCPU (its scheduler's
		 * copies of the runstate area raise one request per copy).
		 * One held request keeps the vCPU paused; the repeats are
		 * answered now, so the ring's slots are not spent on them
		 * (docs/xen-hazards.md). */
		answer(xp, ev, 0);
		xp->stats.coalesced++;
		break;
	case JOIN:
		hold(xp, ev);
		xp->stats.coalesced++;
		break;
	case POPULATE:
		populate(xp, ev);
		break;
	}
}

/*
 * A request that does not decode may be the first of a ring whose
 * generation is not the one the Xen version implied: its version word
 * names another vm_event generation. Switch to that layout, only before
 * anything else was read. True when the layout changed.
 */
static bool switch_generation(struct xpage *xp, const volatile uint8_t *slot)
{
	uint32_t ver = xp_rd32(slot, 0);
	int gen = xp_generation_for_version_word(ver);
	const struct xp_ring_layout *l;

	if (xp->version_confirmed || xp->layout->era != XP_ERA_VM_EVENT ||
	    xp->req_cons != 0 || !gen || (uint32_t)gen == xp->generation)
		return false;
	l = xp_ring_layout(gen);
	xp_log(xp, XPAGE_LOG_WARN,
	       "the ring speaks %s, not %s as Xen %u.%u implied: switching",
	       l->name, xp->layout->name, xp->xen_major, xp->xen_minor);
	xp->generation = (uint32_t)gen;
	xp->layout = l;
	return true;
}

static int corrupt(struct xpage *xp, const char *what, unsigned long long a,
		   unsigned long long b)
{
	xp_log(xp, XPAGE_LOG_ERROR, "paging ring corrupt: %s (%llu, %llu); "
	       "nothing past this point is trusted", what, a, b);
	xp->broken = true;
	xp->stats.bad_events++;
	return xp_err(EPROTO);
}

/* Decode the next request and consume it: 0, or -EPROTO when the slot
 * is not a paging request of the ring's layout. */
static int next_request(struct xpage *xp, struct xp_event *ev)
{
	volatile uint8_t *slot = xp_ring_slot(xp->ring, xp->layout,
					      xp->req_cons);
	int rc = xp->codec->decode(xp->layout, slot, ev);

	if (rc < 0 && switch_generation(xp, slot)) {
		slot = xp_ring_slot(xp->ring, xp->layout, xp->req_cons);
		rc = xp->codec->decode(xp->layout, slot, ev);
	}
	xp->last_req_version = ev->version;
	if (rc < 0)
		return corrupt(xp, "request with a foreign version word or "
			       "reason", ev->version, xp->req_cons);
	xp->version_confirmed = true;
	xp->req_cons++;
	xp->stats.requests++;
	if (ev->unknown)
		xp_log(xp, XPAGE_LOG_WARN, "request for gfn 0x%llx carries "
		       "unknown flag bits 0x%x (ignored)",
		       (unsigned long long)ev->gfn, ev->unknown);
	return 0;
}

/* The requests' gfns are scattered over the state table: start every
 * state byte's cache miss now, so they overlap instead of stalling each
 * request in turn. Only a hint: the gfns are checked when each request is
 * decoded. */
static void prefetch_states(struct xpage *xp, uint32_t prod)
{
	const struct xp_ring_layout *l = xp->layout;

	for (uint32_t i = xp->req_cons; i != prod; i++) {
		uint64_t gfn = xp_rd64(xp_ring_slot(xp->ring, l, i), l->off_gfn);

		if (gfn < xp->table.nr)
			__builtin_prefetch(&xp->table.st[gfn], 1);
	}
}

static int drain(struct xpage *xp)
{
	int consumed = 0;

	for (;;) {
		uint32_t prod = xp_ring_load_idx(xp->ring, XP_RING_OFF_REQ_PROD);
		uint32_t slots = xp->layout->nr_slots;

		/* More unconsumed requests than slots (or the index moved
		 * backwards) cannot come from a sane hypervisor. */
		if (prod - xp->req_cons > slots ||
		    prod - xp->rsp_prod_pvt > slots)
			return corrupt(xp, "request index out of range", prod,
				       xp->req_cons);
		prefetch_states(xp, prod);
		while (xp->req_cons != prod) {
			struct xp_event ev;

			if (next_request(xp, &ev) < 0)
				return -EPROTO;
			consumed++;
			act(xp, &ev, classify(xp, &ev));
			if (xp->broken)
				return xp_err(EPROTO);
		}
		/* Publish answers, then ask to be notified of the next request
		 * and look once more (the classic final check). */
		xp_push_responses(xp);
		xp_ring_store_idx(xp->ring, XP_RING_OFF_REQ_EVENT, xp->req_cons + 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (xp_ring_load_idx(xp->ring, XP_RING_OFF_REQ_PROD) == xp->req_cons)
			break;
	}
	return consumed;
}

/* Wait up to @timeout_ms for an event when none is pending. */
static int wait_event(struct xpage *xp, int timeout_ms)
{
	struct pollfd p = { .fd = xp->ops->evtchn_fd(xp->be), .events = POLLIN };

	if (timeout_ms == 0 ||
	    xp_ring_load_idx(xp->ring, XP_RING_OFF_REQ_PROD) != xp->req_cons)
		return 0;
	if (poll(&p, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

int xp_dispatch(struct xpage *xp, int timeout_ms)
{
	int rc;

	if (!xp->enabled)
		return xp_err(ESHUTDOWN);
	if (xp->broken)
		return xp_err(EPROTO);
	rc = wait_event(xp, timeout_ms);
	if (rc == 0)
		rc = xp->ops->ack(xp->be);
	if (rc < 0)
		return xp_err(-rc);
	if (xp->nkept)
		xp_kept_retry(xp);
	xp->in_dispatch = true;
	rc = drain(xp);
	xp->in_dispatch = false;
	/* Answers a callback produced were written to the ring. */
	if (rc >= 0)
		xp_push_responses(xp);
	return rc;
}

XPAGE_API int xpage_dispatch(xpage_t *xp, int timeout_ms)
{
	return XP_GUARDED(xp, XP_NOT_IN_CALLBACK | XP_NEEDS_HV,
			  xp_dispatch(xp, timeout_ms));
}
