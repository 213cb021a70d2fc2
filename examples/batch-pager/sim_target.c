/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated target. --sim: start xpage-simd, create a guest, start a
 * workload, and at the end stop it and ask the oracle whether the guest
 * lost anything. --sim-socket: a simulator someone else runs, with the
 * guest --domid; the pager only asks the oracle (not a final check: the
 * guest goes on).
 */
#include "pager.h"
#include "sim_zero.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xpage/sim.h>

struct sim_target {
	xpage_sim_t *sim;
	bool own_sim;
	bool own_guest;
	bool workload;
	uint32_t domid;
	uint64_t pages;
};

/* The simulator binary: $XPAGE_SIMD, then next to this executable, then
 * in the build tree (build/examples/batch-pager -> build/sim), else the
 * installed one (the library's default). */
static char *find_simd(void)
{
	const char *env = getenv("XPAGE_SIMD");
	char exe[PATH_MAX], *dir, *path;
	ssize_t n;
	static const char *const rel[] = { "xpage-simd", "../../sim/xpage-simd",
					   "../sim/xpage-simd" };

	if (env && *env)
		return strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = strrchr(exe, '/');
	if (!dir)
		return NULL;
	*dir = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (asprintf(&path, "%s/%s", exe, rel[i]) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

static int pattern_of(const char *s)
{
	if (!s || !strcmp(s, "hotcold"))
		return XPAGE_SIM_HOTCOLD;
	if (!strcmp(s, "uniform"))
		return XPAGE_SIM_UNIFORM;
	if (!strcmp(s, "sequential"))
		return XPAGE_SIM_SEQUENTIAL;
	if (!strcmp(s, "zipf"))
		return XPAGE_SIM_ZIPF;
	return -1;
}

static int start_workload(struct pager *p)
{
	struct sim_target *t = p->sim;
	int pat = pattern_of(p->o.pattern);
	struct xpage_sim_workload w;
	int rc;

	if (pat < 0) {
		errx_("--pattern %s: use uniform, hotcold, sequential or zipf",
		      p->o.pattern);
		return -EINVAL;
	}
	w = XPAGE_OPTS(xpage_sim_workload, .vcpus = 0, .pattern = (uint32_t)pat,
		       .write_pct = p->o.write_pct, .hot_set_pct = p->o.hot_set_pct,
		       .hot_pct = p->o.hot_pct, .think_us = p->o.think_us,
		       .release_pm = p->o.release_pm, .seed = p->o.seed);
	rc = xpage_sim_workload(t->sim, t->domid, &w);
	if (rc < 0) {
		errx_("starting the guest's workload: %s", xpage_strerror(rc));
		return rc;
	}
	t->workload = true;
	return 0;
}

/* --zero-pct: a share of the new guest's pages all zero. */
static int make_zero_pages(struct pager *p, struct sim_target *t)
{
	int64_t n;

	if (!p->o.zero_pct)
		return 0;
	n = sim_zero_share(t->sim, t->domid, t->pages, p->o.zero_pct, p->o.seed);
	if (n < 0) {
		errx_("making %u %% of the simulated guest's pages zero: %s",
		      p->o.zero_pct, xpage_strerror((int)n));
		return (int)n;
	}
	dbg(p, "%lld of %llu pages made zero", (long long)n,
	    (unsigned long long)t->pages);
	return 0;
}

int sim_target_start(struct pager *p)
{
	struct sim_target *t = calloc(1, sizeof(*t));
	char *simd = find_simd();
	struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts, .simd_path = simd,
					      .log_path = p->o.sim_log);
	struct xpage_sim_guest_opts go;
	int rc;

	if (!t) {
		free(simd);
		return -ENOMEM;
	}
	p->sim = t;
	/* The library runs the simulator in a session of its own, so a
	 * Ctrl-C on our terminal reaches us (and we drain) but not it; it
	 * stops when this process exits, even killed. */
	t->sim = xpage_sim_start(&so);
	rc = -errno;
	if (!t->sim) {
		if (rc == -ENOENT)
			errx_("no Xen hypervisor on this machine and no simulator: "
			      "xpage-simd was not found (%s); install it, set "
			      "XPAGE_SIMD to its path, or run on Xen with --domid",
			      simd ? simd : "looked next to this program and in "
			      "the default location");
		else
			errx_("cannot start the simulator %s: %s",
			      simd ? simd : "xpage-simd", strerror(-rc));
		free(simd);
		return rc;
	}
	free(simd);
	t->own_sim = true;
	t->pages = p->o.guest_mib * 256;
	go = XPAGE_OPTS(xpage_sim_guest_opts, .vcpus = p->o.vcpus,
			.pages = t->pages, .personality = p->o.personality,
			.seed = p->o.seed,
			.flags = p->o.text ? XPAGE_SIM_GUEST_TEXT : 0);
	rc = xpage_sim_create_guest(t->sim, &go);
	if (rc < 0) {
		if (rc == -ENOENT) {
			char names[1024];

			if (xpage_sim_personalities(t->sim, names, sizeof(names)) < 0)
				names[0] = '\0';
			for (char *c = names; *c; c++)
				if (*c == '\n' && c[1])
					*c = ' ';
			errx_("--personality %s: the simulator does not know it; "
			      "it knows: %s", p->o.personality, names);
		} else {
			errx_("creating a simulated guest of %llu MiB: %s",
			      (unsigned long long)p->o.guest_mib, xpage_strerror(rc));
		}
		return rc;
	}
	t->domid = (uint32_t)rc;
	t->own_guest = true;
	p->domid = t->domid;
	rc = make_zero_pages(p, t);
	if (rc < 0)
		return rc;
	if (!p->o.no_workload) {
		rc = start_workload(p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sim_target_connect(struct pager *p)
{
	struct sim_target *t = calloc(1, sizeof(*t));
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int rc;

	if (!t)
		return -ENOMEM;
	p->sim = t;
	t->domid = p->domid;
	t->sim = xpage_sim_connect(p->o.sim_socket);
	if (!t->sim) {
		rc = -errno;
		errx_("cannot reach the simulator at %s: %s", p->o.sim_socket,
		      strerror(-rc));
		return rc;
	}
	rc = xpage_sim_report(t->sim, t->domid, 0, 60000, &r);
	if (rc == 0)
		t->pages = r.pages;
	return 0;
}

const char *sim_target_socket(const struct pager *p)
{
	if (p->o.sim_socket)
		return p->o.sim_socket;
	return p->sim && p->sim->sim ? xpage_sim_socket(p->sim->sim) : NULL;
}

uint64_t sim_target_guest_pages(struct pager *p)
{
	return p->sim ? p->sim->pages : 0;
}

bool sim_target_have(const struct pager *p)
{
	return p->sim && p->sim->sim;
}

bool sim_target_own_guest(const struct pager *p)
{
	return p->sim && p->sim->own_guest;
}

void sim_target_finish(struct pager *p, struct oracle_result *orc)
{
	struct sim_target *t = p->sim;
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	int rc;

	if (orc)
		memset(orc, 0, sizeof(*orc));
	if (!t)
		return;
	if (t->sim && !orc) {
		/* cleanup after an error: no oracle */
	} else if (t->sim) {
		if (t->own_guest) {
			if (t->workload)
				xpage_sim_workload_stop(t->sim, t->domid);
			rc = xpage_sim_report(t->sim, t->domid,
					      XPAGE_SIM_REPORT_FINAL, 5000, &r);
		} else {
			rc = xpage_sim_report(t->sim, t->domid, 0, 5000, &r);
		}
		if (rc == 0) {
			orc->have = true;
			orc->lost = r.lost;
			orc->corrupted = r.corrupted;
			orc->stuck = r.stuck;
			orc->paged = r.paged;
			orc->nominated = r.nominated;
			orc->accesses = r.accesses;
			orc->faults = r.faults;
			orc->crashed = r.crashed;
			printf("  oracle      %llu lost, %llu corrupted, %llu stuck, "
			       "%llu still paged, %llu nominated%s (%llu guest "
			       "accesses, %llu faults)\n",
			       (unsigned long long)r.lost,
			       (unsigned long long)r.corrupted,
			       (unsigned long long)r.stuck,
			       (unsigned long long)r.paged,
			       (unsigned long long)r.nominated,
			       r.crashed ? ", THE DOMAIN CRASHED" : "",
			       (unsigned long long)r.accesses,
			       (unsigned long long)r.faults);
		} else {
			warnx_("the simulator's oracle did not answer: %s",
			       xpage_strerror(rc));
		}
	}
	if (t->sim) {
		if (t->own_guest)
			xpage_sim_destroy_guest(t->sim, t->domid);
		/* stops a simulator the library started; frees a
		 * connected handle */
		xpage_sim_stop(t->sim);
	}
	free(t);
	p->sim = NULL;
}
