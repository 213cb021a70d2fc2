/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * misuse: a third-party pager that turns the API against itself, case by
 * case, in the spirit of liburing's test/ programs.
 *
 * Built by tests/consumer/run.sh from an installed copy of libxpage with
 * nothing but `cc misuse.c $(pkg-config --cflags --libs libxpage)`, so it
 * knows only <xpage/xpage.h> and <xpage/sim.h> (and what README.md says).
 * Each case starts its own simulator ($XPAGE_SIMD), creates a fresh guest,
 * does what a careless pager might, and ends with the oracle's verdict: no
 * page lost or corrupted, no vCPU stuck, the domain alive. A watchdog turns
 * a hang into a failure. Prints one line per case; exits 0 only if every
 * case passed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpage/xpage.h>
#include <xpage/sim.h>

#define NPAGES 128u
#define PAGE XPAGE_PAGE_SIZE
#define WATCHDOG_S 60

/* One simulated guest and the pager's state on it. */
struct g {
	xpage_sim_t *sim;
	uint32_t domid;
	xpage_t *xp;
	unsigned char copy[NPAGES][PAGE];
	bool out[NPAGES];
	uint64_t want[NPAGES];
	unsigned nwant;
	char log[8192];
	bool in_cb_tries;      /* case 9: the populate callback misbehaves */
	int cb_rc[3];
};

static const char *cur;        /* the case running */
static int failed;

#define CHECK(cond, ...) do {						\
		if (!(cond)) {						\
			report_fail(__LINE__, __VA_ARGS__);		\
			return -1;					\
		}							\
	} while (0)

static void report_fail(int line, const char *fmt, ...)
{
	va_list ap;

	printf("misuse: %s: FAIL (line %d): ", cur, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void on_watchdog(int sig)
{
	static const char msg[] = "misuse: a case hung: FAIL\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void on_log(void *ctx, int level, const char *msg)
{
	struct g *g = ctx;
	size_t l = strlen(g->log);

	(void)level;
	if (l + strlen(msg) + 2 < sizeof(g->log))
		snprintf(g->log + l, sizeof(g->log) - l, "%s\n", msg);
}

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct g *g = user;

	if (g->nwant < NPAGES)
		g->want[g->nwant++] = ev->gfn;
	if (g->in_cb_tries) {
		g->cb_rc[0] = xpage_detach(xp, 0);
		g->cb_rc[1] = xpage_close(xp);
		g->cb_rc[2] = xpage_dispatch(xp, 0);
	}
}

static struct xpage_callbacks cbs_of(struct g *g)
{
	return XPAGE_OPTS(xpage_callbacks, .user = g, .populate = on_populate);
}

static xpage_t *pg_open(struct g *g, uint32_t flags)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.domid = g->domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(g->sim), .ages = XPAGE_AGES_ALL,
		.flags = flags, .features_wanted = XPAGE_FEAT_ALL,
		.log_fn = on_log, .log_ctx = g, .log_level = XPAGE_LOG_INFO);
	struct xpage_callbacks cb = cbs_of(g);

	return xpage_open(&o, &cb);
}

/* A fresh simulator, a guest of @pers, a handle. NULL on failure. */
static struct g *guest(const char *pers, uint32_t vcpus)
{
	struct g *g = calloc(1, sizeof(*g));
	struct xpage_sim_guest_opts o = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = vcpus, .pages = NPAGES, .personality = pers,
		.seed = 42);
	int domid;

	if (!g || !(g->sim = xpage_sim_start(NULL)))
		goto fail;
	domid = xpage_sim_create_guest(g->sim, &o);
	if (domid <= 0)
		goto fail;
	g->domid = (uint32_t)domid;
	g->xp = pg_open(g, 0);
	if (g->xp)
		return g;
fail:
	report_fail(__LINE__, "no guest: %s", strerror(errno));
	if (g)
		xpage_sim_stop(g->sim);
	free(g);
	return NULL;
}

/* Page @n gfns from @first out, keeping copies. 0 or -1. */
static int pg_out(struct g *g, uint64_t first, unsigned n)
{
	uint64_t gf[NPAGES];
	int st[NPAGES];
	unsigned char *m;

	for (unsigned i = 0; i < n; i++)
		gf[i] = first + i;
	CHECK(xpage_nominate(g->xp, gf, n, 0, st) == (int)n, "nominate");
	m = xpage_map(g->xp, gf, n, 0, st);
	CHECK(m, "map: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++)
		memcpy(g->copy[gf[i]], m + (size_t)i * PAGE, PAGE);
	CHECK(xpage_unmap(g->xp, m, n) == 0, "unmap");
	CHECK(xpage_evict(g->xp, gf, n, 0, st) == (int)n, "evict");
	for (unsigned i = 0; i < n; i++)
		g->out[gf[i]] = true;
	return 0;
}

/* Load every page that is out (and resume its vCPUs). 0 or -1. */
static int pg_back(struct g *g, xpage_t *xp)
{
	for (uint64_t gf = 0; gf < NPAGES; gf++) {
		void *b[1] = { g->copy[gf] };
		int st = 0;

		if (!g->out[gf])
			continue;
		CHECK(xpage_load(xp, &gf, 1, b, XPAGE_LOAD_RESUME, &st) == 1,
		      "load of gfn %llu: %s", (unsigned long long)gf,
		      xpage_strerror(st));
		g->out[gf] = false;
	}
	g->nwant = 0;
	return 0;
}

/* Close (if open), ask the oracle, stop the simulator, free. 0 or -1. */
static int verdict(struct g *g)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int rc = 0;

	if (g->xp && xpage_close(g->xp) != 0)
		rc = -1;
	if (xpage_sim_report(g->sim, g->domid, XPAGE_SIM_REPORT_FINAL, 0,
			     &r) < 0 || r.lost || r.corrupted || r.stuck ||
	    r.crashed || r.paged || r.nominated) {
		report_fail(__LINE__, "oracle: lost %llu corrupted %llu stuck "
			    "%llu crashed %u paged %llu nominated %llu",
			    (unsigned long long)r.lost,
			    (unsigned long long)r.corrupted,
			    (unsigned long long)r.stuck, r.crashed,
			    (unsigned long long)r.paged,
			    (unsigned long long)r.nominated);
		rc = -1;
	}
	xpage_sim_stop(g->sim);
	free(g);
	return rc;
}

/* A guest vCPU reads a paged-out gfn: it must wait for the pager. */
static bool touch_waits(struct g *g, uint32_t vcpu, uint64_t gf)
{
	return xpage_sim_touch(g->sim, g->domid, vcpu, gf, 0) == -EAGAIN;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */

/* 1: a takeover while the first pager runs must leave it alone. */
static int c_takeover_while_alive(struct g *g)
{
	CHECK(pg_out(g, 10, 16) == 0, "page-out");
	CHECK(!pg_open(g, XPAGE_OPEN_TAKEOVER) && errno == EBUSY,
	      "a second pager took the domain");
	CHECK(touch_waits(g, 1, 12), "touch");
	CHECK(xpage_dispatch(g->xp, 2000) == 1, "dispatch");
	return pg_back(g, g->xp);
}

/* 2: evict of a gfn never mapped must be refused. */
static int c_evict_unmapped(struct g *g)
{
	uint64_t gf = 20;
	int st = 0;

	CHECK(xpage_nominate(g->xp, &gf, 1, 0, &st) == 1, "nominate");
	CHECK(xpage_evict(g->xp, &gf, 1, 0, &st) == 0 && st == -EINVAL,
	      "evicted a gfn whose contents the pager never had (%d)", st);
	CHECK(xpage_unnominate(g->xp, &gf, 1, 0, &st) == 1, "unnominate");
	return 0;
}

/* 3: map with a duplicate and an out-of-range gfn maps the rest. */
static int c_map_partial(struct g *g)
{
	uint64_t gf[4] = { 30, 30, 1ull << 40, 31 };
	int st[4];
	unsigned char *m;

	CHECK(xpage_nominate(g->xp, gf + 3, 1, 0, st) == 1, "nominate");
	CHECK(xpage_nominate(g->xp, gf, 1, 0, st) == 1, "nominate");
	m = xpage_map(g->xp, gf, 4, 0, st);
	CHECK(m, "map failed as a whole: %s", strerror(errno));
	CHECK(!st[0] && st[1] == -EALREADY && st[2] == -ERANGE && !st[3],
	      "statuses %d %d %d %d", st[0], st[1], st[2], st[3]);
	memcpy(g->copy[30], m, PAGE);
	memcpy(g->copy[31], m + 3 * PAGE, PAGE);
	CHECK(xpage_unmap(g->xp, m, 4) == 0, "unmap");
	gf[1] = 31;
	CHECK(xpage_evict(g->xp, gf, 2, 0, st) == 2, "evict");
	g->out[30] = g->out[31] = true;
	return pg_back(g, g->xp);
}

/* 4: n = 0 is nothing to do, not "try again later". */
static int c_zero_gfns(struct g *g)
{
	CHECK(xpage_nominate(g->xp, NULL, 0, 0, NULL) == 0, "nominate");
	CHECK(xpage_evict(g->xp, NULL, 0, 0, NULL) == 0, "evict");
	CHECK(xpage_unnominate(g->xp, NULL, 0, 0, NULL) == 0, "unnominate");
	CHECK(xpage_load(g->xp, NULL, 0, NULL, 0, NULL) == 0, "load");
	CHECK(xpage_resume(g->xp, NULL, 0, 0, NULL) == 0, "resume");
	CHECK(xpage_adopt(g->xp, NULL, 0, 0, NULL) == 0, "adopt");
	return 0;
}

/* 5: the simulator dies: every wait and call ends with an error at once
 * (no oracle after that: the guest died with it). */
static int c_dead_simulator(struct g *g)
{
	uint64_t gf = 5;
	int st = 0;
	double t0;

	CHECK(pg_out(g, 40, 4) == 0, "page-out");
	CHECK(kill(xpage_sim_pid(g->sim), SIGKILL) == 0, "kill");
	t0 = now();
	CHECK(xpage_dispatch(g->xp, -1) == -EIO, "dispatch(-1)");
	CHECK(xpage_dispatch(g->xp, 2000) == -EIO, "dispatch(2000)");
	CHECK(xpage_nominate(g->xp, &gf, 1, 0, &st) == -EIO, "nominate");
	CHECK(xpage_close(g->xp) == -EIO, "close");
	g->xp = NULL;
	CHECK(now() - t0 < 1, "%.1f s to learn it", now() - t0);
	xpage_sim_stop(g->sim);
	free(g);
	return 1; /* no verdict to ask for */
}

/* 6: a vCPU waiting when the pager closed runs once a new pager has
 * re-attached, adopted and loaded, as the README says. The close leaves
 * paging enabled: gfns are still out. */
static int c_close_with_waiter(struct g *g)
{
	uint64_t gf[4] = { 50, 51, 52, 53 };
	int st[4], rc;

	CHECK(pg_out(g, 50, 4) == 0, "page-out");
	CHECK(touch_waits(g, 0, 51), "touch");
	CHECK(xpage_dispatch(g->xp, 2000) == 1 && g->nwant == 1, "populate");
	rc = xpage_close(g->xp);
	g->xp = NULL;
	CHECK(rc == -ENOTEMPTY, "close: %s", xpage_strerror(rc));
	g->xp = pg_open(g, XPAGE_OPEN_TAKEOVER);
	CHECK(g->xp, "re-attach: %s", strerror(errno));
	CHECK(xpage_adopt(g->xp, gf, 4, 0, st) == 4, "adopt");
	return pg_back(g, g->xp);
}

/* 7: a child made by fork() must not page behind the parent's back, and
 * its close must leave the domain alone. */
static int c_fork(struct g *g)
{
	pid_t pid;
	int status;

	CHECK(pg_out(g, 60, 32) == 0, "page-out");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		uint64_t gf = 100;
		uint32_t h = 0;
		int st = 0;

		_exit(xpage_nominate(g->xp, &gf, 1, 0, &st) != -ECHILD ||
		      xpage_gfn_hints(g->xp, &gf, 1, 0, &h) != -ECHILD ||
		      xpage_close(g->xp) != 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "the child used the handle");
	CHECK(touch_waits(g, 0, 61), "touch");
	CHECK(xpage_dispatch(g->xp, 2000) == 1, "dispatch");
	return pg_back(g, g->xp);
}

static void *waiter(void *arg)
{
	struct g *g = arg;

	return (void *)(intptr_t)xpage_dispatch(g->xp, 20000);
}

/* 8: a second thread entering the handle gets -EBUSY. */
static int c_two_threads(struct g *g)
{
	pthread_t t;
	uint64_t gf = 100;
	int st = 0;
	void *rc;

	CHECK(pg_out(g, 70, 4) == 0, "page-out");
	CHECK(pthread_create(&t, NULL, waiter, g) == 0, "thread");
	usleep(200 * 1000);
	st = xpage_nominate(g->xp, &gf, 1, 0, &st);
	CHECK(touch_waits(g, 1, 71), "touch");
	pthread_join(t, &rc);
	CHECK(st == -EBUSY, "the second thread got %d", st);
	CHECK((intptr_t)rc == 1, "the first thread's dispatch: %d",
	      (int)(intptr_t)rc);
	return pg_back(g, g->xp);
}

/* 9: detach, close and dispatch from a callback are refused. */
static int c_callback_calls(struct g *g)
{
	CHECK(pg_out(g, 80, 4) == 0, "page-out");
	g->in_cb_tries = true;
	CHECK(touch_waits(g, 0, 81), "touch");
	CHECK(xpage_dispatch(g->xp, 2000) == 1, "dispatch");
	g->in_cb_tries = false;
	CHECK(g->cb_rc[0] == -EINVAL && g->cb_rc[1] == -EINVAL &&
	      g->cb_rc[2] == -EINVAL, "from the callback: detach %d, close "
	      "%d, dispatch %d", g->cb_rc[0], g->cb_rc[1], g->cb_rc[2]);
	return pg_back(g, g->xp);
}

/* 10: bad callbacks are explained through the log function. */
static int c_bad_callbacks(struct g *g)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.domid = g->domid, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(g->sim), .log_fn = on_log,
		.log_ctx = g, .log_level = XPAGE_LOG_ERROR);
	struct xpage_callbacks zero = { .populate = on_populate };

	g->log[0] = 0;
	CHECK(!xpage_open(&o, NULL) && errno == EINVAL, "NULL callbacks");
	CHECK(!xpage_open(&o, &zero) && errno == EINVAL, "sz 0");
	CHECK(strstr(g->log, "callbacks"), "nothing logged");
	return 0;
}

/* 11: a simulator whose creator exits without xpage_sim_stop() stops. */
static int c_orphan_simulator(struct g *g)
{
	int p[2];
	pid_t child, sim = 0;
	double t0;

	CHECK(pipe(p) == 0, "pipe");
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		xpage_sim_t *s = xpage_sim_start(NULL);
		pid_t sp = s ? xpage_sim_pid(s) : 0;

		_exit(write(p[1], &sp, sizeof(sp)) != sizeof(sp));
	}
	CHECK(read(p[0], &sim, sizeof(sim)) == sizeof(sim) && sim > 0,
	      "no simulator");
	waitpid(child, NULL, 0);
	close(p[0]);
	close(p[1]);
	for (t0 = now(); now() - t0 < 10 && kill(sim, 0) == 0; )
		usleep(20 * 1000);
	if (kill(sim, 0) == 0) {
		kill(sim, SIGKILL);
		CHECK(0, "the simulator outlived its creator");
	}
	(void)g;
	return 0;
}

/* RAM: on the PVH layout no gfn outside RAM needs to be tried. */
static int c_ram_only(struct g *g)
{
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	struct xpage_gfn_range r[4];
	int n = xpage_ram_ranges(g->xp, r, 4);

	CHECK(xpage_get_info(g->xp, &info) == 0, "info");
	CHECK(n == 1 && r[0].first == 0 && r[0].count == NPAGES,
	      "RAM: %d ranges, first %llu +%llu (nr_gfns %llu)", n,
	      (unsigned long long)r[0].first, (unsigned long long)r[0].count,
	      (unsigned long long)info.nr_gfns);
	CHECK(info.nr_gfns > 1000 * NPAGES, "nr_gfns %llu",
	      (unsigned long long)info.nr_gfns);
	/* (the middle of RAM: the simulated hypervisor's own walk gfns, which
	 * the library refuses, lie in its top eighth) */
	CHECK(pg_out(g, r[0].first + r[0].count / 2, 8) == 0, "page-out");
	return pg_back(g, g->xp);
}

static const struct {
	const char *name, *pers;
	uint32_t vcpus;
	int (*run)(struct g *g);
} cases[] = {
	{ "1 takeover while the first pager runs", NULL, 2,
	  c_takeover_while_alive },
	{ "2 evict of a gfn never mapped", NULL, 1, c_evict_unmapped },
	{ "3 map with a duplicate and an out-of-range gfn", NULL, 1,
	  c_map_partial },
	{ "4 batches of no gfns", NULL, 1, c_zero_gfns },
	{ "5 the simulator dies", NULL, 1, c_dead_simulator },
	{ "6 close with a vCPU waiting (newest Xen)", NULL, 2,
	  c_close_with_waiter },
	{ "6 close with a vCPU waiting (Xen 4.2)", "xen-4.2", 2,
	  c_close_with_waiter },
	{ "7 the handle in a child after fork", NULL, 2, c_fork },
	{ "8 a second thread", NULL, 2, c_two_threads },
	{ "9 detach, close, dispatch in a callback", NULL, 1,
	  c_callback_calls },
	{ "10 bad callbacks", NULL, 1, c_bad_callbacks },
	{ "11 a creator that does not stop its simulator", NULL, 1,
	  c_orphan_simulator },
	{ "RAM of a PVH guest", "xen-4.17-pvh", 1, c_ram_only },
};

int main(void)
{
	signal(SIGALRM, on_watchdog);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct g *g;
		int rc;

		cur = cases[i].name;
		alarm(WATCHDOG_S);
		g = guest(cases[i].pers, cases[i].vcpus);
		rc = g ? cases[i].run(g) : -1;
		if (rc == 0)
			rc = verdict(g);
		else if (rc < 0 && g)
			verdict(g);
		alarm(0);
		if (rc < 0)
			failed++;
		else
			printf("misuse: %s: ok\n", cur);
		fflush(stdout);
	}
	printf("misuse: %d of %zu cases failed\n", failed,
	       sizeof(cases) / sizeof(cases[0]));
	return failed ? 1 : 0;
}
