/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library against Xen's scheduler (docs/xen-hazards.md, section 1, as
 * the simulator models it: sim/runstate.c). At every context switch Xen
 * writes a vCPU's runstate area through a walk of the guest's page
 * tables; a paging gfn on the walk raises a request per copy, and with
 * the ring full the domain is lost.
 *
 *  - A pager paging the whole guest out and in, vCPUs busy, never loses
 *    the domain that way: xpage_nominate refuses the walk's gfns
 *    (stats.hv_refused). The same pager on a library that cannot see the
 *    walk (the sim backend without its hv_gfns operation) crashes it.
 *  - The repeats a walk raises for one vCPU are answered at once, one
 *    request is held: the vCPU stays paused until the load, and runs
 *    after it.
 *
 * Every personality whose Xen has the walk (4.5 and later, paging built
 * in).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "private.h"
#include "simp_call.h"

#define PAGES 256u
#define BATCH 64u
#define CRASH_WHY "hypervisor slept in its scheduler waiting for a ring slot"

static const char *const walk_pers[] = {
	"xen-4.5", "xen-4.6", "xen-4.8", "xen-4.11", "xen-4.12", "xen-4.13",
	"xen-4.14", "xen-4.15", "xen-4.17-pvh",
};
#define NPERS (sizeof(walk_pers) / sizeof(walk_pers[0]))

struct pager {
	xpage_t *xp;
	uint8_t *store[PAGES];
	uint64_t next;
	int populates;
	bool load_now;    /* populate loads at once (else the test does) */
};

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	struct pager *p = u;
	void *buf[1] = { p->store[ev->gfn] };
	int st;

	p->populates++;
	if (!p->load_now || !buf[0])
		return;
	if (xpage_load(xp, &ev->gfn, 1, buf, XPAGE_LOAD_RESUME, &st) == 1) {
		free(p->store[ev->gfn]);
		p->store[ev->gfn] = NULL;
	}
}

static void cb_gone(xpage_t *xp, uint64_t gfn, void *u)
{
	struct pager *p = u;

	(void)xp;
	free(p->store[gfn]);
	p->store[gfn] = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The library on the guest; @guarded false: through a sim backend that
 * cannot tell which gfns the hypervisor walks (the library's guard then
 * holds nothing back). */
static xpage_t *open_pager(xpage_sim_t *sim, uint32_t domid, struct pager *p,
			   bool guarded, uint32_t flags)
{
	static struct xp_backend_ops blind;
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts, .domid = domid,
		.backend = XPAGE_BACKEND_SIM, .sim_socket = xpage_sim_socket(sim),
		.ages = XPAGE_AGES_ALL, .flags = flags);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks, .user = p,
		.populate = cb_populate, .evict_fail = cb_gone, .drop = cb_gone);

	if (guarded)
		return p->xp = fx_open(sim, domid, &o, &cb, "xpage_open");
	blind = xp_backend_sim;
	blind.hv_gfns = NULL;
	p->xp = xp_open_with(&blind, &o, &cb);
	ck_assert_msg(p->xp, "xp_open_with: %s", strerror(errno));
	return p->xp;
}

/* Copy the nominated @gfns out through one mapping and evict them. */
static void write_out(struct pager *p, uint64_t *gfns, size_t n)
{
	int st[BATCH];
	uint8_t *map = xpage_map(p->xp, gfns, n, 0, st);
	size_t k = 0;

	if (!map)
		return;
	for (size_t i = 0; i < n; i++) {
		if (st[i])
			continue;
		p->store[gfns[i]] = malloc(4096);
		ck_assert_ptr_nonnull(p->store[gfns[i]]);
		memcpy(p->store[gfns[i]], map + i * 4096, 4096);
		gfns[k++] = gfns[i];
	}
	xpage_unmap(p->xp, map, n);
	xpage_dispatch(p->xp, 0);
	xpage_evict(p->xp, gfns, k, 0, st);
	for (size_t i = 0; i < k; i++)
		if (st[i] && xpage_gfn_state(p->xp, gfns[i]) !=
			     XPAGE_GFN_EVICTED)
			cb_gone(p->xp, gfns[i], p);
}

/* Nominate the next BATCH resident gfns (round the guest) and page out
 * the ones that stay nominated. */
static void page_out_batch(struct pager *p)
{
	uint64_t g[BATCH];
	int st[BATCH];
	size_t n = 0, k = 0;

	for (unsigned i = 0; i < PAGES && n < BATCH; i++) {
		uint64_t gfn = p->next++ % PAGES;

		if (xpage_gfn_state(p->xp, gfn) == XPAGE_GFN_RESIDENT)
			g[n++] = gfn;
	}
	if (!n || xpage_nominate(p->xp, g, n, 0, st) <= 0)
		return;
	xpage_dispatch(p->xp, 0);
	for (size_t i = 0; i < n; i++)
		if (st[i] == 0 &&
		    xpage_gfn_state(p->xp, g[i]) == XPAGE_GFN_NOMINATED)
			g[k++] = g[i];
	if (k)
		write_out(p, g, k);
}

static bool crashed(xpage_sim_t *sim, uint32_t domid)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_report(sim, domid, 0, 60000, &r), 0);
	return r.crashed;
}

/* Page out and serve page-ins for @ms, or until the domain is lost. */
static void run_pager(xpage_sim_t *sim, uint32_t domid, struct pager *p,
		      unsigned ms)
{
	uint64_t end = now_ms() + ms;

	for (unsigned i = 0; now_ms() < end; i++) {
		if (i % 16 == 0 && crashed(sim, domid))
			return;
		if (xpage_dispatch(p->xp, 1) < 0)
			return;
		page_out_batch(p);
	}
}

/* A connection of the test's own to the simulator, attached to @domid:
 * what the library keeps to itself (the walk, a vCPU's pause count, why
 * the domain crashed). */
static int raw_attach(xpage_sim_t *sim, uint32_t domid)
{
	struct simp_u32 att = { domid, 0 };
	struct simp_dominfo di;
	int s = simp_connect(xpage_sim_socket(sim)), fds[2], nfds = 2;

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(simp_call(s, SIMP_ATTACH, &att, sizeof(att), &di,
				   sizeof(di), NULL, fds, &nfds), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return s;
}

struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	int raw;          /* raw_attach() */
};

/* A simulator and a guest of @vcpus on @pers, busy if @busy. */
static void up(struct env *e, const char *pers, uint32_t vcpus, bool busy)
{
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_UNIFORM, .write_pct = 30, .think_us = 200,
		.seed = 4);

	e->sim = fx_sim_start(NULL);
	e->domid = fx_guest(e->sim, pers, vcpus, PAGES, 21);
	e->raw = raw_attach(e->sim, e->domid);
	if (busy)
		ck_assert_int_eq(xpage_sim_workload(e->sim, e->domid, &w), 0);
}

static void down(struct env *e)
{
	close(e->raw);
	fx_sim_stop();
}

/* Why the domain crashed ("" if it did not), as the oracle reports it. */
static void crash_reason(struct env *e, char why[64])
{
	struct simp_report_req q = { .domid = e->domid, .stuck_ms = 60000 };
	struct simp_report r;

	ck_assert_int_eq(simp_call(e->raw, SIMP_REPORT, &q, sizeof(q), &r,
				   sizeof(r), NULL, NULL, NULL), 0);
	memcpy(why, r.crash_reason, 64);
	why[63] = '\0';
}

/* Load everything still out, then the oracle must find nothing wrong. */
static void page_in_all(struct env *e, struct pager *p)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_workload_stop(e->sim, e->domid), 0);
	for (uint64_t g = 0; g < PAGES; g++) {
		void *buf[1] = { p->store[g] };
		int st;

		if (buf[0] && xpage_gfn_state(p->xp, g) == XPAGE_GFN_EVICTED)
			ck_assert_int_eq(xpage_load(p->xp, &g, 1, buf,
						    XPAGE_LOAD_RESUME, &st), 1);
		cb_gone(p->xp, g, p);
	}
	xpage_dispatch(p->xp, 0);
	ck_assert_int_eq(xpage_close(p->xp), 0);
	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid,
					  XPAGE_SIM_REPORT_FINAL, 0, &r), 0);
	ck_assert_uint_eq(r.crashed, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.corrupted, 0);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.paged, 0);
}

static struct xpage_stats stats(xpage_t *xp)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	return s;
}

/* Four busy vCPUs; a pager pages the guest out and in for 800 ms
 * (guarded: the domain must live, the walk refused, nothing lost) or,
 * through a library blind to the walk, until the domain is lost (at most
 * 10 s: it must be, for the reason Xen would give). */
static void one_run(const char *pers, bool guarded)
{
	struct pager p = { .load_now = true };
	struct env e;
	char why[64];

	up(&e, pers, 4, true);
	open_pager(e.sim, e.domid, &p, guarded, 0);
	run_pager(e.sim, e.domid, &p, guarded ? 800 : 10000);
	crash_reason(&e, why);
	ck_assert_msg(!strcmp(why, guarded ? "" : CRASH_WHY),
		      "%s, %s: crash reason \"%s\"", pers,
		      guarded ? "guarded" : "blind", why);
	if (guarded) {
		ck_assert_uint_gt(stats(p.xp).hv_refused, 0);
		page_in_all(&e, &p);
	} else {
		ck_assert_uint_eq(stats(p.xp).hv_refused, 0);
		xpage_close(p.xp);
		for (uint64_t g = 0; g < PAGES; g++)
			free(p.store[g]);
	}
	down(&e);
}

START_TEST(guarded_pager_keeps_domain)
{
	for (size_t i = 0; i < NPERS; i++)
		one_run(walk_pers[i], true);
}
END_TEST

START_TEST(blind_pager_loses_domain)
{
	for (size_t i = 0; i < NPERS; i++)
		one_run(walk_pers[i], false);
}
END_TEST

/* --------------------------------------------------- repeated requests */

static int32_t pauses(struct env *e, uint32_t vcpu)
{
	struct simp_touch t = { .domid = e->domid, .vcpu = vcpu };
	struct simp_vcpu_state v;

	ck_assert_int_eq(simp_call(e->raw, SIMP_VCPU_STATE, &t, sizeof(t), &v,
				   sizeof(v), NULL, NULL, NULL), 0);
	return (int32_t)v.vm_event_pause_count;
}

/* vCPU 0's runstate area is paged out (by a library that cannot see the
 * walk); its next switch raises six requests. The library answers five at
 * once: vCPU 0 stays paused, on one, until the load; then it runs and its
 * next switch asks nothing. */
static void repeats_held(const char *pers)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	struct pager p = { .load_now = false };
	struct simp_runstate rs;
	struct env e;
	uint64_t area, other = 1;
	int st;

	up(&e, pers, 2, false);
	ck_assert_int_eq(simp_call(e.raw, SIMP_RUNSTATE_GFNS, NULL, 0, &rs,
				   sizeof(rs), NULL, NULL, NULL), 0);
	area = rs.gfn[0][3];
	open_pager(e.sim, e.domid, &p, false, XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_int_eq(xpage_nominate(p.xp, &area, 1, 0, &st), 1);
	write_out(&p, &area, 1);
	ck_assert_int_eq(xpage_gfn_state(p.xp, area), XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_unpause(p.xp), 0); /* vCPUs switched in */
	for (int i = 0; i < 200 && stats(p.xp).requests < 6; i++)
		ck_assert_int_ge(xpage_dispatch(p.xp, 10), 0);
	ck_assert_uint_eq(stats(p.xp).requests, 6);
	ck_assert_int_eq(p.populates, 1);
	ck_assert_uint_eq(stats(p.xp).coalesced, 5);
	usleep(30000);
	ck_assert_int_eq(pauses(&e, 0), 1);  /* on the one held */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, other, 0), -EBUSY);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 1, other, 0), 0);

	ck_assert_int_eq(xpage_load(p.xp, &area, 1, (void **)&p.store[area],
				    XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, other, 0), 0);
	ck_assert_int_eq(pauses(&e, 0), 0);
	usleep(30000);
	ck_assert_int_eq(xpage_dispatch(p.xp, 0), 0);
	ck_assert_uint_eq(stats(p.xp).requests, 6);
	page_in_all(&e, &p);
	ck_assert_int_eq(xpage_sim_report(e.sim, e.domid, 0, 0, &r), 0);
	ck_assert_uint_eq(r.requests, 6);
	down(&e);
}

START_TEST(repeats_answered_one_held_until_load)
{
	for (size_t i = 0; i < NPERS; i++)
		repeats_held(walk_pers[i]);
}
END_TEST

static void add(TCase *tc)
{
	tcase_add_test(tc, guarded_pager_keeps_domain);
	tcase_add_test(tc, blind_pager_loses_domain);
	tcase_add_test(tc, repeats_answered_one_held_until_load);
}

int main(void)
{
	return fx_main("runstate", "runstate", 240, add);
}
