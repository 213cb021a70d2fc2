/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-out: libxpage's batch path against a per-page loop written the way
 * Xen's in-tree pager (xenpaging) works, on the same library primitives,
 * and both against a raw sequential write of the same bytes to the same
 * filesystem (the limit for page-out).
 *
 * Batch path, per batch: xpage_nominate (one multicall), xpage_map (one
 * mapping call), one pwritev of the mapped pages into consecutive store
 * slots, xpage_unmap, xpage_dispatch(0) to learn of evict failures before
 * evicting, xpage_evict (one multicall).
 * Per-page path, per gfn: nominate one, map one, pwrite one page, unmap,
 * evict one -- xenpaging's evict_victim() / write_page() sequence.
 * Neither path syncs: the store is written into the page cache, as the
 * raw write is.
 */
#include "bench.h"
#include "zero.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_BATCH 4096u

/* One batch in flight: what its three stages share. */
struct job {
	uint64_t ok[MAX_BATCH], ev[MAX_BATCH];
	uint32_t sl[MAX_BATCH];
	int st[MAX_BATCH], st2[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	uint8_t *addr;
	size_t k, m, niov;
	uint64_t slot0;
	int state;              /* pipeline: J_FREE, J_WRITE, J_WRITTEN */
};
enum { J_FREE, J_WRITE, J_WRITTEN };

static uint64_t failures;

/* Time per step of the batch path (--phases; serial path only). */
enum { PH_NOMINATE, PH_MAP, PH_WRITE, PH_UNMAP, PH_DISPATCH, PH_EVICT, PH_N };
static const char *const ph_name[PH_N] = {
	"nominate", "map", "write", "unmap", "dispatch", "evict",
};
static uint64_t ph_ns[PH_N], ph_pages;
static bool ph_on;
bool pageout_phases;
bool pageout_skip_zero;
uint64_t pageout_bytes, pageout_zero_pages;

#define PH(i, stmt) do { \
	uint64_t t_ = ph_on ? now_ns() : 0; \
	stmt; \
	if (ph_on) \
		ph_ns[i] += now_ns() - t_; \
} while (0)

void pageout_phases_print(void)
{
	if (!ph_pages)
		return;
	printf("  batch path, ns per page:");
	for (int i = 0; i < PH_N; i++)
		printf(" %s %.0f", ph_name[i], (double)ph_ns[i] / (double)ph_pages);
	printf("\n");
	memset(ph_ns, 0, sizeof(ph_ns));
	ph_pages = 0;
}

/* Give back gfns that were nominated but will not be evicted. */
static void give_back(struct bguest *g, const uint64_t *gfns, size_t n)
{
	int st[MAX_BATCH];

	if (n)
		xpage_unnominate(g->xp, gfns, n, 0, st);
	failures += n;
}

/* Stage 1: nominate, map, and lay the mapped pages out on consecutive
 * store slots (one file range; one iovec per run of consecutive mapped
 * pages). 0 when nothing is left to write. */
static int stage_map(struct bguest *g, const uint64_t *gfns, size_t n,
		     struct job *j)
{
	size_t k = 0;
	int r;

	j->k = j->m = j->niov = 0;
	j->addr = NULL;
	PH(PH_NOMINATE, r = xpage_nominate(g->xp, gfns, n, 0, j->st));
	if (r < 0)
		die("xpage_nominate: %s", xpage_strerror(r));
	for (size_t i = 0; i < n; i++)
		if (j->st[i] == 0)
			j->ok[k++] = gfns[i];
	failures += n - k;
	if (!k)
		return 0;
	PH(PH_MAP, j->addr = xpage_map(g->xp, j->ok, k, 0, j->st));
	if (!j->addr) {
		give_back(g, j->ok, k);
		return 0;
	}
	j->k = k;
	j->slot0 = g->next_slot;
	for (size_t i = 0, nd = 0; i < k; i++) {
		uint8_t *pg = j->addr + i * PAGE;

		if (j->st[i])
			continue;
		j->ev[j->m] = j->ok[i];
		if (pageout_skip_zero && page_is_zero(pg)) {
			/* no slot, no write: the batch pager's ZERO record */
			j->sl[j->m++] = UINT32_MAX;
			pageout_zero_pages++;
			continue;
		}
		if (j->niov && (uint8_t *)j->iov[j->niov - 1].iov_base +
			       j->iov[j->niov - 1].iov_len == pg) {
			j->iov[j->niov - 1].iov_len += PAGE;
		} else {
			j->iov[j->niov].iov_base = pg;
			j->iov[j->niov].iov_len = PAGE;
			j->niov++;
		}
		j->sl[j->m++] = (uint32_t)(j->slot0 + nd++);
		g->next_slot++;
		pageout_bytes += PAGE;
	}
	return 1;
}

/* Stage 2: the store write (vectored, into the slots' one range). */
static void stage_write(struct bguest *g, struct job *j)
{
	for (size_t off = 0, i = 0; i < j->niov;) {
		size_t c = j->niov - i < IOV_MAX ? j->niov - i : IOV_MAX, want = 0;
		ssize_t w;

		for (size_t x = 0; x < c; x++)
			want += j->iov[i + x].iov_len;
		PH(PH_WRITE, w = pwritev(g->fd, j->iov + i, (int)c,
					 (off_t)((j->slot0 * PAGE) + off)));
		if (w != (ssize_t)want)
			die("store write: %s", w < 0 ? strerror(errno) : "short");
		off += want;
		i += c;
	}
}

/* Stage 3: unmap, learn of evict failures, evict. Pages evicted. */
static uint64_t stage_evict(struct bguest *g, struct job *j)
{
	uint64_t done = 0;
	size_t k = 0;
	int r;

	PH(PH_UNMAP, xpage_unmap(g->xp, j->addr, j->k));
	/* Evict failures (a guest touch) are learned before evicting. */
	PH(PH_DISPATCH, xpage_dispatch(g->xp, 0));
	PH(PH_EVICT, r = xpage_evict(g->xp, j->ev, j->m, 0, j->st2));
	if (ph_on)
		ph_pages += j->m;
	if (r < 0)
		die("xpage_evict: %s", xpage_strerror(r));
	for (size_t i = 0; i < j->m; i++) {
		if (j->st2[i] == 0) {
			/* a zero page's UINT32_MAX + 1: 0, not in the store */
			g->slot_of[j->ev[i]] = j->sl[i] + 1;
			done++;
		} else if (xpage_gfn_state(g->xp, j->ev[i]) ==
			   XPAGE_GFN_NOMINATED) {
			j->ok[k++] = j->ev[i];
		} else {
			failures++;
		}
	}
	give_back(g, j->ok, k);
	return done;
}

/* ---------------------------------------------------------------- */
/* Pipelined: a writer thread writes batch i while this thread unmaps
 * and evicts batch i - 1 and nominates and maps batch i + 1. Only this
 * thread uses the handle; the writer only writes the store. */

#define NJOBS 3
static struct job jobs[NJOBS];
static struct {
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, stop;
	struct bguest *g;
} wr = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *writer(void *arg)
{
	unsigned i = 0;

	(void)arg;
	pthread_mutex_lock(&wr.mu);
	for (;;) {
		while (!wr.stop && jobs[i].state != J_WRITE)
			pthread_cond_wait(&wr.cv, &wr.mu);
		if (wr.stop)
			break;
		pthread_mutex_unlock(&wr.mu);
		stage_write(wr.g, &jobs[i]);
		pthread_mutex_lock(&wr.mu);
		jobs[i].state = J_WRITTEN;
		pthread_cond_broadcast(&wr.cv);
		i = (i + 1) % NJOBS;
	}
	pthread_mutex_unlock(&wr.mu);
	return NULL;
}

static void job_set(struct job *j, int state)
{
	pthread_mutex_lock(&wr.mu);
	j->state = state;
	pthread_cond_broadcast(&wr.cv);
	pthread_mutex_unlock(&wr.mu);
}

static void job_wait(struct job *j, int state)
{
	pthread_mutex_lock(&wr.mu);
	while (j->state != state)
		pthread_cond_wait(&wr.cv, &wr.mu);
	pthread_mutex_unlock(&wr.mu);
}

void pageout_stop_writer(void)
{
	if (!wr.started)
		return;
	pthread_mutex_lock(&wr.mu);
	wr.stop = true;
	pthread_cond_broadcast(&wr.cv);
	pthread_mutex_unlock(&wr.mu);
	pthread_join(wr.thr, NULL);
	wr.started = wr.stop = false;
}

/* xenpaging's way: every step for one gfn at a time. */
static uint64_t naive_once(struct bguest *g, uint64_t gfn)
{
	uint64_t slot = g->next_slot;
	uint8_t *a;
	int st;

	if (xpage_nominate(g->xp, &gfn, 1, 0, &st) != 1) {
		failures++;
		return 0;
	}
	a = xpage_map(g->xp, &gfn, 1, 0, &st);
	if (!a) {
		give_back(g, &gfn, 1);
		return 0;
	}
	if (pwrite(g->fd, a, PAGE, (off_t)(slot * PAGE)) != PAGE)
		die("store write: %s", strerror(errno));
	g->next_slot++;
	xpage_unmap(g->xp, a, 1);
	if (xpage_evict(g->xp, &gfn, 1, 0, &st) != 1) {
		give_back(g, &gfn, 1);
		return 0;
	}
	g->slot_of[gfn] = (uint32_t)slot + 1;
	return 1;
}

uint64_t pageout_runs(struct bguest *g, const uint64_t *starts, size_t nruns,
		      uint64_t run, unsigned batch, bool pipelined, uint64_t *ns)
{
	static struct job serial;
	static unsigned seq;     /* jobs handed to the writer so far */
	uint64_t done = 0, t0, gfns[MAX_BATCH];
	unsigned b = seq, b0 = seq;

	if (batch > MAX_BATCH)
		batch = MAX_BATCH;
	/* The writer lives only as long as this call, so the other
	 * measurements run in a process with no idle second thread (whose
	 * CPU a munmap may have to shoot down). */
	if (pipelined) {
		wr.g = g;
		seq = b = b0 = 0;
		for (unsigned i = 0; i < NJOBS; i++)
			jobs[i].state = J_FREE;
		if (pthread_create(&wr.thr, NULL, writer, NULL))
			die("cannot start the writer thread");
		wr.started = true;
	}
	ph_on = pageout_phases && !pipelined;
	t0 = now_ns();
	for (size_t r = 0; r < nruns; r++) {
		uint64_t first = starts[r], end = first + run;

		if (!batch) {
			for (uint64_t gfn = first; gfn < end; gfn++)
				done += naive_once(g, gfn);
			continue;
		}
		for (uint64_t gfn = first; gfn < end;) {
			size_t n = 0;

			while (n < batch && gfn < end)
				gfns[n++] = gfn++;
			if (!pipelined) {
				if (stage_map(g, gfns, n, &serial)) {
					stage_write(g, &serial);
					done += stage_evict(g, &serial);
				}
				continue;
			}
			/* jobs[b % NJOBS] was evicted two batches ago; the
			 * writer takes every job in order, empty ones too. */
			stage_map(g, gfns, n, &jobs[b % NJOBS]);
			job_set(&jobs[b % NJOBS], J_WRITE);
			if (b != b0) {
				struct job *p = &jobs[(b - 1) % NJOBS];

				job_wait(p, J_WRITTEN);
				if (p->addr)
					done += stage_evict(g, p);
				p->state = J_FREE;
			}
			b++;
		}
	}
	if (pipelined && b != b0) {
		struct job *p = &jobs[(b - 1) % NJOBS];

		job_wait(p, J_WRITTEN);
		if (p->addr)
			done += stage_evict(g, p);
		p->state = J_FREE;
	}
	seq = b;
	*ns = now_ns() - t0;
	if (pipelined)
		pageout_stop_writer();
	ph_on = false;
	return done;
}

uint64_t pageout_run(struct bguest *g, uint64_t first, uint64_t n,
		     unsigned batch, bool pipelined, uint64_t *ns)
{
	return pageout_runs(g, &first, 1, n, batch, pipelined, ns);
}

uint64_t raw_write(struct bench_env *env, uint64_t pages, unsigned chunk)
{
	static uint8_t *buf;
	static unsigned buf_pages;
	char *path;
	uint64_t t0, t;
	int fd;

	if (buf_pages < chunk) {
		free(buf);
		buf = aligned_alloc(PAGE, (size_t)chunk * PAGE);
		if (!buf)
			die("out of memory");
		buf_pages = chunk;
		/* Not zero, so no filesystem can shortcut it. */
		for (size_t i = 0; i < (size_t)chunk * PAGE; i++)
			buf[i] = (uint8_t)(i * 131u + 7u);
	}
	if (asprintf(&path, "%s/xpage-bench-%d-raw-%u", env->store_dir,
		     (int)getpid(), env->seq++) < 0)
		die("out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("cannot create %s: %s", path, strerror(errno));
	unlink(path);
	t0 = now_ns();
	for (uint64_t p = 0; p < pages; p += chunk) {
		size_t c = pages - p < chunk ? (size_t)(pages - p) : chunk;

		if (pwrite(fd, buf, c * PAGE, (off_t)(p * PAGE)) !=
		    (ssize_t)(c * PAGE))
			die("raw write: %s", strerror(errno));
	}
	t = now_ns() - t0;
	close(fd);
	free(path);
	return t;
}

#define WARM_PAGES (512 + 512 + 256)

static unsigned reps_of(const struct bench_env *env)
{
	return env->reps ? env->reps : env->quick ? 3 : 5;
}

static uint64_t pages_of(const struct bench_env *env)
{
	return env->quick ? 8192 : 16384;
}

static uint64_t naive_pages_of(const struct bench_env *env)
{
	return env->no_naive ? 0 : env->quick ? 2048 : 8192;
}

uint64_t pageout_pages_needed(const struct bench_env *env)
{
	return WARM_PAGES + reps_of(env) * (env->nsizes * 2 * pages_of(env) +
					    naive_pages_of(env));
}

void pageout_bench(struct bench_env *env, struct bguest *g,
		   struct pageout_result *r)
{
	const unsigned *sizes = env->sizes, ns = env->nsizes;
	double pps[8][64], pipe[8][64], raw[8][64], naive[64];
	uint64_t next = 0, t;

	memset(r, 0, sizeof(*r));
	r->reps = reps_of(env);
	r->pages = pages_of(env);
	r->naive_pages = naive_pages_of(env);
	r->nsizes = ns;
	memcpy(r->sizes, sizes, ns * sizeof(*sizes));
	failures = 0;

	/* Warm-up: code paths, the simulator's threads, the store file. */
	pageout_run(g, next, 512, 256, false, &t);
	next += 512;
	pageout_run(g, next, 512, 256, true, &t);
	next += 512;
	pageout_run(g, next, 256, 0, false, &t);
	next += 256;
	raw_write(env, 1024, 256);

	for (unsigned rep = 0; rep < r->reps; rep++) {
		/* Memory this rep's writes will take: touched and freed just
		 * before, so neither side pays the host's first-touch faults
		 * (see warm_memory()). Not timed. */
		if (!env->no_warm)
			warm_memory(((ns * 3 * r->pages + r->naive_pages) * PAGE
				     >> 20) * 3 / 2 + 64);
		for (unsigned i = 0; i < ns; i++) {
			uint64_t got, c0, s0, rc0 = cpu_ns_self(), rcpu;

			t = raw_write(env, r->pages, sizes[i]);
			rcpu = cpu_ns_self() - rc0;
			raw[i][rep] = (double)r->pages * 1e9 / (double)t;
			c0 = cpu_ns_self();
			s0 = cpu_ns_pid(xpage_sim_pid(env->sim));
			got = pageout_run(g, next, r->pages, sizes[i], false, &t);
			next += r->pages;
			pps[i][rep] = (double)got * 1e9 / (double)t;
			if (pageout_phases) {
				double cb = (double)(cpu_ns_self() - c0) / (double)got;
				double cs = (double)(cpu_ns_pid(xpage_sim_pid(env->sim)) -
						     s0) / (double)got;

				printf("batch %u rep %u: %.0f pages/s, raw %.0f; CPU "
				       "ns/page: pager %.0f, simulator %.0f, raw "
				       "write %.0f\n", sizes[i], rep + 1,
				       pps[i][rep], raw[i][rep], cb, cs,
				       (double)rcpu / (double)r->pages);
				pageout_phases_print();
			}
			got = pageout_run(g, next, r->pages, sizes[i], true, &t);
			next += r->pages;
			pipe[i][rep] = (double)got * 1e9 / (double)t;
			if (pageout_phases)
				printf("batch %u rep %u pipelined: %.0f pages/s\n",
				       sizes[i], rep + 1, pipe[i][rep]);
		}
		naive[rep] = 0;
		if (!env->no_naive) {
			naive[rep] = (double)pageout_run(g, next, r->naive_pages,
							 0, false, &t) * 1e9 /
				     (double)t;
			next += r->naive_pages;
		}
		note("page-out rep %u: batch %u %.0f pages/s (pipelined %.0f), "
		     "per-page %.0f pages/s", rep + 1, sizes[ns - 1],
		     pps[ns - 1][rep], pipe[ns - 1][rep], naive[rep]);
	}
	if (next > g->pages)
		die("guest too small for the page-out runs");
	for (unsigned i = 0; i < ns; i++) {
		double rw = median3(raw[i], r->reps);

		r->pps[i] = median3(pps[i], r->reps);
		r->pps_pipe[i] = median3(pipe[i], r->reps);
		r->raw_by_size[i] = rw;
		if (r->pps[i] > r->serial_pps) {
			r->serial_pps = r->pps[i];
			r->serial_batch = sizes[i];
		}
		if (r->pps_pipe[i] > r->pipe_pps) {
			r->pipe_pps = r->pps_pipe[i];
			r->pipe_batch = sizes[i];
		}
		/* The limit: the best write size for the filesystem. */
		if (rw > r->raw_pps) {
			r->raw_pps = rw;
			r->raw_chunk = sizes[i];
		}
	}
	/* The batch path's figure: the better way of driving it. */
	r->pipelined = r->pipe_pps > r->serial_pps;
	r->batch_pps = r->pipelined ? r->pipe_pps : r->serial_pps;
	r->best_batch = r->pipelined ? r->pipe_batch : r->serial_batch;
	r->naive_pps = median3(naive, r->reps);
	r->failures = failures;
}
