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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_BATCH 1024u

struct scratch {
	uint64_t ok[MAX_BATCH], ev[MAX_BATCH];
	uint32_t sl[MAX_BATCH];
	int st[MAX_BATCH], st2[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
};

static uint64_t failures;

/* Time per step of the batch path (--phases). */
enum { PH_NOMINATE, PH_MAP, PH_WRITE, PH_UNMAP, PH_DISPATCH, PH_EVICT, PH_N };
static const char *const ph_name[PH_N] = {
	"nominate", "map", "write", "unmap", "dispatch", "evict",
};
static uint64_t ph_ns[PH_N], ph_pages;
bool pageout_phases;

#define PH(i, stmt) do { \
	uint64_t t_ = pageout_phases ? now_ns() : 0; \
	stmt; \
	if (pageout_phases) \
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

/* One batch: returns pages evicted. */
static uint64_t batch_once(struct bguest *g, const uint64_t *gfns, size_t n,
			   struct scratch *s)
{
	size_t k = 0, m = 0, niov = 0;
	uint64_t slot0 = g->next_slot, done = 0;
	uint8_t *a;
	int r;

	PH(PH_NOMINATE, r = xpage_nominate(g->xp, gfns, n, 0, s->st));
	if (r < 0)
		die("xpage_nominate: %s", xpage_strerror(r));
	for (size_t i = 0; i < n; i++)
		if (s->st[i] == 0)
			s->ok[k++] = gfns[i];
	failures += n - k;
	if (!k)
		return 0;
	PH(PH_MAP, a = xpage_map(g->xp, s->ok, k, 0, s->st));
	if (!a) {
		give_back(g, s->ok, k);
		return 0;
	}
	/* Mapped pages go to consecutive slots: one file range, one iovec
	 * per run of consecutive mapped pages. */
	for (size_t i = 0; i < k; i++) {
		if (s->st[i])
			continue;
		if (niov && (uint8_t *)s->iov[niov - 1].iov_base +
			    s->iov[niov - 1].iov_len == a + i * PAGE) {
			s->iov[niov - 1].iov_len += PAGE;
		} else {
			s->iov[niov].iov_base = a + i * PAGE;
			s->iov[niov].iov_len = PAGE;
			niov++;
		}
		s->ev[m] = s->ok[i];
		s->sl[m] = (uint32_t)(slot0 + m);
		m++;
	}
	for (size_t off = 0, i = 0; i < niov;) {
		size_t c = niov - i < IOV_MAX ? niov - i : IOV_MAX, want = 0;
		ssize_t w;

		for (size_t j = 0; j < c; j++)
			want += s->iov[i + j].iov_len;
		PH(PH_WRITE, w = pwritev(g->fd, s->iov + i, (int)c,
					 (off_t)((slot0 * PAGE) + off)));
		if (w != (ssize_t)want)
			die("store write: %s", w < 0 ? strerror(errno) : "short");
		off += want;
		i += c;
	}
	g->next_slot += m;
	PH(PH_UNMAP, xpage_unmap(g->xp, a, k));
	/* Evict failures (a guest touch) are learned before evicting. */
	PH(PH_DISPATCH, xpage_dispatch(g->xp, 0));
	PH(PH_EVICT, r = xpage_evict(g->xp, s->ev, m, 0, s->st2));
	ph_pages += m;
	if (r < 0)
		die("xpage_evict: %s", xpage_strerror(r));
	k = 0;
	for (size_t i = 0; i < m; i++) {
		if (s->st2[i] == 0) {
			g->slot_of[s->ev[i]] = s->sl[i] + 1;
			done++;
		} else if (xpage_gfn_state(g->xp, s->ev[i]) ==
			   XPAGE_GFN_NOMINATED) {
			s->ok[k++] = s->ev[i];
		} else {
			failures++;
		}
	}
	give_back(g, s->ok, k);
	return done;
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
		      uint64_t run, unsigned batch, uint64_t *ns)
{
	static struct scratch s;
	uint64_t done = 0, t0, gfns[MAX_BATCH];

	if (batch > MAX_BATCH)
		batch = MAX_BATCH;
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
			done += batch_once(g, gfns, n, &s);
		}
	}
	*ns = now_ns() - t0;
	return done;
}

uint64_t pageout_run(struct bguest *g, uint64_t first, uint64_t n,
		     unsigned batch, uint64_t *ns)
{
	return pageout_runs(g, &first, 1, n, batch, ns);
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
	t0 = now_ns();
	for (uint64_t p = 0; p < pages; p += chunk) {
		size_t c = pages - p < chunk ? (size_t)(pages - p) : chunk;

		if (pwrite(fd, buf, c * PAGE, (off_t)(p * PAGE)) !=
		    (ssize_t)(c * PAGE))
			die("raw write: %s", strerror(errno));
	}
	t = now_ns() - t0;
	close(fd);
	unlink(path);
	free(path);
	return t;
}

#define WARM_PAGES (1024 + 256)

static unsigned reps_of(const struct bench_env *env)
{
	return env->reps ? env->reps : env->quick ? 3 : 7;
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
	return WARM_PAGES + reps_of(env) * (env->nsizes * pages_of(env) +
					    naive_pages_of(env));
}

void pageout_bench(struct bench_env *env, struct bguest *g,
		   struct pageout_result *r)
{
	const unsigned *sizes = env->sizes, ns = env->nsizes;
	double pps[8][64], raw[8][64], naive[64];
	uint64_t next = 0, t;

	memset(r, 0, sizeof(*r));
	r->reps = reps_of(env);
	r->pages = pages_of(env);
	r->naive_pages = naive_pages_of(env);
	r->nsizes = ns;
	memcpy(r->sizes, sizes, ns * sizeof(*sizes));
	failures = 0;

	/* Warm-up: code paths, the simulator's threads, the store file. */
	pageout_run(g, next, 1024, 256, &t);
	next += 1024;
	pageout_run(g, next, 256, 0, &t);
	next += 256;
	raw_write(env, 1024, 256);

	for (unsigned rep = 0; rep < r->reps; rep++) {
		/* Memory this rep's writes will take: touched and freed just
		 * before, so neither side pays the host's first-touch faults
		 * (see warm_memory()). Not timed. */
		if (!env->no_warm)
			warm_memory(((ns * 2 * r->pages + r->naive_pages) * PAGE
				     >> 20) * 3 / 2 + 64);
		for (unsigned i = 0; i < ns; i++) {
			uint64_t got, c0, s0, rc0 = cpu_ns_self(), rcpu;

			t = raw_write(env, r->pages, sizes[i]);
			rcpu = cpu_ns_self() - rc0;
			raw[i][rep] = (double)r->pages * 1e9 / (double)t;
			c0 = cpu_ns_self();
			s0 = cpu_ns_pid(xpage_sim_pid(env->sim));
			got = pageout_run(g, next, r->pages, sizes[i], &t);
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
		}
		naive[rep] = 0;
		if (!env->no_naive) {
			naive[rep] = (double)pageout_run(g, next, r->naive_pages,
							 0, &t) * 1e9 / (double)t;
			next += r->naive_pages;
		}
		note("page-out rep %u: batch %u %.0f pages/s, per-page %.0f "
		     "pages/s", rep + 1, sizes[ns - 1], pps[ns - 1][rep],
		     naive[rep]);
	}
	if (next > g->pages)
		die("guest too small for the page-out runs");
	for (unsigned i = 0; i < ns; i++) {
		double rw = median3(raw[i], r->reps);

		r->pps[i] = median3(pps[i], r->reps);
		r->raw_by_size[i] = rw;
		if (r->pps[i] > r->batch_pps) {
			r->batch_pps = r->pps[i];
			r->best_batch = sizes[i];
		}
		/* The limit: the best write size for the filesystem. */
		if (rw > r->raw_pps) {
			r->raw_pps = rw;
			r->raw_chunk = sizes[i];
		}
	}
	r->naive_pps = median3(naive, r->reps);
	r->failures = failures;
}
