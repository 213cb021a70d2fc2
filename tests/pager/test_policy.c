/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The victim policies on their own, driven in this process against a
 * simulated guest's handle (logdirty scans its log-dirty bitmap):
 * whatever a policy has to go through to find candidates, it never
 * offers a gfn twice in one call (the pager would nominate it twice, and
 * the second, refused, nomination spoils the first's slot: the page is
 * lost).
 */
#include "policy.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xpage/sim.h>
#include <xpage/xpage.h>

static int failures;

#define PAGES 1024u

static bool any(void *ctx, uint64_t gfn)
{
	(void)ctx;
	return gfn < PAGES;
}

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	(void)xp, (void)ev, (void)user;
}

/* Asked for more than there is (every gfn eligible, none old enough for
 * the logdirty bar), each policy gives every gfn at most once. */
static void no_twice(xpage_t *xp, const char *name)
{
	struct xpage_gfn_range ram = { 0, PAGES };
	struct policy_params pp = { .nr_gfns = PAGES, .recent_s = 30,
				    .ram = &ram, .nram = 1, .xp = xp,
				    .scan_ms = 100, .idle_scans = 3,
				    .seed = 1 };
	struct policy *pol = policy_create(name, &pp);
	uint64_t *out = calloc(4 * PAGES, sizeof(*out));
	uint8_t *seen = calloc(PAGES, 1);
	size_t n, twice = 0;

	if (!pol || !out || !seen) {
		fprintf(stderr, "%s: out of memory\n", name);
		exit(1);
	}
	n = pol->ops->choose(pol, out, 4 * PAGES, any, NULL, 1000000000ull);
	for (size_t i = 0; i < n; i++)
		twice += out[i] >= PAGES || seen[out[i]]++;
	printf("%s: %zu candidates, %zu twice or out of range\n", name, n,
	       twice);
	CHECK(twice == 0, "%s offered %zu gfns twice", name, twice);
	CHECK(n > 0 && n <= PAGES, "%s offered %zu gfns", name, n);
	pol->ops->destroy(pol);
	free(out);
	free(seen);
}

int main(void)
{
	struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts);
	struct xpage_sim_guest_opts go = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 1, .pages = PAGES, .seed = 3);
	struct xpage_callbacks cbs = { .sz = sizeof(cbs),
				       .populate = on_populate };
	xpage_sim_t *sim;
	xpage_t *xp;
	int dom;

	if (!getenv("XPAGE_SIMD")) {
		printf("no xpage-simd (XPAGE_SIMD): skipped\n");
		return 77;
	}
	sim = xpage_sim_start(&so);
	if (!sim) {
		fprintf(stderr, "xpage_sim_start: %s\n", strerror(errno));
		return 1;
	}
	dom = xpage_sim_create_guest(sim, &go);
	CHECK(dom > 0, "create guest: %s", xpage_strerror(dom));
	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = (uint32_t)dom, .backend = XPAGE_BACKEND_SIM,
		.sim_socket = xpage_sim_socket(sim), .ages = XPAGE_AGES_ALL);

	xp = dom > 0 ? xpage_open(&oo, &cbs) : NULL;
	CHECK(xp, "xpage_open: %s", strerror(errno));
	if (xp) {
		CHECK(xpage_logdirty_enable(xp, NULL) == 0, "log-dirty mode");
		no_twice(xp, "clock");
		no_twice(xp, "random");
		no_twice(xp, "logdirty");
		xpage_close(xp);
	}
	xpage_sim_stop(sim);
	return failures ? 1 : 0;
}
