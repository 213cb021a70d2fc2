/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "logdirty": victims the guest has not written for K scans of its
 * log-dirty bitmap (xpage_logdirty_scan), not paged in lately, from the
 * guest's RAM.
 *
 * Every scan_ms the policy reads and clears the log and ages each gfn:
 * a written gfn's age drops to 0, every other one's grows by one (up to
 * 255). A hand sweeps RAM as the clock's does and takes eligible gfns
 * whose age reaches a bar: after each scan, the oldest age that 1/32 of
 * RAM not out has reached, K at least (oldest_bar()); when a whole
 * revolution finds too few, it accepts one scan younger, down to 0 (the
 * pager must reach its target), until the next scan raises the bar
 * again. A gfn the guest made come back is
 * left alone recent_s seconds, doubled per page-in up to 8x, as the
 * clock does: that is the only defence against the policy's blind spot,
 * pages the guest reads but never writes, which look idle.
 *
 * Figures (--stats-json): the age of each victim when chosen, the scans
 * and their cost, and the blind spot measured: victims that came back
 * within a second although no write had been seen on them for K scans.
 * State: 1 byte of age, 1 of history and 8 of times per gfn, and the
 * bitmap (1 bit per gfn).
 */
#include "policy.h"
#include "ram_hand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SOON_DS 10u            /* "came back soon": within 1 s */
#define OLDEST_SHARE 32u       /* oldest_bar(): 1/32 of RAM */
#define NR_BUCKETS 9
static const char *const bucket_names[NR_BUCKETS] = {
	"0", "1", "2", "3", "4-7", "8-15", "16-31", "32-63", "64+",
};

struct ld_policy {
	struct policy base;
	xpage_t *xp;
	uint64_t nr;
	struct ram_hand h;      /* sweeps the guest's RAM */
	uint64_t *bits;
	uint8_t *age;           /* scans since the last write seen */
	uint8_t *ins;           /* page-ins (up to 15) */
	uint32_t *not_before;   /* 1/10 s since t0: protected until */
	uint32_t *chosen_ds;    /* when chosen, 0: not out */
	uint32_t scan_ds, k, bar, recent_ds;
	uint64_t t0_ns, last_scan_ns;
	/* figures */
	uint64_t scans, scan_ns, scan_fail, victims, soon, soon_unwritten;
	uint64_t hist[NR_BUCKETS];
	uint8_t *chosen_age;
};

static uint32_t ds_of(const struct ld_policy *l, uint64_t now_ns)
{
	return (uint32_t)((now_ns - l->t0_ns) / 100000000ull) + 1;
}

static void ld_destroy(struct policy *pol)
{
	struct ld_policy *l = (struct ld_policy *)pol;

	if (!l)
		return;
	ram_hand_free(&l->h);
	free(l->bits);
	free(l->age);
	free(l->ins);
	free(l->not_before);
	free(l->chosen_ds);
	free(l->chosen_age);
	free(l);
}

static struct policy *ld_create(const struct policy_params *pp)
{
	struct ld_policy *l = calloc(1, sizeof(*l));
	uint64_t nr = pp->nr_gfns ? pp->nr_gfns : 1;

	if (!l)
		return NULL;
	l->base.ops = policy_find("logdirty");
	l->xp = pp->xp;
	l->nr = pp->nr_gfns;
	l->k = l->bar = pp->idle_scans;
	l->scan_ds = pp->scan_ms / 100 ? pp->scan_ms / 100 : 1;
	l->recent_ds = pp->recent_s * 10;
	l->bits = calloc((nr + 63) / 64, 8);
	l->age = calloc(nr, 1);
	l->ins = calloc(nr, 1);
	l->not_before = calloc(nr, 4);
	l->chosen_ds = calloc(nr, 4);
	l->chosen_age = calloc(nr, 1);
	if (!l->xp || !l->bits || !l->age || !l->ins || !l->not_before ||
	    !l->chosen_ds || !l->chosen_age || ram_hand_init(&l->h, pp) < 0) {
		ld_destroy(&l->base);
		return NULL;
	}
	return &l->base;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Where a revolution starts after a scan: the oldest age (K at least)
 * that OLDEST_SHARE of RAM, not out, has reached. The gfns unwritten
 * longest go first: on a hot set the pages outside it are tens of scans
 * old when the hot set's rarely written tail is a few. */
static uint32_t oldest_bar(const struct ld_policy *l)
{
	uint64_t hist[256] = { 0 }, want = l->h.gfns / OLDEST_SHARE + 1, n = 0;
	uint32_t a;

	for (uint64_t g = 0; g < l->nr; g++)
		hist[l->age[g]] += !l->chosen_ds[g];
	for (a = 255; a > l->k; a--) {
		n += hist[a];
		if (n >= want)
			break;
	}
	return a;
}

/* Read and clear the log; age every gfn. */
static void ld_scan(struct ld_policy *l)
{
	struct xpage_logdirty_scan s = XPAGE_OPTS(xpage_logdirty_scan,
		.bitmap = l->bits, .nr_gfns = l->nr);
	uint64_t t = mono_ns();

	if (xpage_logdirty_scan(l->xp, &s) < 0) {
		l->scan_fail++;
		return;
	}
	for (uint64_t w = 0; w < (l->nr + 63) / 64; w++) {
		uint64_t m = l->bits[w];

		for (uint64_t g = w * 64; g < w * 64 + 64 && g < l->nr; g++) {
			if (m >> (g % 64) & 1)
				l->age[g] = 0;
			else if (l->age[g] < 255)
				l->age[g]++;
		}
	}
	l->bar = oldest_bar(l);
	l->scans++;
	l->scan_ns += mono_ns() - t;
}

static unsigned bucket(unsigned age)
{
	unsigned b = 0;

	if (age < 4)
		return age;
	for (b = 4; b < NR_BUCKETS - 1 && age >= (8u << (b - 4)); b++)
		;
	return b;
}

static void take(struct ld_policy *l, uint64_t g, uint32_t now)
{
	l->victims++;
	l->hist[bucket(l->age[g])]++;
	l->chosen_ds[g] = now;
	l->chosen_age[g] = l->age[g];
}

static size_t ld_choose(struct policy *pol, uint64_t *out, size_t n,
			policy_eligible_fn eligible, void *ctx, uint64_t now_ns)
{
	struct ld_policy *l = (struct ld_policy *)pol;
	size_t k = 0;
	uint32_t now, top = 256; /* ages taken: [bar, top) */

	if (!l->t0_ns)
		l->t0_ns = now_ns;
	now = ds_of(l, now_ns);
	if (!l->last_scan_ns || now_ns - l->last_scan_ns >=
	    (uint64_t)l->scan_ds * 100000000ull) {
		ld_scan(l);
		l->last_scan_ns = now_ns;
	}
	for (uint64_t seen = 0; k < n && l->h.gfns; seen++) {
		uint64_t g;

		if (seen == l->h.gfns) {
			if (!l->bar)
				break;
			/* The revolution just made took every eligible gfn
			 * of age bar or more: the next takes those exactly
			 * one scan younger, never one twice. */
			top = l->bar--;
			seen = 0;
		}
		g = ram_hand_next(&l->h);
		if (l->age[g] < l->bar || l->age[g] >= top ||
		    l->not_before[g] > now ||
		    !eligible(ctx, g))
			continue;
		take(l, g, now);
		out[k++] = g;
	}
	return k;
}

static void ld_paged_in(struct policy *pol, uint64_t gfn, uint64_t now_ns)
{
	struct ld_policy *l = (struct ld_policy *)pol;
	uint32_t now;
	unsigned ins;

	if (gfn >= l->nr)
		return;
	if (!l->t0_ns)
		l->t0_ns = now_ns;
	now = ds_of(l, now_ns);
	if (l->chosen_ds[gfn] && now - l->chosen_ds[gfn] <= SOON_DS) {
		l->soon++;
		l->soon_unwritten += l->chosen_age[gfn] >= l->k;
	}
	l->chosen_ds[gfn] = 0;
	ins = l->ins[gfn] < 15 ? l->ins[gfn]++ : 15;
	l->not_before[gfn] = now + l->recent_ds * (1u << (ins < 3 ? ins : 3));
	l->age[gfn] = 0; /* it is in use */
}

static void ld_refused(struct policy *pol, uint64_t gfn, int err,
		       uint64_t now_ns)
{
	struct ld_policy *l = (struct ld_policy *)pol;

	if (gfn >= l->nr)
		return;
	if (!l->t0_ns)
		l->t0_ns = now_ns;
	l->chosen_ds[gfn] = 0;
	l->age[gfn] = 0;
	l->not_before[gfn] = ds_of(l, now_ns) + (err == -ERANGE ? 1u << 30 : 20);
}

static void ld_report(struct policy *pol, FILE *f)
{
	struct ld_policy *l = (struct ld_policy *)pol;

	fprintf(f, "  \"logdirty_idle_scans\": %u,\n", l->k);
	fprintf(f, "  \"logdirty_scans\": %llu,\n", (unsigned long long)l->scans);
	fprintf(f, "  \"logdirty_scan_failures\": %llu,\n",
		(unsigned long long)l->scan_fail);
	fprintf(f, "  \"logdirty_scan_cpu_us\": %.1f,\n", l->scans ?
		(double)l->scan_ns / 1000.0 / (double)l->scans : 0.0);
	fprintf(f, "  \"victim_age_scans\": {");
	for (unsigned b = 0; b < NR_BUCKETS; b++)
		fprintf(f, "%s\"%s\": %llu", b ? ", " : "", bucket_names[b],
			(unsigned long long)l->hist[b]);
	fprintf(f, "},\n");
	fprintf(f, "  \"victims_back_within_1s\": %llu,\n",
		(unsigned long long)l->soon);
	fprintf(f, "  \"victims_back_within_1s_unwritten\": %llu,\n",
		(unsigned long long)l->soon_unwritten);
	fprintf(f, "  \"blind_spot_share\": %.4f,\n", l->victims ?
		(double)l->soon_unwritten / (double)l->victims : 0.0);
}

const struct policy_ops policy_logdirty_ops = {
	.name = "logdirty", .create = ld_create, .destroy = ld_destroy,
	.choose = ld_choose, .paged_in = ld_paged_in, .refused = ld_refused,
	.report = ld_report,
};
