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
	printf("  store I/O   %.1f MiB written, %.1f MiB read\n",
	       (double)p->st.io_bytes_written / 1048576.0,
	       (double)p->st.io_bytes_read / 1048576.0);
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
	if (xs)
		printf("  library     %llu hypercalls, %llu ring requests, "
		       "%llu coalesced, %llu refused (the hypervisor's own)\n",
		       (unsigned long long)xs->hypercalls,
		       (unsigned long long)xs->requests,
		       (unsigned long long)xs->coalesced,
		       (unsigned long long)xs->hv_refused);
	fflush(stdout);
}

int report_json(struct pager *p, const char *path, const struct xpage_stats *xs,
		const struct oracle_result *orc)
{
	FILE *f = fopen(path, "w");
	uint32_t p50 = lat_pct(&p->st.lat, 50), p99 = lat_pct(&p->st.lat, 99);

	if (!f) {
		errx_("--stats-json %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\n");
	fprintf(f, "  \"domid\": %u,\n", p->domid);
	fprintf(f, "  \"backend\": \"%s\",\n", p->info.backend ? p->info.backend : "");
	fprintf(f, "  \"generation\": \"%s\",\n",
		xpage_generation_name((int)p->info.generation));
	fprintf(f, "  \"batch\": %u,\n", p->o.batch);
	fprintf(f, "  \"guest_pages\": %llu,\n", (unsigned long long)p->guest_pages);
	if (p->target != UINT64_MAX)
		fprintf(f, "  \"target_pages\": %llu,\n", (unsigned long long)p->target);
	else
		fprintf(f, "  \"target_pages\": null,\n");
	fprintf(f, "  \"pages_out\": %llu,\n", (unsigned long long)p->st.pages_out);
	fprintf(f, "  \"pages_in\": %llu,\n", (unsigned long long)p->st.pages_in);
	fprintf(f, "  \"pages_in_demand\": %llu,\n",
		(unsigned long long)p->st.pages_in_demand);
	fprintf(f, "  \"pages_in_drain\": %llu,\n",
		(unsigned long long)p->st.pages_in_drain);
	fprintf(f, "  \"pages_still_out\": %llu,\n", (unsigned long long)p->nr_out);
	fprintf(f, "  \"evict_fail\": %llu,\n", (unsigned long long)p->st.evict_fail);
	fprintf(f, "  \"evict_fail_before_io\": %llu,\n",
		(unsigned long long)p->st.evict_fail_before_io);
	fprintf(f, "  \"drops\": %llu,\n", (unsigned long long)p->st.drops);
	fprintf(f, "  \"nominate_refused\": %llu,\n",
		(unsigned long long)p->st.nominate_fail);
	fprintf(f, "  \"evict_refused\": %llu,\n",
		(unsigned long long)p->st.evict_refused);
	fprintf(f, "  \"batches\": %llu,\n", (unsigned long long)p->st.batches);
	if (policy_non_ram(p->pol) != UINT64_MAX)
		fprintf(f, "  \"nominated_non_ram\": %llu,\n",
			(unsigned long long)policy_non_ram(p->pol));
	else
		fprintf(f, "  \"nominated_non_ram\": null,\n");
	fprintf(f, "  \"io_bytes_written\": %llu,\n",
		(unsigned long long)p->st.io_bytes_written);
	fprintf(f, "  \"io_bytes_read\": %llu,\n",
		(unsigned long long)p->st.io_bytes_read);
	fprintf(f, "  \"pageout_pages_per_s\": %.1f,\n", pageout_rate(p));
	fprintf(f, "  \"pageout_step_ms\": {");
	for (int i = 0; i < PO_STEPS; i++)
		fprintf(f, "%s\"%s\": %.1f", i ? ", " : "",
			pageout_step_names[i], (double)p->st.step_ns[i] / 1e6);
	fprintf(f, "},\n");
	fprintf(f, "  \"pagein_latency_us_p50\": %u,\n", p50);
	fprintf(f, "  \"pagein_latency_us_p99\": %u,\n", p99);
	if (p->st.target_reached_s >= 0)
		fprintf(f, "  \"target_reached_s\": %.3f,\n", p->st.target_reached_s);
	else
		fprintf(f, "  \"target_reached_s\": null,\n");
	fprintf(f, "  \"drain_s\": %.3f,\n", p->st.drain_s);
	fprintf(f, "  \"adopted\": %llu,\n", (unsigned long long)p->st.adopted);
	fprintf(f, "  \"unstuck\": %llu,\n", (unsigned long long)p->st.unstuck);
	fprintf(f, "  \"store_full\": %s,\n", p->store_full ? "true" : "false");
	if (xs) {
		fprintf(f, "  \"hypercalls\": %llu,\n", (unsigned long long)xs->hypercalls);
		fprintf(f, "  \"ring_requests\": %llu,\n", (unsigned long long)xs->requests);
		fprintf(f, "  \"coalesced\": %llu,\n", (unsigned long long)xs->coalesced);
		fprintf(f, "  \"hv_refused\": %llu,\n", (unsigned long long)xs->hv_refused);
	}
	if (orc && orc->have) {
		fprintf(f, "  \"oracle_lost\": %llu,\n", (unsigned long long)orc->lost);
		fprintf(f, "  \"oracle_corrupted\": %llu,\n",
			(unsigned long long)orc->corrupted);
		fprintf(f, "  \"oracle_stuck\": %llu,\n", (unsigned long long)orc->stuck);
		fprintf(f, "  \"oracle_paged\": %llu,\n", (unsigned long long)orc->paged);
		fprintf(f, "  \"oracle_nominated\": %llu,\n",
			(unsigned long long)orc->nominated);
		fprintf(f, "  \"oracle_crashed\": %u,\n", orc->crashed);
	}
	fprintf(f, "  \"exit_code\": %d\n", p->exit_code);
	fprintf(f, "}\n");
	if (fclose(f) != 0) {
		errx_("--stats-json %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
