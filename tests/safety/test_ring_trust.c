/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nothing read from the paging ring is trusted, for every ring generation
 * (the fake hypervisor of tests/unit writes the ring as a hypervisor, or
 * a broken one, would):
 *   - indexes are bounded: a producer index more than a ring ahead of the
 *     consumer or of the responses, or behind it, stops the ring (-EPROTO)
 *     before any slot is read or written;
 *   - gfns are checked against the domain's size and vCPUs against its
 *     vCPUs: such a request is answered (its slot is freed), changes no
 *     state, runs no callback and is counted as a bad event;
 *   - unknown flag bits are reported in the log, naming the bits;
 *   - a request in another layout's version word or reason is refused;
 *   - a request that claims an evict failure for a gfn the library evicted
 *     itself does not make the pager throw its copy away.
 */
#include <check.h>
#include "checkrun.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_backend.h"

struct gen { int gen; uint32_t minor; };
static const struct gen gens[] = {
	{ XPAGE_GEN_MEM_EVENT_42, 2 }, { XPAGE_GEN_MEM_EVENT_45, 5 },
	{ XPAGE_GEN_VM_EVENT_V1, 6 },  { XPAGE_GEN_VM_EVENT_V2, 8 },
	{ XPAGE_GEN_VM_EVENT_V3, 11 }, { XPAGE_GEN_VM_EVENT_V4, 12 },
	{ XPAGE_GEN_VM_EVENT_V5, 13 }, { XPAGE_GEN_VM_EVENT_V6, 14 },
	{ XPAGE_GEN_VM_EVENT_V7, 15 },
};
#define NGENS (sizeof(gens) / sizeof(gens[0]))

static int populates, evict_fails, drops;

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp; (void)ev; (void)u;
	populates++;
}
static void cb_evict_fail(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)gfn; (void)u;
	evict_fails++;
}
static void cb_drop(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)gfn; (void)u;
	drops++;
}

static xpage_t *open_gen(const struct gen *g)
{
	struct xpage_callbacks cbs = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate, .evict_fail = cb_evict_fail,
		.drop = cb_drop);
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	xpage_t *xp;

	fake_reset();
	populates = evict_fails = drops = 0;
	fake_cfg.minor = g->minor;
	fake_cfg.vm_event_version = -1; /* inferred from the version */
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_msg(xp, "open as Xen 4.%u: %s", g->minor, strerror(errno));
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_int_eq((int)info.generation, g->gen);
	return xp;
}

static void page_out(xpage_t *xp, uint64_t gfn)
{
	int st;
	void *m;

	ck_assert_int_eq(xpage_nominate(xp, &gfn, 1, 0, &st), 1);
	m = xpage_map(xp, &gfn, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(xp, &gfn, 1, 0, &st), 1);
}

static uint32_t idx(uint32_t off)
{
	return __atomic_load_n((uint32_t *)(fake.ring + off), __ATOMIC_ACQUIRE);
}

static void set_req_prod(uint32_t v)
{
	__atomic_store_n((uint32_t *)fake.ring, v, __ATOMIC_RELEASE);
	if (write(fake.evt[1], "x", 1) < 0) { /* already pending */ }
}

static uint64_t bad_events(xpage_t *xp)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	return s.bad_events;
}

/* Corrupt indexes stop the ring before any slot is read or written. */
static void expect_stopped(xpage_t *xp, const char *what)
{
	uint8_t before[4096];
	uint32_t rsp = idx(XP_RING_OFF_RSP_PROD);
	uint64_t g = 100;
	int st;

	memcpy(before, fake.ring + 64, sizeof(before) - 64);
	ck_assert_msg(xpage_dispatch(xp, 0) == -EPROTO, "%s: not refused", what);
	ck_assert_msg(populates == 0 && evict_fails == 0 && drops == 0,
		      "%s: a callback ran", what);
	ck_assert_msg(idx(XP_RING_OFF_RSP_PROD) == rsp, "%s: responses "
		      "published", what);
	ck_assert_msg(memcmp(before, fake.ring + 64, sizeof(before) - 64) == 0,
		      "%s: a slot was written", what);
	ck_assert_msg(strstr(fake.log, "corrupt") != NULL, "%s: not logged",
		      what);
	/* stays stopped; no new page-out on it */
	ck_assert_int_eq(xpage_dispatch(xp, 0), -EPROTO);
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), -EPROTO);
}

START_TEST(indexes_bounded)
{
	for (size_t i = 0; i < NGENS; i++) {
		const struct xp_ring_layout *l = xp_ring_layout(gens[i].gen);
		xpage_t *xp;
		char what[96];

		/* a full ring is fine */
		xp = open_gen(&gens[i]);
		page_out(xp, 10);
		for (uint32_t k = 0; k < l->nr_slots; k++)
			fake_put_request(gens[i].gen, 10, 0, 0, XP_P2M_PAGED);
		ck_assert_int_eq(xpage_dispatch(xp, 0), (int)l->nr_slots);
		xpage_close(xp);

		/* req_prod a ring and one ahead */
		xp = open_gen(&gens[i]);
		set_req_prod(l->nr_slots + 1);
		snprintf(what, sizeof(what), "%s: req_prod ahead by %u",
			 l->name, l->nr_slots + 1);
		expect_stopped(xp, what);
		xpage_close(xp);

		/* req_prod far ahead (racing, wrapped) and behind */
		static const uint32_t far[] = { 0x80000000u, 0xffffffffu,
						0x10000u };
		for (size_t f = 0; f < 3; f++) {
			xp = open_gen(&gens[i]);
			set_req_prod(far[f]);
			snprintf(what, sizeof(what), "%s: req_prod %#x", l->name,
				 far[f]);
			expect_stopped(xp, what);
			xpage_close(xp);
		}

		/* a request held unanswered (a populate the pager has not
		 * loaded yet): the producer may not lap its slot either */
		xp = open_gen(&gens[i]);
		page_out(xp, 11);
		fake_put_request(gens[i].gen, 11, 0, XP_EV_VCPU_PAUSED,
				 XP_P2M_PAGED);
		ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
		ck_assert_int_eq(populates, 1);
		populates = 0;
		set_req_prod(1 + l->nr_slots);
		snprintf(what, sizeof(what), "%s: req_prod laps an unanswered "
			 "request", l->name);
		expect_stopped(xp, what);
		xpage_close(xp);
	}
}
END_TEST

START_TEST(gfns_and_vcpus_checked)
{
	static const uint32_t flagsets[] = {
		XP_EV_VCPU_PAUSED, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
		XP_EV_DROP_PAGE, XP_EV_FOREIGN, XP_EV_DROP_PAGE | XP_EV_EVICT_FAIL,
	};

	for (size_t i = 0; i < NGENS; i++) {
		xpage_t *xp = open_gen(&gens[i]);
		uint64_t nr = fake_cfg.nr_gfns;
		const uint64_t bad[] = { nr, nr + 1, 1ull << 40, UINT64_MAX,
					 UINT64_MAX - nr };
		uint64_t expect_bad = 0;
		struct xp_response r;

		page_out(xp, 12);
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			for (size_t f = 0; f < sizeof(flagsets) / sizeof(flagsets[0]);
			     f++) {
				fake_put_request(gens[i].gen, bad[b], 0, flagsets[f],
						 XP_P2M_PAGED);
				ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
				expect_bad++;
				ck_assert_int_eq(fake_take_response(gens[i].gen, &r,
								    NULL, NULL), 1);
				ck_assert_msg(r.flags & XP_EV_DROP_PAGE,
					      "gfn %#llx answered without DROP_PAGE",
					      (unsigned long long)bad[b]);
			}
		}
		/* a vCPU the guest does not have */
		fake_put_request(gens[i].gen, 12, fake_cfg.vcpus,
				 XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
		fake_put_request(gens[i].gen, 12, UINT32_MAX, XP_EV_VCPU_PAUSED,
				 XP_P2M_PAGED);
		ck_assert_int_eq(xpage_dispatch(xp, 0), 2);
		expect_bad += 2;
		for (int k = 0; k < 2; k++) {
			/* answered, asking for no page change */
			ck_assert_int_eq(fake_take_response(gens[i].gen, &r, NULL,
							    NULL), 1);
			ck_assert(r.flags & XP_EV_DROP_PAGE);
		}
		ck_assert_msg(populates == 0 && evict_fails == 0 && drops == 0,
			      "%s: a callback ran for a request outside the guest",
			      xp_ring_layout(gens[i].gen)->name);
		ck_assert_uint_eq(bad_events(xp), expect_bad);
		ck_assert_int_eq(xpage_gfn_state(xp, 12), XPAGE_GFN_EVICTED);
		xpage_close(xp);
	}
}
END_TEST

START_TEST(unknown_flags_reported)
{
	for (size_t i = 0; i < NGENS; i++) {
		const struct xp_ring_layout *l = xp_ring_layout(gens[i].gen);
		xpage_t *xp = open_gen(&gens[i]);
		uint8_t *slot = fake.ring + 64;
		uint32_t extra = 1u << 7, have;
		char want[64];

		page_out(xp, 13);
		fake_put_request(gens[i].gen, 13, 0, XP_EV_VCPU_PAUSED,
				 XP_P2M_PAGED);
		/* the first slot: an unknown bit in the flags word */
		have = xp_rd32(slot, l->off_flags);
		xp_wr32(slot, l->off_flags, have | extra);
		ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
		snprintf(want, sizeof(want), "unknown flag bits 0x%x", extra);
		ck_assert_msg(strstr(fake.log, want) != NULL,
			      "%s: not reported (log: %s)", l->name, fake.log);
		/* ...and the request still served */
		ck_assert_int_eq(populates, 1);
		if (l->era == XP_ERA_VM_EVENT) {
			/* an unknown paging-flags bit, too */
			uint64_t g = 13;
			uint8_t page[4096] = { 0 };
			void *b[1] = { page };
			int st;

			ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME,
						    &st), 1);
			page_out(xp, 14);
			fake_put_request(gens[i].gen, 14, 0, XP_EV_VCPU_PAUSED,
					 XP_P2M_PAGED);
			slot = fake.ring + 64 + l->slot_size;
			have = xp_rd32(slot, l->off_pflags);
			xp_wr32(slot, l->off_pflags, have | (1u << 9));
			ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
			snprintf(want, sizeof(want), "unknown flag bits 0x%x",
				 1u << 9);
			ck_assert_msg(strstr(fake.log, want) != NULL,
				      "%s: paging flag not reported", l->name);
		}
		xpage_close(xp);
	}
}
END_TEST

START_TEST(foreign_version_or_reason_refused)
{
	for (size_t i = 0; i < NGENS; i++) {
		const struct xp_ring_layout *l = xp_ring_layout(gens[i].gen);
		xpage_t *xp;

		if (l->era != XP_ERA_VM_EVENT)
			continue; /* mem_event slots carry neither */
		for (int what = 0; what < 2; what++) {
			xp = open_gen(&gens[i]);
			page_out(xp, 15);
			/* a first good request confirms the generation */
			fake_put_request(gens[i].gen, 15, 0, XP_EV_VCPU_PAUSED,
					 XP_P2M_PAGED);
			ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
			populates = 0;
			fake_put_request(gens[i].gen, 15, 1, XP_EV_VCPU_PAUSED,
					 XP_P2M_PAGING_IN);
			uint8_t *slot = fake.ring + 64 + l->slot_size;

			if (what == 0)
				xp_wr32(slot, l->off_version, l->version + 40);
			else
				xp_wr32(slot, l->off_reason, 1); /* not paging */
			ck_assert_msg(xpage_dispatch(xp, 0) == -EPROTO,
				      "%s: a request with a wrong %s accepted",
				      l->name, what ? "reason" : "version word");
			ck_assert_int_eq(populates, 0);
			xpage_close(xp);
		}
	}
}
END_TEST

/*
 * The library evicted gfn 16 itself (nominate, evict: 0), so its frame is
 * gone; a request that says "evict failed" for it (EVICT_FAIL, or p2m type
 * paging_out) cannot be true. If the library believed it, it would call
 * evict_fail, and a pager drops its write-out: the only copy of the page.
 * Such a request must not cost the guest its page (the library may check
 * with the hypervisor, e.g. a prep without data succeeds only where the
 * frame is still there).
 */
START_TEST(false_evict_fail_keeps_the_data)
{
	for (size_t i = 0; i < NGENS; i++) {
		const struct xp_ring_layout *l = xp_ring_layout(gens[i].gen);

		for (int how = 0; how < 2; how++) {
			xpage_t *xp = open_gen(&gens[i]);
			int s;

			page_out(xp, 16);
			if (how == 0)
				fake_put_request(gens[i].gen, 16, 0,
						 XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
						 XP_P2M_PAGING_OUT);
			else
				fake_put_request(gens[i].gen, 16, 0,
						 XP_EV_VCPU_PAUSED, XP_P2M_PAGING_OUT);
			ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
			s = xpage_gfn_state(xp, 16);
			ck_assert_msg(evict_fails == 0 &&
				      (s == XPAGE_GFN_EVICTED ||
				       s == XPAGE_GFN_PAGING_IN),
				      "%s: a request with %s for a gfn the library "
				      "evicted itself made it call evict_fail (%d) "
				      "and hold the gfn as state %d: the pager "
				      "drops the only copy of the page", l->name,
				      how ? "p2m type paging_out" : "EVICT_FAIL",
				      evict_fails, s);
			xpage_close(xp);
		}
	}
}
END_TEST

/*
 * A request the hypervisor could not have sent in that order (a drop, or
 * an evict failure, for a gfn the pager has loaded but not yet resumed)
 * is still answered without breaking the library's counters: found by
 * tests/fuzz/fuzz_ring (evicted_now went to 2^64 - 1; xpage_close then
 * warns about 18446744073709551615 gfns still paged out).
 */
START_TEST(late_drop_keeps_counts)
{
	for (size_t i = 0; i < NGENS; i++) {
		for (int how = 0; how < 2; how++) {
			xpage_t *xp = open_gen(&gens[i]);
			struct xpage_stats s = XPAGE_OPTS(xpage_stats);
			uint8_t page[4096] = { 0 };
			void *b[1] = { page };
			uint64_t g = 17;
			int st;

			page_out(xp, g);
			fake_put_request(gens[i].gen, g, 0, XP_EV_VCPU_PAUSED,
					 XP_P2M_PAGED);
			ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
			ck_assert_int_eq(xpage_load(xp, &g, 1, b, 0, &st), 1);
			ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_LOADED);
			fake_put_request(gens[i].gen, g, 1, how ? XP_EV_VCPU_PAUSED |
					 XP_EV_EVICT_FAIL : XP_EV_DROP_PAGE,
					 XP_P2M_PAGING_IN);
			ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
			ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
			ck_assert_msg(s.evicted_now <= 1, "%s: a %s for a loaded "
				      "gfn: evicted_now %llu",
				      xp_ring_layout(gens[i].gen)->name,
				      how ? "EVICT_FAIL" : "drop",
				      (unsigned long long)s.evicted_now);
			xpage_close(xp);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring-trust");
	TCase *tc = check_tcase(s, "ring", 60);

	tcase_add_test(tc, indexes_bounded);
	tcase_add_test(tc, gfns_and_vcpus_checked);
	tcase_add_test(tc, unknown_flags_reported);
	tcase_add_test(tc, foreign_version_or_reason_refused);
	tcase_add_test(tc, false_evict_fail_keeps_the_data);
	tcase_add_test(tc, late_drop_keeps_counts);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
