/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What Xen itself does to paging gfns on a guest's behalf
 * (docs/xen-hazards.md; sim/README.md):
 *  - at every context switch of a vCPU its scheduler writes the vCPU's
 *    runstate area in three copies, each through a walk of the guest's
 *    page tables: a paging gfn on the walk raises one request per copy,
 *    each pausing the vCPU once more, and a full ring loses the domain
 *    (Xen 4.5 and later);
 *  - a vCPU with several requests outstanding is unpaused once per
 *    response and runs only when none is left;
 *  - a foreign mapping of a paged gfn fails with ENOENT and raises a
 *    request that holds its ring slot until answered (every release).
 */
#include <errno.h>
#include <string.h>

#include "simtest.h"

#define CRASH_WHY "hypervisor slept in its scheduler waiting for a ring slot"

/* Xen 4.5 and later write runstate areas through a walk (with paging
 * built in or not: without it nothing on a walk can be paged). */
static bool walks(const struct lit *L)
{
	return L->xen_major > 4 || L->xen_minor >= 5;
}

static bool has_walk(const struct lit *L)
{
	return L->paging && walks(L);
}

/* A toolstack pause: no vCPU runs (or is switched in) until the unpause,
 * when each is switched in again. A walk gfn is paged out in a pause,
 * so that no switch meets it half done (a vCPU thread's first one comes
 * whenever the thread first runs). */
static void pause_domain(struct tc *c)
{
	ck_assert_int_eq(tc_call(c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
}

static void unpause_domain(struct tc *c)
{
	ck_assert_int_eq(tc_call(c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
}

static void reschedule(struct tc *c)
{
	pause_domain(c);
	unpause_domain(c);
}

static void run_workload(struct tc *c)
{
	struct simp_workload w = { .domid = c->domid, .think_us = 100,
				   .write_pct = 20, .seed = 3 };

	ck_assert_int_eq(tc_call(c, SIMP_WORKLOAD, &w, sizeof(w), NULL, 0,
				 NULL), 0);
}

/* A gfn of RAM on no vCPU's walk. */
static uint64_t off_walk(struct tc *c, uint64_t from)
{
	while (tc_on_walk(c, from))
		from++;
	ck_assert_uint_lt(from, c->pages);
	return from;
}

/* Per vCPU: its top-level table, the two shared tables, the area's page;
 * at the top of RAM, the same for the same seed. No walk before 4.5. */
START_TEST(t_walk_layout)
{
	for (size_t i = 0; i < nlits; i++) {
		struct simp_runstate a, b;
		struct tc c, d;

		tc_guest(&c, &S, 64, 3, lits[i].pers, 0);
		tc_guest(&d, &S, 64, 3, lits[i].pers, 0); /* same seed */
		a = tc_runstate(&c);
		b = tc_runstate(&d);
		ck_assert_uint_eq(a.vcpus, 3);
		ck_assert(!memcmp(&a, &b, sizeof(a)));
		if (!walks(&lits[i])) {
			ck_assert_uint_eq(a.per_vcpu, 0);
			tc_close(&c);
			tc_close(&d);
			continue;
		}
		ck_assert_uint_eq(a.per_vcpu, 4);
		for (uint32_t v = 0; v < 3; v++) {
			ck_assert_uint_eq(a.gfn[v][1], a.gfn[0][1]);
			ck_assert_uint_eq(a.gfn[v][2], a.gfn[0][2]);
			for (uint32_t k = 0; k < 4; k++)
				ck_assert_uint_ge(a.gfn[v][k], 64 - 8);
			for (uint32_t u = 0; u < v; u++) {
				ck_assert_uint_ne(a.gfn[v][0], a.gfn[u][0]);
				ck_assert_uint_ne(a.gfn[v][3], a.gfn[u][3]);
			}
		}
		tc_close(&c);
		tc_close(&d);
	}
}
END_TEST

/* Another seed, another walk (a guest big enough to tell). */
START_TEST(t_walk_seeded)
{
	struct simp_runstate a, b;
	struct tc c, d;

	ck_assert_int_eq(tc_connect(&c, &S), 0);
	ck_assert_int_eq(tc_connect(&d, &S), 0);
	ck_assert_int_eq(tc_attach(&c, (uint32_t)tc_create(&c, 4096, 2, NULL,
							   0, 1)), 0);
	ck_assert_int_eq(tc_attach(&d, (uint32_t)tc_create(&d, 4096, 2, NULL,
							   0, 2)), 0);
	a = tc_runstate(&c);
	b = tc_runstate(&d);
	ck_assert_uint_eq(a.per_vcpu, 4);
	ck_assert(memcmp(a.gfn, b.gfn, sizeof(a.gfn)));
	tc_close(&c);
	tc_close(&d);
}
END_TEST

/* A shared table of the walk paged out (or only nominated) while two
 * vCPUs run: each switch raises three requests and three more as the
 * paused vCPU is switched out; the ring's 8 slots are gone before the
 * second vCPU's update is done, and the domain with them. */
static void crash_on(const char *pers, bool evict)
{
	struct simp_report r;
	struct tc c;
	uint64_t shared;

	tc_ring_guest(&c, &S, 64, 2, pers);
	shared = tc_runstate(&c).gfn[1][1];
	pause_domain(&c);
	if (evict)
		tc_page_out(&c, shared, NULL);
	else
		ck_assert_int_eq(tc_nominate(&c, shared), 0);
	run_workload(&c);
	unpause_domain(&c);
	for (int i = 0; i < 200 && !tc_info(&c).crashed; i++)
		tc_sleep_ms(5);
	r = tc_report(&c, 0, 0);
	ck_assert_msg(r.crashed, "%s: not crashed", pers);
	ck_assert_str_eq(r.crash_reason, CRASH_WHY);
	ck_assert_uint_eq(r.requests, 8);
	ck_assert_uint_eq(r.accesses, 0);
	ck_assert_int_eq(tc_destroy(&c), 0);
	tc_close(&c);
}

START_TEST(t_walk_full_ring_crashes)
{
	for (size_t i = 0; i < nlits; i++) {
		if (!has_walk(&lits[i]))
			continue;
		crash_on(lits[i].pers, true);
		crash_on(lits[i].pers, false);
	}
	ck_assert(simd_log_has(&S, "domain crashed: " CRASH_WHY));
}
END_TEST

/* The same with only a gfn off the walk paged out: the vCPU touching it
 * waits for the pager, the domain lives. */
START_TEST(t_walk_untouched_no_crash)
{
	for (size_t i = 0; i < nlits; i++) {
		struct simp_report r;
		struct tc c;

		if (!has_walk(&lits[i]))
			continue;
		tc_ring_guest(&c, &S, 64, 2, lits[i].pers);
		tc_page_out(&c, off_walk(&c, 1), NULL);
		run_workload(&c);
		ck_assert_uint_gt(tc_wait_accesses(&c, 50), 49);
		tc_sleep_ms(30);
		r = tc_report(&c, 0, 0);
		ck_assert_uint_eq(r.crashed, 0);
		ck_assert_str_eq(r.crash_reason, "");
		ck_assert_uint_le(r.requests, 1);
		ck_assert_int_eq(tc_destroy(&c), 0);
		tc_close(&c);
	}
}
END_TEST

/* vCPU 0's area paged out in a pause, then the unpause: six requests for
 * it from vCPU 0 (the first finds it paged, the rest paging in), six
 * pauses. */
static void walk_requests(struct tc *c, uint64_t gfn, struct lreq q[6])
{
	const struct lit *L = c->L;

	unpause_domain(c);
	ck_assert_uint_eq(tc_wait_reqs(c, 6), 6);
	for (uint32_t i = 0; i < 6; i++) {
		tc_get_req(c, i, &q[i]);
		ck_assert_uint_eq(q[i].gfn, gfn);
		ck_assert_uint_eq(q[i].vcpu, 0);
		ck_assert_uint_eq(q[i].flags, L->f_paused);
		ck_assert_uint_eq(q[i].p2mt, i ? P2M_IN : P2M_PAGED);
	}
	ck_assert_uint_eq(tc_vcpu(c, 0).vm_event_pause_count, 6);
	ck_assert_uint_eq(tc_vcpu(c, 1).vm_event_pause_count, 0);
}

/* Each response unpauses once; vCPU 0 runs only after the last one, and
 * its next switch finds the area loaded and asks nothing more. */
START_TEST(t_repeated_requests_pause_count)
{
	for (size_t i = 0; i < nlits; i++) {
		uint8_t save[4096];
		struct simp_report r;
		struct lreq q[6];
		struct tc c;
		uint64_t area, other;

		if (!has_walk(&lits[i]))
			continue;
		tc_ring_guest(&c, &S, 64, 2, lits[i].pers);
		area = tc_runstate(&c).gfn[0][3];
		other = off_walk(&c, 1);
		pause_domain(&c);
		tc_page_out(&c, area, save);
		walk_requests(&c, area, q);
		for (int k = 0; k < 5; k++)
			tc_answer(&c, &q[k]);
		tc_notify_consumed(&c);
		ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
		tc_sleep_ms(20);
		ck_assert_int_eq(tc_touch(&c, 0, other, 0), -EBUSY);
		ck_assert_int_eq(tc_touch(&c, 1, other, 0), 0);
		ck_assert_uint_eq(tc_req_prod(&c), 6);

		ck_assert_int_eq(tc_load(&c, area, save, 0), 0);
		tc_answer(&c, &q[5]);
		tc_notify_consumed(&c);
		ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
		ck_assert_int_eq(tc_touch(&c, 0, other, 0), 0);
		reschedule(&c);
		tc_sleep_ms(20);
		ck_assert_uint_eq(tc_req_prod(&c), 6);
		r = tc_report(&c, 1 /* FINAL */, 0);
		ck_assert_uint_eq(r.stuck, 0);
		ck_assert_uint_eq(r.crashed, 0);
		ck_assert_uint_eq(r.lost + r.corrupted, 0);
		ck_assert_uint_eq(r.accesses, 2);
		tc_close(&c);
	}
}
END_TEST

/* SIMP_MAP of a paged gfn: -ENOENT at once, a FOREIGN request that pauses
 * nobody, its slot held until the answer. Paging in without a frame:
 * -ENOENT and nothing asked (mod_l1_entry() populates only p2m_ram_paged;
 * p2m_mem_paging_populate() cancels the slot of a foreign caller for a
 * gfn already paging in). Nominated: maps. Every release. */
static void foreign_maps(const struct lit *L)
{
	uint32_t n = L->nslots;
	uint64_t g[65], nom;
	struct lreq q;
	struct tc c;

	tc_guest(&c, &S, n + 24, 1, L->pers, 0);
	ck_assert_int_eq(tc_enable(&c, L->age > 0 ? (uint32_t)L->age : 0), 0);
	for (uint32_t i = 0; i <= n; i++) {
		g[i] = off_walk(&c, i ? g[i - 1] + 1 : 1);
		tc_page_out(&c, g[i], NULL);
	}
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(tc_map1(&c, g[i]), -ENOENT);
		tc_expect_req(&c, i, &q, g[i], TC_ANY, L->f_foreign, P2M_PAGED,
			      TC_ANY);
		ck_assert_uint_eq(tc_gfn(&c, g[i]).p2mt, P2M_IN);
	}
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	/* The ring is full: no request, the gfn stays paged. */
	ck_assert_int_eq(tc_map1(&c, g[n]), -ENOENT);
	ck_assert_uint_eq(tc_gfn(&c, g[n]).p2mt, P2M_PAGED);
	/* One answer frees one slot; paging_in asks nothing with it. */
	tc_get_req(&c, 0, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_int_eq(tc_map1(&c, g[1]), -ENOENT);
	tc_sleep_ms(10);
	ck_assert_uint_eq(tc_req_prod(&c), n);
	ck_assert_int_eq(tc_map1(&c, g[n]), -ENOENT);
	tc_expect_req(&c, n, NULL, g[n], TC_ANY, L->f_foreign, P2M_PAGED,
		      TC_ANY);
	nom = off_walk(&c, g[n] + 1);
	if (L->age == 2)
		ck_assert_int_eq(tc_map1(&c, nom), 0); /* mapped first */
	ck_assert_int_eq(tc_nominate(&c, nom), 0);
	ck_assert_int_eq(tc_map1(&c, nom), 0);
	ck_assert_uint_eq(tc_gfn(&c, nom).p2mt, P2M_OUT);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	tc_close(&c);
}

START_TEST(t_foreign_map_holds_slot)
{
	for (size_t i = 0; i < nlits; i++)
		if (lits[i].paging)
			foreign_maps(&lits[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-runstate");
	TCase *t = check_tcase(s, "runstate", 60);

	tcase_add_test(t, t_walk_layout);
	tcase_add_test(t, t_walk_seeded);
	tcase_add_test(t, t_walk_full_ring_crashes);
	tcase_add_test(t, t_walk_untouched_no_crash);
	tcase_add_test(t, t_repeated_requests_pause_count);
	tcase_add_test(t, t_foreign_map_holds_slot);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
