/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The handle's life: xpage_open (validate, pick a backend, negotiate,
 * enable the ring), xpage_close / xpage_detach, and the read-only queries
 * (info, stats, fd, gfn state).
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

/* Overridden by backend_xen.c when the library is built with Xen. */
__attribute__((weak)) const struct xp_backend_ops *const xp_backend_xen_ops;

static int open_backend(struct xpage *xp, const struct xpage_open_opts *o,
			const struct xp_backend_ops *forced)
{
	const char *sock = o->sim_socket;
	int rc = -ENOENT;

	if (forced) {
		xp->ops = forced;
		return forced->open(&xp->be, o->domid, o->sim_socket,
				    xp_log_backend, xp);
	}
	if (!sock)
		sock = getenv("XPAGE_SIM_SOCKET");
	if (o->backend == XPAGE_BACKEND_XEN || o->backend == XPAGE_BACKEND_AUTO) {
		if (xp_backend_xen_ops) {
			xp->ops = xp_backend_xen_ops;
			rc = xp->ops->open(&xp->be, o->domid, NULL,
					   xp_log_backend, xp);
			if (rc != -ENOENT || o->backend == XPAGE_BACKEND_XEN)
				return rc;
		} else if (o->backend == XPAGE_BACKEND_XEN) {
			xp_log(xp, XPAGE_LOG_ERROR,
			       "this libxpage was built without the Xen backend");
			return -ENOENT;
		}
	}
	if (!sock) {
		xp_log(xp, XPAGE_LOG_ERROR,
		       "no Xen hypervisor on this machine and no simulator "
		       "socket given (sim_socket or XPAGE_SIM_SOCKET)");
		return -ENOENT;
	}
	xp->ops = &xp_backend_sim;
	return xp->ops->open(&xp->be, o->domid, sock, xp_log_backend, xp);
}

void xp_ring_attach(struct xpage *xp, void *ring)
{
	xp->ring = ring;
	/* Xen's enable resets only its own private indexes (FRONT_RING_INIT):
	 * the shared header is the pager's to initialise, and the page may
	 * hold anything (a re-populated ring gfn gets an unscrubbed frame,
	 * e.g. a dead pager's ring). Done while the domain is paused (see
	 * xp_ring_enable), so no request can be posted before it. */
	memset((void *)xp->ring, 0, XP_RING_HDR_SIZE);
	xp_ring_store_idx(xp->ring, XP_RING_OFF_REQ_EVENT, 1);
	xp_ring_store_idx(xp->ring, XP_RING_OFF_RSP_EVENT, 1);
	xp->rsp_prod_pvt = 0;
	xp->req_cons = 0;
	xp->rsp_unpushed = 0;
	xp->enabled = true;
	xp->broken = false;
	xp->version_confirmed = false;
}

static uint32_t declared_age(const struct xpage *xp)
{
	uint32_t a;

	/* Declare an age only to a hypervisor that has the notion. */
	if (xp->ops->paging_age && xp->ops->paging_age(xp->be, &a) == 0)
		return xp->age;
	return 0;
}

int xp_ring_enable(struct xpage *xp)
{
	void *ring = NULL;
	int prc, rc;

	/* Paused from enable until the header is initialised: a request
	 * posted in between would be wiped (xenpaging has that race). */
	prc = xp->ops->pause(xp->be);
	rc = xp->ops->enable(xp->be, declared_age(xp), &ring);
	if (rc == 0)
		xp_ring_attach(xp, ring);
	if (prc == 0)
		xp->ops->unpause(xp->be);
	return rc;
}

static void log_enable_error(struct xpage *xp, int rc)
{
	if (rc == -EBUSY)
		xp_log(xp, XPAGE_LOG_ERROR,
		       "domain %u already has a paging ring: another pager is "
		       "active, or a previous one died (open with "
		       "XPAGE_OPEN_TAKEOVER to take over)", xp->domid);
	else
		xp_log(xp, XPAGE_LOG_ERROR, "cannot enable paging on domain %u: %s",
		       xp->domid, xpage_strerror(rc));
}

/* Drop the pause XPAGE_OPEN_KEEP_PAUSED took, if still held. */
static int release_pause(struct xpage *xp)
{
	int rc;

	if (!xp->holds_pause)
		return -EALREADY;
	rc = xp->ops->unpause(xp->be);
	if (rc == 0)
		xp->holds_pause = false;
	return rc;
}

static void free_handle(struct xpage *xp)
{
	for (size_t i = 0; i < xp->nregions; i++)
		free(xp->regions[i].gfns);
	free(xp->regions);
	if (xp->be)
		xp->ops->close(xp->be);
	xp_table_fini(&xp->table);
	xp_kept_fini(xp);
	xp_guard_fini(xp);
	xp_hv_fini(xp);
	xp_domain_unlock(xp);
	free(xp->ops_buf);
	free(xp);
}

/* Why a caller's sized struct was refused, in a log line. */
static void log_bad_struct(const struct xpage *xp, const char *what,
			   const void *p, size_t known, int rc)
{
	size_t sz;

	if (!p) {
		xp_log(xp, XPAGE_LOG_ERROR, "xpage_open: no %s (NULL)", what);
		return;
	}
	memcpy(&sz, p, sizeof(sz));
	if (rc == -E2BIG)
		xp_log(xp, XPAGE_LOG_ERROR, "xpage_open: %s of %zu bytes carry "
		       "non-zero bytes past the %zu this library knows (built "
		       "against a newer libxpage?)", what, sz, known);
	else
		xp_log(xp, XPAGE_LOG_ERROR, "xpage_open: %s with sz %zu, which "
		       "no release of the struct had (this library's is %zu): "
		       "initialise them with XPAGE_OPTS()", what, sz, known);
}

/*
 * A handle for the caller's options and callbacks, with its logger set
 * up from the options as soon as they can be read (a refused callbacks
 * struct is then explained through it). NULL with errno if refused.
 */
static struct xpage *new_handle(const struct xpage_open_opts *opts,
				const struct xpage_callbacks *cbs,
				struct xpage_open_opts *o)
{
	struct xpage *xp = calloc(1, sizeof(*xp));
	int rc = XP_OPTS_VALID(opts, xpage_open_opts);

	if (!xp || rc == -EINVAL) {
		free(xp);
		errno = xp ? EINVAL : ENOMEM;
		return NULL;
	}
	/* E2BIG: the fields this library knows are all there. */
	xp_opts_copy(o, sizeof(*o), opts);
	xp->log_fn = o->log_fn;
	xp->log_ctx = o->log_ctx;
	xp->log_level = o->log_level;
	xp->domid = o->domid;
	if (rc < 0)
		log_bad_struct(xp, "open options", opts, sizeof(*o), rc);
	else if ((rc = XP_OPTS_VALID(cbs, xpage_callbacks)) < 0)
		log_bad_struct(xp, "callbacks", cbs, sizeof(xp->cbs), rc);
	if (rc < 0) {
		free(xp);
		errno = -rc;
		return NULL;
	}
	xp_opts_copy(&xp->cbs, sizeof(xp->cbs), cbs);
	xp_guard_init(xp);
	xp->lock_fd = -1;
	return xp;
}

/* What the options ask for must be known; ages default to 1. */
static int check_open_opts(struct xpage *xp, struct xpage_open_opts *o)
{
	if (!xp->cbs.populate) {
		xp_log(xp, XPAGE_LOG_ERROR, "a populate callback is required");
		return -EINVAL;
	}
	if (o->backend > XPAGE_BACKEND_SIM ||
	    (o->flags & ~XPAGE_OPEN_FLAGS_ALL) || (o->ages & ~XPAGE_AGES_ALL) ||
	    ((o->features_required | o->features_wanted) & ~XPAGE_FEAT_ALL)) {
		xp_log(xp, XPAGE_LOG_ERROR,
		       "unknown backend, flag, age or feature bits in open options");
		return -EINVAL;
	}
	if (!o->ages)
		o->ages = XPAGE_AGE_1;
	return 0;
}

/* Attach the backend to the domain and learn what the core needs. */
static int attach_domain(struct xpage *xp, const struct xpage_open_opts *o,
			 const struct xp_backend_ops *forced)
{
	struct xp_dominfo di;
	int rc = open_backend(xp, o, forced);

	if (rc < 0) {
		if (rc != -ENOENT)
			xp_log(xp, XPAGE_LOG_ERROR, "cannot attach to domain %u: %s",
			       o->domid, xpage_strerror(rc));
		return rc;
	}
	rc = xp->ops->domain_info(xp->be, &di);
	if (rc < 0)
		return rc;
	if (di.dying) {
		xp_log(xp, XPAGE_LOG_ERROR, "domain %u is dying", o->domid);
		return -ESRCH;
	}
	if (!di.hvm) {
		/* Xen refuses paging for PV guests, but only after the pager
		 * has asked for the ring's HVM param (EINVAL): say it plainly. */
		xp_log(xp, XPAGE_LOG_ERROR, "domain %u is a PV guest: memory "
		       "paging needs an HVM or PVH guest with hardware-assisted "
		       "paging", o->domid);
		return -ENODEV;
	}
	xp->vcpus = di.vcpus;
	return xp_table_init(&xp->table, di.nr_gfns);
}

/* XPAGE_OPEN_KEEP_PAUSED: paused before the ring, so no vCPU runs until
 * xpage_unpause(). */
static int hold_pause(struct xpage *xp)
{
	int rc = xp->ops->pause(xp->be);

	if (rc < 0)
		xp_log(xp, XPAGE_LOG_ERROR, "cannot pause domain %u: %s",
		       xp->domid, xpage_strerror(rc));
	else
		xp->holds_pause = true;
	return rc;
}

struct xpage *xp_open_with(const struct xp_backend_ops *forced,
			   const struct xpage_open_opts *opts,
			   const struct xpage_callbacks *cbs)
{
	struct xpage_open_opts o;
	struct xpage *xp = new_handle(opts, cbs, &o);
	int rc;

	if (!xp)
		return NULL;
	rc = check_open_opts(xp, &o);
	if (rc == 0)
		rc = attach_domain(xp, &o, forced);
	if (rc == 0)
		rc = xp_domain_lock(xp);
	if (rc == 0)
		rc = xp_negotiate(xp, o.ages, o.features_required,
				  o.features_wanted);
	if (rc == 0 && (o.flags & XPAGE_OPEN_KEEP_PAUSED))
		rc = hold_pause(xp);
	if (rc < 0)
		goto fail;
	rc = xp_ring_open(xp, o.flags & XPAGE_OPEN_TAKEOVER);
	if (rc < 0) {
		log_enable_error(xp, rc);
		goto fail;
	}
	/* Counters start now: the open's answers to every vCPU were
	 * housekeeping on a ring it discarded, not the conversation. */
	xp->stats = (struct xpage_stats){ .sz = sizeof(xp->stats) };
	return xp;
fail:
	release_pause(xp);
	free_handle(xp);
	errno = -rc;
	return NULL;
}

XPAGE_API xpage_t *xpage_open(const struct xpage_open_opts *opts,
			      const struct xpage_callbacks *cbs)
{
	return xp_open_with(NULL, opts, cbs);
}

/* Nominated gfns must not outlive the ring: a guest touching one with no
 * ring crashes the domain. */
static size_t unnominate_all(struct xpage *xp)
{
	enum { CHUNK = 512 };
	uint64_t g[CHUNK];
	int st[CHUNK];
	size_t k = 0, left = 0;

	for (uint64_t gfn = 0; gfn < xp->table.nr; gfn++) {
		if (xp_gfn_state(&xp->table, gfn) == XPAGE_GFN_NOMINATED &&
		    !xp_gfn_flag(&xp->table, gfn, XP_GS_MAPPED))
			g[k++] = gfn;
		if (k && (k == CHUNK || gfn + 1 == xp->table.nr)) {
			xp_unnominate_gfns(xp, g, k, 0, st);
			for (size_t i = 0; i < k; i++)
				left += st[i] != 0;
			k = 0;
		}
	}
	return left;
}

/* Pages still out need a pager: with paging disabled, a guest access to
 * one crashes the domain and the page is lost. Close then leaves the ring
 * enabled for a successor (XPAGE_OPEN_TAKEOVER), as xpage_detach() does;
 * a vCPU that touches such a page waits, paused, for it. */
static int keep_ring_for_successor(struct xpage *xp)
{
	xp_log(xp, XPAGE_LOG_ERROR,
	       "closing with %llu gfns still paged out: paging stays enabled "
	       "so that a guest access to one waits for the next pager (open "
	       "with XPAGE_OPEN_TAKEOVER, adopt and load them) instead of "
	       "crashing the domain",
	       (unsigned long long)xp->stats.evicted_now);
	if (xp->table.used)
		xp_log(xp, XPAGE_LOG_WARN,
		       "%zu paged-out gfns requested by the guest: their vCPUs "
		       "stay paused until the next pager answers",
		       xp->table.used);
	if (xp->ops->forget)
		xp->ops->forget(xp->be);
	return -ENOTEMPTY;
}

/* Close's work on an enabled ring, with the domain paused: nothing left
 * mapped or nominated, every request read, paging disabled unless pages
 * are still out. Returns the disable's answer, or -ENOTEMPTY. */
static int close_ring(struct xpage *xp)
{
	int rc, prc;

	/* With the domain paused no vCPU can fault anew, so the last drain
	 * sees every request: a request left on the ring at disable would
	 * leave its vCPU paused for good. */
	prc = xp->ops->pause(xp->be);
	xp->closing = true;
	xp_unmap_all(xp);
	/* Touched ones settle through their evict-fail notices, others in
	 * use elsewhere may need another try. */
	for (int round = 0; round < 3; round++) {
		size_t left = unnominate_all(xp);

		if (!xp->broken)
			xp_dispatch(xp, 0);
		if (!left)
			break;
	}
	if (xp->nkept && !xp->broken)
		xp_kept_close(xp, XP_KEPT_CLOSE_MS);
	xp_push_responses(xp);
	xp_release_held(xp);
	if (xp->stats.evicted_now && !xp->broken) {
		rc = keep_ring_for_successor(xp);
		if (prc == 0)
			xp->ops->unpause(xp->be);
		return rc;
	}
	rc = xp->ops->disable(xp->be);
	/* Xen refuses while vCPUs wait in its queue for ring space; paused,
	 * they cannot take the slots the drain freed. Let them run briefly
	 * to post (or find their page present), answer, pause, try again.
	 * Requests held for paged-out gfns are never released here: such a
	 * vCPU would fault again with no ring. */
	for (int t = 0; rc == -EBUSY && t < 100 && !xp->broken; t++) {
		if (prc == 0)
			xp->ops->unpause(xp->be);
		xp_dispatch(xp, 10);
		prc = xp->ops->pause(xp->be);
		xp_dispatch(xp, 0);
		unnominate_all(xp);
		rc = xp->ops->disable(xp->be);
	}
	if (rc < 0)
		xp_log(xp, XPAGE_LOG_ERROR, "disabling paging failed: %s%s",
		       xpage_strerror(rc), rc == -EBUSY ?
		       " (vCPUs wait for ring space behind requests for "
		       "paged-out gfns: load them before closing)" : "");
	if (prc == 0)
		xp->ops->unpause(xp->be);
	return rc;
}

/* The handle in a child made by fork(): the domain is the parent's. Only
 * this process's memory is released; descriptors stay open in the child
 * until it exits or execs (they are close-on-exec). */
static void close_in_child(struct xpage *xp)
{
	xp->be = NULL;
	free_handle(xp);
}

/* The entry of close and detach: 0 to go on (the handle is released in
 * the end whatever happens), 1 when it was a child's copy (released
 * here), or the guard's negative errno (nothing released). */
static int enter_release(struct xpage *xp)
{
	int rc = xp_enter(xp, XP_NOT_IN_CALLBACK);

	if (rc != -ECHILD)
		return rc;
	close_in_child(xp);
	return 1;
}

/* The end of close and detach: the handle goes, @rc is the answer. */
static int released(struct xpage *xp, int rc)
{
	free_handle(xp);
	if (rc < 0)
		errno = -rc;
	return rc;
}

XPAGE_API int xpage_close(xpage_t *xp)
{
	int rc = xp ? enter_release(xp) : 1;

	if (rc)
		return rc > 0 ? 0 : xp_err(-rc);
	rc = xp_conn_error(xp);
	if (rc < 0)
		xp_log(xp, XPAGE_LOG_ERROR, "closing without the hypervisor: "
		       "%s; paging stays enabled", xpage_strerror(rc));
	else
		xp_logdirty_release(xp);
	if (rc == 0 && xp->enabled)
		rc = close_ring(xp);
	if (!xp_conn_error(xp))
		release_pause(xp);
	return released(xp, rc);
}

XPAGE_API int xpage_detach(xpage_t *xp, int keep_paused)
{
	int rc = xp ? enter_release(xp) : 1;

	if (rc)
		return rc > 0 ? 0 : xp_err(-rc);
	rc = xp_conn_error(xp);
	/* A pause the handle holds (XPAGE_OPEN_KEEP_PAUSED) is handed over
	 * as the one keep_paused asks for. */
	if (rc == 0)
		xp_logdirty_release(xp);
	if (rc == 0 && keep_paused && !xp->holds_pause)
		rc = xp->ops->pause(xp->be);
	if (xp->enabled && !xp_conn_error(xp)) {
		/* Nothing half-done is handed over: the pager's mappings go and
		 * nominated gfns become ordinary pages again (a successor
		 * knows only what was evicted). */
		bool was = xp->closing;

		xp->closing = true;
		xp_unmap_all(xp);
		for (int round = 0; round < 3 && unnominate_all(xp); round++)
			if (!xp->broken)
				xp_dispatch(xp, 0);
		if (xp->nkept && !xp->broken)
			xp_kept_close(xp, XP_KEPT_CLOSE_MS);
		/* Old Xen: every request read, to release its vCPU. */
		if (!xp->broken && xp->generation < XPAGE_GEN_MEM_EVENT_45)
			xp_dispatch(xp, 0);
		xp_release_held(xp);
		xp->closing = was;
		xp_push_responses(xp);
	}
	if (xp->enabled && xp->ops->forget)
		xp->ops->forget(xp->be);
	if (!keep_paused && !xp_conn_error(xp))
		release_pause(xp);
	return released(xp, rc);
}

static int get_info(const xpage_t *xp, struct xpage_info *info)
{
	struct xpage_info i;
	int rc;

	rc = XP_OPTS_VALID(info, xpage_info);
	if (rc < 0)
		return xp_err(-rc);
	memset(&i, 0, sizeof(i));
	i.sz = sizeof(i);
	i.domid = xp->domid;
	i.age = xp->age;
	i.generation = xp->generation;
	i.xen_major = xp->xen_major;
	i.xen_minor = xp->xen_minor;
	i.vcpus = xp->vcpus;
	i.features = xp->features;
	i.hv_features = xp->hv_features;
	/* A backend may give up multicalls after open (the hypervisor
	 * refused one): say what is in force now. */
	if (!xp->ops->can_multicall || xp->ops->can_multicall(xp->be) <= 0)
		i.features &= ~XPAGE_FEAT_MULTICALL;
	i.nr_gfns = xp->table.nr;
	i.ring_slots = xp->layout ? xp->layout->nr_slots : 0;
	i.took_over = xp->took_over;
	i.backend = xp->ops->name;
	i.xen_library = xp->ops->tool_library ? xp->ops->tool_library(xp->be)
					       : NULL;
	i.request_version = xp->last_req_version;
	xp_opts_export(info, &i, XP_KNOWN_SIZE(xpage_info));
	return 0;
}

static int get_stats(const xpage_t *xp, struct xpage_stats *st)
{
	int rc;

	rc = XP_OPTS_VALID(st, xpage_stats);
	if (rc < 0)
		return xp_err(-rc);
	xp_opts_export(st, &xp->stats, XP_KNOWN_SIZE(xpage_stats));
	return 0;
}

static int event_fd(const xpage_t *xp)
{
	if (!xp->enabled)
		return xp_err(ESHUTDOWN);
	return xp->ops->evtchn_fd(xp->be);
}

static int state_of(const xpage_t *xp, uint64_t gfn)
{
	if (gfn >= xp->table.nr)
		return xp_err(ERANGE);
	return (int)xp_gfn_state(&xp->table, gfn);
}

static int unpause(xpage_t *xp)
{
	int rc = release_pause(xp);

	return rc < 0 ? xp_err(-rc) : 0;
}

/* Ends the pause XPAGE_OPEN_KEEP_PAUSED holds; -EALREADY when none is
 * held (never taken, or already ended). */
XPAGE_API int xpage_unpause(xpage_t *xp)
{
	return XP_GUARDED(xp, XP_NOT_IN_CALLBACK | XP_NEEDS_HV, unpause(xp));
}

/* What the library's own records say is answered without the hypervisor,
 * also after the connection to it is gone: a pager may need it to save
 * its state. */
XPAGE_API int xpage_get_info(const xpage_t *xp, struct xpage_info *info)
{
	return XP_GUARDED(xp, 0, get_info(xp, info));
}

XPAGE_API int xpage_get_stats(const xpage_t *xp, struct xpage_stats *st)
{
	return XP_GUARDED(xp, 0, get_stats(xp, st));
}

XPAGE_API int xpage_gfn_state(const xpage_t *xp, uint64_t gfn)
{
	return XP_GUARDED(xp, 0, state_of(xp, gfn));
}

XPAGE_API int xpage_fd(const xpage_t *xp)
{
	return XP_GUARDED(xp, XP_NEEDS_HV, event_fd(xp));
}
