/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulator's socket: SOCK_SEQPACKET, one thread per connection, one
 * request -> one reply (simproto.h). Hypercall-like ops act on the domain
 * the connection attached to; control ops name their domain.
 *
 * Choices the protocol header leaves open (documented for clients):
 *   - A hypercall op on a connection that has not attached: -ENOTCONN.
 *     A second SIMP_ATTACH on one connection: -EISCONN.
 *   - A crashed or destroyed domain answers -ESRCH to every hypercall op
 *     except SIMP_DOMAIN_INFO (which reports crashed = 1), the version
 *     queries and SIMP_UNMAP (a client can always let go).
 *   - SIMP_MULTICALL/SIMP_MAP/SIMP_UNMAP reply status 0 with one result
 *     per entry; only a malformed request fails as a whole (-EINVAL).
 *   - SIMP_HELLO takes an optional simp_u32 {protocol version} (another
 *     version: -EPROTONOSUPPORT) and answers simp_u32 {SIMP_PROTO_VERSION}.
 *   - SIMP_RELEASE: simp_touch.vcpu may be SIMP_VCPU_ANY (an idle vCPU is
 *     chosen); with XPAGE_SIM_TOUCH_FOREIGN it acts like a toolstack's
 *     decrease_reservation. SIMP_TOUCH/SIMP_RELEASE by a vCPU that cannot
 *     run now (paused, blocked, already waiting): -EBUSY.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "maptab.h"
#include "page_offline.h"
#include "sim.h"

#ifndef SIMP_VCPU_ANY /* simproto.h: any vCPU that can run now */
#define SIMP_VCPU_ANY 0xffffffffu
#endif

struct conn {
	int fd;
	pthread_t thread;
	bool done;
	struct conn *next;
	struct sim_guest *g;    /* attached domain (atomic: settle_hangups) */
	bool maps_dropped;      /* its mappings released (under the guest lock) */
	int bounce_fd;
	uint8_t *bounce;
	struct maptab maps;
	uint8_t *req, *rsp;     /* SIMP_MAX_PAYLOAD each */
	uint32_t spin_misses;   /* spins in a row that found no request */
	uint32_t spin_skip;     /* requests to wait for without spinning */
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static int stop_efd = -1;
/* --spin-us: how long a connection thread polls its socket before it
 * sleeps in recvmsg(). Set once, before server_run(). */
static uint32_t spin_us = SERVER_SPIN_US_DEFAULT;

void server_set_spin_us(uint32_t us)
{
	spin_us = us;
}

/* --parent-fd: the read end of a pipe whose write end only the starter
 * holds; end of file means the starter is gone. */
static int parent_fd = -1;

void server_set_parent_fd(int fd)
{
	parent_fd = fd;
}

void server_request_stop(void)
{
	uint64_t one = 1;

	if (stop_efd >= 0 && write(stop_efd, &one, sizeof(one)) < 0) {
		/* saturated: a stop is pending anyway */
	}
}

/* ------------------------------------------------------- connection */

static void drop_mapping(void *ctx, uint64_t gfn, uint32_t count)
{
	struct sim_guest *g = ctx;

	while (count--)
		guest_frame_put(g, gfn);
}

static void conn_detach(struct conn *c)
{
	struct sim_guest *g = c->g;

	if (g) {
		guest_lock(g);
		if (!c->maps_dropped)
			maptab_drain(&c->maps, drop_mapping, g);
		c->maps_dropped = true;
		guest_unlock(g);
		__atomic_store_n(&c->g, NULL, __ATOMIC_RELAXED);
		guest_put(g);
	}
	if (c->bounce)
		munmap(c->bounce, (size_t)SIMP_BOUNCE_SLOTS * SIM_PAGE);
	c->bounce = NULL;
	if (c->bounce_fd >= 0)
		close(c->bounce_fd);
	c->bounce_fd = -1;
	maptab_free(&c->maps);
}

/*
 * locked (@g): release now the mappings of @g's connections whose client
 * is gone (its socket hung up) though their threads have not seen it yet.
 * On Xen a process's foreign mappings go when it exits, before anyone can
 * see it dead; here the hang-up is noticed by the connection's thread a
 * little later, and a successor that populates the dead pager's ring gfn
 * meanwhile would find its frame still referenced (-EBUSY).
 */
static void settle_hangups(struct conn *self, struct sim_guest *g)
{
	pthread_mutex_lock(&conns_lock);
	for (struct conn *c = conns; c; c = c->next) {
		struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

		if (c == self || c->maps_dropped ||
		    __atomic_load_n(&c->g, __ATOMIC_RELAXED) != g ||
		    poll(&p, 1, 0) <= 0 ||
		    !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			continue;
		maptab_drain(&c->maps, drop_mapping, g);
		c->maps_dropped = true;
		sim_log(SIM_LOG_DEBUG, "d%u: the mappings of a client that "
			"hung up are released", g->domid);
	}
	pthread_mutex_unlock(&conns_lock);
}

/* ------------------------------------------------------------- ops */

struct reply {
	uint32_t len;
	int fds[SIMP_MAX_FDS];
	int nfds;
};

#define NEED(len, type) do { if ((len) < sizeof(type)) return -EINVAL; } while (0)
/* A request *@q of @len bytes holding q->n elements of q->@arr, at most
 * @max: else -EINVAL. */
#define NEED_ARRAY(len, q, arr, max) do {				\
	NEED(len, *(q));						\
	if ((q)->n > (max) ||						\
	    (len) < sizeof(*(q)) + (size_t)(q)->n * sizeof((q)->arr[0]))	\
		return -EINVAL;						\
} while (0)

/* Bytes of a SIMP_RSP_RESULTS reply with @n results. */
static uint32_t results_len(uint32_t n)
{
	return (uint32_t)(sizeof(struct simp_results) + n * sizeof(int32_t));
}

static int op_attach(struct conn *c, const void *p, uint32_t len,
		     struct reply *r)
{
	uint32_t domid;
	struct sim_guest *g;
	size_t bsz = (size_t)SIMP_BOUNCE_SLOTS * SIM_PAGE;

	if (len < sizeof(uint32_t))
		return -EINVAL;
	if (c->g)
		return -EISCONN;
	memcpy(&domid, p, sizeof(domid));
	g = guest_get(domid);
	if (!g)
		return -ESRCH;
	c->bounce_fd = memfd_create("xpage-sim-bounce", MFD_CLOEXEC);
	if (c->bounce_fd < 0 || ftruncate(c->bounce_fd, (off_t)bsz) < 0)
		goto fail;
	c->bounce = mmap(NULL, bsz, PROT_READ, MAP_SHARED, c->bounce_fd, 0);
	if (c->bounce == MAP_FAILED) {
		c->bounce = NULL;
		goto fail;
	}
	__atomic_store_n(&c->g, g, __ATOMIC_RELAXED);
	guest_lock(g);
	guest_dominfo(g, (struct simp_dominfo *)c->rsp);
	guest_unlock(g);
	r->len = sizeof(struct simp_dominfo);
	r->fds[0] = g->memfd;
	r->fds[1] = c->bounce_fd;
	r->nfds = 2;
	return 0;
fail: {
	int e = -errno;

	if (c->bounce_fd >= 0)
		close(c->bounce_fd);
	c->bounce_fd = -1;
	guest_put(g);
	return e;
}
}

static int op_enable(struct conn *c, const void *p, uint32_t len,
		     struct reply *r)
{
	struct sim_guest *g = c->g;
	struct simp_u32 port = { 0, 0 };
	uint32_t age = 0;
	int rc;

	if (len >= sizeof(uint32_t))
		memcpy(&age, p, sizeof(age));
	guest_lock(g);
	rc = ring_enable(g, age, r->fds, &port.v);
	guest_unlock(g);
	if (rc)
		return rc;
	r->nfds = 2;
	memcpy(c->rsp, &port, sizeof(port));
	r->len = sizeof(port);
	return 0;
}

static int op_disable(struct conn *c)
{
	struct sim_ring *ring = NULL;
	int rc;

	guest_lock(c->g);
	rc = ring_disable(c->g, false, &ring);
	guest_unlock(c->g);
	ring_free(ring);
	return rc;
}

static int op_multicall(struct conn *c, const void *p, uint32_t len,
			struct reply *r)
{
	const struct simp_multicall *m = p;
	struct simp_results *res = (struct simp_results *)c->rsp;
	struct sim_guest *g = c->g;

	NEED_ARRAY(len, m, ops, SIMP_MULTICALL_MAX);
	res->n = m->n;
	guest_lock(g);
	for (uint32_t i = 0; i < m->n; i++)
		res->rc[i] = paging_op(g, &m->ops[i], c->bounce);
	guest_unlock(g);
	r->len = results_len(m->n);
	return 0;
}

/* Locked: map @gfn for the connection (a foreign mapping). */
static int map_one(struct conn *c, uint64_t gfn)
{
	int rc = guest_check_live(c->g);

	if (!rc)
		rc = paging_foreign_map(c->g, gfn);
	if (!rc && maptab_add(&c->maps, gfn) < 0) {
		guest_frame_put(c->g, gfn);
		rc = -ENOMEM;
	}
	return rc;
}

/* Locked: drop the connection's mapping of @gfn. */
static int unmap_one(struct conn *c, uint64_t gfn)
{
	/* (a gfn past the guest was never mapped: also keeps the table's
	 * empty-slot key out of the lookup) */
	int rc = gfn < c->g->nr_gfns ? maptab_del(&c->maps, gfn) : -ENOENT;

	if (rc)
		return -EINVAL; /* this connection did not map it */
	guest_frame_put(c->g, gfn);
	return 0;
}

/* SIMP_MAP / SIMP_UNMAP: @one for each gfn of the request, under the
 * guest lock, a result each. */
static int each_gfn(struct conn *c, const void *p, uint32_t len,
		    struct reply *r, int (*one)(struct conn *, uint64_t))
{
	const struct simp_gfns *q = p;
	struct simp_results *res = (struct simp_results *)c->rsp;

	NEED_ARRAY(len, q, gfns, SIMP_GFNS_MAX);
	if (one == map_one &&
	    q->prot != PROT_READ && q->prot != (PROT_READ | PROT_WRITE))
		return -EINVAL;
	res->n = q->n;
	guest_lock(c->g);
	for (uint32_t i = 0; i < q->n; i++)
		res->rc[i] = one(c, q->gfns[i]);
	guest_unlock(c->g);
	r->len = results_len(q->n);
	return 0;
}

static int op_dominfo(struct conn *c, struct reply *r)
{
	guest_lock(c->g);
	guest_dominfo(c->g, (struct simp_dominfo *)c->rsp);
	guest_unlock(c->g);
	r->len = sizeof(struct simp_dominfo);
	return 0;
}

/* The version queries: Xen's version, the vm_event interface version
 * and the paging age (-ENOSYS where the personality has no answer). */
static int op_version(struct conn *c, uint16_t op, struct reply *r)
{
	const struct sim_personality *pers = c->g->pers;

	if (op == SIMP_XEN_VERSION) {
		struct simp_u32x2 v = { pers->xen_major, pers->xen_minor };

		memcpy(c->rsp, &v, sizeof(v));
		r->len = sizeof(v);
		return 0;
	}
	struct simp_u32 v = { op == SIMP_PAGING_AGE ? pers->paging_age
						    : pers->vm_event_version, 0 };

	if (!v.v)
		return -ENOSYS;
	memcpy(c->rsp, &v, sizeof(v));
	r->len = sizeof(v);
	return 0;
}

static int op_get_param(struct conn *c, const void *p, uint32_t len,
			struct reply *r)
{
	struct simp_u64 v = { 0 };
	uint32_t param;

	NEED(len, uint32_t);
	memcpy(&param, p, sizeof(param));
	if ((c->g->flags & SIM_GUEST_PV) || param >= 64)
		return -EINVAL;
	if (param == SIMP_HVM_PARAM_PAGING_RING_PFN)
		v.v = c->g->ring_gfn;
	memcpy(c->rsp, &v, sizeof(v));
	r->len = sizeof(v);
	return 0;
}

/* SIMP_POPULATE_PHYSMAP / SIMP_DECREASE_RESERVATION of one gfn. */
static int op_physmap(struct conn *c, uint16_t op, const void *p,
		      uint32_t len)
{
	struct sim_guest *g = c->g;
	struct simp_u64 gfn;
	int rc;

	NEED(len, struct simp_u64);
	memcpy(&gfn, p, sizeof(gfn));
	guest_lock(g);
	rc = guest_check_live(g);
	if (!rc && op == SIMP_POPULATE_PHYSMAP) {
		settle_hangups(c, g);
		rc = paging_populate_physmap(g, gfn.v);
	} else if (!rc) {
		rc = gfn.v >= g->nr_gfns ? -EINVAL : paging_remove(g, gfn.v, NULL);
	}
	guest_unlock(g);
	return rc;
}

/* The toolstack's pause count (SIMP_PAUSE / SIMP_UNPAUSE). */
static int op_pause(struct conn *c, uint16_t op)
{
	struct sim_guest *g = c->g;
	int rc;

	guest_lock(g);
	rc = guest_check_live(g);
	if (!rc && op == SIMP_PAUSE) {
		g->pause_count++;
	} else if (!rc) {
		if (!g->pause_count)
			rc = -EINVAL; /* not paused */
		else if (--g->pause_count == 0)
			guest_kick_all(g);
	}
	guest_unlock(g);
	return rc;
}

static int op_paging(struct conn *c, const void *p, uint32_t len)
{
	struct simp_paging_op o;
	int rc;

	NEED(len, struct simp_paging_op);
	memcpy(&o, p, sizeof(o));
	guest_lock(c->g);
	rc = paging_op(c->g, &o, c->bounce);
	guest_unlock(c->g);
	return rc;
}

/* The gfns of the walks Xen makes itself: to each vCPU's runstate area
 * (SIMP_RUNSTATE_GFNS, runstate.c) or kernel stack (SIMP_STACK_GFNS,
 * hypercall.c), and the kernel's code (SIMP_KCODE_GFNS, kcode.c). */
static int op_walks(struct conn *c, uint16_t op, struct reply *r)
{
	guest_lock(c->g);
	if (op == SIMP_KCODE_GFNS) {
		kcode_range(c->g, (struct simp_range *)(void *)c->rsp);
		r->len = sizeof(struct simp_range);
	} else if (op == SIMP_STACK_GFNS) {
		hypercall_gfns(c->g, (struct simp_stacks *)(void *)c->rsp);
		r->len = sizeof(struct simp_stacks);
	} else {
		runstate_gfns(c->g, (struct simp_runstate *)(void *)c->rsp);
		r->len = sizeof(struct simp_runstate);
	}
	guest_unlock(c->g);
	return 0;
}

/* SIMP_LOGDIRTY (writes.c). */
static int op_logdirty(struct conn *c, const void *p, uint32_t len,
		       struct reply *r)
{
	struct simp_logdirty_req q;
	int rc;

	NEED(len, struct simp_logdirty_req);
	memcpy(&q, p, sizeof(q));
	guest_lock(c->g);
	rc = writes_op(c->g, &q, (struct simp_logdirty *)(void *)c->rsp);
	guest_unlock(c->g);
	r->len = rc ? 0 : sizeof(struct simp_logdirty);
	return rc;
}

/* Hypercall ops: the attached domain. The queries and mappings answer
 * whatever the domain's state; the rest first check that it lives. */
static int hypercall(struct conn *c, uint16_t op, const void *p, uint32_t len,
		     struct reply *r)
{
	int rc;

	if (!c->g)
		return -ENOTCONN;
	switch (op) {
	case SIMP_DOMAIN_INFO:
		return op_dominfo(c, r);
	case SIMP_XEN_VERSION:
	case SIMP_VM_EVENT_VERSION:
	case SIMP_PAGING_AGE:
		return op_version(c, op, r);
	case SIMP_UNMAP:
		return each_gfn(c, p, len, r, unmap_one);
	case SIMP_MULTICALL:
		return op_multicall(c, p, len, r);
	case SIMP_MAP:
		return each_gfn(c, p, len, r, map_one);
	default:
		break;
	}
	guest_lock(c->g);
	rc = guest_check_live(c->g);
	guest_unlock(c->g);
	if (rc)
		return rc;
	switch (op) {
	case SIMP_GET_PARAM:
		return op_get_param(c, p, len, r);
	case SIMP_POPULATE_PHYSMAP:
	case SIMP_DECREASE_RESERVATION:
		return op_physmap(c, op, p, len);
	case SIMP_ENABLE:
		return op_enable(c, p, len, r);
	case SIMP_DISABLE:
		return op_disable(c);
	case SIMP_PAUSE:
	case SIMP_UNPAUSE:
		return op_pause(c, op);
	case SIMP_PAGING_OP:
		return op_paging(c, p, len);
	case SIMP_RUNSTATE_GFNS:
	case SIMP_STACK_GFNS:
	case SIMP_KCODE_GFNS:
		return op_walks(c, op, r);
	case SIMP_LOGDIRTY:
		return op_logdirty(c, p, len, r);
	default:
		return -ENOSYS;
	}
}

static int op_touch(struct sim_guest *g, const struct simp_touch *t,
		    bool release)
{
	bool foreign = t->flags & SIM_TOUCH_FOREIGN;
	struct sim_vcpu *v = NULL;
	int rc;

	if (t->flags & ~(SIM_TOUCH_WRITE | SIM_TOUCH_FOREIGN))
		return -EINVAL;
	if (g->destroyed)
		return -ESRCH;
	if (g->crashed)
		return -ESHUTDOWN;
	if (t->gfn >= g->nr_gfns)
		return -ERANGE;
	if (!foreign) {
		/* A vCPU that was answered but has not re-executed its
		 * faulting access yet does so first. */
		if (release && t->vcpu == SIMP_VCPU_ANY) {
			for (uint32_t i = 0; i < g->nvcpus; i++)
				vcpu_run_pending(&g->vcpu[i]);
			v = vcpu_pick_idle(g, 0);
			if (!v)
				return -EBUSY;
		} else if (t->vcpu >= g->nvcpus) {
			return -EINVAL;
		} else {
			v = &g->vcpu[t->vcpu];
			if (!vcpu_run_pending(v) || v->in_waitqueue)
				return -EBUSY;
		}
	}
	if (release) {
		rc = paging_remove(g, t->gfn, v);
		return rc;
	}
	if (foreign)
		return foreign_access(g, t->gfn, t->flags & SIM_TOUCH_WRITE);
	return vcpu_access(v, t->gfn, t->flags & SIM_TOUCH_WRITE);
}

/* SIMP_GFN_STATE / SIMP_VCPU_STATE: the state of the gfn / vCPU a
 * simp_touch names, read under the guest lock; no such gfn: -ERANGE, no
 * such vCPU: -EINVAL, with an empty reply. */
static int op_state(struct conn *c, struct sim_guest *g, uint16_t op,
		    const void *p, uint32_t len, struct reply *r)
{
	struct simp_touch t;
	union {
		struct simp_gfn_state gfn;
		struct simp_vcpu_state vcpu;
	} s;
	bool gfn = op == SIMP_GFN_STATE;
	uint32_t size = gfn ? sizeof(s.gfn) : sizeof(s.vcpu);
	int rc = 0;

	if (len < sizeof(t))
		return -EINVAL;
	memcpy(&t, p, sizeof(t));
	memset(&s, 0, sizeof(s));
	guest_lock(g);
	if (gfn && t.gfn >= g->nr_gfns) {
		rc = -ERANGE;
	} else if (gfn) {
		s.gfn.p2mt = g->gfn[t.gfn].p2mt;
		s.gfn.refcount = g->gfn[t.gfn].refs;
		s.gfn.has_frame = !!(g->gfn[t.gfn].flags & SG_FRAME);
		s.gfn.mfn = s.gfn.has_frame ? g->mfn[t.gfn] : SIM_MFN_NONE;
	} else if (t.vcpu >= g->nvcpus) {
		rc = -EINVAL;
	} else {
		s.vcpu.vm_event_pause_count =
			(uint32_t)g->vcpu[t.vcpu].vm_event_pause;
		s.vcpu.blocked = g->vcpu[t.vcpu].blocked;
		s.vcpu.in_waitqueue = g->vcpu[t.vcpu].in_waitqueue;
	}
	guest_unlock(g);
	memcpy(c->rsp, &s, size);
	r->len = rc ? 0 : size;
	return rc;
}

static int op_create_guest(struct conn *c, const void *p, uint32_t len,
			   struct reply *r)
{
	struct simp_guest q;
	struct simp_u32 d = { 0, 0 };
	int rc;

	NEED(len, struct simp_guest);
	memcpy(&q, p, sizeof(q));
	rc = guest_create(&q, &d.v);
	if (rc)
		return rc;
	memcpy(c->rsp, &d, sizeof(d));
	r->len = sizeof(d);
	return 0;
}

static int op_personalities(struct conn *c, struct reply *r)
{
	size_t n = sim_personality_list((char *)c->rsp, SIMP_MAX_PAYLOAD);

	if (n >= SIMP_MAX_PAYLOAD)
		return -ENOSPC;
	r->len = (uint32_t)n;
	return 0;
}

static int op_report(struct conn *c, struct sim_guest *g, const void *p,
		     uint32_t len, struct reply *r)
{
	struct simp_report_req q;

	NEED(len, struct simp_report_req);
	memcpy(&q, p, sizeof(q));
	if (q.flags & ~1u)
		return -EINVAL;
	oracle_report(g, &q, (struct simp_report *)c->rsp);
	r->len = sizeof(struct simp_report);
	return 0;
}

/* The control ops on guest @g that run under its lock, each after
 * checking that the payload holds what it reads. */
static int op_locked(struct sim_guest *g, uint16_t op, const void *p,
		     uint32_t len)
{
	uint32_t size = op == SIMP_WORKLOAD ? sizeof(struct simp_workload) :
			op == SIMP_FAULTS ? sizeof(struct simp_faults) :
			op == SIMP_LOGDIRTY_HOLD ? sizeof(struct simp_u32x2) :
			op == SIMP_WORKLOAD_STOP ? 0 : sizeof(struct simp_touch);
	int rc = 0;

	if (len < size)
		return -EINVAL;
	guest_lock(g);
	if (op == SIMP_WORKLOAD)
		rc = workload_set(g, p);
	else if (op == SIMP_WORKLOAD_STOP)
		workload_stop(g);
	else if (op == SIMP_FAULTS)
		rc = faults_set(g, p);
	else if (op == SIMP_LOGDIRTY_HOLD)
		rc = writes_hold(g, ((const struct simp_u32x2 *)p)->b != 0);
	else
		rc = op_touch(g, p, op == SIMP_RELEASE);
	guest_unlock(g);
	return rc;
}

/* Control ops on the guest a payload names. */
static int control_guest(struct conn *c, uint16_t op, const void *p,
			 uint32_t len, struct reply *r)
{
	struct sim_guest *g;
	uint32_t domid;
	int rc;

	if (len < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&domid, p, sizeof(domid));
	if (op == SIMP_DESTROY_GUEST)
		return guest_destroy(domid);
	g = guest_get(domid);
	if (!g)
		return -ESRCH;
	switch (op) {
	case SIMP_WORKLOAD:
	case SIMP_WORKLOAD_STOP:
	case SIMP_FAULTS:
	case SIMP_TOUCH:
	case SIMP_RELEASE:
	case SIMP_LOGDIRTY_HOLD:
		rc = op_locked(g, op, p, len);
		break;
	case SIMP_REPORT:
		rc = op_report(c, g, p, len, r);
		break;
	case SIMP_GFN_STATE:
	case SIMP_VCPU_STATE:
		rc = op_state(c, g, op, p, len, r);
		break;
	default:
		rc = -ENOSYS;
		break;
	}
	guest_put(g);
	return rc;
}

/* SIMP_PAGE_OFFLINE: the host's frames (frames.c). */
static int op_page_offline(struct conn *c, const void *p, uint32_t len,
			   struct reply *r)
{
	struct simp_pgoff *out = (struct simp_pgoff *)(void *)c->rsp;
	struct simp_pgoff_req q;

	NEED(len, struct simp_pgoff_req);
	memcpy(&q, p, sizeof(q));
	if (q.end < q.start || q.end - q.start >= SIMP_PGOFF_MAX ||
	    q.cmd < XP_PGOFF_OFFLINE || q.cmd > XP_PGOFF_QUERY)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->n = (uint32_t)(q.end - q.start + 1);
	out->ret = frames_offline_op(q.cmd, q.start, q.end, out->status);
	r->len = sizeof(*out);
	return 0;
}

/* SIMP_M2P: the host's machine-to-phys table (frames.c). */
static int op_m2p(struct conn *c, const void *p, uint32_t len,
		  struct reply *r)
{
	struct simp_m2p *out = (struct simp_m2p *)(void *)c->rsp;
	const struct simp_m2p_req *q = p;

	if (len < sizeof(*q) || q->n > SIMP_M2P_MAX ||
	    len < sizeof(*q) + q->n * sizeof(q->mfn[0]))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->n = q->n;
	out->max_mfn = frames_m2p(q->mfn, q->n, out->gfn);
	r->len = sizeof(*out);
	return 0;
}

/* Control ops: any connection, the domain named in the payload. */
static int control(struct conn *c, uint16_t op, const void *p, uint32_t len,
		   struct reply *r)
{
	switch (op) {
	case SIMP_CREATE_GUEST:
		return op_create_guest(c, p, len, r);
	case SIMP_PERSONALITIES:
		return op_personalities(c, r);
	case SIMP_PAGE_OFFLINE:
		return op_page_offline(c, p, len, r);
	case SIMP_M2P:
		return op_m2p(c, p, len, r);
	case SIMP_SHUTDOWN:
		/* The stop is requested once the reply is out (conn_thread):
		 * stopping shuts every connection down. */
		return 0;
	default:
		return control_guest(c, op, p, len, r);
	}
}

static int dispatch(struct conn *c, const struct simp_hdr *h, struct reply *r)
{
	const void *p = c->req;

	switch (h->op) {
	case SIMP_HELLO: {
		struct simp_u32 v = { SIMP_PROTO_VERSION, 0 };

		if (h->len >= sizeof(uint32_t)) {
			uint32_t want;

			memcpy(&want, p, sizeof(want));
			if (want != SIMP_PROTO_VERSION)
				return -EPROTONOSUPPORT;
		}
		memcpy(c->rsp, &v, sizeof(v));
		r->len = sizeof(v);
		return 0;
	}
	case SIMP_ATTACH:
		return op_attach(c, p, h->len, r);
	case SIMP_DOMAIN_INFO:
	case SIMP_XEN_VERSION:
	case SIMP_VM_EVENT_VERSION:
	case SIMP_PAGING_AGE:
	case SIMP_GET_PARAM:
	case SIMP_POPULATE_PHYSMAP:
	case SIMP_DECREASE_RESERVATION:
	case SIMP_ENABLE:
	case SIMP_DISABLE:
	case SIMP_PAUSE:
	case SIMP_UNPAUSE:
	case SIMP_PAGING_OP:
	case SIMP_MULTICALL:
	case SIMP_MAP:
	case SIMP_UNMAP:
	case SIMP_RUNSTATE_GFNS:
	case SIMP_STACK_GFNS:
	case SIMP_KCODE_GFNS:
	case SIMP_LOGDIRTY:
		return hypercall(c, h->op, p, h->len, r);
	case SIMP_CREATE_GUEST:
	case SIMP_DESTROY_GUEST:
	case SIMP_WORKLOAD:
	case SIMP_WORKLOAD_STOP:
	case SIMP_FAULTS:
	case SIMP_TOUCH:
	case SIMP_RELEASE:
	case SIMP_REPORT:
	case SIMP_PERSONALITIES:
	case SIMP_GFN_STATE:
	case SIMP_VCPU_STATE:
	case SIMP_SHUTDOWN:
	case SIMP_LOGDIRTY_HOLD:
	case SIMP_PAGE_OFFLINE:
	case SIMP_M2P:
		return control(c, h->op, p, h->len, r);
	default:
		return -ENOSYS;
	}
}

/* Before sleeping for the next request, poll the socket for up to
 * spin_us. A hypercall runs on the caller's CPU: Xen has no wake-up in
 * it, while a thread sleeping in recvmsg() costs one on every call that
 * follows a pause (3.5 us back to back, 10-70 us once the vCPU it runs on
 * has halted: bench/RESULTS.md, "Noise"). A request that comes within the
 * cap is taken without that wake-up; after the cap the thread sleeps as
 * before.
 *
 * On two CPUs a spinning thread takes a CPU from the threads that would
 * make the next request (a page-in's pager and vCPU threads: three
 * connections each wait a whole page-in for their next request). So a
 * connection whose spins keep missing stops spinning: after two misses in
 * a row it sleeps at once for the next 1, 2, 4 ... 64 requests, then tries
 * again; one hit starts it afresh. Back-to-back callers (a batch's calls,
 * a vCPU's retries) keep spinning; an idle connection costs one spin per
 * 65 requests. Returns when a request (or a hang-up, or an error: recvmsg
 * reports them) is there, or when the cap has passed. */
#define SPIN_MISSES_BEFORE_BACKOFF 2u
#define SPIN_BACKOFF_MAX_SHIFT 6u
static void spin_for_request(struct conn *c)
{
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	uint64_t end;
	uint32_t shift;

	if (!spin_us)
		return;
	if (c->spin_skip) {
		c->spin_skip--;
		return;
	}
	end = sim_now_ns() + (uint64_t)spin_us * 1000u;
	do {
		if (poll(&pf, 1, 0) != 0) {
			c->spin_misses = 0;
			return; /* ready, or poll failed: recvmsg decides */
		}
	} while (sim_now_ns() < end);
	if (++c->spin_misses < SPIN_MISSES_BEFORE_BACKOFF)
		return;
	shift = c->spin_misses - SPIN_MISSES_BEFORE_BACKOFF;
	if (shift > SPIN_BACKOFF_MAX_SHIFT)
		shift = SPIN_BACKOFF_MAX_SHIFT;
	c->spin_skip = 1u << shift;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	for (;;) {
		struct simp_hdr h;
		struct reply r = { .len = 0, .nfds = 0 };
		int nfds = 0, rc;

		spin_for_request(c);
		rc = simp_recv(c->fd, &h, c->req, SIMP_MAX_PAYLOAD, NULL, &nfds);
		if (rc == -ECONNRESET || rc == -EIO)
			break;
		if (rc == -EPROTO) {
			/* Unreadable packet: answer what we can, go on. */
			if (simp_send(c->fd, 0, 0, -EPROTO, NULL, 0, NULL, 0) < 0)
				break;
			continue;
		}
		rc = dispatch(c, &h, &r);
		if (rc < 0) {
			r.len = 0;
			r.nfds = 0;
		}
		if (simp_send(c->fd, h.op, h.seq, rc, c->rsp, r.len, r.fds,
			      r.nfds) < 0)
			break;
		if (h.op == SIMP_SHUTDOWN && rc == 0) {
			server_request_stop();
			break;
		}
	}
	conn_detach(c);
	pthread_mutex_lock(&conns_lock);
	c->done = true;
	pthread_mutex_unlock(&conns_lock);
	return NULL;
}

static void conn_release(struct conn *c)
{
	close(c->fd);
	free(c->req);
	free(c->rsp);
	free(c);
}

/* Join connection threads that have finished. */
static void reap(bool all)
{
	for (;;) {
		struct conn **pp, *c = NULL;

		pthread_mutex_lock(&conns_lock);
		for (pp = &conns; *pp; pp = &(*pp)->next) {
			if ((*pp)->done || all) {
				c = *pp;
				*pp = c->next;
				break;
			}
		}
		pthread_mutex_unlock(&conns_lock);
		if (!c)
			return;
		pthread_join(c->thread, NULL);
		conn_release(c);
	}
}

static void new_conn(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		goto fail;
	c->fd = fd;
	c->bounce_fd = -1;
	c->req = malloc(SIMP_MAX_PAYLOAD);
	c->rsp = malloc(SIMP_MAX_PAYLOAD);
	if (!c->req || !c->rsp)
		goto fail;
	pthread_mutex_lock(&conns_lock);
	if (pthread_create(&c->thread, NULL, conn_thread, c)) {
		pthread_mutex_unlock(&conns_lock);
		goto fail;
	}
	c->next = conns;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	return;
fail:
	sim_log(SIM_LOG_ERR, "cannot serve a new connection");
	if (c) {
		free(c->req);
		free(c->rsp);
		free(c);
	}
	close(fd);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa;
	int fd = simp_socket(path, &sa), rc;

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE)
			goto fail;
		/* A live simulator there: refuse. A stale socket left by one
		 * that died: take its place. */
		rc = simp_connect(path);
		if (rc >= 0) {
			close(rc);
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	if (listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int server_run(const char *path)
{
	sigset_t set;
	int lfd, sfd;
	struct pollfd pf[4];

	lfd = listen_on(path);
	if (lfd < 0)
		return lfd;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || stop_efd < 0) {
		close(lfd);
		unlink(path);
		return -errno;
	}
	sim_log(SIM_LOG_INFO, "listening on %s", path);
	pf[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = stop_efd, .events = POLLIN };
	pf[3] = (struct pollfd){ .fd = parent_fd, .events = POLLIN };
	for (;;) {
		if (poll(pf, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) > 0)
				sim_log(SIM_LOG_INFO, "signal %u: stopping",
					si.ssi_signo);
			break;
		}
		if (pf[2].revents) {
			sim_log(SIM_LOG_INFO, "shutdown requested: stopping");
			break;
		}
		if (pf[3].revents) {
			sim_log(SIM_LOG_INFO, "the process that started the "
				"simulator exited: stopping");
			break;
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				new_conn(fd);
			reap(false);
		}
	}
	close(lfd);
	unlink(path);
	/* Wake every connection thread out of its recv, then join them. */
	pthread_mutex_lock(&conns_lock);
	for (struct conn *c = conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&conns_lock);
	reap(true);
	guest_destroy_all();
	close(sfd);
	close(stop_efd);
	stop_efd = -1;
	return 0;
}
