/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * consumer: a third-party pager as packaged libxpage sees it.
 *
 * Built by tests/consumer/run.sh from an installed copy of libxpage with
 * nothing but `cc consumer.c $(pkg-config --cflags --libs libxpage)`, so
 * it may include only <xpage/xpage.h> and <xpage/sim.h>. It starts the
 * installed simulator ($XPAGE_SIMD), creates a small guest, pages NPAGES
 * gfns out to memory, lets guest vCPUs (and a foreign mapper) touch a few
 * so that populate callbacks arrive, serves them with xpage_load() and
 * xpage_resume(), loads the rest back, closes, and asks the simulator's
 * oracle for a final verdict. Exit 0 only if no page was lost or
 * corrupted and no vCPU was left stuck.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xpage/xpage.h>
#include <xpage/sim.h>

#define GUEST_PAGES 1024u
#define FIRST_GFN 100u
#define NPAGES 100u
#define VCPUS 4u

struct pager {
	uint8_t *store;            /* NPAGES pages written out */
	int out[NPAGES];           /* 1 while gfn FIRST_GFN + i is out */
	unsigned populates[NPAGES];
	unsigned bad_populates;    /* for gfns we never paged out */
	unsigned load_errors;
};

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("consumer: FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	failures++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int slot(uint64_t gfn)
{
	if (gfn < FIRST_GFN || gfn >= FIRST_GFN + NPAGES)
		return -1;
	return (int)(gfn - FIRST_GFN);
}

/* The guest needs a page back: load it and answer the waiting vCPUs. */
static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct pager *p = user;
	int i = slot(ev->gfn), st = 0;
	void *buf[1];

	if (i < 0 || !p->out[i]) {
		p->bad_populates++;
		return;
	}
	p->populates[i]++;
	buf[0] = p->store + (size_t)i * XPAGE_PAGE_SIZE;
	if (xpage_load(xp, &ev->gfn, 1, buf, 0, &st) != 1) {
		p->load_errors++;
		return;
	}
	p->out[i] = 0;
	if (xpage_resume(xp, &ev->gfn, 1, 0, &st) != 1 && st != -EALREADY)
		p->load_errors++;
}

static void on_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	(void)xp;
	(void)user;
	/* No workload runs while we page out: nothing should touch. */
	fail("unexpected evict_fail for gfn %llu", (unsigned long long)gfn);
}

static void on_drop(xpage_t *xp, uint64_t gfn, void *user)
{
	(void)xp;
	(void)user;
	fail("unexpected drop for gfn %llu", (unsigned long long)gfn);
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	printf("libxpage[%d]: %s\n", level, msg);
}

/* Nominate, map, copy out, unmap, evict: returns gfns evicted. */
static unsigned page_out(xpage_t *xp, struct pager *p)
{
	uint64_t gfns[NPAGES];
	int st[NPAGES];
	unsigned evicted = 0;
	uint8_t *pages;
	int rc;

	for (unsigned i = 0; i < NPAGES; i++)
		gfns[i] = FIRST_GFN + i;
	rc = xpage_nominate(xp, gfns, NPAGES, 0, st);
	if (rc != (int)NPAGES) {
		fail("xpage_nominate: %d of %u (%s)", rc, NPAGES,
		     xpage_strerror(rc < 0 ? rc : st[0]));
		return 0;
	}
	xpage_dispatch(xp, 0);
	pages = xpage_map(xp, gfns, NPAGES, 0, st);
	if (!pages) {
		fail("xpage_map: %s", xpage_strerror(errno));
		return 0;
	}
	for (unsigned i = 0; i < NPAGES; i++) {
		if (st[i] != 0)
			fail("xpage_map of gfn %llu: %s",
			     (unsigned long long)gfns[i], xpage_strerror(st[i]));
		else
			memcpy(p->store + (size_t)i * XPAGE_PAGE_SIZE,
			       pages + (size_t)i * XPAGE_PAGE_SIZE,
			       XPAGE_PAGE_SIZE);
	}
	rc = xpage_unmap(xp, pages, NPAGES);
	if (rc != 0)
		fail("xpage_unmap: %s", xpage_strerror(rc));
	xpage_dispatch(xp, 0);
	rc = xpage_evict(xp, gfns, NPAGES, 0, st);
	for (unsigned i = 0; i < NPAGES; i++) {
		if (st[i] == 0) {
			p->out[i] = 1;
			evicted++;
		} else {
			fail("xpage_evict of gfn %llu: %s",
			     (unsigned long long)gfns[i], xpage_strerror(st[i]));
		}
	}
	if (rc != (int)evicted)
		fail("xpage_evict returned %d, %u statuses are 0", rc, evicted);
	return evicted;
}

int main(void)
{
	static struct pager pager;
	struct xpage_sim_report rep;
	struct xpage_stats stats;
	struct xpage_info info;
	xpage_sim_t *sim;
	xpage_t *xp;
	int domid, rc;

	/* The installed header and the installed library agree. */
	printf("consumer: libxpage %s (header %d.%d.%d)\n",
	       xpage_version_string(), XPAGE_VERSION_MAJOR,
	       XPAGE_VERSION_MINOR, XPAGE_VERSION_PATCH);
	if (xpage_version() != XPAGE_VERSION)
		fail("xpage_version() %#x, header XPAGE_VERSION %#x",
		     (unsigned)xpage_version(), (unsigned)XPAGE_VERSION);

	pager.store = malloc((size_t)NPAGES * XPAGE_PAGE_SIZE);
	if (!pager.store)
		return 1;

	/* simd_path NULL: $XPAGE_SIMD, which run.sh points at the copy
	 * installed with the library. */
	struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts,
					      .simd_path = NULL);
	sim = xpage_sim_start(&so);
	if (!sim) {
		printf("consumer: FAIL: xpage_sim_start: %s\n",
		       xpage_strerror(errno));
		return 1;
	}
	struct xpage_sim_guest_opts go = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = VCPUS, .pages = GUEST_PAGES, .seed = 42);
	domid = xpage_sim_create_guest(sim, &go);
	if (domid <= 0) {
		printf("consumer: FAIL: xpage_sim_create_guest: %s\n",
		       xpage_strerror(domid));
		xpage_sim_stop(sim);
		return 1;
	}

	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = (uint32_t)domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(sim), .ages = XPAGE_AGES_ALL,
		.log_fn = log_line, .log_level = XPAGE_LOG_WARN);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.user = &pager, .populate = on_populate,
		.evict_fail = on_evict_fail, .drop = on_drop);
	xp = xpage_open(&oo, &cb);
	if (!xp) {
		printf("consumer: FAIL: xpage_open: %s\n",
		       xpage_strerror(errno));
		xpage_sim_stop(sim);
		return 1;
	}
	info = XPAGE_OPTS(xpage_info);
	if (xpage_get_info(xp, &info) == 0)
		printf("consumer: d%u on %s: %s, age %u, %llu gfns\n",
		       info.domid, info.backend,
		       xpage_generation_name((int)info.generation), info.age,
		       (unsigned long long)info.nr_gfns);
	else
		fail("xpage_get_info");

	unsigned evicted = page_out(xp, &pager);
	printf("consumer: paged out %u of %u gfns\n", evicted, NPAGES);

	/* Guest accesses: two vCPUs on one gfn (one populate), a write, a
	 * read, and a foreign mapper (not paused: it retries). */
	struct { uint32_t vcpu; uint64_t gfn; unsigned flags; } touch[] = {
		{ 0, FIRST_GFN + 0, 0 },
		{ 1, FIRST_GFN + 0, 0 },
		{ 2, FIRST_GFN + 50, XPAGE_SIM_TOUCH_WRITE },
		{ 3, FIRST_GFN + 99, 0 },
		{ 0, FIRST_GFN + 20, XPAGE_SIM_TOUCH_FOREIGN },
	};
	const unsigned ntouch = sizeof(touch) / sizeof(touch[0]);
	for (unsigned t = 0; t < ntouch; t++) {
		rc = xpage_sim_touch(sim, (uint32_t)domid, touch[t].vcpu,
				     touch[t].gfn, touch[t].flags);
		if (rc != -EAGAIN && rc != -ENOENT)
			fail("touch of evicted gfn %llu: %d (%s), expected a "
			     "page-in", (unsigned long long)touch[t].gfn, rc,
			     xpage_strerror(rc));
	}
	/* Serve them. */
	double deadline = now() + 10;
	for (;;) {
		unsigned waiting = 0;

		for (unsigned t = 0; t < ntouch; t++)
			waiting += pager.out[slot(touch[t].gfn)];
		if (!waiting)
			break;
		if (now() > deadline) {
			fail("%u touched gfns still paged out after 10 s", waiting);
			break;
		}
		rc = xpage_dispatch(xp, 100);
		if (rc < 0 && rc != -EINTR) {
			fail("xpage_dispatch: %s", xpage_strerror(rc));
			break;
		}
	}
	for (unsigned t = 0; t < ntouch; t++)
		if (!pager.populates[slot(touch[t].gfn)])
			fail("no populate for touched gfn %llu",
			     (unsigned long long)touch[t].gfn);
	/* The foreign mapper retries and now gets the page. */
	rc = xpage_sim_touch(sim, (uint32_t)domid, 0, FIRST_GFN + 20,
			     XPAGE_SIM_TOUCH_FOREIGN);
	if (rc != 0)
		fail("foreign touch after page-in: %s", xpage_strerror(rc));

	/* Load the rest back (nobody waits for them: no resume needed). */
	uint64_t gfns[NPAGES];
	void *bufs[NPAGES];
	int st[NPAGES];
	unsigned n = 0;
	for (unsigned i = 0; i < NPAGES; i++) {
		if (!pager.out[i])
			continue;
		gfns[n] = FIRST_GFN + i;
		bufs[n++] = pager.store + (size_t)i * XPAGE_PAGE_SIZE;
	}
	rc = xpage_load(xp, gfns, n, bufs, 0, st);
	if (rc != (int)n)
		fail("xpage_load of the remaining %u: %d", n, rc);
	for (unsigned i = 0; i < n; i++) {
		if (st[i] == 0)
			pager.out[slot(gfns[i])] = 0;
		else
			fail("xpage_load of gfn %llu: %s",
			     (unsigned long long)gfns[i], xpage_strerror(st[i]));
	}
	printf("consumer: %u paged in on demand, %u loaded back\n",
	       evicted - n, n);
	xpage_dispatch(xp, 0);

	stats = XPAGE_OPTS(xpage_stats);
	if (xpage_get_stats(xp, &stats) == 0) {
		printf("consumer: stats: nominated %llu evicted %llu loaded "
		       "%llu populates %llu coalesced %llu evicted_now %llu\n",
		       (unsigned long long)stats.nominated,
		       (unsigned long long)stats.evicted,
		       (unsigned long long)stats.loaded,
		       (unsigned long long)stats.populates,
		       (unsigned long long)stats.coalesced,
		       (unsigned long long)stats.evicted_now);
		if (stats.evicted != evicted || stats.evicted_now != 0)
			fail("stats disagree: evicted %llu (we saw %u), "
			     "evicted_now %llu",
			     (unsigned long long)stats.evicted, evicted,
			     (unsigned long long)stats.evicted_now);
	} else {
		fail("xpage_get_stats");
	}
	if (pager.bad_populates)
		fail("%u populates for gfns never paged out",
		     pager.bad_populates);
	if (pager.load_errors)
		fail("%u load/resume errors in populate", pager.load_errors);

	rc = xpage_close(xp);
	if (rc != 0)
		fail("xpage_close: %s", xpage_strerror(rc));

	/* The oracle's verdict. */
	rep = XPAGE_OPTS(xpage_sim_report);
	rc = xpage_sim_report(sim, (uint32_t)domid, XPAGE_SIM_REPORT_FINAL,
			      1000, &rep);
	if (rc < 0) {
		fail("xpage_sim_report: %s", xpage_strerror(rc));
	} else {
		printf("consumer: report: pages %llu paged %llu accesses %llu "
		       "faults %llu requests %llu responses %llu ignored %llu "
		       "lost %llu corrupted %llu stuck %llu crashed %u\n",
		       (unsigned long long)rep.pages,
		       (unsigned long long)rep.paged,
		       (unsigned long long)rep.accesses,
		       (unsigned long long)rep.faults,
		       (unsigned long long)rep.requests,
		       (unsigned long long)rep.responses,
		       (unsigned long long)rep.ignored,
		       (unsigned long long)rep.lost,
		       (unsigned long long)rep.corrupted,
		       (unsigned long long)rep.stuck, rep.crashed);
		if (rep.lost || rep.corrupted || rep.stuck || rep.crashed)
			fail("the oracle found lost %llu, corrupted %llu, "
			     "stuck %llu, crashed %u",
			     (unsigned long long)rep.lost,
			     (unsigned long long)rep.corrupted,
			     (unsigned long long)rep.stuck, rep.crashed);
	}
	xpage_sim_destroy_guest(sim, (uint32_t)domid);
	xpage_sim_stop(sim);
	free(pager.store);

	if (failures) {
		printf("consumer: %d failure(s)\n", failures);
		return 1;
	}
	printf("consumer: OK\n");
	return 0;
}
