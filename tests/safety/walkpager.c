/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pager of the tests against Xen's own walks; see walkpager.h. */
#include "walkpager.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	struct pager *p = u;
	void *buf[1] = { p->store[ev->gfn] };
	int st;

	p->populates++;
	if (!p->load_now || !buf[0])
		return;
	if (xpage_load(xp, &ev->gfn, 1, buf, XPAGE_LOAD_RESUME, &st) == 1) {
		free(p->store[ev->gfn]);
		p->store[ev->gfn] = NULL;
	}
}

static void cb_gone(xpage_t *xp, uint64_t gfn, void *u)
{
	struct pager *p = u;

	(void)xp;
	free(p->store[gfn]);
	p->store[gfn] = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

xpage_t *wp_open(struct env *e, struct pager *p, bool replace, wp_hv_fn *hv,
		 uint32_t flags)
{
	static struct xp_backend_ops ops;
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.domid = e->domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(e->sim),
		.ages = XPAGE_AGES_ALL, .flags = flags);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks, .user = p,
		.populate = cb_populate, .evict_fail = cb_gone, .drop = cb_gone);

	if (!replace)
		return p->xp = fx_open(e->sim, e->domid, &o, &cb, "xpage_open");
	ops = xp_backend_sim;
	ops.hv_gfns = hv;
	p->xp = xp_open_with(&ops, &o, &cb);
	ck_assert_msg(p->xp, "xp_open_with: %s", strerror(errno));
	return p->xp;
}

void wp_write_out(struct pager *p, uint64_t *gfns, size_t n)
{
	int st[WP_BATCH];
	uint8_t *map = xpage_map(p->xp, gfns, n, 0, st);
	size_t k = 0;

	if (!map)
		return;
	for (size_t i = 0; i < n; i++) {
		if (st[i])
			continue;
		p->store[gfns[i]] = malloc(4096);
		ck_assert_ptr_nonnull(p->store[gfns[i]]);
		memcpy(p->store[gfns[i]], map + i * 4096, 4096);
		gfns[k++] = gfns[i];
	}
	xpage_unmap(p->xp, map, n);
	xpage_dispatch(p->xp, 0);
	xpage_evict(p->xp, gfns, k, 0, st);
	for (size_t i = 0; i < k; i++)
		if (st[i] && xpage_gfn_state(p->xp, gfns[i]) !=
			     XPAGE_GFN_EVICTED)
			cb_gone(p->xp, gfns[i], p);
}

/* Nominate the next WP_BATCH resident gfns (round the guest) and page out
 * the ones that stay nominated. */
static void page_out_batch(struct pager *p)
{
	uint64_t g[WP_BATCH];
	int st[WP_BATCH];
	size_t n = 0, k = 0;

	for (unsigned i = 0; i < WP_PAGES && n < WP_BATCH; i++) {
		uint64_t gfn = p->next++ % WP_PAGES;

		if (xpage_gfn_state(p->xp, gfn) == XPAGE_GFN_RESIDENT)
			g[n++] = gfn;
	}
	if (!n || xpage_nominate(p->xp, g, n, 0, st) <= 0)
		return;
	xpage_dispatch(p->xp, 0);
	for (size_t i = 0; i < n; i++)
		if (st[i] == 0 &&
		    xpage_gfn_state(p->xp, g[i]) == XPAGE_GFN_NOMINATED)
			g[k++] = g[i];
	if (k)
		wp_write_out(p, g, k);
}

static bool crashed(struct env *e)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid, 0, 60000, &r), 0);
	return r.crashed;
}

static void raw_op(struct env *e, uint16_t op, void *rsp, uint32_t len)
{
	ck_assert_int_eq(simp_call(e->raw, op, NULL, 0, rsp, len, NULL, NULL,
				   NULL), 0);
}

/* An op that fails on a lost domain: its status. */
static int raw_try(struct env *e, uint16_t op)
{
	return simp_call(e->raw, op, NULL, 0, NULL, 0, NULL, NULL, NULL);
}

void wp_run(struct env *e, struct pager *p, unsigned ms, unsigned wake_ms)
{
	uint64_t end = now_ms() + ms, wake = now_ms() + wake_ms;

	for (unsigned i = 0; now_ms() < end; i++) {
		if (i % 16 == 0 && crashed(e))
			return;
		if (wake_ms && now_ms() >= wake) {
			if (raw_try(e, SIMP_PAUSE) < 0 ||
			    raw_try(e, SIMP_UNPAUSE) < 0)
				return; /* lost */
			wake = now_ms() + wake_ms;
		}
		if (xpage_dispatch(p->xp, 1) < 0)
			return;
		page_out_batch(p);
	}
}

static int raw_attach(xpage_sim_t *sim, uint32_t domid)
{
	struct simp_u32 att = { domid, 0 };
	struct simp_dominfo di;
	int s = simp_connect(xpage_sim_socket(sim)), fds[2], nfds = 2;

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(simp_call(s, SIMP_ATTACH, &att, sizeof(att), &di,
				   sizeof(di), NULL, fds, &nfds), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return s;
}

void wp_up(struct env *e, const char *pers, uint32_t vcpus, uint32_t busy)
{
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_UNIFORM, .write_pct = 30, .think_us = 200,
		.vcpus = busy, .seed = 4);

	e->sim = fx_sim_start(NULL);
	e->domid = fx_guest(e->sim, pers, vcpus, WP_PAGES, 21);
	e->raw = raw_attach(e->sim, e->domid);
	if (busy)
		ck_assert_int_eq(xpage_sim_workload(e->sim, e->domid, &w), 0);
}

void wp_down(struct env *e)
{
	close(e->raw);
	fx_sim_stop();
}

void wp_crash_reason(struct env *e, char why[64])
{
	struct simp_report_req q = { .domid = e->domid, .stuck_ms = 60000 };
	struct simp_report r;

	ck_assert_int_eq(simp_call(e->raw, SIMP_REPORT, &q, sizeof(q), &r,
				   sizeof(r), NULL, NULL, NULL), 0);
	memcpy(why, r.crash_reason, 64);
	why[63] = '\0';
}

void wp_page_in_all(struct env *e, struct pager *p)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_workload_stop(e->sim, e->domid), 0);
	for (uint64_t g = 0; g < WP_PAGES; g++) {
		void *buf[1] = { p->store[g] };
		int st;

		if (buf[0] && xpage_gfn_state(p->xp, g) == XPAGE_GFN_EVICTED)
			ck_assert_int_eq(xpage_load(p->xp, &g, 1, buf,
						    XPAGE_LOAD_RESUME, &st), 1);
		cb_gone(p->xp, g, p);
	}
	xpage_dispatch(p->xp, 0);
	ck_assert_int_eq(xpage_close(p->xp), 0);
	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid,
					  XPAGE_SIM_REPORT_FINAL, 0, &r), 0);
	ck_assert_uint_eq(r.crashed, 0);
	ck_assert_uint_eq(r.lost, 0);
	ck_assert_uint_eq(r.corrupted, 0);
	ck_assert_uint_eq(r.stuck, 0);
	ck_assert_uint_eq(r.paged, 0);
}

void wp_abandon(struct pager *p)
{
	xpage_close(p->xp);
	for (uint64_t g = 0; g < WP_PAGES; g++)
		free(p->store[g]);
}

void wp_one_run(const char *pers, uint32_t busy, unsigned wake_ms,
		bool guarded, uint16_t known_op, const char *why)
{
	struct pager p = { .load_now = true };
	struct env e;
	char got[64];

	wp_up(&e, pers, 4, busy);
	if (!guarded && known_op)
		wp_know(&e, known_op);
	wp_open(&e, &p, !guarded, known_op ? wp_hv_known : NULL, 0);
	wp_run(&e, &p, guarded ? 800 : 10000, wake_ms);
	wp_crash_reason(&e, got);
	ck_assert_msg(!strcmp(got, guarded ? "" : why),
		      "%s, %s: crash reason \"%s\"", pers,
		      guarded ? "guarded" : "blind", got);
	if (guarded) {
		ck_assert_uint_gt(wp_stats(p.xp).hv_refused, 0);
		wp_page_in_all(&e, &p);
		wp_down(&e);
		return;
	}
	if (!known_op) /* it knew nothing: it refused nothing */
		ck_assert_uint_eq(wp_stats(p.xp).hv_refused, 0);
	wp_abandon(&p);
	wp_down(&e);
}

struct xpage_stats wp_stats(xpage_t *xp)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	return s;
}

void wp_runstate(struct env *e, struct simp_runstate *rs)
{
	raw_op(e, SIMP_RUNSTATE_GFNS, rs, sizeof(*rs));
}

int32_t wp_pauses(struct env *e, uint32_t vcpu)
{
	struct simp_touch t = { .domid = e->domid, .vcpu = vcpu };
	struct simp_vcpu_state v;

	ck_assert_int_eq(simp_call(e->raw, SIMP_VCPU_STATE, &t, sizeof(t), &v,
				   sizeof(v), NULL, NULL, NULL), 0);
	return (int32_t)v.vm_event_pause_count;
}

static uint64_t known[SIMP_RUNSTATE_MAX_VCPUS * SIMP_STACK_WALK];
static size_t nknown;

static void know_rows(const uint64_t *gfn, uint32_t vcpus, uint32_t per,
		      uint32_t width)
{
	nknown = 0;
	for (uint32_t v = 0; v < vcpus; v++)
		for (uint32_t i = 0; i < per; i++)
			known[nknown++] = gfn[(size_t)v * width + i];
}

void wp_know(struct env *e, uint16_t op)
{
	static union {
		struct simp_runstate rs;
		struct simp_stacks st;
	} u;

	if (op == SIMP_RUNSTATE_GFNS) {
		raw_op(e, op, &u.rs, sizeof(u.rs));
		know_rows(&u.rs.gfn[0][0], u.rs.vcpus, u.rs.per_vcpu,
			  SIMP_RUNSTATE_WALK);
	} else {
		raw_op(e, op, &u.st, sizeof(u.st));
		know_rows(&u.st.gfn[0][0], u.st.vcpus, u.st.per_vcpu,
			  SIMP_STACK_WALK);
	}
}

int wp_hv_known(struct xp_backend *be, uint64_t *gfns, size_t cap)
{
	size_t n = nknown < cap ? nknown : cap;

	(void)be;
	memcpy(gfns, known, n * sizeof(*gfns));
	return (int)n;
}
