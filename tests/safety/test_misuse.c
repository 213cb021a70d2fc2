/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A careless caller cannot hurt the guest: each public call misused the
 * way a third-party pager did, one test per case, each on a
 * fresh simulated guest and each ending with the oracle's verdict (no page
 * lost or corrupted, no vCPU stuck, the domain alive) where the simulator
 * is still there to give one. docs/bad-input.md lists them.
 *
 * The pager of these tests keeps a copy of every page it evicts (copy[])
 * and serves populate notices from it, as any pager would from storage.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"

#define PAGES 64u
#define PAGE 4096u

struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	const char *pers;
	xpage_t *xp;
	uint8_t copy[PAGES][PAGE];
	bool out[PAGES];          /* its contents are only in copy[] */
	uint64_t wanted[PAGES];   /* populate notices not served yet */
	size_t nwanted;
	char log[16384];
	size_t loglen;
	/* what a callback is to try (t_callback_limits) */
	int cb_detach, cb_close, cb_dispatch, cb_load;
};

static struct env E;

static void on_log(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;
	int n;

	(void)level;
	n = snprintf(e->log + e->loglen, sizeof(e->log) - e->loglen, "%s\n",
		     msg);
	if (n > 0 && e->loglen + (size_t)n < sizeof(e->log))
		e->loglen += (size_t)n;
}

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct env *e = user;
	void *b[1];
	int st = 0;

	if (e->nwanted < PAGES)
		e->wanted[e->nwanted++] = ev->gfn;
	if (!e->cb_detach && !e->cb_close && !e->cb_dispatch)
		return;
	/* Refused inside a callback: the handle is in use below it. */
	e->cb_detach = xpage_detach(xp, 0);
	e->cb_close = xpage_close(xp);
	e->cb_dispatch = xpage_dispatch(xp, 0);
	/* What the header lists is allowed: a load with resume. */
	b[0] = e->copy[ev->gfn];
	e->cb_load = xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st);
	if (e->cb_load == 1) {
		e->out[ev->gfn] = false;
		e->nwanted--;
	}
}

static const struct xpage_callbacks callbacks = {
	.sz = sizeof(struct xpage_callbacks), .user = &E,
	.populate = on_populate,
};

static xpage_t *open_handle(struct env *e, uint32_t flags)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.flags = flags, .features_wanted = XPAGE_FEAT_ALL,
		.log_fn = on_log, .log_ctx = e, .log_level = XPAGE_LOG_DEBUG);

	return fx_open(e->sim, e->domid, &o, &callbacks, "xpage_open on %s",
		       e->pers ? e->pers : "the default personality");
}

static void up(struct env *e, const char *pers, uint32_t vcpus)
{
	memset(e, 0, sizeof(*e));
	e->pers = pers;
	e->sim = fx_sim_start(NULL);
	e->domid = fx_guest(e->sim, pers, vcpus, PAGES, 7);
	e->xp = open_handle(e, 0);
}

/* Page @n gfns from @first out through @xp, keeping their copies. */
static void page_out(struct env *e, xpage_t *xp, uint64_t first, size_t n)
{
	uint64_t g[PAGES];
	int st[PAGES];
	uint8_t *m;

	for (size_t i = 0; i < n; i++)
		g[i] = first + i;
	ck_assert_int_eq(xpage_nominate(xp, g, n, 0, st), (int)n);
	m = xpage_map(xp, g, n, 0, st);
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(st[i], 0);
		memcpy(e->copy[g[i]], m + i * PAGE, PAGE);
	}
	ck_assert_int_eq(xpage_unmap(xp, m, n), 0);
	ck_assert_int_eq(xpage_evict(xp, g, n, 0, st), (int)n);
	for (size_t i = 0; i < n; i++)
		e->out[g[i]] = true;
}

/* Load every page out back through @xp (with resume). */
static void page_in_all(struct env *e, xpage_t *xp)
{
	for (uint64_t g = 0; g < PAGES; g++) {
		void *b[1] = { e->copy[g] };
		int st = 0;

		if (!e->out[g])
			continue;
		ck_assert_int_eq(xpage_load(xp, &g, 1, b, XPAGE_LOAD_RESUME,
					    &st), 1);
		e->out[g] = false;
	}
	e->nwanted = 0;
}

/* vCPU @vcpu reads @g, paged out: it waits (-EAGAIN) for the pager. */
static void touch_paged(struct env *e, uint32_t vcpu, uint64_t g)
{
	ck_assert_int_eq(xpage_sim_touch(e->sim, e->domid, vcpu, g, 0),
			 -EAGAIN);
}

/* vCPU @vcpu reads @g, paged out; the pager serves it (one populate)
 * and everything else that is out, closes, and asks the oracle. */
static void served_then_down(struct env *e, uint32_t vcpu, uint64_t g);

/* The oracle, after the pager closed: nothing lost, corrupted or stuck,
 * nothing left paged out, the domain alive. */
static void verdict(struct env *e)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid,
					  XPAGE_SIM_REPORT_FINAL, 0, &r), 0);
	ck_assert_msg(!r.lost && !r.corrupted && !r.stuck && !r.crashed &&
		      !r.paged && !r.nominated,
		      "%s: lost %llu, corrupted %llu, stuck %llu, crashed %u, "
		      "paged %llu, nominated %llu", e->pers ? e->pers : "default",
		      (unsigned long long)r.lost,
		      (unsigned long long)r.corrupted,
		      (unsigned long long)r.stuck, r.crashed,
		      (unsigned long long)r.paged,
		      (unsigned long long)r.nominated);
}

/* A personality of Xen 4.2 - 4.4 (xen-4.2, xen-4.2-age2; not xen-4.20-*),
 * which cannot tell paused vCPUs from running ones. */
static bool old_xen(const char *pers)
{
	return !strncmp(pers, "xen-4.2", 7) && (!pers[7] || pers[7] == '-');
}

/* The outcome on Xen 4.2 - 4.4 when the vCPUs waiting at a takeover
 * were @stuck: nothing lost, corrupted or crashed, the @stuck still paused
 * (no answer is safe there), and the log says why. */
static void old_xen_verdict(struct env *e, uint64_t stuck)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

	ck_assert_int_eq(xpage_sim_report(e->sim, e->domid,
					  XPAGE_SIM_REPORT_FINAL, 0, &r), 0);
	ck_assert_msg(!r.lost && !r.corrupted && !r.crashed && r.stuck == stuck,
		      "%s: lost %llu corrupted %llu crashed %u stuck %llu",
		      e->pers, (unsigned long long)r.lost,
		      (unsigned long long)r.corrupted, r.crashed,
		      (unsigned long long)r.stuck);
	ck_assert_msg(strstr(e->log, "cannot tell which vCPUs"), "%s: log: %s",
		      e->pers, e->log);
}

/* Close the handle, ask the oracle, stop the simulator. */
static void down(struct env *e)
{
	if (e->xp)
		ck_assert_int_eq(xpage_close(e->xp), 0);
	e->xp = NULL;
	verdict(e);
	fx_sim_stop();
}

static void served_then_down(struct env *e, uint32_t vcpu, uint64_t g)
{
	size_t before = e->nwanted;

	touch_paged(e, vcpu, g);
	ck_assert_int_eq(xpage_dispatch(e->xp, 2000), 1);
	ck_assert_int_eq(e->nwanted, before + 1);
	ck_assert_uint_eq(e->wanted[before], g);
	page_in_all(e, e->xp);
	down(e);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ 1 */

/* Case 1: xpage_open() with XPAGE_OPEN_TAKEOVER while the first pager was
 * still running answered EBUSY but had already disabled that pager's
 * ring: its loads failed, a guest touch crashed the domain, 16 pages were
 * lost. Now the second open refuses before it touches anything. */
START_TEST(takeover_refused_while_first_pager_runs)
{
	struct env *e = &E;
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.domid = 0, .backend = XPAGE_BACKEND_SIM,
		.flags = XPAGE_OPEN_TAKEOVER, .log_fn = on_log, .log_ctx = e,
		.log_level = XPAGE_LOG_ERROR);

	up(e, NULL, 2);
	page_out(e, e->xp, 3, 16);
	o.domid = e->domid;
	o.sim_socket = xpage_sim_socket(e->sim);
	ck_assert_ptr_null(xpage_open(&o, &callbacks));
	ck_assert_int_eq(errno, EBUSY);
	/* the first pager goes on: a guest access is served */
	served_then_down(e, 1, 7);
	ck_assert_msg(strstr(e->log, "another libxpage pager holds domain"),
		      "log: %s", e->log);
}
END_TEST

/* ------------------------------------------------------------------ 2 */

/* Case 2: xpage_evict() took a nominated gfn the handle never mapped (so
 * the pager could not hold its contents): status 0, and the page came back
 * wrong. A gfn adopted as nominated follows the same rule. */
START_TEST(evict_refuses_gfn_never_mapped)
{
	struct env *e = &E;
	uint64_t g[2] = { 10, 11 }, a = 12;
	int st[2];
	uint8_t *m;

	up(e, NULL, 1);
	ck_assert_int_eq(xpage_nominate(e->xp, g, 2, 0, st), 2);
	m = xpage_map(e->xp, g, 1, 0, st);
	ck_assert_ptr_nonnull(m);
	memcpy(e->copy[10], m, PAGE);
	ck_assert_int_eq(xpage_unmap(e->xp, m, 1), 0);
	ck_assert_int_eq(xpage_evict(e->xp, g, 2, 0, st), 1);
	e->out[10] = true;
	ck_assert_int_eq(st[1], -EINVAL);
	ck_assert_int_eq(xpage_gfn_state(e->xp, 11), XPAGE_GFN_NOMINATED);
	ck_assert_msg(strstr(e->log, "xpage_evict: gfn 0xb is nominated but "
			     "not mapped since"), "log: %s", e->log);
	ck_assert_int_eq(xpage_unnominate(e->xp, &g[1], 1, 0, st), 1);
	/* adopted as nominated: not mapped by this handle either */
	ck_assert_int_eq(xpage_adopt(e->xp, &a, 1, XPAGE_ADOPT_NOMINATED,
				     st), 1);
	ck_assert_int_eq(xpage_evict(e->xp, &a, 1, 0, st), 0);
	ck_assert_int_eq(st[0], -EINVAL);
	ck_assert_int_eq(xpage_unnominate(e->xp, &a, 1, 0, st), 1);
	served_then_down(e, 0, 10);
}
END_TEST

/* ------------------------------------------------------------------ 3 */

/* Case 3: xpage_map() failed the whole call (NULL) when one gfn was listed
 * twice or beyond the guest, although it reports a status per gfn; a
 * pager that then evicted the rest lost them. Now it maps what it can. */
START_TEST(map_maps_what_it_can)
{
	struct env *e = &E;
	uint64_t g[6] = { 20, 20, 1ull << 40, 30, 21, 22 };
	uint64_t ev[3] = { 20, 21, 22 }, left = 23;
	int st[6];
	uint8_t *m;

	up(e, NULL, 1);
	ck_assert_int_eq(xpage_nominate(e->xp, ev, 3, 0, st), 3);
	ck_assert_int_eq(xpage_nominate(e->xp, &left, 1, 0, st), 1);
	m = xpage_map(e->xp, g, 6, 0, st);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EALREADY);
	ck_assert_int_eq(st[2], -ERANGE);
	ck_assert_int_eq(st[3], -EINVAL);     /* never nominated */
	ck_assert_int_eq(st[4], 0);
	ck_assert_int_eq(st[5], 0);
	memcpy(e->copy[20], m, PAGE);
	memcpy(e->copy[21], m + 4 * PAGE, PAGE);
	memcpy(e->copy[22], m + 5 * PAGE, PAGE);
	ck_assert_int_eq(xpage_unmap(e->xp, m, 6), 0);
	ck_assert_int_eq(xpage_evict(e->xp, ev, 3, 0, st), 3);
	e->out[20] = e->out[21] = e->out[22] = true;
	ck_assert_int_eq(xpage_unnominate(e->xp, &left, 1, 0, st), 1);
	served_then_down(e, 0, 21);
}
END_TEST

/* ------------------------------------------------------------------ 4 */

/* Case 4: n = 0 is a no-op for every batch call (it was -ENOMEM, "try
 * again later", on a fresh handle: a pager that obeyed looped for ever). */
START_TEST(zero_gfns_is_a_no_op)
{
	struct env *e = &E;

	up(e, NULL, 1);
	ck_assert_int_eq(xpage_nominate(e->xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_evict(e->xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_unnominate(e->xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_load(e->xp, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(xpage_resume(e->xp, NULL, 0, 0, NULL), 0);
	ck_assert_int_eq(xpage_adopt(e->xp, NULL, 0, 0, NULL), 0);
	errno = EINVAL;
	ck_assert_ptr_null(xpage_map(e->xp, NULL, 0, 0, NULL));
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(xpage_unmap(e->xp, NULL, 0), 0);
	page_out(e, e->xp, 3, 4);
	page_in_all(e, e->xp);
	down(e);
}
END_TEST


/* ------------------------------------------------------------------ 5 */

static void on_alarm(int sig)
{
	(void)sig; /* interrupts a wait that would hang: the test fails */
}

/* Case 5: after the simulator died, xpage_dispatch(-1) never returned and
 * xpage_dispatch(2000) returned 0; no call said -EIO. Now every wait ends
 * at once and every call needing the hypervisor answers -EIO. (The guest
 * died with its simulator: there is no oracle to ask.) */
START_TEST(dead_connection_errors_at_once)
{
	struct env *e = &E;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	struct pollfd p;
	uint64_t g = 40;
	void *b[1] = { e->copy[3] };
	int st = 0, fd;
	double t0;

	up(e, NULL, 1);
	page_out(e, e->xp, 3, 8);
	fd = xpage_fd(e->xp);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(kill(xpage_sim_pid(e->sim), SIGKILL), 0);
	sigaction(SIGALRM, &sa, NULL);
	alarm(5);
	/* a pager polling the fd itself wakes up */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, -1), 1);
	t0 = now_s();
	ck_assert_int_eq(xpage_dispatch(e->xp, -1), -EIO);
	ck_assert_int_eq(xpage_dispatch(e->xp, 2000), -EIO);
	ck_assert_int_eq(xpage_nominate(e->xp, &g, 1, 0, &st), -EIO);
	g = 3;
	ck_assert_int_eq(xpage_load(e->xp, &g, 1, b, 0, &st), -EIO);
	ck_assert_int_eq(xpage_fd(e->xp), -EIO);
	/* the library's records still answer */
	ck_assert_int_eq(xpage_gfn_state(e->xp, 3), XPAGE_GFN_EVICTED);
	ck_assert_int_eq(xpage_get_stats(e->xp, &s), 0);
	ck_assert_int_eq(xpage_close(e->xp), -EIO);
	e->xp = NULL;
	alarm(0);
	ck_assert_msg(now_s() - t0 < 1.0, "the calls took %.1f s",
		      now_s() - t0);
	fx_sim_stop();
}
END_TEST

/* ------------------------------------------------------------------ 6 */

/* The personalities with paging, one per line, into @buf. */
static char *personalities(struct env *e, char *buf, size_t len)
{
	ck_assert_int_gt(xpage_sim_personalities(e->sim, buf, len), 0);
	return buf;
}

/* The next personality with paging (the first when *@save is NULL),
 * from @buf, or NULL when none is left. */
static char *next_paging(struct env *e, char *buf, size_t len, char **save)
{
	char *p = *save ? strtok_r(NULL, "\n", save)
			: strtok_r(personalities(e, buf, len), "\n", save);

	while (p && strstr(p, "nopaging"))
		p = strtok_r(NULL, "\n", save);
	return p;
}

/* A fresh guest of @pers on the running simulator, and a handle on it. */
static void guest_on(struct env *e, const char *pers, uint32_t vcpus)
{
	memset(e->copy, 0, sizeof(e->copy));
	memset(e->out, 0, sizeof(e->out));
	e->nwanted = 0;
	e->pers = pers;
	e->domid = fx_guest(e->sim, pers, vcpus, PAGES, 11);
	e->xp = open_handle(e, 0);
}

/* The restart rule of the README: take over, adopt what is out, load it
 * all with XPAGE_LOAD_RESUME, close. */
static void restart_and_load(struct env *e)
{
	uint64_t g[PAGES];
	int st[PAGES];
	size_t n = 0;

	e->xp = open_handle(e, XPAGE_OPEN_TAKEOVER);
	for (uint64_t i = 0; i < PAGES; i++)
		if (e->out[i])
			g[n++] = i;
	ck_assert_int_eq(xpage_adopt(e->xp, g, n, 0, st), (int)n);
	page_in_all(e, e->xp);
	ck_assert_int_eq(xpage_close(e->xp), 0);
	e->xp = NULL;
}

/* Case 6, first half: a vCPU whose page-in request was pending when the
 * pager closed stayed paused for ever; a new pager that re-attached,
 * adopted the gfn and loaded it with XPAGE_LOAD_RESUME could not free
 * it. Every personality. */
START_TEST(vcpu_waiting_at_close_runs_after_restart)
{
	struct env *e = &E;
	char names[1024], *save = NULL;

	up(e, NULL, 1);
	ck_assert_int_eq(xpage_close(e->xp), 0);
	for (char *p; (p = next_paging(e, names, sizeof(names), &save));) {
		guest_on(e, p, 2);
		page_out(e, e->xp, 3, 4);
		touch_paged(e, 0, 4);
		ck_assert_int_eq(xpage_dispatch(e->xp, 2000), 1);
		ck_assert_int_eq(e->nwanted, 1);
		/* the pager closes without serving it; paging stays on */
		ck_assert_int_eq(xpage_close(e->xp), -ENOTEMPTY);
		e->xp = NULL;
		restart_and_load(e);
		verdict(e);
		ck_assert_int_eq(xpage_sim_destroy_guest(e->sim, e->domid), 0);
	}
	fx_sim_stop();
}
END_TEST

/* A pager that closed with gfns still paged out disabled paging under
 * them: the guest's next access to one crashed the domain, its pages
 * lost. Close now leaves the ring enabled (-ENOTEMPTY, and the log says
 * so): the access waits, paused, until the next pager takes over and
 * loads it. Every personality; on Xen 4.2 - 4.4 a request made with no
 * pager is lost with the ring at the takeover, so the vCPU stays paused
 * there, and nothing is lost or crashed. */
START_TEST(close_with_pages_out_keeps_the_ring)
{
	struct env *e = &E;
	char names[1024], *save = NULL;

	up(e, NULL, 1);
	ck_assert_int_eq(xpage_close(e->xp), 0);
	for (char *p; (p = next_paging(e, names, sizeof(names), &save));) {
		guest_on(e, p, 2);
		page_out(e, e->xp, 3, 4);
		e->loglen = 0;
		e->log[0] = 0;
		ck_assert_int_eq(xpage_close(e->xp), -ENOTEMPTY);
		e->xp = NULL;
		ck_assert_msg(strstr(e->log, "4 gfns still paged out: paging "
				     "stays enabled"), "%s: log: %s", p, e->log);
		touch_paged(e, 1, 5);   /* no pager: it waits */
		restart_and_load(e);
		ck_assert_int_eq(xpage_sim_touch(e->sim, e->domid, 0, 20, 0), 0);
		if (old_xen(p))
			old_xen_verdict(e, 1);
		else
			verdict(e);
		ck_assert_int_eq(xpage_sim_destroy_guest(e->sim, e->domid), 0);
	}
	fx_sim_stop();
}
END_TEST

/* The child of pager_dies_with_vcpus_waiting: a pager that pages 3 .. 6
 * out (copies into @shared), reads the request the parent's touch makes,
 * and waits to be killed. Talks through @to (write) and @from (read). */
static void dying_pager(struct env *e, uint8_t (*shared)[PAGE], int to,
			int from)
{
	uint64_t g[4] = { 3, 4, 5, 6 };
	int st[4];
	char c = 0;
	uint8_t *m;
	xpage_t *xp;

	/* a test that fails leaves no pager behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(4);
	xp = open_handle(e, 0);
	if (xpage_nominate(xp, g, 4, 0, st) != 4 ||
	    !(m = xpage_map(xp, g, 4, 0, st)))
		_exit(1);
	memcpy(shared, m, 4 * PAGE);
	if (xpage_unmap(xp, m, 4) || xpage_evict(xp, g, 4, 0, st) != 4 ||
	    write(to, &c, 1) != 1 || read(from, &c, 1) != 1 ||
	    xpage_dispatch(xp, 2000) != 1 || write(to, &c, 1) != 1)
		_exit(2);
	pause();
	_exit(3);
}


/* Case 6, second half: after a pager died with vCPUs waiting (one whose
 * request it had read, one whose request was still on the ring), the
 * takeover answers every vCPU the dead pager left paused. Every
 * personality; on Xen 4.2 - 4.4 no answer is safe (one to a running vCPU
 * stops it: t_rsp_not_paused_per_release): there the library answers
 * none, the two stay paused, says so, and the running vCPU runs on. */
START_TEST(pager_dies_with_vcpus_waiting)
{
	struct env *e = &E;
	char names[1024], *save = NULL, c = 0;
	uint8_t (*shared)[PAGE] = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(shared, MAP_FAILED);
	up(e, NULL, 1);
	ck_assert_int_eq(xpage_close(e->xp), 0);
	e->xp = NULL;
	for (char *p; (p = next_paging(e, names, sizeof(names), &save));) {
		int up_[2], down_[2], status;
		pid_t pid;

		e->pers = p;
		e->loglen = 0;
		e->domid = fx_guest(e->sim, p, 3, PAGES, 13);
		ck_assert(pipe(up_) == 0 && pipe(down_) == 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			dying_pager(e, shared, up_[1], down_[0]);
		ck_assert_int_eq(read(up_[0], &c, 1), 1);
		touch_paged(e, 0, 4);           /* read by the pager */
		ck_assert_int_eq(write(down_[1], &c, 1), 1);
		ck_assert_int_eq(read(up_[0], &c, 1), 1);
		touch_paged(e, 1, 5);           /* left on the ring */
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status));
		for (int i = 0; i < 4; i++) {
			memcpy(e->copy[3 + i], shared[i], PAGE);
			e->out[3 + i] = true;
		}
		restart_and_load(e);
		ck_assert_int_eq(xpage_sim_touch(e->sim, e->domid, 2, 20, 0), 0);
		if (old_xen(p))
			old_xen_verdict(e, 2);
		else
			verdict(e);
		close(up_[0]); close(up_[1]); close(down_[0]); close(down_[1]);
		ck_assert_int_eq(xpage_sim_destroy_guest(e->sim, e->domid), 0);
	}
	munmap(shared, 4 * PAGE);
	fx_sim_stop();
}
END_TEST

/* ------------------------------------------------------------------ 7 */

/* The child's side of the fork test: every call refused, the close
 * touching nothing. Exits 0 if so, else the number of the call that
 * went through. */
static void child_misuses(struct env *e)
{
	uint64_t g = 50;
	void *b[1] = { e->copy[3] };
	int st = 0;

	if (xpage_nominate(e->xp, &g, 1, 0, &st) != -ECHILD)
		_exit(1);
	g = 3;
	if (xpage_load(e->xp, &g, 1, b, 0, &st) != -ECHILD)
		_exit(2);
	if (xpage_dispatch(e->xp, 0) != -ECHILD)
		_exit(3);
	if (xpage_gfn_state(e->xp, g) != -ECHILD)
		_exit(4);
	if (xpage_fd(e->xp) != -ECHILD)
		_exit(5);
	if (xpage_close(e->xp) != 0)
		_exit(6);
	_exit(0);
}

/* Case 7: a child made by fork() used the parent's handle (paged out
 * behind its back) and its close disabled paging under the parent (the
 * domain crashed, 32 pages lost). */
START_TEST(handle_refused_after_fork)
{
	struct env *e = &E;
	pid_t pid;
	int st;

	up(e, NULL, 2);
	page_out(e, e->xp, 3, 32);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_misuses(e);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child's call #%d went through (status %#x)",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1, st);
	/* The parent's pager goes on: a guest access is served. */
	ck_assert_int_eq(xpage_gfn_state(e->xp, 50), XPAGE_GFN_RESIDENT);
	served_then_down(e, 0, 10);
}
END_TEST

/* ------------------------------------------------------------------ 8 */

static void *dispatch_thread(void *arg)
{
	struct env *e = arg;

	return (void *)(intptr_t)xpage_dispatch(e->xp, 10000);
}

/* Case 8: a second thread entering a handle while the first waits in
 * xpage_dispatch() got a share of the conversation (EPROTO blamed on the
 * hypervisor, vCPUs stuck). Now it gets -EBUSY and nothing changes. */
START_TEST(second_thread_gets_ebusy)
{
	struct env *e = &E;
	pthread_t t;
	uint64_t g = 30;
	int st = 0;
	void *rc;

	up(e, NULL, 2);
	page_out(e, e->xp, 3, 8);
	ck_assert_int_eq(pthread_create(&t, NULL, dispatch_thread, e), 0);
	usleep(200 * 1000); /* the thread waits inside xpage_dispatch() */
	ck_assert_int_eq(xpage_nominate(e->xp, &g, 1, 0, &st), -EBUSY);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(xpage_gfn_state(e->xp, g), -EBUSY);
	ck_assert_int_eq(xpage_close(e->xp), -EBUSY);
	ck_assert_int_eq(xpage_dispatch(e->xp, 0), -EBUSY);
	/* A guest access ends the first thread's wait. */
	touch_paged(e, 1, 5);
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_int_eq((int)(intptr_t)rc, 1);
	ck_assert_int_eq(e->nwanted, 1);
	ck_assert_int_eq(xpage_gfn_state(e->xp, g), XPAGE_GFN_RESIDENT);
	page_in_all(e, e->xp);
	down(e);
}
END_TEST

/* ------------------------------------------------------------------ 9 */

/* Case 9: xpage_detach() inside a callback freed the handle under
 * xpage_dispatch() (heap-use-after-free). Inside a callback, dispatch,
 * close and detach are refused; a load is allowed, as the header says. */
START_TEST(callback_calls_what_the_header_lists)
{
	struct env *e = &E;
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);

	up(e, NULL, 1);
	page_out(e, e->xp, 3, 4);
	e->cb_detach = e->cb_close = e->cb_dispatch = 1;
	touch_paged(e, 0, 4);
	ck_assert_int_eq(xpage_dispatch(e->xp, 2000), 1);
	ck_assert_int_eq(e->cb_detach, -EINVAL);
	ck_assert_int_eq(e->cb_close, -EINVAL);
	ck_assert_int_eq(e->cb_dispatch, -EINVAL);
	ck_assert_int_eq(e->cb_load, 1);
	e->cb_detach = e->cb_close = e->cb_dispatch = 0;
	/* the handle is whole, and the load released the vCPU */
	ck_assert_int_eq(xpage_get_stats(e->xp, &s), 0);
	ck_assert_uint_eq(s.loaded, 1);
	ck_assert_int_eq(xpage_gfn_state(e->xp, 4), XPAGE_GFN_RESIDENT);
	page_in_all(e, e->xp);
	down(e);
}
END_TEST

/* ----------------------------------------------------------------- 10 */

/* Case 10: xpage_open() with bad callbacks (sz 0, NULL) failed without a
 * word, although a log function was given. */
START_TEST(bad_callbacks_are_logged)
{
	struct env *e = &E;
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.backend = XPAGE_BACKEND_SIM, .log_fn = on_log, .log_ctx = e,
		.log_level = XPAGE_LOG_ERROR);
	struct xpage_callbacks zero = { .populate = on_populate };

	up(e, NULL, 1);
	o.domid = e->domid;
	o.sim_socket = xpage_sim_socket(e->sim);
	ck_assert_ptr_null(xpage_open(&o, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(e->log, "no callbacks (NULL)"), "log: %s", e->log);
	e->loglen = 0;
	e->log[0] = 0;
	ck_assert_ptr_null(xpage_open(&o, &zero));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(e->log, "callbacks with sz 0") &&
		      strstr(e->log, "XPAGE_OPTS"), "log: %s", e->log);
	page_out(e, e->xp, 3, 4);
	page_in_all(e, e->xp);
	down(e);
}
END_TEST

/* ----------------------------------------------------------------- 11 */

/* Whether process @pid is gone (or a zombie nobody reaped yet). */
static bool gone(pid_t pid)
{
	char path[64], st = 0;
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fscanf(f, "%*d %*s %c", &st) != 1)
		st = 0;
	fclose(f);
	return st == 'Z' || st == 'X';
}

/* Case 11: a simulator started with xpage_sim_start() outlived a creator
 * that exited without xpage_sim_stop() (seen running 18 minutes later).
 * Now it stops when its creator exits, however it exits. */
START_TEST(simulator_stops_with_its_creator)
{
	struct { pid_t pid; char path[200]; } told;
	int p[2], status;
	pid_t child;
	double t0;

	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		xpage_sim_t *sim = xpage_sim_start(NULL);
		struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
			.pages = 16);

		memset(&told, 0, sizeof(told));
		if (sim && xpage_sim_create_guest(sim, &g) > 0) {
			told.pid = xpage_sim_pid(sim);
			snprintf(told.path, sizeof(told.path), "%s",
				 xpage_sim_socket(sim));
		}
		_exit(write(p[1], &told, sizeof(told)) == sizeof(told) ? 0 : 1);
	}
	ck_assert_int_eq(read(p[0], &told, sizeof(told)), sizeof(told));
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_gt(told.pid, 0);
	t0 = now_s();
	while (!gone(told.pid) && now_s() - t0 < 10)
		usleep(10 * 1000);
	if (!gone(told.pid))
		kill(told.pid, SIGKILL); /* leave nothing behind */
	ck_assert_msg(now_s() - t0 < 10, "the simulator (pid %ld) outlived "
		      "its creator", (long)told.pid);
	ck_assert_int_ne(access(told.path, F_OK), 0); /* it removed its socket */
	*strrchr(told.path, '/') = 0;
	rmdir(told.path); /* its creator's directory */
	close(p[0]);
	close(p[1]);
}
END_TEST

/* Every test, or only the one $MISUSE_TEST names. */
static void tests(TCase *tc)
{
	const char *only = getenv("MISUSE_TEST");

#define ADD(t) do {						\
		if (!only || !strcmp(only, #t))			\
			tcase_add_test(tc, t);			\
	} while (0)
	ADD(takeover_refused_while_first_pager_runs);
	ADD(evict_refuses_gfn_never_mapped);
	ADD(map_maps_what_it_can);
	ADD(zero_gfns_is_a_no_op);
	ADD(dead_connection_errors_at_once);
	ADD(vcpu_waiting_at_close_runs_after_restart);
	ADD(close_with_pages_out_keeps_the_ring);
	ADD(pager_dies_with_vcpus_waiting);
	ADD(handle_refused_after_fork);
	ADD(second_thread_gets_ebusy);
	ADD(callback_calls_what_the_header_lists);
	ADD(bad_callbacks_are_logged);
	ADD(simulator_stops_with_its_creator);
#undef ADD
}

int main(void)
{
	return fx_main("misuse", "misuse", 120, tests);
}
