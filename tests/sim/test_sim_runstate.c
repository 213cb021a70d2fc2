/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gfns Xen's scheduler walks to each vCPU's runstate area
 * (docs/xen-hazards.md, section 1; sim/runstate.c), as SIMP_RUNSTATE_GFNS
 * gives them: per vCPU, its top-level table, the two shared tables of the
 * direct map, the area's page. Xen 4.5 and later.
 */
#include <string.h>

#include "simtest.h"

/* Xen 4.5 and later write runstate areas through a walk (with paging
 * built in or not: without it nothing on a walk can be paged). */
static bool walks(const struct lit *L)
{
	return L->xen_major > 4 || L->xen_minor >= 5;
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

static Suite *suite(void)
{
	Suite *s = suite_create("sim-runstate");
	TCase *t = check_tcase(s, "runstate", 60);

	tcase_add_test(t, t_walk_layout);
	tcase_add_test(t, t_walk_seeded);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
