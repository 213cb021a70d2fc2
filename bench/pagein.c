/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-in latency: from the guest's fault to its vCPU running again.
 *
 * The calling thread plays the guest: it stamps t0 and has vCPU 0 touch an
 * evicted gfn (xpage_sim_touch answers -EAGAIN: the vCPU is paused and a
 * request is on the ring). A pager thread, blocked in xpage_dispatch() as
 * a real pager is, gets the event, reads the page from the store and loads
 * it with XPAGE_LOAD_RESUME (one trap); the response is published and the
 * hypervisor notified before xpage_dispatch() returns, and t1 is taken
 * then. On Xen the notify (EVTCHNOP_send) runs vm_event_resume() and
 * unpauses the vCPU before it returns; the simulator gives a notify the
 * same effect (it is applied before any later operation on the domain),
 * so t1 is when the vCPU is resumed. t0 is before the fault's own round
 * trip, so the figure is an upper bound.
 *
 * Each sample is then confirmed, and a second figure taken: the pager
 * thread has vCPU 0 touch the gfn, which completes only once the vCPU is
 * unpaused and has re-executed its faulting access ("confirmed", one more
 * round trip plus the simulator's re-execution).
 *
 * Cold store: the store's pages are written back once and then each
 * faulting page's range is dropped from the page cache before the fault
 * (POSIX_FADV_DONTNEED, with POSIX_FADV_RANDOM so no readahead warms the
 * next one).
 */
#include "bench.h"
#include "simp_call.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct svc {
	struct bguest *g;
	xpage_sim_t *obs;        /* the pager thread's own control connection */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint64_t t0;             /* written by the guest before its fault */
	uint64_t served_gfn;     /* UINT64_MAX: none */
	uint64_t read_ns;
	uint64_t t_cb, t_read, t_load; /* in the populate callback */
	bool done;
	double lat_us, read_us, confirmed_us;
	double ph[4];            /* fault->callback, read, load, load->return */
	uint8_t *buf;
	int err;
};

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct bguest *g = user;
	struct svc *s = g->pagein;
	uint32_t slot1 = ev->gfn < g->pages ? g->slot_of[ev->gfn] : 0;
	void *b[1];
	uint64_t t;
	int st;

	if (!s || !slot1) {
		fprintf(stderr, "xpage-bench: populate for gfn %#llx, not in "
			"the store\n", (unsigned long long)ev->gfn);
		return;
	}
	t = s->t_cb = now_ns();
	if (pread(g->fd, s->buf, PAGE, (off_t)(slot1 - 1) * PAGE) != PAGE) {
		s->err = -EIO;
		return;
	}
	s->t_read = now_ns();
	s->read_ns = s->t_read - t;
	b[0] = s->buf;
	if (xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st) != 1) {
		s->err = st ? st : -EIO;
		return;
	}
	s->t_load = now_ns();
	g->slot_of[ev->gfn] = 0;
	s->served_gfn = ev->gfn;
}

static void on_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	(void)xp;
	(void)gfn;
	(void)user;
}

const struct xpage_callbacks pagein_callbacks = {
	.sz = sizeof(struct xpage_callbacks),
	.populate = on_populate,
	.evict_fail = on_evict_fail,
};

static void *pager_thread(void *arg)
{
	struct svc *s = arg;
	struct bguest *g = s->g;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		int rc = xpage_dispatch(g->xp, 20);
		/* The response was published and notified before dispatch
		 * returned: the vCPU is resumed (see the top of the file). */
		uint64_t t1 = now_ns(), gfn = s->served_gfn, t2, t0;

		if (rc < 0 && rc != -EINTR) {
			s->err = rc;
			break;
		}
		if (gfn == UINT64_MAX)
			continue;
		s->served_gfn = UINT64_MAX;
		/* Confirm (a second figure): a touch by the vCPU completes
		 * only once it runs again and re-executed its access. */
		for (;;) {
			int r = xpage_sim_touch(s->obs, g->domid, 0, gfn, 0);

			if (r == 0)
				break;
			if (r != -EBUSY) {
				s->err = r;
				break;
			}
		}
		t2 = now_ns();
		t0 = __atomic_load_n(&s->t0, __ATOMIC_ACQUIRE);
		pthread_mutex_lock(&s->mu);
		s->lat_us = (double)(t1 - t0) / 1e3;
		s->confirmed_us = (double)(t2 - t0) / 1e3;
		s->read_us = (double)s->read_ns / 1e3;
		s->ph[0] = (double)(s->t_cb - t0) / 1e3;
		s->ph[1] = (double)(s->t_read - s->t_cb) / 1e3;
		s->ph[2] = (double)(s->t_load - s->t_read) / 1e3;
		s->ph[3] = (double)(t1 - s->t_load) / 1e3;
		s->done = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static int wait_done(struct svc *s)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&s->mu);
	while (!s->done && rc == 0)
		rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	pthread_mutex_unlock(&s->mu);
	return s->done ? 0 : -ETIMEDOUT;
}

void pagein_latency(struct bench_env *env, struct bguest *g,
		    const uint64_t *gfns, size_t n, bool cold,
		    struct lat_result *r)
{
	struct samples lat = { 0 }, rd = { 0 }, conf = { 0 }, ph[4] = { { 0 } };
	pthread_condattr_t ca;
	struct svc s;
	size_t warm = n / 20 < 10 ? (n < 10 ? 0 : 10) : n / 20;
	uint64_t sim_cpu0, cpu0;

	memset(&s, 0, sizeof(s));
	memset(r, 0, sizeof(*r));
	s.g = g;
	s.served_gfn = UINT64_MAX;
	s.buf = aligned_alloc(PAGE, PAGE);
	s.obs = xpage_sim_connect(xpage_sim_socket(env->sim));
	if (!s.buf || !s.obs)
		die("page-in set-up: %s", strerror(errno));
	pthread_mutex_init(&s.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.cv, &ca);
	pthread_condattr_destroy(&ca);
	g->pagein = &s;

	if (cold) {
		fdatasync(g->fd);
		posix_fadvise(g->fd, 0, 0, POSIX_FADV_DONTNEED);
		posix_fadvise(g->fd, 0, 0, POSIX_FADV_RANDOM);
	} else {
		posix_fadvise(g->fd, 0, 0, POSIX_FADV_NORMAL);
	}
	if (pthread_create(&s.thr, NULL, pager_thread, &s))
		die("cannot start the pager thread");
	sim_cpu0 = cpu_ns_pid(xpage_sim_pid(env->sim));
	cpu0 = cpu_ns_self();

	for (size_t i = 0; i < n; i++) {
		uint64_t gfn = gfns[i];
		uint32_t slot1 = g->slot_of[gfn];
		int rc;

		if (!slot1)
			die("page-in sample gfn %#llx is not paged out",
			    (unsigned long long)gfn);
		if (cold)
			posix_fadvise(g->fd, (off_t)(slot1 - 1) * PAGE, PAGE,
				      POSIX_FADV_DONTNEED);
		pthread_mutex_lock(&s.mu);
		s.done = false;
		pthread_mutex_unlock(&s.mu);
		__atomic_store_n(&s.t0, now_ns(), __ATOMIC_RELEASE);
		rc = xpage_sim_touch(g->sim, g->domid, 0, gfn, 0);
		if (rc != -EAGAIN)
			die("touch of paged gfn %#llx: %s (expected a fault)",
			    (unsigned long long)gfn, xpage_strerror(rc));
		if (wait_done(&s) < 0 || s.err)
			die("page-in of gfn %#llx did not complete: %s",
			    (unsigned long long)gfn,
			    xpage_strerror(s.err ? s.err : -ETIMEDOUT));
		if (i < warm)
			continue;
		samples_add(&lat, s.lat_us);
		samples_add(&rd, s.read_us);
		samples_add(&conf, s.confirmed_us);
		for (int j = 0; j < 4; j++)
			samples_add(&ph[j], s.ph[j]);
	}
	sim_cpu0 = cpu_ns_pid(xpage_sim_pid(env->sim)) - sim_cpu0;
	cpu0 = cpu_ns_self() - cpu0;
	__atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
	pthread_join(s.thr, NULL);
	g->pagein = NULL;
	if (cold)
		posix_fadvise(g->fd, 0, 0, POSIX_FADV_NORMAL);

	r->n = lat.n;
	r->p50 = samples_pct(&lat, 50);
	r->p99 = samples_pct(&lat, 99);
	r->max = samples_max(&lat);
	r->read_p50 = samples_pct(&rd, 50);
	r->read_p99 = samples_pct(&rd, 99);
	r->confirmed_p50 = samples_pct(&conf, 50);
	r->confirmed_p99 = samples_pct(&conf, 99);
	if (pageout_phases)
		printf("  page-in %s, p50 us: fault->callback %.1f, read %.1f, "
		       "load %.1f, load->notified %.1f; confirmed %.1f\n",
		       cold ? "cold" : "warm", samples_pct(&ph[0], 50),
		       samples_pct(&ph[1], 50), samples_pct(&ph[2], 50),
		       samples_pct(&ph[3], 50), r->confirmed_p50);
	if (pageout_phases)
		printf("  page-in %s, CPU us per fault: bench (guest + pager) "
		       "%.1f, simulator %.1f\n", cold ? "cold" : "warm",
		       (double)cpu0 / 1e3 / (double)n,
		       (double)sim_cpu0 / 1e3 / (double)n);
	samples_free(&lat);
	samples_free(&rd);
	samples_free(&conf);
	for (int j = 0; j < 4; j++)
		samples_free(&ph[j]);
	xpage_sim_stop(s.obs);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	free(s.buf);
}

void bare_roundtrip(struct bench_env *env, uint32_t domid, unsigned n,
		    double *p50, double *p99, double *idle_p50)
{
	struct simp_u32 hello = { .v = SIMP_PROTO_VERSION, .pad = 0 };
	struct simp_u32 att = { .v = domid, .pad = 0 };
	struct simp_u32x2 v;
	struct simp_dominfo di;
	struct samples s = { 0 };
	int sock, fds[2], nfds = 2;

	sock = simp_connect(xpage_sim_socket(env->sim));
	if (sock < 0 ||
	    simp_call(sock, SIMP_HELLO, &hello, sizeof(hello), &v, sizeof(v),
		      NULL, NULL, NULL) < 0 ||
	    simp_call(sock, SIMP_ATTACH, &att, sizeof(att), &di, sizeof(di),
		      NULL, fds, &nfds) < 0)
		die("raw simulator connection failed");
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	for (unsigned i = 0; i < n + n / 10; i++) {
		uint64_t t = now_ns();

		if (simp_call(sock, SIMP_XEN_VERSION, NULL, 0, &v, sizeof(v),
			      NULL, NULL, NULL) < 0)
			die("SIMP_XEN_VERSION failed");
		if (i >= n / 10)
			samples_add(&s, (double)(now_ns() - t) / 1e3);
	}
	*p50 = samples_pct(&s, 50);
	*p99 = samples_pct(&s, 99);
	/* The same call after 1 ms with nothing to do, as between the calls
	 * of a page-out batch (the write) or of two page-ins: in a VM the
	 * simulator's CPU may have halted meanwhile, and waking it is part
	 * of every such round trip. */
	samples_reset(&s);
	for (unsigned i = 0; i < n / 50 + 20; i++) {
		struct timespec ts = { 0, 1000000 };
		uint64_t t;

		nanosleep(&ts, NULL);
		t = now_ns();
		if (simp_call(sock, SIMP_XEN_VERSION, NULL, 0, &v, sizeof(v),
			      NULL, NULL, NULL) < 0)
			die("SIMP_XEN_VERSION failed");
		samples_add(&s, (double)(now_ns() - t) / 1e3);
	}
	*idle_p50 = samples_pct(&s, 50);
	close(sock);
	samples_free(&s);
}

double dispatch_idle_ns(struct bguest *g, unsigned n)
{
	uint64_t t, best = UINT64_MAX;

	for (int r = 0; r < 5; r++) {
		t = now_ns();
		for (unsigned i = 0; i < n; i++)
			if (xpage_dispatch(g->xp, 0) < 0)
				die("xpage_dispatch failed");
		t = now_ns() - t;
		if (t < best)
			best = t;
	}
	return (double)best / n;
}
