/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Machine frames through the library: a guest moved off 10,000 failing
 * frames while it runs (xpage_frame_offline, xpage_frame_query,
 * xpage_relocate), the frames of other kinds refused with their reason,
 * and each misuse of the host calls. The simulator's oracle gives the
 * verdict: no page lost or corrupted, no vCPU stuck.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"
#include "host_backend.h" /* the handle, to hold it "inside" */
#include "frames_fixture.h"
#include "simp_call.h"

#define GUEST_PAGES 16384u
#define MOVED 10000u

static xpage_sim_t *sim;
static uint32_t domid;

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	(void)xp, (void)ev, (void)user; /* nothing is paged out here */
}

static const struct xpage_callbacks callbacks = {
	.sz = sizeof(struct xpage_callbacks), .populate = cb_populate,
};

static xpage_host_t *host_open(void)
{
	struct xpage_host_opts o = XPAGE_OPTS(xpage_host_opts,
		.backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(sim));
	xpage_host_t *h = xpage_host_open(&o);

	ck_assert_msg(h, "xpage_host_open: %s", strerror(errno));
	return h;
}

/* Relocate every gfn of @g (n), retrying the refused ones after the
 * notices that settle them, until all moved. */
static void relocate_all(xpage_t *xp, uint64_t *g, size_t n)
{
	int *st = malloc(n * sizeof(*st));

	for (int round = 0; n && round < 200; round++) {
		size_t left = 0;
		int rc = xpage_relocate(xp, g, n, 0, st);

		ck_assert_msg(rc >= 0, "xpage_relocate: %s", xpage_strerror(rc));
		for (size_t i = 0; i < n; i++) {
			ck_assert_msg(st[i] == 0 || st[i] == -EBUSY,
				      "gfn %llu: %s", (unsigned long long)g[i],
				      xpage_strerror(st[i]));
			if (st[i])
				g[left++] = g[i];
		}
		n = left;
		while (xpage_dispatch(xp, 10) > 0)
			;
	}
	ck_assert_msg(n == 0, "%zu gfns could not be moved", n);
	free(st);
}

START_TEST(guest_moves_off_failing_frames)
{
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.write_pct = 40, .think_us = 20, .seed = 5);
	uint64_t *old = malloc(MOVED * sizeof(*old));
	uint64_t *now = malloc(MOVED * sizeof(*now));
	uint64_t *g = malloc(MOVED * sizeof(*g));
	struct xpage_frame_info *fi = calloc(MOVED, sizeof(*fi));
	int *st = malloc(MOVED * sizeof(*st));
	xpage_host_t *h;
	xpage_t *xp;

	sim = fx_sim_start(NULL);
	domid = fx_guest(sim, NULL, 2, GUEST_PAGES, 11);
	xp = fx_open(sim, domid, NULL, &callbacks, "xpage_open");
	h = host_open();
	ck_assert_int_eq(xpage_sim_workload(sim, domid, &w), 0);
	fx_frames_of(sim, domid, 0, MOVED, old);
	/* every frame of the guest's: pending, the guest owns it */
	ck_assert_int_eq(xpage_frame_offline(h, old, MOVED, 0, st), 0);
	for (size_t i = 0; i < MOVED; i++)
		ck_assert_int_eq(st[i], -EAGAIN);
	fi[0].sz = sizeof(*fi);
	ck_assert_int_eq(xpage_frame_query(h, old, MOVED, fi), (int)MOVED);
	for (size_t i = 0; i < MOVED; i++) {
		ck_assert_uint_eq(fi[i].state, XPAGE_FRAME_OFFLINE_PENDING);
		ck_assert_uint_eq(fi[i].owner, domid);
		g[i] = fi[i].gfn;
		ck_assert_uint_eq(g[i], i);
	}
	relocate_all(xp, g, MOVED);
	/* every old frame offlined, no gfn on a frame that was marked */
	ck_assert_int_eq(xpage_frame_query(h, old, MOVED, fi), (int)MOVED);
	for (size_t i = 0; i < MOVED; i++)
		ck_assert_msg(fi[i].state == XPAGE_FRAME_OFFLINED,
			      "frame 0x%llx (gfn %zu) is not offlined",
			      (unsigned long long)old[i], i);
	fx_frames_of(sim, domid, 0, MOVED, now);
	ck_assert_int_eq(xpage_frame_query(h, now, MOVED, fi), (int)MOVED);
	for (size_t i = 0; i < MOVED; i++) {
		ck_assert_msg(fi[i].state == XPAGE_FRAME_ONLINE &&
			      fi[i].gfn == i, "gfn %zu is on frame 0x%llx, "
			      "state %u, M2P gfn %llu", i,
			      (unsigned long long)now[i], fi[i].state,
			      (unsigned long long)fi[i].gfn);
		ck_assert_uint_ne(now[i], old[i]);
	}
	ck_assert_int_eq(xpage_sim_workload_stop(sim, domid), 0);
	ck_assert_int_eq(xpage_close(xp), 0);
	fx_verdict(sim, domid, XPAGE_SIM_REPORT_FINAL,
		   "after moving 10,000 gfns");
	/* the operator's undo: the frames come back to the pool */
	ck_assert_int_eq(xpage_frame_online(h, old, MOVED, 0, st), (int)MOVED);
	xpage_host_close(h);
	free(old), free(now), free(g), free(fi), free(st);
}
END_TEST

/* Each kind of frame, its answer and its reason. */
START_TEST(other_kinds_refused_with_reason)
{
	const uint64_t m[] = { SIMP_MFN_XEN_FIRST, SIMP_MFN_XENHEAP_FIRST,
			       SIMP_MFN_DOM0_FIRST, SIMP_MFN_IO_FIRST,
			       1ull << 40 };
	const int want[] = { -EPERM, -EPERM, -EPERM, -EINVAL, -EINVAL };
	/* Xen's query says nothing of a frame in service: its image's
	 * frames read as online, owner unknown; the offline said -EPERM */
	const uint32_t reason[] = { XPAGE_FRAME_REASON_NONE,
		XPAGE_FRAME_REASON_XEN, XPAGE_FRAME_REASON_DOM0,
		XPAGE_FRAME_REASON_NOT_RAM, XPAGE_FRAME_REASON_NO_FRAME };
	struct xpage_frame_info fi[5] = { { .sz = sizeof(fi[0]) } };
	uint64_t freed;
	int st[5];
	xpage_host_t *h;

	sim = fx_sim_start(NULL);
	domid = fx_guest(sim, NULL, 1, 64, 2);
	h = host_open();
	ck_assert_int_eq(xpage_frame_offline(h, m, 5, 0, st), 0);
	ck_assert_int_eq(xpage_frame_query(h, m, 5, fi), 3);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(st[i] == want[i], "frame 0x%llx: %s",
			      (unsigned long long)m[i], xpage_strerror(st[i]));
		ck_assert_uint_eq(fi[i].reason, reason[i]);
		ck_assert_uint_eq(fi[i].gfn, XPAGE_GFN_INVALID);
	}
	ck_assert_uint_eq(fi[0].owner, XPAGE_OWNER_UNKNOWN);
	ck_assert_uint_eq(fi[0].state, XPAGE_FRAME_ONLINE);
	ck_assert_uint_eq(fi[1].owner, XPAGE_OWNER_XEN);
	ck_assert_uint_eq(fi[1].state, XPAGE_FRAME_OFFLINE_PENDING);
	ck_assert_uint_eq(fi[2].owner, 0);
	ck_assert_uint_eq(fi[2].state, XPAGE_FRAME_OFFLINE_PENDING);
	/* a free frame goes at once: the guest's, once it is destroyed */
	fx_frames_of(sim, domid, 0, 1, &freed);
	ck_assert_int_eq(xpage_sim_destroy_guest(sim, domid), 0);
	ck_assert_int_eq(xpage_frame_offline(h, &freed, 1, 0, st), 1);
	ck_assert_int_eq(xpage_frame_query(h, &freed, 1, fi), 1);
	ck_assert_uint_eq(fi[0].state, XPAGE_FRAME_OFFLINED);
	ck_assert_uint_eq(fi[0].owner, XPAGE_OWNER_NONE);
	ck_assert_int_eq(xpage_frame_online(h, &freed, 1, 0, st), 1);
	ck_assert_int_eq(xpage_frame_online(h, m + 1, 2, 0, st), 2);
	xpage_host_close(h);
}
END_TEST

static void *other_thread(void *arg)
{
	uint64_t m = SIMP_MFN_POOL_FIRST;
	int st;

	return (void *)(intptr_t)xpage_frame_online(arg, &m, 1, 0, &st);
}

START_TEST(host_calls_misused)
{
	struct xpage_host_opts bad = XPAGE_OPTS(xpage_host_opts,
		.backend = 7);
	struct xpage_frame_info fi = { .sz = 3 };
	uint64_t m = SIMP_MFN_POOL_FIRST;
	xpage_host_t *h;
	pthread_t t;
	void *ret;
	int st, ws;
	pid_t pid;

	sim = fx_sim_start(NULL);
	domid = fx_guest(sim, NULL, 1, 64, 2);
	ck_assert_ptr_null(xpage_host_open(&bad));
	ck_assert_int_eq(errno, EINVAL);
	h = host_open();
	ck_assert_int_eq(xpage_frame_offline(NULL, &m, 1, 0, &st), -EINVAL);
	ck_assert_int_eq(xpage_frame_offline(h, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_frame_offline(h, NULL, 1, 0, &st), -EINVAL);
	ck_assert_int_eq(xpage_frame_offline(h, &m, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(xpage_frame_online(h, &m, 1, 1, &st), -EINVAL);
	ck_assert_int_eq(xpage_frame_query(h, &m, 1, NULL), -EINVAL);
	ck_assert_int_eq(xpage_frame_query(h, &m, 1, &fi), -EINVAL);
	ck_assert_int_eq(xpage_frame_query(h, NULL, 0, NULL), 0);
	/* another thread while one is inside: simulated by holding it */
	h->inside = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, h), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_int_eq((int)(intptr_t)ret, -EBUSY);
	h->inside = 0;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(xpage_frame_online(h, &m, 1, 0, &st) == -ECHILD ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		      "a child's call was not refused with ECHILD");
	fx_sim_stop();
	ck_assert_int_eq(xpage_frame_online(h, &m, 1, 0, &st), -EIO);
	xpage_host_close(h);
	xpage_host_close(NULL);
}
END_TEST

static void add(TCase *tc)
{
	tcase_add_test(tc, guest_moves_off_failing_frames);
	tcase_add_test(tc, other_kinds_refused_with_reason);
	tcase_add_test(tc, host_calls_misused);
}

int main(void)
{
	return fx_main("frames", "frames", 240, add);
}
