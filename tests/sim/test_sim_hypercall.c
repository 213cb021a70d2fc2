/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hypercall arguments Xen copies from a guest's kernel stack
 * (docs/xen-hazards.md, section 3; sim/hypercall.c): where each vCPU's
 * stack and the walk to it lie, as SIMP_STACK_GFNS reports them.
 */
#include <string.h>

#include "simtest.h"

#define PAGES 64u
#define GUEST_PV (1u << 3)

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

static Suite *suite(void)
{
	Suite *s = suite_create("sim-hypercall");
	TCase *t = check_tcase(s, "hypercall", 100);

	tcase_add_test(t, t_stack_layout);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
