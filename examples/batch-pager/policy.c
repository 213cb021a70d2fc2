/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The default victim policy, "clock": a hand sweeps the gfns round-robin
 * and takes every eligible one it passes, except gfns it was told to
 * leave alone:
 *   - a gfn the guest made come back in is protected for recent_s
 *     seconds, doubled for every further page-in (up to 8x): hot pages
 *     stop being paged out after a few rounds, and a page that went
 *     cold becomes a candidate again;
 *   - a gfn the hypervisor refused to nominate (in use, not RAM) is
 *     skipped for a while, longer each time.
 * The hand sweeps the guest's RAM only (policy_params.ram), so holes and
 * special pages are never offered.
 * State: 4 bytes of "not before" time and 1 byte of history per gfn.
 */
#include "policy.h"
#include "ram_hand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct clock_policy {
	struct policy base;
	uint64_t nr;
	struct ram_hand h;    /* sweeps the guest's RAM */
	uint32_t recent_ds;   /* protection after a page-in, 1/10 s */
	uint64_t t0_ns;
	uint32_t *not_before; /* 1/10 s since t0 */
	uint8_t *hist;        /* low 4 bits: page-ins, high 4: refusals */
};

static uint32_t ds_since(const struct clock_policy *c, uint64_t now_ns)
{
	uint64_t d = (now_ns - c->t0_ns) / 100000000ull;

	return d > UINT32_MAX - 1000000 ? UINT32_MAX - 1000000 : (uint32_t)d;
}

static void clock_destroy(struct policy *pol);

static struct policy *clock_create(const struct policy_params *pp)
{
	struct clock_policy *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base.ops = policy_find("clock");
	c->nr = pp->nr_gfns;
	c->recent_ds = pp->recent_s * 10;
	c->not_before = calloc(pp->nr_gfns ? pp->nr_gfns : 1, sizeof(uint32_t));
	c->hist = calloc(pp->nr_gfns ? pp->nr_gfns : 1, 1);
	if (!c->not_before || !c->hist || ram_hand_init(&c->h, pp) < 0) {
		clock_destroy(&c->base);
		return NULL;
	}
	c->t0_ns = 0; /* times are relative to the first call */
	return &c->base;
}

static void clock_destroy(struct policy *pol)
{
	struct clock_policy *c = (struct clock_policy *)pol;

	if (!c)
		return;
	free(c->not_before);
	free(c->hist);
	ram_hand_free(&c->h);
	free(c);
}

static void set_t0(struct clock_policy *c, uint64_t now_ns)
{
	if (!c->t0_ns)
		c->t0_ns = now_ns ? now_ns : 1;
}

static size_t clock_choose(struct policy *pol, uint64_t *out, size_t n,
			   policy_eligible_fn eligible, void *ctx,
			   uint64_t now_ns)
{
	struct clock_policy *c = (struct clock_policy *)pol;
	size_t k = 0;
	uint32_t now;

	set_t0(c, now_ns);
	now = ds_since(c, now_ns);
	/* At most one revolution per call. */
	for (uint64_t seen = 0; seen < c->h.gfns && k < n; seen++) {
		uint64_t g = ram_hand_next(&c->h);

		if (c->not_before[g] > now || !eligible(ctx, g))
			continue;
		out[k++] = g;
	}
	return k;
}

static void clock_paged_in(struct policy *pol, uint64_t gfn, uint64_t now_ns)
{
	struct clock_policy *c = (struct clock_policy *)pol;
	unsigned ins;

	if (gfn >= c->nr)
		return;
	set_t0(c, now_ns);
	ins = c->hist[gfn] & 0x0f;
	if (ins < 15)
		c->hist[gfn] = (uint8_t)((c->hist[gfn] & 0xf0) | (ins + 1));
	c->not_before[gfn] = ds_since(c, now_ns) +
			     c->recent_ds * (1u << (ins < 3 ? ins : 3));
}

static void clock_refused(struct policy *pol, uint64_t gfn, int err,
			  uint64_t now_ns)
{
	struct clock_policy *c = (struct clock_policy *)pol;
	unsigned r;
	uint32_t ds;

	if (gfn >= c->nr)
		return;
	set_t0(c, now_ns);
	r = c->hist[gfn] >> 4;
	if (r < 15)
		c->hist[gfn] = (uint8_t)((c->hist[gfn] & 0x0f) | ((r + 1) << 4));
	/* Out of range or not RAM is for good; a busy page may free up. */
	ds = err == -ERANGE ? UINT32_MAX / 2 : 20u << (r < 6 ? r : 6);
	c->not_before[gfn] = ds_since(c, now_ns) + ds;
}

static const struct policy_ops clock_ops = {
	.name = "clock", .create = clock_create, .destroy = clock_destroy,
	.choose = clock_choose, .paged_in = clock_paged_in,
	.refused = clock_refused,
};

extern const struct policy_ops policy_random_ops;
extern const struct policy_ops policy_logdirty_ops;

static const struct policy_ops *const policies[] = {
	&clock_ops, &policy_random_ops, &policy_logdirty_ops,
};

const struct policy_ops *policy_find(const char *name)
{
	if (!name)
		return policies[0];
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(policies[i]->name, name))
			return policies[i];
	return NULL;
}

const char *policy_names(void)
{
	return "clock, random, logdirty";
}
