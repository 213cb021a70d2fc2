/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hypercall arguments Xen copies from a guest's kernel stack
 * (docs/xen-hazards.md, section 3; sim/hypercall.c): a vCPU's timer
 * hypercall, made every millisecond while it runs and when it goes idle,
 * has its arguments copied through a walk of the guest's page tables to
 * the vCPU's stack. A paging gfn on that walk raises one request, pausing
 * the vCPU, and fails the hypercall: when the vCPU runs again the guest
 * BUGs and the domain is lost. Every release imitated, HVM/PVH guests.
 */
#include <errno.h>
#include <string.h>

#include "simtest.h"

#define CRASH_WHY "hypercall argument copy failed (-EFAULT): guest BUG"
#define PAGES 64u
#define GUEST_PV (1u << 3)

enum how { NOMINATE, EVICT };

static void pause_domain(struct tc *c)
{
	ck_assert_int_eq(tc_call(c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
}

static void unpause_domain(struct tc *c)
{
	ck_assert_int_eq(tc_call(c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
}

/* Both vCPUs busy on gfns 0 .. 5 only (tc_run_low), far from the walks
 * at the top of RAM: the stacks are touched only by the vCPUs' own timer
 * calls. */
static void run_low(struct tc *c)
{
	tc_run_low(c, 5);
}

/* A guest of @L->pers, @PAGES pages, two vCPUs, with a paging ring. */
static void ring_guest(struct tc *c, const struct lit *L)
{
	tc_guest(c, &S, PAGES, 2, L->pers, 0);
	ck_assert_int_eq(tc_enable(c, L->age > 0 ? (uint32_t)L->age : 0), 0);
}

/* Nominate @gfn (age 2: with the pager's mapping held, as it wants). */
static int nominate(struct tc *c, uint64_t gfn)
{
	int rc;

	if (c->L->age == 2 && tc_map1(c, gfn) != 0)
		return -EBUSY;
	rc = tc_nominate(c, gfn);
	if (c->L->age == 2)
		ck_assert_int_eq(tc_unmap1(c, gfn), 0);
	return rc;
}

/* @fn on every personality with paging built in. */
static void each_paging(void (*fn)(const struct lit *L))
{
	for (size_t i = 0; i < nlits; i++)
		if (lits[i].paging)
			fn(&lits[i]);
}

static void wait_crashed(struct tc *c, unsigned ms)
{
	for (unsigned i = 0; i < ms / 5 && !tc_info(c).crashed; i++)
		tc_sleep_ms(5);
}

static void assert_lost_to_h3(struct tc *c)
{
	struct simp_report r = tc_report(c, 0, 0);

	ck_assert_msg(r.crashed, "%s: not crashed", c->L->pers);
	ck_assert_str_eq(r.crash_reason, CRASH_WHY);
}

/* Per vCPU: its top-level table (its runstate walk's), the three tables
 * of the stack area shared by all, four stack pages of its own, none on
 * a runstate walk; at the top of RAM, the same for the same seed. A PV
 * guest copies without a walk: no rows. */
START_TEST(t_stack_layout)
{
	for (size_t i = 0; i < nlits; i++) {
		struct simp_stacks a, b;
		struct simp_runstate rs;
		struct tc c, d;

		tc_guest(&c, &S, PAGES, 3, lits[i].pers, 0);
		tc_guest(&d, &S, PAGES, 3, lits[i].pers, 0); /* same seed */
		a = tc_stacks(&c);
		b = tc_stacks(&d);
		rs = tc_runstate(&c);
		ck_assert(!memcmp(&a, &b, sizeof(a)));
		ck_assert_uint_eq(a.vcpus, 3);
		ck_assert_uint_eq(a.per_vcpu, SIMP_STACK_WALK);
		for (uint32_t v = 0; v < 3; v++) {
			if (rs.per_vcpu)
				ck_assert_uint_eq(a.gfn[v][0], rs.gfn[v][0]);
			for (uint32_t k = 0; k < SIMP_STACK_WALK; k++) {
				ck_assert_uint_ge(a.gfn[v][k], PAGES / 2);
				ck_assert_uint_lt(a.gfn[v][k], PAGES);
				if (k >= 1 && k <= 3)
					ck_assert_uint_eq(a.gfn[v][k],
							  a.gfn[0][k]);
			}
			for (uint32_t k = 4; k < SIMP_STACK_WALK; k++) {
				for (uint32_t j = 1; j < SIMP_STACK_WALK; j++)
					ck_assert(j == k ||
						  a.gfn[v][k] != a.gfn[v][j]);
				for (uint32_t u = 0; u < 3; u++)
					for (uint32_t j = 0; j < 4; j++)
						ck_assert(!rs.per_vcpu ||
							  a.gfn[v][k] !=
							  rs.gfn[u][j]);
				for (uint32_t u = 0; u < v; u++)
					for (uint32_t j = 4; j < SIMP_STACK_WALK;
					     j++)
						ck_assert_uint_ne(a.gfn[v][k],
								  a.gfn[u][j]);
			}
		}
		tc_close(&c);
		tc_close(&d);
	}
	{
		struct tc c;

		tc_guest(&c, &S, PAGES, 2, NULL, GUEST_PV);
		ck_assert_uint_eq(tc_stacks(&c).vcpus, 2);
		ck_assert_uint_eq(tc_stacks(&c).per_vcpu, 0);
		tc_close(&c);
	}
}
END_TEST

/*
 * A table of the walk to the stacks nominated or paged out; vCPUs @busy
 * (a call a millisecond) or idle (a call when woken and going idle). Each
 * vCPU's next call raises one request for the table and pauses it; the
 * domain lives until the pager answers, then the answered vCPU sees
 * -EFAULT and the guest BUGs: lost, however well the pager loads.
 */
static void table_on_walk(const struct lit *L, uint32_t k, enum how how,
			  bool busy)
{
	uint8_t save[4096];
	struct lreq q;
	struct tc c;
	uint64_t table;

	ring_guest(&c, L);
	table = tc_stacks(&c).gfn[1][k];
	for (uint64_t g = 0; g < PAGES / 10; g++)
		ck_assert(!tc_on_walk(&c, g)); /* run_low's gfns */
	if (how == EVICT)
		tc_page_out(&c, table, save);
	else
		ck_assert_int_eq(nominate(&c, table), 0);
	if (busy) {
		run_low(&c);
	} else {
		tc_sleep_ms(20); /* halted vCPUs make no call */
		ck_assert_uint_eq(tc_req_prod(&c), 0);
		pause_domain(&c);
		unpause_domain(&c); /* woken, they go idle again */
	}
	ck_assert_uint_ge(tc_wait_reqs(&c, 1), 1);
	tc_get_req(&c, 0, &q);
	ck_assert_uint_eq(q.gfn, table);
	ck_assert_uint_lt(q.vcpu, 2);
	ck_assert_uint_eq(q.flags & L->f_paused, L->f_paused);
	ck_assert_uint_eq(q.p2mt, how == EVICT ? P2M_PAGED : P2M_OUT);
	tc_sleep_ms(20);
	ck_assert_uint_le(tc_req_prod(&c), 2); /* one per vCPU: paused */
	ck_assert_uint_eq(tc_vcpu(&c, q.vcpu).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	if (how == EVICT)
		ck_assert_int_eq(tc_load(&c, table, save, 0), 0);
	tc_answer(&c, &q);
	tc_notify(&c);
	wait_crashed(&c, 1000);
	assert_lost_to_h3(&c);
	tc_close(&c);
}

START_TEST(t_table_fails_call)
{
	for (size_t i = 0; i < nlits; i++) {
		if (!lits[i].paging)
			continue;
		/* each table of the stack area in turn, both ways */
		table_on_walk(&lits[i], 1 + i % 3, EVICT, true);
		table_on_walk(&lits[i], 1 + (i + 1) % 3, NOMINATE, true);
	}
	ck_assert(simd_log_has(&S, "domain crashed: " CRASH_WHY));
}
END_TEST

START_TEST(t_table_fails_idle_call)
{
	for (size_t i = 0; i < nlits; i++)
		if (lits[i].paging)
			table_on_walk(&lits[i], 1 + i % 3, NOMINATE, false);
}
END_TEST

/* Answer every request put so far (@cons: the next to answer). */
static void answer_all(struct tc *c, uint32_t *cons)
{
	uint32_t prod = tc_req_prod(c);
	struct lreq q;

	if (*cons == prod)
		return;
	while (*cons != prod) {
		tc_get_req(c, (*cons)++, &q);
		tc_answer(c, &q);
	}
	tc_notify(c);
}

/*
 * The page vCPU 0 writes its arguments on. Nominated while the vCPU is
 * halted, its next call's write finds it and faults (a request, paused):
 * once answered the vCPU writes and its call goes through. Nominated
 * again and again while it runs, sooner or later a nomination lands
 * between its write and Xen's copy, which fails the call: the domain is
 * lost, within seconds at most.
 */
static void args_page_race(const struct lit *L)
{
	uint32_t cons = 1, tries = 0;
	uint64_t end, args;
	struct lreq q;
	struct tc c;

	ring_guest(&c, L);
	args = tc_args_page(&c, 0);
	ck_assert_int_eq(nominate(&c, args), 0);
	run_low(&c);
	tc_expect_req(&c, 0, &q, args, 0, TC_ANY, P2M_OUT, TC_ANY);
	ck_assert_uint_eq(q.flags & L->f_paused, L->f_paused);
	tc_sleep_ms(10);
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	ck_assert_uint_eq(tc_gfn(&c, args).p2mt, P2M_RW);

	end = tc_now_ms() + 5000;
	while (!tc_info(&c).crashed && tc_now_ms() < end) {
		tries += nominate(&c, args) == 0;
		tc_sleep_ms(1);
		answer_all(&c, &cons);
	}
	assert_lost_to_h3(&c);
	ck_assert_uint_gt(tries, 0);
	tc_close(&c);
}

START_TEST(t_args_page_nominated_between)
{
	each_paging(args_page_race);
}
END_TEST

/* Serve @gfn (its contents @save) until it is RAM again: load it if it
 * lost its frame, answer every request. */
static void serve_until_ram(struct tc *c, uint64_t gfn, const void *save,
			    uint32_t *cons)
{
	for (int i = 0; i < 2000; i++) {
		if (!tc_gfn(c, gfn).has_frame)
			ck_assert_int_eq(tc_load(c, gfn, save, 0), 0);
		answer_all(c, cons);
		if (tc_gfn(c, gfn).p2mt == P2M_RW)
			return;
		tc_sleep_ms(1);
	}
	ck_abort_msg("gfn %llu never came back", (unsigned long long)gfn);
}

/*
 * A gfn off every walk nominated and evicted, again and again, while both
 * vCPUs run on it and make their calls (their accesses find it nominated,
 * or paged out when the evict came first): each fault is answered, the
 * domain lives.
 */
static void off_walk(const struct lit *L)
{
	uint8_t save[4096];
	uint32_t cons = 0, evicted = 0;
	struct simp_report r;
	struct tc c;

	ring_guest(&c, L);
	ck_assert(!tc_on_walk(&c, 1));
	run_low(&c);
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(nominate(&c, 1), 0);
		memcpy(save, c.mem + 4096, 4096);
		evicted += tc_evict(&c, 1) == 0;
		ck_assert_uint_gt(tc_wait_reqs(&c, cons + 1), cons);
		serve_until_ram(&c, 1, save, &cons);
	}
	ck_assert_uint_ge(cons, 30);
	ck_assert_uint_gt(evicted, 0);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.crashed, 0);
	ck_assert_str_eq(r.crash_reason, "");
	ck_assert_uint_eq(r.lost + r.corrupted, 0);
	ck_assert_uint_gt(r.accesses, 100);
	tc_close(&c);
}

START_TEST(t_off_walk_no_crash)
{
	each_paging(off_walk);
}
END_TEST

/* With the ring full, a call meeting a nominated table loses the domain
 * at once, asking nothing (the claim would wait for a slot, and the copy
 * fail after it). */
START_TEST(t_full_ring_crashes_at_once)
{
	struct tc c;
	uint64_t table;

	tc_full_ring_guest(&c, &S);
	table = tc_stacks(&c).gfn[0][3];
	ck_assert_uint_gt(table, 9);
	ck_assert_int_eq(tc_nominate(&c, table), 0);
	pause_domain(&c);
	unpause_domain(&c);
	wait_crashed(&c, 1000);
	assert_lost_to_h3(&c);
	ck_assert_uint_eq(tc_req_prod(&c), 8);
	ck_assert(simd_log_has(&S, "hypercall argument copy needs gfn"));
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-hypercall");
	TCase *t = check_tcase(s, "hypercall", 100);

	tcase_add_test(t, t_stack_layout);
	tcase_add_test(t, t_table_fails_call);
	tcase_add_test(t, t_table_fails_idle_call);
	tcase_add_test(t, t_args_page_nominated_between);
	tcase_add_test(t, t_off_walk_no_crash);
	tcase_add_test(t, t_full_ring_crashes_at_once);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
