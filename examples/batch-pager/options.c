/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-batch-pager: its command line. Numeric options are one table
 * (their range and the field they set); parse_options() also refuses
 * the combinations that make no sense.
 */
#include "pager.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Prefetch on by default: it acts only on faults that walk memory in
 * order, so a guest that does not walk pays nothing (xpage-bench,
 * section "victims": page-ins of uniform and hot-set workloads with and
 * without it), and one that does saves most of its page-ins. 16 pages,
 * 64 KiB, is one more run of the same read per fault.
 */
#define DEFAULT_PREFETCH 16u

static const char *prog = "xpage-batch-pager";

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
"  --pattern P            workload: hotcold, uniform, sequential or zipf (hotcold)\n"
"  --write-pct N          share of writes (20)\n"
"  --hot-set-pct N        hot set size, %% of the guest (10)\n"
"  --hot-pct N            accesses going to the hot set (90)\n"
"  --think-us N           pause between accesses of a vCPU (200)\n"
"  --release-pm N         accesses that balloon a page out, per mille (0)\n"
"  --seed N               contents and workload seed (1)\n"
"  --zero-pct N           RAM pages that start all zero, %% (0)\n"
"  --text                 text-like page contents (compressible) instead of\n"
"                         random bytes\n"
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
"  --compress CODEC       store pages compressed: lz4, zstd or none (none)\n"
"  --ram-tier-mib N       keep copies of the newest pages out in N MiB of\n"
"                         memory, read at page-in instead of the file (0)\n"
"  --takeover             take over a paging ring left by a pager that died\n"
"  --duration SECONDS     page everything back in and exit after this long\n"
"  --stats-json PATH      write statistics as JSON\n"
"  --recent-s N           leave pages the guest paged in alone this long (30)\n"
"  --policy NAME          victims: logdirty (unwritten for --idle-scans scans\n"
"                         of the log-dirty bitmap; the clock when log-dirty\n"
"                         mode cannot be had), clock (default) or random\n"
"  --scan-ms N            log-dirty scan period (500)\n"
"  --idle-scans K         logdirty: victims unwritten for K scans (3)\n"
"  --settle-ms N          after nominating a batch, serve the guest this long\n"
"                         before writing it out: pages it still uses come\n"
"                         back at no I/O cost (0)\n"
"  --prefetch N           when the guest's faults walk memory in order, load\n"
"                         with a faulting page up to N pages after it that\n"
"                         went out with it, in the same batch (16; 0: off)\n"
"  --page-code            page out the code the guest runs too, its kernel's\n"
"                         and its processes' (left resident by default)\n"
"  --control PATH         serve relocation requests (xpage-offline) on this\n"
"                         Unix socket; default $XPAGE_CONTROL_DIR/domN.sock\n"
"                         ($XPAGE_CONTROL_DIR: /run/xpage; a simulated\n"
"                         guest has one only with this or the variable)\n"
"  --no-control           no control channel\n"
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
	O_VERSION, O_CODE, O_ZERO, O_POLICY, O_SCAN_MS, O_IDLE_SCANS,
	O_CONTROL, O_NOCONTROL, O_TEXT, O_COMPRESS, O_RAM_TIER, O_PREFETCH,
};

static const struct option longopts[] = {
	{ "domid", required_argument, NULL, O_DOMID },
	{ "sim", no_argument, NULL, O_SIM },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "no-control", no_argument, NULL, O_NOCONTROL },
	{ "text", no_argument, NULL, O_TEXT },
	{ "compress", required_argument, NULL, O_COMPRESS },
	{ "ram-tier-mib", required_argument, NULL, O_RAM_TIER },
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
	{ "zero-pct", required_argument, NULL, O_ZERO },
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
	{ "policy", required_argument, NULL, O_POLICY },
	{ "scan-ms", required_argument, NULL, O_SCAN_MS },
	{ "idle-scans", required_argument, NULL, O_IDLE_SCANS },
	{ "page-code", no_argument, NULL, O_CODE },
	{ "prefetch", required_argument, NULL, O_PREFETCH },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "no-progress", no_argument, NULL, O_NOPROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* A numeric option: its range, and the field it sets (times @scale). */
#define FIELD(f) offsetof(struct pager_opts, f), \
		 sizeof(((struct pager_opts *)0)->f)
static const struct num_opt {
	int id;
	uint64_t min, max, scale;
	size_t off, size;
} num_opts[] = {
	{ O_DOMID,     0, 0x7fef,           1,   FIELD(domid) },
	{ O_GUEST_MIB, 1, 1u << 20,         1,   FIELD(guest_mib) },
	{ O_VCPUS,     1, 128,              1,   FIELD(vcpus) },
	{ O_WRITE,     0, 100,              1,   FIELD(write_pct) },
	{ O_HOTSET,    1, 100,              1,   FIELD(hot_set_pct) },
	{ O_HOT,       0, 100,              1,   FIELD(hot_pct) },
	{ O_THINK,     0, 10000000,         1,   FIELD(think_us) },
	{ O_RELEASE,   0, 1000,             1,   FIELD(release_pm) },
	{ O_SEED,      0, UINT64_MAX,       1,   FIELD(seed) },
	{ O_ZERO,      0, 100,              1,   FIELD(zero_pct) },
	{ O_TMIB,      0, UINT64_MAX >> 20, 256, FIELD(target_pages) },
	{ O_TPAGES,    0, INT64_MAX,        1,   FIELD(target_pages) },
	{ O_BATCH,     1, 65536,            1,   FIELD(batch) },
	{ O_RECENT,    0, 86400,            1,   FIELD(recent_s) },
	{ O_SETTLE,    0, 10000,            1,   FIELD(settle_ms) },
	{ O_RAM_TIER,  0, 1u << 20,         1,   FIELD(ram_tier_mib) },
	{ O_SCAN_MS,   100, 600000,         1,   FIELD(scan_ms) },
	{ O_IDLE_SCANS, 0, 255,             1,   FIELD(idle_scans) },
	{ O_PREFETCH,  0, 256,              1,   FIELD(prefetch) },
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

/* Set a numeric option from @arg: true, or false after saying why. */
static bool set_num(struct pager_opts *o, const struct num_opt *no,
		    const char *arg)
{
	char name[40] = "--option";
	uint64_t v;

	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == no->id)
			snprintf(name, sizeof(name), "--%s", lo->name);
	if (!num(name, arg, no->min, no->max, &v))
		return false;
	v *= no->scale;
	if (no->size == sizeof(uint32_t)) {
		uint32_t w = (uint32_t)v;

		memcpy((char *)o + no->off, &w, sizeof(w));
	} else {
		memcpy((char *)o + no->off, &v, sizeof(v)); /* (u)int64_t */
	}
	return true;
}

static bool set_duration(struct pager_opts *o, const char *arg)
{
	char *end;

	errno = 0;
	o->duration_s = strtod(arg, &end);
	/* (!(x >= 0) also refuses NaN; a year is plenty) */
	if (errno || end == arg || *end || !(o->duration_s >= 0) ||
	    o->duration_s > 365.0 * 86400) {
		errx_("--duration %s: expected seconds, from 0 to 31536000", arg);
		return false;
	}
	return true;
}

/* Every option but the numeric ones: 0, -1 (bad), or exits (help,
 * version). */
static int set_other(struct pager_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_SIM: o->sim = true; break;
	case O_SIM_SOCKET: o->sim_socket = arg; break;
	case O_PERS: o->personality = arg; break;
	case O_PATTERN: o->pattern = arg; break;
	case O_NOWL: o->no_workload = true; break;
	case O_SIMLOG: o->sim_log = arg; break;
	case O_XS: o->follow_xenstore = true; break;
	case O_STORE: o->store_path = arg; break;
	case O_KEEP: o->keep_store = true; break;
	case O_TAKEOVER: o->takeover = true; break;
	case O_CODE: o->page_code = true; break;
	case O_CONTROL: o->control_path = arg; break;
	case O_NOCONTROL: o->no_control = true; break;
	case O_TEXT: o->text = true; break;
	case O_COMPRESS:
		if (compress_parse(arg, &o->compress) < 0) {
			errx_("--compress %s: use lz4, zstd or none", arg);
			return -1;
		}
		break;
	case O_DURATION: return set_duration(o, arg) ? 0 : -1;
	case O_JSON: o->stats_json = arg; break;
	case O_POLICY:
		if (!policy_find(arg)) {
			errx_("--policy %s: use one of %s", arg, policy_names());
			return -1;
		}
		o->policy = arg;
		break;
	case O_PROGRESS: o->progress = 1; break;
	case O_NOPROGRESS: o->progress = 0; break;
	case 'q': o->verbose = 0; break;
	case 'v': o->verbose = 2; break;
	case 'h': usage(stdout); exit(0);
	case O_VERSION:
		printf("xpage-batch-pager (libxpage %s)\n",
		       xpage_version_string());
		exit(0);
	default:
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The combinations that make no sense. */
static int check_combination(const struct pager_opts *o)
{
	const char *why = NULL;

	if (o->sim && o->sim_socket)
		why = "--sim starts a simulator; --sim-socket uses a running "
		      "one: give one of them";
	else if (o->sim && o->domid >= 0)
		why = "--sim creates its own guest: --domid is for a real guest "
		      "or, with --sim-socket, a simulated one";
	else if (o->sim_socket && o->domid < 0)
		why = "--sim-socket needs --domid (the simulated guest)";
	else if (o->follow_xenstore && o->target_pages >= 0)
		why = "give either --target-mib/--target-pages or "
		      "--follow-xenstore";
	else if (!o->follow_xenstore && o->target_pages < 0)
		why = "no target: give --target-mib N, --target-pages N or "
		      "--follow-xenstore";
	if (!why)
		return 0;
	errx_("%s", why);
	return -1;
}

int parse_options(struct pager_opts *o, int argc, char **argv)
{
	int c;

	*o = (struct pager_opts){
		.domid = -1, .guest_mib = 256, .vcpus = 2, .pattern = "hotcold",
		.write_pct = 20, .hot_set_pct = 10, .hot_pct = 90,
		.think_us = 200, .seed = 1, .target_pages = -1,
		.batch = DEFAULT_BATCH, .recent_s = 30, .scan_ms = 500,
		.idle_scans = 3, .prefetch = DEFAULT_PREFETCH, .progress = -1,
		.verbose = 1,
	};
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		const struct num_opt *no = NULL;

		for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++)
			if (num_opts[i].id == c)
				no = &num_opts[i];
		if (no ? !set_num(o, no, optarg) : set_other(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		errx_("unexpected argument: %s", argv[optind]);
		return -1;
	}
	return check_combination(o);
}
