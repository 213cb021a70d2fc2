/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures inside the library (suite 'unit').
 *
 * This program is linked with -Wl,--wrap for malloc, calloc, realloc and
 * aligned_alloc, so every allocation the library's objects make goes
 * through the wrappers below. A sweep runs one paging scenario against the
 * fake hypervisor again and again, failing the first allocation in the
 * first run, the second in the second, and so on, until a run makes no
 * allocation that fails. In every run:
 *
 *   - each call answers with its usual result or -ENOMEM, nothing else;
 *   - a gfn whose evict succeeded is held as evicted (the pager knows it
 *     must keep its copy), and one whose evict failed is not;
 *   - once allocations work again, every paused request put on the ring
 *     reaches the pager as a populate and its vCPU gets exactly one answer,
 *     never a DROP_PAGE (which would leave the gfn paging-in with nobody
 *     to load it: on Xen its vCPU would retry the access for good).
 *
 * Run under AddressSanitizer, the same sweep also shows that no failure
 * path leaks or touches freed memory.
 */
#include <check.h>
#include "checkrun.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "fake_backend.h"

#define GEN7 XPAGE_GEN_VM_EVENT_V7
#define NG 8         /* gfns paged out per run */
#define NREQ 8       /* paused vCPUs asking for them */

/* ------------------------------------------------------------------ */
/* The wrappers                                                         */

static long alloc_nr;          /* library allocations in this run */
static long fail_at = -1;      /* allocation number that fails; -1: none */
static bool failed_one;
static bool in_lib;            /* inside a library call (LIB) */

/* Only the library's allocations count: the test framework is linked in
 * statically and allocates too. */
#define LIB(call) __extension__ ({ \
	in_lib = true; \
	__typeof__(call) r_ = (call); \
	in_lib = false; \
	r_; \
})

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

static bool fail_now(void)
{
	if (fail_at < 0 || !in_lib)
		return false;
	if (alloc_nr++ != fail_at)
		return false;
	failed_one = true;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t m, size_t n)
{
	return fail_now() ? NULL : __real_calloc(m, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	return fail_now() ? NULL : __real_aligned_alloc(a, n);
}

/* ------------------------------------------------------------------ */

static uint64_t populated[NG];
static int populates;

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp; (void)u;
	if (populates < NG)
		populated[populates] = ev->gfn;
	populates++;
}

static bool was_populated(uint64_t gfn)
{
	for (int i = 0; i < populates && i < NG; i++)
		if (populated[i] == gfn)
			return true;
	return false;
}

#define OK_OR_ENOMEM(rc) \
	ck_assert_msg((rc) >= 0 || (rc) == -ENOMEM, \
		      "allocation %ld failed: %s answered %d", fail_at, #rc, \
		      (int)(rc))

/* One run with allocation number @n failing. Returns whether it did. */
static bool run_once(long n)
{
	struct xpage_callbacks cbs = XPAGE_OPTS(xpage_callbacks,
						.populate = cb_populate);
	uint64_t g[NG];
	int st[NG], rc;
	bool evicted[NG] = { false };
	static uint8_t page[NG][4096];
	void *bufs[NG];
	struct xp_response r;
	int answers[NREQ] = { 0 };
	xpage_t *xp;

	fake_reset();
	fake_cfg.vcpus = NREQ;
	populates = 0;
	alloc_nr = 0;
	failed_one = false;
	fail_at = n;

	xp = LIB(fake_open(&cbs, 0, 0, 0, 0));
	if (!xp) {
		ck_assert_msg(errno == ENOMEM, "allocation %ld failed: open "
			      "answered errno %d", n, errno);
		fail_at = -1;
		return failed_one;
	}
	for (int i = 0; i < NG; i++) {
		g[i] = 100 + (uint64_t)i * 3;
		bufs[i] = page[i];
	}

	/* Page out: nominate, map (no copy needed for the fake), evict. */
	rc = LIB(xpage_nominate(xp, g, NG, 0, st));
	OK_OR_ENOMEM(rc);
	if (rc >= 0) {
		uint64_t ok[NG];
		size_t k = 0;

		for (int i = 0; i < NG; i++) {
			ck_assert(st[i] == 0 || st[i] == -ENOMEM);
			if (!st[i])
				ok[k++] = g[i];
		}
		void *m = k ? LIB(xpage_map(xp, ok, k, 0, st)) : NULL;

		ck_assert_msg(m || !k || errno == ENOMEM, "allocation %ld "
			      "failed: map answered errno %d", n, errno);
		if (m)
			ck_assert_int_eq(LIB(xpage_unmap(xp, m, k)), 0);
		else
			k = 0; /* nothing held: nothing may be evicted */
		rc = LIB(xpage_evict(xp, ok, k, 0, st));
		OK_OR_ENOMEM(rc);
		for (size_t j = 0; rc >= 0 && j < k; j++) {
			int s = xpage_gfn_state(xp, ok[j]);

			ck_assert(st[j] == 0 || st[j] == -ENOMEM);
			ck_assert_msg((st[j] == 0) == (s == XPAGE_GFN_EVICTED),
				      "allocation %ld failed: gfn %llu evict "
				      "status %d but state %d", n,
				      (unsigned long long)ok[j], st[j], s);
			for (int i = 0; i < NG; i++)
				if (g[i] == ok[j] && !st[j])
					evicted[i] = true;
		}
	}

	/* Two more are nominated, then given back. */
	uint64_t u[2] = { 300, 303 };
	int ust[2];

	rc = LIB(xpage_nominate(xp, u, 2, 0, ust));
	OK_OR_ENOMEM(rc);
	if (rc >= 0) {
		rc = LIB(xpage_unnominate(xp, u, 2, 0, ust));
		OK_OR_ENOMEM(rc);
		for (int i = 0; rc >= 0 && i < 2; i++) {
			int s = xpage_gfn_state(xp, u[i]);

			ck_assert_msg(ust[i] == 0 || ust[i] == -ENOMEM ||
				      ust[i] == -EINVAL, "allocation %ld "
				      "failed: unnominate status %d", n, ust[i]);
			ck_assert_msg((ust[i] == 0) == (s == XPAGE_GFN_RESIDENT),
				      "allocation %ld failed: gfn %llu "
				      "unnominate status %d but state %d", n,
				      (unsigned long long)u[i], ust[i], s);
		}
	}

	/* Paused vCPUs ask for gfns that are out: four of them for the
	 * first (more than a gfn holds inline, so holding the later ones
	 * allocates), two for the next, one each for two more. */
	static const int share[] = { 0, 0, 0, 0, 1, 1, 2, 3 };
	int vcpu_of[NREQ];
	uint64_t gfn_of[NREQ];
	uint64_t out[NG];
	int nout = 0, nreq = 0;

	for (int i = 0; i < NG; i++)
		if (evicted[i])
			out[nout++] = g[i];
	for (int v = 0; v < NREQ; v++) {
		if (share[v] >= nout)
			continue;
		fake_put_request(GEN7, out[share[v]], (uint32_t)v,
				 XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
		vcpu_of[nreq] = v;
		gfn_of[nreq] = out[share[v]];
		nreq++;
	}
	rc = LIB(xpage_dispatch(xp, 0));
	OK_OR_ENOMEM(rc);

	/* Serve what was asked for, while allocations may still fail. */
	for (int i = 0; i < nreq; i++) {
		int s;

		if (!was_populated(gfn_of[i]))
			continue;
		rc = LIB(xpage_load(xp, &gfn_of[i], 1, &bufs[0],
				    XPAGE_LOAD_RESUME, &s));
		OK_OR_ENOMEM(rc);
	}

	/* From here on allocations work: the pager catches up. */
	fail_at = -1;
	rc = xpage_dispatch(xp, 0);
	ck_assert_int_ge(rc, 0);
	for (int i = 0; i < nreq; i++) {
		ck_assert_msg(was_populated(gfn_of[i]), "allocation %ld "
			      "failed: the request for gfn %llu never reached "
			      "the pager", n, (unsigned long long)gfn_of[i]);
	}
	for (int i = 0; i < NG; i++) {
		int s = xpage_gfn_state(xp, g[i]), ls;

		if (s == XPAGE_GFN_EVICTED || s == XPAGE_GFN_PAGING_IN) {
			ck_assert_int_eq(xpage_load(xp, &g[i], 1, &bufs[i],
						    XPAGE_LOAD_RESUME, &ls), 1);
		} else if (s == XPAGE_GFN_LOADED) {
			ck_assert_int_eq(xpage_resume(xp, &g[i], 1, 0, &ls), 1);
		}
	}
	while (fake_take_response(GEN7, &r, NULL, NULL)) {
		for (int i = 0; i < nreq; i++) {
			if (r.gfn != gfn_of[i] || r.vcpu != (uint32_t)vcpu_of[i])
				continue;
			answers[i]++;
			ck_assert_msg(!(r.flags & XP_EV_DROP_PAGE),
				      "allocation %ld failed: gfn %llu answered "
				      "with DROP_PAGE", n,
				      (unsigned long long)r.gfn);
		}
	}
	for (int i = 0; i < 2; i++) {
		int us;

		if (xpage_gfn_state(xp, u[i]) == XPAGE_GFN_NOMINATED)
			ck_assert_int_eq(xpage_unnominate(xp, &u[i], 1, 0, &us), 1);
		ck_assert_int_eq(xpage_gfn_state(xp, u[i]), XPAGE_GFN_RESIDENT);
	}
	for (int i = 0; i < nreq; i++)
		ck_assert_msg(answers[i] == 1, "allocation %ld failed: vCPU %d "
			      "(gfn %llu) answered %d times", n, vcpu_of[i],
			      (unsigned long long)gfn_of[i], answers[i]);
	ck_assert_int_eq(xpage_close(xp), 0);
	return failed_one;
}

START_TEST(every_allocation_may_fail)
{
	long n;

	for (n = 0; n < 10000; n++)
		if (!run_once(n))
			break;
	/* the sweep reached its end, through at least the handle, the gfn
	 * table, the batch buffer and a held request's list */
	ck_assert_int_ge(n, 4);
	ck_assert_int_lt(n, 10000);
	printf("failed each of the library's %ld allocations in turn\n", n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = check_tcase(s, "alloc", 120);

	tcase_add_test(tc, every_allocation_may_fail);
	return check_run_mode(s, CK_NOFORK) ? EXIT_FAILURE : EXIT_SUCCESS;
}
