/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Smallest reproducers of bugs the soak and the fuzzers found, one test
 * each, against the simulator (public API, plus the raw protocol where the
 * public one cannot make the situation). Each says what Xen does (the
 * simulator imitates it, docs/xen-interface.md) and what must hold.
 * A test here fails until its bug is fixed, then stays as a regression
 * test; docs/bad-input.md lists them.
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"
#include "simp_call.h"

static int evict_fails, drops, populates;

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

struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	xpage_t *xp;
};

static void up(struct env *e, const char *pers, uint32_t vcpus)
{
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate, .evict_fail = cb_evict_fail,
		.drop = cb_drop);

	evict_fails = drops = populates = 0;
	e->sim = fx_sim_start(NULL);
	e->domid = fx_guest(e->sim, pers, vcpus, 64, 1);
	e->xp = fx_open(e->sim, e->domid, NULL, &cb, "xpage_open");
}

static void down(struct env *e)
{
	if (e->xp)
		xpage_close(e->xp);
	fx_sim_stop();
}

static void report(struct env *e, struct xpage_sim_report *r)
{
	*r = XPAGE_OPTS(xpage_sim_report);
	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid, 0, 60000, r), 0);
}

/* A raw protocol call on a fresh control connection. */
static int raw(struct env *e, uint16_t op, const void *req, uint32_t len)
{
	int sock = simp_connect(xpage_sim_socket(e->sim)), rc;

	ck_assert_int_ge(sock, 0);
	rc = simp_call(sock, op, req, len, NULL, 0, NULL, NULL, NULL);
	close(sock);
	return rc;
}

/* A toolstack balloons @g out of the guest (a foreign release): a drop
 * request goes on the ring if a slot is free. */
static void release_foreign(struct env *e, uint64_t g)
{
	struct simp_touch t = { .domid = e->domid, .vcpu = 0,
				.flags = XPAGE_SIM_TOUCH_FOREIGN, .gfn = g };

	ck_assert_int_eq(raw(e, SIMP_RELEASE, &t, sizeof(t)), 0);
}

/* The same while every ring slot is busy: Xen sends no drop request then
 * (p2m_mem_paging_drop_page), and the library never hears of it. */
static void release_with_full_ring(struct env *e, uint64_t g)
{
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults,
		.ring_slots_held = 8);

	ck_assert_int_eq(xpage_sim_faults(e->sim, e->domid, &f), 0);
	release_foreign(e, g);
	f.ring_slots_held = 0;
	ck_assert_int_eq(xpage_sim_faults(e->sim, e->domid, &f), 0);
}

/* The pager pages @g out: nominate, map, copy to @page, unmap, evict. */
static void page_out(struct env *e, uint64_t g, uint8_t page[4096])
{
	void *m;
	int st = 0;

	ck_assert_int_eq(xpage_nominate(e->xp, &g, 1, 0, &st), 1);
	m = xpage_map(e->xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	memcpy(page, m, 4096);
	ck_assert_int_eq(xpage_unmap(e->xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(e->xp, &g, 1, 0, &st), 1);
}

/* Up to 10 rounds of a dispatch, then a load (with resume) of @g from
 * @page, while the library holds @g in one of the states @stuck (a bit
 * per enum xpage_gfn_state). Returns the state it holds @g in at the
 * end; *@st is the last load's status. */
static int load_rounds(struct env *e, uint64_t g, uint8_t page[4096],
		       unsigned stuck, int *st)
{
	void *b[1] = { page };
	int s = 0;

	for (int i = 0; i < 10; i++) {
		xpage_dispatch(e->xp, 10);
		xpage_load(e->xp, &g, 1, b, XPAGE_LOAD_RESUME, st);
		s = xpage_gfn_state(e->xp, g);
		if (s < 0 || !(stuck & (1u << s)))
			break;
	}
	return s;
}

/*
 * BUG (fixed by cbed8a9, kept as a regression test): a foreign access to
 * a nominated gfn left it paging_in forever.
 *
 * Xen: a foreign access (a toolstack or device model mapping the page) to
 * a paging_out gfn makes it paging_in, frame still there, and sends a
 * request with EVICT_FAIL | FOREIGN and no paused vCPU. vm_event_resume()
 * runs the paging resume only for a vCPU whose vm_event pause count is
 * non-zero (docs/xen-interface.md §8), so the library's answer (vcpu 0, not paused) is
 * ignored: the gfn stays paging_in. The library calls evict_fail, marks
 * the gfn resident, and nothing ever makes it ram_rw again (a prep without
 * a buffer would: the frame never left). After xpage_close the next guest
 * vCPU access to it finds a paging gfn and no ring: the domain crashes.
 */
START_TEST(foreign_touch_of_nominated_gfn)
{
	struct env e;
	struct xpage_sim_report r;
	uint64_t g = 5;
	int st, rc;

	up(&e, NULL, 1);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_FOREIGN), 0);
	ck_assert_int_eq(xpage_dispatch(e.xp, 1000), 1);
	ck_assert_int_eq(evict_fails, 1);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_close(e.xp), 0);
	e.xp = NULL;
	report(&e, &r);
	ck_assert_msg(r.paged == 0, "after close the hypervisor still holds %llu "
		      "gfn(s) paging_in (gfn %llu: evict_fail for a foreign "
		      "access was answered, but Xen ignores answers for vCPUs "
		      "that are not paused)", (unsigned long long)r.paged,
		      (unsigned long long)g);
	rc = xpage_sim_touch(e.sim, e.domid, 0, g, 0);
	ck_assert_msg(rc == 0, "a guest access to gfn %llu after the pager left: "
		      "%s (the domain %s)", (unsigned long long)g,
		      xpage_strerror(rc), rc == -ESHUTDOWN ? "crashed" : "is not ok");
	down(&e);
}
END_TEST

/*
 * BUG (fixed by cbed8a9 when the guest uses the gfn again; kept as a
 * regression test): a nominated gfn the guest released while no ring slot
 * was free stayed nominated in the library for ever.
 *
 * Xen (p2m_mem_paging_drop_page): a foreign decrease_reservation of a
 * paging gfn claims a ring slot without waiting; with the ring full no
 * drop request is sent ("we allow no ring in this unique case"). The gfn
 * leaves the physmap; a later access brings it back as a fresh page. The
 * library never hears of it: xpage_gfn_state says NOMINATED, and
 * xpage_unnominate / xpage_evict answer -EBUSY for ever (their doc says an
 * evict_fail notice follows -EBUSY; none comes). A pager that waits for
 * the gfn to settle (a drain) never finishes.
 */
START_TEST(release_of_nominated_gfn_with_full_ring)
{
	struct env e;
	uint64_t g = 5;
	int st = 0, rc;

	up(&e, "xen-4.15", 1);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	/* every slot busy, then a foreign release (a toolstack balloon) */
	release_with_full_ring(&e, g);
	/* the guest uses the gfn again: a fresh page */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_WRITE), 0);
	for (int i = 0; i < 10; i++)
		xpage_dispatch(e.xp, 10);
	rc = xpage_unnominate(e.xp, &g, 1, 0, &st);
	ck_assert_msg(xpage_gfn_state(e.xp, g) == XPAGE_GFN_RESIDENT,
		      "gfn %llu, released by the guest while the ring was full, "
		      "is still NOMINATED in the library (xpage_unnominate: %d, "
		      "status %s; no notice will ever come)",
		      (unsigned long long)g, rc, xpage_strerror(st));
	down(&e);
}
END_TEST

/*
 * BUG: xpage_close leaves gfns nominated when the evict inside its
 * un-nomination is refused.
 *
 * Xen refuses an evict with -EBUSY while anyone else holds a reference to
 * the page (a device model mapping it for a moment); the simulator's
 * evict_ebusy_pm fault makes that happen. xpage_close un-nominates every
 * nominated gfn (map, copy, evict, load back) but does not try again when
 * that evict is refused: the gfn stays paging_out, paging is disabled, and
 * the next guest access to it finds a paging gfn and no ring: the domain
 * crashes (the doc of xpage_unnominate says why close does this at all).
 */
START_TEST(close_with_evict_refused)
{
	struct env e;
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults, .seed = 3,
		.evict_ebusy_pm = 500);
	struct xpage_sim_report r;
	uint64_t g[32];
	int st[32], rc;

	up(&e, "xen-4.15", 1);
	for (int i = 0; i < 32; i++)
		g[i] = (uint64_t)i;
	ck_assert_int_eq(xpage_nominate(e.xp, g, 32, 0, st), 32);
	ck_assert_int_eq(xpage_sim_faults(e.sim, e.domid, &f), 0);
	ck_assert_int_eq(xpage_close(e.xp), 0);
	e.xp = NULL;
	report(&e, &r);
	ck_assert_msg(r.nominated == 0, "xpage_close left %llu of 32 gfns "
		      "nominated (their evict was refused once, -EBUSY, and not "
		      "tried again)", (unsigned long long)r.nominated);
	f.evict_ebusy_pm = 0;
	ck_assert_int_eq(xpage_sim_faults(e.sim, e.domid, &f), 0);
	for (int i = 0; i < 32; i++) {
		rc = xpage_sim_touch(e.sim, e.domid, 0, g[i], 0);
		ck_assert_msg(rc == 0, "guest access to gfn %d after close: %s",
			      i, xpage_strerror(rc));
	}
	down(&e);
}
END_TEST

/*
 * BUG (minor, API contract): on age 2, xpage_nominate reports a gfn the
 * hypervisor will not map (the guest released it) as -EINVAL, which the
 * header reserves for "wrong state for this call; the state is unchanged"
 * (a caller error). Age 1 reports the same situation as -EBUSY ("the
 * hypervisor refused"), and the library promises to hide the ordering
 * difference between ages.
 */
START_TEST(age2_nominate_of_released_gfn)
{
	struct env e;
	uint64_t g = 9;
	int st = 0;

	up(&e, "xen-4.2-age2", 1);
	ck_assert_int_eq(xpage_sim_release(e.sim, e.domid, g), 0);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 0);
	ck_assert_msg(st == -EBUSY, "age 2: nominate of a released gfn: %s "
		      "(%d); age 1 says -EBUSY", xpage_strerror(st), st);
	down(&e);
}
END_TEST

/*
 * BUG (API): valid options refused with E2BIG because of tail padding.
 *
 * struct xpage_open_opts ends with `int log_level` after a pointer, so it
 * has 4 bytes of tail padding; so has struct xpage_sim_faults. The
 * library requires every byte from the end of the last known field up to
 * sz to be zero, tail padding included, but C does not promise padding
 * bytes are zero: `o = XPAGE_OPTS(xpage_open_opts, ...)` (an assignment)
 * compiled by clang -O0 leaves stack garbage there and xpage_open fails
 * with E2BIG ("Argument list too long") for a correct caller. Every field
 * set, sz = sizeof(struct): the call must not be refused as too big.
 */
START_TEST(tail_padding_is_not_an_unknown_field)
{
	struct xpage_open_opts o;
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate);
	struct xpage_sim_faults f;
	struct env e;
	xpage_t *xp;
	int rc;

	up(&e, NULL, 1);
	memset(&o, 0xab, sizeof(o));  /* what the stack held before */
	o.sz = sizeof(o);
	o.domid = 1;
	o.backend = XPAGE_BACKEND_SIM;
	o.sim_socket = "/nonexistent/socket";
	o.ages = XPAGE_AGE_1;
	o.flags = 0;
	o.features_required = 0;
	o.features_wanted = 0;
	o.log_fn = NULL;
	o.log_ctx = NULL;
	o.log_level = 0;
	errno = 0;
	xp = xpage_open(&o, &cb);
	ck_assert_ptr_null(xp);
	ck_assert_msg(errno != E2BIG, "xpage_open refused options with every "
		      "field set as too big (E2BIG): the %zu bytes of tail "
		      "padding after log_level are checked as unknown fields",
		      sizeof(o) - (offsetof(struct xpage_open_opts, log_level) +
				   sizeof(o.log_level)));
	ck_assert_int_eq(errno, ENOENT); /* no simulator there */

	memset(&f, 0xab, sizeof(f));
	f.sz = sizeof(f);
	f.seed = 1;
	f.nominate_ebusy_pm = f.evict_ebusy_pm = f.load_enomem_pm = 0;
	f.race_access_pm = f.race_drop_pm = f.event_delay_us = 0;
	f.ring_slots_held = 0;
	rc = xpage_sim_faults(e.sim, e.domid, &f);
	ck_assert_msg(rc == 0, "xpage_sim_faults with every field set: %s",
		      xpage_strerror(rc));
	down(&e);
}
END_TEST

static uint64_t evicted_now(struct env *e)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	ck_assert_int_eq(xpage_get_stats(e->xp, &s), 0);
	return s.evicted_now;
}

/* Nominate @n gfns, then un-nominate them while the hypervisor has no
 * memory for the load back (each -ENOMEM), then give it memory again. */
static void unnominate_without_memory(struct env *e, const uint64_t *g,
				      size_t n)
{
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults,
		.load_enomem_pm = 1000);
	struct xpage_sim_faults none = XPAGE_OPTS(xpage_sim_faults);
	int st[8];

	ck_assert_uint_le(n, 8);
	ck_assert_int_eq(xpage_nominate(e->xp, g, n, 0, st), (int)n);
	ck_assert_int_eq(xpage_sim_faults(e->sim, e->domid, &f), 0);
	ck_assert_int_eq(xpage_unnominate(e->xp, g, n, 0, st), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(st[i], -ENOMEM);
	ck_assert_uint_eq(evicted_now(e), n); /* kept, and counted out */
	ck_assert_int_eq(xpage_sim_faults(e->sim, e->domid, &none), 0);
}

/* Close, then the oracle's final word: nothing lost, paged or corrupted. */
static void close_and_check_nothing_lost(struct env *e)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_close(e->xp), 0);
	e->xp = NULL;
	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid,
					  XPAGE_SIM_REPORT_FINAL, 60000, &r), 0);
	ck_assert_msg(r.lost == 0 && r.paged == 0 && r.corrupted == 0,
		      "oracle: %llu lost, %llu paged, %llu corrupted",
		      (unsigned long long)r.lost, (unsigned long long)r.paged,
		      (unsigned long long)r.corrupted);
}

/*
 * BUG: a page xpage_unnominate() could not load back is lost.
 *
 * xpage_unnominate() evicts each page and loads it back from a copy held
 * in memory. When the hypervisor has no memory for the load (Xen's prep:
 * -ENOMEM, the guest at its allocation limit or the host full), the copy
 * was dropped after a second of retries: the page's only contents, gone,
 * and the pager had none (it un-nominates what it did not write). The
 * library must keep the copy and load it back itself once there is
 * memory: at the next dispatch, or at once when the guest touches the
 * gfn (no populate for the pager, which has nothing to load).
 */
START_TEST(unnominate_without_memory_keeps_the_copy)
{
	struct env e;
	struct xpage_sim_report r;
	uint64_t g[3] = { 20, 21, 22 };

	up(&e, NULL, 1);
	unnominate_without_memory(&e, g, 3);
	/* the pager's own buffer cannot be newer than the kept copy */
	{
		static uint8_t junk[4096];
		void *b = junk;
		int st = 0;

		ck_assert_int_eq(xpage_load(e.xp, &g[1], 1, &b, 0, &st), 0);
		ck_assert_int_eq(st, -EBUSY);
	}
	/* the guest touches one: the library loads it, no populate */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g[0], 0), -EAGAIN);
	ck_assert_int_ge(xpage_dispatch(e.xp, 1000), 0);
	ck_assert_int_eq(populates, 0);
	/* the others come back at a dispatch */
	ck_assert_int_ge(xpage_dispatch(e.xp, 0), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(xpage_gfn_state(e.xp, g[i]) == XPAGE_GFN_RESIDENT,
			      "gfn %llu not loaded back (state %d)",
			      (unsigned long long)g[i],
			      xpage_gfn_state(e.xp, g[i]));
	ck_assert_uint_eq(evicted_now(&e), 0);
	report(&e, &r);
	ck_assert_msg(r.paged == 0 && r.paused_vcpus == 0, "%llu paged, %u "
		      "vCPUs paused", (unsigned long long)r.paged,
		      r.paused_vcpus);
	close_and_check_nothing_lost(&e);
	down(&e);
}
END_TEST

/* A kept page nobody asked for before the close: xpage_close() loads it
 * back before it disables paging. */
START_TEST(close_loads_kept_pages_back)
{
	struct env e;
	uint64_t g = 30;

	up(&e, NULL, 1);
	unnominate_without_memory(&e, &g, 1);
	close_and_check_nothing_lost(&e);
	down(&e);
}
END_TEST

/*
 * BUG: xpage_close fails with -EBUSY and leaves paging enabled, with no
 * pager, when guest vCPUs wait for ring space.
 *
 * Xen refuses to disable a ring while vCPUs sit in its wait queue
 * (vm_event_disable: -EBUSY). xpage_close pauses the domain first, so a
 * waiter that the last answers would let in cannot run to take its slot:
 * disable fails, the handle is released anyway, and the ring stays with
 * nobody to serve it (a new pager's takeover meets the same -EBUSY). Here
 * one ring slot is usable (the others held by the fault injector): vCPU 0
 * takes it with a request for a nominated gfn, vCPU 1 waits for it.
 */
START_TEST(close_with_vcpus_waiting_for_ring_space)
{
	struct env e;
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults,
		.ring_slots_held = 7);
	struct xpage_sim_report r;
	uint64_t g[2] = { 5, 6 };
	int st[2], rc;

	up(&e, "xen-4.15", 2);
	ck_assert_int_eq(xpage_nominate(e.xp, g, 2, 0, st), 2);
	ck_assert_int_eq(xpage_sim_faults(e.sim, e.domid, &f), 0);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g[0], 0), -EAGAIN);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 1, g[1], 0), -EAGAIN);
	rc = xpage_close(e.xp);
	e.xp = NULL;
	report(&e, &r);
	ck_assert_msg(rc == 0 && !r.ring_enabled, "xpage_close: %s; the ring "
		      "is %s with no pager (vCPUs waited for ring space)",
		      xpage_strerror(rc), r.ring_enabled ? "still enabled" : "gone");
	down(&e);
}
END_TEST

/*
 * BUG: loading a gfn the guest released turns it into a nominated gfn.
 *
 * Since 8ff0258, xpage_load takes a prep refused with -ENOENT for an
 * evicted gfn as "nominated but never evicted" (a takeover case) and
 * un-nominates it. But prep also answers -ENOENT when the guest released
 * the gfn (it left the physmap; its drop notice is on the ring, or was
 * never sent because the ring was full): the un-nomination's map then
 * fails, xpage_load reports -EINVAL (the header's "wrong state: resident")
 * and the library now holds the released gfn as NOMINATED, a state only
 * a drop notice can end (and none comes when the ring was full).
 */
START_TEST(load_of_released_gfn)
{
	struct env e;
	uint64_t g = 5;
	uint8_t page[4096];
	void *b[1] = { page };
	int st = 0, s;

	up(&e, "xen-4.15", 1);
	page_out(&e, g, page);
	/* a toolstack balloons it out: a drop request goes on the ring */
	release_foreign(&e, g);
	/* the pager loads it before it dispatches the drop */
	xpage_load(e.xp, &g, 1, b, 0, &st);
	s = xpage_gfn_state(e.xp, g);
	ck_assert_msg(st != -EINVAL && s != XPAGE_GFN_NOMINATED,
		      "xpage_load of a gfn the guest released: status %s, and "
		      "the library now holds it as state %d (NOMINATED = 1)",
		      xpage_strerror(st), s);
	down(&e);
}
END_TEST

/*
 * BUG: xpage_unnominate reports success for a gfn that stays nominated.
 *
 * Since cbed8a9, an evict refused inside xpage_unnominate is taken to mean
 * "not nominated any more, i.e. resident" and gets status 0. But Xen also
 * refuses the evict while someone else holds a reference for a moment
 * (the simulator's evict_ebusy_pm): the gfn is still paging_out. The
 * library now holds it as resident; nothing un-nominates it any more, and
 * once the pager is gone a guest access crashes the domain (see
 * close_with_evict_refused).
 */
START_TEST(unnominate_with_evict_refused)
{
	struct env e;
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults, .seed = 3,
		.evict_ebusy_pm = 500);
	struct xpage_sim_report r;
	uint64_t g[32];
	int st[32], ok = 0, n;

	up(&e, "xen-4.15", 1);
	for (int i = 0; i < 32; i++)
		g[i] = (uint64_t)i;
	ck_assert_int_eq(xpage_nominate(e.xp, g, 32, 0, st), 32);
	ck_assert_int_eq(xpage_sim_faults(e.sim, e.domid, &f), 0);
	n = xpage_unnominate(e.xp, g, 32, 0, st);
	for (int i = 0; i < 32; i++)
		ok += st[i] == 0;
	report(&e, &r);
	ck_assert_msg(r.nominated == (uint64_t)(32 - ok), "xpage_unnominate: "
		      "%d of 32 reported un-nominated (returned %d), but the "
		      "hypervisor still holds %llu nominated",
		      ok, n, (unsigned long long)r.nominated);
	down(&e);
}
END_TEST

/*
 * BUG (simulator): SIMP_UNMAP of gfn 0xffffffffffffffff corrupts the
 * simulator's heap. Found by tests/fuzz/fuzz_simproto.
 *
 * sim/maptab.c marks empty slots with UINT64_MAX, so maptab_del() of that
 * gfn stops at the first empty slot as if it had found it, decrements the
 * slot's (uninitialised) count and returns 0; op_unmap (sim/server.c)
 * then calls guest_frame_put(g, UINT64_MAX), which decrements
 * g->gfn[-1].refs: a write before the p2m array (AddressSanitizer:
 * heap-buffer-overflow, UBSan: pointer overflow at sim/guest.c
 * guest_frame_put). The answer for a gfn this connection never mapped
 * must be -EINVAL, as for any other.
 */
START_TEST(sim_unmap_of_gfn_all_ones)
{
	struct env e;
	int s, fds[2], nfds = 2, rc;
	struct simp_u32 att;
	struct simp_dominfo di;
	uint64_t req[2];
	struct { struct simp_results r; int32_t rc[1]; } res;

	up(&e, "xen-4.15", 1);
	s = simp_connect(xpage_sim_socket(e.sim));
	ck_assert_int_ge(s, 0);
	att = (struct simp_u32){ .v = e.domid };
	ck_assert_int_eq(simp_call(s, SIMP_ATTACH, &att, sizeof(att), &di,
				   sizeof(di), NULL, fds, &nfds), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	/* one mapping, so the connection's table exists */
	req[0] = 1 | ((uint64_t)1 << 32); /* n = 1, PROT_READ */
	req[1] = 3;
	ck_assert_int_eq(simp_call(s, SIMP_MAP, req, sizeof(req), &res,
				   sizeof(res), NULL, NULL, NULL), 0);
	ck_assert_int_eq(res.rc[0], 0);
	req[0] = 1;
	req[1] = UINT64_MAX;
	rc = simp_call(s, SIMP_UNMAP, req, sizeof(req), &res, sizeof(res),
		       NULL, NULL, NULL);
	ck_assert_msg(rc == 0 && res.rc[0] == -EINVAL, "SIMP_UNMAP of gfn "
		      "UINT64_MAX, never mapped: call %d, result %d (the "
		      "simulator decremented a reference before its p2m array)",
		      rc, res.rc[0]);
	close(s);
	down(&e);
}
END_TEST

/*
 * BUG: a stale request is taken for an evict failure of a later
 * nomination; the gfn is left nominated in the hypervisor and the domain
 * crashes once the pager is gone. Found by the soak (driven runs).
 *
 * A foreign mapper's request for a paged-out gfn (no vCPU waits, p2m type
 * paged) sits unread on the ring while the pager loads the gfn anyway (a
 * bulk page-in) and nominates it again. When the library then reads the
 * old request, it finds the gfn NOMINATED and concludes "the frame is
 * intact: an evict failure" (dispatch.c on_populate): evict_fail is
 * called, the gfn becomes RESIDENT in the library, but in the hypervisor
 * it is still paging_out (the answer changes nothing, and the prep that
 * make_present() tries fails with -ENOENT). Nothing un-nominates it; the
 * next guest access after xpage_close finds a paging gfn and no ring.
 * The request's p2m type (paged, not paging_out) says it is older than
 * the nomination.
 */
START_TEST(stale_request_after_renominate)
{
	struct env e;
	struct xpage_sim_report r;
	uint64_t g = 5;
	uint8_t page[4096];
	void *b[1] = { page };
	int st = 0, rc;

	up(&e, "xen-4.15", 1);
	page_out(&e, g, page);
	/* a foreign mapper asks for it: a request, nobody paused */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_FOREIGN), -ENOENT);
	/* the pager brings it back before reading the ring, then pages it
	 * out again */
	ck_assert_int_eq(xpage_load(e.xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	/* now the old request is read */
	xpage_dispatch(e.xp, 100);
	ck_assert_msg(evict_fails == 0 &&
		      xpage_gfn_state(e.xp, g) == XPAGE_GFN_NOMINATED,
		      "a request older than the nomination (p2m type paged) was "
		      "taken for an evict failure: evict_fail called %d time(s), "
		      "library state %d, while the hypervisor still holds the "
		      "gfn nominated", evict_fails, xpage_gfn_state(e.xp, g));
	ck_assert_int_eq(xpage_close(e.xp), 0);
	e.xp = NULL;
	report(&e, &r);
	rc = xpage_sim_touch(e.sim, e.domid, 0, g, 0);
	ck_assert_msg(r.nominated == 0 && rc == 0, "after close: %llu gfn(s) "
		      "nominated; a guest access: %s",
		      (unsigned long long)r.nominated, xpage_strerror(rc));
	down(&e);
}
END_TEST

/*
 * BUG: a paged-out gfn the guest released while no ring slot was free
 * stays paged out in the library for ever.
 *
 * Xen sends no drop request when a foreign balloon-out finds the ring
 * full (p2m_mem_paging_drop_page). The gfn has left the physmap; a load
 * answers -ENOENT ("its drop notice settles it"), but no notice will come:
 * the library keeps it EVICTED (evicted_now counts it), the pager keeps
 * its copy, every load fails the same way, and a pager that pages
 * everything back in before it leaves never finishes (the example pager
 * then detaches and leaves the domain paused). The hypervisor can tell:
 * the gfn is neither paged (prep) nor nominated (it cannot be mapped).
 */
START_TEST(load_of_gfn_released_with_full_ring)
{
	struct env e;
	uint64_t g = 5;
	uint8_t page[4096];
	int st = 0, s;

	up(&e, "xen-4.15", 1);
	page_out(&e, g, page);
	release_with_full_ring(&e, g);
	s = load_rounds(&e, g, page, 1u << XPAGE_GFN_EVICTED, &st);
	ck_assert_msg(s != XPAGE_GFN_EVICTED, "gfn %llu, released by the guest "
		      "while the ring was full, is still EVICTED after 10 "
		      "dispatch + load rounds (load: %s)", (unsigned long long)g,
		      xpage_strerror(st));
	down(&e);
}
END_TEST

/*
 * GAP (minor): a size that ends inside a field is accepted.
 *
 * No header ever had a struct xpage_callbacks that ends half-way through
 * the populate pointer, yet sz = offsetof(populate) + 4 passes validation
 * and xp_opts_copy() copies half a pointer: populate becomes the low half
 * of the caller's pointer, non-NULL, and the first populate notice calls
 * it. A size that is not the end of a field is a malformed struct
 * (-EINVAL), as the header promises for malformed callbacks.
 */
START_TEST(sz_inside_a_field)
{
	struct xpage_open_opts o;
	struct xpage_callbacks cb;
	xpage_t *xp;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.domid = 1;
	o.backend = XPAGE_BACKEND_SIM;
	o.sim_socket = "/nonexistent/socket";
	memset(&cb, 0, sizeof(cb));
	cb.populate = cb_populate;
	cb.sz = offsetof(struct xpage_callbacks, populate) + 4;
	errno = 0;
	xp = xpage_open(&o, &cb);
	ck_assert_ptr_null(xp);
	ck_assert_msg(errno == EINVAL, "callbacks whose sz ends inside the "
		      "populate pointer: %s, not EINVAL (half a pointer was "
		      "taken as the callback)", strerror(errno));
}
END_TEST

/*
 * BUG: the same as load_of_gfn_released_with_full_ring, for a gfn whose
 * page-in was already requested (PAGING_IN: a foreign mapper asked for it,
 * the pager has not loaded it yet). The guest releases it while the ring
 * is full (no drop request); every load answers -ENOENT and the gfn stays
 * PAGING_IN for ever. Found by the soak (driven runs, with injected
 * ENOMEM delaying the load).
 */
START_TEST(load_of_requested_gfn_released_with_full_ring)
{
	struct env e;
	uint64_t g = 5;
	uint8_t page[4096];
	int st = 0, s;

	up(&e, "xen-4.15", 1);
	page_out(&e, g, page);
	/* a foreign mapper asks for it; the populate is delivered */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_FOREIGN), -ENOENT);
	ck_assert_int_eq(xpage_dispatch(e.xp, 100), 1);
	ck_assert_int_eq(populates, 1);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_PAGING_IN);
	/* the guest releases it while no slot is free: no drop request */
	release_with_full_ring(&e, g);
	s = load_rounds(&e, g, page, (1u << XPAGE_GFN_PAGING_IN) |
			(1u << XPAGE_GFN_EVICTED), &st);
	ck_assert_msg(s != XPAGE_GFN_PAGING_IN && s != XPAGE_GFN_EVICTED,
		      "gfn %llu, requested, then released by the guest while the "
		      "ring was full, is still in state %d after 10 dispatch + "
		      "load rounds (load: %s)", (unsigned long long)g, s,
		      xpage_strerror(st));
	down(&e);
}
END_TEST

/* The end of the stale-drop tests: @g is paged out again and the old drop
 * request is read now. The page must still be out, and load back, and
 * nothing may be left paged, lost or corrupted after close. */
static void old_drop_keeps_page_out(struct env *e, uint64_t g,
				    uint8_t page[4096])
{
	struct xpage_sim_report r;
	void *b[1] = { page };
	int st = 0, s;

	xpage_dispatch(e->xp, 100);
	s = xpage_gfn_state(e->xp, g);
	ck_assert_msg(drops == 0 && s == XPAGE_GFN_EVICTED, "a drop request "
		      "older than the page-out was taken for a release of the "
		      "page now out: drop called %d time(s), library state %d "
		      "(EVICTED = 2), while the hypervisor holds the gfn paged",
		      drops, s);
	ck_assert_int_eq(xpage_load(e->xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(xpage_close(e->xp), 0);
	e->xp = NULL;
	report(e, &r);
	ck_assert_msg(r.paged == 0 && r.lost == 0 && r.corrupted == 0,
		      "after close: %llu paged, %llu lost, %llu corrupted",
		      (unsigned long long)r.paged, (unsigned long long)r.lost,
		      (unsigned long long)r.corrupted);
}

/*
 * BUG: a drop notice older than the gfn's current page-out makes the
 * library forget a page that is out; the pager frees its only copy.
 * Found by the soak (lib threads runs with race_drop, xen-4.5).
 *
 * Xen puts a drop request on the ring when the guest releases a paging
 * gfn (p2m_mem_paging_drop_page). A pager may settle the release before it
 * reads that request: xpage_unnominate finds the nominated gfn no longer
 * maps and reports it resident ("released by the guest while nominated").
 * The guest then uses the gfn again (a fresh page), the pager pages it
 * out again, and only then reads the old drop request: the library took
 * it for a release of the page now out, called drop (the pager frees its
 * copy) and held the gfn resident, while the hypervisor holds it paged.
 * The notice that the library already settled is owed, not news.
 */
START_TEST(stale_drop_after_unnominate_of_released_gfn)
{
	struct env e;
	uint64_t g = 5;
	uint8_t page[4096];
	int st = 0;

	up(&e, "xen-4.15", 1);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	/* released while nominated: a drop request goes on the ring */
	release_foreign(&e, g);
	/* the pager gives it back before it reads the ring */
	ck_assert_int_eq(xpage_unnominate(e.xp, &g, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_RESIDENT);
	/* the guest uses it again (a fresh page); the pager pages it out */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_WRITE), 0);
	page_out(&e, g, page);
	/* now the old drop request is read */
	old_drop_keeps_page_out(&e, g, page);
	down(&e);
}
END_TEST

/*
 * BUG: the same, for a paged-out gfn the guest released and used again
 * before the pager loaded it. The load finds the gfn is an ordinary page
 * (prep: -ENOENT; it nominates again), settles it resident, and the drop
 * request of the release is still on the ring when the pager pages the
 * gfn out again.
 */
START_TEST(stale_drop_after_load_of_released_gfn)
{
	struct env e;
	uint64_t g = 5;
	uint8_t page[4096];
	void *b[1] = { page };
	int st = 0;

	up(&e, "xen-4.15", 1);
	page_out(&e, g, page);
	release_foreign(&e, g);
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_WRITE), 0);
	ck_assert_int_eq(xpage_load(e.xp, &g, 1, b, XPAGE_LOAD_RESUME, &st), 1);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_RESIDENT);
	page_out(&e, g, page);
	old_drop_keeps_page_out(&e, g, page);
	down(&e);
}
END_TEST

/*
 * The limit of the fix above: when the owed notice was never sent (a
 * foreign release while the ring was full), the next drop notice for the
 * gfn is a newer release and is answered without a callback. The gfn
 * must still come out right: the next un-nomination finds it released
 * and settles it, and nothing is left nominated or paged.
 */
START_TEST(drop_after_lost_owed_notice_settles)
{
	struct env e;
	struct xpage_sim_report r;
	uint64_t g = 5;
	int st = 0, rc;

	up(&e, "xen-4.15", 1);
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	release_with_full_ring(&e, g);          /* no notice at all */
	ck_assert_int_eq(xpage_sim_touch(e.sim, e.domid, 0, g,
					 XPAGE_SIM_TOUCH_WRITE), 0);
	ck_assert_int_eq(xpage_unnominate(e.xp, &g, 1, 0, &st), 1);
	/* a second round: nominated, released, its notice read */
	ck_assert_int_eq(xpage_nominate(e.xp, &g, 1, 0, &st), 1);
	release_foreign(&e, g);
	ck_assert_int_eq(xpage_dispatch(e.xp, 100), 1);
	ck_assert_int_eq(drops, 0);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_NOMINATED);
	/* the pager's next step finds it released: nothing to map, and so
	 * nothing the library lets it evict */
	ck_assert_ptr_null(xpage_map(e.xp, &g, 1, 0, &st));
	ck_assert_int_eq(xpage_evict(e.xp, &g, 1, 0, &st), 0);
	ck_assert_int_eq(st, -EINVAL);
	ck_assert_int_eq(xpage_unnominate(e.xp, &g, 1, 0, &st), 1);
	ck_assert_int_eq(xpage_gfn_state(e.xp, g), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_close(e.xp), 0);
	e.xp = NULL;
	report(&e, &r);
	rc = xpage_sim_touch(e.sim, e.domid, 0, g, 0);
	ck_assert_msg(r.nominated == 0 && r.paged == 0 && rc == 0,
		      "after close: %llu nominated, %llu paged; a guest access: "
		      "%s", (unsigned long long)r.nominated,
		      (unsigned long long)r.paged, xpage_strerror(rc));
	down(&e);
}
END_TEST

static void tests(TCase *tc)
{
	tcase_add_test(tc, foreign_touch_of_nominated_gfn);
	tcase_add_test(tc, release_of_nominated_gfn_with_full_ring);
	tcase_add_test(tc, close_with_evict_refused);
	tcase_add_test(tc, age2_nominate_of_released_gfn);
	tcase_add_test(tc, tail_padding_is_not_an_unknown_field);
	tcase_add_test(tc, close_with_vcpus_waiting_for_ring_space);
	tcase_add_test(tc, load_of_released_gfn);
	tcase_add_test(tc, unnominate_with_evict_refused);
	tcase_add_test(tc, sim_unmap_of_gfn_all_ones);
	tcase_add_test(tc, stale_request_after_renominate);
	tcase_add_test(tc, load_of_gfn_released_with_full_ring);
	tcase_add_test(tc, sz_inside_a_field);
	tcase_add_test(tc, load_of_requested_gfn_released_with_full_ring);
	tcase_add_test(tc, stale_drop_after_unnominate_of_released_gfn);
	tcase_add_test(tc, stale_drop_after_load_of_released_gfn);
	tcase_add_test(tc, drop_after_lost_owed_notice_settles);
	tcase_add_test(tc, unnominate_without_memory_keeps_the_copy);
	tcase_add_test(tc, close_loads_kept_pages_back);
}

int main(void)
{
	return fx_main("repro", "bugs", 60, tests);
}
