/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage_relocate(): each gfn's answer for each state it may be in, each
 * misuse every batch call refuses, and the oracle's verdict after it
 * (no page lost or corrupted, no vCPU stuck). The tests on machine
 * frames and under a running workload are in test_frames.c.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"
#include "frames_fixture.h"
#include "simp_call.h"

#define PAGES 64u
#define PAGE 4096u

static uint8_t copy[PAGES][PAGE];

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	void *b[1] = { copy[ev->gfn] };
	int st;

	(void)user;
	xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st);
}

static const struct xpage_callbacks callbacks = {
	.sz = sizeof(struct xpage_callbacks), .populate = on_populate,
};

static xpage_sim_t *sim;
static uint32_t domid;

static xpage_t *up(void)
{
	sim = fx_sim_start(NULL);
	domid = fx_guest(sim, NULL, 2, PAGES, 3);
	return fx_open(sim, domid, NULL, &callbacks, "xpage_open");
}

/* Page gfn @g out, keeping its copy. */
static void page_out(xpage_t *xp, uint64_t g)
{
	int st;
	uint8_t *m;

	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), 1);
	m = xpage_map(xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	memcpy(copy[g], m, PAGE);
	ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(xp, &g, 1, 0, &st), 1);
}

/* Another client (a device model) maps @g: its frame has a second
 * reference. Returns the connection that holds it. */
static int foreign_map(uint64_t g)
{
	int s = simp_connect(xpage_sim_socket(sim)), fds[2], nfds = 2;
	struct simp_u32 att = { .v = domid };
	struct simp_dominfo di;
	uint64_t req[2] = { 1 | ((uint64_t)PROT_READ << 32), g };
	struct { struct simp_results r; int32_t rc[1]; } res;

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(simp_call(s, SIMP_ATTACH, &att, sizeof(att), &di,
				   sizeof(di), NULL, fds, &nfds), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	ck_assert_int_eq(simp_call(s, SIMP_MAP, req, sizeof(req), &res,
				   sizeof(res), NULL, NULL, NULL), 0);
	ck_assert_int_eq(res.rc[0], 0);
	return s;
}

START_TEST(answers_per_state)
{
	xpage_t *xp = up();
	uint64_t g[6] = { 1, 2, 3, 4, 1, PAGES + 100 };
	int st[6], held, rc;

	page_out(xp, 2);                               /* EVICTED */
	ck_assert_int_eq(xpage_nominate(xp, &g[2], 1, 0, st), 1); /* NOMINATED */
	held = foreign_map(4);                         /* mapped elsewhere */
	rc = xpage_relocate(xp, g, 6, 0, st);
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EALREADY);
	ck_assert_int_eq(st[2], -EINVAL);
	ck_assert_int_eq(st[3], -EBUSY);
	ck_assert_int_eq(st[4], -EALREADY);            /* listed twice */
	ck_assert_int_eq(st[5], -ERANGE);
	ck_assert_int_eq(xpage_gfn_state(xp, 1), XPAGE_GFN_RESIDENT);
	ck_assert_int_eq(xpage_gfn_state(xp, 2), XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_gfn_state(xp, 3), XPAGE_GFN_NOMINATED);
	ck_assert_int_eq(xpage_gfn_state(xp, 4), XPAGE_GFN_RESIDENT);
	close(held);           /* the mapping goes, once the simulator sees */
	for (int i = 0; i < 100 && (rc = xpage_relocate(xp, &g[3], 1, 0,
							st)) == 0; i++) {
		ck_assert_int_eq(st[0], -EBUSY);
		usleep(10000);
	}
	ck_assert_int_eq(rc, 1);
	/* gfn 2 is still out: paging stays enabled */
	ck_assert_int_eq(xpage_close(xp), -ENOTEMPTY);
	fx_verdict(sim, domid, 0, "after relocating and closing");
}
END_TEST

/* Every RAM gfn, twice, the guest's vCPUs reading and writing: each
 * comes back with its contents. */
START_TEST(whole_guest_keeps_its_contents)
{
	xpage_t *xp = up();
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.write_pct = 30, .think_us = 50, .seed = 9);
	uint64_t g[PAGES];
	int st[PAGES], moved = 0;

	for (size_t i = 0; i < PAGES; i++)
		g[i] = i;
	ck_assert_int_eq(xpage_sim_workload(sim, domid, &w), 0);
	for (int round = 0; round < 2; round++) {
		int rc = xpage_relocate(xp, g, PAGES, 0, st);

		ck_assert_int_ge(rc, 0);
		moved += rc;
		for (size_t i = 0; i < PAGES; i++)
			ck_assert_msg(st[i] == 0 || st[i] == -EBUSY,
				      "gfn %zu: %s", i, xpage_strerror(st[i]));
		while (xpage_dispatch(xp, 50) > 0)
			;
	}
	ck_assert_int_gt(moved, (int)PAGES);
	ck_assert_int_eq(xpage_sim_workload_stop(sim, domid), 0);
	ck_assert_int_eq(xpage_close(xp), 0);
	fx_verdict(sim, domid, 0, "after relocating under a workload");
}
END_TEST

START_TEST(misuse)
{
	xpage_t *xp = up();
	uint64_t g = 1;
	int st = 0;
	pid_t pid;

	ck_assert_int_eq(xpage_relocate(xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_relocate(xp, NULL, 1, 0, &st), -EINVAL);
	ck_assert_int_eq(xpage_relocate(xp, &g, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(xpage_relocate(xp, &g, 1, 1u << 3, &st), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(xpage_relocate(xp, &g, 1, 0, &st) == -ECHILD ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "a child's relocate was not refused with ECHILD");
	ck_assert_int_eq(xpage_gfn_state(xp, 1), XPAGE_GFN_RESIDENT);
	fx_verdict(sim, domid, 0, "after misuse");
	fx_sim_stop();
	ck_assert_int_eq(xpage_relocate(xp, &g, 1, 0, &st), -EIO);
	xpage_close(xp);
}
END_TEST

/* Every personality (age 1 and age 2, every ring generation): each gfn
 * ends on another frame with its contents. */
START_TEST(every_personality_moves_frames)
{
	char names[2048], *save = NULL;

	sim = fx_sim_start(NULL);
	ck_assert_int_gt(xpage_sim_personalities(sim, names, sizeof(names)),
			 0);
	for (char *p = strtok_r(names, "\n", &save); p;
	     p = strtok_r(NULL, "\n", &save)) {
		uint64_t g[16], old[16];
		int st[16];
		xpage_t *xp;

		if (strstr(p, "nopaging"))
			continue;
		domid = fx_guest(sim, p, 1, PAGES, 5);
		xp = fx_open(sim, domid, NULL, &callbacks, "%s: xpage_open", p);
		for (size_t i = 0; i < 16; i++) {
			g[i] = i;
			old[i] = fx_frame_of(sim, domid, i);
		}
		ck_assert_msg(xpage_relocate(xp, g, 16, 0, st) == 16,
			      "%s: gfn 0: %s", p, xpage_strerror(st[0]));
		for (size_t i = 0; i < 16; i++)
			ck_assert_msg(fx_frame_of(sim, domid, i) != old[i],
				      "%s: gfn %zu kept its frame", p, i);
		ck_assert_int_eq(xpage_close(xp), 0);
		fx_verdict(sim, domid, 0, p);
	}
}
END_TEST

static void add(TCase *tc)
{
	tcase_add_test(tc, every_personality_moves_frames);
	tcase_add_test(tc, answers_per_state);
	tcase_add_test(tc, whole_guest_keeps_its_contents);
	tcase_add_test(tc, misuse);
}

int main(void)
{
	return fx_main("relocate", "relocate", 120, add);
}
