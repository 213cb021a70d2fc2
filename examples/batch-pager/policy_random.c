/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "random": victims drawn at random from the guest's RAM, the way Xen's
 * own pager (tools/xenpaging) chooses, which also leaves alone the last
 * MRU_SIZE gfns it paged in. The yardstick the other policies are
 * measured against (xpage-bench, section "victims").
 */
#include "policy.h"

#include <stdlib.h>

#define MRU_SIZE 1024u

struct random_policy {
	struct policy base;
	uint64_t nr;
	struct xpage_gfn_range *ram;
	size_t nram;
	uint64_t ram_gfns;
	uint64_t rng;
	uint8_t *in_mru;        /* per gfn: 1 while in mru[] */
	uint64_t mru[MRU_SIZE];
	unsigned mru_pos;
};

static uint64_t next_rand(struct random_policy *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void random_destroy(struct policy *pol)
{
	struct random_policy *r = (struct random_policy *)pol;

	if (!r)
		return;
	free(r->ram);
	free(r->in_mru);
	free(r);
}

static struct policy *random_create(const struct policy_params *pp)
{
	struct random_policy *r = calloc(1, sizeof(*r));
	size_t n = pp->ram ? pp->nram : 1;

	if (!r)
		return NULL;
	r->base.ops = policy_find("random");
	r->nr = pp->nr_gfns;
	r->rng = pp->seed ^ 0x5eedull;
	r->ram = calloc(n ? n : 1, sizeof(*r->ram));
	r->in_mru = calloc(pp->nr_gfns ? pp->nr_gfns : 1, 1);
	if (!r->ram || !r->in_mru) {
		random_destroy(&r->base);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct xpage_gfn_range g = pp->ram ? pp->ram[i] :
			(struct xpage_gfn_range){ 0, pp->nr_gfns };

		if (g.first >= pp->nr_gfns)
			continue;
		if (g.count > pp->nr_gfns - g.first)
			g.count = pp->nr_gfns - g.first;
		r->ram[r->nram++] = g;
		r->ram_gfns += g.count;
	}
	for (unsigned i = 0; i < MRU_SIZE; i++)
		r->mru[i] = UINT64_MAX;
	return &r->base;
}

/* The @i-th gfn of RAM. */
static uint64_t nth_gfn(const struct random_policy *r, uint64_t i)
{
	for (size_t k = 0; k < r->nram; k++) {
		if (i < r->ram[k].count)
			return r->ram[k].first + i;
		i -= r->ram[k].count;
	}
	return 0;
}

static size_t random_choose(struct policy *pol, uint64_t *out, size_t n,
			    policy_eligible_fn eligible, void *ctx,
			    uint64_t now_ns)
{
	struct random_policy *r = (struct random_policy *)pol;
	size_t k = 0;

	(void)now_ns;
	if (!r->ram_gfns)
		return 0;
	/* A bounded number of draws: few eligible gfns left is not a
	 * reason to spin. */
	for (size_t tries = 0; k < n && tries < 8 * n + 64; tries++) {
		uint64_t g = nth_gfn(r, next_rand(r) % r->ram_gfns);
		bool dup = false;

		if (r->in_mru[g] || !eligible(ctx, g))
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = out[j] == g;
		if (!dup)
			out[k++] = g;
	}
	return k;
}

static void random_paged_in(struct policy *pol, uint64_t gfn, uint64_t now_ns)
{
	struct random_policy *r = (struct random_policy *)pol;
	uint64_t old;

	(void)now_ns;
	if (gfn >= r->nr || r->in_mru[gfn])
		return;
	old = r->mru[r->mru_pos];
	if (old != UINT64_MAX)
		r->in_mru[old] = 0;
	r->mru[r->mru_pos] = gfn;
	r->in_mru[gfn] = 1;
	r->mru_pos = (r->mru_pos + 1) % MRU_SIZE;
}

static void random_refused(struct policy *pol, uint64_t gfn, int err,
			   uint64_t now_ns)
{
	(void)pol, (void)gfn, (void)err, (void)now_ns;
}

const struct policy_ops policy_random_ops = {
	.name = "random", .create = random_create, .destroy = random_destroy,
	.choose = random_choose, .paged_in = random_paged_in,
	.refused = random_refused,
};
