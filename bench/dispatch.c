/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library cost per ring event, per ring generation, with no hypervisor in
 * the way: the tests' in-process fake hypervisor (tests/fake), whose ring
 * page is plain memory and whose paging operations cost nothing.
 *
 * The fake hypervisor fills the ring with page-in requests (vCPU paused,
 * p2m type paged) for gfns the library holds as evicted, spread over a
 * 16 GiB guest's table. The pager does what the example batch pager does:
 * its populate callback queues the gfn; after xpage_dispatch() returns it
 * loads and resumes the queued gfns in one xpage_load(XPAGE_LOAD_RESUME).
 * Publishing the responses notifies the fake hypervisor, which consumes
 * them and refills the freed slots, so one timed loop runs many thousand
 * events and the clock's cost vanishes. The figure is everything the
 * library does per event: decode, checks, state table, in-flight record,
 * callback, load bookkeeping, response encode and publication, plus the
 * fake hypervisor's few stores per event (measured alone and reported).
 */
#include "bench.h"
#include "fake_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NGFNS (1u << 22)        /* a 16 GiB guest */
#define QMAX 256

/* The fake hypervisor's producer (the back end is tests/fake). */
static struct {
	const struct xp_ring_layout *l;
	uint8_t *ring;          /* the ring it fills: fake.ring, or scratch */
	uint32_t req_prod, rsp_cons;
	uint64_t next, end;     /* event numbers to produce */
	/* the pager's queue */
	uint64_t q[QMAX];
	size_t nq;
} F;

static inline uint64_t gfn_of(uint64_t i)
{
	/* Odd multiplier: distinct gfns for distinct i, scattered. */
	return (i * 0x9E3779B1u) & (NGFNS - 1);
}

static void put_request(uint64_t gfn)
{
	const struct xp_ring_layout *l = F.l;
	volatile uint8_t *s = xp_ring_slot(F.ring, l, F.req_prod);

	if (l->era == XP_ERA_VM_EVENT) {
		xp_wr32(s, l->off_version, l->version);
		xp_wr32(s, l->off_flags, l->f_vcpu_paused);
		xp_wr32(s, l->off_reason, l->reason_paging);
		xp_wr32(s, l->off_pflags, 0);
	} else {
		xp_wr32(s, l->off_flags, l->f_vcpu_paused);
		xp_wr16(s, l->off_reason, 0);
	}
	xp_wr32(s, l->off_vcpu, (uint32_t)(gfn & 3));
	xp_wr64(s, l->off_gfn, gfn);
	xp_wr32(s, l->off_p2mt, 10u); /* paged (docs/xen-interface.md §1) */
	F.req_prod++;
}

/* The hypervisor's side of a notify: take the responses, refill. */
static void refill(void)
{
	F.rsp_cons = xp_ring_load_idx(F.ring, XP_RING_OFF_RSP_PROD);
	while (F.req_prod - F.rsp_cons < F.l->nr_slots && F.next < F.end)
		put_request(gfn_of(F.next++));
	xp_ring_store_idx(F.ring, XP_RING_OFF_REQ_PROD, F.req_prod);
}

static void on_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	(void)xp; (void)user;
	if (F.nq < QMAX)
		F.q[F.nq++] = ev->gfn;
}

/* One timed run of @n events starting at event number @first: ns. */
static uint64_t run(struct xpage *xp, uint64_t first, uint64_t n)
{
	static uint8_t page[XPAGE_PAGE_SIZE];
	static void *bufs[QMAX];
	static int st[QMAX], ast[1024];
	static uint64_t g[1024];
	uint64_t t0, t, got = 0;

	/* The gfns are out (untimed): as after a takeover. */
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;

		while (k < 1024 && i < n)
			g[k++] = gfn_of(first + i++);
		if (xpage_adopt(xp, g, k, 0, ast) != (int)k)
			die("dispatch bench: adopt failed");
	}
	for (size_t i = 0; i < QMAX; i++)
		bufs[i] = page;
	F.next = first;
	F.end = first + n;
	F.nq = 0;

	t0 = now_ns();
	refill();
	while (got < n) {
		int rc = xpage_dispatch(xp, 0);

		if (rc < 0)
			die("dispatch bench: xpage_dispatch: %s",
			    xpage_strerror(rc));
		got += (uint64_t)rc;
		if (F.nq) {
			rc = xpage_load(xp, F.q, F.nq, bufs, XPAGE_LOAD_RESUME,
					st);
			if (rc != (int)F.nq)
				die("dispatch bench: load %d of %zu", rc, F.nq);
			F.nq = 0;
		} else if (rc == 0) {
			die("dispatch bench: the ring stalled");
		}
	}
	t = now_ns() - t0;
	return t;
}

/* The next two work on a scratch ring page, not the library's. */
static uint8_t *scratch_ring(void)
{
	static uint8_t *p;

	if (!p && !(p = aligned_alloc(XP_RING_PAGE, XP_RING_PAGE)))
		die("out of memory");
	memset(p, 0, XP_RING_PAGE);
	F.req_prod = F.rsp_cons = 0;
	return p;
}

/* The fake hypervisor alone: produce and retire @n requests. */
static uint64_t producer_only(uint64_t n)
{
	uint64_t t0;

	F.ring = scratch_ring();
	t0 = now_ns();
	F.next = 0;
	F.end = n;
	while (F.next < F.end) {
		refill();
		/* answer every request at once: rsp_prod = req_prod */
		xp_ring_store_idx(F.ring, XP_RING_OFF_RSP_PROD, F.req_prod);
	}
	return now_ns() - t0;
}

static double decode_only(struct xpage *xp, unsigned rounds)
{
	const struct xp_ring_layout *l = xp->layout;
	volatile uint64_t sink = 0;
	struct xp_event ev;
	uint64_t t0;

	F.ring = scratch_ring();
	F.next = 0;
	F.end = l->nr_slots;
	refill();
	t0 = now_ns();
	for (unsigned r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < l->nr_slots; i++) {
			if (xp->codec->decode(l, xp_ring_slot(F.ring, l, i),
					      &ev) < 0)
				die("dispatch bench: decode failed");
			sink += ev.gfn;
		}
	(void)sink;
	return (double)(now_ns() - t0) / ((double)rounds * l->nr_slots);
}

static const struct bench_gen {
	int gen;
	uint32_t major, minor;
	int vm_event_version;
} gens[] = {
	{ XPAGE_GEN_MEM_EVENT_42, 4, 4, -1 },
	{ XPAGE_GEN_MEM_EVENT_45, 4, 5, -1 },
	{ XPAGE_GEN_VM_EVENT_V1, 4, 6, -1 },
	{ XPAGE_GEN_VM_EVENT_V2, 4, 8, -1 },
	{ XPAGE_GEN_VM_EVENT_V3, 4, 11, -1 },
	{ XPAGE_GEN_VM_EVENT_V4, 4, 12, -1 },
	{ XPAGE_GEN_VM_EVENT_V5, 4, 13, 5 },
	{ XPAGE_GEN_VM_EVENT_V6, 4, 14, 6 },
	{ XPAGE_GEN_VM_EVENT_V7, 4, 17, 7 },
};

/* A fresh fake hypervisor of @gen: a 16 GiB guest with 4 vCPUs, paging
 * operations that cost nothing and cannot fail, and a notify that
 * consumes the responses and refills the ring. */
static void use_fake(const struct bench_gen *gen)
{
	fake_reset();
	fake_cfg.major = gen->major;
	fake_cfg.minor = gen->minor;
	fake_cfg.vm_event_version = gen->vm_event_version;
	fake_cfg.vcpus = 4;
	fake_cfg.nr_gfns = NGFNS;
	fake_cfg.multicall = 1;
	fake_cfg.on_notify = refill;
	fake.generation = gen->gen;
	F.ring = fake.ring;
	F.req_prod = F.rsp_cons = 0;
}

size_t dispatch_bench(bool quick, struct dispatch_gen *out, size_t max)
{
	/* Short runs, many of them: the minimum is a run no other process
	 * interrupted (these cores are shared). */
	const unsigned reps = quick ? 30 : 60;
	const uint64_t n = quick ? (1u << 13) : (1u << 14);
	size_t k = 0;

	for (size_t gi = 0; gi < sizeof(gens) / sizeof(gens[0]) && k < max;
	     gi++) {
		struct xpage_callbacks cbs = XPAGE_OPTS(xpage_callbacks,
			.populate = on_populate);
		struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
			.domid = 1, .features_wanted = XPAGE_FEAT_ALL);
		struct xpage_stats st = XPAGE_OPTS(xpage_stats);
		struct xpage *xp;
		double v[64], best = 1e300;
		uint64_t ev = 0;
		uint8_t *lib_ring;
		uint32_t lib_prod, lib_cons;

		F.l = xp_ring_layout(gens[gi].gen);
		use_fake(&gens[gi]);
		xp = xp_open_with(&fake_ops, &o, &cbs);
		if (!xp)
			die("dispatch bench: open: %s", xpage_strerror(errno));
		if ((int)xp->generation != gens[gi].gen)
			die("dispatch bench: negotiated %s, wanted %s",
			    xpage_generation_name((int)xp->generation),
			    xpage_generation_name(gens[gi].gen));
		run(xp, 0, n / 4); /* warm-up */
		ev = n / 4;
		for (unsigned r = 0; r < reps; r++) {
			uint64_t t = run(xp, ev, n);

			ev += n;
			v[r] = (double)t / (double)n;
			if (v[r] < best)
				best = v[r];
		}
		xpage_get_stats(xp, &st);
		if (st.requests != ev || st.responses != ev || st.bad_events ||
		    st.populates != ev)
			die("dispatch bench: %s: %llu requests, %llu responses, "
			    "%llu populates for %llu events",
			    F.l->name, (unsigned long long)st.requests,
			    (unsigned long long)st.responses,
			    (unsigned long long)st.populates,
			    (unsigned long long)ev);
		out[k].generation = gens[gi].gen;
		out[k].name = xpage_generation_name(gens[gi].gen);
		out[k].ns_per_event = best;
		out[k].ns_median = median3(v, reps);
		lib_ring = F.ring;
		lib_prod = F.req_prod;
		lib_cons = F.rsp_cons;
		out[k].decode_ns = 1e300;
		for (unsigned r = 0; r < 10; r++) {
			double d = decode_only(xp, quick ? 2000 : 10000);

			if (d < out[k].decode_ns)
				out[k].decode_ns = d;
		}
		{
			double p = 1e300;

			for (unsigned r = 0; r < 20; r++) {
				double x = (double)producer_only(n) / (double)n;

				if (x < p)
					p = x;
			}
			out[k].producer_ns = p;
		}
		F.ring = lib_ring;
		F.req_prod = lib_prod;
		F.rsp_cons = lib_cons;
		F.next = F.end = 0;
		xpage_close(xp);
		k++;
	}
	return k;
}
