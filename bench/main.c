/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-bench: the figures of bench/RESULTS.md, on one simulated guest
 * and store.
 *
 *   xpage-bench [--quick] [--json PATH] [--store-dir DIR] [--simd PATH]
 *               [--only LIST] [--quiet]
 *
 * Prints a table; with --json writes the figures. --quick takes well under
 * a minute on two cores; the full run a few minutes.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef XPAGE_BENCH_SIMD
#define XPAGE_BENCH_SIMD "xpage-simd"
#endif

#define PAGEIN_TARGET_RT 3.0

#ifndef XPAGE_BENCH_PAGER
#define XPAGE_BENCH_PAGER "xpage-batch-pager"
#endif

struct all {
	struct pageout_result po;
	struct lat_result warm, cold;
	double rt_p50, rt_p99, rt_idle_p50;
	struct dispatch_gen disp[16];
	size_t ndisp;
	double disp_worst;
	struct mem_result mem;
	struct scale_result sc;
	struct zero_result zero;
	struct comp_result comp;
	struct tier_result tiers;
	struct victims_result vic;
	uint64_t corrupted, lost;
	bool did_pageout, did_pagein, did_dispatch, did_memory, did_scaling;
	bool did_zero, did_comp, did_tiers, did_victims;
	double load_start[3], load_end[3];
	double seconds;
	uint64_t guest_mib;
	uint64_t warm_mib;
	double idle_dispatch_ns;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: xpage-bench [options]\n"
"  --quick           a shorter run (well under 60 s on two cores)\n"
"  --json PATH       write the figures as JSON\n"
"  --store-dir DIR   where the store and the raw-write file go\n"
"                    (default: /var/tmp)\n"
"  --simd PATH       the simulator (default: $XPAGE_SIMD, then the build's)\n"
"  --only LIST       some of: pageout,pagein,dispatch,memory,scaling,zero,\n"
"                    compress,tiers,victims (victims runs only when\n"
"                    listed: 10-30 min)\n"
"  --pager PATH      xpage-batch-pager for victims (default: the build's)\n"
"  --sizes LIST      page-out batch sizes to try (default 16,64,256,1024,4096;\n"
"                    0 is the per-page loop, left out if not listed)\n"
"  --reps N          page-out repetitions (default 7, quick 3; max 64);\n"
"                    victims: runs per figure (default 3, quick 1; max 9)\n"
"  --phases         print the time of each step of the batch page-out\n"
"  --no-warm-mem     do not touch and free memory before measuring\n"
"  --quiet           no progress lines\n");
}

static bool want(const char *only, const char *what)
{
	const char *p;
	size_t n = strlen(what);

	if (!only)
		return true;
	for (p = only; (p = strstr(p, what)); p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* The victims section takes 10-30 minutes: only when listed. */
static bool victims_wanted(const char *only)
{
	return only && want(only, "victims");
}

static void loadavg(double v[3])
{
	FILE *f = fopen("/proc/loadavg", "r");

	v[0] = v[1] = v[2] = -1;
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &v[0], &v[1], &v[2]) != 3)
			v[0] = v[1] = v[2] = -1;
		fclose(f);
	}
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = '\0';
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

static const char *met(bool ok)
{
	return ok ? "met" : "NOT met";
}

/* Random distinct evicted gfns of @g, up to @n, into @out. */
static size_t pick_evicted(struct bguest *g, uint64_t *out, size_t n,
			   uint64_t seed)
{
	size_t k = 0;
	uint64_t x = seed | 1, tries = 0;

	while (k < n && tries++ < 64 * (uint64_t)n + 1000000) {
		uint64_t gfn;
		bool dup = false;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		gfn = x % g->pages;
		if (!g->slot_of[gfn])
			continue;
		for (size_t i = 0; i < k && !dup; i++)
			dup = out[i] == gfn;
		if (!dup)
			out[k++] = gfn;
	}
	return k;
}

static double pagein_bound(const struct all *a)
{
	return PAGEIN_TARGET_RT * a->rt_p50 + a->warm.read_p50;
}

static void print_zero(const struct zero_result *z)
{
	printf("\nZero pages (batch %u, serial; %llu-page guests, runs "
	       "interleaved, median of %u)\n", z->batch,
	       (unsigned long long)z->pages, z->reps);
	printf("  zero pages   found   page-out pages/s   bytes written per page\n");
	for (unsigned i = 0; i < 2; i++)
		printf("  %7u %%   %5.1f %%   %16.0f   %22.0f\n", z->pct[i],
		       100.0 * z->zero_share[i], z->pps[i], z->bytes_per_page[i]);
}

static void print_comp(const struct comp_result *c)
{
	printf("\nCompression (one 4 KiB page a call, %u pages, best of %u):\n"
	       "  ratio / stored (raw above 3584 B, 512 B units) / compress "
	       "us / decompress us per page\n", c->pages, c->reps);
	for (unsigned k = 0; k < COMP_CORPORA; k++)
		for (unsigned i = 0; i < COMP_CODECS; i++)
			printf("  %-7s %-8s %5.2f  %5.2f  %6.2f  %6.2f\n",
			       i ? "" : c->corpus[k], c->codec[i], c->ratio[k][i],
			       c->stored[k][i], c->comp_us[k][i],
			       c->decomp_us[k][i]);
}

/* The compression figures as JSON, one object per page kind and codec. */
static void json_comp(FILE *f, const struct comp_result *c, bool did)
{
	fprintf(f, "  \"compression\": [\n");
	for (unsigned k = 0; did && k < COMP_CORPORA; k++)
		for (unsigned i = 0; i < COMP_CODECS; i++)
			fprintf(f, "    {\"pages\": \"%s\", \"codec\": \"%s\", "
				"\"ratio\": %.3f, \"stored_ratio\": %.3f, "
				"\"compress_us\": %.3f, \"decompress_us\": "
				"%.3f}%s\n", c->corpus[k], c->codec[i],
				c->ratio[k][i], c->stored[k][i], c->comp_us[k][i],
				c->decomp_us[k][i], k + 1 == COMP_CORPORA &&
				i + 1 == COMP_CODECS ? "" : ",");
	fprintf(f, "  ],\n");
}

static void print_tiers(const struct tier_result *t)
{
	printf("\nThe pager's store alone (%llu pages, batches of 1024, no "
	       "sync; median of %u)\n  pages            codec  page-out "
	       "pages/s  raw write  / raw  bytes/page  ratio  zero\n",
	       (unsigned long long)t->pages, t->reps);
	for (unsigned i = 0; i < TIER_ROWS; i++) {
		const struct tier_row *r = &t->row[i];

		printf("  %-16s %-5s %16.0f %10.0f %6.2f %11.0f %6.2f %5.3f\n",
		       r->pages, r->codec, r->pps, r->raw_pps,
		       r->raw_pps > 0 ? r->pps / r->raw_pps : 0,
		       r->bytes_per_page, r->ratio, r->zero_share);
	}
	printf("  page-in p50 (us, one page): RAM tier %.2f, file %.2f, plain "
	       "pread %.2f; lz4 text: RAM tier %.2f, file %.2f\n",
	       t->in_ram_p50, t->in_file_p50, t->in_pread_p50,
	       t->in_ram_lz4_p50, t->in_file_lz4_p50);
}

/* The store's tiers as JSON (tiers_bench). */
static void json_tiers(FILE *f, const struct tier_result *t, bool did)
{
	fprintf(f, "  \"store_tiers\": {\"pages\": %llu, \"reps\": %u, "
		"\"pageout\": [", (unsigned long long)t->pages, t->reps);
	for (unsigned i = 0; did && i < TIER_ROWS; i++)
		fprintf(f, "%s\n    {\"pages\": \"%s\", \"codec\": \"%s\", "
			"\"pages_per_s\": %.1f, \"raw_write_pages_per_s\": %.1f, "
			"\"bytes_written_per_page\": %.1f, "
			"\"compression_ratio\": %.3f, \"zero_share\": %.4f}",
			i ? "," : "", t->row[i].pages, t->row[i].codec,
			t->row[i].pps, t->row[i].raw_pps,
			t->row[i].bytes_per_page, t->row[i].ratio,
			t->row[i].zero_share);
	fprintf(f, "],\n    \"pagein_us_p50\": {\"ram_tier\": %.2f, "
		"\"file\": %.2f, \"pread\": %.2f, \"ram_tier_lz4\": %.2f, "
		"\"file_lz4\": %.2f}},\n", t->in_ram_p50, t->in_file_p50,
		t->in_pread_p50, t->in_ram_lz4_p50, t->in_file_lz4_p50);
}

static void print_victims(const struct victims_result *v)
{
	printf("\nVictim policies: page-ins per million guest accesses (%u MiB "
	       "guest, 1 vCPU, 32 MiB resident; median of %u, [lowest, "
	       "highest])\n", 64u, v->reps);
	for (unsigned w = 0; w < VICTIM_WORKLOADS; w++) {
		printf("  %s (%s), %llu accesses\n", victim_workloads[w].name,
		       victim_workloads[w].what, (unsigned long long)
		       (victim_workloads[w].accesses / v->scale));
		for (unsigned p = 0; p < VICTIM_POLICIES; p++) {
			const struct victim_cell *c = v->cell[w][p];

			printf("    %-9s %9.0f [%.0f, %.0f]   prefetch %9.0f "
			       "[%.0f, %.0f] (%.0f loaded ahead, %.0f used)"
			       "   choose %.3f ms/batch",
			       victim_policies[p], c[0].med.per_million, c[0].lo,
			       c[0].hi, c[1].med.per_million, c[1].lo, c[1].hi,
			       c[1].med.prefetched, c[1].med.prefetch_used,
			       c[0].med.choose_ms_per_batch);
			if (c[0].med.scan_us >= 0)
				printf(", scan %.0f us, blind spot %.4f",
				       c[0].med.scan_us, c[0].med.blind_spot);
			printf("\n");
		}
	}
}

static void print_table(const struct all *a, const struct bench_env *env)
{
	const struct pageout_result *po = &a->po;

	printf("\n");
	if (a->did_pageout) {
		printf("Page-out (%llu MiB guest; %llu pages per run, median of %u)\n",
		       (unsigned long long)a->guest_mib,
		       (unsigned long long)po->pages, po->reps);
		printf("                   page-out    page-out   raw write\n"
		       "                   serial      pipelined  (same size writes)\n");
		for (unsigned i = 0; i < po->nsizes; i++)
			printf("  batch %-5u  %10.0f  %10.0f  %10.0f pages/s\n",
			       po->sizes[i], po->pps[i], po->pps_pipe[i],
			       po->raw_by_size[i]);
		printf("  best: batch %u, %s: %.0f pages/s (serial best: batch %u, "
		       "%.0f)\n", po->best_batch,
		       po->pipelined ? "pipelined" : "serial", po->batch_pps,
		       po->serial_batch, po->serial_pps);
		printf("  per page, xenpaging-style        %10.0f pages/s  "
		       "(%llu pages per run)\n", po->naive_pps,
		       (unsigned long long)po->naive_pages);
		printf("  raw write, best (%u-page writes) %10.0f pages/s\n",
		       po->raw_chunk, po->raw_pps);
		if (po->naive_pps > 0)
			printf("  batch / per-page                 %10.2f   "
			       "(target >= 10: %s)\n",
			       po->batch_pps / po->naive_pps,
			       met(po->batch_pps / po->naive_pps >= 10));
		printf("  page-out / raw write             %10.2f   "
		       "(target >= 0.5: %s)\n", po->batch_pps / po->raw_pps,
		       met(po->batch_pps / po->raw_pps >= 0.5));
		if (po->failures)
			printf("  pages not evicted: %llu\n",
			       (unsigned long long)po->failures);
	}
	if (a->did_pagein) {
		printf("\nPage-in latency, fault -> vCPU resumed (us)\n");
		printf("                       p50       p99       max   store read p50  samples\n");
		printf("  store in page cache %7.1f   %7.1f   %7.1f   %7.1f          %zu\n",
		       a->warm.p50, a->warm.p99, a->warm.max, a->warm.read_p50,
		       a->warm.n);
		printf("  store cold          %7.1f   %7.1f   %7.1f   %7.1f          %zu\n",
		       a->cold.p50, a->cold.p99, a->cold.max, a->cold.read_p50,
		       a->cold.n);
		printf("  bare round trip     %7.1f   %7.1f   (p50 after 1 ms idle: %.1f)\n",
		       a->rt_p50, a->rt_p99, a->rt_idle_p50);
		printf("  confirmed by a vCPU touch (one more round trip): "
		       "p50 %.1f, p99 %.1f; cold p50 %.1f, p99 %.1f\n",
		       a->warm.confirmed_p50, a->warm.confirmed_p99,
		       a->cold.confirmed_p50, a->cold.confirmed_p99);
		printf("  xpage_dispatch(0) with nothing pending: %.0f ns\n",
		       a->idle_dispatch_ns);
		printf("  p99 <= 3 x round trip + store read = %.1f us: %s\n",
		       pagein_bound(a), met(a->warm.p99 <= pagein_bound(a)));
		printf("  oracle: %llu corrupted, %llu lost\n",
		       (unsigned long long)a->corrupted,
		       (unsigned long long)a->lost);
	}
	if (a->did_zero)
		print_zero(&a->zero);
	if (a->did_comp)
		print_comp(&a->comp);
	if (a->did_tiers)
		print_tiers(&a->tiers);
	if (a->did_victims)
		print_victims(&a->vic);
	if (a->did_dispatch) {
		printf("\nLibrary cost per ring event (ns; populate -> load -> "
		       "resume, fake hypervisor)\n");
		printf("  generation       min  median  decode alone  fake hv share\n");
		for (size_t i = 0; i < a->ndisp; i++)
			printf("  %-14s %5.1f  %6.1f  %12.1f  %13.1f\n",
			       a->disp[i].name, a->disp[i].ns_per_event,
			       a->disp[i].ns_median, a->disp[i].decode_ns,
			       a->disp[i].producer_ns);
		printf("  worst generation %.1f ns/event (target <= 100: %s)\n",
		       a->disp_worst, met(a->disp_worst <= 100));
	}
	if (a->did_memory) {
		printf("\nMemory per guest gfn (bytes)\n");
		printf("  guest      libxpage state  (+in-flight)  resident at open  "
		       "pager index  xenpaging\n");
		for (unsigned i = 0; i < a->mem.n; i++) {
			const struct mem_point *p = &a->mem.pt[i];

			printf("  %5llu MiB  %14.4f  %12.4f  %16.4f  %11.1f  %9.3f\n",
			       (unsigned long long)p->guest_mib,
			       p->state_bytes_per_gfn, p->state_total_per_gfn,
			       p->state_rss_per_gfn, p->index_bytes_per_gfn,
			       p->xenpaging_bytes_per_gfn);
		}
		printf("  the example pager also keeps %.0f B/gfn of clock policy "
		       "and %.0f B on disk per paged page\n",
		       a->mem.pager_policy_bytes_per_gfn,
		       a->mem.pager_disk_bytes_per_page);
		printf("  state <= 1 B/gfn: %s\n",
		       met(a->mem.pt[0].state_bytes_per_gfn <= 1.0));
	}
	if (a->did_scaling) {
		printf("\nScaling (lazy guests, batch %u, %s)\n", a->sc.batch,
		       a->sc.pipelined ? "pipelined" : "serial");
		printf("  guest       pages out  page-out pages/s  page-in p50  p99 (us)  state B/gfn\n");
		for (unsigned i = 0; i < a->sc.n; i++) {
			const struct scale_point *p = &a->sc.pt[i];

			printf("  %5llu MiB  %9llu  %16.0f  %11.1f  %8.1f  %11.4f\n",
			       (unsigned long long)p->guest_mib,
			       (unsigned long long)p->pages_out, p->pageout_pps,
			       p->pagein_p50, p->pagein_p99,
			       p->state_bytes_per_gfn);
		}
	}
	printf("\n%s run in %.1f s; load average %.2f at start, %.2f at end; "
	       "store on %s (%s)\n", env->quick ? "quick" : "full", a->seconds,
	       a->load_start[0], a->load_end[0], env->store_dir,
	       fs_type(env->store_dir));
}

static void json_target(FILE *f, const char *name, double value, const char *op,
			double target, bool ok, bool last)
{
	fprintf(f, "    \"%s\": {\"value\": %.6g, \"target\": \"%s %.6g\", "
		"\"met\": %s}%s\n", name, value, op, target, ok ? "true" : "false",
		last ? "" : ",");
}

static void json_victims(FILE *f, const struct all *a)
{
	const struct victims_result *v = &a->vic;
	bool first = true;

	fprintf(f, "  \"victims\": [\n");
	for (unsigned w = 0; a->did_victims && w < VICTIM_WORKLOADS; w++)
		for (unsigned p = 0; p < VICTIM_POLICIES; p++)
			for (unsigned pf = 0; pf < 2; pf++) {
				const struct victim_cell *c = &v->cell[w][p][pf];

				fprintf(f, "%s    {\"workload\": \"%s\", "
					"\"policy\": \"%s\", \"prefetch\": %u, "
					"\"pageins_per_million\": %.1f, "
					"\"lowest\": %.1f, \"highest\": %.1f, "
					"\"accesses\": %llu, \"faults\": %llu, "
					"\"scan_cpu_us\": %.1f, "
					"\"choose_ms_per_batch\": %.4f, "
					"\"pages_in_prefetch\": %.0f, "
					"\"prefetch_used\": %.0f, \"reps\": %u}",
					first ? "" : ",\n",
					victim_workloads[w].name,
					victim_policies[p], pf ? 16 : 0,
					c->med.per_million, c->lo, c->hi,
					(unsigned long long)c->med.accesses,
					(unsigned long long)c->med.faults,
					c->med.scan_us, c->med.choose_ms_per_batch,
					c->med.prefetched, c->med.prefetch_used,
					v->reps);
				first = false;
			}
	fprintf(f, "%s  ],\n", first ? "" : "\n");
}

static void write_json(const char *path, const struct all *a,
		       const struct bench_env *env)
{
	const struct pageout_result *po = &a->po;
	FILE *f = fopen(path, "w");
	struct utsname u;
	char cpu[256];
	double memstate = 0, memindex = 0;

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	for (unsigned i = 0; i < a->mem.n; i++) {
		if (a->mem.pt[i].state_bytes_per_gfn > memstate)
			memstate = a->mem.pt[i].state_bytes_per_gfn;
		memindex = a->mem.pt[i].index_bytes_per_gfn;
	}
	fprintf(f, "{\n");
	fprintf(f, "  \"tool\": \"xpage-bench\",\n  \"libxpage\": \"%s\",\n",
		xpage_version_string());
	fprintf(f, "  \"mode\": \"%s\",\n", env->quick ? "quick" : "full");
	fprintf(f, "  \"machine\": {\"cpus\": %ld, \"cpu\": \"%s\", "
		"\"kernel\": \"%s\", \"load_start\": [%.2f, %.2f, %.2f], "
		"\"load_end\": [%.2f, %.2f, %.2f], \"store_dir\": \"%s\", "
		"\"store_fs\": \"%s\", \"seconds\": %.1f, "
		"\"warmed_mib\": %llu},\n",
		sysconf(_SC_NPROCESSORS_ONLN), cpu, u.release,
		a->load_start[0], a->load_start[1], a->load_start[2],
		a->load_end[0], a->load_end[1], a->load_end[2],
		env->store_dir, fs_type(env->store_dir), a->seconds,
		(unsigned long long)a->warm_mib);

	fprintf(f, "  \"batch_pageout_pages_per_s\": %.1f,\n", po->batch_pps);
	fprintf(f, "  \"best_batch\": %u,\n", po->best_batch);
	fprintf(f, "  \"best_mode\": \"%s\",\n",
		po->pipelined ? "pipelined" : "serial");
	fprintf(f, "  \"batch_serial_pages_per_s\": %.1f,\n", po->serial_pps);
	fprintf(f, "  \"batch_serial_best_batch\": %u,\n", po->serial_batch);
	fprintf(f, "  \"batch_serial_vs_raw\": %.3f,\n",
		po->raw_pps > 0 ? po->serial_pps / po->raw_pps : 0);
	fprintf(f, "  \"batch_pipelined_pages_per_s\": %.1f,\n", po->pipe_pps);
	fprintf(f, "  \"batch_sizes_pipelined\": {");
	for (unsigned i = 0; i < po->nsizes; i++)
		fprintf(f, "%s\"%u\": %.1f", i ? ", " : "", po->sizes[i],
			po->pps_pipe[i]);
	fprintf(f, "},\n");
	fprintf(f, "  \"batch_sizes\": {");
	for (unsigned i = 0; i < po->nsizes; i++)
		fprintf(f, "%s\"%u\": %.1f", i ? ", " : "", po->sizes[i],
			po->pps[i]);
	fprintf(f, "},\n");
	fprintf(f, "  \"naive_pageout_pages_per_s\": %.1f,\n", po->naive_pps);
	fprintf(f, "  \"batch_vs_naive\": %.3f,\n",
		po->naive_pps > 0 ? po->batch_pps / po->naive_pps : 0);
	fprintf(f, "  \"raw_write_pages_per_s\": %.1f,\n", po->raw_pps);
	fprintf(f, "  \"raw_write_best_chunk_pages\": %u,\n", po->raw_chunk);
	fprintf(f, "  \"raw_write_by_size\": {");
	for (unsigned i = 0; i < po->nsizes; i++)
		fprintf(f, "%s\"%u\": %.1f", i ? ", " : "", po->sizes[i],
			po->raw_by_size[i]);
	fprintf(f, "},\n");
	fprintf(f, "  \"pageout_vs_raw\": %.3f,\n",
		po->raw_pps > 0 ? po->batch_pps / po->raw_pps : 0);
	fprintf(f, "  \"pageout_pages_per_run\": %llu,\n",
		(unsigned long long)po->pages);
	fprintf(f, "  \"pageout_failures\": %llu,\n",
		(unsigned long long)po->failures);

	fprintf(f, "  \"pagein_us_p50\": %.2f,\n", a->warm.p50);
	fprintf(f, "  \"pagein_us_p99\": %.2f,\n", a->warm.p99);
	fprintf(f, "  \"pagein_us_max\": %.2f,\n", a->warm.max);
	fprintf(f, "  \"pagein_cold_us_p50\": %.2f,\n", a->cold.p50);
	fprintf(f, "  \"pagein_cold_us_p99\": %.2f,\n", a->cold.p99);
	fprintf(f, "  \"pagein_cold_us_max\": %.2f,\n", a->cold.max);
	fprintf(f, "  \"pagein_confirmed_us_p50\": %.2f,\n", a->warm.confirmed_p50);
	fprintf(f, "  \"pagein_confirmed_us_p99\": %.2f,\n", a->warm.confirmed_p99);
	fprintf(f, "  \"pagein_cold_confirmed_us_p50\": %.2f,\n", a->cold.confirmed_p50);
	fprintf(f, "  \"pagein_cold_confirmed_us_p99\": %.2f,\n", a->cold.confirmed_p99);
	fprintf(f, "  \"pagein_samples\": %zu,\n", a->warm.n);
	fprintf(f, "  \"pagein_cold_samples\": %zu,\n", a->cold.n);
	fprintf(f, "  \"bare_roundtrip_us_p50\": %.2f,\n", a->rt_p50);
	fprintf(f, "  \"bare_roundtrip_us_p99\": %.2f,\n", a->rt_p99);
	fprintf(f, "  \"bare_roundtrip_after_idle_us_p50\": %.2f,\n",
		a->rt_idle_p50);
	fprintf(f, "  \"store_read_us_p50\": %.2f,\n", a->warm.read_p50);
	fprintf(f, "  \"dispatch_idle_ns\": %.1f,\n", a->idle_dispatch_ns);
	fprintf(f, "  \"store_read_cold_us_p50\": %.2f,\n", a->cold.read_p50);
	fprintf(f, "  \"oracle_corrupted\": %llu,\n  \"oracle_lost\": %llu,\n",
		(unsigned long long)a->corrupted, (unsigned long long)a->lost);

	fprintf(f, "  \"dispatch_ns_per_event\": %.2f,\n", a->disp_worst);
	fprintf(f, "  \"dispatch_by_generation\": [\n");
	for (size_t i = 0; i < a->ndisp; i++)
		fprintf(f, "    {\"generation\": \"%s\", \"ns_per_event\": %.2f, "
			"\"ns_median\": %.2f, \"decode_ns\": %.2f, "
			"\"fake_hv_ns\": %.2f}%s\n", a->disp[i].name,
			a->disp[i].ns_per_event, a->disp[i].ns_median,
			a->disp[i].decode_ns, a->disp[i].producer_ns,
			i + 1 < a->ndisp ? "," : "");
	fprintf(f, "  ],\n");

	fprintf(f, "  \"state_bytes_per_gfn\": %.4f,\n", memstate);
	fprintf(f, "  \"index_bytes_per_gfn\": %.4f,\n", memindex);
	fprintf(f, "  \"memory\": [\n");
	for (unsigned i = 0; i < a->mem.n; i++) {
		const struct mem_point *p = &a->mem.pt[i];

		fprintf(f, "    {\"guest_mib\": %llu, \"gfns\": %llu, "
			"\"state_bytes_per_gfn\": %.4f, "
			"\"state_with_inflight_bytes_per_gfn\": %.4f, "
			"\"state_resident_at_open_bytes_per_gfn\": %.4f, "
			"\"index_bytes_per_gfn\": %.2f, "
			"\"pager_policy_bytes_per_gfn\": %.2f, "
			"\"pager_disk_bytes_per_paged_page\": %.1f, "
			"\"xenpaging_bytes_per_gfn\": %.3f}%s\n",
			(unsigned long long)p->guest_mib,
			(unsigned long long)p->gfns, p->state_bytes_per_gfn,
			p->state_total_per_gfn, p->state_rss_per_gfn,
			p->index_bytes_per_gfn,
			a->mem.pager_policy_bytes_per_gfn,
			a->mem.pager_disk_bytes_per_page,
			p->xenpaging_bytes_per_gfn,
			i + 1 < a->mem.n ? "," : "");
	}
	fprintf(f, "  ],\n");

	fprintf(f, "  \"scaling\": [\n");
	for (unsigned i = 0; i < a->sc.n; i++) {
		const struct scale_point *p = &a->sc.pt[i];

		fprintf(f, "    {\"guest_mib\": %llu, \"batch\": %u, "
			"\"pipelined\": %s, "
			"\"pages_out\": %llu, \"pageout_pages_per_s\": %.1f, "
			"\"pagein_us_p50\": %.2f, \"pagein_us_p99\": %.2f, "
			"\"state_bytes_per_gfn\": %.4f}%s\n",
			(unsigned long long)p->guest_mib, a->sc.batch,
			a->sc.pipelined ? "true" : "false",
			(unsigned long long)p->pages_out, p->pageout_pps,
			p->pagein_p50, p->pagein_p99, p->state_bytes_per_gfn,
			i + 1 < a->sc.n ? "," : "");
	}
	fprintf(f, "  ],\n");

	fprintf(f, "  \"zero_pages\": [\n");
	for (unsigned i = 0; a->did_zero && i < 2; i++)
		fprintf(f, "    {\"zero_pct\": %u, \"found_share\": %.4f, "
			"\"pageout_pages_per_s\": %.1f, "
			"\"bytes_written_per_page\": %.1f, \"pages\": %llu, "
			"\"batch\": %u, \"reps\": %u}%s\n", a->zero.pct[i],
			a->zero.zero_share[i], a->zero.pps[i],
			a->zero.bytes_per_page[i],
			(unsigned long long)a->zero.pages, a->zero.batch,
			a->zero.reps, i == 0 ? "," : "");
	fprintf(f, "  ],\n");

	json_comp(f, &a->comp, a->did_comp);
	json_tiers(f, &a->tiers, a->did_tiers);
	json_victims(f, a);

	fprintf(f, "  \"targets\": {\n");
	json_target(f, "batch_vs_naive", po->naive_pps > 0 ?
		    po->batch_pps / po->naive_pps : 0, ">=", 10,
		    po->naive_pps > 0 && po->batch_pps / po->naive_pps >= 10, false);
	json_target(f, "pageout_vs_raw", po->raw_pps > 0 ?
		    po->batch_pps / po->raw_pps : 0, ">=", 0.5,
		    po->raw_pps > 0 && po->batch_pps / po->raw_pps >= 0.5, false);
	json_target(f, "pagein_us_p99", a->warm.p99, "<=", pagein_bound(a),
		    a->did_pagein && a->warm.p99 <= pagein_bound(a), false);
	json_target(f, "dispatch_ns_per_event", a->disp_worst, "<=", 100,
		    a->did_dispatch && a->disp_worst <= 100, false);
	json_target(f, "state_bytes_per_gfn", memstate, "<=", 1,
		    a->did_memory && memstate <= 1, true);
	fprintf(f, "  }\n}\n");
	if (fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "store-dir", required_argument, NULL, 's' },
		{ "simd", required_argument, NULL, 'S' },
		{ "only", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "no-warm-mem", no_argument, NULL, 'W' },
		{ "reps", required_argument, NULL, 'r' },
		{ "phases", no_argument, NULL, 'P' },
		{ "pager", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_env env = { .store_dir = "/var/tmp",
				 .sizes = { 16, 64, 256, 1024, 4096 }, .nsizes = 5 };
	const char *json = NULL, *only = NULL;
	static struct all a;
	uint64_t t0 = now_ns();
	int c;

	while ((c = getopt_long(argc, argv, "qj:s:S:o:Qz:Wr:PB:h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': env.quick = true; break;
		case 'j': json = optarg; break;
		case 's': env.store_dir = optarg; break;
		case 'S': env.simd = optarg; break;
		case 'o': only = optarg; break;
		case 'Q': bench_quiet = true; break;
		case 'W': env.no_warm = true; break;
		case 'P': pageout_phases = true; break;
		case 'B': env.pager = optarg; break;
		case 'r':
			env.reps = (unsigned)atoi(optarg);
			if (env.reps < 1 || env.reps > 64)
				die("--reps: 1 to 64");
			break;
		case 'z': {
			char *p = optarg, *end;

			env.nsizes = 0;
			env.no_naive = true;
			while (*p && env.nsizes < 8) {
				unsigned long v = strtoul(p, &end, 10);

				if (end == p || v > 4096)
					die("--sizes: batch sizes 1..4096, or 0");
				if (v)
					env.sizes[env.nsizes++] = (unsigned)v;
				else
					env.no_naive = false;
				p = *end == ',' ? end + 1 : end;
				if (*end && *end != ',')
					die("--sizes: a comma-separated list");
			}
			if (!env.nsizes)
				die("--sizes: at least one batch size");
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!env.simd)
		env.simd = getenv("XPAGE_SIMD");
	if (!env.simd || !*env.simd)
		env.simd = XPAGE_BENCH_SIMD;
	if (!env.pager)
		env.pager = XPAGE_BENCH_PAGER;
	if (access(env.store_dir, W_OK) < 0)
		die("store directory %s: %s", env.store_dir, strerror(errno));
	loadavg(a.load_start);
	if (!env.no_warm && (want(only, "pageout") || want(only, "pagein") ||
			 want(only, "scaling"))) {
		/* The page cache and the guests take fresh memory. In a VM
		 * whose RAM the host backs on first touch, memory the kernel
		 * never used costs a host fault per page, which would be
		 * measured as write speed: touch as much as the run needs,
		 * once, and free it. */
		uint64_t t = now_ns();

		a.warm_mib = warm_memory(env.quick ? 512 : 2048);
		note("warmed %llu MiB of free memory in %.1f s",
		     (unsigned long long)a.warm_mib,
		     (double)(now_ns() - t) / 1e9);
	}

	if (want(only, "dispatch")) {
		note("dispatch: library cost per ring event");
		a.ndisp = dispatch_bench(env.quick, a.disp, 16);
		for (size_t i = 0; i < a.ndisp; i++)
			if (a.disp[i].ns_per_event > a.disp_worst)
				a.disp_worst = a.disp[i].ns_per_event;
		a.did_dispatch = true;
	}

	if (want(only, "pageout") || want(only, "pagein") ||
	    want(only, "memory") || want(only, "scaling") || want(only, "zero") ||
	    victims_wanted(only)) {
		struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts,
						       .simd_path = env.simd);

		env.sim = xpage_sim_start(&so);
		if (!env.sim)
			die("cannot start the simulator %s: %s", env.simd,
			    strerror(errno));
		bench_own_sim(xpage_sim_pid(env.sim));
	}

	if (want(only, "pageout") || want(only, "pagein")) {
		struct bguest g;
		/* whole 256 MiB steps, with room for the page-out runs */
		uint64_t pages = (pageout_pages_needed(&env) / (256 * MIB_PAGES)
				  + 1) * 256 * MIB_PAGES;
		size_t nw = env.quick ? 1000 : 5000, nc = env.quick ? 300 : 1000;
		uint64_t *gfns = calloc(nw + nc, sizeof(*gfns));

		if (!gfns)
			die("out of memory");
		note("creating a %llu MiB guest",
		     (unsigned long long)(pages / MIB_PAGES));
		a.guest_mib = pages / MIB_PAGES;
		bguest_open(&env, &g, pages, false, &pagein_callbacks);
		if (want(only, "pageout") || true) {
			/* Page-in needs pages out: the page-out runs make them. */
			note("page-out: batch sizes, per-page loop, raw write");
			pageout_bench(&env, &g, &a.po);
			a.did_pageout = want(only, "pageout");
		}
		if (want(only, "pagein")) {
			struct xpage_sim_report rep = XPAGE_OPTS(xpage_sim_report);
			size_t k = pick_evicted(&g, gfns, nw + nc, 0x5eed);

			if (k < nw + nc)
				die("only %zu paged-out gfns for page-in samples", k);
			note("bare round trip");
			bare_roundtrip(&env, g.domid, env.quick ? 5000 : 20000,
				       &a.rt_p50, &a.rt_p99, &a.rt_idle_p50);
			a.idle_dispatch_ns = dispatch_idle_ns(&g, 20000);
			note("page-in, store in page cache (%zu faults)", nw);
			pagein_latency(&env, &g, gfns, nw, false, &a.warm);
			note("page-in, store cold (%zu faults)", nc);
			pagein_latency(&env, &g, gfns + nw, nc, true, &a.cold);
			if (xpage_sim_report(env.sim, g.domid, 0, 60000, &rep) == 0) {
				a.corrupted = rep.corrupted;
				a.lost = rep.lost;
			}
			a.did_pagein = true;
		}
		bguest_close(&env, &g);
		free(gfns);
	}

	if (want(only, "zero")) {
		note("zero pages: page-out with 30 %% and with 0 %%");
		zero_bench(&env, &a.zero);
		a.did_zero = true;
	}

	if (want(only, "compress")) {
		note("compression: lz4 and zstd on four kinds of page");
		compress_bench(&env, &a.comp);
		a.did_comp = true;
	}

	if (want(only, "tiers")) {
		note("the pager's store alone: page-out and page-in per tier");
		tiers_bench(&env, &a.tiers);
		a.did_tiers = true;
	}

	if (victims_wanted(only)) {
		note("victims: page-ins per million accesses, per policy");
		victims_bench(&env, &a.vic);
		a.did_victims = true;
	}

	if (want(only, "memory")) {
		note("memory per gfn: 1, 16, 64 GiB guests");
		memory_bench(&env, &a.mem);
		a.did_memory = true;
	}

	if (want(only, "scaling")) {
		unsigned b = a.po.best_batch ? a.po.best_batch : 1024;
		bool pipe = a.po.best_batch ? a.po.pipelined : true;

		note("scaling: 256 MiB to 16 GiB");
		scaling_bench(&env, b, pipe, &a.sc);
		a.did_scaling = true;
	}

	pageout_stop_writer();
	if (env.sim)
		xpage_sim_stop(env.sim);
	bench_own_sim(0);
	loadavg(a.load_end);
	a.seconds = (double)(now_ns() - t0) / 1e9;
	print_table(&a, &env);
	if (json)
		write_json(json, &a, &env);
	return 0;
}
