/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Suite "pager": xpage-batch-pager run as a user runs it, against
 * xpage-simd. One scenario per invocation:
 *
 *   e2e             the done-when command (own simulator)
 *   sigterm         SIGUSR1 writes the statistics so far; SIGTERM drains
 *                   everything back and exits 0
 *   sigint          Ctrl-C on a terminal (SIGINT to the process group)
 *                   with --sim: the simulator must not stop with it
 *   kill-write      SIGKILL in the middle of a batch write, restart
 *   kill-indexed    SIGKILL between the index sync and the evict, restart
 *   kill-pagein     SIGKILL during a page-in (read, before the load)
 *   kill-loaded     SIGKILL after a load, before its slot is freed
 *   kill-random     SIGKILL at random moments, three times, restarts
 *   kill-twice      killed writing a batch, then again just after the
 *                   re-attach: the third pager still finds every gfn
 *   kill-zero-write, kill-zero-indexed, kill-zero-pagein
 *                   the same kills with 30 % of the guest's pages zero
 *   kill-lz4-write, kill-lz4-indexed, kill-lz4-pagein, kill-lz4-loaded
 *                   the same kills with text-like pages stored with lz4
 *   kill-zstd-write, kill-zstd-pagein
 *                   with zstd, 30 % of the pages zero
 *   kill-ram-write, kill-ram-indexed, kill-ram-pagein, kill-ram-loaded,
 *   kill-ram-lz4-pagein
 *                   with a RAM tier of 4 MiB (and lz4, 30 % zero pages):
 *                   what the dead pager held in it was in the file too
 *   corrupt         a byte of a page flipped in the store: the page is
 *                   refused and counted, its gfn left out, never loaded
 *   corrupt-lz4     the same with text-like pages stored with lz4
 *   prefetch        a guest walking its memory in order: pages loaded
 *                   ahead, faults per access fall
 *   prefetch-random faults spread over memory load nothing ahead
 *   prefetch-lz4    the walk with lz4 and a RAM tier: prefetch follows
 *                   the store's variable-length records
 *   zero            30 % zero pages: out without a write, back from zeros
 *   zero-all        an all-zero guest: its store's data file stays empty
 *   pvh-ram         a PVH guest (mostly hole): only RAM gfns nominated
 *   kernel-code     the guest kernel's code stays resident, unless
 *                   --page-code
 *   policy          the clock by default; --policy logdirty scans, and
 *                   falls back to the clock when someone else holds it
 *   err-nosim       no Xen and no simulator
 *   err-hvm         a domain that is not HVM, or has no HAP
 *   err-nopaging    a hypervisor built without paging
 *   err-busy        another pager is active (and a store in use)
 *   err-diskfull    the store's disk fills up (a 2 MiB tmpfs)
 *   err-store       a store of another domain, of another user, mode 0644
 *
 * For the kill scenarios the test runs the simulator and the guest, so
 * that they outlive the pager (as a Xen host outlives a dom0 process),
 * and the pager attaches with --sim-socket/--domid. The pager's test
 * hook XPAGE_BATCH_PAGER_CRASH=point:n makes it kill itself with SIGKILL
 * the n-th time it reaches a point. After each scenario the oracle must
 * report no page lost, corrupted or stuck, no page left paged out or
 * nominated, and the guest alive with its workload running after the
 * last pager left (a page left nominated would crash it then).
 *
 * Environment: XPAGE_BATCH_PAGER (the pager), XPAGE_SIMD (the simulator).
 * Exit: 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "check.h"
#include "sim_zero.h"
#include "stats_read.h"

static const char *pager;
static char tmp[256];
static int failures;


__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *path(const char *name)
{
	static char buf[8][512];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, 512, "%s/%s", tmp, name);
	return b;
}

static bool exists(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0;
}

/* ------------------------------------------------------------------ */
/* Running the pager                                                    */

/* Start the pager with @args (NULL-terminated), stdout and stderr to
 * @log. @crash: XPAGE_BATCH_PAGER_CRASH or NULL. */
static bool new_group; /* spawn(): the pager leads a process group */

static pid_t spawn(const char *const *args, const char *log, const char *crash,
		   const char *simd_override)
{
	const char *argv[64];
	int n = 0;
	pid_t pid;

	argv[n++] = pager;
	for (; *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (crash)
			setenv("XPAGE_BATCH_PAGER_CRASH", crash, 1);
		else
			unsetenv("XPAGE_BATCH_PAGER_CRASH");
		if (simd_override)
			setenv("XPAGE_SIMD", simd_override, 1);
		unsetenv("XPAGE_SIM_SOCKET");
		if (new_group)
			setpgid(0, 0);
		execv(pager, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait up to @secs; returns the wait status, or -1 (killed by us). */
static int wait_for(pid_t pid, double secs)
{
	double end = now_s() + secs;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		msleep(20);
	}
}

static void show_log(const char *log)
{
	char line[1024];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

static bool log_has(const char *log, const char *needle)
{
	char buf[1 << 16];
	FILE *f = fopen(log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Exit status @want expected; shows the log otherwise. */
static bool exited(int st, int want, const char *log, const char *what)
{
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == want)
		return true;
	if (st == -1)
		fprintf(stderr, "FAIL: %s: still running, killed\n", what);
	else if (WIFSIGNALED(st))
		fprintf(stderr, "FAIL: %s: killed by signal %d\n", what,
			WTERMSIG(st));
	else
		fprintf(stderr, "FAIL: %s: exit %d, wanted %d\n", what,
			WEXITSTATUS(st), want);
	show_log(log);
	failures++;
	return false;
}

/* A number from the pager's JSON ("key": value); -1 for null/absent. */
static double json_num(const char *file, const char *key)
{
	return stats_json_num(file, key);
}

/* The oracle's figures in a --stats-json file: nothing lost, corrupted
 * or stuck, the guest alive. */
static bool oracle_clean(const char *json)
{
	return json_num(json, "oracle_lost") == 0 &&
	       json_num(json, "oracle_corrupted") == 0 &&
	       json_num(json, "oracle_stuck") == 0 &&
	       json_num(json, "oracle_crashed") == 0;
}

/* ------------------------------------------------------------------ */
/* The simulated guest                                                  */

struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	char dom[16];
};

static void sim_up(struct env *e, uint64_t mib, uint32_t flags,
		   const char *personality)
{
	struct xpage_sim_guest_opts go = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 2, .pages = mib * 256, .flags = flags,
		.personality = personality, .seed = 7);
	int rc;

	if (!e->sim) {
		struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts,
			.log_path = path("simd.log"));

		e->sim = xpage_sim_start(&so);
		if (!e->sim)
			die("cannot start xpage-simd (XPAGE_SIMD=%s): %s",
			    getenv("XPAGE_SIMD"), strerror(errno));
	}
	rc = xpage_sim_create_guest(e->sim, &go);
	if (rc < 0)
		die("create guest: %s", xpage_strerror(rc));
	e->domid = (uint32_t)rc;
	snprintf(e->dom, sizeof(e->dom), "%u", e->domid);
}

static void workload(struct env *e, uint32_t release_pm)
{
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_HOTCOLD, .write_pct = 30, .hot_set_pct = 10,
		.hot_pct = 80, .think_us = 300, .release_pm = release_pm,
		.seed = 11);
	int rc = xpage_sim_workload(e->sim, e->domid, &w);

	if (rc < 0)
		die("workload: %s", xpage_strerror(rc));
}

/* After the last pager left: the guest keeps running a while (a page
 * left paged or nominated would crash it now), then the final check. */
static void oracle_check(struct env *e, const char *what)
{
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int rc = xpage_sim_report(e->sim, e->domid, 0, 10000, &r);

	CHECK(rc == 0, "%s: report: %s", what, xpage_strerror(rc));
	CHECK(r.paged == 0 && r.nominated == 0, "%s: after the pager: %llu "
	      "paged, %llu nominated", what, (unsigned long long)r.paged,
	      (unsigned long long)r.nominated);
	CHECK(!r.ring_enabled, "%s: the ring is still enabled", what);
	msleep(1000);
	xpage_sim_workload_stop(e->sim, e->domid);
	rc = xpage_sim_report(e->sim, e->domid, XPAGE_SIM_REPORT_FINAL, 10000, &r);
	CHECK(rc == 0, "%s: final report: %s", what, xpage_strerror(rc));
	CHECK(!r.crashed, "%s: the domain crashed", what);
	CHECK(r.lost == 0 && r.corrupted == 0 && r.stuck == 0,
	      "%s: oracle: %llu lost, %llu corrupted, %llu stuck", what,
	      (unsigned long long)r.lost, (unsigned long long)r.corrupted,
	      (unsigned long long)r.stuck);
	CHECK(r.paused_vcpus == 0, "%s: %u vCPUs paused", what, r.paused_vcpus);
	printf("%s: oracle ok (%llu accesses, %llu faults)\n", what,
	       (unsigned long long)r.accesses, (unsigned long long)r.faults);
}

static void sim_down(struct env *e)
{
	if (e->sim)
		xpage_sim_stop(e->sim);
	e->sim = NULL;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                            */

static int t_e2e(void)
{
	const char *json = path("out.json"), *log = path("e2e.log");
	const char *args[] = { "--sim", "--guest-mib", "256", "--target-mib",
			       "64", "--duration", "20", "--stats-json", json,
			       "--store", path("e2e.store"), NULL };
	int st = wait_for(spawn(args, log, NULL, NULL), 150);

	if (!exited(st, 0, log, "e2e"))
		return 1;
	show_log(log);
	CHECK(json_num(json, "pages_out") >= 49152, "pages_out %.0f < 49152",
	      json_num(json, "pages_out"));
	CHECK(json_num(json, "target_reached_s") >= 0, "target not reached");
	CHECK(json_num(json, "pages_still_out") == 0, "pages left out");
	CHECK(json_num(json, "oracle_lost") == 0, "oracle_lost %.0f",
	      json_num(json, "oracle_lost"));
	CHECK(json_num(json, "oracle_corrupted") == 0, "oracle_corrupted %.0f",
	      json_num(json, "oracle_corrupted"));
	CHECK(json_num(json, "oracle_stuck") == 0, "oracle_stuck %.0f",
	      json_num(json, "oracle_stuck"));
	CHECK(json_num(json, "oracle_crashed") == 0, "the guest crashed");
	CHECK(json_num(json, "pages_in") == json_num(json, "pages_out"),
	      "pages_in %.0f != pages_out %.0f", json_num(json, "pages_in"),
	      json_num(json, "pages_out"));
	CHECK(!exists(path("e2e.store")) && !exists(path("e2e.store.index")),
	      "the store was not removed");
	return 0;
}

/* On the PVH layout (1,044,480 gfns for 8,192 pages of RAM, the rest a
 * hole below the special pages) the pager nominates RAM gfns only: it
 * asks the library for the RAM, and its statistics count every gfn it
 * nominated outside it. */
static int t_pvh_ram(void)
{
	const char *json = path("pvh.json"), *log = path("pvh.log");
	const char *args[] = { "--sim", "--personality", "xen-4.17-pvh",
			       "--guest-mib", "32", "--target-mib", "8",
			       "--duration", "4", "--stats-json", json,
			       "--store", path("pvh.store"), NULL };
	int st = wait_for(spawn(args, log, NULL, NULL), 120);

	if (!exited(st, 0, log, "pvh-ram"))
		return 1;
	CHECK(json_num(json, "nominated_non_ram") == 0,
	      "%.0f gfns outside RAM nominated",
	      json_num(json, "nominated_non_ram"));
	CHECK(json_num(json, "guest_pages") == 8192, "guest_pages %.0f",
	      json_num(json, "guest_pages"));
	CHECK(json_num(json, "pages_out") >= 6144, "pages_out %.0f < 6144",
	      json_num(json, "pages_out"));
	CHECK(oracle_clean(json), "oracle not clean");
	return 0;
}

/* Page a 64 MiB guest (256 pages of kernel code, sim/kcode.c) down to
 * 8 MiB: its kernel's code is left resident, and paged out only when
 * asked for (@kcode). */
static int kernel_code_run(bool kcode)
{
	const char *json = path("kcode.json"), *log = path("kcode.log");
	const char *args[] = { "--sim", "--personality", "xen-4.17-pvh",
			       "--guest-mib", "64", "--target-mib", "8",
			       "--duration", "4", "--stats-json", json,
			       "--store", path("kcode.store"),
			       kcode ? "--page-code" : NULL, NULL };
	int st = wait_for(spawn(args, log, NULL, NULL), 120);

	if (!exited(st, 0, log, "kernel-code"))
		return 1;
	CHECK(json_num(json, "pages_out") >= 14336, "pages_out %.0f < 14336",
	      json_num(json, "pages_out"));
	if (kcode)
		CHECK(json_num(json, "code_chosen") > 0,
		      "no kernel code paged out with --page-code");
	else
		CHECK(json_num(json, "code_chosen") == 0,
		      "%.0f pages of kernel code paged out",
		      json_num(json, "code_chosen"));
	CHECK(json_num(json, "oracle_lost") == 0 &&
	      json_num(json, "oracle_corrupted") == 0 &&
	      json_num(json, "oracle_stuck") == 0 &&
	      json_num(json, "oracle_crashed") == 0, "oracle not clean");
	return 0;
}

static int t_kernel_code(void)
{
	return kernel_code_run(false) || kernel_code_run(true);
}

/* The usual attach arguments for guest @e. */
#define ATTACH(e, store) "--sim-socket", xpage_sim_socket((e)->sim), \
	"--domid", (e)->dom, "--store", (store), "--no-progress"

static int t_sigterm(void)
{
	struct env e = { 0 };
	const char *json = path("sigterm.json"), *log = path("sigterm.log");
	int st;
	pid_t pid;

	sim_up(&e, 64, 0, NULL);
	workload(&e, 0);
	{
		const char *args[] = { ATTACH(&e, path("s.store")), "--target-mib",
				       "16", "--stats-json", json, NULL };

		pid = spawn(args, log, NULL, NULL);
	}
	/* until the target is reached (or 15 s) */
	for (double end = now_s() + 15; now_s() < end;) {
		struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

		if (xpage_sim_report(e.sim, e.domid, 0, 60000, &r) == 0 &&
		    r.paged >= 12000)
			break;
		msleep(100);
	}
	msleep(1500);
	/* SIGUSR1: the statistics so far, and the pager goes on */
	CHECK(!exists(json), "%s before SIGUSR1", json);
	kill(pid, SIGUSR1);
	for (double end = now_s() + 10; now_s() < end && !exists(json);)
		msleep(50);
	msleep(200);
	CHECK(json_num(json, "pages_out") >= 12000, "SIGUSR1 snapshot: "
	      "pages_out %.0f", json_num(json, "pages_out"));
	CHECK(kill(pid, 0) == 0, "the pager stopped at SIGUSR1");
	kill(pid, SIGTERM);
	st = wait_for(pid, 60);
	if (exited(st, 0, log, "SIGTERM drain")) {
		CHECK(json_num(json, "pages_out") >= 12288, "pages_out %.0f",
		      json_num(json, "pages_out"));
		CHECK(json_num(json, "pages_in") == json_num(json, "pages_out"),
		      "pages_in %.0f != pages_out %.0f",
		      json_num(json, "pages_in"), json_num(json, "pages_out"));
		CHECK(json_num(json, "pages_in_drain") > 0, "nothing drained");
		CHECK(log_has(log, "Terminated: paging everything back in"),
		      "no drain message");
		CHECK(!exists(path("s.store")), "store not removed");
	}
	oracle_check(&e, "sigterm");
	sim_down(&e);
	return 0;
}

static int t_sigint(void)
{
	const char *json = path("int.json"), *log = path("int.log");
	const char *args[] = { "--sim", "--guest-mib", "64", "--target-mib",
			       "16", "--stats-json", json, "--store",
			       path("i.store"), NULL };
	pid_t pid;

	new_group = true;
	pid = spawn(args, log, NULL, NULL);
	new_group = false;
	for (double end = now_s() + 15; now_s() < end && !log_has(log, "simulator at");)
		msleep(50);
	msleep(1500);
	kill(-pid, SIGINT); /* what the terminal does on Ctrl-C */
	if (exited(wait_for(pid, 60), 0, log, "Ctrl-C")) {
		CHECK(log_has(log, "Interrupt: paging everything back in"),
		      "no drain message");
		CHECK(json_num(json, "pages_in") == json_num(json, "pages_out") &&
		      json_num(json, "pages_out") > 0, "pages_in %.0f, pages_out %.0f",
		      json_num(json, "pages_in"), json_num(json, "pages_out"));
		CHECK(oracle_clean(json), "oracle not clean");
	}
	return 0;
}

/* @pct % of @e's first @mib MiB made zero (seed 7, as the guest's). */
static void zero_share(struct env *e, uint64_t mib, uint32_t pct)
{
	int64_t n = sim_zero_share(e->sim, e->domid, mib * 256, pct, 7);

	if (n < 0)
		die("making pages zero: %s", xpage_strerror((int)n));
	printf("%lld of %llu pages made zero\n", (long long)n,
	       (unsigned long long)(mib * 256));
}

/* Run a pager that kills itself at @crash, then one that re-attaches.
 * @zero_pct % of the guest's pages are zero; with @codec, its pages are
 * text-like and both pagers store them compressed with @codec. */
static int t_kill(const char *crash, bool want_adopted, uint32_t zero_pct,
		  const char *codec, const char *ram_mib)
{
	struct env e = { 0 };
	const char *store = path("k.store"), *log1 = path("k1.log"),
		   *log2 = path("k2.log"), *json = path("k2.json");
	const char *cz = codec ? "--compress" : NULL;
	const char *rt = ram_mib ? "--ram-tier-mib" : NULL;
	int st;

	sim_up(&e, 64, codec ? XPAGE_SIM_GUEST_TEXT : 0, NULL);
	if (zero_pct)
		zero_share(&e, 64, zero_pct);
	workload(&e, 0);
	/* (the optional pairs last: a NULL ends the list where they are
	 * not given) */
	const char *args1[] = { ATTACH(&e, store), "--target-mib", "16",
				"--batch", "256", "--recent-s", "2",
				rt ? rt : cz, rt ? ram_mib : codec,
				rt ? cz : NULL, codec, NULL };
	const char *args2[] = { ATTACH(&e, store), "--target-mib", "16",
				"--batch", "256", "--duration", "4",
				"--stats-json", json, rt ? rt : cz,
				rt ? ram_mib : codec, rt ? cz : NULL, codec,
				NULL };
	st = wait_for(spawn(args1, log1, crash, NULL), 60);
	if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		fprintf(stderr, "FAIL: the pager did not die at %s\n", crash);
		show_log(log1);
		failures++;
	}
	CHECK(exists(store) && exists(path("k.store.index")),
	      "no store after the kill");
	/* the guest runs on without a pager a while */
	msleep(700);
	pid_t pid2 = spawn(args2, log2, NULL, NULL);
	/* While the new pager runs, no vCPU may wait long: one the dead
	 * pager had a request from retries its access (the gfn is paging
	 * in) until the new pager loads it, which it must do at once. */
	msleep(2500);
	{
		struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);

		CHECK(xpage_sim_report(e.sim, e.domid, 0, 1500, &r) == 0 &&
		      r.stuck == 0, "%s: %llu vCPUs waited more than 1.5 s "
		      "with the new pager running", crash,
		      (unsigned long long)r.stuck);
	}
	st = wait_for(pid2, 90);
	if (exited(st, 0, log2, "restarted pager")) {
		if (want_adopted)
			CHECK(json_num(json, "adopted") > 0,
			      "nothing adopted after %s", crash);
		CHECK(json_num(json, "pages_still_out") == 0, "pages left out");
		CHECK(!exists(store), "store not removed");
		if (zero_pct)
			CHECK(json_num(json, "zero_pages_out") > 0,
			      "no zero page out after the restart");
		if (ram_mib)
			CHECK(json_num(json, "pages_read_ram_tier") > 0,
			      "no page read from the RAM tier after the restart");
		if (codec)
			CHECK(json_num(json, "pages_compressed") > 0 &&
			      json_num(json, "compression_ratio") > 1.2,
			      "%.0f pages compressed, ratio %.2f after the restart",
			      json_num(json, "pages_compressed"),
			      json_num(json, "compression_ratio"));
		printf("%s: re-attached, %.0f pages adopted, %.0f out, %.0f in\n",
		       crash, json_num(json, "adopted"),
		       json_num(json, "pages_out"), json_num(json, "pages_in"));
	}
	oracle_check(&e, crash);
	sim_down(&e);
	return 0;
}

/* Killed twice in a row: while writing a batch (its gfns nominated, with
 * INTENT records only), then right after the re-attach sorted the
 * records out. The third pager must still find every gfn the first one
 * left nominated: the second may not forget a record before its gfn is
 * resident or out. */
static int t_kill_twice(void)
{
	struct env e = { 0 };
	const char *store = path("t.store"), *log = path("t.log"),
		   *json = path("t.json");
	static const char *const crash[] = { "write:3", "reattached" };

	sim_up(&e, 64, 0, NULL);
	workload(&e, 0);
	const char *args[] = { ATTACH(&e, store), "--target-mib", "16",
			       "--batch", "256", "--recent-s", "2", NULL };
	const char *last[] = { ATTACH(&e, store), "--target-mib", "16",
			       "--duration", "2", "--stats-json", json, NULL };
	for (int i = 0; i < 2; i++) {
		int st = wait_for(spawn(args, log, crash[i], NULL), 60);

		if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			fprintf(stderr, "FAIL: the pager did not die at %s\n",
				crash[i]);
			show_log(log);
			failures++;
		}
	}
	if (exited(wait_for(spawn(last, log, NULL, NULL), 90), 0, log,
		   "last pager")) {
		CHECK(json_num(json, "pages_still_out") == 0, "pages left out");
		CHECK(json_num(json, "gfns_unsettled") == 0, "gfns unsettled");
		CHECK(!exists(store), "store not removed");
	}
	oracle_check(&e, "kill-twice");
	sim_down(&e);
	return 0;
}

static int t_kill_random(void)
{
	struct env e = { 0 };
	const char *store = path("r.store"), *log = path("r.log"),
		   *json = path("r.json");
	unsigned seed = 12345;

	sim_up(&e, 48, 0, NULL);
	workload(&e, 5);
	const char *args[] = { ATTACH(&e, store), "--target-mib", "8",
			       "--batch", "128", "--recent-s", "1", NULL };
	const char *last[] = { ATTACH(&e, store), "--target-mib", "8",
			       "--duration", "3", "--stats-json", json, NULL };
	for (int i = 0; i < 4; i++) {
		pid_t pid = spawn(args, log, NULL, NULL);
		unsigned ms;

		seed = seed * 1103515245u + 12345u;
		ms = 300 + (seed >> 8) % 1500;
		msleep(ms);
		kill(pid, SIGKILL);
		wait_for(pid, 10);
		printf("kill-random: killed after %u ms\n", ms);
	}
	if (exited(wait_for(spawn(last, log, NULL, NULL), 90), 0, log,
		   "last pager")) {
		CHECK(json_num(json, "pages_still_out") == 0, "pages left out");
		CHECK(!exists(store), "store not removed");
	}
	oracle_check(&e, "kill-random");
	sim_down(&e);
	return 0;
}

/* 30 % of the pages zero (--zero-pct): they go out without a data write
 * and come back, on demand and at the drain, as the oracle expects. */
static int t_zero(void)
{
	const char *json = path("zero.json"), *log = path("zero.log");
	const char *args[] = { "--sim", "--guest-mib", "64", "--target-mib",
			       "16", "--duration", "4", "--zero-pct", "30",
			       "--stats-json", json, "--store",
			       path("zero.store"), "--no-progress", NULL };
	double share, per_page;

	if (!exited(wait_for(spawn(args, log, NULL, NULL), 90), 0, log, "zero"))
		return 1;
	share = json_num(json, "zero_share");
	per_page = json_num(json, "bytes_written_per_page_out");
	printf("zero: %.0f of %.0f pages out zero (%.3f), %.0f bytes written "
	       "per page out\n", json_num(json, "zero_pages_out"),
	       json_num(json, "pages_out"), share, per_page);
	CHECK(json_num(json, "pages_out") >= 12288, "pages_out %.0f",
	      json_num(json, "pages_out"));
	CHECK(share > 0.2 && share < 0.4, "zero_share %.3f, not about 0.3",
	      share);
	CHECK(per_page > 0 && per_page < 4096 * 0.8,
	      "%.0f bytes written per page out", per_page);
	CHECK(json_num(json, "pages_in") == json_num(json, "pages_out"),
	      "pages_in %.0f != pages_out %.0f", json_num(json, "pages_in"),
	      json_num(json, "pages_out"));
	CHECK(oracle_clean(json), "oracle not clean");
	return 0;
}

/* A guest whose pages are all zero (lazy, idle): paged down to a quarter
 * and back, its store's data file never gets a byte or a block. */
static int t_zero_all(void)
{
	struct env e = { 0 };
	const char *json = path("za.json"), *log = path("za.log"),
		   *store = path("za.store");
	struct stat sb;

	sim_up(&e, 32, XPAGE_SIM_GUEST_LAZY, NULL);
	{
		const char *a[] = { ATTACH(&e, store), "--target-mib", "8",
				    "--duration", "2", "--keep-store",
				    "--stats-json", json, NULL };

		if (!exited(wait_for(spawn(a, log, NULL, NULL), 60), 0, log,
			    "zero-all"))
			return 1;
	}
	CHECK(json_num(json, "pages_out") >= 6144, "pages_out %.0f",
	      json_num(json, "pages_out"));
	CHECK(json_num(json, "zero_share") == 1, "zero_share %.3f",
	      json_num(json, "zero_share"));
	CHECK(json_num(json, "io_bytes_written") == 0 &&
	      json_num(json, "io_bytes_read") == 0, "store I/O: %.0f bytes "
	      "written, %.0f read", json_num(json, "io_bytes_written"),
	      json_num(json, "io_bytes_read"));
	CHECK(stat(store, &sb) == 0 && sb.st_size == 0 && sb.st_blocks == 0,
	      "the data file has %lld bytes, %lld blocks",
	      (long long)sb.st_size, (long long)sb.st_blocks);
	printf("zero-all: %.0f pages out, data file %lld bytes\n",
	       json_num(json, "pages_out"), (long long)sb.st_size);
	oracle_check(&e, "zero-all");
	sim_down(&e);
	return 0;
}

/* --settle-ms: the pages the guest still uses show themselves between
 * nominate and map, and are not written out. Side by side on one guest:
 * without settling, then with 20 ms. */
static int t_settle(void)
{
	struct env e = { 0 };
	const char *store = path("s.store"), *log = path("s.log");
	double before_io[2], written[2];

	sim_up(&e, 64, 0, NULL);
	workload(&e, 0);
	for (int i = 0; i < 2; i++) {
		const char *json = path(i ? "s1.json" : "s0.json");
		const char *args[] = { ATTACH(&e, store), "--target-mib", "16",
				       "--batch", "256", "--recent-s", "0",
				       "--settle-ms", i ? "20" : "0",
				       "--duration", "4", "--stats-json", json,
				       NULL };

		if (!exited(wait_for(spawn(args, log, NULL, NULL), 60), 0, log,
			    i ? "settling pager" : "pager"))
			break;
		before_io[i] = json_num(json, "evict_fail_before_io");
		written[i] = json_num(json, "io_bytes_written") / 4096;
		printf("settle-ms %d: %.0f touched before any I/O, %.0f pages "
		       "written, %.0f paged out\n", i ? 20 : 0, before_io[i],
		       written[i], json_num(json, "pages_out"));
	}
	CHECK(before_io[1] >= 20 && before_io[1] > 2 * before_io[0],
	      "settling found %.0f pages in use before I/O, without %.0f",
	      before_io[1], before_io[0]);
	oracle_check(&e, "settle");
	sim_down(&e);
	return 0;
}

static int t_err_nosim(void)
{
	const char *log = path("nosim.log"), *log2 = path("noxen.log");
	const char *a1[] = { "--sim", "--target-mib", "1", "--no-progress", NULL };
	const char *a2[] = { "--domid", "1", "--target-mib", "1",
			     "--store", path("x.store"), "--no-progress", NULL };

	if (access("/dev/xen/privcmd", F_OK) == 0) {
		printf("this machine runs Xen: skipped\n");
		return 77;
	}
	if (exited(wait_for(spawn(a1, log, NULL, path("no-such-xpage-simd")), 30),
		   2, log, "--sim without a simulator"))
		CHECK(log_has(log, "no Xen hypervisor on this machine and no "
			      "simulator"), "unclear message");
	show_log(log);
	if (exited(wait_for(spawn(a2, log2, NULL, NULL), 30), 2, log2,
		   "--domid without Xen"))
		CHECK(log_has(log2, "runs no Xen hypervisor"), "unclear message");
	show_log(log2);
	CHECK(!exists(path("x.store")), "a store was left behind");
	return 0;
}

static int t_err_hvm(void)
{
	struct env e = { 0 };
	const char *log = path("nohap.log"), *log2 = path("pv.log");

	sim_up(&e, 16, XPAGE_SIM_GUEST_NO_HAP, NULL);
	{
		const char *a[] = { ATTACH(&e, path("h.store")), "--target-mib",
				    "4", NULL };

		if (exited(wait_for(spawn(a, log, NULL, NULL), 30), 2, log,
			   "no HAP"))
			CHECK(log_has(log, "not HVM or has no HAP"),
			      "unclear message");
		show_log(log);
	}
	sim_up(&e, 16, XPAGE_SIM_GUEST_PV, NULL);
	{
		const char *a[] = { ATTACH(&e, path("h.store")), "--target-mib",
				    "4", NULL };

		if (exited(wait_for(spawn(a, log2, NULL, NULL), 30), 2, log2,
			   "PV guest"))
			CHECK(log_has(log2, "not HVM or has no HAP"),
			      "unclear message");
		show_log(log2);
	}
	CHECK(!exists(path("h.store")), "a store was left behind");
	sim_down(&e);
	return 0;
}

static int t_err_nopaging(void)
{
	const char *log = path("nopaging.log");
	const char *a[] = { "--sim", "--guest-mib", "16", "--target-mib", "4",
			    "--personality", "xen-4.17-nopaging",
			    "--store", path("n.store"), "--no-progress", NULL };

	if (exited(wait_for(spawn(a, log, NULL, NULL), 30), 2, log,
		   "paging compiled out"))
		CHECK(log_has(log, "without memory paging"), "unclear message");
	show_log(log);
	CHECK(!exists(path("n.store")), "a store was left behind");
	return 0;
}

/* The victim policy: the clock by default; --policy logdirty scans; and
 * with the domain's log-dirty mode held by someone else (a migration),
 * logdirty falls back to the clock, said in the log, with the guest paged
 * down all the same. */
static int t_policy(void)
{
	struct env e = { 0 };

	sim_up(&e, 32, 0, NULL);
	workload(&e, 0);
	/* path() has 8 buffers: the default's names are done with before the
	 * others are made. */
	const char *ld = path("pol-d.log"), *jd = path("pol-d.json");
	const char *ad[] = { ATTACH(&e, path("pol-d.store")), "--target-mib",
			     "8", "--duration", "1", "--stats-json", jd, NULL };

	if (!exited(wait_for(spawn(ad, ld, NULL, NULL), 60), 0, ld, "default"))
		return 1;
	CHECK(log_has(jd, "\"policy\": \"clock\""), "the default is not the clock");

	const char *la = path("pol-a.log"), *lb = path("pol-b.log");
	const char *ja = path("pol-a.json"), *jb = path("pol-b.json");
	const char *aa[] = { ATTACH(&e, path("pol-a.store")), "--target-mib",
			     "8", "--policy", "logdirty", "--scan-ms", "100",
			     "--duration", "3", "--stats-json", ja, NULL };
	const char *ab[] = { ATTACH(&e, path("pol-b.store")), "--target-mib",
			     "8", "--policy", "logdirty", "--duration", "2",
			     "--stats-json", jb, NULL };

	if (!exited(wait_for(spawn(aa, la, NULL, NULL), 60), 0, la, "logdirty"))
		return 1;
	CHECK(log_has(la, "policy: logdirty"), "the policy was not said");
	CHECK(log_has(ja, "\"policy\": \"logdirty\""), "not logdirty");
	CHECK(json_num(ja, "logdirty_scans") >= 10, "%.0f scans in 3 s",
	      json_num(ja, "logdirty_scans"));
	CHECK(json_num(ja, "pages_out") >= 6144, "pages_out %.0f",
	      json_num(ja, "pages_out"));
	CHECK(log_has(ja, "\"victim_age_scans\": {\"0\""), "no histogram");
	CHECK(xpage_sim_logdirty_hold(e.sim, e.domid, 1) == 0,
	      "the pager left log-dirty mode on");
	if (!exited(wait_for(spawn(ab, lb, NULL, NULL), 60), 0, lb, "held"))
		return 1;
	CHECK(log_has(lb, "policy: clock (log-dirty mode unavailable: "
		      "someone else holds it)"), "unclear message");
	CHECK(log_has(jb, "\"policy\": \"clock\""), "not the clock");
	CHECK(json_num(jb, "pages_out") >= 6144, "pages_out %.0f",
	      json_num(jb, "pages_out"));
	oracle_check(&e, "policy");
	sim_down(&e);
	return 0;
}

/* A run of the pager on a 16 MiB guest whose one vCPU runs @pattern
 * with no pause between accesses: paged down to @target pages by
 * @policy with --prefetch @depth until the guest has faulted @faults
 * times (or 150 s passed), then SIGTERM. With @codec, the guest's pages
 * are text-like and stored with @codec, behind a RAM tier of @ram_mib.
 * The pager's figures in @json, the guest's accesses and faults in *@r. */
struct walk_run {
	const char *pattern, *policy, *depth, *target;
	uint64_t faults;
	const char *codec, *ram_mib;
};

static bool run_walk(const char *name, const struct walk_run *w,
		     const char *json, struct xpage_sim_report *r)
{
	struct env e = { 0 };
	struct xpage_sim_workload wl = XPAGE_OPTS(xpage_sim_workload,
		.vcpus = 1, .write_pct = 30, .hot_set_pct = 30, .hot_pct = 95,
		.seed = 7);
	const char *log = path(name), *store = path("walk.store");
	double end = now_s() + 150;
	pid_t pid;
	int st = -1;

	wl.pattern = !strcmp(w->pattern, "sequential") ? XPAGE_SIM_SEQUENTIAL :
		     !strcmp(w->pattern, "zipf") ? XPAGE_SIM_ZIPF :
		     XPAGE_SIM_UNIFORM;
	sim_up(&e, 16, w->codec ? XPAGE_SIM_GUEST_TEXT : 0, NULL);
	if (xpage_sim_workload(e.sim, e.domid, &wl) < 0)
		die("workload");
	/* (the optional pairs last: a NULL ends the list) */
	const char *args[] = { ATTACH(&e, store), "--target-pages", w->target,
			       "--policy", w->policy, "--prefetch", w->depth,
			       "--stats-json", json,
			       w->codec ? "--compress" : NULL, w->codec,
			       "--ram-tier-mib", w->ram_mib, NULL };

	pid = spawn(args, log, NULL, NULL);
	do {
		msleep(200);
		*r = XPAGE_OPTS(xpage_sim_report);
		if (waitpid(pid, &st, WNOHANG) == pid ||
		    xpage_sim_report(e.sim, e.domid, 0, 60000, r) < 0)
			break;
		st = -1;
	} while (r->faults < w->faults && now_s() < end);
	if (st == -1) {
		kill(pid, SIGTERM);
		st = wait_for(pid, 60);
	}
	bool ok = exited(st, 0, log, name);

	xpage_sim_workload_stop(e.sim, e.domid);
	CHECK(r->faults >= w->faults, "%s: %llu faults in 150 s", name,
	      (unsigned long long)r->faults);
	CHECK(!r->lost && !r->corrupted, "%s: the oracle found damage", name);
	printf("%s: %llu accesses, %llu faults, %.0f pages loaded ahead, "
	       "%.0f used\n", name, (unsigned long long)r->accesses,
	       (unsigned long long)r->faults,
	       json_num(json, "pages_in_prefetch"),
	       json_num(json, "prefetch_used"));
	sim_down(&e);
	return ok;
}

static double faults_per_access(const struct xpage_sim_report *r)
{
	return r->accesses ? (double)r->faults / (double)r->accesses : 1.0;
}

/* Of the pages a walk's run (@json) loaded ahead, at least half and
 * 100 used. */
static void prefetch_used(const char *json)
{
	CHECK(json_num(json, "prefetch_used") >= 0.5 *
	      json_num(json, "pages_in_prefetch") &&
	      json_num(json, "prefetch_used") >= 100, "%.0f of %.0f pages "
	      "loaded ahead used", json_num(json, "prefetch_used"),
	      json_num(json, "pages_in_prefetch"));
}

/* A guest walking its memory in order: prefetch loads the pages ahead
 * of each fault, the walk uses them, and faults per access fall to a
 * fraction of what they are without it. */
static int t_prefetch(void)
{
	const char *j0 = path("pf0.json"), *j1 = path("pf16.json");
	struct walk_run w = { "sequential", "clock", "0", "2048", 1000,
			      NULL, NULL };
	struct xpage_sim_report r0, r1;

	if (!run_walk("pf0.log", &w, j0, &r0))
		return 1;
	w.depth = "16";
	w.faults = 200;
	if (!run_walk("pf16.log", &w, j1, &r1))
		return 1;
	CHECK(json_num(j0, "pages_in_prefetch") == 0, "prefetch 0 prefetched");
	CHECK(faults_per_access(&r1) <= faults_per_access(&r0) / 2,
	      "faults per access %.3f with prefetch, %.3f without",
	      faults_per_access(&r1), faults_per_access(&r0));
	prefetch_used(j1);
	return 0;
}

/* Faults spread over memory do not look like a walk: nothing (or next
 * to nothing) is loaded ahead. */
static int t_prefetch_random(void)
{
	struct walk_run w[2] = {
		{ "uniform", "clock", "16", "2048", 1000, NULL, NULL },
		{ "zipf", "logdirty", "16", "2048", 1000, NULL, NULL } };

	for (int i = 0; i < 2; i++) {
		const char *j = path(i ? "pfz.json" : "pfu.json");
		struct xpage_sim_report r;
		double demand;

		if (!run_walk(i ? "pfz.log" : "pfu.log", &w[i], j, &r))
			return 1;
		demand = json_num(j, "pages_in_demand");
		CHECK(json_num(j, "pages_in_prefetch") <= demand / 100, "%s: "
		      "%.0f pages loaded ahead of %.0f random faults", j,
		      json_num(j, "pages_in_prefetch"), demand);
	}
	return 0;
}

/* The same walk with its pages stored with lz4 (records of 1 to 7
 * slots) behind a RAM tier of 1 MiB: the pages loaded ahead are those
 * whose records follow, read from the tier or the file, checked and
 * decompressed as any page-in. */
static int t_prefetch_lz4(void)
{
	const char *j = path("pflz4.json");
	struct walk_run w = { "sequential", "clock", "16", "2048", 200,
			      "lz4", "1" };
	struct xpage_sim_report r;

	if (!run_walk("pflz4.log", &w, j, &r))
		return 1;
	CHECK(json_num(j, "pages_compressed") > 0, "no page compressed");
	CHECK(json_num(j, "corrupt_records") == 0, "corrupt_records %.0f",
	      json_num(j, "corrupt_records"));
	CHECK(json_num(j, "pages_read_ram_tier") > 0 &&
	      json_num(j, "pages_read_file") > 0, "read %.0f pages from the "
	      "RAM tier, %.0f from the file", json_num(j, "pages_read_ram_tier"),
	      json_num(j, "pages_read_file"));
	prefetch_used(j);
	return 0;
}

static int t_err_busy(void)
{
	struct env e = { 0 };
	const char *la = path("a.log"), *lb = path("b.log"), *lc = path("c.log");
	pid_t a;

	sim_up(&e, 32, 0, NULL);
	workload(&e, 0);
	const char *aa[] = { ATTACH(&e, path("a.store")), "--target-mib", "8",
			     NULL };
	const char *ab[] = { ATTACH(&e, path("b.store")), "--target-mib", "8",
			     NULL };
	a = spawn(aa, la, NULL, NULL);
	for (double end = now_s() + 10; now_s() < end && !log_has(la, "batch");)
		msleep(50);
	if (exited(wait_for(spawn(ab, lb, NULL, NULL), 30), 2, lb,
		   "a second pager"))
		CHECK(log_has(lb, "another pager is active"), "unclear message");
	show_log(lb);
	/* the same store as a running pager */
	if (exited(wait_for(spawn(aa, lc, NULL, NULL), 30), 2, lc,
		   "a second pager on the same store"))
		CHECK(log_has(lc, "in use by another pager"), "unclear message");
	show_log(lc);
	kill(a, SIGTERM);
	exited(wait_for(a, 60), 0, la, "the first pager");
	oracle_check(&e, "err-busy");
	sim_down(&e);
	return 0;
}

static int t_err_diskfull(void)
{
	struct env e = { 0 };
	const char *log = path("full.log"), *json = path("full.json");
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/small", tmp);
	mkdir(dir, 0700);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700") < 0) {
		printf("cannot mount a small tmpfs (%s): skipped\n",
		       strerror(errno));
		return 77;
	}
	sim_up(&e, 64, 0, NULL);
	workload(&e, 0);
	{
		char store[700];

		snprintf(store, sizeof(store), "%s/store", dir);
		const char *a[] = { ATTACH(&e, store), "--target-mib", "8",
				    "--duration", "4", "--stats-json", json, NULL };

		if (exited(wait_for(spawn(a, log, NULL, NULL), 60), 1, log,
			   "disk full")) {
			CHECK(log_has(log, "the disk is full"), "unclear message");
			CHECK(log_has(json, "\"store_full\": true"),
			      "store_full not set");
			CHECK(json_num(json, "pages_out") > 0,
			      "nothing paged out before the disk filled");
			CHECK(json_num(json, "pages_still_out") == 0,
			      "pages left out");
		}
		show_log(log);
		CHECK(!exists(store), "store not removed");
	}
	oracle_check(&e, "err-diskfull");
	umount(dir);
	sim_down(&e);
	return 0;
}

static int t_err_store(void)
{
	struct env e1 = { 0 }, e2 = { 0 };
	const char *store = path("o.store"), *idx = path("o.store.index");
	const char *l1 = path("o1.log"), *l2 = path("o2.log"),
		   *l3 = path("o3.log"), *l4 = path("o4.log");
	int st;

	sim_up(&e1, 16, 0, NULL);
	e2.sim = e1.sim;
	sim_up(&e2, 16, 0, NULL);
	{
		const char *a[] = { ATTACH(&e1, store), "--target-mib", "4",
				    "--duration", "1", "--keep-store", NULL };

		st = wait_for(spawn(a, l1, NULL, NULL), 30);
		exited(st, 0, l1, "pager keeping its store");
		CHECK(exists(store) && exists(idx), "--keep-store removed it");
	}
	{
		const char *a[] = { ATTACH(&e2, store), "--target-mib", "4", NULL };

		if (exited(wait_for(spawn(a, l2, NULL, NULL), 30), 2, l2,
			   "another domain's store"))
			CHECK(log_has(l2, "belongs to another domain"),
			      "unclear message");
		show_log(l2);
	}
	{
		const char *a[] = { ATTACH(&e1, store), "--target-mib", "4", NULL };

		chmod(idx, 0644);
		if (exited(wait_for(spawn(a, l3, NULL, NULL), 30), 2, l3,
			   "a store of mode 0644"))
			CHECK(log_has(l3, "mode 0644"), "unclear message");
		show_log(l3);
		chmod(idx, 0600);
		if (geteuid() == 0 && chown(store, 65534, 65534) == 0) {
			if (exited(wait_for(spawn(a, l4, NULL, NULL), 30), 2, l4,
				   "another user's store"))
				CHECK(log_has(l4, "not to this user"),
				      "unclear message");
			show_log(l4);
		}
	}
	CHECK(exists(store), "a refused store was removed");
	sim_down(&e1);
	return 0;
}

/* ------------------------------------------------------------------ */

static void cleanup(void)
{
	char cmd[400];

	if (tmp[0] && !getenv("XPAGE_TEST_KEEP")) {
		umount2(path("small"), MNT_DETACH);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
}

/* Flip byte 100 of the store's data file (slot 0's page) at @store. */
static void flip_byte(const char *store)
{
	int fd = open(store, O_RDWR);
	uint8_t b = 0;

	CHECK(fd >= 0 && pread(fd, &b, 1, 100) == 1, "read %s", store);
	b ^= 0x40;
	CHECK(fd >= 0 && pwrite(fd, &b, 1, 100) == 1, "write %s", store);
	if (fd >= 0)
		close(fd);
}

/* A byte of a page in the store flipped while no pager runs: the next
 * pager refuses that page (an error naming it, corrupt_records 1),
 * leaves its gfn paged out and exits 1 with the store kept; the guest's
 * page is never replaced by the damaged copy. With the byte put back,
 * a third pager loads it and the guest is whole. The guest runs no
 * workload: only the re-attach's loads read the page. With @codec, the
 * guest's pages are text-like and stored compressed with it. */
static int t_corrupt(const char *codec)
{
	struct env e = { 0 };
	const char *store = path("c.store"), *json2 = path("c2.json"),
		   *log2 = path("c2.log"), *json3 = path("c3.json"),
		   *log3 = path("c3.log"), *cz = codec ? "--compress" : NULL;
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int st;

	sim_up(&e, 64, codec ? XPAGE_SIM_GUEST_TEXT : 0, NULL);
	const char *args1[] = { ATTACH(&e, store), "--target-mib", "16",
				"--batch", "256", cz, codec, NULL };
	const char *args2[] = { ATTACH(&e, store), "--target-mib", "16",
				"--batch", "256", "--duration", "1",
				"--stats-json", json2, cz, codec, NULL };
	const char *args3[] = { ATTACH(&e, store), "--target-mib", "16",
				"--batch", "256", "--duration", "1",
				"--stats-json", json3, cz, codec, NULL };
	st = wait_for(spawn(args1, path("c1.log"), "write:3", NULL), 60);
	CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "the first pager did not die at write:3");
	flip_byte(store);
	if (exited(wait_for(spawn(args2, log2, NULL, NULL), 60), 1, log2,
		   "the pager that met the damaged page")) {
		CHECK(json_num(json2, "corrupt_records") == 1 &&
		      json_num(json2, "pages_still_out") == 1,
		      "corrupt_records %.0f, pages_still_out %.0f",
		      json_num(json2, "corrupt_records"),
		      json_num(json2, "pages_still_out"));
		CHECK(log_has(log2, "does not match the length and crc32c"),
		      "no error about the damaged page");
		CHECK(exists(store), "the store was removed");
	}
	CHECK(xpage_sim_report(e.sim, e.domid, 0, 1000, &r) == 0 &&
	      r.paged == 1 && r.corrupted == 0, "after the damaged page: "
	      "%llu paged, %llu corrupted", (unsigned long long)r.paged,
	      (unsigned long long)r.corrupted);
	flip_byte(store);
	if (exited(wait_for(spawn(args3, log3, NULL, NULL), 60), 0, log3,
		   "the pager after the repair"))
		CHECK(json_num(json3, "corrupt_records") == 0 &&
		      json_num(json3, "pages_still_out") == 0, "after the "
		      "repair: corrupt_records %.0f, pages_still_out %.0f",
		      json_num(json3, "corrupt_records"),
		      json_num(json3, "pages_still_out"));
	oracle_check(&e, "corrupt");
	sim_down(&e);
	return 0;
}

/* The kill scenarios: where the first pager dies, and the share of the
 * guest's pages that are zero. */
static const struct kill_case {
	const char *name, *crash;
	uint32_t zero_pct;
	const char *codec, *ram_mib;
} kill_cases[] = {
	{ "kill-write", "write:6", 0, NULL, NULL },
	{ "kill-indexed", "indexed:6", 0, NULL, NULL },
	{ "kill-pagein", "pagein:25", 0, NULL, NULL },
	{ "kill-loaded", "loaded:25", 0, NULL, NULL },
	{ "kill-zero-write", "write:6", 30, NULL, NULL },
	{ "kill-zero-indexed", "indexed:6", 30, NULL, NULL },
	{ "kill-zero-pagein", "pagein:25", 30, NULL, NULL },
	{ "kill-lz4-write", "write:6", 0, "lz4", NULL },
	{ "kill-lz4-indexed", "indexed:6", 0, "lz4", NULL },
	{ "kill-lz4-pagein", "pagein:25", 0, "lz4", NULL },
	{ "kill-lz4-loaded", "loaded:25", 0, "lz4", NULL },
	{ "kill-zstd-write", "write:6", 30, "zstd", NULL },
	{ "kill-zstd-pagein", "pagein:25", 30, "zstd", NULL },
	{ "kill-ram-write", "write:6", 0, NULL, "4" },
	{ "kill-ram-indexed", "indexed:6", 0, NULL, "4" },
	{ "kill-ram-pagein", "pagein:25", 0, NULL, "4" },
	{ "kill-ram-loaded", "loaded:25", 0, NULL, "4" },
	{ "kill-ram-lz4-pagein", "pagein:25", 30, "lz4", "4" },
};

static const struct kill_case *find_kill(const char *name)
{
	for (size_t i = 0; i < sizeof(kill_cases) / sizeof(kill_cases[0]); i++)
		if (!strcmp(kill_cases[i].name, name))
			return &kill_cases[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "";
	const struct kill_case *k;
	const char *base = getenv("TMPDIR");
	int rc;

	pager = getenv("XPAGE_BATCH_PAGER");
	if (!pager || access(pager, X_OK) < 0)
		die("XPAGE_BATCH_PAGER must name xpage-batch-pager");
	if (!getenv("XPAGE_SIMD") || access(getenv("XPAGE_SIMD"), X_OK) < 0) {
		printf("no xpage-simd (XPAGE_SIMD): skipped\n");
		return 77;
	}
	snprintf(tmp, sizeof(tmp), "%s/xpage-pager-test.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmp))
		die("mkdtemp: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	printf("%s: files in %s\n", t, tmp);

	if (!strcmp(t, "e2e"))
		rc = t_e2e();
	else if (!strcmp(t, "sigterm"))
		rc = t_sigterm();
	else if (!strcmp(t, "sigint"))
		rc = t_sigint();
	else if ((k = find_kill(t)))
		rc = t_kill(k->crash, true, k->zero_pct, k->codec, k->ram_mib);
	else if (!strcmp(t, "zero"))
		rc = t_zero();
	else if (!strcmp(t, "zero-all"))
		rc = t_zero_all();
	else if (!strcmp(t, "kill-random"))
		rc = t_kill_random();
	else if (!strcmp(t, "kill-twice"))
		rc = t_kill_twice();
	else if (!strcmp(t, "corrupt"))
		rc = t_corrupt(NULL);
	else if (!strcmp(t, "corrupt-lz4"))
		rc = t_corrupt("lz4");
	else if (!strcmp(t, "settle"))
		rc = t_settle();
	else if (!strcmp(t, "pvh-ram"))
		rc = t_pvh_ram();
	else if (!strcmp(t, "kernel-code"))
		rc = t_kernel_code();
	else if (!strcmp(t, "policy"))
		rc = t_policy();
	else if (!strcmp(t, "prefetch"))
		rc = t_prefetch();
	else if (!strcmp(t, "prefetch-random"))
		rc = t_prefetch_random();
	else if (!strcmp(t, "prefetch-lz4"))
		rc = t_prefetch_lz4();
	else if (!strcmp(t, "err-nosim"))
		rc = t_err_nosim();
	else if (!strcmp(t, "err-hvm"))
		rc = t_err_hvm();
	else if (!strcmp(t, "err-nopaging"))
		rc = t_err_nopaging();
	else if (!strcmp(t, "err-busy"))
		rc = t_err_busy();
	else if (!strcmp(t, "err-diskfull"))
		rc = t_err_diskfull();
	else if (!strcmp(t, "err-store"))
		rc = t_err_store();
	else
		die("unknown scenario '%s'", t);
	if (rc == 77 || !(rc || failures))
		cleanup();
	if (rc == 77)
		return 77;
	if (rc || failures) {
		/* the files stay for a look */
		fprintf(stderr, "%s: %d failure(s), files kept in %s\n", t,
			failures, tmp);
		return 1;
	}
	printf("%s: ok\n", t);
	return 0;
}
