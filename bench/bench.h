/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-bench: what libxpage costs, measured on the simulated hypervisor
 * (xpage-simd) and on an in-process fake ring.
 *
 * Files, by concern:
 *   main.c      options, the order of the measurements, table and JSON
 *   util.c      clocks, statistics, the simulated guest and the store
 *   pageout.c   batch vs per-page (xenpaging-style) page-out, raw write
 *   pagein.c    page-in latency (fault -> vCPU resumed), bare round trip
 *   dispatch.c  library cost per ring event, per generation (fake ring)
 *   memory.c    bytes per gfn: libxpage's state table, the example
 *               pager's index, Xen's in-tree pager
 *   scaling.c   page-out rate and page-in latency from 256 MiB to 16 GiB
 *   compress.c  lz4 and zstd on text, code, random and mixed pages
 *   tiers.c     the pager's store alone: page-out and page-in per tier
 *   victims.c   page-ins per million guest accesses per victim policy
 *               and workload, with and without prefetch (the batch pager)
 */
#ifndef XPAGE_BENCH_H
#define XPAGE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xpage/sim.h>
#include <xpage/xpage.h>

#define PAGE XPAGE_PAGE_SIZE
#define MIB_PAGES (1024u * 1024u / PAGE)

/* ------------------------------------------------------------ util.c */

uint64_t now_ns(void);
/* Print to stderr and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* die() and fatal signals stop the simulator with this pid first. */
void bench_own_sim(int pid);
/* Progress on stderr unless --quiet. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool bench_quiet;

/* Samples (doubles) and their order statistics. */
struct samples {
	double *v;
	size_t n, cap;
};
void samples_add(struct samples *s, double x);
void samples_reset(struct samples *s);
void samples_free(struct samples *s);
/* pct in [0, 100]; sorts in place; 0 when empty. */
double samples_pct(struct samples *s, double pct);
double samples_max(const struct samples *s);
double median3(double *v, size_t n); /* median of n values (sorts them) */

/* A simulator and one guest with a pager handle on it, and a store file
 * of 4 KiB slots for the pages it evicts. */
struct bguest {
	xpage_sim_t *sim;        /* control connection (one thread) */
	uint32_t domid;
	uint64_t pages;          /* guest RAM pages */
	xpage_t *xp;
	struct xpage_callbacks cbs;
	/* store */
	int fd;
	char *path;
	uint64_t next_slot;
	uint32_t *slot_of;       /* per gfn: slot + 1, 0 when not stored */
	size_t slot_of_len;      /* bytes mapped */
	/* page-in service (pagein.c sets these) */
	void *pagein;
};

struct bench_env {
	xpage_sim_t *sim;
	const char *store_dir;
	const char *simd;
	bool quick;
	unsigned seq;            /* store file names */
	unsigned sizes[8];       /* page-out batch sizes to try */
	unsigned nsizes;
	bool no_naive;           /* skip the per-page loop (--sizes without 0) */
	unsigned reps;           /* page-out repetitions (0: default) */
	bool no_warm;            /* --no-warm-mem */
	const char *pager;       /* xpage-batch-pager (victims.c) */
};

/* Create a guest (@lazy: unmaterialised pages) with one vCPU and open a
 * libxpage handle on it with @cbs (populate required). Exits on error. */
void bguest_open(struct bench_env *env, struct bguest *g, uint64_t pages,
		 bool lazy, const struct xpage_callbacks *cbs);
void bguest_close(struct bench_env *env, struct bguest *g);
/* A new store file in env->store_dir. */
void bguest_store_new(struct bench_env *env, struct bguest *g);
/* Touch up to @mib MiB of anonymous memory (no more than a third of what
 * is available) and free it; returns MiB touched. In a VM whose RAM the
 * host backs on first touch, memory the kernel never used costs a host
 * fault per page; freed pages are handed out again first, so warming just
 * before a timed section keeps that cost out of it. */
uint64_t warm_memory(uint64_t mib);
/* CPU time (ns) used by this process, and by every thread of @pid. */
uint64_t cpu_ns_self(void);
uint64_t cpu_ns_pid(int pid);
/* Bytes of RSS of this process (from /proc/self/statm). */
uint64_t rss_bytes(void);
/* The filesystem type of a path, for the report ("ext4", "tmpfs"...). */
const char *fs_type(const char *path);

/* --------------------------------------------------------- pageout.c */

/* Page out gfns [first, first + n) in batches of @batch (nominate, map,
 * one vectored write, unmap, evict), or one page at a time the way Xen's
 * in-tree pager does when @batch is 0. @pipelined: a second thread writes
 * each batch while this one evicts the previous batch and maps the next
 * (only this thread uses the handle). Returns pages evicted; *ns the time
 * taken. */
uint64_t pageout_run(struct bguest *g, uint64_t first, uint64_t n,
		     unsigned batch, bool pipelined, uint64_t *ns);
/* Same, for a list of runs of @run contiguous gfns starting at starts[]. */
uint64_t pageout_runs(struct bguest *g, const uint64_t *starts, size_t nruns,
		      uint64_t run, unsigned batch, bool pipelined,
		      uint64_t *ns);
void pageout_stop_writer(void);
/* Sequential write of @pages pages to a fresh file next to the store, in
 * writes of @chunk pages; returns ns. */
uint64_t raw_write(struct bench_env *env, uint64_t pages, unsigned chunk);

struct pageout_result {
	unsigned sizes[8];
	double pps[8];           /* median pages/s per batch size, serial */
	double pps_pipe[8];      /* the same, pipelined */
	double serial_pps, pipe_pps;
	unsigned serial_batch, pipe_batch;
	bool pipelined;          /* batch_pps / best_batch are the pipelined */
	unsigned nsizes;
	unsigned best_batch;
	double raw_by_size[8];    /* median raw pages/s in writes of sizes[i] */
	double batch_pps, naive_pps, raw_pps; /* raw: the best write size */
	unsigned raw_chunk;
	uint64_t pages;          /* per measurement */
	uint64_t naive_pages;
	unsigned reps;
	uint64_t failures;       /* pages not evicted (should be 0) */
};
/* With @pageout_skip_zero the batch path finds zero pages as the batch
 * pager does and writes only the others; pageout_bytes and
 * pageout_zero_pages count what the batch path wrote and skipped. */
extern bool pageout_skip_zero;
extern uint64_t pageout_bytes, pageout_zero_pages;
/* --phases: time each step of the batch path and print it per page. */
extern bool pageout_phases;
void pageout_phases_print(void);
/* Guest pages pageout_bench() needs. */
uint64_t pageout_pages_needed(const struct bench_env *env);
/* The whole comparison on @g (a materialised guest big enough for
 * (nsizes + 1) * reps * pages). */
void pageout_bench(struct bench_env *env, struct bguest *g,
		   struct pageout_result *r);

/* ---------------------------------------------------------- pagein.c */

/* Callbacks serving populates from the store (pagein.c). */
extern const struct xpage_callbacks pagein_callbacks;

struct lat_result {
	double p50, p99, max;    /* page-in, us */
	double read_p50, read_p99; /* store read inside it, us */
	double confirmed_p50, confirmed_p99; /* until a touch by the vCPU completed */
	size_t n;
};
/* Page-in latency over @n gfns from @gfns (evicted, in the store): the
 * guest's vCPU 0 touches each; a pager thread serves it. @cold: the
 * store's page cache is dropped before each fault. */
void pagein_latency(struct bench_env *env, struct bguest *g,
		    const uint64_t *gfns, size_t n, bool cold,
		    struct lat_result *r);
/* ns of one xpage_dispatch(0) with nothing on the ring (best of 5). */
double dispatch_idle_ns(struct bguest *g, unsigned n);
/* Round trip of SIMP_XEN_VERSION on a raw connection attached to @domid:
 * p50 and p99 in us, back to back; and p50 after 1 ms idle. */
void bare_roundtrip(struct bench_env *env, uint32_t domid, unsigned n,
		    double *p50, double *p99, double *idle_p50);

/* -------------------------------------------------------- dispatch.c */

struct dispatch_gen {
	int generation;
	const char *name;
	double ns_per_event;     /* min over repetitions */
	double ns_median;
	double decode_ns;        /* the codec alone */
	double producer_ns;      /* the fake hypervisor's share (included) */
};
/* Fills up to @max entries; returns how many. */
size_t dispatch_bench(bool quick, struct dispatch_gen *out, size_t max);

/* ---------------------------------------------------------- memory.c */

struct mem_point {
	uint64_t guest_mib;
	uint64_t gfns;
	double state_bytes_per_gfn;     /* per-gfn part of the state table */
	double state_total_per_gfn;     /* with the in-flight table */
	double state_rss_per_gfn;       /* resident after paging out */
	double index_bytes_per_gfn;     /* example pager's gfn index */
	double xenpaging_bytes_per_gfn; /* Xen's in-tree pager */
};
struct mem_result {
	struct mem_point pt[4];
	unsigned n;
	double pager_policy_bytes_per_gfn;
	double pager_disk_bytes_per_page;
};
void memory_bench(struct bench_env *env, struct mem_result *r);

/* ------------------------------------------------------------ zero.c */

struct zero_result {
	unsigned pct[2];         /* share of zero pages: 0 and 30 % */
	double pps[2];           /* median page-out pages/s */
	double bytes_per_page[2];/* median bytes written per page out */
	double zero_share[2];    /* zero pages found / pages out */
	uint64_t pages;          /* per run */
	unsigned batch, reps;
};
/* Page-out of a guest with 30 % zero pages and of one with none, runs
 * interleaved, with the batch pager's zero-page detection. */
void zero_bench(struct bench_env *env, struct zero_result *r);

/* -------------------------------------------------------- compress.c */

#define COMP_CORPORA 4
#define COMP_CODECS 5
struct comp_result {
	const char *corpus[COMP_CORPORA];
	const char *codec[COMP_CODECS];    /* "lz4 1", "zstd -1" ... */
	double ratio[COMP_CORPORA][COMP_CODECS];  /* 4096 / compressed */
	double stored[COMP_CORPORA][COMP_CODECS]; /* 4096 / bytes stored:
		* raw where it does not fit in 3584, 512-byte units */
	double comp_us[COMP_CORPORA][COMP_CODECS];   /* per page, best run */
	double decomp_us[COMP_CORPORA][COMP_CODECS];
	unsigned pages, reps;
};
/* lz4 and zstd on text-like, code, random and mixed pages, one page per
 * call as the batch pager's store compresses them. */
void compress_bench(struct bench_env *env, struct comp_result *r);
/* Page @i of @kind (0 text, 1 code, 2 random, 3 mixed) into @p. */
void comp_make_page(unsigned kind, unsigned i, uint8_t *p);

/* ----------------------------------------------------------- tiers.c */

#define TIER_ROWS 7
#define TIER_PAGES 16384u
#define TIER_READS 2000u
#define MAX_TIER_REPS 9
struct tier_row {
	const char *pages, *codec;
	double pps, raw_pps;      /* page-out, and the raw write beside it */
	double bytes_per_page;    /* written per page out */
	double ratio;             /* data pages' bytes / bytes written */
	double zero_share;        /* zero pages / pages out */
};
struct tier_result {
	struct tier_row row[TIER_ROWS];
	uint64_t pages;
	unsigned reps;
	/* one page's read, p50 us: the RAM tier, the file (page cache),
	 * a plain pread; raw pages, then lz4 text pages */
	double in_ram_p50, in_file_p50, in_pread_p50;
	double in_ram_lz4_p50, in_file_lz4_p50;
};
/* The batch pager's store on its own: page-out per codec against a raw
 * write, page-in from the RAM tier and the file. */
void tiers_bench(struct bench_env *env, struct tier_result *r);

/* --------------------------------------------------------- scaling.c */

struct scale_point {
	uint64_t guest_mib;
	uint64_t pages_out;
	double pageout_pps;
	double pagein_p50, pagein_p99;
	double state_bytes_per_gfn;
};
struct scale_result {
	struct scale_point pt[8];
	unsigned n;
	unsigned batch;
	bool pipelined;
};
void scaling_bench(struct bench_env *env, unsigned batch, bool pipelined,
		   struct scale_result *r);

/* --------------------------------------------------------- victims.c */

#define VICTIM_WORKLOADS 4
#define VICTIM_POLICIES 3
#define VICTIM_REPS_MAX 9

struct victim_workload {
	const char *name, *what;
	uint32_t pattern, write_pct, hot_set_pct, hot_pct;
	uint64_t accesses;       /* the window (as many to warm up before) */
};
extern const struct victim_workload victim_workloads[VICTIM_WORKLOADS];
extern const char *const victim_policies[VICTIM_POLICIES];

struct victim_run {
	uint64_t accesses, faults;   /* in the window */
	double per_million;
	double scan_us;              /* logdirty: CPU per scan, else -1 */
	double choose_ms_per_batch;  /* the policy's choice, per batch */
	double prefetched, prefetch_used, blind_spot;
};
struct victim_cell {
	struct victim_run med;       /* the median run */
	double lo, hi;               /* lowest and highest page-ins/M */
};
struct victims_result {
	/* [workload][policy][prefetch off, on] */
	struct victim_cell cell[VICTIM_WORKLOADS][VICTIM_POLICIES][2];
	unsigned reps, scale;
};
/* Every workload, policy and prefetch setting (env->pager runs them on
 * env->sim); --reps repetitions (default 3, quick 1). */
void victims_bench(struct bench_env *env, struct victims_result *r);

#endif
