/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The paging state machine, docs/xen-interface.md §1, one test (at least)
 * per row: nominate, evict, guest/foreign access to paging_out / paged /
 * paging_in, foreign mapping, prep/load, response, guest release.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "simtest.h"

static bool page_is_zero(const uint8_t *p)
{
	for (unsigned i = 0; i < 4096; i++)
		if (p[i])
			return false;
	return true;
}

/* Row: nominate. */
START_TEST(t_nominate_ok)
{
	struct tc c;
	struct simp_gfn_state s;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	s = tc_gfn(&c, 3);
	ck_assert_uint_eq(s.p2mt, P2M_OUT);
	ck_assert_uint_eq(s.has_frame, 1);
	ck_assert_uint_eq(tc_report(&c, 0, 0).nominated, 1);
	tc_close(&c);
}
END_TEST

/* Row: nominate fails with EBUSY when someone maps the page. */
START_TEST(t_nominate_mapped_ebusy)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_map1(&c, 3), 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).refcount, 1);
	ck_assert_int_eq(tc_nominate(&c, 3), -EBUSY);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	ck_assert_int_eq(tc_unmap1(&c, 3), 0);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	tc_close(&c);
}
END_TEST

/* Row: nominate only from a pageable type with a frame. */
START_TEST(t_nominate_not_pageable)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 1), 0);
	ck_assert_int_eq(tc_nominate(&c, 1), -EBUSY);     /* paging_out */
	tc_page_out(&c, 2, NULL);
	ck_assert_int_eq(tc_nominate(&c, 2), -EBUSY);     /* paged */
	ck_assert_int_eq(tc_release(&c, 0, 4, 0), 0);
	ck_assert_int_eq(tc_nominate(&c, 4), -EBUSY);     /* not in physmap */
	ck_assert_int_eq(tc_nominate(&c, 1000), -EBUSY);  /* no such gfn */
	tc_close(&c);
}
END_TEST

/* Row: evict only a nominated gfn. */
START_TEST(t_evict_not_nominated)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_evict(&c, 5), -EBUSY);
	ck_assert_uint_eq(tc_gfn(&c, 5).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_gfn(&c, 5).has_frame, 1);
	tc_close(&c);
}
END_TEST

/* Row: evict needs the pager to have unmapped it; the frame is freed. */
START_TEST(t_evict_mapped_then_freed)
{
	struct tc c;
	struct simp_gfn_state s;
	uint8_t *p;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	p = c.mem + 5 * 4096;
	ck_assert(!page_is_zero(p));
	ck_assert_int_eq(tc_nominate(&c, 5), 0);
	ck_assert_int_eq(tc_map1(&c, 5), 0);              /* write-out */
	ck_assert_int_eq(tc_evict(&c, 5), -EBUSY);
	ck_assert_uint_eq(tc_gfn(&c, 5).p2mt, P2M_OUT);
	ck_assert_int_eq(tc_unmap1(&c, 5), 0);
	ck_assert_int_eq(tc_evict(&c, 5), 0);
	s = tc_gfn(&c, 5);
	ck_assert_uint_eq(s.p2mt, P2M_PAGED);
	ck_assert_uint_eq(s.has_frame, 0);
	ck_assert_uint_eq(tc_info(&c).paged_pages, 1);
	/* The data is really gone (hole punched in the memfd). */
	ck_assert(page_is_zero(p));
	ck_assert_int_eq(tc_evict(&c, 5), -EBUSY);        /* already paged */
	tc_close(&c);
}
END_TEST

/* §1 "all paging ops": -ENODEV while no ring is enabled. */
START_TEST(t_no_ring_enodev)
{
	struct tc c;

	tc_guest(&c, &S, 16, 1, NULL, 0);
	ck_assert_int_eq(tc_nominate(&c, 1), -ENODEV);
	ck_assert_int_eq(tc_evict(&c, 1), -ENODEV);
	ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, 1, 0), -ENODEV);
	tc_close(&c);
}
END_TEST

/* Row: prep only from paging_in or paged. */
START_TEST(t_prep_resident_enoent)
{
	struct tc c;
	uint8_t page[4096] = { 1 };

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_load(&c, 2, page, 0), -ENOENT);
	ck_assert_int_eq(tc_nominate(&c, 2), 0);
	ck_assert_int_eq(tc_load(&c, 2, page, 0), -ENOENT); /* paging_out */
	ck_assert_uint_eq(tc_gfn(&c, 2).p2mt, P2M_OUT);
	tc_close(&c);
}
END_TEST

/* Row: prep without a buffer and without a frame: -EINVAL. */
START_TEST(t_prep_no_buffer_einval)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 2, NULL);
	ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, 2, SIMP_NO_BUFFER),
			 -EINVAL);
	ck_assert_uint_eq(tc_gfn(&c, 2).p2mt, P2M_PAGED);
	ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, 2, SIMP_BOUNCE_SLOTS),
			 -EINVAL); /* not a valid buffer */
	tc_close(&c);
}
END_TEST

/* Row: prep with a buffer: frame allocated, data copied, ram_rw at once. */
START_TEST(t_prep_buffer)
{
	struct tc c;
	uint8_t save[4096];
	struct simp_report r;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 7, save);
	ck_assert_uint_eq(tc_info(&c).paged_pages, 1);
	ck_assert_int_eq(tc_load(&c, 7, save, 5), 0);
	ck_assert_uint_eq(tc_gfn(&c, 7).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_gfn(&c, 7).has_frame, 1);
	ck_assert_uint_eq(tc_info(&c).paged_pages, 0);
	ck_assert(!memcmp(c.mem + 7 * 4096, save, 4096));
	ck_assert_int_eq(tc_touch(&c, 0, 7, 0), 0);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.corrupted, 0);
	tc_close(&c);
}
END_TEST

/* Wrong data loaded is corrupted, zeros lost (byte 100 is outside the
 * sample a load checks: the report's full compare counts it). */
START_TEST(t_prep_bad_data_detected)
{
	struct tc c;
	uint8_t save[4096], junk[4096], zero[4096] = { 0 };
	struct simp_report r;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 3, save);
	tc_page_out(&c, 4, NULL);
	memcpy(junk, save, sizeof(junk));
	junk[100] ^= 0xff;
	ck_assert_int_eq(tc_load(&c, 3, junk, 0), 0);
	ck_assert_int_eq(tc_load(&c, 4, zero, 1), 0);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.corrupted, 1);
	ck_assert_uint_eq(r.lost, 1);
	tc_close(&c);
}
END_TEST

/* Row: guest access to paging_out -> paging_in, request with EVICT_FAIL,
 * vCPU paused; evict now fails. */
START_TEST(t_touch_paging_out)
{
	struct tc c;
	struct simp_gfn_state s;

	tc_ring_guest(&c, &S, 16, 2, "xen-4.15");
	ck_assert_int_eq(tc_nominate(&c, 6), 0);
	ck_assert_int_eq(tc_touch(&c, 1, 6, 0), -EAGAIN);
	tc_expect_req(&c, 0, NULL, 6, 1, 1 /* VCPU_PAUSED, not FOREIGN */,
		      P2M_OUT, 2 /* EVICT_FAIL */);
	s = tc_gfn(&c, 6);
	ck_assert_uint_eq(s.p2mt, P2M_IN);
	ck_assert_uint_eq(s.has_frame, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 1).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_int_eq(tc_evict(&c, 6), -EBUSY);
	tc_close(&c);
}
END_TEST

/* Row: guest access to paged -> paging_in, request without EVICT_FAIL. */
START_TEST(t_touch_paged)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, "xen-4.15");
	tc_page_out(&c, 6, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 6, 0), -EAGAIN);
	tc_expect_req(&c, 0, NULL, 6, TC_ANY, 1, P2M_PAGED, 0);
	ck_assert_uint_eq(tc_gfn(&c, 6).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_gfn(&c, 6).has_frame, 0);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	/* A paused vCPU runs nothing else. */
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EBUSY);
	ck_assert_uint_eq(tc_report(&c, 0, 0).faults, 1);
	tc_close(&c);
}
END_TEST

/* Row: access to paging_in from a guest vCPU. The facts table's "vCPU
 * paused, another request sent" is the emulation path; the hardware fault
 * path (hvm_hap_nested_page_fault) asks only for paged and paging_out, so
 * the other vCPUs spin: not paused, no request (more in test_sim_spin.c).
 * A foreign access sends none either. */
START_TEST(t_paging_in_no_duplicate)
{
	struct tc c;
	uint64_t g = 7;

	tc_ring_guest(&c, &S, 64, 3, NULL);
	/* (not on the vCPUs' walks: a spinning vCPU is switched every
	 * millisecond, and its walk would ask for it; a guest big enough to
	 * keep the walks at its top) */
	ck_assert(!tc_on_walk(&c, g));
	tc_page_out(&c, g, NULL);
	for (uint32_t v = 0; v < 3; v++)
		ck_assert_int_eq(tc_touch(&c, v, g, 0), -EAGAIN);
	tc_expect_req(&c, 0, NULL, g, 0, 1, P2M_PAGED, TC_ANY);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	for (uint32_t v = 1; v < 3; v++) {
		ck_assert_uint_eq(tc_vcpu(&c, v).vm_event_pause_count, 0);
		ck_assert_int_eq(tc_touch(&c, v, 1, 0), -EBUSY); /* spinning */
	}
	ck_assert_int_eq(tc_touch(&c, 0, g, 2 /* FOREIGN */), -ENOENT);
	ck_assert_int_eq(tc_map1(&c, g), -ENOENT);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	ck_assert_uint_eq(tc_report(&c, 0, 0).faults, 1);
	tc_close(&c);
}
END_TEST

/* Row: foreign access to paging_out -> paging_in, request with
 * EVICT_FAIL and FOREIGN, nobody paused; the access itself goes ahead on
 * the frame. To paged: a request, -ENOENT (retry later). */
START_TEST(t_foreign_touch)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 6), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 6, 2 /* FOREIGN */), 0);
	tc_expect_req(&c, 0, NULL, 6, TC_ANY, 2 /* FOREIGN */, P2M_OUT,
		      2 /* EVICT_FAIL */);
	ck_assert_uint_eq(tc_gfn(&c, 6).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_gfn(&c, 6).has_frame, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_int_eq(tc_evict(&c, 6), -EBUSY);
	tc_page_out(&c, 7, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 7, 2 | 1), -ENOENT);
	tc_expect_req(&c, 1, NULL, 7, TC_ANY, 2, P2M_PAGED, 0);
	ck_assert_int_eq(tc_touch(&c, 0, 7, 2), -ENOENT); /* paging_in */
	ck_assert_int_eq(tc_touch(&c, 0, 99, 2), -ERANGE);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 2);
	tc_close(&c);
}
END_TEST

/* Row: foreign mapping of a paged gfn fails with ENOENT and asks for the
 * page (FOREIGN, no vCPU paused). */
START_TEST(t_foreign_map_paged)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 4, NULL);
	ck_assert_int_eq(tc_map1(&c, 4), -ENOENT);
	tc_expect_req(&c, 0, NULL, 4, TC_ANY, 2 /* FOREIGN, not VCPU_PAUSED */,
		      P2M_PAGED, 0);
	ck_assert_uint_eq(tc_gfn(&c, 4).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_gfn(&c, 4).refcount, 0);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	/* Still on its way back: ENOENT again, no new request. */
	ck_assert_int_eq(tc_map1(&c, 4), -ENOENT);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	tc_close(&c);
}
END_TEST

/* Foreign mapping of the other states. */
START_TEST(t_foreign_map_states)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_map1(&c, 1), 0);           /* ram */
	ck_assert_int_eq(tc_map1(&c, 1), 0);           /* twice */
	ck_assert_uint_eq(tc_gfn(&c, 1).refcount, 2);
	ck_assert_int_eq(tc_nominate(&c, 2), 0);
	ck_assert_int_eq(tc_map1(&c, 2), 0);           /* paging_out */
	ck_assert_uint_eq(tc_gfn(&c, 2).refcount, 1);
	ck_assert_int_eq(tc_nominate(&c, 3), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), -EAGAIN);
	ck_assert_int_eq(tc_map1(&c, 3), 0);           /* paging_in + frame */
	ck_assert_int_eq(tc_release(&c, SIMP_VCPU_ANY, 4, 2), 0);
	ck_assert_int_eq(tc_map1(&c, 4), -EINVAL);     /* not in physmap */
	ck_assert_int_eq(tc_map1(&c, 17), -EINVAL);    /* beyond */
	ck_assert_int_eq(tc_unmap1(&c, 5), -EINVAL);   /* never mapped */
	ck_assert_int_eq(tc_unmap1(&c, 1), 0);
	ck_assert_int_eq(tc_unmap1(&c, 1), 0);
	ck_assert_int_eq(tc_unmap1(&c, 1), -EINVAL);   /* once too often */
	ck_assert_uint_eq(tc_gfn(&c, 1).refcount, 0);
	tc_close(&c);
}
END_TEST

/* A client's mappings die with its connection. */
START_TEST(t_disconnect_drops_mappings)
{
	struct tc c, d;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_connect(&d, &S), 0);
	ck_assert_int_eq(tc_attach(&d, c.domid), 0);
	ck_assert_int_eq(tc_map1(&d, 2), 0);
	ck_assert_int_eq(tc_map1(&d, 2), 0);
	ck_assert_uint_eq(tc_gfn(&c, 2).refcount, 2);
	ck_assert_int_eq(tc_nominate(&c, 2), -EBUSY);
	tc_close(&d);
	for (int i = 0; i < 200 && tc_gfn(&c, 2).refcount; i++)
		tc_sleep_ms(5);
	ck_assert_uint_eq(tc_gfn(&c, 2).refcount, 0);
	ck_assert_int_eq(tc_nominate(&c, 2), 0);
	tc_close(&c);
}
END_TEST

/* Row: prep of a gfn that kept its frame (nominated, touched) needs no
 * buffer. */
START_TEST(t_prep_frame_kept)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 8), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 8, 0), -EAGAIN);
	ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, 8, SIMP_NO_BUFFER),
			 0);
	ck_assert_uint_eq(tc_gfn(&c, 8).p2mt, P2M_RW);
	/* ram_rw at once, but the vCPU waits for its response. */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	tc_close(&c);
}
END_TEST

/* Row: a valid response: paging_in with frame -> ram_rw, vCPU unpaused,
 * its access completes. */
START_TEST(t_response_resumes)
{
	struct tc c;
	struct lreq q;
	struct simp_report r;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 8), 0);
	ck_assert_int_eq(tc_touch(&c, 0, 8, 1 /* write */), -EAGAIN);
	tc_next_req(&c, 0, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 8).p2mt, P2M_RW);
	tc_wait_accesses(&c, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.responses, 1);
	ck_assert_uint_eq(r.accesses, 1);
	ck_assert_uint_eq(r.corrupted + r.lost, 0);
	tc_close(&c);
}
END_TEST

/* A full page-out, demand page-in cycle keeps the data. */
START_TEST(t_page_in_cycle)
{
	struct tc c;
	struct lreq q;
	uint8_t save[4096];
	struct simp_report r;

	tc_ring_guest(&c, &S, 16, 1, "xen-4.5");
	tc_page_out(&c, 11, save);
	ck_assert_int_eq(tc_touch(&c, 0, 11, 0), -EAGAIN);
	tc_expect_req(&c, 0, &q, TC_ANY, TC_ANY,
		      1 /* mem_event: VCPU_PAUSED only */, TC_ANY, TC_ANY);
	ck_assert_int_eq(tc_load(&c, 11, save, 3), 0);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	tc_wait_accesses(&c, 1);
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.accesses, 1);
	ck_assert_uint_eq(r.paused_vcpus, 0);
	ck_assert_uint_eq(r.lost + r.corrupted, 0);
	ck_assert_uint_eq(r.paged, 0);
	tc_close(&c);
}
END_TEST

/* Row: guest releases a nominated page: DROP_PAGE | EVICT_FAIL; the gfn
 * leaves the physmap; a later touch brings back a zero page. */
START_TEST(t_release_nominated)
{
	struct tc c;
	struct simp_gfn_state s;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_nominate(&c, 5), 0);
	ck_assert_int_eq(tc_release(&c, 0, 5, 0), 0);
	tc_expect_req(&c, 0, NULL, 5, TC_ANY, 0 /* guest: not FOREIGN */,
		      TC_ANY, 1 | 2 /* DROP_PAGE | EVICT_FAIL */);
	s = tc_gfn(&c, 5);
	ck_assert_uint_eq(s.p2mt, P2M_INVALID);
	ck_assert_uint_eq(s.has_frame, 0);
	ck_assert_int_eq(tc_evict(&c, 5), -EBUSY);
	ck_assert_int_eq(tc_release(&c, 0, 5, 0), -ENOENT);
	/* Balloon deflate: a fresh zero page. */
	ck_assert_int_eq(tc_touch(&c, 0, 5, 0), 0);
	ck_assert_uint_eq(tc_gfn(&c, 5).p2mt, P2M_RW);
	ck_assert(page_is_zero(c.mem + 5 * 4096));
	ck_assert_uint_eq(tc_report(&c, 0, 0).corrupted, 0);
	tc_close(&c);
}
END_TEST

/* Row: guest releases a paged page: DROP_PAGE only. */
START_TEST(t_release_paged)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, "xen-4.2");
	tc_page_out(&c, 5, NULL);
	ck_assert_uint_eq(tc_info(&c).paged_pages, 1);
	ck_assert_int_eq(tc_release(&c, SIMP_VCPU_ANY, 5, 0), 0);
	tc_expect_req(&c, 0, NULL, 5, TC_ANY,
		      2 /* mem_event DROP_PAGE = 1<<1 */, TC_ANY, TC_ANY);
	ck_assert_uint_eq(tc_info(&c).paged_pages, 0);
	ck_assert_uint_eq(tc_gfn(&c, 5).p2mt, P2M_INVALID);
	tc_close(&c);
}
END_TEST

/* decrease_reservation by the toolstack: the same drop, FOREIGN. */
START_TEST(t_decrease_reservation_drop)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 5, NULL);
	ck_assert_int_eq(tc_u64op(&c, SIMP_DECREASE_RESERVATION, 5), 0);
	tc_expect_req(&c, 0, NULL, TC_ANY, TC_ANY, 2 /* FOREIGN */, TC_ANY,
		      1 /* DROP_PAGE */);
	ck_assert_int_eq(tc_u64op(&c, SIMP_DECREASE_RESERVATION, 5), -ENOENT);
	tc_close(&c);
}
END_TEST

/* Multicall: one trap, each entry its own result. */
START_TEST(t_multicall)
{
	struct tc c;
	struct {
		struct simp_multicall h;
		struct simp_paging_op o[5];
	} m = { { 5, 0 }, {
		{ SIMP_PAGING_NOMINATE, SIMP_NO_BUFFER, 1 },
		{ SIMP_PAGING_NOMINATE, SIMP_NO_BUFFER, 1 },
		{ SIMP_PAGING_EVICT, SIMP_NO_BUFFER, 1 },
		{ SIMP_PAGING_PREP, SIMP_NO_BUFFER, 2 },
		{ 7, SIMP_NO_BUFFER, 2 },
	} };
	struct { struct simp_results h; int32_t rc[5]; } r;
	uint32_t len = 0;

	tc_ring_guest(&c, &S, 16, 1, NULL);
	ck_assert_int_eq(tc_call(&c, SIMP_MULTICALL, &m, sizeof(m), &r,
				 sizeof(r), &len), 0);
	ck_assert_uint_eq(len, sizeof(r));
	ck_assert_uint_eq(r.h.n, 5);
	ck_assert_int_eq(r.rc[0], 0);
	ck_assert_int_eq(r.rc[1], -EBUSY);
	ck_assert_int_eq(r.rc[2], 0);
	ck_assert_int_eq(r.rc[3], -ENOENT);
	ck_assert_int_eq(r.rc[4], -ENOSYS);
	ck_assert_uint_eq(tc_gfn(&c, 1).p2mt, P2M_PAGED);
	/* A truncated request is refused as a whole. */
	ck_assert_int_eq(tc_call(&c, SIMP_MULTICALL, &m, sizeof(m) - 8, &r,
				 sizeof(r), &len), -EINVAL);
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-paging");
	TCase *t = check_tcase(s, "rules", 30);

	tcase_add_test(t, t_nominate_ok);
	tcase_add_test(t, t_nominate_mapped_ebusy);
	tcase_add_test(t, t_nominate_not_pageable);
	tcase_add_test(t, t_evict_not_nominated);
	tcase_add_test(t, t_evict_mapped_then_freed);
	tcase_add_test(t, t_no_ring_enodev);
	tcase_add_test(t, t_prep_resident_enoent);
	tcase_add_test(t, t_prep_no_buffer_einval);
	tcase_add_test(t, t_prep_buffer);
	tcase_add_test(t, t_prep_bad_data_detected);
	tcase_add_test(t, t_touch_paging_out);
	tcase_add_test(t, t_touch_paged);
	tcase_add_test(t, t_paging_in_no_duplicate);
	tcase_add_test(t, t_foreign_touch);
	tcase_add_test(t, t_foreign_map_paged);
	tcase_add_test(t, t_foreign_map_states);
	tcase_add_test(t, t_disconnect_drops_mappings);
	tcase_add_test(t, t_prep_frame_kept);
	tcase_add_test(t, t_response_resumes);
	tcase_add_test(t, t_page_in_cycle);
	tcase_add_test(t, t_release_nominated);
	tcase_add_test(t, t_release_paged);
	tcase_add_test(t, t_decrease_reservation_drop);
	tcase_add_test(t, t_multicall);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
