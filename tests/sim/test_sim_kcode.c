/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest kernel's code (sim/kcode.c): where it lies (SIMP_KCODE_GFNS)
 * and that a busy vCPU runs it, so that a paged-out page of it stops the
 * vCPU until the pager loads it, as any access does.
 */
#include <errno.h>
#include <string.h>

#include "simtest.h"

#define PAGES 8192u
#define GUEST_PV (1u << 3)

static struct simp_range kcode(struct tc *c)
{
	struct simp_range r;
	uint32_t len = 0;

	memset(&r, 0xff, sizeof(r));
	ck_assert_int_eq(tc_call(c, SIMP_KCODE_GFNS, NULL, 0, &r, sizeof(r),
				 &len), 0);
	ck_assert_uint_eq(len, sizeof(r));
	return r;
}

/* Linux's place, 16 MiB, a sixty-fourth of RAM; none in a PV guest or in
 * a guest too small to hold it. */
START_TEST(t_placed)
{
	for (size_t i = 0; i < nlits; i++) {
		struct simp_range r;
		struct tc c;

		tc_guest(&c, &S, PAGES, 2, lits[i].pers, 0);
		r = kcode(&c);
		ck_assert_uint_eq(r.first, 0x1000);
		ck_assert_uint_eq(r.count, PAGES / 64);
		tc_close(&c);
		tc_guest(&c, &S, PAGES, 2, lits[i].pers, GUEST_PV);
		ck_assert_uint_eq(kcode(&c).count, 0);
		tc_close(&c);
		tc_guest(&c, &S, 300, 2, lits[i].pers, 0);
		ck_assert_uint_eq(kcode(&c).count, 0);
		tc_close(&c);
	}
}
END_TEST

/* Whether vCPU @vcpu raises a request for a gfn of @r other than @gfn
 * (within a second): it ran on after its answer. */
static bool next_from(struct tc *c, uint32_t vcpu, uint64_t gfn,
		      const struct simp_range *r)
{
	for (uint32_t seen = 1; seen < 64;) {
		struct lreq q;

		if (tc_wait_reqs(c, seen + 1) <= seen)
			return false;
		tc_get_req(c, seen++, &q);
		if (q.vcpu == vcpu && q.gfn != gfn && q.gfn >= r->first &&
		    q.gfn < r->first + r->count)
			return true;
	}
	return false;
}

/* Every page of the code out: a busy vCPU meets one within milliseconds,
 * paused for its page-in; loaded and answered, it runs on to the next.
 * An idle guest runs none of it. */
static void run_by_busy(const struct lit *L)
{
	static uint8_t save[PAGES / 64][4096];
	struct simp_range r;
	struct lreq q;
	struct tc c;

	tc_guest(&c, &S, PAGES, 2, L->pers, 0);
	ck_assert_int_eq(tc_enable(&c, L->age > 0 ? (uint32_t)L->age : 0), 0);
	r = kcode(&c);
	for (uint64_t i = 0; i < r.count; i++) {
		ck_assert(!tc_on_walk(&c, r.first + i));
		tc_page_out(&c, r.first + i, save[i]);
	}
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 0); /* idle: no kernel entry */
	tc_run_low(&c, 9); /* away from the code */
	ck_assert_uint_ge(tc_wait_reqs(&c, 1), 1);
	tc_get_req(&c, 0, &q);
	ck_assert_uint_ge(q.gfn, r.first);
	ck_assert_uint_lt(q.gfn, r.first + r.count);
	ck_assert_uint_eq(q.flags & L->f_paused, L->f_paused);
	ck_assert_uint_eq(tc_vcpu(&c, q.vcpu).vm_event_pause_count, 1);
	ck_assert_int_eq(tc_load(&c, q.gfn, save[q.gfn - r.first], 0), 0);
	tc_answer(&c, &q);
	tc_notify(&c);
	/* It runs on, into the next page of code that is out. */
	ck_assert(next_from(&c, q.vcpu, q.gfn, &r));
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 0);
	tc_close(&c);
}

START_TEST(t_run_by_busy_vcpus)
{
	for (size_t i = 0; i < nlits; i++)
		if (lits[i].paging)
			run_by_busy(&lits[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-kcode");
	TCase *t = check_tcase(s, "kcode", 60);

	tcase_add_test(t, t_placed);
	tcase_add_test(t, t_run_by_busy_vcpus);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
