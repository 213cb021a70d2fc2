/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Log-dirty scans (xpage_logdirty_enable / _scan / _disable) on the
 * simulator: what each call reports, that a page-in is not a write, that
 * log-dirty held by someone else is refused with -EBUSY and paging goes
 * on, that close and detach turn it off, and each misuse the other calls
 * of a handle are guarded against (bad sizes, another process, a second
 * thread, a callback, a dead connection).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"

#define PAGES 256u
#define PAGE 4096u

static struct {
	xpage_sim_t *sim;
	uint32_t domid;
	xpage_t *xp;
	char log[8192];
	size_t loglen;
	uint64_t nr;                    /* xpage_info.nr_gfns */
	uint64_t bits[(PAGES + 64) / 64 + 1];
	int cb_scan;                    /* what a scan in a callback said */
	uint8_t copy[PAGE];
} E;

static void on_log(void *ctx, int level, const char *msg)
{
	int n;

	(void)ctx, (void)level;
	n = snprintf(E.log + E.loglen, sizeof(E.log) - E.loglen, "%s\n", msg);
	if (n > 0 && E.loglen + (size_t)n < sizeof(E.log))
		E.loglen += (size_t)n;
}

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct xpage_logdirty_scan s = XPAGE_OPTS(xpage_logdirty_scan,
		.bitmap = E.bits, .nr_gfns = E.nr);
	void *b[1] = { E.copy };
	int st;

	(void)user;
	E.cb_scan = xpage_logdirty_scan(xp, &s);
	xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st);
}

static const struct xpage_callbacks callbacks = {
	.sz = sizeof(struct xpage_callbacks), .populate = on_populate,
};

static void up_pages(uint64_t pages)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.log_fn = on_log, .log_level = XPAGE_LOG_DEBUG);
	struct xpage_info i = XPAGE_OPTS(xpage_info);

	memset(&E, 0, sizeof(E));
	E.sim = fx_sim_start(NULL);
	E.domid = fx_guest(E.sim, NULL, 2, pages, 5);
	E.xp = fx_open(E.sim, E.domid, &o, &callbacks, "xpage_open");
	ck_assert_int_eq(xpage_get_info(E.xp, &i), 0);
	E.nr = i.nr_gfns;
}

static void up(void)
{
	up_pages(PAGES);
}

static void down(void)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	if (E.xp)
		ck_assert_int_eq(xpage_close(E.xp), 0);
	E.xp = NULL;
	ck_assert_int_eq(xpage_sim_report(E.sim, E.domid,
					  XPAGE_SIM_REPORT_FINAL, 1000, &r), 0);
	ck_assert_uint_eq(r.lost + r.corrupted + r.stuck + r.crashed, 0);
	fx_sim_stop();
}

/* A scan of every gfn into E.bits; its return value, dirty in *dirty. */
static int scan(unsigned flags, uint64_t *dirty)
{
	struct xpage_logdirty_scan s = XPAGE_OPTS(xpage_logdirty_scan,
		.flags = flags, .bitmap = E.bits, .nr_gfns = E.nr);
	int rc;

	memset(E.bits, 0xa5, sizeof(E.bits));
	rc = xpage_logdirty_scan(E.xp, &s);
	if (dirty)
		*dirty = s.dirty;
	return rc;
}

static bool bit(uint64_t g)
{
	return E.bits[g / 64] >> (g % 64) & 1;
}

/* Bits set in E.bits. The guest's idle vCPUs write their kernel stacks
 * now and then (timer hypercalls, sim/hypercall.c): those pages may show
 * up in any scan, so the tests look at the gfns they wrote themselves. */
static uint64_t count_bits(void)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < (E.nr + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(E.bits[w]);
	return n;
}

/* Not a stack page of the guest's vCPUs: a bit of their own. */
static bool stack_bit(uint64_t g)
{
	return g >= PAGES - 64 && bit(g);
}

static uint64_t stack_bits(void)
{
	uint64_t n = 0;

	for (uint64_t g = 0; g < E.nr; g++)
		n += stack_bit(g);
	return n;
}

static void touch(uint64_t g, unsigned flags)
{
	ck_assert_int_eq(xpage_sim_touch(E.sim, E.domid, 0, g, flags), 0);
}

START_TEST(scan_reports_writes_only)
{
	uint64_t d;

	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	touch(5, XPAGE_SIM_TOUCH_WRITE);
	touch(130, XPAGE_SIM_TOUCH_WRITE);
	touch(7, 0);
	ck_assert_int_eq(scan(XPAGE_LOGDIRTY_PEEK, &d), 0);
	ck_assert_uint_eq(d, count_bits());
	ck_assert_uint_eq(d - stack_bits(), 2);
	ck_assert(bit(5) && bit(130) && !bit(7) && !bit(6));
	/* PEEK left the log as it was; CLEAN reads and resets it */
	ck_assert_int_eq(scan(0, &d), 0);
	ck_assert(bit(5) && bit(130));
	ck_assert_int_eq(scan(0, &d), 0);
	ck_assert_uint_eq(d, count_bits());
	ck_assert(!bit(5) && !bit(130));
	ck_assert_uint_eq(d, stack_bits());
	/* nothing set past nr_gfns in the last word */
	ck_assert_uint_eq(E.nr % 64 ? E.bits[E.nr / 64] >> (E.nr % 64) : 0, 0);
	/* a foreign mapper's write counts */
	touch(9, XPAGE_SIM_TOUCH_WRITE | XPAGE_SIM_TOUCH_FOREIGN);
	ck_assert_int_eq(scan(0, &d), 0);
	ck_assert(d - stack_bits() == 1 && bit(9));
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), -EALREADY);
	ck_assert_int_eq(xpage_logdirty_disable(E.xp), 0);
	ck_assert_int_eq(xpage_logdirty_disable(E.xp), -EALREADY);
	ck_assert_int_eq(scan(0, &d), -EINVAL);
	down();
}
END_TEST

/* A page-in (the pager's load) is no guest write. */
START_TEST(page_in_is_not_a_write)
{
	uint64_t g[2] = { 20, 21 }, d;
	void *b[2] = { E.copy, E.copy };
	int st[2];
	uint8_t *m;

	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(xpage_nominate(E.xp, g, 2, 0, st), 2);
	m = xpage_map(E.xp, g, 2, 0, st);
	ck_assert_ptr_nonnull(m);
	memcpy(E.copy, m, PAGE);
	ck_assert_int_eq(xpage_unmap(E.xp, m, 2), 0);
	ck_assert_int_eq(xpage_evict(E.xp, g, 1, 0, st), 1);
	ck_assert_int_eq(xpage_unnominate(E.xp, g + 1, 1, 0, st), 1);
	ck_assert_int_eq(xpage_load(E.xp, g, 1, b, 0, st), 1);
	ck_assert_int_eq(scan(0, &d), 0);
	ck_assert(!bit(20) && !bit(21));
	ck_assert_uint_eq(d, stack_bits());
	touch(20, XPAGE_SIM_TOUCH_WRITE);
	ck_assert_int_eq(scan(0, &d), 0);
	ck_assert(d - stack_bits() == 1 && bit(20));
	down();
}
END_TEST

/* Someone else (a live migration) holds log-dirty: -EBUSY, a sentence in
 * the log, and paging goes on; once it is free the pager gets it. */
START_TEST(held_by_someone_else)
{
	uint64_t g = 30, d;
	int st;
	uint8_t *m;

	up();
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 1), 0);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), -EBUSY);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_msg(strstr(E.log, "held by someone else"), "log: %s", E.log);
	ck_assert_int_eq(scan(0, &d), -EINVAL);
	ck_assert_int_eq(xpage_logdirty_disable(E.xp), -EALREADY);
	ck_assert_int_eq(xpage_nominate(E.xp, &g, 1, 0, &st), 1);
	m = xpage_map(E.xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(E.xp, m, 1), 0);
	ck_assert_int_eq(xpage_unnominate(E.xp, &g, 1, 0, &st), 1);
	/* the other user's mode survives our close attempts */
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 1), -EINVAL);
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 0), 0);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	down();
}
END_TEST

/* Close and detach turn off what the handle holds: another user can
 * enable it afterwards. */
START_TEST(close_and_detach_turn_it_off)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.flags = XPAGE_OPEN_TAKEOVER);

	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(xpage_detach(E.xp, 0), 0);
	E.xp = NULL;
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 1), 0);
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 0), 0);
	E.xp = fx_open(E.sim, E.domid, &o, &callbacks, "takeover");
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(xpage_close(E.xp), 0);
	E.xp = NULL;
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 1), 0);
	ck_assert_int_eq(xpage_sim_logdirty_hold(E.sim, E.domid, 0), 0);
	down();
}
END_TEST

START_TEST(bad_arguments)
{
	struct xpage_logdirty_opts lo = XPAGE_OPTS(xpage_logdirty_opts,
						   .flags = 1);
	struct {
		struct xpage_logdirty_scan s;
		uint64_t more;
	} big;
	struct xpage_logdirty_scan s;

	up();
	ck_assert_int_eq(xpage_logdirty_enable(NULL, NULL), -EINVAL);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, &lo), -EINVAL);
	lo = (struct xpage_logdirty_opts){ .sz = 0 };
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, &lo), -EINVAL);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(xpage_logdirty_scan(E.xp, NULL), -EINVAL);
	ck_assert_int_eq(xpage_logdirty_scan(NULL, NULL), -EINVAL);
#define SCAN(...) (s = XPAGE_OPTS(xpage_logdirty_scan, __VA_ARGS__),	\
		   xpage_logdirty_scan(E.xp, &s))
	ck_assert_int_eq(SCAN(.bitmap = E.bits, .nr_gfns = E.nr), 0);
	ck_assert_int_eq(SCAN(.bitmap = NULL, .nr_gfns = E.nr), -EINVAL);
	ck_assert_int_eq(SCAN(.bitmap = E.bits, .nr_gfns = 0), -EINVAL);
	ck_assert_int_eq(SCAN(.bitmap = E.bits, .nr_gfns = E.nr + 1), -EINVAL);
	ck_assert_int_eq(SCAN(.bitmap = E.bits, .nr_gfns = E.nr, .flags = 2),
			 -EINVAL);
	ck_assert_int_eq(SCAN(.bitmap = E.bits, .nr_gfns = E.nr,
			      .reserved0 = 1), -EINVAL);
#undef SCAN
	s = XPAGE_OPTS(xpage_logdirty_scan, .bitmap = E.bits, .nr_gfns = E.nr);
	s.sz = 8;
	ck_assert_int_eq(xpage_logdirty_scan(E.xp, &s), -EINVAL);
	memset(&big, 0, sizeof(big));
	big.s = XPAGE_OPTS(xpage_logdirty_scan, .bitmap = E.bits,
			   .nr_gfns = E.nr);
	big.s.sz = sizeof(big);
	ck_assert_int_eq(xpage_logdirty_scan(E.xp, &big.s), 0);
	big.more = 1;
	ck_assert_int_eq(xpage_logdirty_scan(E.xp, &big.s), -E2BIG);
	ck_assert_int_eq(errno, E2BIG);
	down();
}
END_TEST

/* A guest larger than one simulator chunk (SIMP_LD_GFNS gfns). */
START_TEST(large_guest_in_chunks)
{
	static uint64_t bits[(300000 + 64) / 64 + 2];
	struct xpage_logdirty_scan s;
	uint64_t far = 299000;

	memset(&E, 0, sizeof(E));
	E.sim = fx_sim_start(NULL);
	{
		struct xpage_sim_guest_opts go = XPAGE_OPTS(
			xpage_sim_guest_opts, .vcpus = 1, .pages = 300000,
			.flags = XPAGE_SIM_GUEST_LAZY);
		int d = xpage_sim_create_guest(E.sim, &go);

		ck_assert_int_gt(d, 0);
		E.domid = (uint32_t)d;
	}
	E.xp = fx_open(E.sim, E.domid, NULL, &callbacks, "open");
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	touch(far, XPAGE_SIM_TOUCH_WRITE);
	touch(3, XPAGE_SIM_TOUCH_WRITE);
	s = XPAGE_OPTS(xpage_logdirty_scan, .bitmap = bits, .nr_gfns = 300000);
	ck_assert_int_eq(xpage_logdirty_scan(E.xp, &s), 0);
	ck_assert_uint_ge(s.dirty, 2);
	ck_assert(bits[far / 64] >> (far % 64) & 1);
	ck_assert(bits[0] == 8);
	down();
}
END_TEST

/* The guards every call of a handle has. */
START_TEST(child_after_fork_gets_echild)
{
	pid_t pid;
	int st;

	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint64_t d;

		if (xpage_logdirty_enable(E.xp, NULL) != -ECHILD)
			_exit(1);
		if (scan(0, &d) != -ECHILD)
			_exit(2);
		if (xpage_logdirty_disable(E.xp) != -ECHILD)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child's call #%d went through", WEXITSTATUS(st));
	ck_assert_int_eq(scan(0, NULL), 0); /* still the parent's */
	down();
}
END_TEST

static void *dispatch_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)xpage_dispatch(E.xp, 10000);
}

START_TEST(second_thread_gets_ebusy)
{
	pthread_t t;
	uint64_t g = 40;
	int st;
	uint8_t *m;
	void *rc;

	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(xpage_nominate(E.xp, &g, 1, 0, &st), 1);
	m = xpage_map(E.xp, &g, 1, 0, &st);
	ck_assert_ptr_nonnull(m);
	memcpy(E.copy, m, PAGE);
	ck_assert_int_eq(xpage_unmap(E.xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(E.xp, &g, 1, 0, &st), 1);
	ck_assert_int_eq(pthread_create(&t, NULL, dispatch_thread, NULL), 0);
	usleep(200 * 1000);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), -EBUSY);
	ck_assert_int_eq(scan(0, NULL), -EBUSY);
	ck_assert_int_eq(xpage_logdirty_disable(E.xp), -EBUSY);
	/* the populate ends the wait; its callback's scan is refused */
	ck_assert_int_eq(xpage_sim_touch(E.sim, E.domid, 1, g, 0), -EAGAIN);
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_int_eq((int)(intptr_t)rc, 1);
	ck_assert_int_eq(E.cb_scan, -EINVAL);
	ck_assert_int_eq(scan(0, NULL), 0);
	down();
}
END_TEST

START_TEST(dead_connection_gives_eio)
{
	up();
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), 0);
	ck_assert_int_eq(kill(xpage_sim_pid(E.sim), SIGKILL), 0);
	ck_assert_int_eq(xpage_dispatch(E.xp, 2000), -EIO);
	ck_assert_int_eq(scan(0, NULL), -EIO);
	ck_assert_int_eq(xpage_logdirty_disable(E.xp), -EIO);
	ck_assert_int_eq(xpage_logdirty_enable(E.xp, NULL), -EIO);
	ck_assert_int_eq(xpage_close(E.xp), -EIO);
	E.xp = NULL;
	fx_sim_stop();
}
END_TEST

static void tests(TCase *tc)
{
	tcase_add_test(tc, scan_reports_writes_only);
	tcase_add_test(tc, page_in_is_not_a_write);
	tcase_add_test(tc, held_by_someone_else);
	tcase_add_test(tc, close_and_detach_turn_it_off);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, large_guest_in_chunks);
	tcase_add_test(tc, child_after_fork_gets_echild);
	tcase_add_test(tc, second_thread_gets_ebusy);
	tcase_add_test(tc, dead_connection_gives_eio);
}

int main(void)
{
	return fx_main("logdirty", "logdirty", 60, tests);
}
