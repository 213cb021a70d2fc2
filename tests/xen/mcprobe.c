/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-rig-mcprobe: does a multicall of paging operations return each
 * operation's own result on this hypervisor? Runs in dom0 of the real-Xen
 * run (tests/xen), against the run's guest, before its pager starts.
 *
 *   xpage-rig-mcprobe DOMID RAM_PAGES compare|churn
 *
 * It opens the domain with libxpage (so the ring is served and the guest
 * stays safe), then drives the Xen backend's paging operations directly
 * (libxpage's internal xp_run_ops, linked from the library's static
 * build) on two sets of gfns with the same make-up, position by position:
 * set A in multicalls, set B one trap per operation. Each batch mixes gfns
 * Xen accepts with gfns it must refuse:
 *
 *   nominate: RAM gfns; the same RAM gfn a second time in the batch;
 *             gfns nominated before the batch; holes above the RAM; gfns
 *             beyond the guest; the xenstore page (xenstored maps it)
 *   evict:    nominated gfns (unmapped); nominated gfns the probe still
 *             maps; resident gfns; holes; gfns beyond the guest
 *   prep:     evicted gfns with their contents; resident gfns; holes
 *
 * `compare`: the two sets must give the same status at every position
 * (a gfn the guest touched meanwhile is left out: its result depends on
 * when). `churn`, with the guest writing its memory (the scenario asks it
 * to churn): CHURN_N of its gfns are nominated and evicted in multicalls:
 * the number of evicts that answer 0 must equal the rise of Xen's own
 * paged-page count, and the others may only be refused (-EBUSY:
 * touched). In both, every page goes back
 * (loaded from the copy taken while it was mapped, or un-nominated), and
 * Xen's paged count must be back where it started.
 *
 * `range LO HI SECONDS`, with the guest busy: the gfns LO .. HI-1 are
 * paged out through the public calls again and again for SECONDS, each
 * page-in the guest raises served from the copy; then all come back. The
 * scenario points it at the guest kernel's code, and at as many ordinary
 * gfns for the control: does paging the code the guest executes hurt it?
 *
 * Prints "XPRIG mcprobe ..." lines for the host (parse-log) and exits 0
 * when every comparison held, 1 when one did not, 2 on a set-up failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>

#include "private.h"

#define K 16          /* gfns per category */
#define CHURN_N 256   /* gfns of the touched-under-writes step */

struct probe {
	xpage_t *xp;
	xc_interface *xch;
	uint32_t domid;
	uint64_t ram;         /* RAM pages: gfns 0 .. ram-1 */
	uint64_t store_gfn;
	unsigned mismatches;
};

static void up(double *t)
{
	FILE *f = fopen("/proc/uptime", "r");

	*t = 0;
	if (f) {
		if (fscanf(f, "%lf", t) != 1)
			*t = 0;
		fclose(f);
	}
}

static void mark(const char *fmt, ...)
{
	va_list ap;
	double t;

	up(&t);
	printf("XPRIG mcprobe t=%.2f ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static uint64_t paged_pages(struct probe *p)
{
	xc_domaininfo_t info;

	if (xc_domain_getinfolist(p->xch, p->domid, 1, &info) != 1 ||
	    info.domain != p->domid)
		return UINT64_MAX;
	return info.paged_pages;
}

/* Run @n ops the way @multicall says; keep the ring served. */
static int run(struct probe *p, struct xp_paging_op *ops, size_t n,
	       bool multicall)
{
	bool was = p->xp->use_multicall;
	int rc;

	p->xp->use_multicall = multicall;
	rc = xp_run_ops(p->xp, ops, n);
	p->xp->use_multicall = was;
	xpage_dispatch(p->xp, 0);
	return rc;
}

/* Keep libxpage's table in step with what the probe did behind its back,
 * so ring requests for these gfns are handled as for the library's own. */
static void set_state(struct probe *p, uint64_t gfn, unsigned st)
{
	unsigned was;

	if (gfn >= p->xp->table.nr)
		return;
	was = xp_gfn_state(&p->xp->table, gfn);
	xp_gfn_set_state(&p->xp->table, gfn, st);
	/* the count a load takes down again */
	if (st == XPAGE_GFN_EVICTED && was != XPAGE_GFN_EVICTED)
		p->xp->stats.evicted_now++;
	if (was == XPAGE_GFN_EVICTED && st == XPAGE_GFN_RESIDENT)
		p->xp->stats.evicted_now--;
}

/* The next RAM gfn from *@cur on that the hypervisor does not touch
 * itself (libxpage never nominates those: nominating one can crash the
 * guest, docs/xen-hazards.md). */
static uint64_t next_ram(struct probe *p, uint64_t *cur)
{
	static uint64_t last;

	xp_hv_refresh(p->xp);
	if (*cur <= last && last)
		*cur = last + 1; /* never the same gfn twice */
	while (*cur < p->ram && xp_hv_guarded(p->xp, *cur))
		(*cur)++;
	last = *cur;
	return (*cur)++;
}

/* A batch of @n ops of kind @op on @gfns. */
static void fill(struct xp_paging_op *ops, const uint64_t *gfns, size_t n,
		 uint32_t op, void *const *bufs)
{
	for (size_t i = 0; i < n; i++)
		ops[i] = (struct xp_paging_op){ .op = op, .gfn = gfns[i],
						.buf = bufs ? bufs[i] : NULL,
						.rc = 12345 };
}

/* gfns the guest touched while nominated (their evict_fail notices):
 * their results depend on when, so they are left out of the comparison. */
#define MAX_TOUCHED 4096
static uint64_t touched[MAX_TOUCHED];
static size_t ntouched;

static void on_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	(void)xp, (void)user;
	if (ntouched < MAX_TOUCHED)
		touched[ntouched++] = gfn;
}

static bool was_touched(uint64_t gfn)
{
	for (size_t i = 0; i < ntouched; i++)
		if (touched[i] == gfn)
			return true;
	return false;
}

/* Compare two batches position by position. */
static void compare(struct probe *p, const char *what,
		    const struct xp_paging_op *a, const struct xp_paging_op *b,
		    const bool *skip_a, const bool *skip_b, size_t n)
{
	unsigned bad = 0, ok = 0, skipped = 0;

	for (size_t i = 0; i < n; i++) {
		if (skip_a[i] || skip_b[i] || was_touched(a[i].gfn) ||
		    was_touched(b[i].gfn)) {
			skipped++;
			continue;
		}
		ok += a[i].rc == 0;
		if (a[i].rc != b[i].rc) {
			if (bad++ < 4)
				mark("step=mismatch op=%s pos=%zu gfn_a=%#llx rc_a=%d "
				     "gfn_b=%#llx rc_b=%d", what, i,
				     (unsigned long long)a[i].gfn, a[i].rc,
				     (unsigned long long)b[i].gfn, b[i].rc);
		}
	}
	p->mismatches += bad;
	mark("step=compare op=%s ops=%zu accepted=%u mismatches=%u "
	     "touched_skipped=%u", what, n, ok, bad, skipped);
}

/* A mapping the probe holds: where, and how many pages. */
struct held_map {
	void *addr;
	size_t n;
};

/* Map those of @n gfns that are still nominated (a touched one is not) in
 * one call, copy them into @copy (page i of @copy for gfns[i]), and keep
 * the mapping in @hm until release(). */
static void map_copy(struct probe *p, const uint64_t *gfns, size_t n,
		     uint8_t *copy, bool *have, struct held_map *hm)
{
	uint64_t g[6 * K];
	size_t pos[6 * K], k = 0;
	int st[6 * K];
	uint8_t *m;

	for (size_t i = 0; i < n && k < 6 * K; i++)
		if (xpage_gfn_state(p->xp, gfns[i]) == XPAGE_GFN_NOMINATED) {
			pos[k] = i;
			g[k++] = gfns[i];
		}
	hm->addr = NULL;
	hm->n = k;
	for (size_t i = 0; i < n; i++)
		have[i] = false;
	if (!k || !(m = xpage_map(p->xp, g, k, 0, st)))
		return;
	for (size_t j = 0; j < k; j++)
		if (!st[j]) {
			memcpy(copy + pos[j] * XPAGE_PAGE_SIZE,
			       m + j * XPAGE_PAGE_SIZE, XPAGE_PAGE_SIZE);
			have[pos[j]] = true;
		}
	hm->addr = m;
}

static void release(struct probe *p, struct held_map *hm)
{
	if (hm->addr)
		xpage_unmap(p->xp, hm->addr, hm->n);
	hm->addr = NULL;
}

/* Every gfn the probe left nominated or evicted goes back. */
static void restore(struct probe *p, const uint64_t *gfns, size_t n,
		    uint8_t *copy)
{
	void **bufs = calloc(n, sizeof(*bufs));
	uint64_t *g = calloc(n, sizeof(*g));
	int *st = calloc(n, sizeof(*st));
	size_t k = 0;

	if (!bufs || !g || !st)
		exit(2);
	for (size_t i = 0; i < n; i++)
		if (xpage_gfn_state(p->xp, gfns[i]) == XPAGE_GFN_EVICTED) {
			g[k] = gfns[i];
			bufs[k++] = copy + i * XPAGE_PAGE_SIZE;
		}
	if (k && xpage_load(p->xp, g, k, bufs, XPAGE_LOAD_RESUME, st) != (int)k)
		for (size_t i = 0, shown = 0; i < k && shown < 4; i++)
			if (st[i]) {
				mark("step=restore_load_failed gfn=%#llx rc=%d "
				     "state=%d", (unsigned long long)g[i], st[i],
				     xpage_gfn_state(p->xp, g[i]));
				shown++;
			}
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (xpage_gfn_state(p->xp, gfns[i]) == XPAGE_GFN_NOMINATED)
			g[k++] = gfns[i];
	for (int round = 0; k && round < 5; round++) {
		xpage_unnominate(p->xp, g, k, 0, st);
		xpage_dispatch(p->xp, 10);
	}
	free(bufs);
	free(g);
	free(st);
}

/* Contents of the gfns the probe has out, for populate requests. */
#define MAX_OUT (8 * K + CHURN_N)
static struct { uint64_t gfn; uint8_t *data; } outs[MAX_OUT];
static size_t nouts;

static void note_out(uint64_t gfn, uint8_t *data)
{
	if (nouts < MAX_OUT)
		outs[nouts++] = (typeof(outs[0])){ gfn, data };
}

/* The deterministic part: two sets of gfns of the same make-up, one
 * driven in multicalls, the other one trap per operation. */
enum { NOM = 0, EVI = 1, PRE = 2 };
struct set_result {
	struct xp_paging_op op[3][6 * K];
	size_t n[3];
	bool skip[3][6 * K]; /* not compared: see one_set() */
};

struct probe_set {
	uint64_t good[K], pre[K], resid[K], hole[K], beyond[K];
	uint8_t copy_good[K * XPAGE_PAGE_SIZE], copy_pre[K * XPAGE_PAGE_SIZE];
	bool have_good[K], have_pre[K]; /* the copy was taken */
};

/* Nominate @gfn alone, a few tries (a passing reference refuses it). */
static bool nominate_one(struct probe *p, uint64_t gfn)
{
	struct xp_paging_op one;

	for (int t = 0; t < 3; t++) {
		fill(&one, &gfn, 1, XP_PAGING_NOMINATE, NULL);
		run(p, &one, 1, false);
		if (one.rc == 0) {
			set_state(p, gfn, XPAGE_GFN_NOMINATED);
			return true;
		}
	}
	return false;
}

/* Pick the set's gfns; `pre` ones are nominated (a gfn Xen keeps
 * refusing is replaced by the next). */
static void pick(struct probe *p, struct probe_set *ps, uint64_t ram0,
		 uint64_t hole0)
{
	uint64_t cur = ram0;

	for (unsigned i = 0; i < K; i++) {
		ps->good[i] = next_ram(p, &cur);
		ps->resid[i] = next_ram(p, &cur);
		do
			ps->pre[i] = next_ram(p, &cur);
		while (!nominate_one(p, ps->pre[i]) && cur < p->ram);
		ps->hole[i] = hole0 + i;
		ps->beyond[i] = p->xp->table.nr + 0x1000 + ram0 + i;
	}
}

/* Whatever succeeded moves libxpage's table along (the probe's copies
 * serve the evicted ones if the guest asks for them meanwhile). */
static void apply(struct probe *p, struct probe_set *ps,
		  const struct xp_paging_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].rc != 0 || ops[i].gfn >= p->xp->table.nr)
			continue;
		if (ops[i].op == XP_PAGING_NOMINATE)
			set_state(p, ops[i].gfn, XPAGE_GFN_NOMINATED);
		else if (ops[i].op == XP_PAGING_PREP)
			set_state(p, ops[i].gfn, XPAGE_GFN_RESIDENT);
		else
			set_state(p, ops[i].gfn, XPAGE_GFN_EVICTED);
	}
	for (unsigned i = 0; i < K; i++) {
		note_out(ps->good[i], ps->copy_good + i * XPAGE_PAGE_SIZE);
		note_out(ps->pre[i], ps->copy_pre + i * XPAGE_PAGE_SIZE);
	}
}

static size_t put(uint64_t *g, size_t n, const uint64_t *src)
{
	memcpy(g + n, src, K * sizeof(*src));
	return n + K;
}

static void one_set(struct probe *p, struct probe_set *ps, bool multicall,
		    struct set_result *res)
{
	uint64_t g[6 * K];
	void *bufs[6 * K];
	struct held_map mg, mp;
	size_t n = 0;

	n = put(g, n, ps->good);
	n = put(g, n, ps->good);   /* twice */
	n = put(g, n, ps->pre);
	n = put(g, n, ps->hole);
	n = put(g, n, ps->beyond);
	g[n++] = p->store_gfn;
	fill(res->op[NOM], g, res->n[NOM] = n, XP_PAGING_NOMINATE, NULL);
	run(p, res->op[NOM], n, multicall);
	apply(p, ps, res->op[NOM], n);

	/* contents of the nominated ones; `pre` stays mapped for the evict */
	map_copy(p, ps->good, K, ps->copy_good, ps->have_good, &mg);
	map_copy(p, ps->pre, K, ps->copy_pre, ps->have_pre, &mp);
	release(p, &mg);
	n = put(g, 0, ps->good);
	n = put(g, n, ps->pre);
	n = put(g, n, ps->resid);
	n = put(g, n, ps->hole);
	n = put(g, n, ps->beyond);
	/* Never evict a page without its copy (the guest touched it, or it
	 * did not map): such a position gets a gfn beyond the guest, and is
	 * not compared. */
	for (unsigned i = 0; i < 2 * K; i++) {
		bool have = i < K ? ps->have_good[i] : ps->have_pre[i - K];

		if (!have) {
			g[i] = ps->beyond[i % K];
			res->skip[EVI][i] = true;
		}
	}
	fill(res->op[EVI], g, res->n[EVI] = n, XP_PAGING_EVICT, NULL);
	run(p, res->op[EVI], n, multicall);
	apply(p, ps, res->op[EVI], n);
	release(p, &mp);

	n = 0;
	for (unsigned i = 0; i < K; i++, n++) {
		g[n] = ps->good[i];
		bufs[n] = ps->copy_good + i * XPAGE_PAGE_SIZE;
	}
	for (unsigned i = 0; i < 2 * K; i++, n++) {
		/* refused: a resident gfn keeps its page, a hole has none */
		g[n] = i < K ? ps->resid[i] : ps->hole[i - K];
		bufs[n] = ps->copy_good;
	}
	fill(res->op[PRE], g, res->n[PRE] = n, XP_PAGING_PREP, bufs);
	run(p, res->op[PRE], n, multicall);
	apply(p, ps, res->op[PRE], n);
	restore(p, ps->good, K, ps->copy_good);
	restore(p, ps->pre, K, ps->copy_pre);
}

static void on_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= XPAGE_LOG_INFO)
		fprintf(stderr, "libxpage: %s\n", msg);
}

/* The range mode's gfns and their copies (range_step). */
static struct {
	uint64_t lo, hi;
	uint8_t *copy;
	uint64_t pageins;
} rng;

static void on_populate(xpage_t *xp, const struct xpage_populate *pop,
			void *user)
{
	(void)user;
	if (rng.copy && pop->gfn >= rng.lo && pop->gfn < rng.hi) {
		void *b = rng.copy + (pop->gfn - rng.lo) * XPAGE_PAGE_SIZE;
		int st;

		xpage_load(xp, &pop->gfn, 1, &b, XPAGE_LOAD_RESUME, &st);
		rng.pageins++;
		return;
	}
	for (size_t i = nouts; i-- > 0;)
		if (outs[i].gfn == pop->gfn) {
			void *b = outs[i].data;
			int st;

			xpage_load(xp, &pop->gfn, 1, &b, XPAGE_LOAD_RESUME, &st);
			return;
		}
	mark("step=populate_unknown gfn=%#llx", (unsigned long long)pop->gfn);
}

/* Nominate and evict @n gfns in multicalls while the guest writes its
 * memory: the evicts answering 0 must be exactly Xen's rise of paged. */
static void churn_step(struct probe *p, uint64_t ram0)
{
	static uint64_t g[CHURN_N];
	static struct xp_paging_op ops[CHURN_N];
	static uint8_t copy[CHURN_N * XPAGE_PAGE_SIZE];
	static uint64_t ev[CHURN_N];
	static bool have[CHURN_N];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	uint64_t before, after;
	unsigned ok = 0, busy = 0, other = 0, nominated = 0, uncopied = 0;

	for (unsigned i = 0; i < CHURN_N; i++) {
		uint64_t cur = ram0 + (uint64_t)i * (p->ram - ram0) / CHURN_N;

		g[i] = next_ram(p, &cur);
	}
	before = paged_pages(p);
	fill(ops, g, CHURN_N, XP_PAGING_NOMINATE, NULL);
	run(p, ops, CHURN_N, true);
	for (unsigned i = 0; i < CHURN_N; i++)
		if (ops[i].rc == 0) {
			set_state(p, g[i], XPAGE_GFN_NOMINATED);
			nominated++;
		}
	nanosleep(&ts, NULL);
	xpage_dispatch(p->xp, 0); /* touched ones become resident */
	for (unsigned i = 0; i < CHURN_N; i++) {
		struct held_map hm;

		map_copy(p, &g[i], 1, copy + i * XPAGE_PAGE_SIZE, &have[i], &hm);
		release(p, &hm);
	}
	nanosleep(&ts, NULL);
	/* a gfn without its copy is not evicted: it goes back below */
	for (unsigned i = 0; i < CHURN_N; i++)
		ev[i] = have[i] ? g[i] : p->xp->table.nr + 0x1000 + i;
	fill(ops, ev, CHURN_N, XP_PAGING_EVICT, NULL);
	run(p, ops, CHURN_N, true);
	after = paged_pages(p);
	for (unsigned i = 0; i < CHURN_N; i++) {
		if (!have[i]) {
			uncopied++;
		} else if (ops[i].rc == 0) {
			ok++;
			note_out(g[i], copy + i * XPAGE_PAGE_SIZE);
			set_state(p, g[i], XPAGE_GFN_EVICTED);
		} else if (ops[i].rc == -EBUSY) {
			busy++;
		} else {
			other++;
		}
	}
	if (after - before != ok || other)
		p->mismatches++;
	mark("step=churn nominated=%u touched_before_map=%u evicted=%u "
	     "refused_busy=%u refused_other=%u xen_paged_rise=%lld", nominated,
	     uncopied, ok, busy, other, (long long)(after - before));
	restore(p, g, CHURN_N, copy);
}

static double mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* What each step of a page-out costs on this hypervisor, per page, for a
 * batch of COST_N gfns through the public calls (the guest holding its
 * memory): the floor under any pager's rate here. Every page goes back. */
#define COST_N 1024
static void cost_step(struct probe *p, uint64_t from, const char *name)
{
	static uint64_t g[COST_N], ev[COST_N];
	static int st[COST_N];
	static uint8_t copy[COST_N * XPAGE_PAGE_SIZE];
	static void *bufs[COST_N];
	double t[8];
	int nom, out = 0;
	uint64_t out_before;
	uint8_t *m;

	for (unsigned i = 0; i < COST_N; i++)
		g[i] = next_ram(p, &from);
	memset(copy, 1, sizeof(copy)); /* its own first touches, not timed */
	out_before = paged_pages(p);
	t[0] = mono_us();
	nom = xpage_nominate(p->xp, g, COST_N, 0, st);
	t[1] = mono_us();
	m = xpage_map(p->xp, g, COST_N, 0, st);
	t[2] = mono_us();
	/* the first read of each mapped page, as a pager's write does it */
	if (m) {
		int fd = open("/tmp/mcprobe.cost", O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || pwrite(fd, m, (size_t)COST_N * XPAGE_PAGE_SIZE, 0) < 0)
			mark("step=cost_write_failed errno=%d", errno);
		if (fd >= 0)
			close(fd);
		unlink("/tmp/mcprobe.cost");
	}
	t[6] = mono_us();
	for (unsigned i = 0; m && i < COST_N; i++) /* warm: the copy kept */
		if (st[i] == 0)
			memcpy(copy + (size_t)i * XPAGE_PAGE_SIZE,
			       m + (size_t)i * XPAGE_PAGE_SIZE, XPAGE_PAGE_SIZE);
	t[7] = mono_us();
	if (m)
		xpage_unmap(p->xp, m, COST_N);
	t[3] = mono_us();
	xpage_evict(p->xp, g, COST_N, 0, st);
	t[4] = mono_us();
	for (unsigned i = 0; i < COST_N; i++)
		if (st[i] == 0) {
			bufs[out] = copy + (size_t)i * XPAGE_PAGE_SIZE;
			ev[out++] = g[i];
		}
	xpage_load(p->xp, ev, (size_t)out, bufs, XPAGE_LOAD_RESUME, st);
	t[5] = mono_us();
	xpage_dispatch(p->xp, 0);
	for (unsigned i = 0; i < COST_N; i++)
		if (xpage_gfn_state(p->xp, g[i]) == XPAGE_GFN_NOMINATED)
			xpage_unnominate(p->xp, &g[i], 1, 0, st);
	mark("step=%s n=%d nominated=%d evicted=%d out_before=%llu "
	     "nominate_us=%.1f map_us=%.1f write_us=%.1f copy_warm_us=%.1f "
	     "unmap_us=%.1f evict_us=%.1f load_us=%.1f", name, COST_N, nom,
	     out, (unsigned long long)out_before,
	     (t[1] - t[0]) / COST_N, (t[2] - t[1]) / COST_N,
	     (t[6] - t[2]) / COST_N, (t[7] - t[6]) / COST_N,
	     (t[3] - t[7]) / COST_N, (t[4] - t[3]) / COST_N,
	     out ? (t[5] - t[4]) / out : 0.0);
}

/* The same steps at a pager's batch size, LOOP_B batches back to back,
 * the pages staying out until all are done (as in a pager's page-out),
 * then loaded back. Per page, each step's mean. Before they go back, one
 * more cost_step batch from @again: does a page-out cost more while many
 * pages are out? */
#define LOOP_N 256
#define LOOP_B 16
static void cost_loop(struct probe *p, uint64_t from, uint64_t again)
{
	static uint64_t g[LOOP_B][LOOP_N], ev[LOOP_B * LOOP_N];
	static int st[LOOP_B * LOOP_N];
	static uint8_t copy[LOOP_B][LOOP_N * XPAGE_PAGE_SIZE];
	static void *bufs[LOOP_B * LOOP_N];
	double sum[5] = { 0 }, t0, t1;
	int fd = open("/tmp/mcprobe.loop", O_RDWR | O_CREAT | O_TRUNC, 0600);
	size_t out = 0;

	for (unsigned b = 0; b < LOOP_B; b++) {
		int *s = st + (size_t)b * LOOP_N;
		uint8_t *m;

		for (unsigned i = 0; i < LOOP_N; i++)
			g[b][i] = next_ram(p, &from);
		t0 = mono_us();
		xpage_nominate(p->xp, g[b], LOOP_N, 0, s);
		t1 = mono_us(); sum[0] += t1 - t0; t0 = t1;
		m = xpage_map(p->xp, g[b], LOOP_N, 0, s);
		t1 = mono_us(); sum[1] += t1 - t0; t0 = t1;
		/* A gfn refused by nominate (one Xen touches itself) is a
		 * hole in the mapping: only mapped pages are read. */
		for (unsigned i = 0; m && fd >= 0 && i < LOOP_N; i++)
			if (s[i] == 0 &&
			    pwrite(fd, m + (size_t)i * XPAGE_PAGE_SIZE,
				   XPAGE_PAGE_SIZE,
				   (off_t)i * XPAGE_PAGE_SIZE) < 0)
				mark("step=cost_loop_write_failed errno=%d",
				     errno);
		t1 = mono_us(); sum[2] += t1 - t0;
		for (unsigned i = 0; m && i < LOOP_N; i++) /* not timed */
			if (s[i] == 0)
				memcpy(copy[b] + (size_t)i * XPAGE_PAGE_SIZE,
				       m + (size_t)i * XPAGE_PAGE_SIZE,
				       XPAGE_PAGE_SIZE);
		t0 = mono_us();
		if (m)
			xpage_unmap(p->xp, m, LOOP_N);
		t1 = mono_us(); sum[3] += t1 - t0; t0 = t1;
		xpage_evict(p->xp, g[b], LOOP_N, 0, s);
		t1 = mono_us(); sum[4] += t1 - t0;
		for (unsigned i = 0; i < LOOP_N; i++)
			if (s[i] == 0) {
				bufs[out] = copy[b] + (size_t)i * XPAGE_PAGE_SIZE;
				ev[out++] = g[b][i];
			}
	}
	if (fd >= 0)
		close(fd);
	unlink("/tmp/mcprobe.loop");
	cost_step(p, again, "cost_while_out");
	xpage_load(p->xp, ev, out, bufs, XPAGE_LOAD_RESUME, st);
	xpage_dispatch(p->xp, 0);
	for (unsigned b = 0; b < LOOP_B; b++)
		for (unsigned i = 0; i < LOOP_N; i++)
			if (xpage_gfn_state(p->xp, g[b][i]) == XPAGE_GFN_NOMINATED)
				xpage_unnominate(p->xp, &g[b][i], 1, 0, st);
	mark("step=cost_loop n=%d batches=%d evicted=%zu nominate_us=%.1f "
	     "map_us=%.1f write_us=%.1f unmap_us=%.1f evict_us=%.1f",
	     LOOP_N, LOOP_B, out, sum[0] / (LOOP_N * LOOP_B),
	     sum[1] / (LOOP_N * LOOP_B), sum[2] / (LOOP_N * LOOP_B),
	     sum[3] / (LOOP_N * LOOP_B), sum[4] / (LOOP_N * LOOP_B));
}

/* Page out the resident gfns of @g (@n of them, at most RANGE_B) through
 * the public calls, each copied while mapped; returns how many went out.
 * A gfn nominated but not copied is given back. */
#define RANGE_B 256
static unsigned range_batch(struct probe *p, uint64_t *g, size_t n)
{
	int st[RANGE_B];
	uint64_t ev[RANGE_B];
	size_t k = 0, e = 0;
	uint8_t *m;
	int out;

	for (size_t i = 0; i < n; i++)
		if (xpage_gfn_state(p->xp, g[i]) == XPAGE_GFN_RESIDENT)
			g[k++] = g[i];
	if (!k || xpage_nominate(p->xp, g, k, 0, st) <= 0)
		return 0;
	m = xpage_map(p->xp, g, k, 0, st);
	for (size_t i = 0; i < k; i++) {
		if (m && st[i] == 0) {
			memcpy(rng.copy + (g[i] - rng.lo) * XPAGE_PAGE_SIZE,
			       m + i * XPAGE_PAGE_SIZE, XPAGE_PAGE_SIZE);
			ev[e++] = g[i];
		} else if (xpage_gfn_state(p->xp, g[i]) == XPAGE_GFN_NOMINATED) {
			xpage_unnominate(p->xp, &g[i], 1, 0, &st[i]);
		}
	}
	if (m)
		xpage_unmap(p->xp, m, k);
	out = e ? xpage_evict(p->xp, ev, e, 0, st) : 0;
	for (size_t i = 0; i < e; i++)
		if (st[i] && xpage_gfn_state(p->xp, ev[i]) == XPAGE_GFN_NOMINATED)
			xpage_unnominate(p->xp, &ev[i], 1, 0, &st[i]);
	return out > 0 ? (unsigned)out : 0;
}

/* Serve the ring for @ms milliseconds. */
static void serve_for(struct probe *p, int ms)
{
	double end = mono_us() + ms * 1e3;
	struct pollfd pf = { .fd = xpage_fd(p->xp), .events = POLLIN };

	while (mono_us() < end) {
		poll(&pf, 1, 20);
		if (xpage_dispatch(p->xp, 0) < 0)
			return;
	}
}

/* `range LO HI SECONDS` (see the top of this file). */
static void range_step(struct probe *p, uint64_t lo, uint64_t hi, int secs)
{
	double end = mono_us() + secs * 1e6;
	uint64_t g[RANGE_B], evicted = 0, left;
	unsigned cycles = 0;
	int st;

	rng.lo = lo;
	rng.hi = hi;
	rng.copy = malloc((hi - lo) * XPAGE_PAGE_SIZE);
	if (!rng.copy || hi <= lo) {
		mark("step=range_failed");
		return;
	}
	while (mono_us() < end) {
		for (uint64_t b = lo; b < hi; b += RANGE_B) {
			size_t n = 0;

			for (uint64_t x = b; x < hi && n < RANGE_B; x++)
				g[n++] = x;
			evicted += range_batch(p, g, n);
			xpage_dispatch(p->xp, 0);
		}
		cycles++;
		serve_for(p, 200);
	}
	/* Everything back: the evicted ones from their copies. */
	left = 0;
	for (uint64_t x = lo; x < hi; x++) {
		void *b = rng.copy + (x - lo) * XPAGE_PAGE_SIZE;

		if (xpage_gfn_state(p->xp, x) == XPAGE_GFN_EVICTED) {
			xpage_load(p->xp, &x, 1, &b, XPAGE_LOAD_RESUME, &st);
			left++;
		}
	}
	serve_for(p, 500);
	mark("step=range lo=%#llx hi=%#llx secs=%d cycles=%u evicted=%llu "
	     "pageins=%llu loaded_at_end=%llu", (unsigned long long)lo,
	     (unsigned long long)hi, secs, cycles,
	     (unsigned long long)evicted, (unsigned long long)rng.pageins,
	     (unsigned long long)left);
}

int main(int argc, char **argv)
{
	struct probe p = { 0 };
	static struct set_result a, b;
	uint64_t start, end, v = 0;
	const char *names[3] = { "nominate", "evict", "prep" };

	bool range = argc == 7 && !strcmp(argv[3], "range");

	if (!range && (argc != 4 || (strcmp(argv[3], "compare") &&
				     strcmp(argv[3], "churn")))) {
		fprintf(stderr, "usage: %s DOMID RAM_PAGES compare|churn\n"
			"       %s DOMID RAM_PAGES range LO HI SECONDS\n",
			argv[0], argv[0]);
		return 2;
	}
	p.domid = (uint32_t)strtoul(argv[1], NULL, 0);
	p.ram = strtoull(argv[2], NULL, 0);
	p.xch = xc_interface_open(NULL, NULL, 0);
	if (!p.xch || p.ram < 0x4000)
		return 2;
	if (xc_hvm_param_get(p.xch, p.domid, HVM_PARAM_STORE_PFN, &v) == 0)
		p.store_gfn = v;
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.domid = p.domid, .ages = XPAGE_AGES_ALL,
		.features_wanted = XPAGE_FEAT_ALL,
		.log_fn = on_log, .log_level = XPAGE_LOG_INFO);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = on_populate, .evict_fail = on_evict_fail);
	p.xp = xpage_open(&o, &cb);
	if (!p.xp) {
		mark("step=open_failed errno=%d", errno);
		return 2;
	}
	if (!p.xp->ops->can_multicall(p.xp->be)) {
		mark("step=no_multicall");
		xpage_close(p.xp);
		return 1;
	}
	start = paged_pages(&p);
	static struct probe_set sa, sb;

	if (range) {
		range_step(&p, strtoull(argv[4], NULL, 0),
			   strtoull(argv[5], NULL, 0), atoi(argv[6]));
	} else if (!strcmp(argv[3], "compare")) {
		pick(&p, &sa, 0x3000, 0x40000);
		pick(&p, &sb, 0x3000 + 8 * K, 0x40000 + K);
		one_set(&p, &sa, true, &a);
		one_set(&p, &sb, false, &b);
		for (int k = 0; k < 3; k++)
			compare(&p, names[k], a.op[k], b.op[k], a.skip[k],
				b.skip[k], a.n[k]);
		cost_step(&p, p.ram / 2, "cost");
		cost_loop(&p, p.ram / 4, p.ram / 2 + 2 * COST_N);
	} else {
		churn_step(&p, 0x2000);
	}
	end = paged_pages(&p);
	mark("step=result mismatches=%u paged_start=%llu paged_end=%llu traps=%llu",
	     p.mismatches, (unsigned long long)start, (unsigned long long)end,
	     (unsigned long long)p.xp->stats.hypercalls);
	if (end != start)
		p.mismatches++;
	xpage_close(p.xp);
	xc_interface_close(p.xch);
	return p.mismatches ? 1 : 0;
}
