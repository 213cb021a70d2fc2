/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: draining the paging ring, every generation.
 *
 * The input drives a hostile hypervisor (a backend of this file whose ring
 * is an exactly-4096-byte heap block, so AddressSanitizer sees any access
 * outside it) and a pager using the library at the same time:
 *
 *   byte 0        generation (and whether its version word is queried)
 *   byte 1        vCPUs, guest size, age, multicall
 *   then ops      well-formed requests, raw slot bytes, producer index
 *                 jumps (ahead by more than the ring, backwards), header
 *                 words, wrong version words, unknown flag bits, gfns
 *                 beyond the guest, a ring rewritten from inside a
 *                 callback while the library drains it, and the pager's
 *                 own calls (nominate, map, evict, load, resume,
 *                 unnominate, adopt) with hypervisor refusals.
 *
 * After every step the library must be consistent: each request gets at
 * most one response, the published response index never passes what was
 * consumed, a stopped ring stays stopped, no callback names a gfn outside
 * the guest, no counter underflows, every gfn has a valid state.
 *
 * FUZZ_RING_STRICT=1 in the environment also requires that evict_fail is
 * only called for a gfn the pager nominated and did not see evicted, and
 * that evicted_now never underflows (known bugs break both: tests/safety
 * ring-trust false_evict_fail_keeps_the_data, late_drop_keeps_counts).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_backend.h"

/* ------------------------------------------------------------ input */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t u16(struct in *in)
{
	return (uint16_t)(u8(in) | u8(in) << 8);
}

static uint32_t u32(struct in *in)
{
	return (uint32_t)u16(in) | (uint32_t)u16(in) << 16;
}

static uint64_t u64(struct in *in)
{
	return (uint64_t)u32(in) | (uint64_t)u32(in) << 32;
}

/* ------------------------------------------------------------ pager side */

static const struct xp_ring_layout *L;
static uint32_t req_prod_pvt;   /* the hostile front end's producer */
static bool strict;
static bool tracing;             /* FUZZ_TRACE=1: say what each step does */
#define TR(...) do { if (tracing) fprintf(stderr, __VA_ARGS__); } while (0)
static uint8_t *pst;            /* the pager's view: 0 res, 1 nom, 2 out */
static struct in cb_in;         /* bytes a callback uses to rewrite the ring */
static int cb_rewrites;
static bool hostile_hdr;         /* the input wrote header words */

static void rewrite_ring(void)
{
	/* A hypervisor that keeps writing while the library reads. */
	while (cb_rewrites > 0 && cb_in.n) {
		uint8_t what = u8(&cb_in);

		cb_rewrites--;
		if (what & 1) {
			uint32_t off = 64 + u16(&cb_in) % (4096 - 64 - 8);

			xp_wr64(hv.ring, off, u64(&cb_in));
		} else {
			uint32_t v = req_prod_pvt + (uint32_t)(int8_t)u8(&cb_in);

			xp_ring_store_idx(hv.ring, XP_RING_OFF_REQ_PROD, v);
		}
	}
}

static void fail(const char *what, unsigned long long a)
{
	fprintf(stderr, "fuzz_ring: invariant broken: %s (%llu)\n", what, a);
	abort();
}

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp; (void)u;
	TR("  cb populate gfn %llu flags %#x\n", (unsigned long long)ev->gfn,
	   ev->flags);
	if (ev->gfn >= hv.nr_gfns)
		fail("populate for a gfn outside the guest", ev->gfn);
	rewrite_ring();
}

static void cb_evict_fail(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)u;
	TR("  cb evict_fail gfn %llu\n", (unsigned long long)gfn);
	if (gfn >= hv.nr_gfns)
		fail("evict_fail for a gfn outside the guest", gfn);
	if (strict && pst[gfn] != 1 && pst[gfn] != 3)
		fail("evict_fail for a gfn the pager holds as paged out "
		     "(it would drop the only copy)", gfn);
	pst[gfn] = 0;
	rewrite_ring();
}

static void cb_drop(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)u;
	TR("  cb drop gfn %llu\n", (unsigned long long)gfn);
	if (gfn >= hv.nr_gfns)
		fail("drop for a gfn outside the guest", gfn);
	pst[gfn] = 0;
	rewrite_ring();
}

static void put_request(struct in *in)
{
	volatile uint8_t *s = xp_ring_slot(hv.ring, L, req_prod_pvt);
	uint8_t sel = u8(in), fl = u8(in);
	uint64_t gfn;
	uint32_t raw = 0, praw = 0;

	/* mostly gfns of the guest, sometimes anything */
	if (sel & 0x80)
		gfn = u64(in);
	else if (sel & 0x40)
		gfn = hv.nr_gfns + (sel & 0x3f);
	else
		gfn = u16(in) % hv.nr_gfns;
	memset((void *)s, 0, L->slot_size);
	if (fl & XP_EV_VCPU_PAUSED) raw |= L->f_vcpu_paused;
	if (fl & XP_EV_FOREIGN) raw |= L->f_foreign;
	if (L->era == XP_ERA_VM_EVENT) {
		if (fl & XP_EV_DROP_PAGE) praw |= L->f_drop_page;
		if (fl & XP_EV_EVICT_FAIL) praw |= L->f_evict_fail;
		xp_wr32(s, L->off_version, (fl & 0x80) ? u32(in) : L->version);
		xp_wr32(s, L->off_reason, (fl & 0x40) ? u8(in) : L->reason_paging);
		if (fl & 0x20)
			praw |= u32(in);  /* unknown paging flags too */
		xp_wr32(s, L->off_pflags, praw);
	} else {
		if (fl & XP_EV_DROP_PAGE) raw |= L->f_drop_page;
		if (fl & XP_EV_EVICT_FAIL) raw |= L->f_evict_fail;
		if (fl & XP_EV_DUMMY) raw |= L->f_dummy;
	}
	if (fl & 0x20)
		raw |= u32(in);           /* unknown flag bits */
	xp_wr32(s, L->off_flags, raw);
	xp_wr32(s, L->off_vcpu, (sel & 0x20) ? u32(in) : u8(in) % (hv.vcpus + 1));
	xp_wr64(s, L->off_gfn, gfn);
	xp_wr32(s, L->off_p2mt, u8(in) % 12);
	TR("request %u: gfn %llu flags %#x raw %#x vcpu %u p2mt %u\n",
	   req_prod_pvt, (unsigned long long)gfn, fl, xp_rd32(s, L->off_flags),
	   xp_rd32(s, L->off_vcpu), xp_rd32(s, L->off_p2mt));
	req_prod_pvt++;
	xp_ring_store_idx(hv.ring, XP_RING_OFF_REQ_PROD, req_prod_pvt);
}

#define MAXB 64

static size_t pick_gfns(struct in *in, uint64_t *g)
{
	size_t n = u8(in) % MAXB + 1, k = 0;
	uint16_t start = u16(in);

	for (size_t i = 0; i < hv.nr_gfns && k < n; i++)
		g[k++] = (start + i) % hv.nr_gfns;
	/* a few out-of-range or repeated gfns on purpose */
	if (k && (start & 0x8000))
		g[0] = hv.nr_gfns + (start & 0xff);
	if (k > 1 && (start & 0x4000))
		g[1] = g[0];
	return k;
}

static void check(xpage_t *xp, uint32_t req_cons_before, bool was_broken,
		  int rc)
{
	struct xpage_stats s = XPAGE_OPTS(xpage_stats);
	uint32_t rsp = xp_ring_load_idx(hv.ring, XP_RING_OFF_RSP_PROD);

	if (xpage_get_stats(xp, &s) < 0)
		fail("xpage_get_stats", 0);
	if (s.responses > s.requests)
		fail("more responses than requests", s.responses - s.requests);
	if (strict && s.evicted_now > hv.nr_gfns)
		fail("evicted_now underflow (known: tests/safety ring-trust "
		     "late_drop_keeps_counts)", s.evicted_now);
	if ((int32_t)(xp->req_cons - xp->rsp_prod_pvt) < 0)
		fail("responses written past the requests consumed",
		     xp->rsp_prod_pvt - xp->req_cons);
	if (!xp->broken && xp->rsp_unpushed == 0 && xp->rsp_prod_pvt != rsp &&
	    hv.enabled && !hostile_hdr)
		fail("responses written but not published", rsp);
	if (was_broken && rc >= 0)
		fail("a stopped ring was drained again", (unsigned)rc);
	(void)req_cons_before;
	for (uint64_t g = 0; g < hv.nr_gfns; g++)
		if (xp_gfn_state(&xp->table, g) > XPAGE_GFN_LOADED)
			fail("invalid gfn state", g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t minors[] = { 2, 5, 6, 8, 11, 12, 13, 14, 15 };
	static uint8_t page[4096];
	struct in in = { data, size };
	uint8_t b0 = u8(&in), b1 = u8(&in);
	struct xpage_open_opts o;
	struct xpage_callbacks cbs = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate, .evict_fail = cb_evict_fail,
		.drop = cb_drop);
	struct xpage *xp;
	uint64_t g[MAXB];
	int st[MAXB];
	void *bufs[MAXB];

	fuzz_hv_init();
	strict = getenv("FUZZ_RING_STRICT") != NULL;
	tracing = getenv("FUZZ_TRACE") != NULL;
	hv.minor = minors[b0 % 9];
	hv.vmev = (b0 & 0x10) && hv.minor >= 13 ? (int)hv.minor - 8 : -1;
	if (hv.minor == 15 && hv.vmev > 0)
		hv.vmev = 7;
	hv.age = (b0 & 0x20) ? 2 : 0;
	hv.multicall = (b0 & 0x40) != 0;
	hv.vcpus = (b1 & 7) + 1;
	hv.nr_gfns = (uint64_t)(16u << ((b1 >> 3) & 7));
	memset(hv.refuse, 0, sizeof(hv.refuse));
	for (int i = 0; i < 8; i++)
		hv.refuse[u8(&in)] = u8(&in) % 5;
	req_prod_pvt = 0;
	cb_rewrites = 0;
	hostile_hdr = false;
	cb_in = (struct in){ NULL, 0 };
	for (size_t i = 0; i < MAXB; i++)
		bufs[i] = page;

	/* field by field on zeroed memory: the library checks the tail
	 * padding too (tests/safety repro tail_padding_is_not_an_unknown_field) */
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.domid = 1;
	o.ages = (b0 & 0x80) ? XPAGE_AGES_ALL : XPAGE_AGE_1;
	o.features_wanted = XPAGE_FEAT_ALL;
	xp = xp_open_with(&fuzz_ops, &o, &cbs);
	if (!xp)
		return 0;
	L = xp->layout;
	pst = calloc(hv.nr_gfns, 1);
	if (!pst)
		abort();

	while (in.n) {
		uint8_t op = u8(&in);
		uint32_t before = xp->req_cons;
		bool was_broken = xp->broken;
		int rc = 0;
		size_t n;

		switch (op % 16) {
		case 0: case 1: case 2:
			put_request(&in);
			break;
		case 3: {       /* raw slot bytes */
			uint32_t off = 64 + u16(&in) % (4096 - 64 - 4);

			xp_wr32(hv.ring, off, u32(&in));
			break;
		}
		case 4: {       /* producer index jumps */
			uint32_t v = (op & 0x10) ? u32(&in)
				     : req_prod_pvt + (uint32_t)(int8_t)u8(&in);

			xp_ring_store_idx(hv.ring, XP_RING_OFF_REQ_PROD, v);
			break;
		}
		case 5:         /* other header words */
			hostile_hdr = true;
			xp_wr32(hv.ring, 4u * (u8(&in) % 4), u32(&in));
			break;
		case 6: case 7: /* drain */
			cb_rewrites = (op & 0x30) ? (op >> 4) & 3 : 0;
			cb_in = in;
			rc = xpage_dispatch(xp, 0);
			in = cb_in.n < in.n ? cb_in : in;
			cb_rewrites = 0;
			if (was_broken && rc != -EPROTO)
				fail("a stopped ring answered", (unsigned)rc);
			check(xp, before, was_broken, rc);
			break;
		case 8:         /* nominate */
			n = pick_gfns(&in, g);
			if ((rc = xpage_nominate(xp, g, n, 0, st)) > 0)
				for (size_t i = 0; i < n; i++)
					if (!st[i])
						pst[g[i]] = 1;
			break;
		case 9: {       /* map + unmap */
			n = pick_gfns(&in, g);
			void *m = xpage_map(xp, g, n, 0, st);

			if (m && (op & 0x10)) {
				/* read what was mapped, as a pager writes it out */
				for (size_t i = 0; i < n; i++)
					if (!st[i])
						(void)((volatile uint8_t *)m)[i * 4096];
			}
			if (m && xpage_unmap(xp, m, n) < 0)
				fail("unmap of what map returned", n);
			break;
		}
		case 10:        /* evict */
			n = pick_gfns(&in, g);
			if ((rc = xpage_evict(xp, g, n, 0, st)) > 0)
				for (size_t i = 0; i < n; i++)
					if (!st[i])
						pst[g[i]] = 2;
			break;
		case 11:        /* load (+ resume) */
			n = pick_gfns(&in, g);
			rc = xpage_load(xp, g, n, bufs,
					(op & 0x10) ? XPAGE_LOAD_RESUME : 0, st);
			for (size_t i = 0; i < n; i++)
				if (!st[i] && g[i] < hv.nr_gfns)
					pst[g[i]] = 0;
			break;
		case 12:        /* resume */
			n = pick_gfns(&in, g);
			rc = xpage_resume(xp, g, n, 0, st);
			break;
		case 13:        /* unnominate */
			n = pick_gfns(&in, g);
			rc = xpage_unnominate(xp, g, n, 0, st);
			for (size_t i = 0; i < n; i++)
				if (!st[i] && g[i] < hv.nr_gfns)
					pst[g[i]] = 0;
			break;
		case 14:        /* adopt */
			n = pick_gfns(&in, g);
			rc = xpage_adopt(xp, g, n, 0, st);
			for (size_t i = 0; i < n; i++)
				if (!st[i] && g[i] < hv.nr_gfns)
					pst[g[i]] = 3; /* adopted: may be nominated */
			break;
		case 15:        /* a hypervisor that changes its mind */
			hv.refuse[u8(&in)] = u8(&in) % 5;
			break;
		}
		(void)rc;
		if (tracing) {
			struct xpage_stats ts = XPAGE_OPTS(xpage_stats);

			xpage_get_stats(xp, &ts);
			fprintf(stderr, "op %u -> rc %d, evicted_now %llu;", op % 16,
				rc, (unsigned long long)ts.evicted_now);
			for (uint64_t q = 0; q < hv.nr_gfns && q < 64; q++)
				if (xp_gfn_state(&xp->table, q))
					fprintf(stderr, " %llu:%u", (unsigned long long)q,
						xp_gfn_state(&xp->table, q));
			fprintf(stderr, "\n");
		}
		if (xpage_gfn_state(xp, hv.nr_gfns) != -ERANGE)
			fail("gfn state beyond the guest", hv.nr_gfns);
	}
	xpage_close(xp);
	free(pst);
	pst = NULL;
	return 0;
}
