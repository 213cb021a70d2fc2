/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <xpage/sim.h> through the built library: start, drive, stop. */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "checkrun.h"

START_TEST(t_start_stop)
{
	char logp[] = "/tmp/xpage-simapi-log.XXXXXX";
	struct xpage_sim_opts o = XPAGE_OPTS(xpage_sim_opts);
	xpage_sim_t *sim;
	char path[256], dir[256], *slash;
	int fd = mkstemp(logp);

	ck_assert_int_ge(fd, 0);
	close(fd);
	o.log_path = logp;
	sim = xpage_sim_start(&o);
	ck_assert_msg(sim, "start: %s", strerror(errno));
	ck_assert_int_gt(xpage_sim_pid(sim), 0);
	snprintf(path, sizeof(path), "%s", xpage_sim_socket(sim));
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	ck_assert(slash);
	*slash = '\0';
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_ne(access(dir, F_OK), 0);   /* its directory too */
	unlink(logp);
	ck_assert_int_eq(xpage_sim_stop(NULL), 0);
}
END_TEST

START_TEST(t_start_errors)
{
	struct xpage_sim_opts o = XPAGE_OPTS(xpage_sim_opts,
					     .simd_path = "/nonexistent/simd");
	struct { struct xpage_sim_opts o; uint64_t more; } big;

	errno = 0;
	ck_assert_ptr_null(xpage_sim_start(&o));
	ck_assert_int_eq(errno, ENOENT);
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.more = 1;
	ck_assert_ptr_null(xpage_sim_start(&big.o));
	ck_assert_int_eq(errno, E2BIG);
	o.sz = 2;
	ck_assert_ptr_null(xpage_sim_start(&o));
	ck_assert_int_eq(errno, EINVAL);
	/* A simulator that refuses its options exits: EIO, not a hang. */
	o = XPAGE_OPTS(xpage_sim_opts, .socket_path = "/nonexistent/dir/s");
	ck_assert_ptr_null(xpage_sim_start(&o));
	ck_assert_int_eq(errno, EIO);
}
END_TEST

START_TEST(t_drive)
{
	xpage_sim_t *sim = xpage_sim_start(NULL);
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
		.pages = 64, .vcpus = 2, .personality = "xen-4.13", .seed = 3);
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.write_pct = 50, .think_us = 10, .seed = 1);
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults,
		.seed = 1, .nominate_ebusy_pm = 10);
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int domid;

	ck_assert(sim);
	domid = xpage_sim_create_guest(sim, &g);
	ck_assert_int_gt(domid, 0);
	g.domid = (uint32_t)domid;
	ck_assert_int_eq(xpage_sim_create_guest(sim, &g), -EEXIST);
	ck_assert_int_eq(errno, EEXIST);
	g.domid = 0;
	g.personality = "xen-0.1";
	ck_assert_int_eq(xpage_sim_create_guest(sim, &g), -ENOENT);
	g.personality = NULL;
	g.flags = 1u << 9;
	ck_assert_int_eq(xpage_sim_create_guest(sim, &g), -EINVAL);
	g.flags = 0;
	g.pages = 0;
	ck_assert_int_eq(xpage_sim_create_guest(sim, &g), -EINVAL);

	ck_assert_int_eq(xpage_sim_touch(sim, (uint32_t)domid, 1, 5,
					 XPAGE_SIM_TOUCH_WRITE), 0);
	ck_assert_int_eq(xpage_sim_touch(sim, (uint32_t)domid, 0, 64 + 9, 0),
			 -ERANGE);
	ck_assert_int_eq(xpage_sim_touch(sim, (uint32_t)domid, 0, 5, 1u << 7),
			 -EINVAL);
	ck_assert_int_eq(xpage_sim_touch(sim, 999, 0, 5, 0), -ESRCH);
	ck_assert_int_eq(xpage_sim_release(sim, (uint32_t)domid, 6), 0);
	ck_assert_int_eq(xpage_sim_release(sim, (uint32_t)domid, 6), -ENOENT);
	ck_assert_int_eq(xpage_sim_touch(sim, (uint32_t)domid, 0, 6, 0), 0);
	ck_assert_int_eq(xpage_sim_faults(sim, (uint32_t)domid, &f), 0);
	ck_assert_int_eq(xpage_sim_workload(sim, (uint32_t)domid, &w), 0);
	usleep(20000);
	ck_assert_int_eq(xpage_sim_workload_stop(sim, (uint32_t)domid), 0);
	ck_assert_int_eq(xpage_sim_report(sim, (uint32_t)domid, 0, 1000, &r),
			 0);
	ck_assert_uint_eq(r.pages, 64);
	ck_assert_uint_gt(r.accesses, 3);
	ck_assert_uint_eq(r.lost + r.corrupted + r.stuck, 0);
	ck_assert_int_eq(xpage_sim_report(sim, (uint32_t)domid, 1u << 5, 0,
					  &r), -EINVAL);
	/* A size no release of the struct had is refused, not half filled
	 * (1.0 is the first release: its sizeof is the only valid size). */
	{
		struct { size_t sz; uint64_t pages; uint64_t guard; } old = {
			offsetof(struct xpage_sim_report, paged), 0, 77 };

		ck_assert_int_eq(xpage_sim_report(sim, (uint32_t)domid,
				 XPAGE_SIM_REPORT_FINAL, 0,
				 (struct xpage_sim_report *)&old), -EINVAL);
		ck_assert_uint_eq(old.pages, 0);
		ck_assert_uint_eq(old.guard, 77);
	}
	ck_assert_int_eq(xpage_sim_destroy_guest(sim, (uint32_t)domid), 0);
	ck_assert_int_eq(xpage_sim_destroy_guest(sim, (uint32_t)domid), -ESRCH);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

START_TEST(t_personalities)
{
	xpage_sim_t *sim = xpage_sim_start(NULL);
	char buf[512], small[8];
	int n;

	ck_assert(sim);
	n = xpage_sim_personalities(sim, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert(strstr(buf, "xen-4.15\n"));
	ck_assert(strstr(buf, "xen-4.2-age2\n"));
	ck_assert_int_eq(xpage_sim_personalities(sim, small, sizeof(small)),
			 -ENOSPC);
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

/* Connecting to a running simulator: not ours to stop. */
START_TEST(t_connect)
{
	xpage_sim_t *sim = xpage_sim_start(NULL), *other;
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
						   .pages = 8);
	int pid;

	ck_assert(sim);
	pid = xpage_sim_pid(sim);
	other = xpage_sim_connect(xpage_sim_socket(sim));
	ck_assert(other);
	ck_assert_int_eq(xpage_sim_pid(other), 0);
	ck_assert_int_gt(xpage_sim_create_guest(other, &g), 0);
	ck_assert_int_eq(xpage_sim_stop(other), 0);
	ck_assert_int_eq(kill(pid, 0), 0);        /* still running */
	ck_assert_ptr_null(xpage_sim_connect("/nonexistent/sock"));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

static void no_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	(void)xp; (void)ev; (void)user;
}

/* xpage_ram_ranges() on the sim backend: RAM is gfns 0 .. pages - 1, in
 * the dense layout and in the PVH one, whose nr_gfns is 0xff000. */
START_TEST(t_ram_ranges)
{
	static const char *const pers[] = { "xen-4.15", "xen-4.17-pvh" };
	xpage_sim_t *sim = xpage_sim_start(NULL);

	ck_assert(sim);
	for (size_t i = 0; i < 2; i++) {
		struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
			.pages = 300, .personality = pers[i]);
		struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
			.populate = no_populate);
		struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
			.backend = XPAGE_BACKEND_SIM,
			.sim_socket = xpage_sim_socket(sim));
		struct xpage_info info = XPAGE_OPTS(xpage_info);
		struct xpage_gfn_range r[2];
		xpage_t *xp;

		o.domid = (uint32_t)xpage_sim_create_guest(sim, &g);
		xp = xpage_open(&o, &cb);
		ck_assert_ptr_nonnull(xp);
		ck_assert_int_eq(xpage_get_info(xp, &info), 0);
		ck_assert_uint_eq(info.nr_gfns, i ? 0xff000u : 301u);
		ck_assert_int_eq(xpage_ram_ranges(xp, r, 2), 1);
		ck_assert_uint_eq(r[0].first, 0);
		ck_assert_uint_eq(r[0].count, 300);
		ck_assert_int_eq(xpage_close(xp), 0);
	}
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

/* The rig's three releases (tests/xen/run --xen): the library reads the
 * version word each one writes into its requests, as real Xen showed
 * (4.14: vm_event v6, word 6; 4.17 and 4.20: v7, word 7), and loads no
 * hypervisor library on the simulator. */
START_TEST(t_rig_release_versions)
{
	static const struct { const char *pers; uint32_t minor, word; int gen; }
	rel[] = {
		{ "xen-4.14-pvh", 14, 6, XPAGE_GEN_VM_EVENT_V6 },
		{ "xen-4.17-pvh", 17, 7, XPAGE_GEN_VM_EVENT_V7 },
		{ "xen-4.20-pvh", 20, 7, XPAGE_GEN_VM_EVENT_V7 },
	};
	xpage_sim_t *sim = xpage_sim_start(NULL);

	ck_assert(sim);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
			.pages = 64, .personality = rel[i].pers);
		struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
			.populate = no_populate);
		struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
			.backend = XPAGE_BACKEND_SIM,
			.sim_socket = xpage_sim_socket(sim));
		struct xpage_info info = XPAGE_OPTS(xpage_info);
		uint64_t gfn = 7;
		int st;
		xpage_t *xp;
		void *m;

		o.domid = (uint32_t)xpage_sim_create_guest(sim, &g);
		xp = xpage_open(&o, &cb);
		ck_assert_ptr_nonnull(xp);
		ck_assert_int_eq(xpage_nominate(xp, &gfn, 1, 0, &st), 1);
		m = xpage_map(xp, &gfn, 1, 0, &st);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(xpage_unmap(xp, m, 1), 0);
		ck_assert_int_eq(xpage_evict(xp, &gfn, 1, 0, &st), 1);
		ck_assert_int_eq(xpage_sim_touch(sim, o.domid, 0, gfn, 0), -EAGAIN);
		ck_assert_int_ge(xpage_dispatch(xp, 1000), 1);
		ck_assert_int_eq(xpage_get_info(xp, &info), 0);
		ck_assert_uint_eq(info.xen_minor, rel[i].minor);
		ck_assert_int_eq(info.generation, rel[i].gen);
		ck_assert_uint_eq(info.request_version, rel[i].word);
		ck_assert_ptr_null(info.xen_library);
		xpage_detach(xp, 0);
		xpage_sim_destroy_guest(sim, o.domid);
	}
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

/* xpage_gfn_hints(): the simulated kernel's code (gfns 0x1000 .. +127 of
 * an 8,192-page guest, sim/kcode.c) is KERNEL_CODE; a gfn marked
 * HV_TOUCHED is refused by nominate, and the guest has some; the others
 * carry no hint; bad arguments are refused. */
START_TEST(t_gfn_hints)
{
	enum { PAGES = 8192 };
	xpage_sim_t *sim = xpage_sim_start(NULL);
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
		.pages = PAGES, .vcpus = 2, .personality = "xen-4.17-pvh");
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = no_populate);
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.backend = XPAGE_BACKEND_SIM);
	static uint64_t gfns[PAGES + 1];
	static uint32_t hints[PAGES + 1];
	unsigned touched = 0;
	xpage_t *xp;

	ck_assert(sim);
	o.sim_socket = xpage_sim_socket(sim);
	o.domid = (uint32_t)xpage_sim_create_guest(sim, &g);
	xp = xpage_open(&o, &cb);
	ck_assert_ptr_nonnull(xp);
	for (uint64_t i = 0; i <= PAGES; i++)
		gfns[i] = i;
	ck_assert_int_eq(xpage_gfn_hints(xp, gfns, PAGES + 1, 0, hints), 0);
	for (uint64_t i = 0; i <= PAGES; i++) {
		bool code = i >= 0x1000 && i < 0x1000 + PAGES / 64;
		int st = 0;

		ck_assert_msg(!(hints[i] & XPAGE_HINT_KERNEL_CODE) == !code,
			      "gfn %#llx: hints %#x", (unsigned long long)i,
			      hints[i]);
		if (!(hints[i] & XPAGE_HINT_HV_TOUCHED))
			continue;
		touched++;
		ck_assert_int_eq(xpage_nominate(xp, &gfns[i], 1, 0, &st), 0);
		ck_assert_int_eq(st, -EBUSY);
	}
	ck_assert_uint_gt(touched, 0);
	ck_assert_uint_eq(hints[PAGES], 0); /* beyond the guest's RAM */
	ck_assert_int_eq(xpage_gfn_hints(xp, gfns, 1, 1, hints), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(xpage_gfn_hints(xp, NULL, 1, 0, hints), -EINVAL);
	ck_assert_int_eq(xpage_gfn_hints(xp, gfns, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(xpage_gfn_hints(xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_gfn_hints(NULL, gfns, 1, 0, hints), -EINVAL);
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-api");
	TCase *t = check_tcase(s, "api", 30);

	tcase_add_test(t, t_start_stop);
	tcase_add_test(t, t_start_errors);
	tcase_add_test(t, t_drive);
	tcase_add_test(t, t_personalities);
	tcase_add_test(t, t_connect);
	tcase_add_test(t, t_ram_ranges);
	tcase_add_test(t, t_gfn_hints);
	tcase_add_test(t, t_rig_release_versions);
	return s;
}

int main(void)
{
	return check_main(suite);
}
