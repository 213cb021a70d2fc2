/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-batch-pager: pages a guest down to a target in batches, serves
 * its page-ins from a store file, survives being killed, and pages
 * everything back in before it leaves.
 *
 * This file: the lifecycle, a step each (attach to the guest, check the
 * store, open the domain, open the store, set up the pager's state and
 * target, re-attach, run, drain, leave, report, release) and the event
 * loop. See pager.h for the other files.
 */
#include "pager.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Attaching                                                            */

static void explain_open_error(const struct pager *p, int e)
{
	const char *hint = "";

	switch (e) {
	case ENOENT:
		hint = p->o.sim_socket ? "" :
		       "; this machine runs no Xen hypervisor (no /dev/xen/privcmd): "
		       "use --sim for a simulated guest, or --sim-socket PATH";
		break;
	case ESRCH:
		hint = "; check the domain id (xl list)";
		break;
	case ENODEV:
		hint = ": Xen pages only HVM guests on hardware-assisted paging "
		       "(EPT/NPT); this domain is not HVM or has no HAP";
		break;
	case ENOSYS:
		hint = " (CONFIG_MEM_PAGING, off by default since Xen 4.16): "
		       "rebuild Xen with it to page guests";
		break;
	case EINVAL:
		hint = " (is it an HVM guest? Xen pages only HVM guests on "
		       "hardware-assisted paging: this domain is not HVM or has "
		       "no HAP)";
		break;
	case EBUSY:
		hint = ": another pager is active on this domain. If it died, "
		       "start this pager with the --store it used (it re-attaches), "
		       "or pass --takeover";
		break;
	default:
		break;
	}
	errx_("cannot page domain %u: %s%s", p->domid, xpage_strerror(e), hint);
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static char *default_store(const struct pager *p)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char *s = NULL;

	if (!dir || !*dir || access(dir, W_OK) < 0)
		dir = "/var/tmp";
	if (sim_target_own_guest(p)) {
		/* a fresh guest: a fresh store */
		if (asprintf(&s, "%s/xpage-batch-pager.sim%d.dom%u.store", dir,
			     (int)getpid(), p->domid) < 0)
			s = NULL;
	} else if (asprintf(&s, "%s/xpage-batch-pager.%sdom%u.store", dir,
			    p->o.sim_socket ? "sim." : "", p->domid) < 0) {
		s = NULL;
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* The event loop                                                       */

/* SIGUSR1: the statistics so far, in --stats-json's file (the pager goes
 * on). */
static void stats_snapshot(struct pager *p)
{
	struct xpage_stats xs = XPAGE_OPTS(xpage_stats);

	if (!p->o.stats_json)
		return;
	xpage_get_stats(p->xp, &xs);
	if (report_json(p, p->o.stats_json, &xs, NULL) < 0)
		warnx_("writing %s: %s", p->o.stats_json, strerror(errno));
}

static int drain(struct pager *p)
{
	uint64_t t = now_ns();
	int rc;

	p->draining = true;
	if (p->nr_out)
		say("paging %llu pages back in",
		    (unsigned long long)p->nr_out);
	rc = pageout_retry(p, true);
	if (rc == 0) {
		rc = pagein_everything(p, true);
		if (rc > 0)
			rc = 0;
	}
	if (rc == 0 && p->nretry)
		rc = pageout_retry(p, true); /* the stuck ones' refused evicts */
	if (rc == 0)
		rc = xpage_dispatch(p->xp, 0);
	if (rc >= 0)
		rc = pagein_serve(p);
	p->st.drain_s = (double)(now_ns() - t) / 1e9;
	report_progress(p, true);
	report_progress_end(p);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */

/* The guest's RAM from the library, so that the policy never offers a
 * hole (a PVH guest's gfns are mostly one). Without it (a backend that
 * cannot tell) every gfn is a candidate and holes are refused -EBUSY. */
static void learn_ram(struct pager *p)
{
	int n = xpage_ram_ranges(p->xp, NULL, 0);
	uint64_t sum = 0;

	if (n >= 0) {
		p->ram = calloc((size_t)n + 1, sizeof(*p->ram));
		if (p->ram)
			n = xpage_ram_ranges(p->xp, p->ram, (size_t)n);
		else
			n = -ENOMEM;
	}
	if (n < 0) {
		warnx_("which gfns are RAM is not known (%s): every gfn of the "
		       "guest is a candidate", xpage_strerror(n));
		free(p->ram);
		p->ram = NULL;
		return;
	}
	p->nram = (size_t)n;
	for (size_t i = 0; i < p->nram; i++)
		sum += p->ram[i].count;
	dbg(p, "guest RAM: %llu pages in %zu ranges of %llu gfns",
	    (unsigned long long)sum, p->nram, (unsigned long long)p->nr_gfns);
	if (sum)
		p->guest_pages = sum;
}

/* The event loop's state between rounds. */
struct loop {
	uint64_t deadline;       /* --duration's end; 0: none */
	uint64_t last_batch;     /* when the last page-out batch started */
	uint64_t low_water;      /* "a few pages over the target" */
	int backoff_ms;          /* no candidate last time: wait before the
				  * next batch */
	bool want_out;           /* this round pages out */
};

/* Whether this round pages out, and how long to wait for an event
 * first. Holding the target, a few pages over it are gathered for a
 * while rather than paying a batch's two syncs per page. */
static int plan_round(const struct pager *p, struct loop *l, uint64_t t)
{
	uint64_t res = pager_resident(p);
	uint64_t excess = p->target != UINT64_MAX && res > p->target ?
			  res - p->target : 0;
	bool holding = p->target_reached && excess && excess < l->low_water &&
		       t - l->last_batch < 250000000ull;
	int timeout;

	l->want_out = excess && !p->pageout_stopped && !holding;
	if (l->want_out && !l->backoff_ms)
		timeout = 0;
	else if (l->backoff_ms)
		timeout = l->backoff_ms;
	else
		timeout = holding ? 20 : 250;
	if (l->deadline) {
		uint64_t left_ms = (l->deadline - t) / 1000000 + 1;

		if ((uint64_t)timeout > left_ms)
			timeout = (int)left_ms;
	}
	return timeout;
}

/* A signal arrived: true to stop (SIGINT, SIGTERM), false to go on
 * (SIGUSR1 writes the statistics so far). */
static bool stop_signal(struct pager *p, int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	if (si.ssi_signo == SIGUSR1) {
		stats_snapshot(p);
		return false;
	}
	say("%s: paging everything back in", strsignal((int)si.ssi_signo));
	return true;
}

/* One round's work: serve the guest, then page out toward the target,
 * or back in when the target rose (xenstore). 0 or a negative errno. */
static int work(struct pager *p, struct loop *l)
{
	int rc = xpage_dispatch(p->xp, 0);

	if (rc >= 0)
		rc = pagein_serve(p);
	if (rc >= 0)
		rc = pageout_retry(p, false);
	if (rc < 0)
		return rc;
	l->backoff_ms = 0;
	if (l->want_out) {
		l->last_batch = now_ns();
		rc = pageout_batch(p);
		if (rc < 0)
			return rc;
		/* no candidate worth taking now: do not spin */
		if (rc == 0)
			l->backoff_ms = 50;
	} else if (p->target != UINT64_MAX && p->nr_out &&
		   pager_resident(p) + p->o.batch <= p->target) {
		rc = pagein_bulk(p, p->target - pager_resident(p), false);
		if (rc < 0)
			return rc;
	}
	control_serve(p); /* after the batch: its gfns may move now */
	if (!p->target_reached && p->target != UINT64_MAX &&
	    pager_resident(p) <= p->target) {
		p->target_reached = true;
		p->st.target_reached_s = (double)(now_ns() - p->t0_ns) / 1e9;
	}
	report_progress(p, false);
	return 0;
}

/* Until a signal, --duration, or an error (a negative errno). */
static int run(struct pager *p, int sigfd)
{
	struct loop l = {
		.deadline = p->o.duration_s > 0 ?
			    p->t0_ns + (uint64_t)(p->o.duration_s * 1e9) : 0,
		.low_water = p->o.batch / 8 ? p->o.batch / 8 : 1,
	};

	for (;;) {
		/* (poll skips the xenstore entry when its fd is -1) */
		struct pollfd pf[3 + 8] = {
			{ .fd = xpage_fd(p->xp), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = xen_target_fd(p), .events = POLLIN },
		};
		nfds_t npf = 3 + (nfds_t)control_pollfds(p, pf + 3, 8);
		uint64_t t = now_ns();
		int rc;

		if (l.deadline && t >= l.deadline) {
			say("%.0f s passed: paging everything back in",
			    p->o.duration_s);
			return 0;
		}
		rc = poll(pf, npf, plan_round(p, &l, t));
		if (rc < 0 && errno != EINTR) {
			int e = errno;

			errx_("poll: %s", strerror(e));
			return -e;
		}
		if (rc > 0 && (pf[1].revents & POLLIN)) {
			if (stop_signal(p, sigfd))
				return 0;
			continue;
		}
		if (rc > 0 && pf[2].fd >= 0 && (pf[2].revents & POLLIN))
			xen_target_event(p);
		rc = work(p, &l);
		if (rc < 0)
			return rc;
	}
}

/* ------------------------------------------------------------------ */
/* The lifecycle                                                        */

/* What main() set up that only it releases. */
struct setup {
	int sigfd;               /* SIGINT, SIGTERM, SIGUSR1 */
	char *default_path;      /* the store path main() made up, or NULL */
	struct store_recovery rec;
	int reattached;          /* store_open: 1 re-attached, 0 new, < 0 */
};

/* SIGINT/SIGTERM/SIGUSR1 arrive through a signalfd in the event loop.
 * The fd, or -1 (said). */
static int signals_to_fd(void)
{
	sigset_t sigs;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		errx_("signalfd: %s", strerror(errno));
	return fd;
}

/* The guest: a real domain, our own simulated guest, or one in a
 * simulator someone runs. 0 or -1 (said). */
static int attach_target(struct pager *p)
{
	if (p->o.domid < 0 && !p->o.sim) {
		if (xen_present()) {
			errx_("this machine runs Xen: give --domid N (or --sim for "
			      "a simulated guest)");
			return -1;
		}
		p->o.sim = true;
	}
	if (p->o.follow_xenstore && (p->o.sim || p->o.sim_socket)) {
		errx_("--follow-xenstore needs a real Xen guest (--domid)");
		return -1;
	}
	if (p->o.sim)
		return sim_target_start(p) < 0 ? -1 : 0;
	p->domid = (uint32_t)p->o.domid;
	if (p->o.sim_socket && sim_target_connect(p) < 0)
		return -1;
	return 0;
}

/* The store's path, and whether a store is there: one left by a pager of
 * this domain means it died, and its ring is ours to take over. One that
 * is in use or another domain's is refused before the domain's paging
 * ring is touched. 0 or -1 (said). */
static int check_store(struct pager *p, struct setup *s, bool *existing)
{
	char ipath[PATH_MAX], err[512];
	uint32_t sdom = 0;
	int rc;

	if (!p->o.store_path) {
		s->default_path = default_store(p);
		p->o.store_path = s->default_path;
		if (!p->o.store_path) {
			errx_("out of memory");
			return -1;
		}
	}
	snprintf(ipath, sizeof(ipath), "%s.index", p->o.store_path);
	*existing = file_exists(p->o.store_path) || file_exists(ipath);
	if (!*existing)
		return 0;
	if (sim_target_own_guest(p)) {
		errx_("store %s already exists, and the guest this pager just "
		      "created cannot have pages in it: remove it, or use "
		      "another --store", p->o.store_path);
		return -1;
	}
	rc = store_probe(p->o.store_path, &sdom, err, sizeof(err));
	if (rc == -EBUSY || rc == -EBADMSG) {
		errx_("%s", err);
		return -1;
	}
	if (rc == 0 && sdom != p->domid) {
		errx_("store %s belongs to another domain (domain %u), not to "
		      "domain %u: refusing to serve its pages to this guest",
		      p->o.store_path, sdom, p->domid);
		return -1;
	}
	return 0;
}

/* Open the domain. A store nobody holds (store_probe found no live
 * owner) is a dead pager's: a ring still on the domain is taken over (a
 * domain without one is simply attached), and the domain stays paused
 * until every adopted page is back (pagein_adopted). 0 or -1 (said). */
static int open_domain(struct pager *p, bool existing)
{
	struct xpage_callbacks cbs = pager_callbacks_template;
	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = p->domid,
		.backend = (p->o.sim || p->o.sim_socket) ? XPAGE_BACKEND_SIM
							 : XPAGE_BACKEND_AUTO,
		.sim_socket = sim_target_socket(p),
		.ages = XPAGE_AGES_ALL,
		.flags = (p->o.takeover || existing) ?
			 XPAGE_OPEN_TAKEOVER | XPAGE_OPEN_KEEP_PAUSED : 0,
		.features_wanted = XPAGE_FEAT_ALL,
		.log_fn = lib_log, .log_level = XPAGE_LOG_DEBUG);

	cbs.user = p;
	p->xp = xpage_open(&oo, &cbs);
	if (!p->xp) {
		explain_open_error(p, errno);
		return -1;
	}
	dbg(p, "domain %u opened", p->domid);
	p->info = (struct xpage_info){ .sz = sizeof(p->info) };
	xpage_get_info(p->xp, &p->info);
	/* The library's string lives as long as the handle: keep a copy. */
	snprintf(p->xen_library, sizeof(p->xen_library), "%s",
		 p->info.xen_library ? p->info.xen_library : "");
	p->info.xen_library = NULL;
	if (p->info.took_over && existing && !p->o.takeover)
		say("domain %u still had the paging ring of the pager that "
		    "used %s: taken over", p->domid, p->o.store_path);
	p->nr_gfns = p->info.nr_gfns;
	p->guest_pages = sim_target_guest_pages(p);
	if (!p->guest_pages && !strcmp(p->info.backend, "xen"))
		p->guest_pages = xen_guest_pages(p->domid);
	if (!p->guest_pages || p->guest_pages > p->nr_gfns)
		p->guest_pages = p->nr_gfns;
	learn_ram(p);
	return 0;
}

static int open_store(struct pager *p, struct setup *s)
{
	struct store_identity id = { .domid = p->domid, .nr_gfns = p->nr_gfns };
	char err[512];

	s->reattached = store_open(p->o.store_path, &id,
				   !sim_target_own_guest(p), &p->store,
				   &s->rec, err, sizeof(err));
	if (s->reattached < 0) {
		errx_("%s", err);
		if (p->info.took_over)
			warnx_("the paging ring was taken over; pages the dead "
			       "pager evicted cannot be served without its store");
		return -1;
	}
	if (store_set_compress(p->store, p->o.compress, 0) < 0 ||
	    store_set_ram_tier(p->store, (uint64_t)p->o.ram_tier_mib << 20) < 0) {
		errx_("out of memory setting up the store (%s compression, a "
		      "RAM tier of %u MiB)", compress_name(p->o.compress),
		      p->o.ram_tier_mib);
		return -1;
	}
	dbg(p, "store %s open", p->o.store_path);
	return 0;
}

/* The victim policy's name: --policy (the clock by default); logdirty
 * falls back to the clock when the domain's log-dirty mode cannot be had,
 * said in the log. */
static const char *pick_policy(struct pager *p)
{
	const char *want = p->o.policy;
	int rc;

	if (!want)
		return "clock";
	if (strcmp(want, "logdirty"))
		return want;
	rc = xpage_logdirty_enable(p->xp, NULL);
	if (rc == 0) {
		say("policy: logdirty (victims unwritten for %u log-dirty "
		    "scans, one every %u ms)", p->o.idle_scans, p->o.scan_ms);
		return "logdirty";
	}
	say("policy: clock (log-dirty mode unavailable: %s)",
	    rc == -EBUSY ? "someone else holds it" : xpage_strerror(rc));
	return "clock";
}

/* Per-gfn state, the policy, the page-out batch; then the target. */
static int make_state(struct pager *p)
{
	struct policy_params pp = { .nr_gfns = p->nr_gfns,
				    .recent_s = p->o.recent_s,
				    .ram = p->ram, .nram = p->nram,
				    .xp = p->xp, .scan_ms = p->o.scan_ms,
				    .idle_scans = p->o.idle_scans,
				    .seed = p->o.seed };

	p->gfl = calloc(p->nr_gfns ? p->nr_gfns : 1, sizeof(*p->gfl));
	p->slot = malloc((p->nr_gfns ? p->nr_gfns : 1) * sizeof(*p->slot));
	p->pol = policy_create(pick_policy(p), &pp);
	if (!p->gfl || !p->slot || !p->pol || pageout_init(p) < 0 ||
	    prefetch_init(&p->pf, p->nr_gfns, p->o.prefetch) < 0) {
		errx_("out of memory for %llu gfns",
		      (unsigned long long)p->nr_gfns);
		return -1;
	}
	memset(p->slot, 0xff, p->nr_gfns * sizeof(*p->slot));
	if (p->o.follow_xenstore)
		return xen_target_follow(p) < 0 ? -1 : 0;
	p->target = (uint64_t)p->o.target_pages;
	if (p->target > p->guest_pages)
		p->target = p->guest_pages;
	return 0;
}

/* Take over what the store's index says, load every adopted page, and
 * let the domain run (it was held paused since the open when
 * re-attaching; -EALREADY otherwise). 0 or -1 (said). */
static int reattach(struct pager *p, struct setup *s)
{
	int rc;

	if (s->reattached == 1) {
		rc = pagein_reattach(p, &s->rec);
		store_recovery_free(&s->rec);
		if (rc < 0) {
			errx_("re-attaching: %s", xpage_strerror(rc));
			return -1;
		}
		rc = pagein_adopted(p);
		if (rc < 0) {
			errx_("loading the adopted pages: %s", xpage_strerror(rc));
			return -1;
		}
	}
	rc = xpage_unpause(p->xp);
	if (rc < 0 && rc != -EALREADY) {
		errx_("unpausing domain %u: %s", p->domid, xpage_strerror(rc));
		return -1;
	}
	return 0;
}

static void announce(const struct pager *p)
{
	say("domain %u (%s, %s%s): %.0f MiB, target %.0f MiB resident, "
	    "batch %u, store %s", p->domid, p->info.backend,
	    xpage_generation_name((int)p->info.generation),
	    p->info.took_over ? ", taken over" : "",
	    (double)p->guest_pages / 256.0,
	    p->target == UINT64_MAX ? 0.0 : (double)p->target / 256.0,
	    p->o.batch, p->o.store_path);
	if (sim_target_own_guest(p))
		say("simulator at %s, guest domain %u (it stops with this "
		    "pager; for a simulated guest that outlives pagers, run "
		    "xpage-simd --socket PATH --guest-mib N and use "
		    "--sim-socket PATH --domid 1)", sim_target_socket(p),
		    p->domid);
}

/* Everything up to the event loop. 0, or -1 (said). */
static int start(struct pager *p, struct setup *s)
{
	bool existing = false;

	if (attach_target(p) < 0 || check_store(p, s, &existing) < 0 ||
	    open_domain(p, existing) < 0 || open_store(p, s) < 0 ||
	    make_state(p) < 0 || reattach(p, s) < 0)
		return -1;
	announce(p);
	return 0;
}

/* Run, then bring everything back. Returns whether the domain is gone. */
static bool run_and_drain(struct pager *p, int sigfd)
{
	int rc;

	control_open(p);
	rc = run(p, sigfd);
	control_close(p);

	if (rc == -ESHUTDOWN || rc == -ESRCH) {
		errx_("domain %u is gone (it crashed or was destroyed, or paging "
		      "was disabled under this pager)", p->domid);
		p->exit_code = 1;
		return true;
	}
	if (rc < 0) {
		errx_("stopping after an error: %s", xpage_strerror(rc));
		p->exit_code = 1;
	}
	rc = drain(p);
	if (rc < 0) {
		errx_("paging back in failed: %s; %llu pages stay in the store "
		      "%s (start the pager again with it)", xpage_strerror(rc),
		      (unsigned long long)p->nr_out, p->o.store_path);
		p->exit_code = 1;
	}
	return false;
}

/* Let the domain go: closed when nothing is out, else detached and left
 * paused with its ring for a new pager (never a guest with pages and no
 * pager). */
static void leave_domain(struct pager *p, bool domain_gone,
			 struct xpage_stats *xs)
{
	struct xpage_info now = XPAGE_OPTS(xpage_info);
	int rc;

	xpage_get_stats(p->xp, xs);
	if (xpage_get_info(p->xp, &now) == 0)
		p->info.request_version = now.request_version;
	if ((p->nr_out || p->evict_unknown) && !domain_gone) {
		xpage_detach(p->xp, 1);
		if (p->nr_out)
			errx_("%llu pages are still paged out: the domain was "
			      "left paused with its ring for a new pager "
			      "(--store %s)", (unsigned long long)p->nr_out,
			      p->o.store_path);
		else
			errx_("an evict failed as a whole, so pages of its "
			      "batch may be paged out: the domain was left "
			      "paused with its ring for a new pager (--store %s)",
			      p->o.store_path);
		p->exit_code = 1;
	} else {
		rc = xpage_close(p->xp);
		if (rc < 0 && !domain_gone)
			warnx_("disabling paging: %s", xpage_strerror(rc));
	}
	p->xp = NULL;
}

/* The report, the simulator's oracle, --stats-json. */
static void report(struct pager *p, const struct xpage_stats *xs)
{
	struct oracle_result orc = { 0 };

	report_final(p, xs);
	sim_target_finish(p, &orc);
	if (orc.have && (orc.lost || orc.corrupted || orc.stuck || orc.crashed))
		p->exit_code = 1;
	if (p->o.stats_json && report_json(p, p->o.stats_json, xs, &orc) < 0)
		p->exit_code = 1;
}

/* What the pager holds, the store kept or (with @remove) removed. */
static void release_state(struct pager *p, struct setup *s, bool remove)
{
	store_recovery_free(&s->rec);
	xen_target_fini(p);
	store_close(p->store, remove);
	if (p->pol)
		p->pol->ops->destroy(p->pol);
	pageout_fini(p);
	prefetch_fini(&p->pf);
	free(p->gfl);
	free(p->slot);
	free(p->ram);
	free(p->q);
	free(p->io_buf);
	free(p->stuck);
	free(p->st.lat.us);
	free(p->st.lat_ram.us);
	free(p->st.lat_file.us);
}

int main(int argc, char **argv)
{
	static struct pager P;
	struct pager *p = &P;
	struct setup s = { .sigfd = -1 };
	struct xpage_stats xs = { .sz = sizeof(xs) };

	if (parse_options(&p->o, argc, argv) < 0)
		return 2;
	p->t0_ns = now_ns();
	p->st.target_reached_s = -1;
	p->st.lat.rng = 0x9e3779b97f4a7c15ull;
	p->tty = p->o.progress < 0 ? isatty(STDERR_FILENO) : p->o.progress;
	p->target = UINT64_MAX;
	messages_init(p, p->o.verbose);
	s.sigfd = signals_to_fd();
	if (s.sigfd < 0)
		return 2;
	if (start(p, &s) < 0) {
		release_state(p, &s, s.reattached == 0);
		xpage_close(p->xp);
		sim_target_finish(p, NULL);
		p->exit_code = 2;
	} else {
		leave_domain(p, run_and_drain(p, s.sigfd), &xs);
		report(p, &xs);
		release_state(p, &s, !p->o.keep_store && !p->nr_out &&
			      !p->nstuck && !p->nretry && !p->evict_unknown);
	}
	free(s.default_path);
	close(s.sigfd);
	return p->exit_code;
}
