/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library does so that the hypervisor's own weaknesses cannot
 * lose the guest (docs/xen-hazards.md), against the fake hypervisor:
 *  - gfns the hypervisor touches itself are never nominated or evicted;
 *  - a vCPU's repeated requests for one gfn hold one ring slot, not many;
 *  - XPAGE_OPEN_KEEP_PAUSED holds the domain paused until xpage_unpause.
 */
#include <check.h>
#include "checkrun.h"
#include <time.h>
#include "fake_backend.h"

#define GEN7 XPAGE_GEN_VM_EVENT_V7

static int populates;

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp, (void)ev, (void)u;
	populates++;
}

static struct xpage_callbacks cbs;

static void setup(void)
{
	fake_reset();
	populates = 0;
	cbs = XPAGE_OPTS(xpage_callbacks, .populate = cb_populate);
}

static struct xpage_stats stats(xpage_t *xp)
{
	struct xpage_stats st = XPAGE_OPTS(xpage_stats);

	ck_assert_int_eq(xpage_get_stats(xp, &st), 0);
	return st;
}

/* A handle whose hypervisor touches gfns 11 and 13 itself. */
static xpage_t *open_with_hv_11_13(void)
{
	xpage_t *xp;

	setup();
	fake_cfg.hv_gfns[0] = 11;
	fake_cfg.hv_gfns[1] = 13;
	fake_cfg.hv_n = 2;
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_ptr_nonnull(xp);
	return xp;
}

START_TEST(hv_gfns_never_nominated)
{
	uint64_t g[4] = { 10, 11, 12, 13 };
	int st[4];
	xpage_t *xp;

	xp = open_with_hv_11_13();
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 2);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(st[2], 0);
	ck_assert_int_eq(st[3], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 11), XPAGE_GFN_RESIDENT);
	ck_assert_uint_eq(fake.ops, 2); /* the hypervisor saw only 10, 12 */
	ck_assert_uint_eq(stats(xp).hv_refused, 2);
	xpage_close(xp);
}
END_TEST

/* xpage_relocate moves the hypervisor's own gfns too, with the guest
 * paused for their round only: none is evicted while the guest runs. */
START_TEST(hv_gfns_relocated_paused)
{
	uint64_t g[4] = { 10, 11, 12, 13 };
	int st[4], pauses, unpauses;
	xpage_t *xp;

	xp = open_with_hv_11_13();
	pauses = fake.pauses;
	unpauses = fake.unpauses;
	ck_assert_int_eq(fake.paused_now, 0);
	ck_assert_int_eq(xpage_relocate(xp, g, 4, 0, st), 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(st[i], 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(xpage_gfn_state(xp, g[i]), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(fake.pauses - pauses, 1);
	ck_assert_int_eq(fake.unpauses - unpauses, 1);
	ck_assert_int_eq(fake.hv_evicts_running, 0);
	/* nominate keeps refusing them while the guest runs */
	ck_assert_int_eq(xpage_nominate(xp, &g[1], 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EBUSY);
	xpage_close(xp);
}
END_TEST

/* A gfn nominated before it became one the hypervisor touches (a page
 * table the guest switched to) is not evicted: -EBUSY, still nominated. */
START_TEST(hv_gfns_never_evicted)
{
	struct timespec ts = { 0, 60 * 1000 * 1000 };
	uint64_t g[2] = { 20, 21 };
	int st[2];
	void *m;
	xpage_t *xp;

	setup();
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_int_eq(xpage_nominate(xp, g, 2, 0, st), 2);
	m = xpage_map(xp, g, 2, 0, st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, 2), 0);
	fake_cfg.hv_gfns[0] = 21;
	fake_cfg.hv_n = 1;
	nanosleep(&ts, NULL); /* the set is asked for again after 50 ms */
	ck_assert_int_eq(xpage_evict(xp, g, 2, 0, st), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 21), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(xpage_unnominate(xp, &g[1], 1, 0, st), 1);
	xpage_close(xp);
}
END_TEST

/* A slow answer (a paused vCPU under emulation) is asked for again only
 * after ten times what it took: the look costs at most a tenth. */
START_TEST(hv_gfns_slow_answer_asked_less)
{
	uint64_t g = 60;
	int st;
	xpage_t *xp;
	struct timespec ts0, ts;

	setup();
	fake_cfg.hv_delay_ms = 20;
	xp = fake_open(&cbs, 0, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	do {
		ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
		ck_assert_int_eq(xpage_unnominate(xp, &g, 1, 0, &st), 1);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while ((ts.tv_sec - ts0.tv_sec) * 1000 +
		 (ts.tv_nsec - ts0.tv_nsec) / 1000000 < 1000);
	/* every 200 ms at most (50 ms with a quick answer): 6 in a second */
	ck_assert_int_le(fake.hv_calls, 7);
	ck_assert_int_ge(fake.hv_calls, 3);
	xpage_close(xp);
}
END_TEST

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A gfn already out that joins the set (a stack the guest moved to) is
 * named once, when it joins, not at every look. */
START_TEST(hv_gfn_out_warned_once)
{
	struct timespec ts = { 0, 60 * 1000 * 1000 };
	uint64_t g = 50, other = 51;
	int st;
	void *m;
	xpage_t *xp;

	setup();
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	m = xpage_map(xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(xp, &g, 1, 0, &st), 1);
	fake_cfg.hv_gfns[0] = 50;
	fake_cfg.hv_n = 1;
	for (int i = 0; i < 3; i++) {
		nanosleep(&ts, NULL);
		ck_assert_int_eq(xpage_nominate(xp, &other, 1, 0, &st), 1);
		ck_assert_int_eq(xpage_unnominate(xp, &other, 1, 0, &st), 1);
	}
	ck_assert_int_eq(count_of(fake.log, "are paged out (the first 0x32)"),
			 1);
	xpage_close(xp);
}
END_TEST

/* The set is asked for again only when 50 ms old; a backend that cannot
 * tell is asked once, and the log says nothing is held back. */
START_TEST(hv_gfns_asked_sparingly)
{
	uint64_t g = 30;
	int st;
	xpage_t *xp;

	setup();
	xp = fake_open(&cbs, 0, 0, 0, 0);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
		ck_assert_int_eq(xpage_unnominate(xp, &g, 1, 0, &st), 1);
	}
	ck_assert_int_le(fake.hv_calls, 2);
	xpage_close(xp);

	setup();
	fake_cfg.hv_rc = -EOPNOTSUPP;
	xp = fake_open(&cbs, 0, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		struct timespec ts = { 0, 60 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
		ck_assert_int_eq(xpage_unnominate(xp, &g, 1, 0, &st), 1);
	}
	ck_assert_int_eq(fake.hv_calls, 1);
	ck_assert_ptr_nonnull(strstr(fake.log, "none are held back"));
	xpage_close(xp);
}
END_TEST

/* Xen's scheduler raises one request per copy into a vCPU's runstate
 * area while the vCPU's first request is unanswered: the repeats are
 * answered at once, one request per vCPU and gfn stays held. */
START_TEST(repeated_requests_hold_one_slot)
{
	struct xp_response r;
	uint64_t g = 40;
	uint8_t page[4096] = { 0 };
	void *b[1] = { page };
	int st, n = 0;
	void *m;
	xpage_t *xp;

	setup();
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	m = xpage_map(xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(xp, &g, 1, 0, &st), 1);
	for (int i = 0; i < 4; i++)
		fake_put_request(GEN7, g, 1, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	fake_put_request(GEN7, g, 2, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 5);
	ck_assert_int_eq(populates, 1);
	while (fake_take_response(GEN7, &r, NULL, NULL)) {
		ck_assert_uint_eq(r.vcpu, 1);
		n++;
	}
	ck_assert_int_eq(n, 3); /* vCPU 1's repeats; vCPU 2's first waits */
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	n = 0;
	while (fake_take_response(GEN7, &r, NULL, NULL))
		n++;
	ck_assert_int_eq(n, 2); /* one held request per vCPU */
	xpage_close(xp);
}
END_TEST

START_TEST(keep_paused)
{
	xpage_t *xp;

	setup();
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(fake.paused_now, 1);
	ck_assert_int_eq(xpage_unpause(xp), 0);
	ck_assert_int_eq(fake.paused_now, 0);
	ck_assert_int_eq(xpage_unpause(xp), -EALREADY);
	xpage_close(xp);
	ck_assert_int_eq(fake.paused_now, 0);

	/* A takeover: paused from before the old ring goes until the pager
	 * says so. */
	setup();
	fake_cfg.enable_busy_once = 1;
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER | XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(fake.paused_now, 1);
	xpage_close(xp); /* close drops it */
	ck_assert_int_eq(fake.paused_now, 0);

	/* Detach keeping the domain paused hands the held pause over. */
	setup();
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_int_eq(xpage_detach(xp, 1), 0);
	ck_assert_int_eq(fake.paused_now, 1);
	setup();
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_KEEP_PAUSED);
	ck_assert_int_eq(xpage_detach(xp, 0), 0);
	ck_assert_int_eq(fake.paused_now, 0);

	/* A failed open leaves nothing paused. */
	setup();
	fake_cfg.enable_rc = -ENODEV;
	ck_assert_ptr_null(fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_KEEP_PAUSED));
	ck_assert_int_eq(fake.paused_now, 0);
	ck_assert_int_eq(xpage_unpause(NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hazards");
	TCase *t = tcase_create("hazards");

	tcase_add_test(t, hv_gfns_never_nominated);
	tcase_add_test(t, hv_gfns_relocated_paused);
	tcase_add_test(t, hv_gfns_never_evicted);
	tcase_add_test(t, hv_gfns_asked_sparingly);
	tcase_add_test(t, hv_gfn_out_warned_once);
	tcase_add_test(t, hv_gfns_slow_answer_asked_less);
	tcase_add_test(t, repeated_requests_hold_one_slot);
	tcase_add_test(t, keep_paused);
	suite_add_tcase(s, t);
	return check_run(s);
}
