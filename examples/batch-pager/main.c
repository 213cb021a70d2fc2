/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-batch-pager: pages a guest down to a target in batches, serves
 * its page-ins from a store file, survives being killed, and pages
 * everything back in before it leaves.
 *
 * This file: options, the lifecycle (target, attach, store, run, drain,
 * report) and the event loop. See pager.h for the other files.
 */
#include "pager.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Default batch size, measured against xpage-simd (xen-4.15 personality,
 * multicalls, 256 MiB guest, --target-mib 64, store on ext4, 2 cores
 * shared with other builds, so +-30 %): seconds to page out the first
 * 49152 pages, three runs each, idle guest / guest running the default
 * workload, and page-in latency p99 under the workload:
 *
 *   batch   idle guest          with workload        page-in p99
 *     32    2.3 s (+ 2 runs     2.6-4.0 s            360-570 us
 *           not done in 3 s)
 *     64    0.8-2.1 s           1.4-2.0 s            325-365 us
 *    128    0.7-1.4 s           2.6-3.1 s            280-2600 us
 *    256    0.9-1.4 s           1.0-1.3 s            290-900 us
 *    512    0.7-0.9 s           0.7-1.3 s            320-380 us
 *   1024    0.6-0.8 s           0.75-1.1 s           250-280 us
 *   2048    0.5-0.6 s           0.65-1.3 s           170-270 us
 *   4096    0.5 s
 *
 * Below 512 the two syncs and five round trips per batch dominate;
 * past 1024 the gain is small while a batch holds its populates longer
 * (they are served between its steps) and maps more memory at once, and
 * on a hypervisor without multicalls a batch is that many traps before
 * the next dispatch. 1024 it is.
 */
#define DEFAULT_BATCH 1024u

static int verbosity = 1; /* 0 quiet, 1 normal, 2 debug */
static const char *prog = "xpage-batch-pager";

/* ------------------------------------------------------------------ */
/* Helpers shared by the files                                          */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pager *g_pager; /* for clearing the progress line */

static void vmsg(const char *tag, const char *fmt, va_list ap)
{
	if (g_pager)
		report_progress_end(g_pager);
	fprintf(stderr, "%s: %s", prog, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void say(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void errx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void dbg(const struct pager *p, const char *fmt, ...)
{
	char pre[48];
	va_list ap;

	if (verbosity < 2)
		return;
	/* the time since the pager started: where a slow start goes */
	snprintf(pre, sizeof(pre), "debug: +%.3f s: ",
		 p->t0_ns ? (double)(now_ns() - p->t0_ns) / 1e9 : 0.0);
	va_start(ap, fmt);
	vmsg(pre, fmt, ap);
	va_end(ap);
}

void crash_point(const char *point)
{
	static int armed = -1;
	static char name[32];
	static long count = 1;

	if (armed < 0) {
		const char *e = getenv("XPAGE_BATCH_PAGER_CRASH");
		const char *c;

		armed = 0;
		if (e && *e) {
			c = strchr(e, ':');
			snprintf(name, sizeof(name), "%.*s",
				 (int)(c ? (size_t)(c - e) : strlen(e)), e);
			if (c)
				count = strtol(c + 1, NULL, 10);
			armed = 1;
		}
	}
	if (armed && !strcmp(point, name) && --count <= 0) {
		fprintf(stderr, "%s: test hook: killed at \"%s\"\n", prog, point);
		raise(SIGKILL);
	}
}

int grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
	void **arr = arrp;
	size_t nc;
	void *a;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	while (nc < need)
		nc *= 2;
	a = realloc(*arr, nc * elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = nc;
	return 0;
}

static void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= XPAGE_LOG_WARN || verbosity >= 2) {
		if (g_pager)
			report_progress_end(g_pager);
		fprintf(stderr, "%s: libxpage: %s\n", prog, msg);
	}
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [target] [size] [options]\n"
"\n"
"Pages a Xen guest (or a simulated one) down to a target size in batches,\n"
"serves its page-ins from a store file, and pages everything back in on\n"
"SIGINT/SIGTERM or after --duration; SIGUSR1 writes --stats-json now.\n"
"\n"
"Target (default: --sim when this machine does not run Xen):\n"
"  --domid N              a real guest (or, with --sim-socket, a simulated one)\n"
"  --sim                  start xpage-simd with a simulated guest\n"
"  --sim-socket PATH      a simulator that is already running (with --domid)\n"
"Simulated guest (--sim):\n"
"  --guest-mib N          guest RAM (256)\n"
"  --vcpus N              vCPUs (2)\n"
"  --personality NAME     hypervisor imitated (the newest)\n"
"  --pattern P            workload: hotcold, uniform or sequential (hotcold)\n"
"  --write-pct N          share of writes (20)\n"
"  --hot-set-pct N        hot set size, %% of the guest (10)\n"
"  --hot-pct N            accesses going to the hot set (90)\n"
"  --think-us N           pause between accesses of a vCPU (200)\n"
"  --release-pm N         accesses that balloon a page out, per mille (0)\n"
"  --seed N               contents and workload seed (1)\n"
"  --no-workload          the guest stays idle\n"
"  --sim-log PATH         the simulator's log\n"
"Size:\n"
"  --target-mib N         resident memory wanted\n"
"  --target-pages N       the same in 4 KiB pages\n"
"  --follow-xenstore      follow memory/target-tot_pages (Xen)\n"
"Options:\n"
"  --batch N              gfns per page-out batch (%u)\n"
"  --store PATH           the store file (and PATH.index); default under\n"
"                         $XDG_RUNTIME_DIR or /var/tmp\n"
"  --keep-store           do not remove the store at exit\n"
"  --takeover             take over a paging ring left by a pager that died\n"
"  --duration SECONDS     page everything back in and exit after this long\n"
"  --stats-json PATH      write statistics as JSON\n"
"  --recent-s N           leave pages the guest paged in alone this long (30)\n"
"  --settle-ms N          after nominating a batch, serve the guest this long\n"
"                         before writing it out: pages it still uses come\n"
"                         back at no I/O cost (0)\n"
"  --progress, --no-progress   force the progress line on or off\n"
"  -q, --quiet   -v, --verbose   -h, --help   --version\n"
"\n"
"A pager killed at any point and started again with the same --store\n"
"re-attaches and serves every page it had evicted.\n",
		prog, DEFAULT_BATCH);
}

enum {
	O_DOMID = 256, O_SIM, O_SIM_SOCKET, O_GUEST_MIB, O_VCPUS, O_PERS,
	O_PATTERN, O_WRITE, O_HOTSET, O_HOT, O_THINK, O_RELEASE, O_SEED,
	O_NOWL, O_SIMLOG, O_TMIB, O_TPAGES, O_XS, O_BATCH, O_STORE, O_KEEP,
	O_TAKEOVER, O_DURATION, O_JSON, O_RECENT, O_SETTLE, O_PROGRESS, O_NOPROGRESS,
	O_VERSION,
};

static const struct option longopts[] = {
	{ "domid", required_argument, NULL, O_DOMID },
	{ "sim", no_argument, NULL, O_SIM },
	{ "sim-socket", required_argument, NULL, O_SIM_SOCKET },
	{ "guest-mib", required_argument, NULL, O_GUEST_MIB },
	{ "vcpus", required_argument, NULL, O_VCPUS },
	{ "personality", required_argument, NULL, O_PERS },
	{ "pattern", required_argument, NULL, O_PATTERN },
	{ "write-pct", required_argument, NULL, O_WRITE },
	{ "hot-set-pct", required_argument, NULL, O_HOTSET },
	{ "hot-pct", required_argument, NULL, O_HOT },
	{ "think-us", required_argument, NULL, O_THINK },
	{ "release-pm", required_argument, NULL, O_RELEASE },
	{ "seed", required_argument, NULL, O_SEED },
	{ "no-workload", no_argument, NULL, O_NOWL },
	{ "sim-log", required_argument, NULL, O_SIMLOG },
	{ "target-mib", required_argument, NULL, O_TMIB },
	{ "target-pages", required_argument, NULL, O_TPAGES },
	{ "follow-xenstore", no_argument, NULL, O_XS },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "store", required_argument, NULL, O_STORE },
	{ "keep-store", no_argument, NULL, O_KEEP },
	{ "takeover", no_argument, NULL, O_TAKEOVER },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "stats-json", required_argument, NULL, O_JSON },
	{ "recent-s", required_argument, NULL, O_RECENT },
	{ "settle-ms", required_argument, NULL, O_SETTLE },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "no-progress", no_argument, NULL, O_NOPROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

static bool num(const char *opt, const char *s, uint64_t min, uint64_t max,
		uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		errx_("%s %s: expected a number from %llu to %llu", opt, s,
		      (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

static int parse(struct pager_opts *o, int argc, char **argv)
{
	int c;
	uint64_t v;
	char *end;

	*o = (struct pager_opts){
		.domid = -1, .guest_mib = 256, .vcpus = 2, .pattern = "hotcold",
		.write_pct = 20, .hot_set_pct = 10, .hot_pct = 90,
		.think_us = 200, .seed = 1, .target_pages = -1,
		.batch = DEFAULT_BATCH, .recent_s = 30, .progress = -1,
	};
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		const char *n = "option";

		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == c)
				n = lo->name;
		switch (c) {
		case O_DOMID:
			if (!num("--domid", optarg, 0, 0x7fef, &v))
				return -1;
			o->domid = (int64_t)v;
			break;
		case O_SIM: o->sim = true; break;
		case O_SIM_SOCKET: o->sim_socket = optarg; break;
		case O_GUEST_MIB:
			if (!num("--guest-mib", optarg, 1, 1u << 20, &o->guest_mib))
				return -1;
			break;
		case O_VCPUS:
			if (!num("--vcpus", optarg, 1, 128, &v))
				return -1;
			o->vcpus = (uint32_t)v;
			break;
		case O_PERS: o->personality = optarg; break;
		case O_PATTERN: o->pattern = optarg; break;
		case O_WRITE: case O_HOTSET: case O_HOT:
			if (!num(n, optarg, c == O_HOTSET ? 1 : 0, 100, &v))
				return -1;
			if (c == O_WRITE)
				o->write_pct = (uint32_t)v;
			else if (c == O_HOTSET)
				o->hot_set_pct = (uint32_t)v;
			else
				o->hot_pct = (uint32_t)v;
			break;
		case O_THINK:
			if (!num("--think-us", optarg, 0, 10000000, &v))
				return -1;
			o->think_us = (uint32_t)v;
			break;
		case O_RELEASE:
			if (!num("--release-pm", optarg, 0, 1000, &v))
				return -1;
			o->release_pm = (uint32_t)v;
			break;
		case O_SEED:
			if (!num("--seed", optarg, 0, UINT64_MAX, &o->seed))
				return -1;
			break;
		case O_NOWL: o->no_workload = true; break;
		case O_SIMLOG: o->sim_log = optarg; break;
		case O_TMIB:
			if (!num("--target-mib", optarg, 0, UINT64_MAX >> 20, &v))
				return -1;
			o->target_pages = (int64_t)(v * 256);
			break;
		case O_TPAGES:
			if (!num("--target-pages", optarg, 0, INT64_MAX, &v))
				return -1;
			o->target_pages = (int64_t)v;
			break;
		case O_XS: o->follow_xenstore = true; break;
		case O_BATCH:
			if (!num("--batch", optarg, 1, 65536, &v))
				return -1;
			o->batch = (uint32_t)v;
			break;
		case O_STORE: o->store_path = optarg; break;
		case O_KEEP: o->keep_store = true; break;
		case O_TAKEOVER: o->takeover = true; break;
		case O_DURATION:
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			/* (!(x >= 0) also refuses NaN; a year is plenty) */
			if (errno || end == optarg || *end ||
			    !(o->duration_s >= 0) || o->duration_s > 365.0 * 86400) {
				errx_("--duration %s: expected seconds, from 0 to "
				      "31536000", optarg);
				return -1;
			}
			break;
		case O_JSON: o->stats_json = optarg; break;
		case O_RECENT:
			if (!num("--recent-s", optarg, 0, 86400, &v))
				return -1;
			o->recent_s = (uint32_t)v;
			break;
		case O_SETTLE:
			if (!num("--settle-ms", optarg, 0, 10000, &v))
				return -1;
			o->settle_ms = (uint32_t)v;
			break;
		case O_PROGRESS: o->progress = 1; break;
		case O_NOPROGRESS: o->progress = 0; break;
		case 'q': verbosity = 0; break;
		case 'v': verbosity = 2; break;
		case 'h': usage(stdout); exit(0);
		case O_VERSION:
			printf("xpage-batch-pager (libxpage %s)\n",
			       xpage_version_string());
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		errx_("unexpected argument: %s", argv[optind]);
		return -1;
	}
	o->verbose = verbosity;
	if (o->sim && o->sim_socket) {
		errx_("--sim starts a simulator; --sim-socket uses a running one: "
		      "give one of them");
		return -1;
	}
	if (o->sim && o->domid >= 0) {
		errx_("--sim creates its own guest: --domid is for a real guest "
		      "or, with --sim-socket, a simulated one");
		return -1;
	}
	if (o->sim_socket && o->domid < 0) {
		errx_("--sim-socket needs --domid (the simulated guest)");
		return -1;
	}
	if (o->follow_xenstore && o->target_pages >= 0) {
		errx_("give either --target-mib/--target-pages or "
		      "--follow-xenstore");
		return -1;
	}
	if (!o->follow_xenstore && o->target_pages < 0) {
		errx_("no target: give --target-mib N, --target-pages N or "
		      "--follow-xenstore");
		return -1;
	}
	return 0;
}

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

static int run(struct pager *p, int sigfd)
{
	uint64_t deadline = p->o.duration_s > 0 ?
			    p->t0_ns + (uint64_t)(p->o.duration_s * 1e9) : 0;
	uint64_t last_batch = 0, low_water = p->o.batch / 8 ? p->o.batch / 8 : 1;
	int backoff_ms = 0;

	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = xpage_fd(p->xp), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = xen_target_fd(p), .events = POLLIN },
		};
		uint64_t t = now_ns(), before, res = pager_resident(p);
		uint64_t excess = p->target != UINT64_MAX && res > p->target ?
				  res - p->target : 0;
		bool holding, want_out;
		int timeout, rc;

		if (deadline && t >= deadline) {
			say("%.0f s passed: paging everything back in",
			    p->o.duration_s);
			return 0;
		}
		/* Holding the target, a few pages over it are gathered for a
		 * while rather than paying a batch's two syncs per page. */
		holding = p->target_reached && excess && excess < low_water &&
			  t - last_batch < 250000000ull;
		want_out = excess && !p->pageout_stopped && !holding;
		if (want_out && !backoff_ms)
			timeout = 0;
		else if (backoff_ms)
			timeout = backoff_ms;
		else
			timeout = holding ? 20 : 250;
		if (deadline) {
			uint64_t left_ms = (deadline - t) / 1000000 + 1;

			if ((uint64_t)timeout > left_ms)
				timeout = (int)left_ms;
		}
		rc = poll(pf, pf[2].fd >= 0 ? 3 : 2, timeout);
		if (rc < 0 && errno != EINTR) {
			errx_("poll: %s", strerror(errno));
			return -errno;
		}
		if (rc > 0 && (pf[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1) {
				stats_snapshot(p);
				continue;
			}
			say("%s: paging everything back in",
			    strsignal((int)si.ssi_signo));
			return 0;
		}
		if (rc > 0 && pf[2].fd >= 0 && (pf[2].revents & POLLIN))
			xen_target_event(p);

		rc = xpage_dispatch(p->xp, 0);
		if (rc < 0)
			return rc;
		rc = pagein_serve(p);
		if (rc < 0)
			return rc;
		rc = pageout_retry(p, false);
		if (rc < 0)
			return rc;

		backoff_ms = 0;
		before = p->st.pages_out;
		if (want_out) {
			last_batch = now_ns();
			rc = pageout_batch(p);
			if (rc < 0)
				return rc;
			/* no candidate worth taking now: do not spin */
			if (p->st.pages_out == before)
				backoff_ms = 50;
		} else if (p->target != UINT64_MAX && p->nr_out &&
			   pager_resident(p) + p->o.batch <= p->target) {
			/* the target went up (xenstore): bring pages back */
			rc = pagein_bulk(p, p->target - pager_resident(p), false);
			if (rc < 0)
				return rc;
		}
		if (!p->target_reached && p->target != UINT64_MAX &&
		    pager_resident(p) <= p->target) {
			p->target_reached = true;
			p->st.target_reached_s = (double)(now_ns() - p->t0_ns) / 1e9;
		}
		report_progress(p, false);
	}
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
		rc = pagein_bulk(p, 0, true);
		if (rc > 0)
			rc = 0;
	}
	if (rc == 0 && p->nstuck)
		pagein_unstick(p);
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

int main(int argc, char **argv)
{
	static struct pager P;
	struct pager *p = &P;
	struct xpage_open_opts oo;
	struct xpage_callbacks cbs = pager_callbacks_template;
	struct store_recovery rec = { 0 };
	struct store_identity id;
	struct xpage_stats xs = { .sz = sizeof(xs) };
	struct oracle_result orc = { 0 };
	struct policy_params pp;
	sigset_t sigs;
	char err[512], *store_alloc_path = NULL;
	bool existing, have_xs = false, domain_gone = false;
	int sigfd, rc, reattached;

	if (parse(&p->o, argc, argv) < 0)
		return 2;
	p->t0_ns = now_ns();
	p->st.target_reached_s = -1;
	p->st.lat.rng = 0x9e3779b97f4a7c15ull;
	p->tty = p->o.progress < 0 ? isatty(STDERR_FILENO) : p->o.progress;
	p->target = UINT64_MAX;
	g_pager = p;

	/* SIGINT/SIGTERM arrive through a signalfd in the event loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		errx_("signalfd: %s", strerror(errno));
		return 2;
	}

	/* The target: a real domain, our own simulated guest, or one in a
	 * simulator someone runs. */
	if (p->o.domid < 0 && !p->o.sim) {
		if (xen_present()) {
			errx_("this machine runs Xen: give --domid N (or --sim for "
			      "a simulated guest)");
			return 2;
		}
		p->o.sim = true;
	}
	if (p->o.follow_xenstore && (p->o.sim || p->o.sim_socket)) {
		errx_("--follow-xenstore needs a real Xen guest (--domid)");
		return 2;
	}
	if (p->o.sim) {
		rc = sim_target_start(p);
		if (rc < 0)
			goto out_sim;
	} else {
		p->domid = (uint32_t)p->o.domid;
		if (p->o.sim_socket) {
			rc = sim_target_connect(p);
			if (rc < 0)
				goto out_sim;
		}
	}
	if (!p->o.store_path) {
		store_alloc_path = default_store(p);
		p->o.store_path = store_alloc_path;
		if (!p->o.store_path) {
			errx_("out of memory");
			goto out_sim;
		}
	}

	/* A store left by a pager of this domain means it died: its ring
	 * is ours to take over (unless that pager still holds the store). */
	{
		char ipath[PATH_MAX];

		snprintf(ipath, sizeof(ipath), "%s.index", p->o.store_path);
		existing = file_exists(p->o.store_path) || file_exists(ipath);
	}
	if (existing && sim_target_own_guest(p)) {
		errx_("store %s already exists, and the guest this pager just "
		      "created cannot have pages in it: remove it, or use "
		      "another --store", p->o.store_path);
		goto out_sim;
	}
	if (existing && !sim_target_own_guest(p)) {
		/* Refuse a store that is in use or another domain's before
		 * touching the domain's paging ring. */
		uint32_t sdom = 0;

		rc = store_probe(p->o.store_path, &sdom, err, sizeof(err));
		if (rc == -EBUSY || rc == -EBADMSG) {
			errx_("%s", err);
			goto out_sim;
		}
		if (rc == 0 && sdom != p->domid) {
			errx_("store %s belongs to another domain (domain %u), "
			      "not to domain %u: refusing to serve its pages to "
			      "this guest", p->o.store_path, sdom, p->domid);
			goto out_sim;
		}
	}
	/* A store nobody holds (store_probe found no live owner) is a dead
	 * pager's: a ring still on the domain is taken over (a domain
	 * without one is simply attached). */
	oo = XPAGE_OPTS(xpage_open_opts, .domid = p->domid,
			.backend = (p->o.sim || p->o.sim_socket) ?
				   XPAGE_BACKEND_SIM : XPAGE_BACKEND_AUTO,
			.sim_socket = sim_target_socket(p),
			.ages = XPAGE_AGES_ALL,
			/* Re-attaching: the domain stays paused until every
			 * adopted page is back (pagein_adopted). */
			.flags = (p->o.takeover || existing) ?
				 XPAGE_OPEN_TAKEOVER | XPAGE_OPEN_KEEP_PAUSED : 0,
			.features_wanted = XPAGE_FEAT_ALL,
			.log_fn = lib_log, .log_level = XPAGE_LOG_DEBUG);
	cbs.user = p;
	p->xp = xpage_open(&oo, &cbs);
	if (!p->xp) {
		explain_open_error(p, errno);
		goto out_sim;
	}
	dbg(p, "domain %u opened", p->domid);
	p->info = (struct xpage_info){ .sz = sizeof(p->info) };
	xpage_get_info(p->xp, &p->info);
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

	/* The store. */
	id = (struct store_identity){ .domid = p->domid, .nr_gfns = p->nr_gfns };
	reattached = store_open(p->o.store_path, &id, !sim_target_own_guest(p),
				&p->store, &rec, err, sizeof(err));
	if (reattached < 0) {
		errx_("%s", err);
		if (p->info.took_over)
			warnx_("the paging ring was taken over; pages the dead "
			       "pager evicted cannot be served without its store");
		goto out_xp;
	}
	dbg(p, "store %s open", p->o.store_path);

	/* Per-gfn state and the policy. */
	p->gfl = calloc(p->nr_gfns ? p->nr_gfns : 1, 1);
	p->slot = malloc((p->nr_gfns ? p->nr_gfns : 1) * sizeof(*p->slot));
	pp = (struct policy_params){ .nr_gfns = p->nr_gfns,
				     .recent_s = p->o.recent_s,
				     .ram = p->ram, .nram = p->nram };
	p->pol = policy_create(NULL, &pp);
	if (!p->gfl || !p->slot || !p->pol || pageout_init(p) < 0) {
		errx_("out of memory for %llu gfns",
		      (unsigned long long)p->nr_gfns);
		goto out_store;
	}
	memset(p->slot, 0xff, p->nr_gfns * sizeof(*p->slot));

	if (p->o.follow_xenstore) {
		rc = xen_target_follow(p);
		if (rc < 0)
			goto out_store;
		have_xs = true;
	} else {
		p->target = (uint64_t)p->o.target_pages;
		if (p->target > p->guest_pages)
			p->target = p->guest_pages;
	}
	if (reattached == 1) {
		rc = pagein_reattach(p, &rec);
		store_recovery_free(&rec);
		if (rc < 0) {
			errx_("re-attaching: %s", xpage_strerror(rc));
			goto out_store;
		}
		rc = pagein_adopted(p);
		if (rc < 0) {
			errx_("loading the adopted pages: %s",
			      xpage_strerror(rc));
			goto out_store;
		}
	}
	/* Held since the open when re-attaching (-EALREADY otherwise). */
	rc = xpage_unpause(p->xp);
	if (rc < 0 && rc != -EALREADY) {
		errx_("unpausing domain %u: %s", p->domid, xpage_strerror(rc));
		goto out_store;
	}
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

	/* Run, then bring everything back. */
	rc = run(p, sigfd);
	if (rc == -ESHUTDOWN || rc == -ESRCH) {
		errx_("domain %u is gone (it crashed or was destroyed, or paging "
		      "was disabled under this pager)", p->domid);
		domain_gone = true;
		p->exit_code = 1;
	} else if (rc < 0) {
		errx_("stopping after an error: %s", xpage_strerror(rc));
		p->exit_code = 1;
	}
	if (!domain_gone) {
		rc = drain(p);
		if (rc < 0) {
			errx_("paging back in failed: %s; %llu pages stay in the "
			      "store %s (start the pager again with it)",
			      xpage_strerror(rc), (unsigned long long)p->nr_out,
			      p->o.store_path);
			p->exit_code = 1;
		}
	}
	xpage_get_stats(p->xp, &xs);
	if ((p->nr_out || p->evict_unknown) && !domain_gone) {
		/* never leave the guest with pages and no pager */
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
	report_final(p, &xs);
	sim_target_finish(p, &orc);
	if (orc.have && (orc.lost || orc.corrupted || orc.stuck || orc.crashed))
		p->exit_code = 1;
	if (p->o.stats_json && report_json(p, p->o.stats_json, &xs, &orc) < 0)
		p->exit_code = 1;
	if (have_xs)
		xen_target_fini(p);
	store_close(p->store, !p->o.keep_store && !p->nr_out &&
		    !p->evict_unknown);
	p->pol->ops->destroy(p->pol);
	pageout_fini(p);
	free(p->gfl);
	free(p->slot);
	free(p->ram);
	free(p->q);
	free(p->io_buf);
	free(p->stuck);
	free(p->st.lat.us);
	free(store_alloc_path);
	close(sigfd);
	return p->exit_code;

out_store:
	store_recovery_free(&rec);
	store_close(p->store, reattached == 0);
	if (p->pol)
		p->pol->ops->destroy(p->pol);
	pageout_fini(p);
	free(p->gfl);
	free(p->slot);
out_xp:
	free(p->ram);
	xpage_close(p->xp);
out_sim:
	sim_target_finish(p, NULL);
	free(store_alloc_path);
	close(sigfd);
	return 2;
}
