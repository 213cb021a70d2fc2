/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the user sees: a progress line on a terminal (nothing when
 * stderr is not one), the final report, and --stats-json.
 */
#include "pager.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MIB(pages) ((double)(pages) * XPAGE_PAGE_SIZE / (1024.0 * 1024.0))

static uint64_t last_ns, last_out, last_in;
static double rate_out, rate_in;
static bool line_open;

void report_progress(struct pager *p, bool force)
{
	uint64_t t = now_ns();
	double dt;
	char tgt[48];

	if (!p->tty)
		return;
	if (!force && t - last_ns < 500000000ull)
		return;
	dt = last_ns ? (double)(t - last_ns) / 1e9 : 0;
	if (dt > 0) {
		rate_out = (double)(p->st.pages_out - last_out) / dt;
		rate_in = (double)(p->st.pages_in - last_in) / dt;
	}
	last_ns = t;
	last_out = p->st.pages_out;
	last_in = p->st.pages_in;
	if (p->target == UINT64_MAX)
		snprintf(tgt, sizeof(tgt), "none");
	else
		snprintf(tgt, sizeof(tgt), "%.1f MiB%s", MIB(p->target),
			 p->target_reached ? " (reached)" : "");
	fprintf(stderr, "\r\033[K%s %6.1fs  out %llu (%.0f/s)  in %llu (%.0f/s)  "
		"resident %.1f MiB  target %s",
		p->draining ? "draining" : "paging  ",
		(double)(t - p->t0_ns) / 1e9,
		(unsigned long long)p->st.pages_out, rate_out,
		(unsigned long long)p->st.pages_in, rate_in,
		MIB(pager_resident(p)), tgt);
	if (p->draining)
		fprintf(stderr, "  left %llu", (unsigned long long)p->nr_out);
	fflush(stderr);
	line_open = true;
}

void report_progress_end(struct pager *p)
{
	if (p->tty && line_open) {
		fputc('\n', stderr);
		line_open = false;
	}
}

/* x / pages out (0 before any page went out). */
static double per_page_out(const struct pager *p, uint64_t x)
{
	return p->st.pages_out ? (double)x / (double)p->st.pages_out : 0;
}

static double pageout_rate(const struct pager *p)
{
	return p->st.pageout_ns ?
	       (double)p->st.pages_out / ((double)p->st.pageout_ns / 1e9) : 0;
}

void report_final(struct pager *p, const struct xpage_stats *xs)
{
	uint32_t p50 = lat_pct(&p->st.lat, 50), p99 = lat_pct(&p->st.lat, 99);

	report_progress_end(p);
	printf("xpage-batch-pager: domain %u (%s, %s, age %u), batch %u\n",
	       p->domid, p->info.backend ? p->info.backend : "?",
	       xpage_generation_name((int)p->info.generation), p->info.age,
	       p->o.batch);
	printf("  paged out   %llu pages (%.1f MiB) in %llu batches, "
	       "%.0f pages/s while paging out\n",
	       (unsigned long long)p->st.pages_out, MIB(p->st.pages_out),
	       (unsigned long long)p->st.batches, pageout_rate(p));
	printf("  paged in    %llu pages: %llu on demand (latency p50 %u us, "
	       "p99 %u us), %llu at the drain (%.2f s)\n",
	       (unsigned long long)p->st.pages_in,
	       (unsigned long long)p->st.pages_in_demand, p50, p99,
	       (unsigned long long)p->st.pages_in_drain, p->st.drain_s);
	if (p->pf.depth)
		printf("  prefetch    %llu pages loaded ahead of %llu walking "
		       "faults: %llu used, %llu wasted, %llu pending\n",
		       (unsigned long long)p->pf.loaded,
		       (unsigned long long)p->pf.runs,
		       (unsigned long long)p->pf.used,
		       (unsigned long long)p->pf.wasted,
		       (unsigned long long)prefetch_pending(&p->pf));
	printf("  evict_fail  %llu (%llu before any I/O), drops %llu, "
	       "nominate refused %llu, evict refused %llu\n",
	       (unsigned long long)p->st.evict_fail,
	       (unsigned long long)p->st.evict_fail_before_io,
	       (unsigned long long)p->st.drops,
	       (unsigned long long)p->st.nominate_fail,
	       (unsigned long long)p->st.evict_refused);
	if (policy_non_ram(p->pol) != UINT64_MAX)
		printf("  RAM         %llu pages in %zu ranges of %llu gfns; "
		       "%llu gfns outside RAM nominated\n",
		       (unsigned long long)p->guest_pages, p->nram,
		       (unsigned long long)p->nr_gfns,
		       (unsigned long long)policy_non_ram(p->pol));
	else
		printf("  RAM         not known: every gfn was a candidate\n");
	printf("  store I/O   %.1f MiB written, %.1f MiB read; %llu zero pages "
	       "out (%.1f %%) with no write, %.0f bytes written per page out\n",
	       (double)p->st.io_bytes_written / 1048576.0,
	       (double)p->st.io_bytes_read / 1048576.0,
	       (unsigned long long)p->st.zero_pages_out,
	       100.0 * per_page_out(p, p->st.zero_pages_out),
	       per_page_out(p, p->st.io_bytes_written));
	if (p->target != UINT64_MAX) {
		if (p->st.target_reached_s >= 0)
			printf("  target      %.1f MiB resident, reached after "
			       "%.2f s\n", MIB(p->target), p->st.target_reached_s);
		else
			printf("  target      %.1f MiB resident, not reached\n",
			       MIB(p->target));
	}
	if (p->st.adopted)
		printf("  re-attach   %llu pages adopted from a previous run\n",
		       (unsigned long long)p->st.adopted);
	if (p->st.corrupt_records)
		printf("  corrupt     %llu pages refused: their data failed its "
		       "crc32c, they stay paged out\n",
		       (unsigned long long)p->st.corrupt_records);
	if (xs)
		printf("  library     %llu hypercalls, %llu ring requests, "
		       "%llu coalesced, %llu refused (the hypervisor's own)\n",
		       (unsigned long long)xs->hypercalls,
		       (unsigned long long)xs->requests,
		       (unsigned long long)xs->coalesced,
		       (unsigned long long)xs->hv_refused);
	fflush(stdout);
}

/* One JSON member, "name": value, and the comma the object needs. */
static void ju64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "  \"%s\": %llu,\n", name, (unsigned long long)v);
}

/* The same, null where @v is @none (not known). */
static void ju64_or_null(FILE *f, const char *name, uint64_t v, uint64_t none)
{
	if (v == none)
		fprintf(f, "  \"%s\": null,\n", name);
	else
		ju64(f, name, v);
}

/* The code the guest runs as the library sees it now, its kernel's and
 * its processes' (null once the handle is gone), and how many of its
 * pages this pager chose as victims (none unless --page-code). */
static void json_code(FILE *f, struct pager *p)
{
	uint64_t g[1024], code = 0, ucode = 0;
	uint32_t h[1024];
	int rc = p->xp ? 0 : -1;

	for (uint64_t b = 0; !rc && b < p->nr_gfns; b += 1024) {
		size_t n = p->nr_gfns - b < 1024 ? (size_t)(p->nr_gfns - b) : 1024;

		for (size_t i = 0; i < n; i++)
			g[i] = b + i;
		rc = xpage_gfn_hints(p->xp, g, n, 0, h);
		for (size_t i = 0; !rc && i < n; i++) {
			code += (h[i] & XPAGE_HINT_KERNEL_CODE) != 0;
			ucode += (h[i] & XPAGE_HINT_USER_CODE) != 0;
		}
	}
	ju64_or_null(f, "kernel_code_pages", rc ? UINT64_MAX : code, UINT64_MAX);
	ju64_or_null(f, "user_code_pages", rc ? UINT64_MAX : ucode, UINT64_MAX);
	ju64(f, "code_chosen", p->st.code_chosen);
}

/* The first batches, step by step (pageout.c, trace_batch). */
static void json_trace(FILE *f, const struct pager *p)
{
	fprintf(f, "  \"pageout_first_batches\": [");
	for (uint32_t i = 0; i < p->st.traced; i++) {
		const struct batch_trace *b = &p->st.trace[i];

		fprintf(f, "%s\n    {\"at_ms\": %u, \"out_before\": %u, "
			"\"n\": %u, \"step_us\": {", i ? "," : "", b->at_ms,
			b->out_before, b->n);
		for (int s = 0; s < PO_STEPS; s++)
			fprintf(f, "%s\"%s\": %u", s ? ", " : "",
				pageout_step_names[s], b->step_us[s]);
		fprintf(f, "}}");
	}
	fprintf(f, "],\n");
}

/* What the store's compression did: the codec, the pages written with
 * data each way, and the ratio of their size to what they took. */
static void json_compress(FILE *f, const struct pager *p)
{
	struct store_stats ss = { 0 };
	uint64_t pages;

	if (p->store)
		store_get_stats(p->store, &ss);
	pages = ss.pages_raw + ss.pages_compressed;
	fprintf(f, "  \"compress\": \"%s\",\n", compress_name(p->o.compress));
	ju64(f, "pages_compressed", ss.pages_compressed);
	ju64(f, "pages_raw", ss.pages_raw);
	fprintf(f, "  \"compression_ratio\": %.3f,\n", ss.bytes_stored ?
		(double)pages * XPAGE_PAGE_SIZE / (double)ss.bytes_stored : 1.0);
}

/* The RAM tier: its size, the copies it took and let go, and the pages
 * read from it and from the file, with the demand page-ins' latency
 * from each (lat_pct sorts the samples: @p is not const). */
static void json_tiers(FILE *f, struct pager *p)
{
	struct store_stats ss = { 0 };

	if (p->store)
		store_get_stats(p->store, &ss);
	ju64(f, "ram_tier_mib", p->o.ram_tier_mib);
	ju64(f, "ram_tier_copies", ss.ram_copies);
	ju64(f, "ram_tier_dropped", ss.ram_dropped);
	ju64(f, "pages_read_ram_tier", ss.reads_ram);
	ju64(f, "pages_read_file", ss.reads_file);
	fprintf(f, "  \"pagein_latency_us_p50_ram_tier\": %u,\n",
		lat_pct(&p->st.lat_ram, 50));
	fprintf(f, "  \"pagein_latency_us_p50_file\": %u,\n",
		lat_pct(&p->st.lat_file, 50));
}

/* The time each page-out step took, in ms (pageout.c, lap). */
static void json_steps(FILE *f, const struct pager *p)
{
	fprintf(f, "  \"pageout_step_ms\": {");
	for (int i = 0; i < PO_STEPS; i++)
		fprintf(f, "%s\"%s\": %.1f", i ? ", " : "",
			pageout_step_names[i], (double)p->st.step_ns[i] / 1e6);
	fprintf(f, "},\n");
	json_trace(f, p);
}

/* What the library negotiated and loaded: asked again while the handle is
 * open (the version word is the last request's), else as it was opened. */
static void json_hypervisor(FILE *f, const struct pager *p)
{
	struct xpage_info now = XPAGE_OPTS(xpage_info);
	const struct xpage_info *i = &p->info;
	uint32_t version = p->info.request_version;

	if (p->xp && xpage_get_info(p->xp, &now) == 0)
		version = now.request_version;
	fprintf(f, "  \"backend\": \"%s\",\n", i->backend ? i->backend : "");
	fprintf(f, "  \"generation\": \"%s\",\n",
		xpage_generation_name((int)i->generation));
	fprintf(f, "  \"xen\": \"%u.%u\",\n", i->xen_major, i->xen_minor);
	fprintf(f, "  \"age\": %u,\n", i->age);
	fprintf(f, "  \"features\": \"0x%llx\",\n", (unsigned long long)i->features);
	fprintf(f, "  \"hv_features\": \"0x%llx\",\n",
		(unsigned long long)i->hv_features);
	if (p->xen_library[0] && !strpbrk(p->xen_library, "\"\\"))
		fprintf(f, "  \"libxenctrl\": \"%s\",\n", p->xen_library);
	else
		fprintf(f, "  \"libxenctrl\": null,\n");
	fprintf(f, "  \"request_version\": %u,\n", version);
}

/* Prefetch (prefetch.h): pages_in_prefetch of pages_in were loaded
 * ahead. */
static void json_prefetch(FILE *f, const struct prefetch *pf)
{
	fprintf(f, "  \"prefetch_depth\": %u,\n", pf->depth);
	ju64(f, "prefetch_runs", pf->runs);
	ju64(f, "pages_in_prefetch", pf->loaded);
	ju64(f, "prefetch_used", pf->used);
	ju64(f, "prefetch_wasted", pf->wasted);
	ju64(f, "prefetch_pending", prefetch_pending(pf));
}

/* The pager's own figures. */
static void json_pager(FILE *f, struct pager *p)
{
	fprintf(f, "  \"domid\": %u,\n", p->domid);
	json_hypervisor(f, p);
	fprintf(f, "  \"batch\": %u,\n", p->o.batch);
	ju64(f, "guest_pages", p->guest_pages);
	ju64_or_null(f, "target_pages", p->target, UINT64_MAX);
	ju64(f, "pages_out", p->st.pages_out);
	ju64(f, "pages_in", p->st.pages_in);
	ju64(f, "pages_in_demand", p->st.pages_in_demand);
	ju64(f, "pages_in_drain", p->st.pages_in_drain);
	ju64(f, "pages_still_out", p->nr_out);
	json_prefetch(f, &p->pf);
	/* nominated gfns not settled (store kept): stuck and refused evicts */
	ju64(f, "gfns_unsettled", (uint64_t)(p->nstuck + p->nretry));
	ju64(f, "evict_fail", p->st.evict_fail);
	ju64(f, "evict_fail_before_io", p->st.evict_fail_before_io);
	ju64(f, "drops", p->st.drops);
	ju64(f, "nominate_refused", p->st.nominate_fail);
	ju64(f, "evict_refused", p->st.evict_refused);
	ju64(f, "batches", p->st.batches);
	ju64_or_null(f, "nominated_non_ram", policy_non_ram(p->pol), UINT64_MAX);
	json_code(f, p);
	ju64(f, "io_bytes_written", p->st.io_bytes_written);
	ju64(f, "io_bytes_read", p->st.io_bytes_read);
	ju64(f, "zero_pages_out", p->st.zero_pages_out);
	fprintf(f, "  \"zero_share\": %.4f,\n", per_page_out(p, p->st.zero_pages_out));
	fprintf(f, "  \"bytes_written_per_page_out\": %.1f,\n",
		per_page_out(p, p->st.io_bytes_written));
	json_compress(f, p);
	fprintf(f, "  \"pageout_pages_per_s\": %.1f,\n", pageout_rate(p));
	json_steps(f, p);
	fprintf(f, "  \"pagein_latency_us_p50\": %u,\n", lat_pct(&p->st.lat, 50));
	fprintf(f, "  \"pagein_latency_us_p99\": %u,\n", lat_pct(&p->st.lat, 99));
	json_tiers(f, p);
	if (p->st.target_reached_s >= 0)
		fprintf(f, "  \"target_reached_s\": %.3f,\n", p->st.target_reached_s);
	else
		fprintf(f, "  \"target_reached_s\": null,\n");
	fprintf(f, "  \"drain_s\": %.3f,\n", p->st.drain_s);
	ju64(f, "adopted", p->st.adopted);
	ju64(f, "unstuck", p->st.unstuck);
	ju64(f, "relocated", p->st.relocated);
	ju64(f, "corrupt_records", p->st.corrupt_records);
	fprintf(f, "  \"store_full\": %s,\n", p->store_full ? "true" : "false");
}

/* The library's counters, and the simulator's oracle. */
static void json_checks(FILE *f, const struct xpage_stats *xs,
			const struct oracle_result *orc)
{
	if (xs) {
		ju64(f, "hypercalls", xs->hypercalls);
		ju64(f, "ring_requests", xs->requests);
		ju64(f, "coalesced", xs->coalesced);
		ju64(f, "hv_refused", xs->hv_refused);
	}
	if (orc && orc->have) {
		ju64(f, "oracle_lost", orc->lost);
		ju64(f, "oracle_corrupted", orc->corrupted);
		ju64(f, "oracle_stuck", orc->stuck);
		ju64(f, "oracle_paged", orc->paged);
		ju64(f, "oracle_nominated", orc->nominated);
		ju64(f, "oracle_accesses", orc->accesses);
		ju64(f, "oracle_faults", orc->faults);
		fprintf(f, "  \"oracle_crashed\": %u,\n", orc->crashed);
	}
}

int report_json(struct pager *p, const char *path, const struct xpage_stats *xs,
		const struct oracle_result *orc)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		errx_("--stats-json %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\n");
	json_pager(f, p);
	policy_report(p->pol, f);
	json_checks(f, xs, orc);
	fprintf(f, "  \"exit_code\": %d\n", p->exit_code);
	fprintf(f, "}\n");
	if (fclose(f) != 0) {
		errx_("--stats-json %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
