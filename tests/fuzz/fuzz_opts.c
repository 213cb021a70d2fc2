/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: validation of caller-sized structs (a leading size_t sz).
 *
 *   byte 0    which: 0..8 the generic validator against the known size of
 *             each public struct (open opts, callbacks, info, stats, the
 *             five <xpage/sim.h> structs); 9 xpage_open; 10 xpage_get_info;
 *             11 xpage_get_stats
 *   bytes 1-2 sz (up to 4200: past the 4096 the library accepts)
 *   the rest  the struct's bytes (missing ones are zero)
 *
 * The struct is placed in a heap block of exactly sz bytes, so reading or
 * writing past what the caller declared is an AddressSanitizer report.
 * Each result is checked against a model of the rules (src/opts.h): an
 * sz no release of the struct had (below 1.0's, or between two releases'
 * sizes, i.e. inside a field): -EINVAL; above 4096 or a non-zero byte past
 * the library's struct (its tail padding counts as its own): -E2BIG; else
 * accepted, with fields the caller does not know read as zero and only
 * the bytes both sides know written back.
 *
 * Pointer fields are made valid (or NULL) before the library sees them;
 * one that sz cuts in two is zeroed (the library refuses such an sz, see
 * tests/safety repro sz_inside_a_field, but should it not, the fuzzer
 * would report the model's disagreement rather than a wild call).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_backend.h"
#include "xpage/sim.h"

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

static void fail(const char *what, long a, long b)
{
	fprintf(stderr, "fuzz_opts: %s (%ld, %ld)\n", what, a, b);
	abort();
}

/* The rules (src/opts.h): an sz of @min (1.0's sizeof), or of @known
 * (this library's sizeof) or larger with zeroes past @known; anything
 * else, including an sz that ends inside a field, is a malformed struct. */
static int model(const uint8_t *buf, size_t sz, size_t min, size_t known)
{
	if (sz < sizeof(size_t) || sz < min || (sz > min && sz < known))
		return -EINVAL;
	if (sz > 4096)
		return -E2BIG;
	for (size_t i = known; i < sz; i++)
		if (buf[i])
			return -E2BIG;
	return 0;
}

/* Put a valid pointer (or NULL) in a pointer field the caller's sz covers;
 * zero the part of one it cuts. */
static void fix_ptr(uint8_t *buf, size_t sz, size_t off, const void *valid,
		    uint8_t choice)
{
	const void *v = (choice & 1) ? valid : NULL;

	if (off + sizeof(void *) <= sz)
		memcpy(buf + off, &v, sizeof(v));
	else if (off < sz)
		memset(buf + off, 0, sz - off);
}

static void log_fn(void *ctx, int level, const char *msg)
{
	(void)ctx; (void)level;
	if (!msg || strlen(msg) > 4096)
		fail("log message", 0, 0);
}

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	(void)xp; (void)ev; (void)u;
}

static void cb_gfn(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)gfn; (void)u;
}

static struct xpage *handle(void)
{
	static struct xpage *xp;

	if (!xp) {
		struct xpage_open_opts o;
		struct xpage_callbacks c;

		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.domid = 1;
		memset(&c, 0, sizeof(c));
		c.sz = sizeof(c);
		c.populate = cb_populate;
		fuzz_hv_init();
		hv.minor = 15;
		hv.vmev = 7;
		hv.vcpus = 2;
		hv.nr_gfns = 64;
		xp = xp_open_with(&fuzz_ops, &o, &c);
		if (!xp)
			fail("cannot open the reference handle", errno, 0);
	}
	return xp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* What the entry points validate against: the whole struct, tail
	 * padding included (XP_OPTS_VALID since 1e39d24). */
	static const size_t known[9] = {
		sizeof(struct xpage_open_opts), sizeof(struct xpage_callbacks),
		sizeof(struct xpage_info), sizeof(struct xpage_stats),
		sizeof(struct xpage_sim_opts), sizeof(struct xpage_sim_guest_opts),
		sizeof(struct xpage_sim_workload), sizeof(struct xpage_sim_report),
		sizeof(struct xpage_sim_faults),
	};
	struct in in = { data, size };
	uint8_t which = u8(&in) % 12;
	size_t sz = (size_t)(u8(&in) | u8(&in) << 8) % 4201;
	size_t alloc = sz < sizeof(size_t) ? sizeof(size_t) : sz;
	uint8_t *buf = calloc(1, alloc), *orig;
	int want, rc;

	if (!buf)
		return 0;
	for (size_t i = sizeof(size_t); i < alloc && in.n; i++)
		buf[i] = u8(&in);
	memcpy(buf, &sz, sizeof(sz));
	orig = malloc(alloc);
	if (!orig)
		abort();

	if (which < 9) {
		/* the validator, copy and export the entry points use */
		size_t k = known[which];
		uint8_t full[4096 + 8];

		memcpy(orig, buf, alloc);
		/* a struct that grew: any 1.0 size at or below this one */
		size_t min = sizeof(size_t) + u8(&in) % (k - sizeof(size_t) + 1);

		want = model(buf, sz, min, k);
		rc = xp_opts_valid(buf, min, k);
		if (rc != want)
			fail("xp_opts_valid disagrees with the rules", rc, want);
		if (rc == 0) {
			size_t dsize = k + (u8(&in) % 16);

			xp_opts_copy(full, dsize, buf);
			if (memcmp(full, &dsize, sizeof(dsize)))
				fail("copy: sz is not the library's", 0, 0);
			for (size_t i = sizeof(size_t); i < dsize; i++)
				if (full[i] != (i < sz ? buf[i] : 0))
					fail("copy: byte", (long)i, full[i]);
			/* export what the library has into the caller's */
			for (size_t i = sizeof(size_t); i < dsize; i++)
				full[i] = (uint8_t)(i * 7);
			xp_opts_export(buf, full, k);
			if (memcmp(buf, &sz, sizeof(sz)))
				fail("export changed the caller's sz", 0, 0);
			for (size_t i = sizeof(size_t); i < sz; i++)
				if (buf[i] != (i < k ? full[i] : orig[i]))
					fail("export: byte", (long)i, buf[i]);
		}
	} else if (which == 9) {
		/* xpage_open: opts and callbacks both from the input */
		size_t csz = (size_t)(u8(&in) | u8(&in) << 8) % 4201;
		size_t calloc_sz = csz < sizeof(size_t) ? sizeof(size_t) : csz;
		uint8_t *cb = calloc(1, calloc_sz);
		struct xpage *xp;

		if (!cb)
			abort();
		for (size_t i = sizeof(size_t); i < calloc_sz && in.n; i++)
			cb[i] = u8(&in);
		memcpy(cb, &csz, sizeof(csz));
		fix_ptr(buf, sz, offsetof(struct xpage_open_opts, sim_socket),
			"/nonexistent/fuzz", u8(&in));
		fix_ptr(buf, sz, offsetof(struct xpage_open_opts, log_fn),
			(const void *)log_fn, u8(&in));
		fix_ptr(cb, csz, offsetof(struct xpage_callbacks, populate),
			(const void *)cb_populate, u8(&in));
		fix_ptr(cb, csz, offsetof(struct xpage_callbacks, evict_fail),
			(const void *)cb_gfn, u8(&in));
		fix_ptr(cb, csz, offsetof(struct xpage_callbacks, drop),
			(const void *)cb_gfn, u8(&in));
		want = model(buf, sz, sizeof(struct xpage_open_opts),
			     sizeof(struct xpage_open_opts));
		if (!want)
			want = model(cb, csz, sizeof(struct xpage_callbacks),
				     sizeof(struct xpage_callbacks));
		fuzz_hv_init();
		hv.minor = 2 + u8(&in) % 16;
		hv.vmev = -1;
		hv.age = u8(&in) % 3;
		hv.vcpus = 1 + u8(&in) % 4;
		hv.nr_gfns = 1 + u8(&in);
		errno = 0;
		xp = xp_open_with(&fuzz_ops, (void *)buf, (void *)cb);
		if (want && (xp || errno != -want))
			fail("xpage_open accepted (or misreported) a malformed "
			     "struct", errno, want);
		if (xp) {
			struct xpage_info info;

			memset(&info, 0, sizeof(info));
			info.sz = sizeof(info);
			if (xpage_get_info(xp, &info) < 0 || !info.age ||
			    info.nr_gfns != hv.nr_gfns)
				fail("a handle with bad info", (long)info.age, 0);
			xpage_close(xp);
		}
		free(cb);
	} else {
		/* xpage_get_info / xpage_get_stats into the caller's sz */
		struct xpage *xp = handle();
		size_t k = which == 10 ? XP_KNOWN_SIZE(xpage_info)
				      : XP_KNOWN_SIZE(xpage_stats);

		memcpy(orig, buf, alloc);
		size_t vs = which == 10 ? sizeof(struct xpage_info)
					: sizeof(struct xpage_stats);
		size_t v10 = which == 10 ? XP_V1_0_SIZE_xpage_info
					 : XP_V1_0_SIZE_xpage_stats;

		want = model(buf, sz, v10, vs);
		rc = which == 10 ? xpage_get_info(xp, (void *)buf)
				: xpage_get_stats(xp, (void *)buf);
		if (rc != want)
			fail("get_info/get_stats disagree with the rules", rc, want);
		if (memcmp(buf, orig, sizeof(size_t)))
			fail("the caller's sz was changed", 0, 0);
		for (size_t i = k; i < sz; i++)
			if (buf[i] != orig[i])
				fail("a byte past the known fields was written",
				     (long)i, buf[i]);
		if (rc < 0 && memcmp(buf, orig, alloc))
			fail("a refused call wrote the caller's struct", rc, 0);
	}
	free(orig);
	free(buf);
	return 0;
}
