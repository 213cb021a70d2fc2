/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * soak: random workloads x random fault injection x every simulator
 * personality x (the example pager | the library used directly), run after
 * run until the time is spent. After every run the simulator's oracle must
 * report 0 lost, 0 corrupted, 0 stuck, the domain alive and nothing left
 * paged out or nominated.
 *
 *   soak [--seconds N | --minutes N] [--base B]     many runs
 *   soak --seed S [--keep]                          replay one run
 *
 * Every run prints one line starting "seed=0x...". The seed alone decides
 * the run: personality (seed % P), mode (seed / P % 2: library or example
 * pager), guest size and vCPUs, workload, fault rates and the fault
 * injector's seed, the pager's batch sizes and every choice the in-process
 * pager makes. Runs i = 0, 1, ... of one soak take the personalities and
 * modes in turn, so 2 x P runs cover them all.
 *
 * How exact a replay is:
 *   - "driven" runs (library mode, half of them) give the guest no
 *     workload: the soak itself makes the accesses, as a toolstack or
 *     device model would (foreign accesses and balloon-outs), between pager
 *     operations, in one thread, and counts steps, not seconds; no guest
 *     vCPU ever waits, so no vCPU thread acts on its own. Every decision
 *     and every answer is then a function of the seed; the line ends with
 *     trace=<hash of every operation, status and callback>, and a replay
 *     prints the same trace (soak-replay in suite soak checks this).
 *   - "threads" runs (the other library runs and every pager run) let the
 *     simulator's vCPU threads run the workload: the seed fixes every
 *     parameter and random stream, but the interleaving of guest threads
 *     and pager is the scheduler's, so a replay re-creates the same run
 *     conditions, not the same instruction trace.
 *
 * Environment: XPAGE_SIMD (the simulator), XPAGE_BATCH_PAGER (the example
 * pager; without it, pager runs are skipped and say so).
 * Exit: 0 every run clean, 1 a run failed (its seed and files are printed),
 * 77 no simulator.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpage/sim.h>
#include <xpage/xpage.h>

#include "simp_call.h" /* only to name the gfns left paged when a run fails */

#define PAGE XPAGE_PAGE_SIZE
#define MAX_PERS 32

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct rng { uint64_t s; };

static uint64_t rnd(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

/* Uniform in [lo, hi]. */
static uint64_t rnd_in(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rnd(r) % (hi - lo + 1);
}

static bool chance(struct rng *r, unsigned pct)
{
	return rnd(r) % 100 < pct;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static FILE *dbg_log; /* SOAK_DEBUG=1: every pager operation */

#define DBG(...) do { if (dbg_log) { fprintf(dbg_log, __VA_ARGS__); \
			fputc('\n', dbg_log); } } while (0)

/* Debugging aid for failures: the simulator's p2m type, extra references
 * and frame of one gfn (the raw protocol's SIMP_GFN_STATE; the public API
 * has no per-gfn query). */
static int sim_gfn(const char *sock_path, uint32_t domid, uint64_t gfn,
		   struct simp_gfn_state *out)
{
	int sock = simp_connect(sock_path), rc;
	struct simp_touch t = { .domid = domid, .gfn = gfn };
	uint32_t len = 0;

	if (sock < 0)
		return sock;
	rc = simp_call(sock, SIMP_GFN_STATE, &t, sizeof(t), out, sizeof(*out),
		       &len, NULL, NULL);
	close(sock);
	return rc < 0 ? rc : len == sizeof(*out) ? 0 : -EPROTO;
}

/* FNV-1a over the run's trace. */
static void trace(uint64_t *h, uint64_t a, uint64_t b)
{
	uint64_t v[2] = { a, b };
	const uint8_t *p = (const uint8_t *)v;

	for (size_t i = 0; i < sizeof(v); i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ull;
	}
	DBG("%#" PRIx64 " %#" PRIx64, a, b);
}

/* ------------------------------------------------------------------ */
/* Run parameters: everything follows from the seed                    */

enum mode { MODE_LIB = 0, MODE_PAGER = 1 };

struct params {
	uint64_t seed;
	const char *pers;
	int mode;
	bool driven;            /* MODE_LIB: the soak makes the accesses */
	bool nopaging;          /* a personality without paging */
	uint64_t pages;
	uint32_t vcpus;
	struct xpage_sim_workload wl;
	struct xpage_sim_faults fl;
	/* library mode */
	uint32_t steps;         /* driven: pager steps */
	double seconds;         /* threads: run time */
	uint32_t max_batch;
	uint32_t out_pct;       /* share of the guest to keep paged out */
	uint32_t serve_now_pct; /* populates served inside the callback */
	uint32_t unnominate_pct;/* write-outs that "fail" */
	uint64_t ages;
	uint64_t features;
	int takeover_at;        /* step (or 1/10 s) of a detach + takeover, -1 */
	/* pager mode */
	uint64_t target;
	uint32_t batch;
	uint32_t recent_s;
	uint32_t kills;         /* SIGKILLs before the last pager */
	bool sigterm;           /* the last pager ends by SIGTERM */
	double pager_s;
};

static char pers_names[MAX_PERS][32];
static int npers;

static uint32_t ring_slots_of(const char *pers)
{
	/* mem_event-4.2 rings have 64 slots, every later one 8. */
	return strncmp(pers, "xen-4.2", 7) == 0 && (pers[7] == 0 || pers[7] == '-')
	       ? 64 : 8;
}

static void derive(struct params *p, uint64_t seed)
{
	struct rng r = { mix64(seed ^ 0x736f616b00000000ull) };
	uint32_t slots;

	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->pers = pers_names[seed % (uint64_t)npers];
	p->mode = (int)((seed / (uint64_t)npers) % 2);
	p->nopaging = strstr(p->pers, "nopaging") != NULL;
	slots = ring_slots_of(p->pers);

	p->driven = p->mode == MODE_LIB && chance(&r, 50);
	p->vcpus = (uint32_t)rnd_in(&r, 1, 4);
	p->pages = p->mode == MODE_LIB ? rnd_in(&r, 512, 6144)
				       : rnd_in(&r, 2048, 12288);

	p->wl = XPAGE_OPTS(xpage_sim_workload);
	p->wl.pattern = (uint32_t)rnd_in(&r, 0, 2);
	p->wl.write_pct = (uint32_t)rnd_in(&r, 0, 60);
	p->wl.hot_set_pct = (uint32_t)rnd_in(&r, 2, 50);
	p->wl.hot_pct = (uint32_t)rnd_in(&r, 40, 95);
	p->wl.think_us = (uint32_t)rnd_in(&r, 20, 1500);
	p->wl.release_pm = chance(&r, 25) ? (uint32_t)rnd_in(&r, 1, 8) : 0;
	p->wl.seed = rnd(&r);

	p->fl = XPAGE_OPTS(xpage_sim_faults);
	p->fl.seed = rnd(&r);
	if (chance(&r, 50))
		p->fl.nominate_ebusy_pm = (uint32_t)rnd_in(&r, 1, 250);
	if (chance(&r, 50))
		p->fl.evict_ebusy_pm = (uint32_t)rnd_in(&r, 1, 250);
	if (chance(&r, 50))
		p->fl.load_enomem_pm = (uint32_t)rnd_in(&r, 1, 300);
	if (chance(&r, 50))
		p->fl.race_access_pm = (uint32_t)rnd_in(&r, 1, 150);
	if (chance(&r, 40))
		p->fl.race_drop_pm = (uint32_t)rnd_in(&r, 1, 60);
	if (chance(&r, 20))
		p->fl.event_delay_us = (uint32_t)rnd_in(&r, 1, 400);
	if (chance(&r, 40))
		p->fl.ring_slots_held = (uint32_t)rnd_in(&r, 1, slots - 1);

	p->steps = (uint32_t)rnd_in(&r, 2000, 12000);
	if (p->driven) {
		/* these faults make a guest vCPU access or release: see
		 * lp_touch for why driven runs have none */
		p->fl.race_access_pm = 0;
		p->fl.race_drop_pm = 0;
	}
	p->seconds = 1.5 + (double)rnd_in(&r, 0, 25) / 10.0;
	p->max_batch = (uint32_t)(1u << rnd_in(&r, 0, 9));
	p->out_pct = (uint32_t)rnd_in(&r, 10, 90);
	p->serve_now_pct = (uint32_t)rnd_in(&r, 0, 100);
	p->unnominate_pct = chance(&r, 50) ? (uint32_t)rnd_in(&r, 1, 20) : 0;
	p->ages = chance(&r, 80) ? XPAGE_AGES_ALL : 0; /* 0: age 1 only */
	p->features = rnd(&r) & XPAGE_FEAT_ALL;
	/* Takeover releases vCPUs a dead pager left paused from Xen 4.5 on
	 * only (older rings cannot say which vCPUs are paused). */
	p->takeover_at = chance(&r, 30) && ring_slots_of(p->pers) == 8
			 ? (int)rnd_in(&r, 5, 12) : -1;
	/* Nor while vCPUs may wait for ring space: Xen refuses to disable
	 * such a ring (EBUSY), so no pager can take it over. */
	if (p->fl.ring_slots_held)
		p->takeover_at = -1;

	p->target = p->pages * rnd_in(&r, 10, 80) / 100;
	p->batch = (uint32_t)(8u << rnd_in(&r, 0, 7));
	p->recent_s = (uint32_t)rnd_in(&r, 0, 2);
	p->kills = chance(&r, 35) ? (uint32_t)rnd_in(&r, 1, 2) : 0;
	p->sigterm = chance(&r, 25);
	p->pager_s = 2.0 + (double)rnd_in(&r, 0, 30) / 10.0;
	/* Pager runs take over after a kill: not on 4.2-era rings either. */
	if (ring_slots_of(p->pers) != 8 || p->nopaging)
		p->kills = 0;
	/* Xen cannot hand over a ring while vCPUs wait for ring space (its
	 * disable answers EBUSY): no kills under injected ring pressure. */
	if (p->fl.ring_slots_held)
		p->kills = 0;
	if (p->nopaging)
		p->sigterm = false;
	if (p->mode == MODE_LIB && p->ages == 0 && strstr(p->pers, "age2"))
		p->ages = XPAGE_AGES_ALL; /* age 1 only would be refused */
}

/* ------------------------------------------------------------------ */
/* A run's result                                                       */

struct outcome {
	bool failed;
	bool limit;             /* ended by a documented hypervisor limit */
	char why[512];
	uint64_t out, in, evict_fails, drops, populates, faults, accesses;
	uint64_t trace;
	char files[300];
};

static void fail(struct outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	if (o->failed)
		return; /* the first failure says most */
	o->failed = true;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The in-process pager (library used directly)                         */

enum { S_RES = 0, S_NOM = 1, S_OUT = 2 };

struct lp {
	const struct params *p;
	struct outcome *o;
	xpage_sim_t *sim;
	uint32_t domid;
	xpage_t *xp;
	uint64_t nr;
	uint8_t *st;            /* S_* per gfn, the pager's own view */
	uint8_t **copy;         /* contents of gfns paged out */
	uint8_t *queued;        /* populate waiting to be served */
	uint64_t *q;            /* queued gfns */
	size_t nq;
	uint64_t nout;
	struct rng r;
	uint64_t h;             /* trace */
	uint32_t age;           /* negotiated */
	/* scratch of the operations (not of lp_serve, which callbacks run
	 * in the middle of them) */
	uint64_t *g;
	int *status;
	/* scratch of lp_serve */
	uint64_t *sg;
	int *sstatus, *sstatus2;
	void **bufs;
	bool in_cb;
};

static void lp_free_copy(struct lp *lp, uint64_t gfn)
{
	free(lp->copy[gfn]);
	lp->copy[gfn] = NULL;
}

static void lp_serve(struct lp *lp, uint64_t *g, size_t n);

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct lp *lp = user;
	uint64_t gfn = ev->gfn;

	(void)xp;
	trace(&lp->h, 0x1000 | ev->flags, gfn);
	lp->o->populates++;
	if (gfn >= lp->nr || lp->st[gfn] != S_OUT || !lp->copy[gfn]) {
		fail(lp->o, "populate for gfn %#" PRIx64 " the pager holds as %s",
		     gfn, gfn >= lp->nr ? "beyond the guest" :
		     lp->st[gfn] == S_RES ? "resident" :
		     lp->st[gfn] == S_NOM ? "nominated" : "out without a copy");
		return;
	}
	if (chance(&lp->r, lp->p->serve_now_pct)) {
		lp->in_cb = true;
		lp_serve(lp, &gfn, 1);
		lp->in_cb = false;
		return;
	}
	if (!lp->queued[gfn]) {
		lp->queued[gfn] = 1;
		lp->q[lp->nq++] = gfn;
	}
}

static void cb_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	struct lp *lp = user;

	(void)xp;
	trace(&lp->h, 0x2000, gfn);
	lp->o->evict_fails++;
	if (gfn >= lp->nr || lp->st[gfn] != S_NOM) {
		fail(lp->o, "evict_fail for gfn %#" PRIx64 " the pager holds as "
		     "%s", gfn, gfn >= lp->nr ? "beyond the guest" :
		     lp->st[gfn] == S_RES ? "resident" : "paged out");
		return;
	}
	lp->st[gfn] = S_RES;
	lp_free_copy(lp, gfn);
}

static void cb_drop(xpage_t *xp, uint64_t gfn, void *user)
{
	struct lp *lp = user;

	(void)xp;
	trace(&lp->h, 0x3000, gfn);
	lp->o->drops++;
	if (gfn >= lp->nr) {
		fail(lp->o, "drop for gfn %#" PRIx64 " beyond the guest", gfn);
		return;
	}
	if (lp->st[gfn] == S_OUT)
		lp->nout--;
	lp->st[gfn] = S_RES;
	lp_free_copy(lp, gfn);
	/* a queued populate for it is answered by the library */
	lp->queued[gfn] = 0;
}

static void lib_log(void *ctx, int level, const char *msg)
{
	FILE *f = ctx;

	if (f)
		fprintf(f, "libxpage[%d]: %s\n", level, msg);
}

/* Load @n gfns from their copies and answer their vCPUs. */
static void lp_serve(struct lp *lp, uint64_t *g, size_t n)
{
	size_t k = 0;
	unsigned flags = chance(&lp->r, 50) ? XPAGE_LOAD_RESUME : 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (lp->st[g[i]] != S_OUT || !lp->copy[g[i]])
			continue;
		lp->sg[k] = g[i];
		lp->bufs[k] = lp->copy[g[i]];
		k++;
	}
	if (!k)
		return;
	rc = xpage_load(lp->xp, lp->sg, k, lp->bufs, flags, lp->sstatus);
	trace(&lp->h, 0x4000 | (uint64_t)(rc & 0xfff), k);
	if (rc < 0) {
		fail(lp->o, "xpage_load of %zu gfns: %s", k, xpage_strerror(rc));
		return;
	}
	if (!(flags & XPAGE_LOAD_RESUME)) {
		size_t m = 0;

		for (size_t i = 0; i < k; i++) {
			trace(&lp->h, 0x4200 | (uint64_t)(lp->sstatus[i] & 0xfff), lp->sg[i]);
			if (lp->sstatus[i] == 0)
				lp->sg[m++] = lp->sg[i];
			else if (lp->sstatus[i] != -ENOMEM &&
				 lp->sstatus[i] != -ENOENT)
				fail(lp->o, "xpage_load of gfn %#" PRIx64 ": %s",
				     lp->sg[i], xpage_strerror(lp->sstatus[i]));
		}
		/* lp->sg[0..m) are the loaded ones; -ENOMEM ones stay out */
		if (m) {
			rc = xpage_resume(lp->xp, lp->sg, m, 0, lp->sstatus2);
			trace(&lp->h, 0x4100 | (uint64_t)(rc & 0xfff), m);
			for (size_t i = 0; i < m; i++)
				if (lp->sstatus2[i] && lp->sstatus2[i] != -EALREADY)
					fail(lp->o, "xpage_resume of gfn %#" PRIx64
					     ": %s", lp->sg[i],
					     xpage_strerror(lp->sstatus2[i]));
		}
		/* mark what was loaded: every gfn of the resume call */
		for (size_t i = 0; i < m; i++) {
			uint64_t gfn = lp->sg[i];

			lp->st[gfn] = S_RES;
			lp_free_copy(lp, gfn);
			lp->nout--;
			lp->o->in++;
			lp->queued[gfn] = 0;
		}
		return;
	}
	for (size_t i = 0; i < k; i++) {
		uint64_t gfn = lp->sg[i];

		trace(&lp->h, 0x4200 | (uint64_t)(lp->sstatus[i] & 0xfff), lp->sg[i]);
		if (lp->sstatus[i] == -ENOMEM)
			continue; /* injected: stays out, served later */
		if (lp->sstatus[i] == -ENOENT)
			continue; /* the guest released it: its drop follows */
		if (lp->sstatus[i]) {
			fail(lp->o, "xpage_load of gfn %#" PRIx64 ": %s", gfn,
			     xpage_strerror(lp->sstatus[i]));
			continue;
		}
		lp->st[gfn] = S_RES;
		lp_free_copy(lp, gfn);
		lp->nout--;
		lp->o->in++;
		lp->queued[gfn] = 0;
	}
}

/* Serve the queued populates (those still out). */
static void lp_serve_queue(struct lp *lp)
{
	size_t n = 0;

	for (size_t i = 0; i < lp->nq; i++) {
		uint64_t gfn = lp->q[i];

		/* once each (a gfn served and queued again is listed twice) */
		if (lp->queued[gfn] == 1 && lp->st[gfn] == S_OUT) {
			lp->q[n++] = gfn;
			lp->queued[gfn] = 2;
		} else if (lp->queued[gfn] != 2) {
			lp->queued[gfn] = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		lp->queued[lp->q[i]] = 1;
	lp->nq = n;
	if (!n)
		return;
	/* copy: lp_serve uses lp->g as scratch */
	uint64_t *tmp = malloc(n * sizeof(*tmp));

	if (!tmp) {
		fail(lp->o, "out of memory");
		return;
	}
	memcpy(tmp, lp->q, n * sizeof(*tmp));
	lp_serve(lp, tmp, n);
	free(tmp);
	n = 0;
	for (size_t i = 0; i < lp->nq; i++)
		if (lp->queued[lp->q[i]])
			lp->q[n++] = lp->q[i];
	lp->nq = n;
}

static int lp_dispatch(struct lp *lp)
{
	int rc = xpage_dispatch(lp->xp, 0);

	DBG("dispatch %d", rc);
	if (rc < 0)
		fail(lp->o, "xpage_dispatch: %s", xpage_strerror(rc));
	return rc;
}

/* Write out (copy), then evict, the nominated gfns in g[0..n). */
static void lp_write_evict(struct lp *lp, uint64_t *g, size_t n)
{
	uint8_t *addr;
	size_t k = 0;
	int rc;

	if (!n)
		return;
	addr = xpage_map(lp->xp, g, n, 0, lp->status);
	trace(&lp->h, 0x6000 | (addr ? 1u : 0u), n);
	if (!addr && errno == EINVAL) {
		/* refused as a whole: a gfn the pager holds as nominated is
		 * not nominated for the library */
		for (size_t i = 0; i < n; i++)
			if (xpage_gfn_state(lp->xp, g[i]) != XPAGE_GFN_NOMINATED)
				fail(lp->o, "xpage_map refused the batch: gfn %#"
				     PRIx64 ", nominated for the pager, is in "
				     "library state %d", g[i],
				     xpage_gfn_state(lp->xp, g[i]));
		fail(lp->o, "xpage_map refused the batch: %s", strerror(EINVAL));
		return;
	}
	if (!addr) {
		/* every gfn refused (e.g. all being paged in): their notices
		 * follow; they stay nominated until then */
		for (size_t i = 0; i < n; i++)
			if (lp->status[i] != -ENOENT && lp->status[i] != -EBUSY &&
			    lp->status[i] != -EINVAL)
				fail(lp->o, "xpage_map of gfn %#" PRIx64 ": %s",
				     g[i], xpage_strerror(lp->status[i]));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		trace(&lp->h, 0x6100 | (uint64_t)(lp->status[i] & 0xfff), g[i]);
		if (lp->status[i])
			continue;
		if (!lp->copy[g[i]]) {
			lp->copy[g[i]] = malloc(PAGE);
			if (!lp->copy[g[i]]) {
				fail(lp->o, "out of memory");
				break;
			}
		}
		memcpy(lp->copy[g[i]], addr + i * PAGE, PAGE);
	}
	rc = xpage_unmap(lp->xp, addr, n);
	if (rc < 0)
		fail(lp->o, "xpage_unmap: %s", xpage_strerror(rc));
	/* The guest may touch them now: evict_fail notices arrive here. */
	if (chance(&lp->r, 30))
		lp_dispatch(lp);
	for (size_t i = 0; i < n; i++)
		if (lp->status[i] == 0 && lp->st[g[i]] == S_NOM && lp->copy[g[i]])
			g[k++] = g[i];
	if (!k)
		return;
	if (chance(&lp->r, lp->p->unnominate_pct)) {
		/* the write-out "failed": give them back */
		rc = xpage_unnominate(lp->xp, g, k, 0, lp->status);
		trace(&lp->h, 0x6200 | (uint64_t)(rc & 0xfff), k);
		for (size_t i = 0; i < k; i++) {
			if (lp->status[i] == 0) {
				lp->st[g[i]] = S_RES;
				lp_free_copy(lp, g[i]);
			}
		}
		return;
	}
	rc = xpage_evict(lp->xp, g, k, 0, lp->status);
	trace(&lp->h, 0x6300 | (uint64_t)(rc & 0xfff), k);
	if (rc < 0) {
		fail(lp->o, "xpage_evict: %s", xpage_strerror(rc));
		return;
	}
	for (size_t i = 0; i < k; i++) {
		trace(&lp->h, 0x6400 | (uint64_t)(lp->status[i] & 0xfff), g[i]);
		if (lp->status[i] == 0) {
			lp->st[g[i]] = S_OUT;
			lp->nout++;
			lp->o->out++;
		} else if (lp->status[i] != -EBUSY) {
			fail(lp->o, "xpage_evict of gfn %#" PRIx64 ": %s", g[i],
			     xpage_strerror(lp->status[i]));
		}
		/* -EBUSY: still nominated (touched: its notice follows; or
		 * refused: retried later); the copy is kept for the retry */
	}
}

/* The gfns to pick from: on a sparse layout (PVH: a few pages of RAM
 * low, special pages near 4 GiB, holes between), mostly the RAM, so that
 * the run pages; now and then the whole range, holes and special pages
 * included (the hypervisor refuses those). */
static uint64_t lp_span(struct lp *lp)
{
	if (lp->p->pages < lp->nr && chance(&lp->r, 95))
		return lp->p->pages;
	return lp->nr;
}

/* Nominate up to @want resident gfns, write them out and evict them. */
static void lp_pageout(struct lp *lp, size_t want)
{
	size_t n = 0;
	uint64_t span = lp_span(lp);
	uint64_t start = rnd(&lp->r) % span;
	bool run = chance(&lp->r, 50);
	int rc;

	for (uint64_t i = 0; i < span && n < want; i++) {
		uint64_t gfn = run ? (start + i) % span : rnd(&lp->r) % span;

		if (lp->st[gfn] != S_RES)
			continue;
		bool dup = false;

		for (size_t j = 0; j < n && !run; j++)
			dup |= lp->g[j] == gfn;
		if (!dup)
			lp->g[n++] = gfn;
	}
	if (!n)
		return;
	rc = xpage_nominate(lp->xp, lp->g, n, 0, lp->status);
	trace(&lp->h, 0x7000 | (uint64_t)(rc & 0xfff), n);
	if (rc < 0) {
		fail(lp->o, "xpage_nominate: %s", xpage_strerror(rc));
		return;
	}
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		trace(&lp->h, 0x7100 | (uint64_t)(lp->status[i] & 0xfff), lp->g[i]);
		if (lp->status[i] == 0) {
			lp->st[lp->g[i]] = S_NOM;
			lp->g[k++] = lp->g[i];
		} else if (lp->status[i] == -EINVAL &&
			   xpage_gfn_state(lp->xp, lp->g[i]) == XPAGE_GFN_RESIDENT &&
			   lp->age == 2) {
			/* age 2 passes the mapping's refusal of a gfn the
			 * guest released through as -EINVAL (a known bug,
			 * tests/safety/test_repro.c age2_nominate_*) */
		} else if (lp->status[i] != -EBUSY) {
			fail(lp->o, "xpage_nominate of gfn %#" PRIx64 ": %s",
			     lp->g[i], xpage_strerror(lp->status[i]));
		}
	}
	if (chance(&lp->r, 20))
		lp_dispatch(lp);
	/* lp->g is scratch for what follows: work on a copy */
	uint64_t *g = malloc((k ? k : 1) * sizeof(*g));

	if (!g) {
		fail(lp->o, "out of memory");
		return;
	}
	size_t m = 0;

	for (size_t i = 0; i < k; i++)
		if (lp->st[lp->g[i]] == S_NOM)
			g[m++] = lp->g[i];
	lp_write_evict(lp, g, m);
	free(g);
}

/* Gfns left nominated (evict refused, map refused): evict again or give
 * them back. */
static void lp_retry_nominated(struct lp *lp, bool give_back)
{
	uint64_t *g = malloc(lp->nr * sizeof(*g));
	size_t n = 0;

	if (!g) {
		fail(lp->o, "out of memory");
		return;
	}
	for (uint64_t gfn = 0; gfn < lp->nr; gfn++)
		if (lp->st[gfn] == S_NOM)
			g[n++] = gfn;
	for (size_t off = 0; off < n; off += lp->p->max_batch) {
		size_t k = n - off < lp->p->max_batch ? n - off : lp->p->max_batch;

		if (give_back) {
			int rc = xpage_unnominate(lp->xp, g + off, k, 0, lp->status);

			trace(&lp->h, 0x8000 | (uint64_t)(rc & 0xfff), k);
			for (size_t i = 0; i < k; i++) {
				if (lp->status[i] == 0) {
					lp->st[g[off + i]] = S_RES;
					lp_free_copy(lp, g[off + i]);
				}
			}
		} else {
			/* still nominated? (a notice may have come meanwhile) */
			size_t m = 0;

			for (size_t i = 0; i < k; i++)
				if (lp->st[g[off + i]] == S_NOM)
					g[off + m++] = g[off + i];
			lp_write_evict(lp, g + off, m);
		}
	}
	free(g);
}

/* Page in @want gfns the guest did not ask for. */
static void lp_pagein(struct lp *lp, size_t want)
{
	uint64_t *g = malloc((want ? want : 1) * sizeof(*g));
	size_t n = 0;
	uint64_t start = rnd(&lp->r) % lp->nr;

	if (!g) {
		fail(lp->o, "out of memory");
		return;
	}
	for (uint64_t i = 0; i < lp->nr && n < want; i++) {
		uint64_t gfn = (start + i) % lp->nr;

		if (lp->st[gfn] == S_OUT)
			g[n++] = gfn;
	}
	lp_serve(lp, g, n);
	free(g);
}

/* The library's view must be the pager's. */
static void lp_check_states(struct lp *lp)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	for (uint64_t gfn = 0; gfn < lp->nr; gfn++) {
		int ls = xpage_gfn_state(lp->xp, gfn);
		bool ok;

		switch (lp->st[gfn]) {
		case S_RES:
			ok = ls == XPAGE_GFN_RESIDENT;
			break;
		case S_NOM:
			ok = ls == XPAGE_GFN_NOMINATED;
			break;
		default:
			ok = ls == XPAGE_GFN_EVICTED || ls == XPAGE_GFN_PAGING_IN;
			break;
		}
		if (!ok) {
			fail(lp->o, "gfn %#" PRIx64 ": the pager holds it as %s, "
			     "the library as state %d", gfn,
			     lp->st[gfn] == S_RES ? "resident" :
			     lp->st[gfn] == S_NOM ? "nominated" : "out", ls);
			return;
		}
	}
	if (xpage_get_stats(lp->xp, &s) == 0 && s.evicted_now != lp->nout)
		fail(lp->o, "the library counts %" PRIu64 " gfns out, the pager "
		     "%" PRIu64, s.evicted_now, lp->nout);
	if (s.bad_events)
		fail(lp->o, "%" PRIu64 " ring requests rejected as malformed "
		     "(the simulator writes only good ones)", s.bad_events);
}

/* Accesses made by the soak itself (driven runs), as a toolstack or a
 * device model makes them: foreign accesses and foreign balloon-outs, so
 * that no guest vCPU ever waits (a vCPU answered by the pager re-executes
 * its access on its own thread at a moment only the scheduler knows, which
 * no seed can replay; threads runs cover paused vCPUs). */
static void lp_touch(struct lp *lp, unsigned n)
{
	const struct xpage_sim_workload *w = &lp->p->wl;

	for (unsigned i = 0; i < n; i++) {
		uint64_t gfn;
		int rc;

		if (w->pattern == XPAGE_SIM_HOTCOLD &&
		    chance(&lp->r, w->hot_pct)) {
			uint64_t ram = lp->p->pages < lp->nr ? lp->p->pages : lp->nr;
			uint64_t hot = ram * w->hot_set_pct / 100;

			gfn = rnd(&lp->r) % (hot ? hot : 1);
		} else {
			gfn = rnd(&lp->r) % lp_span(lp);
		}
		if (w->release_pm && rnd(&lp->r) % 1000 < w->release_pm * 4) {
			struct simp_touch t = { .domid = lp->domid,
				.flags = XPAGE_SIM_TOUCH_FOREIGN, .gfn = gfn };
			int sock = simp_connect(xpage_sim_socket(lp->sim));

			rc = sock < 0 ? sock :
			     simp_call(sock, SIMP_RELEASE, &t, sizeof(t), NULL, 0,
				       NULL, NULL, NULL);
			if (sock >= 0)
				close(sock);
			trace(&lp->h, 0x9000 | (uint64_t)(rc & 0xfff), gfn);
			if (rc && rc != -ENOENT)
				fail(lp->o, "foreign release of gfn %#" PRIx64 ": %s",
				     gfn, xpage_strerror(rc));
			continue;
		}
		rc = xpage_sim_touch(lp->sim, lp->domid, 0, gfn,
				     XPAGE_SIM_TOUCH_FOREIGN |
				     (chance(&lp->r, w->write_pct) ?
				      XPAGE_SIM_TOUCH_WRITE : 0));
		trace(&lp->h, 0x9100 | (uint64_t)(rc & 0xfff), gfn);
		lp->o->accesses++;
		if (rc == -ESHUTDOWN)
			fail(lp->o, "an access to gfn %#" PRIx64 " crashed the "
			     "domain", gfn);
		else if (rc && rc != -ENOENT && rc != -EFAULT)
			fail(lp->o, "foreign access to gfn %#" PRIx64 ": %s", gfn,
			     xpage_strerror(rc));
		if (rc == -ENOENT)
			lp->o->faults++;
	}
}

static xpage_t *lp_open(struct lp *lp, FILE *log, uint32_t flags)
{
	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = lp->domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(lp->sim),
		.ages = (uint32_t)lp->p->ages, .flags = flags,
		.features_wanted = lp->p->features, .log_fn = lib_log,
		.log_ctx = log, .log_level = XPAGE_LOG_INFO);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks, .user = lp,
		.populate = cb_populate, .evict_fail = cb_evict_fail,
		.drop = cb_drop);

	return xpage_open(&oo, &cb);
}

/* Detach as a pager that dies would, then take the ring over with a new
 * handle and adopt what is out (the store survives the pager). */
static void lp_takeover(struct lp *lp, FILE *log)
{
	int rc;

	/* A pager leaves nothing nominated behind (a guest touching such a
	 * gfn with no ring would crash). */
	for (int tries = 0; tries < 200; tries++) {
		bool nom = false;

		lp_retry_nominated(lp, true);
		for (uint64_t gfn = 0; gfn < lp->nr && !nom; gfn++)
			nom = lp->st[gfn] == S_NOM;
		if (!nom)
			break;
		/* touched meanwhile (its notice settles it), or the evict of
		 * the un-nomination refused: again */
		lp_dispatch(lp);
		lp_serve_queue(lp);
		msleep(1);
	}
	rc = xpage_detach(lp->xp, 1);
	trace(&lp->h, 0xa000, (uint64_t)(rc & 0xfff));
	lp->xp = NULL;
	if (rc < 0) {
		fail(lp->o, "xpage_detach: %s", xpage_strerror(rc));
		return;
	}
	lp->xp = lp_open(lp, log, XPAGE_OPEN_TAKEOVER);
	if (!lp->xp) {
		fail(lp->o, "takeover: xpage_open: %s", xpage_strerror(errno));
		return;
	}
	/* The new handle knows nothing: nominated gfns of the old one were
	 * given back above (any left became resident by their notices on the
	 * old handle, or are resident as far as the hypervisor cares). */
	size_t n = 0;

	for (uint64_t gfn = 0; gfn < lp->nr; gfn++) {
		if (lp->st[gfn] == S_NOM) {
			fail(lp->o, "gfn %#" PRIx64 " still nominated at detach",
			     gfn);
			lp->st[gfn] = S_RES;
		}
		if (lp->st[gfn] == S_OUT)
			lp->g[n++] = gfn;
		lp->queued[gfn] = 0;
	}
	lp->nq = 0;
	for (size_t off = 0; off < n; off += 4096) {
		size_t k = n - off < 4096 ? n - off : 4096;

		rc = xpage_adopt(lp->xp, lp->g + off, k, 0, lp->status);
		if (rc != (int)k)
			fail(lp->o, "xpage_adopt: %d of %zu", rc, k);
	}
	trace(&lp->h, 0xa100, n);
}

/* Bring everything back; close. */
static void lp_drain(struct lp *lp)
{
	double end = now_s() + 20;

	lp_retry_nominated(lp, true);
	while (!lp->o->failed && now_s() < end) {
		lp_dispatch(lp);
		lp_serve_queue(lp);
		lp_pagein(lp, lp->nr);
		lp_retry_nominated(lp, true);
		if (lp_dispatch(lp) == 0 && lp->nout == 0) {
			bool nom = false;

			for (uint64_t gfn = 0; gfn < lp->nr && !nom; gfn++)
				nom = lp->st[gfn] == S_NOM;
			if (!nom)
				break;
		}
		if (lp->nout)
			msleep(1); /* injected ENOMEM: try again */
	}
	if (!lp->o->failed && lp->nout)
		fail(lp->o, "%" PRIu64 " gfns still out after 20 s of draining",
		     lp->nout);
	for (uint64_t gfn = 0; gfn < lp->nr && !lp->o->failed; gfn++) {
		if (lp->st[gfn] == S_NOM) {
			int st = 0;

			struct simp_gfn_state gs = { 0 };

			xpage_unnominate(lp->xp, &gfn, 1, 0, &st);
			sim_gfn(xpage_sim_socket(lp->sim), lp->domid, gfn, &gs);
			fail(lp->o, "gfn %#" PRIx64 " still nominated after 20 s of "
			     "draining (library state %d, xpage_unnominate: %s; "
			     "simulator: p2mt %u, %u extra references, frame %u)",
			     gfn, xpage_gfn_state(lp->xp, gfn), xpage_strerror(st),
			     gs.p2mt, gs.refcount, gs.has_frame);
		}
	}
}

static void run_lib(const struct params *p, xpage_sim_t *sim, uint32_t domid,
		    FILE *log, struct outcome *o)
{
	struct lp lp = { .p = p, .o = o, .sim = sim, .domid = domid,
			 .r = { mix64(p->seed ^ 0x7061676572ull) },
			 .h = 0xcbf29ce484222325ull };
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	double t0 = now_s(), next_check = t0 + 0.5;
	uint32_t step = 0;
	int takeover_at = p->takeover_at, rc;

	lp.xp = lp_open(&lp, log, 0);
	if (!lp.xp) {
		int e = errno;

		trace(&lp.h, 0xb000, (uint64_t)e);
		if (p->nopaging && e == ENOSYS)
			return; /* refused, as it must be */
		fail(o, "xpage_open: %s", xpage_strerror(e));
		return;
	}
	if (p->nopaging) {
		fail(o, "xpage_open succeeded on a hypervisor without paging");
		xpage_close(lp.xp);
		return;
	}
	xpage_get_info(lp.xp, &info);
	lp.nr = info.nr_gfns;
	lp.age = info.age;
	lp.st = calloc(lp.nr, 1);
	lp.queued = calloc(lp.nr, 1);
	lp.copy = calloc(lp.nr, sizeof(*lp.copy));
	lp.q = malloc(lp.nr * sizeof(*lp.q));
	lp.g = malloc(lp.nr * sizeof(*lp.g));
	lp.status = malloc(lp.nr * sizeof(*lp.status));
	lp.sg = malloc(lp.nr * sizeof(*lp.sg));
	lp.sstatus = malloc(lp.nr * sizeof(*lp.sstatus));
	lp.sstatus2 = malloc(lp.nr * sizeof(*lp.sstatus2));
	lp.bufs = malloc(lp.nr * sizeof(*lp.bufs));
	if (!lp.st || !lp.queued || !lp.copy || !lp.q || !lp.g || !lp.status ||
	    !lp.sg || !lp.sstatus || !lp.sstatus2 || !lp.bufs) {
		fail(o, "out of memory");
		goto out;
	}
	fprintf(log, "negotiated: %s, age %u, features %#" PRIx64 ", %" PRIu64
		" gfns, %u slots\n", xpage_generation_name((int)info.generation),
		info.age, info.features, info.nr_gfns, info.ring_slots);

	for (;;) {
		double t = now_s();

		if (p->driven ? step >= p->steps : t - t0 >= p->seconds)
			break;
		if (o->failed)
			break;
		if (takeover_at >= 0 &&
		    (p->driven ? (int)(step * 20 / p->steps) :
				 (int)((t - t0) * 20 / p->seconds)) >= takeover_at) {
			takeover_at = -1; /* once */
			lp_takeover(&lp, log);
			if (!lp.xp)
				break;
		}
		step++;
		uint64_t want_out = lp.nr * p->out_pct / 100;
		unsigned a = (unsigned)(rnd(&lp.r) % 100);

		if (a < 35 && lp.nout < want_out) {
			lp_pageout(&lp, (size_t)rnd_in(&lp.r, 1, p->max_batch));
		} else if (a < 60) {
			lp_dispatch(&lp);
			lp_serve_queue(&lp);
		} else if (a < 68) {
			lp_pagein(&lp, (size_t)rnd_in(&lp.r, 1, p->max_batch));
		} else if (a < 73) {
			lp_retry_nominated(&lp, chance(&lp.r, 50));
		} else if (p->driven) {
			lp_touch(&lp, (unsigned)rnd_in(&lp.r, 1, 16));
		} else {
			rc = xpage_dispatch(lp.xp, (int)rnd_in(&lp.r, 0, 3));
			if (rc < 0)
				fail(o, "xpage_dispatch: %s", xpage_strerror(rc));
			lp_serve_queue(&lp);
		}
		if (p->driven ? step % 64 == 0 : t >= next_check) {
			struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

			lp_check_states(&lp);
			rc = xpage_sim_report(sim, domid, 0, 60000, &r);
			if (rc < 0)
				fail(o, "report: %s", xpage_strerror(rc));
			else if (r.lost || r.corrupted || r.crashed)
				fail(o, "mid-run oracle: %" PRIu64 " lost, %" PRIu64
				     " corrupted, crashed %u", r.lost, r.corrupted,
				     r.crashed);
			next_check = t + 0.5;
		}
	}
	if (lp.xp) {
		lp_check_states(&lp);
		lp_drain(&lp);
		rc = xpage_close(lp.xp);
		trace(&lp.h, 0xc000, (uint64_t)(rc & 0xfff));
		if (rc < 0)
			fail(o, "xpage_close: %s", xpage_strerror(rc));
	}
out:
	for (uint64_t gfn = 0; lp.copy && gfn < lp.nr; gfn++)
		free(lp.copy[gfn]);
	free(lp.st);
	free(lp.queued);
	free(lp.copy);
	free(lp.q);
	free(lp.g);
	free(lp.status);
	free(lp.sg);
	free(lp.sstatus);
	free(lp.sstatus2);
	free(lp.bufs);
	o->trace = lp.h;
}

/* ------------------------------------------------------------------ */
/* The example pager                                                    */

static const char *pager_bin;

static pid_t spawn_pager(const char *const *args, const char *log)
{
	const char *argv[40];
	int n = 0, fd;
	pid_t pid;

	argv[n++] = pager_bin;
	for (int i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(pager_bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait for @pid up to @secs; SIGKILL it after that (status -1). */
static int wait_pid(pid_t pid, double secs)
{
	double end = now_s() + secs;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_s() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		msleep(20);
	}
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void run_pager(const struct params *p, xpage_sim_t *sim,
		      uint32_t domid, const char *dir, struct outcome *o)
{
	struct rng r = { mix64(p->seed ^ 0x6b696c6cull) };
	char store[400], log[400], dom[16], target[32], batch[16], recent[16],
	     dur[32];
	int st;

	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(log, sizeof(log), "%s/pager.log", dir);
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(target, sizeof(target), "%" PRIu64, p->target);
	snprintf(batch, sizeof(batch), "%u", p->batch);
	snprintf(recent, sizeof(recent), "%u", p->recent_s);
	snprintf(dur, sizeof(dur), "%.1f", p->pager_s);

#define PAGER_ARGS "--sim-socket", xpage_sim_socket(sim), "--domid", dom, \
	"--store", store, "--no-progress", "--target-pages", target, \
	"--batch", batch, "--recent-s", recent
	for (uint32_t k = 0; k < p->kills; k++) {
		const char *a[] = { PAGER_ARGS, k ? "--takeover" : "--no-progress",
				    NULL };
		pid_t pid = spawn_pager(a, log);
		unsigned ms = (unsigned)rnd_in(&r, 200, 1500);

		msleep(ms);
		kill(pid, SIGKILL);
		wait_pid(pid, 10);
		FILE *f = fopen(log, "a");

		if (f) {
			fprintf(f, "soak: pager killed (SIGKILL) after %u ms\n", ms);
			fclose(f);
		}
		msleep((unsigned)rnd_in(&r, 0, 500)); /* no pager a while */
	}
	/* a pager killed before it wrote its store leaves a ring and no
	 * store: the next one is told to take over */
	const char *tk = p->kills ? "--takeover" : "--no-progress";

	if (p->sigterm) {
		const char *a[] = { PAGER_ARGS, tk, NULL };
		pid_t pid = spawn_pager(a, log);

		msleep((unsigned)(p->pager_s * 1000));
		kill(pid, SIGTERM);
		st = wait_pid(pid, 90);
	} else {
		const char *a[] = { PAGER_ARGS, tk, "--duration", dur, NULL };

		st = wait_pid(spawn_pager(a, log), 90 + p->pager_s);
	}
#undef PAGER_ARGS
	if (p->nopaging) {
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 2 ||
		    !file_has(log, "without memory paging"))
			fail(o, "the pager did not refuse a hypervisor without "
			     "paging clearly (status %#x)", st);
		return;
	}
	if (p->kills && st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2 &&
	    file_has(log, "vCPUs wait for ring space")) {
		/* The pager died while guest vCPUs waited for a ring slot:
		 * Xen refuses to disable that ring, so no pager can take it
		 * over (docs/bad-input.md). Not the pager's doing. */
		o->limit = true;
		return;
	}
	if (st == -1)
		fail(o, "the pager did not finish within %.0f s",
		     90 + p->pager_s);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail(o, "the pager %s %d (see %s)",
		     WIFEXITED(st) ? "exited with" : "was killed by signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log);
	if (!o->failed && (access(store, F_OK) == 0))
		fail(o, "the pager left its store %s behind", store);
}

/* ------------------------------------------------------------------ */
/* One run                                                              */

static bool keep_files;
static uint64_t cur_seed;
static uint64_t last_trace; /* of the last driven run */
static int limits;          /* runs ended by a documented Xen limit */

static void on_alarm(int sig)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "\nTIMEOUT seed=%#" PRIx64 ": the "
			 "run hung (replay: soak --seed %#" PRIx64 ")\n",
			 cur_seed, cur_seed);

	(void)sig;
	if (write(2, msg, (size_t)n) < 0) {
		/* nothing to do */
	}
	_exit(1);
}

static void show_tail(const char *path, int lines)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' 2>/dev/null | sed 's/^/    /'",
		 lines, path);
	fflush(stdout);
	if (system(cmd) < 0) {
		/* best effort */
	}
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* On a failure: which gfns does the simulator hold paged out? (the raw
 * protocol's SIMP_GFN_STATE; the public API has no per-gfn query) */
static void show_paged(xpage_sim_t *sim, uint32_t domid, uint64_t pages)
{
	int sock = simp_connect(xpage_sim_socket(sim)), shown = 0;

	if (sock < 0)
		return;
	printf("    gfns not plain RAM:");
	for (uint64_t gfn = 0; gfn < pages && shown < 12; gfn++) {
		struct simp_touch t = { .domid = domid, .gfn = gfn };
		struct simp_gfn_state g;
		uint32_t len = 0;

		if (simp_call(sock, SIMP_GFN_STATE, &t, sizeof(t), &g, sizeof(g),
			      &len, NULL, NULL) == 0 && len == sizeof(g) &&
		    g.p2mt != SIMP_P2M_RAM_RW && g.p2mt != SIMP_P2M_INVALID) {
			printf(" %#" PRIx64 "(p2mt %u%s)", gfn, g.p2mt,
			       g.has_frame ? ", frame" : "");
			shown++;
		}
	}
	printf("\n    vCPUs (vm_event pauses/blocked/waiting):");
	for (uint32_t v = 0; v < SIMP_MAX_FDS * 32; v++) {
		struct simp_touch t = { .domid = domid, .vcpu = v };
		struct simp_vcpu_state vs;
		uint32_t len = 0;

		if (simp_call(sock, SIMP_VCPU_STATE, &t, sizeof(t), &vs,
			      sizeof(vs), &len, NULL, NULL) != 0)
			break;
		printf(" %u:%u/%u/%u", v, vs.vm_event_pause_count, vs.blocked,
		       vs.in_waitqueue);
	}
	printf("\n");
	close(sock);
}

static bool one_run(uint64_t seed, const char *base_dir, double *secs)
{
	struct params p;
	struct outcome o = { 0 };
	struct xpage_sim_report rep = XPAGE_OPTS(xpage_sim_report);
	char dir[300], simlog[400], liblog[400];
	xpage_sim_t *sim = NULL;
	FILE *log = NULL;
	double t0 = now_s();
	int domid = -1, rc;

	derive(&p, seed);
	cur_seed = seed;
	printf("seed=%#018" PRIx64 " %-18s %-5s %-7s pages %-5" PRIu64
	       " vcpus %u faults %u/%u/%u/%u/%u/%u/%u ", seed, p.pers,
	       p.mode == MODE_LIB ? "lib" : "pager",
	       p.mode == MODE_PAGER ? "threads" : p.driven ? "driven" : "threads",
	       p.pages, p.vcpus, p.fl.nominate_ebusy_pm, p.fl.evict_ebusy_pm,
	       p.fl.load_enomem_pm, p.fl.race_access_pm, p.fl.race_drop_pm,
	       p.fl.event_delay_us, p.fl.ring_slots_held);
	fflush(stdout);
	if (p.mode == MODE_PAGER && !pager_bin) {
		printf("-> skipped (no XPAGE_BATCH_PAGER)\n");
		*secs = 0;
		return true;
	}
	alarm(240);

	snprintf(dir, sizeof(dir), "%s/run-%016" PRIx64, base_dir, seed);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fail(&o, "mkdir %s: %s", dir, strerror(errno));
		goto report;
	}
	snprintf(o.files, sizeof(o.files), "%s", dir);
	snprintf(simlog, sizeof(simlog), "%s/simd.log", dir);
	snprintf(liblog, sizeof(liblog), "%s/lib.log", dir);
	{
		struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts,
			.log_path = simlog);

		sim = xpage_sim_start(&so);
		if (!sim) {
			fail(&o, "cannot start xpage-simd: %s",
			     xpage_strerror(errno));
			goto report;
		}
	}
	{
		struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
			.vcpus = p.vcpus, .pages = p.pages, .personality = p.pers,
			.seed = seed);

		domid = xpage_sim_create_guest(sim, &g);
		if (domid < 0) {
			fail(&o, "create guest: %s", xpage_strerror(domid));
			goto report;
		}
	}
	p.fl.sz = sizeof(p.fl);
	rc = xpage_sim_faults(sim, (uint32_t)domid, &p.fl);
	if (rc < 0) {
		fail(&o, "faults: %s", xpage_strerror(rc));
		goto report;
	}
	if (!p.driven) {
		rc = xpage_sim_workload(sim, (uint32_t)domid, &p.wl);
		if (rc < 0) {
			fail(&o, "workload: %s", xpage_strerror(rc));
			goto report;
		}
	}

	if (p.mode == MODE_LIB) {
		log = fopen(liblog, "we");
		dbg_log = getenv("SOAK_DEBUG") ? log : NULL;
		run_lib(&p, sim, (uint32_t)domid, log, &o);
		dbg_log = NULL;
		if (log)
			fclose(log);
	} else {
		run_pager(&p, sim, (uint32_t)domid, dir, &o);
	}

	if (o.limit)
		goto report;
	/* After the pager: nothing out, nothing nominated, no ring; then the
	 * guest runs on alone for a while (a page left paged or nominated
	 * would crash it now), and the oracle's final word. */
	rc = xpage_sim_report(sim, (uint32_t)domid, 0, 60000, &rep);
	if (rc < 0)
		fail(&o, "report: %s", xpage_strerror(rc));
	else if (!o.failed && (rep.paged || rep.nominated || rep.ring_enabled)) {
		fail(&o, "after the pager: %" PRIu64 " paged, %" PRIu64
		     " nominated, ring %s", rep.paged, rep.nominated,
		     rep.ring_enabled ? "still enabled" : "gone");
		show_paged(sim, (uint32_t)domid, p.pages);
	}
	if (!p.driven) {
		msleep(300);
		xpage_sim_workload_stop(sim, (uint32_t)domid);
	} else {
		/* every vCPU once more: a paused one would say so */
		for (uint32_t v = 0; v < p.vcpus; v++)
			xpage_sim_touch(sim, (uint32_t)domid, v, 0, 0);
	}
	rc = xpage_sim_report(sim, (uint32_t)domid, XPAGE_SIM_REPORT_FINAL,
			      10000, &rep);
	if (rc < 0) {
		fail(&o, "final report: %s", xpage_strerror(rc));
	} else {
		o.accesses = rep.accesses;
		o.faults = rep.faults;
		if (rep.lost || rep.corrupted || rep.stuck || rep.crashed ||
		    rep.paused_vcpus)
			fail(&o, "oracle: %" PRIu64 " lost, %" PRIu64 " corrupted, %"
			     PRIu64 " stuck, %u paused, crashed %u", rep.lost,
			     rep.corrupted, rep.stuck, rep.paused_vcpus,
			     rep.crashed);
	}

report:
	if (sim)
		xpage_sim_stop(sim);
	alarm(0);
	*secs = now_s() - t0;
	if (!o.failed && o.limit) {
		printf("-> not concluded %.1fs: the pager was killed while guest "
		       "vCPUs waited for ring space; Xen refuses to disable such "
		       "a ring, so no successor can take it over\n", *secs);
		limits++;
		if (!keep_files)
			rm_rf(dir);
		return true;
	}
	if (!o.failed) {
		printf("-> ok %.1fs lost 0 corrupted 0 stuck 0", *secs);
		if (p.mode == MODE_LIB)
			printf(" (out %" PRIu64 " in %" PRIu64 " populates %" PRIu64
			       " evict_fails %" PRIu64 " drops %" PRIu64 ")",
			       o.out, o.in, o.populates, o.evict_fails, o.drops);
		printf(" accesses %" PRIu64 " faults %" PRIu64, rep.accesses,
		       rep.faults);
		if (p.driven)
			printf(" trace=%016" PRIx64, o.trace);
		last_trace = o.trace;
		printf("\n");
		if (!keep_files)
			rm_rf(dir);
		return true;
	}
	printf("-> FAILED: %s\n", o.why);
	printf("    replay: soak --seed %#" PRIx64 "; files in %s\n", seed,
	       dir);
	if (p.mode == MODE_LIB)
		show_tail(liblog, 15);
	else
		show_tail(strcat(strcpy(liblog, dir), "/pager.log"), 25);
	show_tail(simlog, 15);
	return false;
}

/* ------------------------------------------------------------------ */

static int load_personalities(void)
{
	xpage_sim_t *sim = xpage_sim_start(NULL);
	char buf[2048], *save = NULL;
	int n;

	if (!sim)
		return -errno;
	n = xpage_sim_personalities(sim, buf, sizeof(buf));
	xpage_sim_stop(sim);
	if (n < 0)
		return n;
	for (char *t = strtok_r(buf, "\n", &save); t && npers < MAX_PERS;
	     t = strtok_r(NULL, "\n", &save))
		snprintf(pers_names[npers++], sizeof(pers_names[0]), "%s", t);
	return npers ? 0 : -ENOENT;
}

static void usage(FILE *f)
{
	fputs("usage: soak [--seconds N | --minutes N] [--base B] [--runs N] "
	      "[--keep]\n"
	      "       soak --seed S [--keep]\n", f);
}

int main(int argc, char **argv)
{
	double budget = 150, spent = 0, t0;
	uint64_t base = 0, one_seed = 0;
	bool have_base = false, have_seed = false;
	long max_runs = -1, replay_check = 0;
	char dir[256];
	const char *tmpdir = getenv("TMPDIR");
	int runs = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seconds") && v) {
			budget = strtod(v, NULL);
			i++;
		} else if (!strcmp(a, "--minutes") && v) {
			budget = strtod(v, NULL) * 60;
			i++;
		} else if (!strcmp(a, "--seed") && v) {
			one_seed = strtoull(v, NULL, 0);
			have_seed = true;
			i++;
		} else if (!strcmp(a, "--base") && v) {
			base = strtoull(v, NULL, 0);
			have_base = true;
			i++;
		} else if (!strcmp(a, "--runs") && v) {
			max_runs = strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--replay-check") && v) {
			replay_check = strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--keep")) {
			keep_files = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	if (!getenv("XPAGE_SIMD") || access(getenv("XPAGE_SIMD"), X_OK) < 0) {
		printf("no xpage-simd (XPAGE_SIMD): skipped\n");
		return 77;
	}
	pager_bin = getenv("XPAGE_BATCH_PAGER");
	if (pager_bin && access(pager_bin, X_OK) < 0)
		pager_bin = NULL;
	if (load_personalities() < 0) {
		fprintf(stderr, "soak: cannot list the simulator's personalities\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/xpage-soak.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}

	if (have_seed) {
		double s;
		bool ok = one_run(one_seed, dir, &s);

		if (!keep_files && ok)
			rm_rf(dir);
		return ok ? 0 : 1;
	}
	if (!have_base || replay_check) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		base = mix64((uint64_t)ts.tv_sec ^ ((uint64_t)ts.tv_nsec << 20) ^
			     (uint64_t)getpid());
	}
	if (replay_check) {
		/* N driven runs, each twice: the traces must match */
		int bad = 0, done = 0;

		for (uint64_t i = 0; done < replay_check && i < 1000; i++) {
			uint64_t seed = (mix64(base + i) / (2 * (uint64_t)npers)) *
					(2 * (uint64_t)npers) + i % (uint64_t)npers;
			struct params p;
			uint64_t t1;
			double s;

			derive(&p, seed);
			if (p.mode != MODE_LIB || !p.driven || p.nopaging)
				continue;
			done++;
			if (!one_run(seed, dir, &s)) {
				bad++;
				continue;
			}
			t1 = last_trace;
			if (!one_run(seed, dir, &s)) {
				bad++;
				continue;
			}
			if (t1 != last_trace) {
				printf("REPLAY DIFFERS: seed %#" PRIx64 " gave trace "
				       "%016" PRIx64 ", then %016" PRIx64 "\n", seed,
				       t1, last_trace);
				bad++;
			}
		}
		printf("soak: replay check: %d seeds, %d bad\n", done, bad);
		if (!bad && !keep_files)
			rm_rf(dir);
		return bad ? 1 : 0;
	}
	printf("soak: base %#" PRIx64 ", %.0f s, %d personalities x 2 modes; "
	       "replay one run with soak --seed S\n", base, budget, npers);
	t0 = now_s();
	for (uint64_t i = 0; max_runs < 0 || (long)i < max_runs; i++) {
		uint64_t combos = 2 * (uint64_t)npers;
		/* seed % P and seed / P % 2 pick personality and mode: run i
		 * takes combination i % (2P) */
		uint64_t seed = (mix64(base + i) / combos) * combos + i % combos;
		double s, left = budget - (now_s() - t0);
		struct params p;

		derive(&p, seed);
		/* a run needs its length plus set-up and drain time */
		if (left < (p.mode == MODE_LIB ? (p.driven ? 6 : p.seconds + 4)
					       : p.pager_s * (1 + p.kills) + 8))
			break;
		runs++;
		if (!one_run(seed, dir, &s))
			failed++;
		spent += s;
	}
	printf("soak: %d runs in %.1f min, %d failed%s", runs,
	       (now_s() - t0) / 60, failed,
	       failed ? "" : "; every run: 0 lost, 0 corrupted, 0 stuck");
	if (limits)
		printf(" (%d not concluded: a Xen limit, see above)", limits);
	printf("\n");
	if (!failed && !keep_files)
		rm_rf(dir);
	else
		printf("soak: files in %s\n", dir);
	(void)spent;
	return failed ? 1 : 0;
}
