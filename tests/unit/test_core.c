/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library core against a fake hypervisor: option validation,
 * negotiation, dispatch (coalescing, EVICT_FAIL native and synthesised,
 * drops, corrupt rings), batch calls in wrong states, takeover order.
 */
#include <check.h>
#include "checkrun.h"
#include <stdlib.h>
#include "fake_backend.h"

#define GEN7 XPAGE_GEN_VM_EVENT_V7

struct seen {
	int populates, evict_fails, drops;
	uint64_t last_gfn;
	uint32_t last_flags, last_vcpu;
	int load_in_cb;
	int reenter_rc;
};
static struct seen seen;

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)u;
	seen.populates++;
	seen.last_gfn = ev->gfn;
	seen.last_flags = ev->flags;
	seen.last_vcpu = ev->vcpu;
	if (seen.load_in_cb) {
		static uint8_t page[4096];
		void *b[1] = { page };
		int st;

		xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st);
		ck_assert_int_eq(st, 0);
		seen.reenter_rc = xpage_dispatch(xp, 0);
	}
}
static void cb_evict_fail(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)u;
	seen.evict_fails++;
	seen.last_gfn = gfn;
}
static void cb_drop(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)u;
	seen.drops++;
	seen.last_gfn = gfn;
}

static struct xpage_callbacks cbs;

static void setup(void)
{
	fake_reset();
	memset(&seen, 0, sizeof(seen));
	cbs = XPAGE_OPTS(xpage_callbacks, .populate = cb_populate,
			 .evict_fail = cb_evict_fail, .drop = cb_drop);
}

/* Map and unmap @n nominated gfns, as a pager writing them out does. */
static void hold(xpage_t *xp, const uint64_t *g, size_t n)
{
	int st[8];
	void *m = xpage_map(xp, g, n, 0, st);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, n), 0);
}

/* Nominate, map and evict @gfn through the library. */
static void page_out(xpage_t *xp, uint64_t gfn)
{
	int st;

	ck_assert_int_eq(xpage_nominate(xp, &gfn, 1, 0, &st), 1);
	hold(xp, &gfn, 1);
	ck_assert_int_eq(xpage_evict(xp, &gfn, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_gfn_state(xp, gfn), XPAGE_GFN_EVICTED);
}

/* ---------------------------------------------------------------- opts */

START_TEST(opts_validation)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts, .domid = 1);
	unsigned char big[sizeof(o) + 16];
	struct xpage_callbacks c = cbs;

	errno = 0;
	ck_assert_ptr_null(xp_open_with(&fake_ops, NULL, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	o.sz = 0;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);

	/* A newer caller's larger struct: zero tail accepted, else E2BIG. */
	memset(big, 0, sizeof(big));
	o = XPAGE_OPTS(xpage_open_opts, .domid = 1);
	memcpy(big, &o, sizeof(o));
	*(size_t *)big = sizeof(big);
	xpage_t *xp = xp_open_with(&fake_ops, (void *)big, &cbs);
	ck_assert_ptr_nonnull(xp);
	xpage_close(xp);
	big[sizeof(o) + 3] = 1;
	ck_assert_ptr_null(xp_open_with(&fake_ops, (void *)big, &cbs));
	ck_assert_int_eq(errno, E2BIG);

	/* A size no release ever had (shorter than 1.0's, or ending inside
	 * a field) is refused rather than half read. */
	o = XPAGE_OPTS(xpage_open_opts, .domid = 1);
	o.sz = offsetof(struct xpage_open_opts, ages);
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	o.sz = offsetof(struct xpage_open_opts, log_fn) + 3;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	o = XPAGE_OPTS(xpage_open_opts, .domid = 1);
	xpage_t *xp2 = xp_open_with(&fake_ops, &o, &cbs);
	ck_assert_ptr_nonnull(xp2);
	ck_assert_int_eq(xpage_get_info(xp2, &info), 0);
	ck_assert_uint_eq(info.age, 1);
	info.sz = sizeof(info) - 8;
	ck_assert_int_eq(xpage_get_info(xp2, &info), -EINVAL);
	xpage_close(xp2);

	/* No populate callback; unknown flags, ages, features. */
	c.populate = NULL;
	o = XPAGE_OPTS(xpage_open_opts, .domid = 1);
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &c));
	ck_assert_int_eq(errno, EINVAL);
	o.flags = 1u << 9;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	o.flags = 0;
	o.ages = 1u << 5;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	o.ages = 0;
	o.features_wanted = 1ull << 40;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
	o.features_wanted = 0;
	o.backend = 7;
	ck_assert_ptr_null(xp_open_with(&fake_ops, &o, &cbs));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(info_and_stats_sizes)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xpage_stats st = XPAGE_OPTS(xpage_stats);
	unsigned char big[sizeof(st) + 8];

	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(xpage_get_stats(xp, &st), 0);
	ck_assert_uint_eq(st.sz, sizeof(st));
	memset(big, 0, sizeof(big));
	*(size_t *)big = sizeof(big);
	big[sizeof(st) + 1] = 1;
	ck_assert_int_eq(xpage_get_stats(xp, (void *)big), -E2BIG);
	/* Tail bytes past this library's struct that are zero are fine. */
	memset(big, 0, sizeof(big));
	*(size_t *)big = sizeof(big);
	uint64_t g = 1;
	int s;
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &s), 1);
	ck_assert_int_eq(xpage_get_stats(xp, (void *)big), 0);
	memcpy(&st, big, sizeof(st));
	ck_assert_uint_eq(st.nominated, 1);
	ck_assert_uint_eq(*(size_t *)big, sizeof(big)); /* sz kept */
	ck_assert_int_eq(xpage_get_stats(NULL, &st), -EINVAL);

	/* A pager built against 1.0's header (its struct ends before
	 * hv_refused) still gets its counters, and nothing past them. */
	struct xpage_stats old;
	size_t old_sz = offsetof(struct xpage_stats, hv_refused);

	memset(&old, 0xa5, sizeof(old));
	old.sz = old_sz;
	ck_assert_int_eq(xpage_get_stats(xp, &old), 0);
	ck_assert_uint_eq(old.sz, old_sz);
	ck_assert_uint_eq(old.nominated, 1);
	ck_assert_uint_eq(old.hv_refused, 0xa5a5a5a5a5a5a5a5ull);
	/* A size between 1.0's and this one's ends inside a field. */
	old.sz = old_sz + 4;
	ck_assert_int_eq(xpage_get_stats(xp, &old), -EINVAL);
	xpage_close(xp);
}
END_TEST

/* ----------------------------------------------------------- negotiate */

START_TEST(generation_from_query_or_version)
{
	struct { uint32_t minor; int query; int gen; } t[] = {
		{ 17, 7, XPAGE_GEN_VM_EVENT_V7 }, { 13, 5, XPAGE_GEN_VM_EVENT_V5 },
		{ 12, -1, XPAGE_GEN_VM_EVENT_V4 }, { 11, -1, XPAGE_GEN_VM_EVENT_V3 },
		{ 8, -1, XPAGE_GEN_VM_EVENT_V2 }, { 10, -1, XPAGE_GEN_VM_EVENT_V2 },
		{ 6, -1, XPAGE_GEN_VM_EVENT_V1 }, { 5, -1, XPAGE_GEN_MEM_EVENT_45 },
		{ 4, -1, XPAGE_GEN_MEM_EVENT_42 }, { 2, -1, XPAGE_GEN_MEM_EVENT_42 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct xpage_info info = XPAGE_OPTS(xpage_info);
		setup();
		fake_cfg.minor = t[i].minor;
		fake_cfg.vm_event_version = t[i].query;
		xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
		ck_assert_ptr_nonnull(xp);
		ck_assert_int_eq(xpage_get_info(xp, &info), 0);
		ck_assert_int_eq(info.generation, t[i].gen);
		ck_assert_int_eq(!!(info.hv_features & XPAGE_FEAT_VERSION_QUERY),
				 t[i].query > 0);
		ck_assert_str_eq(info.backend, "fake");
		ck_assert_ptr_null(info.xen_library); /* the fake loaded none */
		xpage_close(xp);
	}
	setup();
	fake_cfg.minor = 1;
	fake_cfg.vm_event_version = -1;
	ck_assert_ptr_null(fake_open(&cbs, 0, 0, 0, 0));
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(fake.log, "older than 4.2"));
}
END_TEST

START_TEST(ages)
{
	struct xpage_info info = XPAGE_OPTS(xpage_info);

	fake_cfg.age = 2;
	ck_assert_ptr_null(fake_open(&cbs, XPAGE_AGE_1, 0, 0, 0));
	ck_assert_int_eq(errno, ENOEXEC);
	ck_assert_ptr_nonnull(strstr(fake.log, "no common age"));
	ck_assert_int_eq(fake.enables, 0); /* refused before enabling */

	xpage_t *xp = fake_open(&cbs, XPAGE_AGES_ALL, 0, 0, 0);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_uint_eq(info.age, 2);
	ck_assert_uint_eq(fake.declared_age, 2);
	ck_assert(!(info.hv_features & XPAGE_FEAT_EVICT_FAIL_HV));
	xpage_close(xp);

	setup();
	xp = fake_open(&cbs, XPAGE_AGES_ALL, 0, 0, 0);
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_uint_eq(info.age, 1);
	ck_assert_uint_eq(fake.declared_age, 0); /* no notion: declare none */
	ck_assert(info.hv_features & XPAGE_FEAT_EVICT_FAIL_HV);
	xpage_close(xp);
}
END_TEST

START_TEST(features)
{
	struct xpage_info info = XPAGE_OPTS(xpage_info);

	ck_assert_ptr_null(fake_open(&cbs, 0, XPAGE_FEAT_MULTICALL, 0, 0));
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(fake.log, "'multicall'"));

	setup();
	fake_cfg.multicall = 1;
	xpage_t *xp = fake_open(&cbs, 0, XPAGE_FEAT_DROP, XPAGE_FEAT_MULTICALL, 0);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_uint_eq(info.features, XPAGE_FEAT_DROP | XPAGE_FEAT_MULTICALL);
	/* 100 nominations in one trap. */
	uint64_t g[100];
	int st[100];
	for (int i = 0; i < 100; i++)
		g[i] = (uint64_t)i;
	ck_assert_int_eq(xpage_nominate(xp, g, 100, 0, st), 100);
	ck_assert_uint_eq(fake.traps, 1);
	/* The backend gave multicalls up (the hypervisor refused one): the
	 * info says what is in force now. */
	fake_cfg.multicall = 0;
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_uint_eq(info.features, XPAGE_FEAT_DROP);
	ck_assert_uint_eq(info.hv_features & XPAGE_FEAT_MULTICALL,
			  XPAGE_FEAT_MULTICALL);
	xpage_close(xp);

	/* Not wanted: one trap per gfn. */
	setup();
	fake_cfg.multicall = 1;
	xp = fake_open(&cbs, 0, 0, 0, 0);
	ck_assert_int_eq(xpage_nominate(xp, g, 100, 0, st), 100);
	ck_assert_uint_eq(fake.traps, 100);
	xpage_close(xp);
	ck_assert_ptr_null(xpage_feature_name(3));
	ck_assert_str_eq(xpage_feature_name(XPAGE_FEAT_MULTICALL), "multicall");
}
END_TEST

START_TEST(enable_errors)
{
	int errs[] = { ENOSYS, ENODEV, EMLINK, EXDEV, EOPNOTSUPP, EINVAL };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		setup();
		fake_cfg.enable_rc = -errs[i];
		ck_assert_ptr_null(fake_open(&cbs, 0, 0, 0, 0));
		ck_assert_int_eq(errno, errs[i]);
		ck_assert_ptr_nonnull(strstr(fake.log, xpage_strerror(errs[i])));
	}
	setup();
	fake_cfg.pv = 1;
	ck_assert_ptr_null(fake_open(&cbs, 0, 0, 0, 0));
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_ptr_nonnull(strstr(fake.log, "PV guest"));
	ck_assert_int_eq(fake.enables, 0);
	setup();
	fake_cfg.enable_busy_once = 1;
	ck_assert_ptr_null(fake_open(&cbs, 0, 0, 0, 0));
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_ptr_nonnull(strstr(fake.log, "XPAGE_OPEN_TAKEOVER"));
	ck_assert_int_eq(fake.disables, 0); /* never touches another's ring */
}
END_TEST

START_TEST(takeover_order)
{
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	struct xp_response r;
	int answered = 0;

	fake_cfg.enable_busy_once = 1;
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(xpage_get_info(xp, &info), 0);
	ck_assert_uint_eq(info.took_over, 1);
	/* paused throughout: one pause for the takeover, and each of the
	 * three enables pauses until the ring header is initialised */
	ck_assert_int_eq(fake.pauses, 4);
	ck_assert_int_eq(fake.unpauses, 4);
	/* old ring disabled, fresh ring for the answers, then a balanced one */
	ck_assert_int_eq(fake.disables, 2);
	ck_assert_int_eq(fake.enables, 3);
	/* The old ring got no answers; on the fresh one every vCPU was
	 * released (VCPU_PAUSED|DROP_PAGE: no page touched). */
	ck_assert_uint_eq(fake.released_at_disable[0], 0);
	ck_assert_uint_eq(fake.released_at_disable[1], 0xf);
	/* The kept ring starts balanced. */
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 0);
	(void)answered;
	xpage_close(xp);

	/* More vCPUs than ring slots: answered one ring's worth at a time. */
	setup();
	fake_cfg.vcpus = 12;
	fake_cfg.enable_busy_once = 1;
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	ck_assert_ptr_nonnull(xp);
	ck_assert_uint_eq(fake.released_at_disable[1] | fake.released_at_disable[2],
			  0xfff);
	ck_assert_int_eq(fake.enables, 4);
	xpage_close(xp);

	/* Xen 4.2-4.4 would unpause a vCPU that was not paused: no answers. */
	setup();
	fake_cfg.minor = 4;
	fake_cfg.vm_event_version = -1;
	fake.generation = XPAGE_GEN_MEM_EVENT_42;
	fake_cfg.enable_busy_once = 1;
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	ck_assert_ptr_nonnull(xp);
	ck_assert_uint_eq(fake.released_at_disable[1], 0);
	ck_assert_ptr_nonnull(strstr(fake.log, "stay paused"));
	xpage_close(xp);
}
END_TEST

/* ------------------------------------------------------------ dispatch */

START_TEST(coalesced_populate)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;
	uint32_t ver, reason, vcpus = 0;
	uint64_t g = 10;
	uint8_t page[4096];
	void *b[1] = { page };
	int st;

	page_out(xp, g);
	for (uint32_t v = 0; v < 3; v++)
		fake_put_request(GEN7, g, v, XP_EV_VCPU_PAUSED,
				 v ? XP_P2M_PAGING_IN : XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 3);
	ck_assert_int_eq(seen.populates, 1);
	ck_assert_uint_eq(seen.last_gfn, g);
	ck_assert_uint_eq(seen.last_flags, XPAGE_POPULATE_PAUSED);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 0);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_PAGING_IN);

	ck_assert_int_eq(xpage_resume(xp, &g, 1, 0, &st), 0);
	ck_assert_int_eq(st, -EINVAL); /* not loaded yet */
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, 0, &st), 1);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_LOADED);
	ck_assert_int_eq(xpage_resume(xp, &g, 1, 0, &st), 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(fake_take_response(GEN7, &r, &ver, &reason), 1);
		ck_assert_uint_eq(r.gfn, g);
		ck_assert_uint_eq(r.flags, XP_EV_VCPU_PAUSED);
		ck_assert_uint_eq(ver, 7);
		ck_assert_uint_eq(reason, 3);
		vcpus |= 1u << r.vcpu;
	}
	ck_assert_uint_eq(vcpus, 7);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 0);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);

	/* A late duplicate for a gfn already answered: released at once. */
	fake_put_request(GEN7, g, 3, XP_EV_VCPU_PAUSED, XP_P2M_PAGING_IN);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.populates, 1);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
	ck_assert_uint_eq(r.vcpu, 3);
	ck_assert_int_eq(xpage_resume(xp, &g, 1, 0, &st), 0);
	ck_assert_int_eq(st, -EALREADY);

	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	xpage_get_stats(xp, &s);
	ck_assert_uint_eq(s.coalesced, 3);
	ck_assert_uint_eq(s.stale, 1); /* the late duplicate */
	ck_assert_uint_eq(s.populates, 1);
	ck_assert_uint_eq(s.evicted_now, 0);
	xpage_close(xp);
}
END_TEST

START_TEST(load_and_resume_from_callback)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;

	page_out(xp, 33);
	seen.load_in_cb = 1;
	fake_put_request(GEN7, 33, 1, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 1000), 1);
	ck_assert_int_eq(seen.reenter_rc, -EINVAL); /* dispatch not re-entrant */
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
	ck_assert_uint_eq(r.gfn, 33);
	ck_assert_int_eq(xpage_gfn_state(xp, 33), XPAGE_GFN_RESIDENT);
	xpage_close(xp);
}
END_TEST

START_TEST(evict_fail_native_and_synth)
{
	for (int age = 1; age <= 2; age++) {
		setup();
		fake_cfg.age = age == 2 ? 2 : 0;
		xpage_t *xp = fake_open(&cbs, XPAGE_AGES_ALL, 0, 0, 0);
		struct xpage_stats s = XPAGE_OPTS(xpage_stats);
		struct xp_response r;
		uint64_t g = 20;
		int st;

		ck_assert_ptr_nonnull(xp);
		ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
		if (age == 2)
			ck_assert_int_eq(fake.maps, 1); /* mapped to nominate */
		fake_put_request(GEN7, g, 0, XP_EV_VCPU_PAUSED |
				 (age == 1 ? XP_EV_EVICT_FAIL : 0), XP_P2M_PAGING_OUT);
		ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
		ck_assert_int_eq(seen.evict_fails, 1);
		ck_assert_int_eq(seen.populates, 0);
		/* Answered at once: the frame never left. */
		ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
		ck_assert_uint_eq(r.flags & XP_EV_VCPU_PAUSED, XP_EV_VCPU_PAUSED);
		ck_assert_uint_eq(r.flags & XP_EV_DROP_PAGE, 0);
		ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
		ck_assert_int_eq(xpage_evict(xp, &g, 1, 0, &st), 0);
		ck_assert_int_eq(st, -EINVAL);
		xpage_get_stats(xp, &s);
		ck_assert_uint_eq(age == 2 ? s.evict_fails_synth : s.evict_fails, 1);
		xpage_close(xp);
	}
}
END_TEST

START_TEST(drops)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;
	uint64_t g = 40;
	int n = 0;

	page_out(xp, g);
	fake_put_request(GEN7, g, 1, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	/* The guest releases it while a vCPU waits: the vCPU is released
	 * with DROP_PAGE, the drop itself answered, the pager told. */
	fake_put_request(GEN7, g, 0, XP_EV_DROP_PAGE, XP_P2M_PAGING_IN);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.drops, 1);
	ck_assert_uint_eq(seen.last_gfn, g);
	while (fake_take_response(GEN7, &r, NULL, NULL)) {
		n++;
		if (r.vcpu == 1)
			ck_assert_uint_eq(r.flags, XP_EV_VCPU_PAUSED | XP_EV_DROP_PAGE);
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	xpage_get_stats(xp, &s);
	ck_assert_uint_eq(s.evicted_now, 0);
	xpage_close(xp);
}
END_TEST

START_TEST(foreign_populate)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;

	page_out(xp, 50);
	fake_put_request(GEN7, 50, 0, XP_EV_FOREIGN, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.populates, 1);
	ck_assert_uint_eq(seen.last_flags, XPAGE_POPULATE_FOREIGN);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
	ck_assert_uint_eq(r.flags & XP_EV_VCPU_PAUSED, 0);
	xpage_close(xp);
}
END_TEST

START_TEST(bad_gfn_and_vcpu)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	fake_put_request(GEN7, 1ull << 40, 0, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	fake_put_request(GEN7, 5, 99, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 2);
	ck_assert_int_eq(seen.populates, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
		ck_assert_uint_eq(r.flags & XP_EV_DROP_PAGE, XP_EV_DROP_PAGE);
	}
	ck_assert_int_eq(xpage_gfn_state(xp, 5), XPAGE_GFN_RESIDENT);
	xpage_get_stats(xp, &s);
	ck_assert_uint_eq(s.bad_events, 2);
	xpage_close(xp);
}
END_TEST

START_TEST(corrupt_ring)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g = 60;
	uint8_t page[4096];
	void *b[1] = { page };
	int st;

	page_out(xp, g);
	/* req_prod races ahead by more than the ring holds. */
	__atomic_store_n((uint32_t *)fake.ring, 100u, __ATOMIC_RELEASE);
	ck_assert_int_eq(xpage_dispatch(xp, 0), -EPROTO);
	ck_assert_int_eq(seen.populates, 0);
	ck_assert_ptr_nonnull(strstr(fake.log, "corrupt"));
	ck_assert_int_eq(xpage_dispatch(xp, 0), -EPROTO);
	/* No more page-outs on a ring that cannot be trusted... */
	g = 61;
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), -EPROTO);
	/* ...but the guest's data can still go back. */
	g = 60;
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, 0, &st), 1);
	xpage_close(xp);
}
END_TEST

START_TEST(wrong_version_word)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);

	page_out(xp, 7);
	fake_put_request(GEN7, 7, 0, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	/* A later request in another version: corrupt, not a switch. */
	fake_put_request(XPAGE_GEN_VM_EVENT_V6, 7, 1, XP_EV_VCPU_PAUSED, XP_P2M_PAGING_IN);
	ck_assert_int_eq(xpage_dispatch(xp, 0), -EPROTO);
	xpage_close(xp);
}
END_TEST

START_TEST(first_request_confirms_generation)
{
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	struct xp_response r;
	uint32_t ver;

	/* Xen 4.10 implies v2, but the ring speaks v3 (a backport). */
	fake_cfg.minor = 10;
	fake_cfg.vm_event_version = -1;
	fake_cfg.tool_library = "libxenctrl.so.4.10";
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	xpage_get_info(xp, &info);
	ck_assert_uint_eq(info.request_version, 0); /* no request yet */
	ck_assert_str_eq(info.xen_library, "libxenctrl.so.4.10");
	page_out(xp, 9);
	fake_put_request(XPAGE_GEN_VM_EVENT_V3, 9, 0, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.populates, 1);
	xpage_get_info(xp, &info);
	ck_assert_int_eq(info.generation, XPAGE_GEN_VM_EVENT_V3);
	ck_assert_uint_eq(info.request_version, 3); /* what the request said */
	uint8_t page[4096];
	void *b[1] = { page };
	int st;
	uint64_t g = 9;
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(fake_take_response(XPAGE_GEN_VM_EVENT_V3, &r, &ver, NULL), 1);
	ck_assert_uint_eq(ver, 3);
	xpage_close(xp);
}
END_TEST

START_TEST(mem_event_generation)
{
	struct xp_response r;
	uint64_t g = 70;
	uint8_t page[4096];
	void *b[1] = { page };
	int st;

	fake_cfg.minor = 2;
	fake_cfg.vm_event_version = -1;
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	page_out(xp, g);
	fake_put_request(XPAGE_GEN_MEM_EVENT_42, g, 2, XP_EV_VCPU_PAUSED, XP_P2M_PAGED);
	fake_put_request(XPAGE_GEN_MEM_EVENT_42, 0, 0, XP_EV_DUMMY, 0);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 2);
	ck_assert_int_eq(seen.populates, 1);
	ck_assert_int_eq(fake_take_response(XPAGE_GEN_MEM_EVENT_42, &r, NULL, NULL), 1);
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(fake_take_response(XPAGE_GEN_MEM_EVENT_42, &r, NULL, NULL), 1);
	ck_assert_uint_eq(r.gfn, g);
	ck_assert_uint_eq(r.vcpu, 2);
	ck_assert_uint_eq(r.flags, XP_EV_VCPU_PAUSED);
	xpage_close(xp);
}
END_TEST

/* --------------------------------------------------------------- batch */

START_TEST(wrong_states_change_nothing)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g[4] = { 1, 4096, 1, 2 };
	int st[4];
	uint8_t page[4096];
	void *b[4] = { page, page, page, page };

	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 2);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -ERANGE);
	ck_assert_int_eq(st[2], -EALREADY);
	ck_assert_int_eq(st[3], 0);
	ck_assert_int_eq(xpage_nominate(xp, g, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);             /* already nominated */
	uint64_t r = 3;
	ck_assert_int_eq(xpage_evict(xp, &r, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);             /* never nominated */
	ck_assert_int_eq(xpage_gfn_state(xp, 3), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_load(xp, &r, 1, b, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);             /* resident */
	ck_assert_int_eq(xpage_resume(xp, &r, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EALREADY);

	/* evict while mapped: EBUSY; after unmap it works */
	void *m = xpage_map(xp, g, 1, 0, st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_evict(xp, g, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EBUSY);
	ck_assert_int_eq(xpage_unmap(xp, m, 2), -EINVAL);
	ck_assert_int_eq(xpage_unmap(xp, (char *)m + 4096, 1), -EINVAL);
	ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(xp, g, 1, 0, st), 1);

	/* map of a gfn not nominated: the others are mapped, a hole at its
	 * place; none that may be mapped: nothing asked of the hypervisor */
	int maps = fake.maps;
	uint64_t mg[2] = { 2, 5 };
	m = xpage_map(xp, mg, 2, 0, st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EINVAL);
	ck_assert_int_eq(fake.maps, maps + 1);
	ck_assert_ptr_nonnull(strstr(fake.log, "xpage_map: gfn 0x5 is "
				     "resident, not nominated"));
	ck_assert_int_eq(xpage_unmap(xp, m, 2), 0);
	ck_assert_ptr_null(xpage_map(xp, mg + 1, 1, 0, st));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fake.maps, maps + 1);

	/* load of a gfn that was only nominated: nothing to load */
	ck_assert_int_eq(xpage_load(xp, mg, 1, b, 0, st), 1);
	ck_assert_int_eq(xpage_gfn_state(xp, 2), XPAGE_GFN_RESIDENT);

	/* unknown flags, NULL arrays */
	ck_assert_int_eq(xpage_nominate(xp, g, 1, 1u << 7, st), -EINVAL);
	ck_assert_int_eq(xpage_nominate(xp, NULL, 1, 0, st), -EINVAL);
	ck_assert_int_eq(xpage_nominate(NULL, g, 1, 0, st), -EINVAL);
	ck_assert_int_eq(xpage_load(xp, g, 1, NULL, 0, st), -EINVAL);
	ck_assert_int_eq(xpage_gfn_state(xp, 1ull << 50), -ERANGE);
	xpage_close(xp);
}
END_TEST

START_TEST(hypervisor_refusals_per_gfn)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g[3] = { 11, 12, 13 };
	int st[3];

	fake_cfg.fail_gfn = 12;
	fake_cfg.fail_gfn_rc = -EBUSY;
	ck_assert_int_eq(xpage_nominate(xp, g, 3, 0, st), 2);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 12), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_gfn_state(xp, 13), XPAGE_GFN_NOMINATED);
	fake_cfg.fail_gfn = 13;
	uint64_t e[2] = { 11, 13 };
	fake_cfg.fail_only_op = 1 + XP_PAGING_EVICT;
	hold(xp, e, 2);
	ck_assert_int_eq(xpage_evict(xp, e, 2, 0, st), 1);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 13), XPAGE_GFN_NOMINATED);
	fake_cfg.fail_gfn = 11;
	fake_cfg.fail_gfn_rc = -ENOMEM;
	fake_cfg.fail_only_op = 0;
	uint8_t page[4096];
	void *b[1] = { page };
	ck_assert_int_eq(xpage_load(xp, e, 1, b, 0, st), 0);
	ck_assert_int_eq(st[0], -ENOMEM);
	ck_assert_int_eq(xpage_gfn_state(xp, 11), XPAGE_GFN_EVICTED);
	xpage_close(xp);
}
END_TEST

START_TEST(adopt)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g[2] = { 100, 101 };
	int st[2];

	ck_assert_int_eq(xpage_adopt(xp, g, 2, 0, st), 2);
	ck_assert_int_eq(xpage_gfn_state(xp, 100), XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_adopt(xp, g, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);
	fake_put_request(GEN7, 101, 0, XP_EV_VCPU_PAUSED, XP_P2M_PAGING_IN);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.populates, 1);
	xpage_close(xp);
}
END_TEST

START_TEST(unnominate)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g[3] = { 200, 201, 202 };
	int st[3];

	ck_assert_int_eq(xpage_nominate(xp, g, 3, 0, st), 3);
	uint64_t ops0 = fake.ops;
	int maps0 = fake.maps;
	fake_cfg.fail_gfn = 201;
	fake_cfg.fail_gfn_rc = -EBUSY;      /* refused by the hypervisor */
	ck_assert_int_eq(xpage_unnominate(xp, g, 3, 0, st), 2);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 200), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_gfn_state(xp, 201), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(fake.maps, maps0 + 1);
	/* nominate first (3: an adopted gfn may not be nominated yet), then
	 * 2 evicts and 2 loads (201's map was refused) */
	ck_assert_uint_eq(fake.ops - ops0, 3 + 2 + 2);
	ck_assert_int_eq(xpage_unnominate(xp, g, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);

	/* close un-nominates what is left (201): nominate, evict, load */
	fake_cfg.fail_gfn = UINT64_MAX;
	ops0 = fake.ops;
	maps0 = fake.maps;
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert_int_eq(fake.maps, maps0 + 1);
	ck_assert_uint_eq(fake.ops - ops0, 3);
}
END_TEST

START_TEST(adopt_nominated_then_unnominate)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	uint64_t g[2] = { 300, 301 };
	int st[2];

	ck_assert_int_eq(xpage_adopt(xp, g, 2, XPAGE_ADOPT_NOMINATED, st), 2);
	ck_assert_int_eq(xpage_gfn_state(xp, 300), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(xpage_adopt(xp, g, 1, 1u << 5, st), -EINVAL);
	/* The hypervisor keeps refusing 301's evict (in use elsewhere, or
	 * touched): it is retried, then left NOMINATED with -EBUSY. */
	fake_cfg.fail_gfn = 301;
	fake_cfg.fail_gfn_rc = -EBUSY;
	fake_cfg.fail_only_op = XP_PAGING_EVICT + 1;
	ck_assert_int_eq(xpage_unnominate(xp, g, 2, 0, st), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 300), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_gfn_state(xp, 301), XPAGE_GFN_NOMINATED);
	ck_assert_uint_eq(fake.last_op.op, XP_PAGING_PREP);
	ck_assert_uint_eq(fake.last_op.gfn, 300);
	ck_assert_ptr_nonnull(fake.last_op.buf); /* loaded with its copy */
	/* Once the hypervisor lets go, close returns it. */
	fake_cfg.fail_gfn = UINT64_MAX;
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert_uint_eq(fake.last_op.gfn, 301);
	ck_assert_uint_eq(fake.last_op.op, XP_PAGING_PREP);
}
END_TEST

START_TEST(unnominate_after_takeover_presents_touched_gfn)
{
	xpage_t *xp;
	uint64_t g[2] = { 340, 341 };
	int st[2];

	/* 340 was touched before the takeover (paging-in with its frame,
	 * its notice gone with the old ring): its evict is refused, a prep
	 * without data makes it present. 341 is in use elsewhere: evict
	 * refused and prep refused (still only nominated): it stays
	 * NOMINATED with -EBUSY. */
	fake_cfg.enable_busy_once = 1;
	xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	ck_assert_ptr_nonnull(xp);
	ck_assert_int_eq(xpage_adopt(xp, g, 2, XPAGE_ADOPT_NOMINATED, st), 2);
	fake_cfg.evict_busy_gfn = 340;
	fake_cfg.fail_gfn = 341;
	fake_cfg.fail_gfn_rc = -EBUSY;
	fake_cfg.fail_only_op = XP_PAGING_EVICT + 1;
	ck_assert_int_eq(xpage_unnominate(xp, g, 1, 0, st), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(xpage_gfn_state(xp, 340), XPAGE_GFN_RESIDENT);
	ck_assert_uint_eq(fake.last_op.op, XP_PAGING_PREP);
	ck_assert_uint_eq(fake.last_op.gfn, 340);
	ck_assert_ptr_null(fake.last_op.buf);
	fake_cfg.evict_busy_gfn = 341;
	fake_cfg.fail_gfn_rc = -ENOENT;
	fake_cfg.fail_only_op = XP_PAGING_PREP + 1;
	ck_assert_int_eq(xpage_unnominate(xp, &g[1], 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, 341), XPAGE_GFN_NOMINATED);
	fake_cfg.evict_busy_gfn = UINT64_MAX;
	fake_cfg.fail_gfn = UINT64_MAX;
	ck_assert_int_eq(xpage_close(xp), 0);
}
END_TEST

START_TEST(stale_request_is_not_an_evict_failure)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;
	uint64_t g = 330;
	uint8_t page[4096];
	void *b[1] = { page };
	int st;

	/* Paged out, requested by a foreign mapper; loaded before that
	 * request was read, then nominated again. */
	page_out(xp, g);
	fake_put_request(GEN7, g, 0, XP_EV_FOREIGN, XP_P2M_PAGED);
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, 0, &st), 1);
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	/* The old request says nothing about the new nomination. */
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 0);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
	/* A fresh one (made while nominated: p2m type paging_out) is. */
	fake_put_request(GEN7, g, 0, XP_EV_VCPU_PAUSED, XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 1);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	xpage_close(xp);
}
END_TEST

START_TEST(load_of_adopted_gfn_never_evicted)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	uint64_t g = 320;
	uint8_t page[4096];
	void *b[1] = { page };
	int st, maps0;

	/* Adopted as evicted, but the hypervisor still has it nominated:
	 * its prep answers ENOENT, and the frame (which the guest could not
	 * write while nominated) is kept instead of the pager's copy. */
	ck_assert_int_eq(xpage_adopt(xp, &g, 1, 0, &st), 1);
	fake_cfg.fail_gfn = g;
	fake_cfg.fail_gfn_rc = -ENOENT;
	fake_cfg.fail_only_op = XP_PAGING_PREP + 1;
	fake_cfg.fail_times = 1;
	maps0 = fake.maps;
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(fake.maps, maps0 + 1);        /* un-nominated */
	ck_assert_ptr_ne(fake.last_op.buf, page);     /* not the pager's copy */
	xpage_get_stats(xp, &s);
	ck_assert_uint_eq(s.evicted_now, 0);
	xpage_close(xp);
}
END_TEST

START_TEST(load_of_adopted_gfn_nominated_and_touched)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, XPAGE_OPEN_TAKEOVER);
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	uint64_t g = 321;
	uint8_t page[4096];
	void *b[1] = { page };
	int st;

	/* Adopted as evicted, still nominated in the hypervisor, and the
	 * guest touches it while the library un-nominates it: its evict is
	 * refused. The gfn is NOMINATED (that is what it is), the load says
	 * -EBUSY, and the evict-fail notice that follows is an evict
	 * failure, not a populate for data the pager may have dropped. */
	ck_assert_int_eq(xpage_adopt(xp, &g, 1, 0, &st), 1);
	fake_cfg.fail_gfn = g;
	fake_cfg.fail_gfn_rc = -ENOENT;
	fake_cfg.fail_only_op = XP_PAGING_PREP + 1;
	fake_cfg.fail_times = 1;
	fake_cfg.evict_busy_gfn = g;
	ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 0);
	ck_assert_int_eq(st, -EBUSY);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_NOMINATED);
	xpage_get_stats(xp, &s);
	ck_assert_uint_eq(s.evicted_now, 0);
	fake_put_request(GEN7, g, 1, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
			 XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 1);
	ck_assert_int_eq(seen.populates, 0);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	fake_cfg.evict_busy_gfn = UINT64_MAX;
	xpage_close(xp);
}
END_TEST

START_TEST(foreign_evict_fail_made_present)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g = 310, ops0;
	int st;

	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	ops0 = fake.ops;
	/* A foreign mapper touched it: no vCPU waits, so the answer alone
	 * would not make it present; a prep without data does. */
	fake_put_request(GEN7, g, 0, XP_EV_FOREIGN | XP_EV_EVICT_FAIL,
			 XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 1);
	ck_assert_uint_eq(fake.ops, ops0 + 1);
	ck_assert_uint_eq(fake.last_op.op, XP_PAGING_PREP);
	ck_assert_uint_eq(fake.last_op.gfn, g);
	ck_assert_ptr_null(fake.last_op.buf);
	/* A guest vCPU's evict failure is confirmed the same way (the
	 * answer alone would also make it present). */
	g = 311;
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	ops0 = fake.ops;
	fake_put_request(GEN7, g, 1, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
			 XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 2);
	ck_assert_uint_eq(fake.ops, ops0 + 1);
	ck_assert_uint_eq(fake.last_op.op, XP_PAGING_PREP);
	ck_assert_ptr_null(fake.last_op.buf);
	xpage_close(xp);
}
END_TEST

START_TEST(stale_evict_fail_notice_keeps_nomination)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	struct xp_response r;
	uint64_t g = 312;
	int st;

	/* A notice of an evict failure older than the gfn's nomination (the
	 * gfn was touched, made present another way and nominated again
	 * before the notice was read): the prep that confirms a touch finds
	 * the gfn not paging-in. It stays NOMINATED (else close would leave
	 * it nominated in the hypervisor), no evict_fail is reported, and
	 * the waiting vCPU is answered. */
	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	fake_cfg.fail_gfn = g;
	fake_cfg.fail_gfn_rc = -ENOENT;
	fake_cfg.fail_only_op = XP_PAGING_PREP + 1;
	fake_cfg.fail_times = 1;
	fake_put_request(GEN7, g, 2, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
			 XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 0);
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.stale, 1);
	ck_assert_uint_eq(s.coalesced, 1);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(fake_take_response(GEN7, &r, NULL, NULL), 1);
	ck_assert_uint_eq(r.gfn, g);
	ck_assert_uint_eq(r.vcpu, 2);
	ck_assert(!(r.flags & XP_EV_DROP_PAGE));
	/* A fresh touch is an evict failure. */
	fake_put_request(GEN7, g, 2, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL,
			 XP_P2M_PAGING_OUT);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.evict_fails, 1);
	ck_assert_int_eq(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	xpage_close(xp);
}
END_TEST

/* The guest releases a gfn between the evict and the load back inside
 * xpage_unnominate: the load answers -ENOENT (not paged any more). There
 * is nothing to give back: the gfn is resident (status 0), not a page
 * out whose copy went away. */
START_TEST(unnominate_of_gfn_released_during_it)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g[2] = { 300, 301 };
	int st[2];

	ck_assert_int_eq(xpage_nominate(xp, g, 2, 0, st), 2);
	fake_cfg.fail_gfn = 301;
	fake_cfg.fail_gfn_rc = -ENOENT;
	fake_cfg.fail_only_op = XP_PAGING_PREP + 1;
	fake_cfg.nominate_busy_gfn = 301;   /* nominated, as Xen says */
	ck_assert_int_eq(xpage_unnominate(xp, g, 2, 0, st), 2);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], 0);
	ck_assert_int_eq(xpage_gfn_state(xp, 300), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_gfn_state(xp, 301), XPAGE_GFN_RESIDENT);
	ck_assert_ptr_nonnull(strstr(fake.log, "released by the guest while "
				     "being un-nominated"));
	/* Paged out again, then the release's drop notice is read: it is
	 * owed, not news of the page now out. */
	fake_cfg.fail_gfn = UINT64_MAX;
	fake_cfg.nominate_busy_gfn = UINT64_MAX;
	page_out(xp, 301);
	fake_put_request(GEN7, 301, 0, XP_EV_DROP_PAGE, XP_P2M_PAGING_IN);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 1);
	ck_assert_int_eq(seen.drops, 0);
	ck_assert_int_eq(xpage_gfn_state(xp, 301), XPAGE_GFN_EVICTED);
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.stale, 1);
	xpage_close(xp);
}
END_TEST

/* The load back inside xpage_unnominate fails as a whole (the evicts
 * went through): no gfn may be reported resident, since none is. */
START_TEST(unnominate_load_back_fails_as_a_whole)
{
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);
	uint64_t g = 310;
	int st = 0;

	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	fake_cfg.call_fail_op = XP_PAGING_PREP + 1;
	fake_cfg.call_fail_rc = -EIO;
	ck_assert_int_eq(xpage_unnominate(xp, &g, 1, 0, &st), 0);
	ck_assert_int_eq(st, -EIO);
	ck_assert_int_ne(xpage_gfn_state(xp, g), XPAGE_GFN_RESIDENT);
	fake_cfg.call_fail_op = 0;
	xpage_close(xp);
}
END_TEST

/* --------------------------------------------------------------- RAM */

START_TEST(ram_ranges)
{
	struct xpage_gfn_range r[4], one[2];
	uint64_t hole = 1500, edge = 1000;
	int st;

	fake_cfg.ram[0] = (struct xpage_gfn_range){ 0, 1000 };
	fake_cfg.ram[1] = (struct xpage_gfn_range){ 2000, 500 };
	fake_cfg.nram = 2;
	xpage_t *xp = fake_open(&cbs, 0, 0, 0, 0);

	ck_assert_int_eq(xpage_ram_ranges(xp, r, 4), 2);
	ck_assert_uint_eq(r[0].first, 0);
	ck_assert_uint_eq(r[0].count, 1000);
	ck_assert_uint_eq(r[1].first, 2000);
	ck_assert_uint_eq(r[1].count, 500);
	/* room for one: the count of all, one written */
	one[1].first = 77;
	ck_assert_int_eq(xpage_ram_ranges(xp, one, 1), 2);
	ck_assert_uint_eq(one[0].count, 1000);
	ck_assert_uint_eq(one[1].first, 77);
	ck_assert_int_eq(xpage_ram_ranges(xp, NULL, 0), 2);
	ck_assert_int_eq(xpage_ram_ranges(xp, NULL, 1), -EINVAL);
	/* gfns the handle holds out are RAM whatever the p2m says */
	ck_assert_int_eq(xpage_adopt(xp, &hole, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_adopt(xp, &edge, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_ram_ranges(xp, r, 4), 3);
	ck_assert_uint_eq(r[0].count, 1001);
	ck_assert_uint_eq(r[1].first, 1500);
	ck_assert_uint_eq(r[1].count, 1);
	ck_assert_uint_eq(r[2].first, 2000);
	/* an answer that is not ascending ranges inside the guest */
	fake_cfg.ram[1] = (struct xpage_gfn_range){ 900, 10 };
	ck_assert_int_eq(xpage_ram_ranges(xp, r, 4), -EPROTO);
	ck_assert_ptr_nonnull(strstr(fake.log, "RAM ranges"));
	fake_cfg.ram[1] = (struct xpage_gfn_range){ 4000, 97 };
	ck_assert_int_eq(xpage_ram_ranges(xp, r, 4), -EPROTO);
	fake_cfg.nram = -1;
	ck_assert_int_eq(xpage_ram_ranges(xp, r, 4), -EOPNOTSUPP);
	xpage_close(xp);
}
END_TEST

START_TEST(strerror_sentences)
{
	ck_assert_ptr_nonnull(strstr(xpage_strerror(-ENOSYS), "without memory paging"));
	ck_assert_ptr_nonnull(strstr(xpage_strerror(EMLINK), "IOMMU"));
	ck_assert_ptr_nonnull(strstr(xpage_strerror(-EXDEV), "populate-on-demand"));
	ck_assert_str_eq(xpage_version_string(), "1.1.0");
	ck_assert_uint_eq(xpage_version(), XPAGE_VERSION);
	ck_assert(XPAGE_CHECK_VERSION(1, 0, 0));
	ck_assert(XPAGE_CHECK_VERSION(1, 1, 0));
	ck_assert(!XPAGE_CHECK_VERSION(1, 2, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, opts_validation);
	tcase_add_test(tc, info_and_stats_sizes);
	tcase_add_test(tc, generation_from_query_or_version);
	tcase_add_test(tc, ages);
	tcase_add_test(tc, features);
	tcase_add_test(tc, enable_errors);
	tcase_add_test(tc, takeover_order);
	tcase_add_test(tc, coalesced_populate);
	tcase_add_test(tc, load_and_resume_from_callback);
	tcase_add_test(tc, evict_fail_native_and_synth);
	tcase_add_test(tc, drops);
	tcase_add_test(tc, foreign_populate);
	tcase_add_test(tc, bad_gfn_and_vcpu);
	tcase_add_test(tc, corrupt_ring);
	tcase_add_test(tc, wrong_version_word);
	tcase_add_test(tc, first_request_confirms_generation);
	tcase_add_test(tc, mem_event_generation);
	tcase_add_test(tc, wrong_states_change_nothing);
	tcase_add_test(tc, hypervisor_refusals_per_gfn);
	tcase_add_test(tc, adopt);
	tcase_add_test(tc, unnominate);
	tcase_add_test(tc, adopt_nominated_then_unnominate);
	tcase_add_test(tc, foreign_evict_fail_made_present);
	tcase_add_test(tc, stale_evict_fail_notice_keeps_nomination);
	tcase_add_test(tc, load_of_adopted_gfn_never_evicted);
	tcase_add_test(tc, unnominate_after_takeover_presents_touched_gfn);
	tcase_add_test(tc, load_of_adopted_gfn_nominated_and_touched);
	tcase_add_test(tc, stale_request_is_not_an_evict_failure);
	tcase_add_test(tc, unnominate_of_gfn_released_during_it);
	tcase_add_test(tc, unnominate_load_back_fails_as_a_whole);
	tcase_add_test(tc, ram_ranges);
	tcase_add_test(tc, strerror_sentences);
	suite_add_tcase(s, tc);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
