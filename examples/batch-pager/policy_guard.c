/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard around every policy (policy_create()): it hands the page-out
 * loop the candidates of the policy it wraps, and counts those that are
 * not the guest's RAM. The count is the pager's statistic "nominated
 * outside RAM" (every candidate is nominated), measured against the
 * library's RAM ranges, not taken from the policy's own word.
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

struct guard {
	struct policy base;
	struct policy *inner;
	struct xpage_gfn_range *ram; /* NULL: RAM unknown */
	size_t nram;
	uint64_t non_ram;
};

static bool in_ram(const struct guard *g, uint64_t gfn)
{
	size_t lo = 0, hi = g->nram;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gfn < g->ram[mid].first)
			hi = mid;
		else if (gfn - g->ram[mid].first >= g->ram[mid].count)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static size_t guard_choose(struct policy *pol, uint64_t *out, size_t n,
			   policy_eligible_fn eligible, void *ctx,
			   uint64_t now_ns)
{
	struct guard *g = (struct guard *)pol;
	size_t k = g->inner->ops->choose(g->inner, out, n, eligible, ctx,
					 now_ns);

	for (size_t i = 0; g->ram && i < k; i++)
		g->non_ram += !in_ram(g, out[i]);
	return k;
}

static void guard_paged_in(struct policy *pol, uint64_t gfn, uint64_t now_ns)
{
	struct guard *g = (struct guard *)pol;

	g->inner->ops->paged_in(g->inner, gfn, now_ns);
}

static void guard_refused(struct policy *pol, uint64_t gfn, int err,
			  uint64_t now_ns)
{
	struct guard *g = (struct guard *)pol;

	g->inner->ops->refused(g->inner, gfn, err, now_ns);
}

static void guard_report(struct policy *pol, FILE *f)
{
	struct guard *g = (struct guard *)pol;

	if (g->inner->ops->report)
		g->inner->ops->report(g->inner, f);
}

void policy_report(struct policy *pol, FILE *f)
{
	struct guard *g = (struct guard *)pol;

	if (!pol)
		return;
	fprintf(f, "  \"policy\": \"%s\",\n", g->inner->ops->name);
	pol->ops->report(pol, f);
}

static void guard_destroy(struct policy *pol)
{
	struct guard *g = (struct guard *)pol;

	if (!g)
		return;
	if (g->inner)
		g->inner->ops->destroy(g->inner);
	free(g->ram);
	free(g);
}

static const struct policy_ops guard_ops = {
	.name = "guard", .destroy = guard_destroy, .choose = guard_choose,
	.paged_in = guard_paged_in, .refused = guard_refused,
	.report = guard_report,
};

struct policy *policy_create(const char *name, const struct policy_params *pp)
{
	const struct policy_ops *ops = policy_find(name);
	struct guard *g = calloc(1, sizeof(*g));

	if (!ops || !g) {
		free(g);
		return NULL;
	}
	g->base.ops = &guard_ops;
	g->inner = ops->create(pp);
	if (pp->ram) {
		g->ram = calloc(pp->nram ? pp->nram : 1, sizeof(*g->ram));
		if (g->ram)
			memcpy(g->ram, pp->ram, pp->nram * sizeof(*g->ram));
		g->nram = pp->nram;
	}
	if (!g->inner || (pp->ram && !g->ram)) {
		guard_destroy(&g->base);
		return NULL;
	}
	return &g->base;
}

uint64_t policy_non_ram(const struct policy *pol)
{
	const struct guard *g = (const struct guard *)pol;

	return pol->ops == &guard_ops && g->ram ? g->non_ram : UINT64_MAX;
}
