/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest vCPU faulting on a gfn that is already paging_in spins: Xen's
 * hardware fault path (hvm.c, hvm_hap_nested_page_fault) asks for a
 * page-in only for paged and paging_out gfns, so the vCPU is not paused,
 * sends no request and re-executes its access until the gfn is RAM again,
 * for ever if nobody loads it (sim/README.md, "Spinning").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "simtest.h"

static void assert_spinning(struct tc *c, uint32_t vcpu)
{
	struct simp_vcpu_state v = tc_vcpu(c, vcpu);

	ck_assert_uint_eq(v.vm_event_pause_count, 0);
	ck_assert_uint_eq(v.blocked, 0);
	ck_assert_uint_eq(v.in_waitqueue, 0);
	/* Still executing its access: it runs nothing else. */
	ck_assert_int_eq(tc_touch(c, vcpu, 1, 0), -EBUSY);
}

/* Loading @gfn lets the @n spinning accesses to it complete; nothing is
 * stuck, lost or corrupted after. */
static void load_unsticks(struct tc *c, uint64_t gfn, const void *data,
			  uint64_t n)
{
	struct simp_report r;

	ck_assert_int_eq(tc_load(c, gfn, data, 0), 0);
	ck_assert_uint_eq(tc_wait_accesses(c, n), n);
	r = tc_report(c, 1 /* FINAL */, 0);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.lost + r.corrupted, 0);
}

/* paging_in by a first vCPU's fault: a second vCPU touching the gfn is
 * neither paused nor asks again, and its access completes once the gfn
 * is loaded, not before. */
START_TEST(t_spin_behind_vcpu_fault)
{
	struct tc c;
	struct lreq q;
	struct simp_report r;
	uint8_t save[4096];
	char line[64];

	tc_ring_guest(&c, &S, 16, 2, "xen-4.15");
	tc_page_out(&c, 9, save);
	ck_assert_int_eq(tc_touch(&c, 0, 9, 0), -EAGAIN);
	ck_assert_uint_eq(tc_wait_reqs(&c, 1), 1);
	ck_assert_uint_eq(tc_gfn(&c, 9).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);

	ck_assert_int_eq(tc_touch(&c, 1, 9, 1 /* write */), -EAGAIN);
	assert_spinning(&c, 1);
	tc_sleep_ms(50);
	assert_spinning(&c, 1);
	ck_assert_uint_eq(tc_req_prod(&c), 1);        /* no second request */
	r = tc_report(&c, 0, 0);
	ck_assert_uint_eq(r.accesses, 0);             /* not before the load */
	ck_assert_uint_eq(r.faults, 1);
	ck_assert_uint_eq(r.paused_vcpus, 1);
	ck_assert_uint_eq(tc_gfn(&c, 9).p2mt, P2M_IN);
	/* A foreign access still sends nothing either. */
	ck_assert_int_eq(tc_touch(&c, 0, 9, 2 /* FOREIGN */), -ENOENT);
	ck_assert_int_eq(tc_map1(&c, 9), -ENOENT);

	/* The load makes it RAM: vCPU 1's write goes through on its own. */
	ck_assert_int_eq(tc_load(&c, 9, save, 0), 0);
	ck_assert_uint_eq(tc_wait_accesses(&c, 1), 1);
	ck_assert(memcmp(c.mem + 9 * 4096, save, 4096) != 0); /* written */
	ck_assert_uint_eq(tc_vcpu(&c, 1).vm_event_pause_count, 0);
	ck_assert_int_eq(tc_touch(&c, 1, 1, 0), 0);
	/* vCPU 0 still waits for its response, as before. */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	tc_get_req(&c, 0, &q);
	ck_assert_uint_eq(q.vcpu, 0);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_wait_accesses(&c, 3), 3);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	r = tc_report(&c, 1 /* FINAL */, 0);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.lost + r.corrupted, 0);
	ck_assert_int_eq(tc_destroy(&c), 0);
	snprintf(line, sizeof(line), "d%u: destroyed (1 spinning faults)",
		 c.domid);
	ck_assert(simd_log_has(&S, line));
	tc_close(&c);
}
END_TEST

/* paging_in by a foreign map (a FOREIGN request outstanding, nobody
 * paused): a vCPU touching it spins, counts as stuck once it has spun
 * longer than the limit, and runs on after the load. */
START_TEST(t_spin_behind_foreign_map)
{
	struct tc c;
	struct simp_report r;
	uint8_t save[4096];

	tc_ring_guest(&c, &S, 16, 1, NULL);
	tc_page_out(&c, 4, save);
	ck_assert_int_eq(tc_map1(&c, 4), -ENOENT);
	tc_expect_req(&c, 0, NULL, TC_ANY, TC_ANY, 2 /* FOREIGN */, TC_ANY,
		      TC_ANY);
	ck_assert_uint_eq(tc_gfn(&c, 4).p2mt, P2M_IN);

	ck_assert_int_eq(tc_touch(&c, 0, 4, 0), -EAGAIN);
	assert_spinning(&c, 0);
	r = tc_report(&c, 0, 60000);
	ck_assert_uint_eq(r.stuck, 0);                /* not for that long */
	ck_assert_uint_eq(r.paused_vcpus, 0);
	tc_sleep_ms(60);
	r = tc_report(&c, 0, 20);
	ck_assert_uint_eq(r.stuck, 1);
	ck_assert_uint_eq(r.paused_vcpus, 0);
	ck_assert_uint_eq(r.faults, 0);
	ck_assert_uint_eq(r.accesses, 0);
	ck_assert_uint_eq(tc_report(&c, 1 /* FINAL */, 60000).stuck, 1);
	ck_assert_uint_eq(tc_req_prod(&c), 1);

	load_unsticks(&c, 4, save, 1);
	ck_assert_int_eq(tc_touch(&c, 0, 4, 0), 0);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	tc_close(&c);
}
END_TEST

/* The takeover situation: the request that made the gfn paging_in is on
 * a ring that goes (disable, then a new enable). Nothing asks for the
 * gfn again: the vCPU spins through it all, without crashing the domain
 * while no ring exists, and the oracle reports it stuck until the new
 * pager loads the gfn. */
START_TEST(t_spin_across_ring_change)
{
	struct tc c;
	struct simp_report r;
	uint8_t save[4096];

	tc_ring_guest(&c, &S, 64, 2, NULL);
	ck_assert(!tc_on_walk(&c, 6)); /* (the unpause wakes the vCPUs) */
	tc_page_out(&c, 6, save);
	ck_assert_int_eq(tc_map1(&c, 6), -ENOENT);    /* -> paging_in */
	ck_assert_uint_eq(tc_wait_reqs(&c, 1), 1);
	ck_assert_int_eq(tc_touch(&c, 0, 6, 1 /* write */), -EAGAIN);
	assert_spinning(&c, 0);

	/* The pager goes; its request goes with the ring. */
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(tc_disable(&c), 0);
	ck_assert_int_eq(tc_call(&c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	/* No ring: a paging_in gfn is no page-in request, so no crash. */
	ck_assert_int_eq(tc_touch(&c, 1, 6, 0), -EAGAIN);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_info(&c).crashed, 0);
	assert_spinning(&c, 0);
	assert_spinning(&c, 1);

	ck_assert_int_eq(tc_enable(&c, 0), 0);       /* the new pager */
	tc_sleep_ms(60);
	ck_assert_uint_eq(tc_req_prod(&c), 0);        /* nobody asks again */
	assert_spinning(&c, 0);
	assert_spinning(&c, 1);
	r = tc_report(&c, 1 /* FINAL */, 0);
	ck_assert_uint_eq(r.stuck, 2);
	ck_assert_uint_eq(r.paused_vcpus, 0);
	ck_assert_uint_eq(r.crashed, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 20).stuck, 2);
	ck_assert_uint_eq(tc_report(&c, 0, 0).accesses, 0);

	/* Loading the gfn un-sticks both. */
	load_unsticks(&c, 6, save, 2);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), 0);
	ck_assert_int_eq(tc_touch(&c, 1, 1, 0), 0);
	ck_assert_uint_eq(tc_req_prod(&c), 0);
	tc_close(&c);
}
END_TEST

/* A paging_in gfn balloons out under a spinning vCPU: its next try
 * brings the gfn back as a fresh zero page (balloon deflate). */
START_TEST(t_spin_gfn_released)
{
	struct tc c;

	tc_ring_guest(&c, &S, 16, 2, NULL);
	tc_page_out(&c, 5, NULL);
	ck_assert_int_eq(tc_map1(&c, 5), -ENOENT);
	ck_assert_int_eq(tc_touch(&c, 0, 5, 0), -EAGAIN);
	assert_spinning(&c, 0);
	ck_assert_int_eq(tc_release(&c, 1, 5, 0), 0);
	ck_assert_uint_eq(tc_wait_accesses(&c, 1), 1);
	ck_assert_uint_eq(tc_gfn(&c, 5).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_report(&c, 1 /* FINAL */, 0).stuck, 0);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), 0);
	tc_close(&c);
}
END_TEST

/* A vCPU that waits for a ring slot is inside its page-in request (Xen's
 * vCPU sleeps in the populate call): once it has a slot it carries on
 * with that request even if the gfn became paging_in meanwhile, so it is
 * paused and asks, rather than spinning. */
START_TEST(t_waitqueue_resumes_request)
{
	struct tc c;
	struct lreq q;

	tc_full_ring_guest(&c, &S);
	ck_assert_int_eq(tc_touch(&c, 0, 9, 0), -EAGAIN);
	ck_assert_uint_eq(tc_vcpu(&c, 0).in_waitqueue, 1);
	ck_assert_uint_eq(tc_gfn(&c, 9).p2mt, P2M_PAGED);
	/* With vCPU 0 held by a toolstack pause, a foreign map takes the
	 * slot a response frees and makes gfn 9 paging_in. */
	ck_assert_int_eq(tc_call(&c, SIMP_PAUSE, NULL, 0, NULL, 0, NULL), 0);
	tc_get_req(&c, 0, &q);
	tc_answer(&c, &q);
	tc_notify(&c);
	ck_assert_int_eq(tc_map1(&c, 9), -ENOENT);
	ck_assert_uint_eq(tc_wait_reqs(&c, 9), 9);
	ck_assert_uint_eq(tc_gfn(&c, 9).p2mt, P2M_IN);
	ck_assert_int_eq(tc_call(&c, SIMP_UNPAUSE, NULL, 0, NULL, 0, NULL), 0);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_vcpu(&c, 0).in_waitqueue, 1);  /* full again */
	ck_assert_uint_eq(tc_req_prod(&c), 9);
	/* The next free slot is vCPU 0's. */
	tc_get_req(&c, 1, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	tc_expect_req(&c, 9, NULL, 9, 0, 1 /* VCPU_PAUSED */, P2M_IN, TC_ANY);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 0).in_waitqueue, 0);
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-spin");
	TCase *t = check_tcase(s, "spin", 30);

	tcase_add_test(t, t_spin_behind_vcpu_fault);
	tcase_add_test(t, t_spin_behind_foreign_map);
	tcase_add_test(t, t_spin_across_ring_change);
	tcase_add_test(t, t_spin_gfn_released);
	tcase_add_test(t, t_waitqueue_resumes_request);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
