/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's machine frames (sim/frames.c): every guest gfn has one, the
 * machine-to-phys table names its gfn, a load takes a frame from the
 * pool, and page offline behaves as Xen's (src/page_offline.h): a free
 * frame offlined at once and never handed out again, an owned one
 * pending until its owner frees it (evict, release), Xen's and MMIO
 * frames refused with their reason, a range stopping at the first
 * failure.
 */
#include <errno.h>
#include <string.h>

#include "page_offline.h"
#include "simtest.h"

/* SIMP_PAGE_OFFLINE on one frame: the answer, its word into *@st. */
static int pgoff(struct tc *c, uint32_t cmd, uint64_t mfn, uint32_t *st)
{
	struct simp_pgoff_req q = { .cmd = cmd, .start = mfn, .end = mfn };
	static struct simp_pgoff r;

	ck_assert_int_eq(tc_call(c, SIMP_PAGE_OFFLINE, &q, sizeof(q), &r,
				 sizeof(r), NULL), 0);
	ck_assert_uint_eq(r.n, 1);
	*st = r.status[0];
	return r.ret;
}

static uint64_t m2p(struct tc *c, uint64_t mfn)
{
	struct { struct simp_m2p_req q; uint64_t mfn[1]; } q = {
		.q = { .n = 1 }, .mfn = { mfn } };
	static struct simp_m2p r;

	ck_assert_int_eq(tc_call(c, SIMP_M2P, &q, sizeof(q), &r, sizeof(r),
				 NULL), 0);
	return r.gfn[0];
}

/* Each gfn has its own frame, and the M2P names the gfn. */
START_TEST(t_frames_and_m2p)
{
	struct tc c;
	uint64_t seen[16];

	tc_guest(&c, &S, 16, 1, NULL, 0);
	for (uint64_t g = 0; g < 16; g++) {
		struct simp_gfn_state s = tc_gfn(&c, g);

		ck_assert_uint_eq(s.has_frame, 1);
		ck_assert_uint_ge(s.mfn, SIMP_MFN_POOL_FIRST);
		ck_assert_uint_eq(m2p(&c, s.mfn), g);
		for (uint64_t h = 0; h < g; h++)
			ck_assert_uint_ne(seen[h], s.mfn);
		seen[g] = s.mfn;
	}
	tc_close(&c);
}
END_TEST

/* An owned frame is pending, offlined when evicted; the load gets
 * another frame; a free frame is offlined at once and never handed out;
 * online undoes both. */
START_TEST(t_owned_pending_then_offlined)
{
	struct tc c;
	uint8_t save[4096];
	uint64_t mfn, mfn2;
	uint32_t st;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	mfn = tc_gfn(&c, 5).mfn;
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING |
			  (c.domid << XP_PG_OFFLINE_OWNER_SHIFT));
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_QUERY, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_STATUS_OFFLINE_PENDING);
	tc_page_out(&c, 5, save);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_QUERY, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_STATUS_OFFLINED);
	ck_assert_uint_eq(m2p(&c, mfn), XP_M2P_INVALID);
	ck_assert_int_eq(tc_load(&c, 5, save, 0), 0);
	mfn2 = tc_gfn(&c, 5).mfn;
	ck_assert_uint_ne(mfn2, mfn);
	ck_assert_uint_eq(m2p(&c, mfn2), 5);
	/* a free frame: offlined at once, not handed out */
	tc_page_out(&c, 6, save);
	mfn2 = tc_gfn(&c, 7).mfn;
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_OFFLINED);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_ONLINE, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_OFFLINED); /* PG_ONLINE_ONLINED */
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_QUERY, mfn, &st), 0);
	ck_assert_uint_eq(st, 0);
	(void)mfn2;
	tc_close(&c);
}
END_TEST

/* A free frame marked offline is never handed out: the pool's next
 * frame is the one freed last, so without the mark the load would get
 * it back. */
START_TEST(t_offlined_never_handed_out)
{
	struct tc c;
	uint8_t save[4096];
	uint64_t freed;
	uint32_t st;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	freed = tc_gfn(&c, 3).mfn;
	tc_page_out(&c, 3, save);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, freed, &st), 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_OFFLINED);
	ck_assert_int_eq(tc_load(&c, 3, save, 0), 0);
	ck_assert_uint_ne(tc_gfn(&c, 3).mfn, freed);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_ONLINE, freed, &st), 0);
	tc_page_out(&c, 4, save);
	ck_assert_int_eq(tc_load(&c, 4, save, 0), 0);
	tc_close(&c);
}
END_TEST

/* The guest releasing (ballooning out) a pending frame frees it. */
START_TEST(t_release_offlines_pending)
{
	struct tc c;
	uint64_t mfn;
	uint32_t st;

	tc_guest(&c, &S, 16, 1, NULL, 0);
	mfn = tc_gfn(&c, 9).mfn;
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, mfn, &st), 0);
	ck_assert_int_eq(tc_release(&c, 0, 9, 0), 0);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_QUERY, mfn, &st), 0);
	ck_assert_uint_eq(st, XP_PG_STATUS_OFFLINED);
	tc_close(&c);
}
END_TEST

/* Xen's, dom0's and MMIO frames; past the table; a range stops at the
 * first failure, the words past it "not handled". */
START_TEST(t_refused_kinds)
{
	struct simp_pgoff_req q = { .cmd = XP_PGOFF_OFFLINE,
		.start = SIMP_MFN_XEN_FIRST - 1, .end = SIMP_MFN_XEN_FIRST + 1 };
	static struct simp_pgoff r;
	struct tc c;
	uint32_t st;

	tc_guest(&c, &S, 16, 1, NULL, 0);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, SIMP_MFN_XEN_FIRST, &st),
			 -EPERM);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_FAILED |
			  (XP_DOMID_XEN << XP_PG_OFFLINE_OWNER_SHIFT));
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, SIMP_MFN_IO_FIRST, &st),
			 -EINVAL);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_FAILED | XP_PG_OFFLINE_NOT_CONV_RAM);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, SIMP_MFN_XENHEAP_FIRST,
			       &st), 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_PENDING |
			  (XP_DOMID_XEN << XP_PG_OFFLINE_OWNER_SHIFT));
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, SIMP_MFN_DOM0_FIRST, &st),
			 0);
	ck_assert_uint_eq(st, XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_OFFLINE, 1ull << 40, &st), -EINVAL);
	ck_assert_uint_eq(st, XP_PG_NOT_HANDLED);
	ck_assert_int_eq(tc_call(&c, SIMP_PAGE_OFFLINE, &q, sizeof(q), &r,
				 sizeof(r), NULL), 0);
	ck_assert_int_eq(r.ret, -EINVAL);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.status[0], XP_PG_OFFLINE_FAILED |
			  XP_PG_OFFLINE_NOT_CONV_RAM);
	ck_assert_uint_eq(r.status[1], XP_PG_NOT_HANDLED);
	ck_assert_uint_eq(r.status[2], XP_PG_NOT_HANDLED);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_ONLINE, SIMP_MFN_XENHEAP_FIRST,
			       &st), 0);
	ck_assert_int_eq(pgoff(&c, XP_PGOFF_ONLINE, SIMP_MFN_DOM0_FIRST, &st),
			 0);
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-frames");
	TCase *t = check_tcase(s, "frames", 30);

	tcase_add_test(t, t_frames_and_m2p);
	tcase_add_test(t, t_owned_pending_then_offlined);
	tcase_add_test(t, t_offlined_never_handed_out);
	tcase_add_test(t, t_release_offlines_pending);
	tcase_add_test(t, t_refused_kinds);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
