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
 *    walk (a sim backend whose hv_gfns knows only the walks to the
 *    kernel stacks, section 3's hazard) crashes it.
 *  - The repeats a walk raises for one vCPU are answered at once, one
 *    request is held: the vCPU stays paused until the load, and runs
 *    after it.
 *
 * Every personality whose Xen has the walk (4.5 and later, paging built
 * in).
 */
#include <check.h>
#include <errno.h>
#include <unistd.h>

#include "walkpager.h"

#define CRASH_WHY "hypervisor slept in its scheduler waiting for a ring slot"

static const char *const walk_pers[] = {
	"xen-4.5", "xen-4.6", "xen-4.8", "xen-4.11", "xen-4.12", "xen-4.13",
	"xen-4.14", "xen-4.15", "xen-4.17-pvh",
};
#define NPERS (sizeof(walk_pers) / sizeof(walk_pers[0]))

/* Four busy vCPUs; the library blind to the runstate walks knows the
 * walks to the stacks. */
static void one_run(const char *pers, bool guarded)
{
	wp_one_run(pers, 4, 0, guarded, SIMP_STACK_GFNS, CRASH_WHY);
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

	wp_up(&e, pers, 2, 0);
	wp_runstate(&e, &rs);
	area = rs.gfn[0][3];
	wp_open(&e, &p, true, NULL, XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_int_eq(xpage_nominate(p.xp, &area, 1, 0, &st), 1);
	wp_write_out(&p, &area, 1);
	ck_assert_int_eq(xpage_gfn_state(p.xp, area), XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_unpause(p.xp), 0); /* vCPUs switched in */
	for (int i = 0; i < 200 && wp_stats(p.xp).requests < 6; i++)
		ck_assert_int_ge(xpage_dispatch(p.xp, 10), 0);
	ck_assert_uint_eq(wp_stats(p.xp).requests, 6);
	ck_assert_int_eq(p.populates, 1);
	ck_assert_uint_eq(wp_stats(p.xp).coalesced, 5);
	usleep(30000);
	ck_assert_int_eq(wp_pauses(&e, 0), 1);  /* on the one held */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, other, 0), -EBUSY);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 1, other, 0), 0);

	ck_assert_int_eq(xpage_load(p.xp, &area, 1, (void **)&p.store[area],
				    XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, other, 0), 0);
	ck_assert_int_eq(wp_pauses(&e, 0), 0);
	usleep(30000);
	ck_assert_int_eq(xpage_dispatch(p.xp, 0), 0);
	ck_assert_uint_eq(wp_stats(p.xp).requests, 6);
	wp_page_in_all(&e, &p);
	ck_assert_int_eq(xpage_sim_report(e.sim, e.domid, 0, 0, &r), 0);
	ck_assert_uint_eq(r.requests, 6);
	wp_down(&e);
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
