/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend (src/backend_sim.c) against a simulator that lies.
 *
 * A fake xpage-simd (fake_sim.h), forked per test, answers every op as
 * the real one would except one chosen reply, which it malforms: too
 * short, too long, another op or sequence number, another element count,
 * a status or result out of range, a file descriptor missing or extra, a
 * failure carrying a payload, a value the backend relies on. Each test
 * asserts that the library call fails with -EPROTO, that the log names
 * the op and the fault, that no gfn is reported done (return value,
 * states, stats), that no file descriptor is left behind, and that nothing
 * more reaches the simulator afterwards.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_sim.h"
#include "private.h"
#include "simproto.h"

#define PAGE XPAGE_PAGE_SIZE

/* ------------------------------------------------------------------------ */
/* The library side                                                         */

static char logbuf[16384];

static void log_add(const char *msg)
{
	size_t l = strlen(logbuf);

	snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

static void log_cb(void *ctx, int level, const char *msg)
{
	(void)ctx, (void)level;
	log_add(msg);
}

/* The backend's own logger, for the tests that call it directly. */
static void be_log(void *ctx, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)ctx, (void)level;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_add(msg);
}

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp, (void)ev, (void)u;
}

static xpage_t *open_handle(void)
{
	struct xpage_callbacks cbs = XPAGE_OPTS(xpage_callbacks,
						.populate = cb_populate);
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts, .domid = DOMID,
		.backend = XPAGE_BACKEND_SIM, .sim_socket = sock_path,
		.features_wanted = XPAGE_FEAT_MULTICALL, .log_fn = log_cb,
		.log_level = XPAGE_LOG_DEBUG);

	return xpage_open(&o, &cbs);
}

/* The malformed reply was sent, logged with its op and fault, and nothing
 * reached the simulator after it. */
static void assert_rejected(const char *op, const char *why)
{
	char want[128];

	ck_assert_msg(sh->faulted, "the fault was never injected");
	snprintf(want, sizeof(want), "malformed reply to %s: ", op);
	ck_assert_msg(strstr(logbuf, want), "log lacks \"%s\":\n%s", want,
		      logbuf);
	ck_assert_msg(strstr(logbuf, why), "log lacks \"%s\":\n%s", why,
		      logbuf);
	ck_assert_uint_eq(sh->after_fault, 0);
}

/* ------------------------------------------------------------------------ */
/* Opening: every reply of the handshake, ring enable included              */

static const struct open_case {
	uint16_t op;
	int nth, kind;
	const char *name, *why;
} open_cases[] = {
	{ SIMP_HELLO, 1, F_LONG, "SIMP_HELLO", "16 payload bytes, 8 expected" },
	{ SIMP_HELLO, 1, F_VALUE, "SIMP_HELLO", "protocol version 2" },
	{ SIMP_ATTACH, 1, F_SHORT, "SIMP_ATTACH", "84 payload bytes, 88 expected" },
	{ SIMP_ATTACH, 1, F_NO_FD, "SIMP_ATTACH", "1 file descriptors, 2 expected" },
	{ SIMP_ATTACH, 1, F_HDR_NFDS, "SIMP_ATTACH", "header announces 3 file descriptors, 2 came" },
	{ SIMP_ATTACH, 1, F_VALUE, "SIMP_ATTACH", "domain 8, not the attached domain 7" },
	{ SIMP_ATTACH, 1, F_SMALL_MEMFD, "SIMP_ATTACH", "the guest memory holds 262144 bytes, less than its 65 pages" },
	{ SIMP_ATTACH, 1, F_SMALL_BOUNCE, "SIMP_ATTACH", "the bounce buffer holds 4096 bytes" },
	{ SIMP_DOMAIN_INFO, 1, F_OP, "SIMP_DOMAIN_INFO", "the reply is for op 11" },
	{ SIMP_DOMAIN_INFO, 1, F_STATUS_LOW, "SIMP_DOMAIN_INFO", "status -5000 is neither 0 nor a negative errno" },
	{ SIMP_DOMAIN_INFO, 1, F_VALUE, "SIMP_DOMAIN_INFO", "65 RAM pages do not fit a guest memory of 65 pages" },
	{ SIMP_XEN_VERSION, 1, F_SHORT, "SIMP_XEN_VERSION", "4 payload bytes, 8 expected" },
	{ SIMP_XEN_VERSION, 1, F_SEQ, "SIMP_XEN_VERSION", "sequence number 5, the request 4" },
	{ SIMP_XEN_VERSION, 1, F_MAGIC, "SIMP_XEN_VERSION", "unreadable packet" },
	{ SIMP_VM_EVENT_VERSION, 1, F_LONG, "SIMP_VM_EVENT_VERSION", "16 payload bytes, 8 expected" },
	{ SIMP_PAGING_AGE, 1, F_STATUS_POS, "SIMP_PAGING_AGE", "status 1 is neither 0 nor a negative errno" },
	{ SIMP_PAGING_AGE, 1, F_ERR_PAYLOAD, "SIMP_PAGING_AGE", "failure -16 carries 8 payload bytes and 0 file descriptors" },
	{ SIMP_PAUSE, 1, F_EXTRA_FD, "SIMP_PAUSE", "1 file descriptors, 0 expected" },
	{ SIMP_GET_PARAM, 1, F_VALUE, "SIMP_GET_PARAM", "ring gfn 0x41 is not a special page" },
	{ SIMP_MAP, 1, F_COUNT_MORE, "SIMP_MAP", "2 results for 1 entries" },
	{ SIMP_ENABLE, 1, F_NO_FD, "SIMP_ENABLE", "1 file descriptors, 2 expected" },
	{ SIMP_ENABLE, 1, F_ERR_PAYLOAD, "SIMP_ENABLE", "failure -16 carries 8 payload bytes and 2 file descriptors" },
	{ SIMP_DECREASE_RESERVATION, 1, F_LONG, "SIMP_DECREASE_RESERVATION", "8 payload bytes, none expected" },
};

START_TEST(open_refuses_malformed_reply)
{
	const struct open_case *c = &open_cases[_i];
	int fds;
	xpage_t *xp;

	start_server(c->op, c->nth, c->kind);
	fds = count_fds();
	errno = 0;
	xp = open_handle();
	ck_assert_msg(!xp, "%s: open succeeded", c->why);
	ck_assert_int_eq(errno, EPROTO);
	assert_rejected(c->name, c->why);
	/* fds that came with the bad reply (or before it) are closed */
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* The same simulator without a fault: the test's baseline. */
START_TEST(well_formed_session)
{
	uint64_t g[4] = { 1, 2, 3, 4 };
	uint8_t page[PAGE] = { 0 };
	void *bufs[4] = { page, page, page, page };
	int st[4];
	xpage_t *xp;
	void *m;

	start_server(0, 0, F_NONE);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 4);
	m = xpage_map(xp, g, 4, 0, st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, 4), 0);
	ck_assert_int_eq(xpage_evict(xp, g, 4, 0, st), 4);
	ck_assert_int_eq(xpage_load(xp, g, 1, bufs, 0, st), 1);
	ck_assert_int_eq(xpage_load(xp, g + 1, 3, bufs, 0, st), 3);
	ck_assert_int_eq(xpage_dispatch(xp, 0), 0);
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert(!strstr(logbuf, "malformed"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Paging ops: a malformed reply reports no gfn done                       */

/* After the fault: the handle is stopped, and says so without asking the
 * simulator anything. */
static void assert_stopped(xpage_t *xp)
{
	uint64_t g = 10;
	int st;

	ck_assert_int_eq(xpage_nominate(xp, &g, 1, 0, &st), -EPROTO);
	ck_assert_int_eq(xpage_dispatch(xp, 0), -EPROTO);
	ck_assert_int_eq(xpage_close(xp), -EPROTO);
	ck_assert_uint_eq(sh->after_fault, 0);
}

/* Map and unmap @n nominated gfns, as a pager writing them out does. */
static void hold(xpage_t *xp, const uint64_t *g, size_t n)
{
	int st[8];
	void *m = xpage_map(xp, g, n, 0, st);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(xpage_unmap(xp, m, n), 0);
}

static void assert_states(xpage_t *xp, const uint64_t *g, size_t n,
			  int state)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(xpage_gfn_state(xp, g[i]), state);
}

static const struct mc_case {
	int kind;
	const char *why;
} mc_cases[] = {
	{ F_SHORT, "16 payload bytes for 4 results (20 expected)" },
	{ F_LONG, "28 payload bytes for 4 results (20 expected)" },
	{ F_COUNT_LESS, "3 results for 4 entries" },
	{ F_COUNT_MORE, "5 results for 4 entries" },
	{ F_RC_POS, "result 0 is 1, neither 0 nor a negative errno" },
	{ F_RC_LOW, "result 3 is -5000, neither 0 nor a negative errno" },
	{ F_OP, "the reply is for op 23" },
	{ F_SEQ, "sequence number" },
	{ F_EXTRA_FD, "1 file descriptors, 0 expected" },
};

START_TEST(nominate_refuses_malformed_multicall)
{
	const struct mc_case *c = &mc_cases[_i];
	uint64_t g[4] = { 1, 2, 3, 4 };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	int st[4];
	xpage_t *xp;

	start_server(SIMP_MULTICALL, 1, c->kind);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	errno = 0;
	for (int i = 0; i < 4; i++)
		st[i] = 0;
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), -EPROTO);
	ck_assert_int_eq(errno, EPROTO);
	/* no status reads "done" */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(st[i], -EPROTO);
	assert_rejected("SIMP_MULTICALL", c->why);
	assert_states(xp, g, 4, XPAGE_GFN_RESIDENT);
	/* the handle refuses further work */
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), -EPROTO);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.nominated, 0);
	assert_stopped(xp);
}
END_TEST

/* Evict and load of a batch: the gfns keep their state (the pager keeps
 * its copies), nothing is counted as evicted or loaded. */
START_TEST(evict_and_load_refuse_short_results)
{
	uint64_t g[4] = { 1, 2, 3, 4 };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	uint8_t page[PAGE] = { 0 };
	void *bufs[4] = { page, page, page, page };
	int st[4];
	xpage_t *xp;

	/* multicall 1: nominate, 2: evict, 3: load */
	start_server(SIMP_MULTICALL, 2 + (_i == 1), F_COUNT_LESS);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 4);
	hold(xp, g, 4);
	if (_i == 0) {
		ck_assert_int_eq(xpage_evict(xp, g, 4, 0, st), -EPROTO);
		assert_states(xp, g, 4, XPAGE_GFN_NOMINATED);
	} else {
		ck_assert_int_eq(xpage_evict(xp, g, 4, 0, st), 4);
		ck_assert_int_eq(xpage_load(xp, g, 4, bufs, 0, st), -EPROTO);
		assert_states(xp, g, 4, XPAGE_GFN_EVICTED);
	}
	assert_rejected("SIMP_MULTICALL", "3 results for 4 entries");
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.evicted, _i == 1 ? 4 : 0);
	ck_assert_uint_eq(s.loaded, 0);
	assert_stopped(xp);
}
END_TEST

/* One gfn goes as SIMP_PAGING_OP, whose status is the gfn's result. */
static const struct one_case {
	int kind;
	const char *why;
} one_cases[] = {
	{ F_STATUS_POS, "status 1 is neither 0 nor a negative errno" },
	{ F_STATUS_LOW, "status -5000 is neither 0 nor a negative errno" },
	{ F_LONG, "8 payload bytes, none expected" },
	{ F_OP, "the reply is for op 22" },
};

START_TEST(load_of_one_gfn_refuses_malformed_reply)
{
	const struct one_case *c = &one_cases[_i];
	uint64_t g[4] = { 1, 2, 3, 4 };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	uint8_t page[PAGE] = { 0 };
	void *bufs[1] = { page };
	int st[4];
	xpage_t *xp;

	start_server(SIMP_PAGING_OP, 1, c->kind);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 4);
	hold(xp, g, 4);
	ck_assert_int_eq(xpage_evict(xp, g, 4, 0, st), 4);
	ck_assert_int_eq(xpage_load(xp, g, 1, bufs, 0, st), -EPROTO);
	assert_rejected("SIMP_PAGING_OP", c->why);
	assert_states(xp, g, 4, XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.loaded, 0);
	ck_assert_uint_eq(s.evicted_now, 4);
	assert_stopped(xp);
}
END_TEST

/* xpage_map (SIMP_MAP 3) and xpage_unmap (SIMP_UNMAP 2): open maps the
 * ring twice and unmaps it once (it enables, answers every vCPU, disables
 * and enables again). */
START_TEST(map_and_unmap_refuse_malformed_reply)
{
	uint64_t g[4] = { 1, 2, 3, 4 };
	int st[4];
	xpage_t *xp;
	void *m;

	if (_i == 0)
		start_server(SIMP_MAP, 3, F_COUNT_LESS);
	else
		start_server(SIMP_UNMAP, 2, F_RC_POS);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), 4);
	errno = 0;
	m = xpage_map(xp, g, 4, 0, st);
	if (_i == 0) {
		ck_assert_ptr_null(m);
		ck_assert_int_eq(errno, EPROTO);
		assert_rejected("SIMP_MAP", "3 results for 4 entries");
	} else {
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(xpage_unmap(xp, m, 4), -EPROTO);
		assert_rejected("SIMP_UNMAP", "result 0 is 1");
	}
	assert_states(xp, g, 4, XPAGE_GFN_NOMINATED);
	assert_stopped(xp);
}
END_TEST

/* xpage_close: the disable's reply (SIMP_DISABLE 2: open's is 1). */
START_TEST(close_refuses_malformed_disable)
{
	xpage_t *xp;

	start_server(SIMP_DISABLE, 2, _i == 0 ? F_STATUS_POS : F_LONG);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	errno = 0;
	ck_assert_int_eq(xpage_close(xp), -EPROTO);
	ck_assert_int_eq(errno, EPROTO);
	assert_rejected("SIMP_DISABLE", _i == 0 ? "status 1 is neither 0 nor"
						: "8 payload bytes, none expected");
	ck_assert_msg(strstr(logbuf, "disabling paging failed"), "%s", logbuf);
}
END_TEST

/* The walk the simulator reports (FAKE_WALK: gfns 60 and 62) is never
 * nominated; a simulator without SIMP_RUNSTATE_GFNS holds nothing back,
 * and is asked once. */
START_TEST(runstate_gfns_refused)
{
	uint64_t g[4] = { 59, 60, 61, 62 };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	int st[4];
	xpage_t *xp;

	start_server(SIMP_RUNSTATE_GFNS, 1, _i ? F_ENOSYS : F_NONE);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), _i ? 4 : 2);
	ck_assert_int_eq(st[1], _i ? 0 : -EBUSY);
	ck_assert_int_eq(st[3], _i ? 0 : -EBUSY);
	ck_assert_int_eq(st[0] | st[2], 0);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.hv_refused, _i ? 0 : 2);
	if (_i) {
		/* Not asked again when the set is old (the fake's next
		 * answer would refuse gfn 60). */
		ck_assert_int_eq(xpage_unnominate(xp, g + 1, 1, 0, st), 1);
		usleep(60000);
		ck_assert_int_eq(xpage_nominate(xp, g + 1, 1, 0, st), 1);
		ck_assert_msg(strstr(logbuf, "none are held back"), "%s",
			      logbuf);
	}
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert(!strstr(logbuf, "malformed"));
}
END_TEST

/* A walk the backend cannot use: the nomination is not sent at all. */
static const struct one_case rs_cases[] = {
	{ F_VALUE, "runstate gfn 0x41 of vCPU 0 is past the guest memory "
		   "(0x41 pages)" },
	{ F_SHORT, "4100 payload bytes, 4104 expected" },
	{ F_ERR_PAYLOAD, "failure -16 carries 4104 payload bytes" },
};

/* A reply of walks (@op) malformed as @c says: the nomination that asked
 * for it is not sent at all, and the backend stops. */
static void walks_refused(uint16_t op, const char *name,
			  const struct one_case *c)
{
	uint64_t g[4] = { 1, 2, 3, 4 };
	int st[4];
	xpage_t *xp;

	start_server(op, 1, c->kind);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), -EPROTO);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(st[i], -EPROTO);
	assert_rejected(name, c->why);
	assert_states(xp, g, 4, XPAGE_GFN_RESIDENT);
	assert_stopped(xp);
}

START_TEST(runstate_refuses_malformed_reply)
{
	walks_refused(SIMP_RUNSTATE_GFNS, "SIMP_RUNSTATE_GFNS", &rs_cases[_i]);
}
END_TEST

/* The walk to the stack (FAKE_STACK: gfn 60, the runstate walk's too,
 * and 40 - 46) is never nominated either; a simulator without
 * SIMP_STACK_GFNS leaves the runstate walk alone guarded. */
START_TEST(stack_gfns_refused)
{
	uint64_t g[4] = { 40, 46, 59, 60 };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	int st[4];
	xpage_t *xp;

	start_server(SIMP_STACK_GFNS, 1, _i ? F_ENOSYS : F_NONE);
	xp = open_handle();
	ck_assert_msg(xp, "open: %s\n%s", strerror(errno), logbuf);
	ck_assert_int_eq(xpage_nominate(xp, g, 4, 0, st), _i ? 3 : 1);
	ck_assert_int_eq(st[0], _i ? 0 : -EBUSY);
	ck_assert_int_eq(st[1], _i ? 0 : -EBUSY);
	ck_assert_int_eq(st[2], 0);
	ck_assert_int_eq(st[3], -EBUSY);
	ck_assert_int_eq(xpage_get_stats(xp, &s), 0);
	ck_assert_uint_eq(s.hv_refused, _i ? 1 : 3);
	ck_assert_int_eq(xpage_close(xp), 0);
	ck_assert(!strstr(logbuf, "none are held back"));
	ck_assert(!strstr(logbuf, "malformed"));
}
END_TEST

static const struct one_case st_cases[] = {
	{ F_VALUE, "stack gfn 0x41 of vCPU 0 is past the guest memory "
		   "(0x41 pages)" },
	{ F_SHORT, "8196 payload bytes, 8200 expected" },
	{ F_ERR_PAYLOAD, "failure -16 carries 8200 payload bytes" },
};

START_TEST(stack_refuses_malformed_reply)
{
	walks_refused(SIMP_STACK_GFNS, "SIMP_STACK_GFNS", &st_cases[_i]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The backend directly: what the core cannot reach                         */

static struct xp_backend *open_backend(void)
{
	struct xp_backend *be = NULL;
	int rc = xp_backend_sim.open(&be, DOMID, sock_path, be_log, NULL);

	ck_assert_msg(rc == 0, "open: %d\n%s", rc, logbuf);
	return be;
}

/* A gfn past the guest memory reported mapped: mapping it would give
 * SIGBUS at the first read, not an error. */
START_TEST(map_past_guest_memory_refused)
{
	struct xp_backend *be;
	uint64_t g[2] = { 3, NR + 5 };
	int err[2] = { 0, 0 };

	start_server(SIMP_MAP, 1, F_VALUE);
	be = open_backend();
	errno = 0;
	ck_assert_ptr_null(xp_backend_sim.map(be, g, 2, PROT_READ, err));
	ck_assert_int_eq(errno, EPROTO);
	assert_rejected("SIMP_MAP", "gfn 0x45 reported mapped, past the guest "
			"memory (0x41 pages)");
	xp_backend_sim.close(be);
}
END_TEST

/* paging_ops: no op keeps a stale rc of 0 when the batch fails. */
START_TEST(paging_ops_leave_no_op_done)
{
	struct xp_paging_op ops[4];
	struct xp_backend *be;

	start_server(SIMP_MULTICALL, 1, F_COUNT_LESS);
	be = open_backend();
	for (int i = 0; i < 4; i++)
		ops[i] = (struct xp_paging_op){ .op = XP_PAGING_NOMINATE,
						.gfn = (uint64_t)i + 1, .rc = 0 };
	ck_assert_int_eq(xp_backend_sim.paging_ops(be, ops, 4), -EPROTO);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ops[i].rc, -EPROTO);
	assert_rejected("SIMP_MULTICALL", "3 results for 4 entries");
	ck_assert_int_eq(xp_backend_sim.pause(be), -EPROTO);
	ck_assert_int_eq(xp_backend_sim.paging_ops(be, ops, 1), -EPROTO);
	ck_assert_int_eq(ops[0].rc, -EPROTO);
	ck_assert_uint_eq(sh->after_fault, 0);
	xp_backend_sim.close(be);
}
END_TEST

static void tests(TCase *t)
{
	tcase_add_test(t, well_formed_session);
	tcase_add_loop_test(t, open_refuses_malformed_reply, 0,
			    sizeof(open_cases) / sizeof(open_cases[0]));
	tcase_add_loop_test(t, nominate_refuses_malformed_multicall, 0,
			    sizeof(mc_cases) / sizeof(mc_cases[0]));
	tcase_add_loop_test(t, evict_and_load_refuse_short_results, 0, 2);
	tcase_add_loop_test(t, load_of_one_gfn_refuses_malformed_reply, 0,
			    sizeof(one_cases) / sizeof(one_cases[0]));
	tcase_add_loop_test(t, map_and_unmap_refuse_malformed_reply, 0, 2);
	tcase_add_loop_test(t, close_refuses_malformed_disable, 0, 2);
	tcase_add_loop_test(t, runstate_gfns_refused, 0, 2);
	tcase_add_loop_test(t, runstate_refuses_malformed_reply, 0,
			    sizeof(rs_cases) / sizeof(rs_cases[0]));
	tcase_add_loop_test(t, stack_gfns_refused, 0, 2);
	tcase_add_loop_test(t, stack_refuses_malformed_reply, 0,
			    sizeof(st_cases) / sizeof(st_cases[0]));
	tcase_add_test(t, map_past_guest_memory_refused);
	tcase_add_test(t, paging_ops_leave_no_op_done);
}

int main(void)
{
	return fake_sim_main("backend_sim", tests);
}
