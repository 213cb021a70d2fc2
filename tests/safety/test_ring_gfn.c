/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ring gfn leaves the guest's physmap before the ring is used, on
 * every personality with paging, after a plain open and after a takeover:
 * when xpage_open returns (before any request was read),
 *   - the simulator's p2m has no entry for the ring gfn;
 *   - a guest vCPU writing to it faults instead of writing the ring;
 *   - another mapper (a device model, a second pager) cannot map it.
 * (The Xen backend's call order, decrease_reservation inside enable and
 * before the ring is handed to the core, is pinned by tests/xen_backend:
 * enable_order_with_populate, enable_order_mapped_first_time,
 * enable_decrease_fails_undoes_all.)
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"
#include "simp_call.h"

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp; (void)ev; (void)u;
}

static int raw_sock(xpage_sim_t *sim)
{
	int s = simp_connect(xpage_sim_socket(sim));

	ck_assert_int_ge(s, 0);
	return s;
}

static void check_out_of_physmap(xpage_sim_t *sim, uint32_t domid,
				 uint64_t ring_gfn, const char *pers,
				 const char *when)
{
	int s = raw_sock(sim), fds[2], nfds = 2, rc;
	struct simp_touch t = { .domid = domid, .gfn = ring_gfn };
	struct simp_gfn_state gs;
	struct simp_u32 att = { .v = domid };
	struct simp_dominfo di;
	uint64_t req[2];
	struct { struct simp_results r; int32_t rc[1]; } res;
	uint32_t len = 0;

	rc = simp_call(s, SIMP_GFN_STATE, &t, sizeof(t), &gs, sizeof(gs), &len,
		       NULL, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(gs.p2mt == SIMP_P2M_INVALID, "%s, %s: the ring gfn %#llx "
		      "is still in the guest physmap (p2m type %u)", pers, when,
		      (unsigned long long)ring_gfn, gs.p2mt);
	/* the guest writes to it: a fault, not a write into the ring */
	rc = xpage_sim_touch(sim, domid, 0, ring_gfn, XPAGE_SIM_TOUCH_WRITE);
	ck_assert_msg(rc == -EFAULT, "%s, %s: a guest write to the ring gfn: %s",
		      pers, when, xpage_strerror(rc));
	/* another client (a device model, a second pager) maps it */
	rc = simp_call(s, SIMP_ATTACH, &att, sizeof(att), &di, sizeof(di), NULL,
		       fds, &nfds);
	ck_assert_int_eq(rc, 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	/* struct simp_gfns { u32 n; u32 prot; u64 gfns[]; } */
	req[0] = 1 | ((uint64_t)(PROT_READ | PROT_WRITE) << 32);
	req[1] = ring_gfn;
	rc = simp_call(s, SIMP_MAP, req, sizeof(req), &res, sizeof(res), NULL,
		       NULL, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(res.rc[0] != 0, "%s, %s: another client mapped the ring "
		      "gfn", pers, when);
	close(s);
}

START_TEST(ring_gfn_out_before_use)
{
	xpage_sim_t *sim = fx_sim_start(NULL);
	char names[2048], *save = NULL;
	int n;

	n = xpage_sim_personalities(sim, names, sizeof(names));
	ck_assert_int_gt(n, 0);
	for (char *p = strtok_r(names, "\n", &save); p;
	     p = strtok_r(NULL, "\n", &save)) {
		struct xpage_open_opts takeover = XPAGE_OPTS(xpage_open_opts,
			.flags = XPAGE_OPEN_TAKEOVER);
		struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
			.populate = cb_populate);
		struct xpage_stats st = XPAGE_OPTS(xpage_stats);
		uint32_t domid;
		xpage_t *xp, *xp2;

		if (strstr(p, "nopaging"))
			continue;
		domid = fx_guest(sim, p, 2, 256, 1);
		xp = fx_open(sim, domid, NULL, &cb, "%s: xpage_open", p);
		ck_assert_int_eq(xpage_get_stats(xp, &st), 0);
		ck_assert_uint_eq(st.requests, 0); /* the ring is not used yet */
		check_out_of_physmap(sim, domid, 256, p, "after open");
		/* a pager that dies; the next one takes the ring over */
		ck_assert_int_eq(xpage_detach(xp, 0), 0);
		xp2 = fx_open(sim, domid, &takeover, &cb, "%s: takeover", p);
		check_out_of_physmap(sim, domid, 256, p, "after takeover");
		ck_assert_int_eq(xpage_close(xp2), 0);
		ck_assert_int_eq(xpage_sim_destroy_guest(sim, domid), 0);
	}
	fx_sim_stop();
}
END_TEST

static void tests(TCase *tc)
{
	tcase_add_test(tc, ring_gfn_out_before_use);
}

int main(void)
{
	return fx_main("ring-gfn", "ring-gfn", 60, tests);
}
