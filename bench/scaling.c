/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scaling: page-out rate and page-in latency as the guest grows from
 * 256 MiB to 16 GiB. Every guest is lazy (unmaterialised) so a 16 GiB one
 * costs only what is touched; the guest first writes a fixed number of
 * pages (runs spread evenly over its whole range, so the tables are
 * exercised end to end), the pager pages exactly those out with the best
 * batch size, and then vCPU 0 faults a sample of them back in.
 */
#include "bench.h"
#include "private.h"

#include <stdlib.h>
#include <string.h>

void scaling_bench(struct bench_env *env, unsigned batch, bool pipelined,
		   struct scale_result *r)
{
	static const uint64_t mib[] = { 256, 1024, 4096, 16384 };
	const uint64_t pages_out = env->quick ? 2048 : 8192;
	const size_t samples = env->quick ? 300 : 1000;
	/* runs of one batch (at least 256 pages), at least two per rep */
	const uint64_t run = batch < 256 ? 256 :
			     batch > pages_out / 2 ? pages_out / 2 : batch;
	const size_t per_rep = (size_t)(pages_out / run), reps = 3;
	const size_t nruns = per_rep * reps;

	memset(r, 0, sizeof(*r));
	r->batch = batch;
	r->pipelined = pipelined;
	for (unsigned i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		struct scale_point *pt = &r->pt[r->n++];
		uint64_t *starts = calloc(nruns, sizeof(*starts));
		uint64_t *sample = calloc(samples, sizeof(*sample));
		uint64_t pages = mib[i] * MIB_PAGES, stride, ns, done;
		struct lat_result lat;
		struct bguest g;
		struct xpage *x;
		size_t inflight, total;

		if (!starts || !sample)
			die("out of memory");
		bguest_open(env, &g, pages, true, &pagein_callbacks);
		stride = pages / nruns;
		for (size_t k = 0; k < nruns; k++) {
			starts[k] = k * stride;
			/* The guest writes them: real contents to page out. */
			for (uint64_t gfn = starts[k]; gfn < starts[k] + run; gfn++) {
				int rc = xpage_sim_touch(env->sim, g.domid, 0, gfn,
							 XPAGE_SIM_TOUCH_WRITE);

				if (rc < 0)
					die("guest write to gfn %#llx: %s",
					    (unsigned long long)gfn,
					    xpage_strerror(rc));
			}
		}
		/* Rep k takes runs k, k + reps, ...: each spans the guest. */
		{
			double v[3];
			uint64_t *mine = calloc(per_rep, sizeof(*mine));

			if (!mine)
				die("out of memory");
			pt->pages_out = 0;
			for (size_t k = 0; k < reps; k++) {
				if (!env->no_warm)
					warm_memory((pages_out * PAGE >> 20) * 2 + 16);
				for (size_t j = 0; j < per_rep; j++)
					mine[j] = starts[j * reps + k];
				done = pageout_runs(&g, mine, per_rep, run, batch,
						    pipelined, &ns);
				v[k] = (double)done * 1e9 / (double)ns;
				pt->pages_out += done;
			}
			free(mine);
			pt->pageout_pps = median3(v, reps);
		}
		pt->guest_mib = mib[i];
		/* Page-in sample: evenly over the evicted runs. */
		for (size_t k = 0; k < samples; k++)
			sample[k] = starts[k % nruns] + (k / nruns) * 7 % run;
		/* distinct: (k / nruns) * 7 % run differs while k / nruns <
		 * run, and samples <= nruns * run */
		pagein_latency(env, &g, sample, samples, false, &lat);
		pt->pagein_p50 = lat.p50;
		pt->pagein_p99 = lat.p99;
		x = (struct xpage *)g.xp;
		total = xp_table_bytes(&x->table, &inflight);
		pt->state_bytes_per_gfn = (double)(total - inflight) /
					  (double)x->table.nr;
		note("scaling: %llu MiB: page-out %.0f pages/s, page-in p50 "
		     "%.1f us p99 %.1f us", (unsigned long long)mib[i],
		     pt->pageout_pps, lat.p50, lat.p99);
		bguest_close(env, &g);
		free(starts);
		free(sample);
	}
}
