/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gfn state table: states, flags, and the in-flight hash against a
 * plain reference model under random adds and deletes. */
#include <check.h>
#include "checkrun.h"
#include <stdlib.h>
#include "private.h"

START_TEST(states_and_flags)
{
	struct xp_gfn_table t;

	ck_assert_int_eq(xp_table_init(&t, 0), -EINVAL);
	ck_assert_int_eq(xp_table_init(&t, 1000), 0);
	ck_assert_uint_eq(xp_gfn_state(&t, 999), XPAGE_GFN_RESIDENT);
	xp_gfn_set_state(&t, 5, XPAGE_GFN_EVICTED);
	xp_gfn_set_flag(&t, 5, XP_GS_MAPPED, true);
	xp_gfn_set_state(&t, 5, XPAGE_GFN_PAGING_IN);
	ck_assert_uint_eq(xp_gfn_state(&t, 5), XPAGE_GFN_PAGING_IN);
	ck_assert(xp_gfn_flag(&t, 5, XP_GS_MAPPED));
	xp_gfn_set_flag(&t, 5, XP_GS_MAPPED, false);
	ck_assert(!xp_gfn_flag(&t, 5, XP_GS_MAPPED));
	ck_assert_uint_eq(xp_gfn_state(&t, 4), XPAGE_GFN_RESIDENT);
	ck_assert_uint_eq(xp_gfn_state(&t, 6), XPAGE_GFN_RESIDENT);
	xp_table_fini(&t);
}
END_TEST

START_TEST(inflight_random)
{
	enum { N = 20000 };
	struct xp_gfn_table t;
	static uint32_t ref[N]; /* requests held per gfn in the model */

	memset(ref, 0, sizeof(ref));
	ck_assert_int_eq(xp_table_init(&t, N), 0);
	srand(7);
	for (int step = 0; step < 200000; step++) {
		uint64_t g = (uint64_t)(rand() % 3000) * 7 % N; /* clustered */
		if (rand() % 3) {
			ck_assert_int_eq(xp_inflight_add(&t, g, (uint32_t)step, 1),
					 (int)ref[g] + 1);
			ref[g]++;
		} else {
			xp_inflight_del(&t, g);
			ref[g] = 0;
		}
		if (step % 5000 == 0) {
			for (uint64_t k = 0; k < N; k++) {
				struct xp_inflight *f = xp_inflight_find(&t, k);
				if (ref[k]) {
					ck_assert_ptr_nonnull(f);
					ck_assert_uint_eq(f->n, ref[k]);
				} else {
					ck_assert_ptr_null(f);
				}
			}
		}
	}
	xp_table_fini(&t);
}
END_TEST

START_TEST(requests_kept_in_order)
{
	struct xp_gfn_table t;
	struct xp_inflight *f;

	ck_assert_int_eq(xp_table_init(&t, 10), 0);
	for (uint32_t v = 0; v < 9; v++)
		ck_assert_int_eq(xp_inflight_add(&t, 3, v, v * 10), (int)v + 1);
	f = xp_inflight_find(&t, 3);
	ck_assert_ptr_nonnull(f);
	for (uint32_t v = 0; v < 9; v++) {
		ck_assert_uint_eq(xp_inflight_req(f, v)->vcpu, v);
		ck_assert_uint_eq(xp_inflight_req(f, v)->flags, v * 10);
	}
	xp_inflight_del(&t, 3);
	ck_assert_ptr_null(xp_inflight_find(&t, 3));
	xp_table_fini(&t);
}
END_TEST

START_TEST(one_byte_per_gfn)
{
	struct xp_gfn_table t;
	size_t inf;
	/* A 1 TiB guest: 2^28 gfns, a table of 2^28 bytes reserved lazily. */
	ck_assert_int_eq(xp_table_init(&t, UINT64_C(1) << 28), 0);
	xp_gfn_set_state(&t, (UINT64_C(1) << 28) - 1, XPAGE_GFN_EVICTED);
	ck_assert_uint_eq(xp_table_bytes(&t, &inf) - inf, UINT64_C(1) << 28);
	xp_table_fini(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gfn_table");
	TCase *tc = check_tcase(s, "core", 60);

	tcase_add_test(tc, states_and_flags);
	tcase_add_test(tc, inflight_random);
	tcase_add_test(tc, requests_kept_in_order);
	tcase_add_test(tc, one_byte_per_gfn);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
