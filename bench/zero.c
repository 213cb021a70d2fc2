/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero pages: the batch page-out path with the batch pager's zero-page
 * detection (examples/batch-pager/zero.c), on a guest with 30 % zero
 * pages and on one with none. Each run is a fresh guest paged out whole,
 * serially; the 0 % and 30 % runs alternate so both see the same state
 * of the machine, and the medians are reported. Zero pages are made the
 * way the batch pager's --zero-pct makes them (sim_zero.c).
 */
#include "bench.h"
#include "sim_zero.h"

#define MAX_REPS 9

/* One run: pages/s, bytes written per page out, share of zero pages. */
static void zero_run(struct bench_env *env, unsigned pct, uint64_t pages,
		     unsigned batch, double out[3])
{
	struct bguest g;
	uint64_t ns, done, bytes0 = pageout_bytes, zero0 = pageout_zero_pages;

	bguest_open(env, &g, pages, false, &pagein_callbacks);
	if (sim_zero_share(g.sim, g.domid, pages, pct, 42) < 0)
		die("cannot make %u %% of the guest's pages zero", pct);
	pageout_skip_zero = true;
	done = pageout_run(&g, 0, pages, batch, false, &ns);
	pageout_skip_zero = false;
	if (!done || !ns)
		die("zero pages: nothing paged out");
	out[0] = (double)done / ((double)ns / 1e9);
	out[1] = (double)(pageout_bytes - bytes0) / (double)done;
	out[2] = (double)(pageout_zero_pages - zero0) / (double)done;
	bguest_close(env, &g);
}

void zero_bench(struct bench_env *env, struct zero_result *r)
{
	double v[2][3][MAX_REPS];

	r->pct[0] = 0;
	r->pct[1] = 30;
	r->pages = env->quick ? 8192 : 32768;
	r->batch = 1024;
	r->reps = env->quick ? 3 : 7;
	for (unsigned k = 0; k < r->reps; k++)
		for (unsigned i = 0; i < 2; i++) {
			double out[3];

			zero_run(env, r->pct[i], r->pages, r->batch, out);
			for (unsigned m = 0; m < 3; m++)
				v[i][m][k] = out[m];
		}
	for (unsigned i = 0; i < 2; i++) {
		r->pps[i] = median3(v[i][0], r->reps);
		r->bytes_per_page[i] = median3(v[i][1], r->reps);
		r->zero_share[i] = median3(v[i][2], r->reps);
	}
}
