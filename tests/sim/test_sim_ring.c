/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The paging ring: byte layout per personality (docs/xen-interface.md §2, §3, literal
 * numbers), response processing (version, reason, VCPU_PAUSED, unpaused
 * vCPUs: §3, §8), ring accounting (full ring, wait queue, blocked
 * vCPUs: §5).
 */
#include <errno.h>
#include <string.h>

#include "simtest.h"

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static uint32_t get32(const uint8_t *p, uint32_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

/* The bytes a request must have, built from the facts table by hand. */
static void expect_req(const struct lit *L, uint8_t *e, uint32_t vcpu,
		       uint64_t gfn, uint32_t p2mt, bool paused, bool foreign,
		       bool drop, bool evict_fail)
{
	memset(e, 0, L->slot);
	if (L->vm_event) {
		put32(e, 0, L->version);
		put32(e, 4, (paused ? 1u : 0) | (foreign ? 2u : 0));
		put32(e, 8, 3);                       /* MEM_PAGING */
		put32(e, 12, vcpu);
		memcpy(e + 24, &gfn, 8);
		put32(e, 32, p2mt);
		put32(e, 36, (drop ? 1u : 0) | (evict_fail ? 2u : 0));
	} else {
		put32(e, 0, (paused ? 1u : 0) | (drop ? 2u : 0) |
			    (evict_fail ? 4u : 0) | (foreign ? 8u : 0));
		put32(e, 4, vcpu);
		memcpy(e + 8, &gfn, 8);
		put32(e, 32, p2mt);
		/* reason u16 @38 stays 0 */
	}
}

static void check_slot(struct tc *c, uint32_t idx, const uint8_t *e)
{
	const uint8_t *s = c->ring + 64 + (idx % c->L->nslots) * c->L->slot;

	for (uint32_t i = 0; i < c->L->slot; i++)
		ck_assert_msg(s[i] == e[i], "%s: request %u byte %u: %#x, "
			      "expected %#x", c->L->pers, idx, i, s[i], e[i]);
}

/* Facts §2-§3: every byte of the ring, per personality. */
START_TEST(t_layout)
{
	const struct lit *L = &lits[_i];
	uint32_t n = L->nslots, hdr[4];
	uint8_t e[512];
	struct tc c;
	bool age2 = L->age == 2;

	/* (gfns 1 .. n + 1 are paged out: room for the walks above them,
	 * which the vCPUs woken by the answers go through) */
	tc_guest(&c, &S, 2 * n + 24, 2, L->pers, 0);
	for (uint32_t k = 1; k <= n + 1; k++)
		ck_assert(!tc_on_walk(&c, k));
	ck_assert_uint_eq(tc_info(&c).generation, (uint32_t)L->generation);
	if (!L->paging) {
		ck_assert_int_eq(tc_enable(&c, 0), -ENOSYS);
		tc_close(&c);
		return;
	}
	ck_assert_int_eq(tc_enable(&c, age2 ? 2 : 0), 0);
	/* A fresh ring page with the header as the client initialised it:
	 * req_prod @0 = 0, req_event @4 = 1, rsp_prod @8 = 0, rsp_event
	 * @12 = 1, everything else 0. */
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_uint_eq(c.ring[i], i == 4 || i == 12 ? 1 : 0);

	/* Request 0: vCPU 1 touches a nominated gfn. */
	if (age2)
		ck_assert_int_eq(tc_map1(&c, 1), 0);
	ck_assert_int_eq(tc_nominate(&c, 1), 0);
	if (age2)
		ck_assert_int_eq(tc_unmap1(&c, 1), 0);
	ck_assert_int_eq(tc_touch(&c, 1, 1, 0), -EAGAIN);
	ck_assert_uint_eq(tc_wait_reqs(&c, 1), 1);
	memcpy(hdr, c.ring, sizeof(hdr));
	ck_assert_uint_eq(hdr[0], 1);   /* req_prod @0 */
	ck_assert_uint_eq(hdr[1], 1);   /* req_event @4, as the pager set it */
	ck_assert_uint_eq(hdr[2], 0);   /* rsp_prod @8 */
	ck_assert_uint_eq(hdr[3], 1);   /* rsp_event @12, as the pager set it */
	for (unsigned i = 16; i < 64; i++)
		ck_assert_uint_eq(c.ring[i], 0);
	expect_req(L, e, 1, 1, 9, true, false, false, !age2);
	check_slot(&c, 0, e);

	/* Foreign requests fill the ring: n slots in all. */
	for (uint32_t k = 2; k <= n + 1; k++)
		tc_page_out(&c, k, NULL);
	for (uint32_t k = 1; k < n; k++) {
		ck_assert_int_eq(tc_map1(&c, k + 1), -ENOENT);
		ck_assert_uint_eq(tc_wait_reqs(&c, k + 1), k + 1);
		expect_req(L, e, 0, k + 1, 10, false, true, false, false);
		check_slot(&c, k, e);
	}
	/* Full: no room for another (foreign requesters do not wait). */
	ck_assert_int_eq(tc_map1(&c, n + 1), -ENOENT);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), n);
	ck_assert_uint_eq(tc_gfn(&c, n + 1).p2mt, P2M_PAGED);
	/* Nothing past the last slot. */
	for (unsigned i = 64 + n * L->slot; i < 4096; i++)
		ck_assert_uint_eq(c.ring[i], 0);

	/* Answer all; rsp_event @12 = rsp_cons + 1. */
	for (uint32_t k = 0; k < n; k++) {
		struct lreq q;

		tc_get_req(&c, k, &q);
		tc_answer(&c, &q);
	}
	ck_assert_uint_eq(get32(c.ring, 8), n);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(get32(c.ring, 12), n + 1);
	ck_assert_uint_eq(tc_gfn(&c, 1).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_vcpu(&c, 1).vm_event_pause_count, 0);

	/* Request n wraps to slot 0. */
	ck_assert_int_eq(tc_map1(&c, n + 1), -ENOENT);
	ck_assert_uint_eq(tc_wait_reqs(&c, n + 1), n + 1);
	expect_req(L, e, 0, n + 1, 10, false, true, false, false);
	check_slot(&c, n, e);

	/* Drop of a nominated gfn by the guest (vCPU 0). */
	if (age2)
		ck_assert_int_eq(tc_map1(&c, 0), 0);
	ck_assert_int_eq(tc_nominate(&c, 0), 0);
	if (age2)
		ck_assert_int_eq(tc_unmap1(&c, 0), 0);
	ck_assert_int_eq(tc_release(&c, 0, 0, 0), 0);
	ck_assert_uint_eq(tc_wait_reqs(&c, n + 2), n + 2);
	expect_req(L, e, 0, 0, 0, false, false, true, !age2);
	check_slot(&c, n + 1, e);
	tc_close(&c);
}
END_TEST

/* One vCPU paused on a nominated-then-touched gfn; returns its request. */
static void paused_on(struct tc *c, uint32_t vcpu, uint64_t gfn,
		      struct lreq *q)
{
	uint32_t before = tc_req_prod(c);

	ck_assert_int_eq(tc_nominate(c, gfn), 0);
	ck_assert_int_eq(tc_touch(c, vcpu, gfn, 0), -EAGAIN);
	tc_expect_req(c, before, q, gfn, TC_ANY, TC_ANY, TC_ANY, TC_ANY);
	ck_assert_uint_eq(tc_gfn(c, gfn).p2mt, P2M_IN);
}

/* The start of each response test: a 16-page ring guest of @pers whose
 * vCPU 0 is paused on gfn 3; returns its request. */
static void paused_guest(struct tc *c, const char *pers, uint32_t vcpus,
			 struct lreq *q)
{
	tc_ring_guest(c, &S, 16, vcpus, pers);
	paused_on(c, 0, 3, q);
}

/* Facts §3/§8: a response with the wrong version word is ignored; the
 * vCPU stays paused (what Debian's xenpaging hits on 4.17). */
START_TEST(t_rsp_wrong_version)
{
	struct tc c;
	struct lreq q, r;
	struct simp_report rep;

	paused_guest(&c, "xen-4.15", 1, &q);
	r = q;
	r.version = 6;            /* 4.14's */
	r.reason = 3;
	tc_put_rsp(&c, &r);
	r.version = 0;            /* xenpaging: only gfn, vcpu, flags */
	r.reason = 0;
	tc_put_rsp(&c, &r);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);
	rep = tc_report(&c, 0, 0);
	ck_assert_uint_eq(rep.ignored, 2);
	ck_assert_uint_eq(rep.responses, 0);
	ck_assert(simd_log_has(&S, "vm_event interface version mismatch"));
	/* The right version frees it. */
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	tc_close(&c);
}
END_TEST

/* Facts §3: the paging resume runs only when reason == MEM_PAGING. The
 * unpause still happens: the vCPU retries and, the gfn being paging_in
 * still, spins (Xen's fault path sends no request for paging_in). */
START_TEST(t_rsp_wrong_reason)
{
	struct tc c;
	struct lreq q, r;

	paused_guest(&c, "xen-4.13", 1, &q);
	r = q;
	r.version = 5;
	r.reason = 1;
	tc_put_rsp(&c, &r);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);  /* not resumed */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).responses, 1);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EBUSY); /* spinning */
	ck_assert_uint_eq(tc_report(&c, 1 /* FINAL */, 0).stuck, 1);
	tc_close(&c);
}
END_TEST

/* Without VCPU_PAUSED in the response the p2m is fixed but the vCPU stays
 * paused. */
START_TEST(t_rsp_no_paused_flag)
{
	struct tc c;
	struct lreq q;

	paused_guest(&c, "xen-4.8", 1, &q);
	q.flags = 0;
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_report(&c, 0, 0).responses, 1);
	tc_close(&c);
}
END_TEST

/* Facts §8: a response for a vCPU that is not paused is ignored, even
 * for a gfn that could be resumed. */
START_TEST(t_rsp_unsolicited)
{
	struct tc c;
	struct lreq q;

	paused_guest(&c, NULL, 2, &q);
	q.vcpu = 1;
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_vcpu(&c, 1).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).ignored, 1);
	tc_close(&c);
}
END_TEST

/* Xen's sources, release by release: a VCPU_PAUSED response for a vCPU
 * that is not paused. 4.2 - 4.4 resume the p2m and unpause it anyway
 * (its pause count goes below zero: it stops running, for good); 4.5 -
 * 4.7 resume the p2m but refuse the unpause; 4.8 and later ignore it. */
START_TEST(t_rsp_not_paused_per_release)
{
	static const struct {
		const char *pers;
		bool p2m_resumed, stops;
	} rel[] = {
		{ "xen-4.2", true, true },
		{ "xen-4.5", true, false },
		{ "xen-4.6", true, false },
		{ "xen-4.8", false, false },
	};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		struct tc c;
		struct lreq q, r;

		paused_guest(&c, rel[i].pers, 2, &q);
		r = q;
		r.vcpu = 1;
		tc_answer(&c, &r);
		tc_notify_consumed(&c);
		ck_assert_uint_eq(tc_gfn(&c, 3).p2mt,
				  rel[i].p2m_resumed ? P2M_RW : P2M_IN);
		ck_assert_int_eq((int32_t)tc_vcpu(&c, 1).vm_event_pause_count,
				 rel[i].stops ? -1 : 0);
		ck_assert_int_eq(tc_touch(&c, 1, 1, 0),
				 rel[i].stops ? -EBUSY : 0);
		ck_assert_uint_eq(tc_report(&c, 1 /* FINAL */, 0).stuck,
				  rel[i].stops ? 2 : 1);
		if (rel[i].stops)
			ck_assert(simd_log_has(&S, "it stops running"));
		/* the paused vCPU is released by its own answer */
		tc_answer(&c, &q);
		tc_notify_consumed(&c);
		ck_assert_int_eq((int32_t)tc_vcpu(&c, 0).vm_event_pause_count, 0);
		tc_close(&c);
	}
}
END_TEST

/* A response naming a vCPU the domain does not have is skipped. */
START_TEST(t_rsp_invalid_vcpu)
{
	struct tc c;
	struct lreq q;

	paused_guest(&c, NULL, 1, &q);
	q.vcpu = 99;
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_report(&c, 0, 0).ignored, 1);
	tc_close(&c);
}
END_TEST

/* DROP_PAGE in the response: no p2m resume, the unpause happens. */
START_TEST(t_rsp_drop_flag)
{
	struct tc c;
	struct lreq q;

	paused_guest(&c, NULL, 1, &q);
	q.pflags = 1;
	q.version = 7;
	q.reason = 3;
	tc_put_rsp(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_IN);
	/* Unpaused, it retries: paging_in, so it spins without asking. */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	tc_sleep_ms(20);
	ck_assert_uint_eq(tc_req_prod(&c), 1);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), -EBUSY);
	/* The load lets it through. */
	ck_assert_int_eq(tc_paging(&c, SIMP_PAGING_PREP, 3, SIMP_NO_BUFFER),
			 0);
	ck_assert_int_eq(tc_touch(&c, 0, 1, 0), 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).accesses, 2);
	tc_close(&c);
}
END_TEST

/* mem_event era: no version word; keyed on flags; DUMMY is skipped. */
START_TEST(t_rsp_mem_event)
{
	struct tc c;
	struct lreq q, r;

	paused_guest(&c, "xen-4.2", 1, &q);
	ck_assert_uint_eq(q.flags, 1 | 4);      /* VCPU_PAUSED | EVICT_FAIL */
	r = q;
	r.flags = 1 | (1u << 4);                /* DUMMY: skipped */
	tc_put_rsp(&c, &r);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_report(&c, 0, 0).ignored, 1);
	r.flags = 1;
	tc_put_rsp(&c, &r);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	tc_close(&c);
}
END_TEST

/* Responses beyond the requests are consumed, as Xen does (a pager
 * taking over answers vCPUs without requests); an index further ahead
 * than one ring is garbage: one ring's worth is read and logged. */
START_TEST(t_rsp_overrun)
{
	struct tc c;
	struct lreq q;

	paused_guest(&c, NULL, 1, &q);
	tc_answer(&c, &q);
	__atomic_store_n((uint32_t *)(c.ring + 8), 1000, __ATOMIC_RELEASE);
	tc_notify(&c);
	for (int i = 0; i < 200 && get32(c.ring, 12) != 9; i++)
		tc_sleep_ms(5);
	ck_assert_uint_eq(get32(c.ring, 12), 8 + 1);   /* 8 slots read */
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_report(&c, 0, 0).ignored, 7);
	ck_assert(simd_log_has(&S, "ring overrun"));
	tc_close(&c);
}
END_TEST

/* Notify is synchronous, as EVTCHNOP_send is on Xen: whatever the
 * simulator is asked after a notify sees its responses consumed. A
 * response published without a notify is not consumed. */
START_TEST(t_notify_synchronous)
{
	struct tc c;
	struct lreq q;

	tc_ring_guest(&c, &S, 256, 1, NULL);
	for (uint64_t g = 0; g < 200; g++) {
		paused_on(&c, 0, g, &q);
		tc_answer(&c, &q);
		tc_notify(&c);
		/* no waiting */
		ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
		ck_assert_uint_eq(tc_gfn(&c, g).p2mt, P2M_RW);
	}
	paused_on(&c, 0, 200, &q);
	tc_answer(&c, &q);
	tc_sleep_ms(30);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 1);
	ck_assert_uint_eq(tc_gfn(&c, 200).p2mt, P2M_IN);
	tc_notify(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	tc_close(&c);
}
END_TEST

/* Has the simulator consumed every response published (read from the
 * ring: asking the simulator would deliver a pending notify)? */
static bool consumed(struct tc *c)
{
	/* rsp_event at offset 12: the hypervisor sets it to rsp_cons + 1. */
	return __atomic_load_n((uint32_t *)(c->ring + 12), __ATOMIC_ACQUIRE) ==
	       c->rsp_prod_pvt + 1;
}

/* --resume-delay-us: the ring's thread delivers a notify that no
 * operation delivered, that long after it; an operation on the domain
 * meanwhile delivers it at once. 0: the thread delivers it at once. */
START_TEST(t_resume_delay)
{
	static const char *const slow[] = { "--resume-delay-us", "300000",
					    NULL };
	static const char *const now[] = { "--resume-delay-us", "0", NULL };
	struct simd s;
	struct tc c;
	struct lreq q;
	uint64_t t0;

	simd_start(&s, slow);
	tc_ring_guest(&c, &s, 16, 1, NULL);
	/* An operation after the notify: delivered by it, at once. */
	paused_on(&c, 0, 3, &q);
	tc_answer(&c, &q);
	tc_notify(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert(consumed(&c));
	ck_assert_uint_eq(tc_gfn(&c, 3).p2mt, P2M_RW);
	/* No operation: the ring's thread, once the delay has passed. (The
	 * thread woke at the first notify and waits out its delay before it
	 * looks again: let that pass, or it would find this notify sooner.) */
	tc_sleep_ms(600);
	paused_on(&c, 0, 4, &q);
	tc_answer(&c, &q);
	t0 = tc_now_ms();
	tc_notify(&c);
	tc_sleep_ms(100);
	ck_assert(!consumed(&c));
	ck_assert_int_eq(tc_wait_consumed(&c), 0);
	ck_assert_uint_ge(tc_now_ms() - t0, 299);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_gfn(&c, 4).p2mt, P2M_RW);
	tc_close(&c);
	ck_assert_int_eq(simd_stop(&s), 0);

	simd_start(&s, now);
	tc_ring_guest(&c, &s, 16, 1, NULL);
	paused_on(&c, 0, 3, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 0).vm_event_pause_count, 0);
	tc_close(&c);
	ck_assert_int_eq(simd_stop(&s), 0);
}
END_TEST

/* Facts §5: a full ring makes a guest vCPU wait in the wait queue;
 * disable is EBUSY meanwhile; a consumed response lets it through. */
START_TEST(t_ring_full_waitqueue)
{
	struct tc c;
	struct lreq q;
	struct simp_vcpu_state v;

	tc_full_ring_guest(&c, &S);
	ck_assert_int_eq(tc_map1(&c, 9), -ENOENT);     /* no slot, no request */
	ck_assert_uint_eq(tc_gfn(&c, 9).p2mt, P2M_PAGED);
	ck_assert_int_eq(tc_touch(&c, 0, 9, 0), -EAGAIN);
	v = tc_vcpu(&c, 0);
	ck_assert_uint_eq(v.in_waitqueue, 1);
	ck_assert_uint_eq(v.vm_event_pause_count, 0);
	ck_assert_uint_eq(tc_req_prod(&c), 8);
	ck_assert_int_eq(tc_disable(&c), -EBUSY);
	/* One response frees one slot (ignored: vCPU 0 is not paused, but it
	 * was consumed all the same). */
	tc_get_req(&c, 0, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	tc_expect_req(&c, 8, NULL, 9, 0, 1 /* VCPU_PAUSED */, TC_ANY, TC_ANY);
	v = tc_vcpu(&c, 0);
	ck_assert_uint_eq(v.in_waitqueue, 0);
	ck_assert_uint_eq(v.vm_event_pause_count, 1);
	ck_assert_int_eq(tc_disable(&c), 0);
	tc_close(&c);
}
END_TEST

/* mark_and_pause: a guest vCPU whose request leaves fewer free slots than
 * vCPUs is blocked; it runs again when responses free room. */
static void blocked_setup(struct tc *c)
{
	tc_ring_guest(c, &S, 32, 2, "xen-4.15");
	for (uint64_t g = 1; g <= 7; g++)
		tc_page_out(c, g, NULL);
	for (uint64_t g = 1; g <= 6; g++)
		ck_assert_int_eq(tc_map1(c, g), -ENOENT);
	ck_assert_int_eq(tc_release(c, 1, 7, 0), 0);  /* drop: 7 used */
	ck_assert_uint_eq(tc_wait_reqs(c, 7), 7);
	ck_assert_uint_eq(tc_vcpu(c, 1).blocked, 1);
	ck_assert_uint_eq(tc_vcpu(c, 1).vm_event_pause_count, 0);
	ck_assert_int_eq(tc_touch(c, 1, 10, 0), -EBUSY);
	ck_assert_uint_eq(tc_vcpu(c, 0).blocked, 0);
}

START_TEST(t_ring_blocked_wakes)
{
	struct tc c;
	struct lreq q;

	blocked_setup(&c);
	tc_get_req(&c, 0, &q);
	tc_answer(&c, &q);
	tc_notify_consumed(&c);
	ck_assert_uint_eq(tc_vcpu(&c, 1).blocked, 0);
	ck_assert_int_eq(tc_touch(&c, 1, 10, 0), 0);
	tc_close(&c);
}
END_TEST

/* Facts §5: disable unblocks vCPUs blocked only for ring space. */
START_TEST(t_ring_blocked_disable)
{
	struct tc c;

	blocked_setup(&c);
	ck_assert_int_eq(tc_disable(&c), 0);
	ck_assert_uint_eq(tc_vcpu(&c, 1).blocked, 0);
	ck_assert_int_eq(tc_touch(&c, 1, 10, 0), 0);
	tc_close(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-ring");
	TCase *t = check_tcase(s, "layout", 60);
	TCase *r = check_tcase(s, "responses", 30);
	TCase *f = check_tcase(s, "accounting", 30);

	tcase_add_loop_test(t, t_layout, 0, (int)nlits);
	tcase_add_test(r, t_rsp_wrong_version);
	tcase_add_test(r, t_rsp_wrong_reason);
	tcase_add_test(r, t_rsp_no_paused_flag);
	tcase_add_test(r, t_rsp_unsolicited);
	tcase_add_test(r, t_rsp_not_paused_per_release);
	tcase_add_test(r, t_rsp_invalid_vcpu);
	tcase_add_test(r, t_rsp_drop_flag);
	tcase_add_test(r, t_rsp_mem_event);
	tcase_add_test(r, t_rsp_overrun);
	tcase_add_test(r, t_notify_synchronous);
	tcase_add_test(r, t_resume_delay);
	tcase_add_test(f, t_ring_full_waitqueue);
	tcase_add_test(f, t_ring_blocked_wakes);
	tcase_add_test(f, t_ring_blocked_disable);
	return s;
}

int main(void)
{
	return simtest_main(suite);
}
