/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest vCPUs: one thread each. A vCPU runs only while the domain is not
 * paused by the toolstack, it is not paused for a page-in (vm_event pause
 * count 0), not blocked for ring space and the domain has not crashed.
 *
 * A guest access (a workload step or SIMP_TOUCH) that hits a paging gfn
 * becomes the vCPU's pending work: the vCPU is paused (or waits in the
 * ring's wait queue) and its thread retries the access when it can run
 * again, exactly as a faulting instruction is re-executed.
 *
 * A gfn already paging_in is different: Xen's hardware fault path
 * (hvm_hap_nested_page_fault) asks for a page-in only for paged and
 * paging_out gfns, so the vCPU is neither paused nor does it send a
 * request. The faulting instruction simply re-executes until the gfn is
 * RAM again: the vCPU spins, for ever if nobody loads the gfn. Here the
 * vCPU keeps the access pending, and its thread retries it every
 * SPIN_RETRY_US (sleeping, so that it does not hold the guest lock) or as
 * soon as the gfn leaves paging_in (vcpu_spin_wake).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
/* A spinning vCPU re-executes its access this often. */
#define SPIN_RETRY_US 100u

void vcpu_enter_waitqueue(struct sim_vcpu *v)
{
	if (!v->in_waitqueue && v->g->ring) {
		v->in_waitqueue = true;
		v->g->ring->waiters++;
	}
}

void vcpu_leave_waitqueue(struct sim_vcpu *v)
{
	if (v->in_waitqueue) {
		v->in_waitqueue = false;
		if (v->g->ring && v->g->ring->waiters)
			v->g->ring->waiters--;
	}
}

void vcpu_pause_for_paging(struct sim_vcpu *v)
{
	if (v->vm_event_pause++ == 0)
		v->paused_since_ns = sim_now_ns();
	else if (v->vm_event_pause == 0)
		vcpu_kick(v);
}

void vcpu_unpause_paging(struct sim_vcpu *v)
{
	if (--v->vm_event_pause == 0)
		vcpu_kick(v);
	else if (v->vm_event_pause == -1)
		v->paused_since_ns = sim_now_ns();
}

struct sim_vcpu *vcpu_pick_idle(struct sim_guest *g, uint32_t hint)
{
	for (uint32_t j = 0; j < g->nvcpus; j++) {
		struct sim_vcpu *v = &g->vcpu[(hint + j) % g->nvcpus];

		if (vcpu_can_run(v) && !v->pending.kind && !v->in_waitqueue)
			return v;
	}
	return NULL;
}

static void do_access(struct sim_guest *g, uint64_t gfn, bool write,
		      bool counted)
{
	if (write) {
		oracle_write(g, gfn);
		writes_note(g, gfn);
	} else if (!(g->gfn[gfn].flags & SG_ZERO) ||
		 !oracle_page_is_hole(g, gfn))
		/* (a never-written page of a lazy guest reads as zeros
		 * without being materialised) */
		oracle_verify(g, gfn, guest_page(g, gfn), ORACLE_BY_READ);
	if (counted)
		g->st.accesses++;
}

static void spin_start(struct sim_vcpu *v, uint64_t gfn)
{
	struct sim_guest *g = v->g;

	if (v->spin_since_ns)
		return;
	v->spin_since_ns = sim_now_ns();
	if (!v->spin_since_ns)
		v->spin_since_ns = 1;
	g->spinning++;
	g->st.spins++;
	sim_log(SIM_LOG_DEBUG, "d%u: vCPU %u spins on paging_in gfn %#llx",
		g->domid, v->id, (unsigned long long)gfn);
}

static void spin_end(struct sim_vcpu *v)
{
	if (!v->spin_since_ns)
		return;
	v->spin_since_ns = 0;
	v->g->spinning--;
}

void vcpu_spin_wake(struct sim_guest *g, uint64_t gfn)
{
	for (uint32_t i = 0; g->spinning && i < g->nvcpus; i++) {
		struct sim_vcpu *v = &g->vcpu[i];

		if (v->spin_since_ns && v->pending.kind == SIM_PEND_ACCESS &&
		    v->pending.gfn == gfn)
			vcpu_kick(v);
	}
}

static void set_pending(struct sim_vcpu *v, uint64_t gfn, bool write,
			uint8_t why)
{
	v->pending.kind = SIM_PEND_ACCESS;
	v->pending.gfn = gfn;
	v->pending.write = write;
	v->pending.why = why;
}

/* @populating: @v resumes a page-in request it began before it had to
 * wait for a ring slot (Xen's vCPU sleeps inside the populate call and
 * carries on there, whatever the gfn's type has become meanwhile).
 * @why: whose access (enum sim_access_why; the workload's are counted). */
static int guest_access(struct sim_vcpu *v, uint64_t gfn, bool write,
			bool populating, uint8_t why)
{
	struct sim_guest *g = v->g;
	struct sim_gfn *s;
	int rc;

	if (g->crashed || g->destroyed) {
		spin_end(v);
		return -ESHUTDOWN;
	}
	if (gfn >= g->nr_gfns) {
		spin_end(v);
		return -ERANGE;
	}
	s = &g->gfn[gfn];
	if (s->p2mt == SIMP_P2M_INVALID) {
		/* A special page out of the physmap faults; a RAM gfn the
		 * guest released comes back as a fresh zero page (balloon
		 * deflate). */
		if (gfn >= g->pages) {
			spin_end(v);
			return -EFAULT;
		}
		guest_frame_alloc(g, gfn);
		s->flags |= SG_ZERO;
		guest_set_p2mt(g, gfn, SIMP_P2M_RAM_RW);
	}
	if (p2m_is_ram(s->p2mt)) {
		spin_end(v);
		do_access(g, gfn, write, why == SIM_ACC_WORKLOAD);
		return 0;
	}
	if (s->p2mt == SIMP_P2M_RAM_PAGING_IN && !populating) {
		/* Already on its way back: no pause, no request; the
		 * instruction re-executes until the gfn is RAM. */
		spin_start(v, gfn);
		set_pending(v, gfn, write, why);
		return -EAGAIN;
	}
	spin_end(v);
	rc = paging_populate(g, gfn, v);
	if (rc == -ESHUTDOWN) {
		v->pending.kind = SIM_PEND_NONE;
		return rc;
	}
	/* Paused for the page-in (0) or waiting for a ring slot (-EAGAIN):
	 * the access is re-executed when the vCPU runs again. */
	set_pending(v, gfn, write, why);
	return -EAGAIN;
}

int vcpu_access(struct sim_vcpu *v, uint64_t gfn, bool write)
{
	return guest_access(v, gfn, write, false, SIM_ACC_WORKLOAD);
}

int vcpu_write_args(struct sim_vcpu *v, uint64_t gfn)
{
	return guest_access(v, gfn, true, false, SIM_ACC_HCALL);
}

int vcpu_exec_kcode(struct sim_vcpu *v, uint64_t gfn)
{
	return guest_access(v, gfn, false, false, SIM_ACC_KCODE);
}

int foreign_access(struct sim_guest *g, uint64_t gfn, bool write)
{
	struct sim_gfn *s;

	if (g->crashed || g->destroyed)
		return -ESHUTDOWN;
	if (gfn >= g->nr_gfns)
		return -ERANGE;
	s = &g->gfn[gfn];
	if (s->p2mt == SIMP_P2M_INVALID)
		return -EFAULT;
	if (s->p2mt == SIMP_P2M_RAM_PAGING_OUT) {
		/* The frame is still there: the pager learns its evict will
		 * fail, and the access goes ahead. */
		int rc = paging_populate(g, gfn, NULL);

		if (rc == -ESHUTDOWN)
			return rc;
		if (rc < 0)
			return -ENOENT; /* no room for the request: retry */
	} else if (!(s->flags & SG_FRAME)) {
		int rc = s->p2mt == SIMP_P2M_RAM_PAGED ?
			 paging_populate(g, gfn, NULL) : 1;

		if (rc == -ESHUTDOWN)
			return rc;
		return -ENOENT;
	}
	do_access(g, gfn, write, true);
	return 0;
}

/* ------------------------------------------------------------ workload */

static uint64_t vrand(struct sim_vcpu *v)
{
	v->rng += GOLDEN;
	return sim_mix64(v->rng);
}

static uint32_t active_vcpus(const struct sim_guest *g)
{
	uint32_t n = g->wl.vcpus;

	return (!n || n > g->nvcpus) ? g->nvcpus : n;
}

/* XPAGE_SIM_ZIPF: hot_pct % of the accesses go to the hot set (the
 * first hot_set_pct % of RAM), where gfn i is chosen with a probability
 * about proportional to 1 / (i + 1), Zipf's law with exponent 1: an
 * octave [2^b - 1, 2^(b+1) - 1) drawn uniformly, then a gfn in it. The
 * others are uniform over RAM. */
static uint64_t pick_zipf(const struct sim_guest *g, uint64_t r)
{
	uint64_t pages = g->pages, hot = pages * g->wl.hot_set_pct / 100;
	uint64_t lo, span, r2 = sim_mix64(r);
	unsigned octaves = 0;

	if (!hot)
		hot = 1;
	if ((r & 0x3ff) % 100 >= g->wl.hot_pct)
		return r2 % pages;
	while (octaves < 63 && (1ull << octaves) <= hot)
		octaves++;
	lo = (1ull << ((r >> 10) % octaves)) - 1;
	span = lo + 1;
	if (lo >= hot)
		return 0;
	if (span > hot - lo)
		span = hot - lo;
	return lo + r2 % span;
}

static uint64_t pick_gfn(struct sim_vcpu *v, uint64_t r)
{
	struct sim_guest *g = v->g;
	const struct simp_workload *w = &g->wl;
	uint64_t pages = g->pages;

	switch (w->pattern) {
	case 1: { /* XPAGE_SIM_HOTCOLD */
		uint64_t hot = pages * w->hot_set_pct / 100;

		if (!hot)
			hot = 1;
		if ((r >> 32) % 100 < w->hot_pct || hot >= pages)
			return (r & 0xffffffffu) % hot;
		return hot + (r & 0xffffffffu) % (pages - hot);
	}
	case 2: { /* XPAGE_SIM_SEQUENTIAL */
		uint32_t n = active_vcpus(g);
		uint64_t share = pages / n, start, len;

		if (!share)
			return v->id % pages;
		start = v->id * share;
		len = v->id == n - 1 ? pages - start : share;
		if (v->seq_pos >= len)
			v->seq_pos = 0;
		return start + v->seq_pos++;
	}
	case 3: /* XPAGE_SIM_ZIPF */
		return pick_zipf(g, r);
	default: /* XPAGE_SIM_UNIFORM */
		return r % pages;
	}
}

static void workload_step(struct sim_vcpu *v)
{
	struct sim_guest *g = v->g;
	const struct simp_workload *w = &g->wl;
	uint64_t r, gfn;

	if (v->wl_epoch != g->wl_epoch) {
		v->wl_epoch = g->wl_epoch;
		v->rng = sim_mix64(w->seed ^ ((uint64_t)(v->id + 1) * GOLDEN));
		v->seq_pos = 0;
	}
	r = vrand(v);
	gfn = pick_gfn(v, vrand(v));
	if (w->release_pm && r % 1000 < w->release_pm) {
		paging_remove(g, gfn, v);
		return;
	}
	vcpu_access(v, gfn, (r >> 20) % 100 < w->write_pct);
}

static void cond_wait_us(struct sim_vcpu *v, uint32_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += us / 1000000;
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&v->cv, &v->g->lock, &ts);
}

void vcpu_sleep_us(struct sim_vcpu *v, uint32_t us)
{
	guest_flush(v->g);
	cond_wait_us(v, us);
}

/* Flush what guest_unlock() would before the thread sleeps. */
static void vcpu_wait(struct sim_vcpu *v)
{
	struct sim_guest *g = v->g;

	guest_flush(g);
	if (g->stopping)
		return;
	pthread_cond_wait(&v->cv, &g->lock);
}

bool vcpu_run_pending(struct sim_vcpu *v)
{
	struct sim_guest *g = v->g;
	struct sim_pending p = v->pending;
	bool populating;

	if (!vcpu_can_run(v))
		return false;
	if (!p.kind)
		return true;
	populating = v->in_waitqueue;
	if (populating) {
		if (g->ring && !ring_available(g))
			return false;
		vcpu_leave_waitqueue(v);
	}
	v->pending.kind = SIM_PEND_NONE;
	if (p.kind == SIM_PEND_ACCESS) {
		if (guest_access(v, p.gfn, p.write, populating, p.why) == 0 &&
		    p.why == SIM_ACC_HCALL)
			hypercall_copy(v);
	} else if (p.kind == SIM_PEND_EFAULT) {
		hypercall_failed(v);
	} else {
		paging_send_drop(g, p.gfn, p.flags, v);
	}
	return !v->pending.kind && vcpu_can_run(v);
}

static void *vcpu_thread(void *arg)
{
	struct sim_vcpu *v = arg;
	struct sim_guest *g = v->g;

	guest_lock(g);
	while (!g->stopping) {
		if (!vcpu_can_run(v)) {
			vcpu_wait(v);
			continue;
		}
		if (runstate_tick(v, v->pending.kind || (g->wl_active &&
						       v->id < active_vcpus(g))))
			continue; /* its context switch paused it */
		if (v->pending.kind) {
			if (vcpu_run_pending(v) || !vcpu_can_run(v))
				continue;
			if (v->in_waitqueue) {
				vcpu_wait(v); /* still no ring slot */
			} else if (v->spin_since_ns) {
				/* Still paging_in: spin without holding the
				 * lock. */
				vcpu_sleep_us(v, SPIN_RETRY_US);
			}
			continue;
		}
		if (!g->wl_active || v->id >= active_vcpus(g)) {
			if (!hypercall_tick(v, false))
				vcpu_wait(v); /* idle */
			continue;
		}
		if (hypercall_tick(v, true) || kcode_tick(v))
			continue;
		workload_step(v);
		guest_flush(g);
		if (g->wl.think_us) {
			cond_wait_us(v, g->wl.think_us);
		} else {
			guest_unlock(g);
			sched_yield();
			guest_lock(g);
		}
	}
	guest_unlock(g);
	return NULL;
}

int vcpu_start_threads(struct sim_guest *g)
{
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		struct sim_vcpu *v = &g->vcpu[i];
		int rc = pthread_create(&v->thread, NULL, vcpu_thread, v);

		if (rc)
			return -rc;
		v->thread_started = true;
	}
	return 0;
}

void vcpu_stop_threads(struct sim_guest *g)
{
	guest_lock(g);
	g->stopping = true;
	guest_kick_all(g);
	guest_unlock(g);
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		struct sim_vcpu *v = &g->vcpu[i];

		if (v->thread_started) {
			pthread_join(v->thread, NULL);
			v->thread_started = false;
		}
	}
}

int workload_set(struct sim_guest *g, const struct simp_workload *w)
{
	if (w->pattern > 3 || w->write_pct > 100 || w->hot_pct > 100 ||
	    w->hot_set_pct > 100 || w->release_pm > 1000 ||
	    ((w->pattern == 1 || w->pattern == 3) && !w->hot_set_pct))
		return -EINVAL;
	if (g->crashed || g->destroyed)
		return -ESRCH;
	g->wl = *w;
	g->wl_active = true;
	g->wl_epoch++;
	guest_kick_all(g);
	return 0;
}

void workload_stop(struct sim_guest *g)
{
	g->wl_active = false;
}
