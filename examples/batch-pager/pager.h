/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-batch-pager: state shared by its files.
 *
 *   main.c        the lifecycle (attach, store, run, drain, leave, report)
 *                 and the event loop
 *   options.c     the command line
 *   util.c        clock, messages, the crash-test hook, growing arrays
 *   store.c       the store file, its slot allocator and the crash-safe
 *                 index (store.h)
 *   store_crc.c   the index's crc32, the data's crc32c
 *   store_alloc.c, store_io.c, store_compress.c, store_ram.c
 *                 the store's slots, its data, compression, RAM tier
 *   policy.c      victim choice, pluggable (policy.h): the clock
 *   ram_hand.c    the hand the clock and logdirty sweep RAM with
 *   policy_random.c   random victims, as Xen's xenpaging chooses
 *   policy_logdirty.c victims the guest has not written for K scans
 *   pageout.c     the page-out batch: nominate, map, write, sync, evict
 *   zero.c        zero pages: found while mapped, loaded without a read
 *   pagein.c      populate handling (coalesced), the drain, re-attach
 *   prefetch.c    page-in prefetch for guests walking memory in order
 *   report.c      progress line, final report, JSON statistics
 *   sim_target.c  the simulated guest (--sim, --sim-socket)
 *   xen_target.c  following xenstore's memory/target-tot_pages
 *   control.c     the control channel: relocation requests (control.h)
 */
#ifndef BATCH_PAGER_H
#define BATCH_PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xpage/xpage.h>

#include "policy.h"
#include "prefetch.h"
#include "store.h"

/* Per-gfn flags, the pager's own view (pager.gfl[gfn]). */
#define GF_OUT      0x01u /* contents in the store (slot in pager.slot) */
#define GF_BATCH    0x02u /* in the page-out batch being processed */
#define GF_SPOILED  0x04u /* touched or released during its batch */
#define GF_QUEUED   0x08u /* a populate for it waits in the page-in queue */
#define GF_RETRY    0x10u /* written and indexed, evict refused: retried */
#define GF_ADOPTED  0x20u /* held since a previous pager (re-attach) */
#define GF_ZERO     0x40u /* all zero: no slot, a ZERO record (zero.h) */
#define GF_STUCK    0x80u /* a dead pager may have left it nominated: its
			   * slot and record stay until it is paged out
			   * again or resident (pageout_stuck) */
#define GF_CORRUPT 0x100u /* its slot failed its check (store_read): never
			   * loaded, it stays out with its record */

/* One queued page-in (a populate callback, served after dispatch). */
struct pagein_req {
	uint64_t gfn;
	uint64_t t_ns; /* when the populate was seen */
};

/* One gfn to load: its slot, and its page-in queue index (UINT32_MAX:
 * none, a bulk or prefetch load). */
struct ld {
	uint64_t gfn;
	uint32_t slot;
	uint32_t qi;
	bool ram;      /* load_set(): read from the RAM tier */
};

/* Page-in latency samples (reservoir when there are too many). */
struct lat_samples {
	uint32_t *us;
	size_t n, cap;
	uint64_t seen;
	uint64_t rng;
};

/* The steps of a page-out batch, timed (pageout.c, --stats-json). */
enum pageout_step {
	PO_CHOOSE, PO_NOMINATE, PO_SETTLE, PO_MAP, PO_WRITE, PO_UNMAP,
	PO_EVICT, PO_STEPS
};
extern const char *const pageout_step_names[PO_STEPS];

struct pager_stats {
	uint64_t pages_out;      /* evictions that succeeded */
	uint64_t zero_pages_out; /* of them, zero pages (no data written) */
	uint64_t pages_in;       /* pages loaded back (demand + drain) */
	uint64_t pages_in_demand;
	uint64_t pages_in_drain;
	uint64_t pages_in_prefetch; /* loaded ahead (prefetch.h) */
	uint64_t evict_fail;     /* evict_fail notices for our gfns */
	uint64_t evict_fail_before_io; /* ... learned before the write */
	uint64_t drops;
	uint64_t nominate_fail;
	uint64_t evict_refused;  /* evict returned an error */
	uint64_t code_chosen;    /* victims that were code (--page-code) */
	uint64_t io_bytes_written;
	uint64_t io_bytes_read;
	uint64_t batches;
	uint64_t pageout_ns;     /* time spent in page-out batches */
	uint64_t step_ns[PO_STEPS]; /* of it, per step (pageout.c) */
	/* The first BATCH_TRACE batches: when each started (ms since the
	 * first), the pages out before it, its size and each step's time
	 * (us): where a page-out's time goes, batch by batch. */
#define BATCH_TRACE 32
	struct batch_trace {
		uint32_t at_ms, out_before, n;
		uint32_t step_us[PO_STEPS];
	} trace[BATCH_TRACE];
	uint32_t traced;
	uint64_t trace_t0;
	uint64_t adopted;        /* gfns taken over from a previous run */
	uint64_t recovered_free; /* records found stale at re-attach */
	uint64_t unstuck;        /* gfns a dead pager left nominated */
	uint64_t relocated;      /* gfns moved for the control channel */
	uint64_t corrupt_records; /* pages refused: data failed its crc32c */
	double target_reached_s; /* < 0: never */
	double drain_s;
	struct lat_samples lat;
	struct lat_samples lat_ram, lat_file; /* of them, read from each */
};

struct sim_target;
struct xen_target;

struct pager_opts {
	int64_t domid;           /* -1: none given */
	bool sim;                /* start our own simulator and guest */
	const char *sim_socket;  /* attach to a running simulator */
	uint64_t guest_mib;
	uint32_t vcpus;
	const char *personality;
	const char *pattern;
	uint32_t write_pct, hot_set_pct, hot_pct, think_us, release_pm;
	uint32_t zero_pct;       /* RAM pages made all zero at the start */
	bool text;               /* --text: text-like page contents */
	uint64_t seed;
	bool no_workload;
	int64_t target_pages;    /* -1: not given */
	bool follow_xenstore;
	uint32_t batch;
	const char *store_path;
	bool keep_store;
	bool takeover;
	double duration_s;       /* <= 0: until a signal */
	const char *stats_json;
	uint32_t recent_s;
	const char *policy;      /* --policy; NULL: logdirty if it can be had */
	uint32_t scan_ms;        /* log-dirty scan period */
	uint32_t idle_scans;     /* K: victims unwritten for K scans */
	uint32_t settle_ms;      /* wait between nominate and map */
	enum store_enc compress; /* --compress */
	uint32_t ram_tier_mib;   /* --ram-tier-mib */
	uint32_t prefetch;       /* gfns loaded ahead of a walk, 0: off */
	bool page_code;          /* victims among the guest's code too */
	int progress;            /* -1 auto (a terminal), 0 off, 1 on */
	int verbose;
	const char *sim_log;
	const char *control_path; /* --control; NULL: the default */
	bool no_control;          /* --no-control */
};

struct pager {
	struct pager_opts o;
	xpage_t *xp;
	struct xpage_info info;
	char xen_library[64];      /* info.xen_library, kept past the close */
	uint32_t domid;
	uint64_t nr_gfns;
	uint64_t guest_pages;    /* RAM pages, for the resident count */
	struct xpage_gfn_range *ram; /* the guest's RAM; NULL: not known */
	size_t nram;

	struct store *store;
	struct policy *pol;
	uint16_t *gfl;           /* GF_* per gfn */
	uint32_t *slot;          /* slot per gfn while GF_OUT / GF_RETRY
				  * (STORE_NO_SLOT for a GF_ZERO page) */
	uint64_t nr_out;         /* gfns with GF_OUT */
	uint64_t nr_corrupt;     /* of them, GF_CORRUPT: not loadable */

	/* target: resident pages wanted (UINT64_MAX: no target) */
	uint64_t target;
	bool target_reached;
	bool store_full;         /* page-out stopped: the store's disk */
	bool pageout_stopped;    /* page-out stopped for an error */
	int exit_code;           /* 0, or 1 after a run-time error */

	/* page-out batch in progress (pageout.c) */
	uint64_t *b_gfn;
	uint32_t *b_slot;
	int *b_st;
	void **b_buf;            /* the mapped pages to write */
	uint64_t *b_wgfn;        /* their gfns ... */
	uint32_t *b_wslot;       /* ... and slots */
	uint64_t *b_zgfn;        /* the mapped pages found all zero */
	size_t b_nz;
	uint32_t *b_hint;        /* xpage_gfn_hints() of the chosen gfns */
	size_t b_cap;

	/* evicts refused: retried in later rounds (pageout.c) */
	uint64_t *retry;
	uint32_t *retry_tries;
	size_t nretry, cap_retry;

	/* page-in queue (pagein.c) */
	struct pagein_req *q;
	size_t nq, cap_q;
	uint8_t *io_buf;         /* pages for reads */
	size_t io_cap;
	struct prefetch pf;

	/* gfns a dead pager may have left nominated (GF_STUCK) */
	uint64_t *stuck;
	size_t nstuck, cap_stuck;

	struct sim_target *sim;
	struct xen_target *xen;
	struct control *ctl;     /* control.c: NULL when there is none */

	uint64_t t0_ns;
	struct pager_stats st;
	bool tty;
	bool draining;
	bool evict_unknown;      /* an evict failed as a whole: which gfns
				  * went out is unknown, the store is kept */
};

/* ------------------------------------------------------------------ */

/* options.c: fill @o from the command line; 0, or -1 (said why). */
int parse_options(struct pager_opts *o, int argc, char **argv);

/* util.c */
uint64_t now_ns(void);
/* Messages from now on at @level (pager_opts.verbose); @p's progress
 * line is cleared before each. */
void messages_init(struct pager *p, int level);
/* The library's log function: warnings and errors, all with -v. */
void lib_log(void *ctx, int level, const char *msg);
/* Printing: errors always, info unless quiet, debug with -v. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void errx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dbg(const struct pager *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Test hook: XPAGE_BATCH_PAGER_CRASH=point[:n] kills the pager with
 * SIGKILL the n-th time (default 1st) it reaches @point. */
void crash_point(const char *point);

/* Grow an array of @elem-byte items to hold @need; 0 or -ENOMEM. */
int grow(void *arrp, size_t *cap, size_t need, size_t elem);

/* The resident pages the pager counts (guest RAM minus pages out). */
static inline uint64_t pager_resident(const struct pager *p)
{
	return p->guest_pages > p->nr_out ? p->guest_pages - p->nr_out : 0;
}

/* pageout.c */
int pageout_init(struct pager *p);
void pageout_fini(struct pager *p);
/* One batch toward the target. Returns the gfns it evicted (>= 0), or a
 * negative errno when the domain or the connection is gone. */
int pageout_batch(struct pager *p);
/* Retry evicts the hypervisor refused; 0 or a fatal negative errno. */
int pageout_retry(struct pager *p, bool final);
/* Callbacks' share: a batch gfn was touched or released. */
void pageout_spoil(struct pager *p, uint64_t gfn);
/* Free a gfn's store slot (it is resident or gone). */
void pager_release_slot(struct pager *p, uint64_t gfn);
/* A gfn a dead pager may have left nominated: held (GF_STUCK). */
void pager_hold_stuck(struct pager *p, uint64_t gfn);
/* Finish the stuck gfns as a page-out (see pageout.c). 0 or a negative
 * fatal errno. */
int pageout_stuck(struct pager *p);

/* pagein.c */
extern const struct xpage_callbacks pager_callbacks_template;
/* Serve every queued populate. Returns pages loaded, or negative fatal. */
int pagein_serve(struct pager *p);
/* Page in up to @max gfns (0: all) that are out, for a raised target
 * or the drain. Returns pages loaded or a negative fatal errno. */
int pagein_bulk(struct pager *p, uint64_t max, bool progress);
/* After xpage_open: take over what the store's index says. */
int pagein_reattach(struct pager *p, const struct store_recovery *rec);
/* Right after re-attach: load every adopted page (see pagein.c). Returns
 * pages loaded or a negative fatal errno. */
int pagein_adopted(struct pager *p);
/* The stuck gfns, then every page out, back in (the drain, and after
 * re-attach). Returns pages loaded or a negative fatal errno. */
int pagein_everything(struct pager *p, bool progress);
void lat_add(struct lat_samples *l, uint32_t us);
uint32_t lat_pct(struct lat_samples *l, double pct);

/* report.c */
void report_progress(struct pager *p, bool force);
void report_progress_end(struct pager *p);
void report_final(struct pager *p, const struct xpage_stats *xs);
struct oracle_result {
	bool have;
	uint64_t lost, corrupted, stuck, paged, nominated;
	uint64_t accesses, faults; /* the workload's, and those that paused */
	uint32_t crashed;
};
int report_json(struct pager *p, const char *path, const struct xpage_stats *xs,
		const struct oracle_result *orc);

/* sim_target.c */
int sim_target_start(struct pager *p);       /* --sim */
int sim_target_connect(struct pager *p);     /* --sim-socket */
const char *sim_target_socket(const struct pager *p);
uint64_t sim_target_guest_pages(struct pager *p);
/* Stop the workload, ask the oracle (FINAL), destroy what we created. */
void sim_target_finish(struct pager *p, struct oracle_result *orc);
bool sim_target_own_guest(const struct pager *p);
/* The hypervisor's view, for checks at exit (sim only). */
bool sim_target_have(const struct pager *p);

/* xen_target.c (built without xenstore, --follow-xenstore is refused
 * with a clear error and the rest answers "no Xen target") */
bool xen_present(void);
int xen_target_follow(struct pager *p);      /* --follow-xenstore */
int xen_target_fd(const struct pager *p);    /* -1 if none */
void xen_target_event(struct pager *p);      /* the fd is readable */
void xen_target_fini(struct pager *p);
/* The guest's RAM in pages from xenstore's memory/target, or 0. */
uint64_t xen_guest_pages(uint32_t domid);

/* control.c: the control channel (control.h). open: after the domain
 * is attached (none when off, said when it cannot be had); pollfds: the
 * fds to poll into @pf (at most @max), how many; serve: accept, read,
 * and run what was asked or is to be retried (after each batch). */
struct pollfd;
void control_open(struct pager *p);
int control_pollfds(const struct pager *p, struct pollfd *pf, int max);
void control_serve(struct pager *p);
void control_close(struct pager *p);

#endif
