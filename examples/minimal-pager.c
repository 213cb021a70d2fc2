/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * minimal-pager: the smallest complete pager written with libxpage.
 *
 * It pages up to --pages gfns of a domain out to memory (a real pager
 * writes them to storage), serves the guest's page-in requests while
 * --seconds pass, then pages everything back in and closes.
 *
 *   minimal-pager --domid N [--sim-socket PATH] [--pages N] [--seconds S]
 *
 * Against Xen it needs nothing else; against the simulator, give the
 * socket (or set XPAGE_SIM_SOCKET). Build: cc minimal-pager.c
 *   $(pkg-config --cflags --libs libxpage)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xpage/xpage.h>

#define BATCH 256

struct pager {
	uint8_t **store;   /* store[gfn]: the page's contents while out */
	uint64_t out;      /* pages held in the store */
};

/* The guest (or a foreign mapper) needs a page back: give it its data. */
static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	struct pager *p = user;
	void *buf[1] = { p->store[ev->gfn] };
	int st;

	if (!buf[0]) {
		fprintf(stderr, "populate for gfn %#llx we never paged out\n",
			(unsigned long long)ev->gfn);
		return;
	}
	/* Load the contents and answer every vCPU waiting for it. */
	if (xpage_load(xp, &ev->gfn, 1, buf, XPAGE_LOAD_RESUME, &st) == 1) {
		free(p->store[ev->gfn]);
		p->store[ev->gfn] = NULL;
		p->out--;
	} else {
		fprintf(stderr, "load of gfn %#llx: %s\n",
			(unsigned long long)ev->gfn, xpage_strerror(st));
	}
}

/* A nominated page was touched before we evicted it: drop our copy. */
static void on_evict_fail(xpage_t *xp, uint64_t gfn, void *user)
{
	struct pager *p = user;

	(void)xp;
	free(p->store[gfn]);
	p->store[gfn] = NULL;
}

/* The guest gave the page back to Xen: our copy is not needed. */
static void on_drop(xpage_t *xp, uint64_t gfn, void *user)
{
	struct pager *p = user;

	(void)xp;
	if (p->store[gfn]) {
		free(p->store[gfn]);
		p->store[gfn] = NULL;
		p->out--;
	}
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "libxpage[%d]: %s\n", level, msg);
}

/* Page out one batch starting at *next: nominate, map, copy, unmap,
 * evict. Returns pages evicted. */
static int page_out_batch(xpage_t *xp, struct pager *p, uint64_t *next,
			  uint64_t nr_gfns)
{
	uint64_t gfns[BATCH], ok[BATCH];
	int st[BATCH], n = 0, k = 0;
	uint8_t *pages;

	while (n < BATCH && *next < nr_gfns)
		gfns[n++] = (*next)++;
	if (xpage_nominate(xp, gfns, (size_t)n, 0, st) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (st[i] == 0)
			ok[k++] = gfns[i];
	if (!k)
		return 0;
	/* A guest access may already have failed some nominations. */
	xpage_dispatch(xp, 0);
	n = 0;
	for (int i = 0; i < k; i++)
		if (xpage_gfn_state(xp, ok[i]) == XPAGE_GFN_NOMINATED)
			ok[n++] = ok[i];
	if (!n)
		return 0;
	pages = xpage_map(xp, ok, (size_t)n, 0, st);
	if (!pages)
		return 0;
	k = 0;
	for (int i = 0; i < n; i++) {
		/* Only a page whose contents we hold may be evicted. */
		if (st[i] != 0)
			continue;
		p->store[ok[i]] = malloc(XPAGE_PAGE_SIZE);
		if (!p->store[ok[i]])
			abort();
		memcpy(p->store[ok[i]], pages + (size_t)i * XPAGE_PAGE_SIZE,
		       XPAGE_PAGE_SIZE);
		gfns[k++] = ok[i];
	}
	xpage_unmap(xp, pages, (size_t)n);
	xpage_dispatch(xp, 0);
	n = k;
	k = xpage_evict(xp, gfns, (size_t)n, 0, st);
	for (int i = 0; i < n; i++) {
		if (st[i] == 0) {
			p->out++;
		} else if (p->store[gfns[i]]) {
			/* Not evicted: the guest still has the page. */
			free(p->store[gfns[i]]);
			p->store[gfns[i]] = NULL;
		}
	}
	return k < 0 ? -1 : k;
}

/* Bring every page still out back in. */
static int page_in_all(xpage_t *xp, struct pager *p, uint64_t nr_gfns)
{
	for (uint64_t g = 0; g < nr_gfns; g++) {
		void *buf[1] = { p->store[g] };
		int st;

		if (!buf[0])
			continue;
		if (xpage_load(xp, &g, 1, buf, XPAGE_LOAD_RESUME, &st) != 1) {
			fprintf(stderr, "page-in of gfn %#llx: %s\n",
				(unsigned long long)g, xpage_strerror(st));
			return -1;
		}
		free(p->store[g]);
		p->store[g] = NULL;
		p->out--;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "sim-socket", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.ages = XPAGE_AGES_ALL, .features_wanted = XPAGE_FEAT_ALL,
		.log_fn = log_line,
		.log_level = XPAGE_LOG_WARN);
	struct pager p = { 0 };
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks, .user = &p,
		.populate = on_populate, .evict_fail = on_evict_fail,
		.drop = on_drop);
	struct xpage_info info = XPAGE_OPTS(xpage_info);
	uint64_t want = 1024, next = 0;
	double seconds = 2;
	struct timespec t0, t;
	xpage_t *xp;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o.domid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': o.sim_socket = optarg; break;
		case 'p': want = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: %s --domid N [--sim-socket PATH] "
				"[--pages N] [--seconds S]\n", argv[0]);
			return 2;
		}
	}
	xp = xpage_open(&o, &cb);
	if (!xp) {
		fprintf(stderr, "cannot page domain %u: %s\n", o.domid,
			xpage_strerror(errno));
		return 1;
	}
	xpage_get_info(xp, &info);
	printf("domain %u: Xen %u.%u, %s, age %u, features", info.domid,
	       info.xen_major, info.xen_minor,
	       xpage_generation_name((int)info.generation), info.age);
	for (int b = 0; b < 64; b++)
		if (info.features & (1ull << b))
			printf(" %s", xpage_feature_name(1ull << b));
	printf(", %llu gfns\n", (unsigned long long)info.nr_gfns);
	p.store = calloc(info.nr_gfns, sizeof(*p.store));
	if (!p.store)
		return 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
			break;
		/* Serve page-in requests first, then page out more. */
		if (xpage_dispatch(xp, p.out < want && next < info.nr_gfns ? 0 : 10) < 0) {
			rc = 1;
			break;
		}
		if (p.out < want && next < info.nr_gfns &&
		    page_out_batch(xp, &p, &next, info.nr_gfns) < 0) {
			rc = 1;
			break;
		}
	}
	printf("paged out %llu pages, paging them back in\n",
	       (unsigned long long)p.out);
	if (page_in_all(xp, &p, info.nr_gfns) < 0)
		rc = 1;
	/* Requests that arrived meanwhile are answered before closing. */
	xpage_dispatch(xp, 0);
	{
		struct xpage_stats s = XPAGE_OPTS(xpage_stats);

		xpage_get_stats(xp, &s);
		printf("evicted %llu, loaded %llu, populates %llu, coalesced %llu, "
		       "evict_fails %llu (+%llu derived), drops %llu\n",
		       (unsigned long long)s.evicted, (unsigned long long)s.loaded,
		       (unsigned long long)s.populates,
		       (unsigned long long)s.coalesced,
		       (unsigned long long)s.evict_fails,
		       (unsigned long long)s.evict_fails_synth,
		       (unsigned long long)s.drops);
	}
	if (xpage_close(xp) < 0)
		rc = 1;
	free(p.store);
	return rc;
}
