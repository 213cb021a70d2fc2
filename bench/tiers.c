/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The batch pager's store on its own (examples/batch-pager/store*.c),
 * driven as the pager drives it, without a hypervisor: what each tier
 * costs a page.
 *
 * Page-out: TIER_PAGES pages of one kind, in batches of 1024: reserve,
 * find the zero pages (page_is_zero(), as the pager does: a ZERO record,
 * no write), store_write() the others (compressed or not), WRITTEN and
 * ZERO records; no sync, as the raw write has none. Against a raw
 * sequential write of the same number of pages (raw_write(), the best
 * of 64 and 1024 pages a call) to a new file in the same directory,
 * run beside each page-out. Median of the runs.
 * Kinds: random (incompressible), text-like (sim/text.c), and 30 % zero
 * with the rest text-like.
 *
 * Page-in: one page's store_read(), p50 of TIER_READS random pages out,
 * from the RAM tier (big enough for all of them) and from the file (in
 * the page cache: just written), raw and lz4; against a plain pread()
 * of one raw page of the same file.
 */
#include "bench.h"
#include "store.h"
#include "zero.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 1024u

static uint8_t (*pages)[4096];
static uint32_t *slot_of; /* each page's record, STORE_NO_SLOT if zero */

/* TIER_PAGES pages of @kind (0 random, 1 text, 2 30 % zero + text). */
static void fill(unsigned kind, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		bool zero = kind == 2 && (i * 0x9e3779b97f4a7c15ull >> 57) < 38;

		if (zero)
			memset(pages[i], 0, 4096);
		else
			comp_make_page(kind ? 0 : 2, (unsigned)i, pages[i]);
	}
}

static struct store *new_store(struct bench_env *env, uint64_t n, char *path,
			       size_t len)
{
	struct store_identity id = { .domid = 0, .nr_gfns = n };
	struct store *st;
	char err[512];

	snprintf(path, len, "%s/xpage-bench-tiers.%d", env->store_dir,
		 (int)getpid());
	unlink(path);
	snprintf(err, sizeof(err), "%s.index", path);
	unlink(err);
	if (store_open(path, &id, false, &st, NULL, err, sizeof(err)) < 0)
		die("tiers: %s", err);
	return st;
}

/* One batch of @n pages from @first out into @st: bytes written, and
 * the zero pages found added to *@zero. */
static int64_t batch_out(struct store *st, uint64_t first, size_t n,
			 uint64_t *zero)
{
	static uint32_t slots[BATCH], ws[BATCH];
	static uint64_t gfns[BATCH], zg[BATCH];
	static void *bufs[BATCH];
	size_t k = 0, z = 0;
	int64_t wr;

	if (store_reserve(st, n) < 0 || store_alloc(st, n, slots) != n)
		die("tiers: no room in the store");
	for (size_t i = 0; i < n; i++) {
		if (page_is_zero(pages[first + i])) {
			store_free(st, slots[i], first + i, false);
			zg[z++] = first + i;
			continue;
		}
		gfns[k] = first + i;
		ws[k] = slots[i];
		bufs[k++] = pages[first + i];
	}
	wr = store_write(st, ws, bufs, k);
	if (wr < 0 || store_record(st, gfns, ws, k, REC_WRITTEN, false) < 0 ||
	    store_record_gfns(st, zg, z, REC_ZERO, false) < 0)
		die("tiers: writing a batch failed");
	for (size_t i = 0; i < n; i++)
		slot_of[first + i] = STORE_NO_SLOT;
	for (size_t j = 0; j < k; j++)
		slot_of[gfns[j]] = ws[j];
	*zero += z;
	return wr;
}

/* All @n pages out with @enc: pages/s; bytes per page and the zero share
 * into @row. @ram: a RAM tier of @ram bytes; the store is left open in
 * *@keep when it is not NULL. */
static double pageout(struct bench_env *env, uint64_t n, enum store_enc enc,
		      uint64_t ram, struct tier_row *row, struct store **keep,
		      char *path, size_t plen)
{
	struct store *st = new_store(env, n, path, plen);
	uint64_t t, zero = 0;
	int64_t bytes = 0;

	if (store_set_compress(st, enc, 0) < 0 || store_set_ram_tier(st, ram) < 0)
		die("tiers: out of memory");
	t = now_ns();
	for (uint64_t i = 0; i < n; i += BATCH)
		bytes += batch_out(st, i, n - i < BATCH ? n - i : BATCH, &zero);
	t = now_ns() - t;
	row->bytes_per_page = (double)bytes / (double)n;
	row->zero_share = (double)zero / (double)n;
	row->ratio = bytes ? (double)(n - zero) * 4096 / (double)bytes : 0;
	if (keep)
		*keep = st;
	else
		store_close(st, true);
	return (double)n / ((double)t / 1e9);
}

/* The raw sequential write of @n pages (raw_write(), the best of
 * 64-page and 1024-page writes, as the page-out figures take it):
 * pages/s. */
static double raw_pps(struct bench_env *env, uint64_t n)
{
	uint64_t a = raw_write(env, n, 64), b = raw_write(env, n, 1024);

	return (double)n / ((double)(a < b ? a : b) / 1e9);
}

/* A random page out that has data, of the @n. */
static uint64_t pick(uint64_t *rng, uint64_t n)
{
	for (;;) {
		uint64_t g;

		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		g = (*rng >> 33) % n;
		if (slot_of[g] != STORE_NO_SLOT)
			return g;
	}
}

/* One page's store_read() (@st) or pread() of a raw page (@fd >= 0),
 * p50 in us over TIER_READS random pages out. @want: the read's status
 * (1 from the RAM tier, 0 from the file). */
static double read_p50(struct store *st, int fd, uint64_t n, int want)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	struct samples s = { 0 };
	uint64_t rng = 42;
	double p50;

	for (unsigned r = 0; r < TIER_READS; r++) {
		uint64_t g = pick(&rng, n), t = now_ns();
		void *b = buf;
		int status = -1;

		if (fd >= 0)
			status = pread(fd, buf, 4096, (off_t)slot_of[g] * 512) ==
				 4096 ? 0 : -1;
		else
			store_read(st, &slot_of[g], &b, 1, &status);
		t = now_ns() - t;
		if (status != want || memcmp(buf, pages[g], 4096))
			die("tiers: page %llu read back wrong (status %d)",
			    (unsigned long long)g, status);
		samples_add(&s, (double)t / 1e3);
	}
	p50 = samples_pct(&s, 50);
	samples_free(&s);
	return p50;
}

/* Page-in from each tier: a store of @kind pages with @enc and a RAM
 * tier holding them all; its p50 from the tier, then (the tier gone)
 * from the file; with @pread, a plain pread of the same file's pages
 * too. */
static void pagein(struct bench_env *env, struct tier_result *r, unsigned kind,
		   enum store_enc enc, double *ram, double *file, double *plain)
{
	struct tier_row row;
	struct store *st;
	char path[512];

	fill(kind, r->pages);
	pageout(env, r->pages, enc, r->pages * (4096 + 64) + (1 << 20), &row,
		&st, path, sizeof(path));
	*ram = read_p50(st, -1, r->pages, 1);
	store_set_ram_tier(st, 0);
	*file = read_p50(st, -1, r->pages, 0);
	if (plain) {
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die("tiers: %s: %s", path, strerror(errno));
		*plain = read_p50(NULL, fd, r->pages, 0);
		close(fd);
	}
	store_close(st, true);
}

static const struct {
	const char *pages;
	unsigned kind;
	enum store_enc enc;
} rows[TIER_ROWS] = {
	{ "random", 0, ENC_RAW }, { "random", 0, ENC_LZ4 },
	{ "text", 1, ENC_RAW }, { "text", 1, ENC_LZ4 }, { "text", 1, ENC_ZSTD },
	{ "30% zero + text", 2, ENC_RAW }, { "30% zero + text", 2, ENC_LZ4 },
};

void tiers_bench(struct bench_env *env, struct tier_result *r)
{
	double v[TIER_ROWS][MAX_TIER_REPS], raw[MAX_TIER_REPS];
	char path[512];

	memset(r, 0, sizeof(*r));
	r->pages = env->quick ? 4096 : TIER_PAGES;
	r->reps = env->quick ? 3 : 5;
	pages = aligned_alloc(4096, r->pages * 4096);
	slot_of = malloc(r->pages * sizeof(*slot_of));
	if (!pages || !slot_of)
		die("tiers: out of memory");
	for (unsigned i = 0; i < TIER_ROWS; i++) {
		fill(rows[i].kind, r->pages);
		r->row[i].pages = rows[i].pages;
		r->row[i].codec = compress_name(rows[i].enc);
		for (unsigned k = 0; k < r->reps; k++) {
			raw[k] = raw_pps(env, r->pages);
			v[i][k] = pageout(env, r->pages, rows[i].enc, 0, &r->row[i],
					  NULL, path, sizeof(path));
		}
		r->row[i].raw_pps = median3(raw, r->reps);
		r->row[i].pps = median3(v[i], r->reps);
	}
	pagein(env, r, 0, ENC_RAW, &r->in_ram_p50, &r->in_file_p50,
	       &r->in_pread_p50);
	pagein(env, r, 1, ENC_LZ4, &r->in_ram_lz4_p50, &r->in_file_lz4_p50,
	       NULL);
	free(pages);
	free(slot_of);
}
