/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Victim policies: page-ins per million guest accesses, at a fixed
 * resident target, for each workload and each of the batch pager's
 * policies (random, as Xen's xenpaging chooses; clock; logdirty), with
 * and without page-in prefetch.
 *
 * Fair runs: every run uses a fresh 64 MiB guest with one vCPU running
 * the same seeded access stream, and xpage-batch-pager pages it down to
 * 32 MiB. The figure is taken over the same number of guest accesses in
 * every run of a workload, counted from the simulator's oracle: once the
 * pager has reached its target, a warm-up of as many accesses (the hot
 * set comes back in and settles), then the window. The guest's vCPU is paused while a page-in is served,
 * so a run that faults more takes longer; counting accesses, not
 * seconds, keeps that out of the comparison. What still depends on the
 * machine is how many accesses fall in a wall-clock period (logdirty's
 * scans, the clock's protection of recent page-ins); each figure is the
 * median of its repetitions, with the lowest and highest.
 */
#include "bench.h"
#include "stats_read.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST_MIB 64u
#define TARGET_MIB 32u

const struct victim_workload victim_workloads[VICTIM_WORKLOADS] = {
	{ "hot set", "zipf, 30 % of RAM, 95 % of accesses, 30 % writes",
	  XPAGE_SIM_ZIPF, 30, 30, 95, 100000 },
	{ "uniform", "uniform, 30 % writes", XPAGE_SIM_UNIFORM, 30, 0, 0,
	  10000 },
	{ "sequential", "sequential walk, 30 % writes", XPAGE_SIM_SEQUENTIAL,
	  30, 0, 0, 10000 },
	{ "read-mostly", "zipf as the hot set, 1 % writes", XPAGE_SIM_ZIPF, 1,
	  30, 95, 100000 },
};
const char *const victim_policies[VICTIM_POLICIES] = {
	"random", "clock", "logdirty",
};

static pid_t spawn_pager(const char *const *args, const char *log)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	return pid;
}

static void report(struct bench_env *env, uint32_t dom,
		   struct xpage_sim_report *r)
{
	int rc;

	*r = XPAGE_OPTS(xpage_sim_report);
	rc = xpage_sim_report(env->sim, dom, 0, 600000, r);
	if (rc < 0)
		die("simulator report: %s", xpage_strerror(rc));
}

/* Poll the oracle until the target is reached, the warm-up done and
 * the window's accesses made; *r0 and *r1 bound the window. */
static void window(struct bench_env *env, uint32_t dom, pid_t pid,
		   uint64_t n, struct xpage_sim_report *r0,
		   struct xpage_sim_report *r1)
{
	uint64_t out = (GUEST_MIB - TARGET_MIB) * MIB_PAGES, warm_end = 0;
	struct xpage_sim_report r;

	r0->accesses = UINT64_MAX;
	for (;;) {
		usleep(50000);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			die("the pager stopped early (its log: see --store-dir)");
		report(env, dom, &r);
		/* (the pager gathers up to batch / 8 pages over the
		 * target before it pages out again) */
		if (!warm_end && r.paged + 256 >= out)
			warm_end = r.accesses + n;
		if (warm_end && r0->accesses == UINT64_MAX &&
		    r.accesses >= warm_end)
			*r0 = r;
		if (r0->accesses != UINT64_MAX && r.accesses >= r0->accesses + n)
			break;
	}
	*r1 = r;
}

/* One run: a fresh guest, the pager with @policy and --prefetch @depth,
 * the window of @w->accesses; the result into @v. */
static void one_run(struct bench_env *env, const struct victim_workload *w,
		    const char *policy, unsigned depth, struct victim_run *v)
{
	struct xpage_sim_guest_opts go = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 1, .pages = GUEST_MIB * MIB_PAGES, .seed = 7);
	struct xpage_sim_workload wl = XPAGE_OPTS(xpage_sim_workload,
		.pattern = w->pattern, .write_pct = w->write_pct,
		.hot_set_pct = w->hot_set_pct ? w->hot_set_pct : 10,
		.hot_pct = w->hot_pct, .think_us = 0, .seed = 7);
	char dom_s[16], tgt[16], dep[16], store[512], json[512], log[512];
	struct xpage_sim_report r0, r1;
	int dom = xpage_sim_create_guest(env->sim, &go), st;
	pid_t pid;

	if (dom < 0)
		die("create guest: %s", xpage_strerror(dom));
	snprintf(dom_s, sizeof(dom_s), "%d", dom);
	snprintf(tgt, sizeof(tgt), "%u", TARGET_MIB);
	snprintf(dep, sizeof(dep), "%u", depth);
	snprintf(store, sizeof(store), "%s/xpage-bench-victims.store",
		 env->store_dir);
	snprintf(json, sizeof(json), "%s/xpage-bench-victims.json",
		 env->store_dir);
	snprintf(log, sizeof(log), "%s/xpage-bench-victims.log", env->store_dir);
	const char *args[] = { env->pager, "--sim-socket",
		xpage_sim_socket(env->sim), "--domid", dom_s, "--store", store,
		"--target-mib", tgt, "--policy", policy, "--prefetch", dep,
		"--stats-json", json, "--no-progress", "--no-control", "-q",
		NULL };

	st = xpage_sim_workload(env->sim, (uint32_t)dom, &wl);
	if (st < 0)
		die("workload: %s", xpage_strerror(st));
	pid = spawn_pager(args, log);
	uint64_t t0 = now_ns();

	window(env, (uint32_t)dom, pid, w->accesses, &r0, &r1);
	note("  %llu faults in %llu accesses, %.1f s",
	     (unsigned long long)(r1.faults - r0.faults),
	     (unsigned long long)(r1.accesses - r0.accesses),
	     (double)(now_ns() - t0) / 1e9);
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("the pager failed (%s)", log);
	xpage_sim_workload_stop(env->sim, (uint32_t)dom);
	v->accesses = r1.accesses - r0.accesses;
	v->faults = r1.faults - r0.faults;
	v->per_million = 1e6 * (double)v->faults / (double)v->accesses;
	v->scan_us = stats_json_num(json, "logdirty_scan_cpu_us");
	v->choose_ms_per_batch = stats_json_num(json, "batches") > 0 ?
		stats_json_num(json, "choose") /
		stats_json_num(json, "batches") : -1;
	v->prefetched = stats_json_num(json, "pages_in_prefetch");
	v->prefetch_used = stats_json_num(json, "prefetch_used");
	v->blind_spot = stats_json_num(json, "blind_spot_share");
	xpage_sim_destroy_guest(env->sim, (uint32_t)dom);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median run of @reps (by page-ins per million) into @out, with the
 * lowest and highest rates. */
static void median_run(struct victim_run *runs, unsigned reps,
		       struct victim_cell *out)
{
	double rate[VICTIM_REPS_MAX];

	for (unsigned i = 0; i < reps; i++)
		rate[i] = runs[i].per_million;
	qsort(rate, reps, sizeof(rate[0]), cmp_double);
	out->lo = rate[0];
	out->hi = rate[reps - 1];
	for (unsigned i = 0; i < reps; i++)
		if (runs[i].per_million == rate[reps / 2])
			out->med = runs[i];
}

void victims_bench(struct bench_env *env, struct victims_result *r)
{
	r->reps = env->reps ? env->reps : env->quick ? 1 : 3;
	if (r->reps > VICTIM_REPS_MAX)
		r->reps = VICTIM_REPS_MAX;
	r->scale = env->quick ? 4 : 1;
	for (unsigned w = 0; w < VICTIM_WORKLOADS; w++) {
		struct victim_workload wl = victim_workloads[w];

		wl.accesses /= r->scale;
		for (unsigned p = 0; p < VICTIM_POLICIES; p++) {
			for (unsigned pf = 0; pf < 2; pf++) {
				struct victim_run runs[VICTIM_REPS_MAX];

				for (unsigned i = 0; i < r->reps; i++) {
					note("victims: %s, %s, prefetch %s, run %u",
					     wl.name, victim_policies[p],
					     pf ? "16" : "off", i + 1);
					one_run(env, &wl, victim_policies[p],
						pf ? 16 : 0, &runs[i]);
				}
				median_run(runs, r->reps, &r->cell[w][p][pf]);
			}
		}
	}
}
