/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The batch pager's store on its own: slots, records, and what a
 * re-attach reads back (the newest record per gfn wins, FREE hides
 * older records, damaged records are ignored and counted), and the
 * refusals (another domain, mode, a store in use, a store that exists
 * when none may). Zero pages: ZERO records in the gfn region, the data
 * file left empty, the newest record winning across both regions;
 * version-1 and version-2 indexes, written here byte for byte, opened
 * and rewritten as version 3; a page's data damaged on disk refused by
 * its crc32c; crc32c's check value; lz4-compressed pages packed into
 * fewer slots and read back, a damaged one refused; a record whose
 * slots a newer record took found stale; the RAM tier's copies read
 * instead of the file, the oldest let go, the file holding them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

static int failures;


static const struct store_live *find(const struct store_recovery *r,
				     uint64_t gfn)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->live[i].gfn == gfn)
			return &r->live[i];
	return NULL;
}

static off_t file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? sb.st_size : -1;
}

/* Zero pages only: INTENT, the slots given back, ZERO records. The data
 * file stays empty; a re-attach finds the ZERO records, the newest per
 * gfn winning over a WRITTEN one and losing to a FREE one. */
static void zero_pages(const char *path, const struct store_identity *id)
{
	struct store *st;
	struct store_recovery rec;
	uint64_t gfns[4] = { 10, 11, 12, 13 }, g;
	uint32_t slots[4], s = 0;
	static uint8_t page[4096];
	void *b = page;
	char err[512];
	int rc = store_open(path, id, true, &st, &rec, err, sizeof(err));

	CHECK(rc == 0, "create: %d %s", rc, err);
	if (rc != 0)
		return;
	/* gfn 13 first goes out with data */
	g = 13;
	memset(page, 7, sizeof(page));
	CHECK(store_reserve(st, 4) == 0 && store_alloc(st, 1, &s) == 1, "alloc");
	CHECK(store_write(st, &s, &b, 1) == 4096, "write");
	CHECK(store_record(st, &g, &s, 1, REC_WRITTEN, true) == 0, "written");
	store_free(st, s, g, false); /* back in, its FREE record lost */
	CHECK(store_alloc(st, 4, slots) == 4, "alloc 4");
	CHECK(store_record(st, gfns, slots, 4, REC_INTENT, false) == 0, "intent");
	for (int i = 0; i < 4; i++)
		store_free(st, slots[i], gfns[i], false);
	CHECK(store_record_gfns(st, gfns, 4, REC_ZERO, true) == 0, "zero");
	g = 11;
	CHECK(store_record_gfns(st, &g, 1, REC_FREE, false) == 0, "free");
	CHECK(store_used(st) == 0, "used %llu", (unsigned long long)store_used(st));
	store_close(st, false);
	rc = store_open(path, id, true, &st, &rec, err, sizeof(err));
	CHECK(rc == 1, "re-attach: %d %s", rc, err);
	if (rc != 1)
		return;
	for (int i = 0; i < 4; i++) {
		const struct store_live *l = find(&rec, gfns[i]);

		if (gfns[i] == 11)
			CHECK(!l, "gfn 11 came back in");
		else
			CHECK(l && l->state == REC_ZERO && l->slot == STORE_NO_SLOT,
			      "gfn %llu is not zero", (unsigned long long)gfns[i]);
	}
	CHECK(rec.n == 3 && rec.bad_records == 0, "live %zu, bad %llu", rec.n,
	      (unsigned long long)rec.bad_records);
	store_recovery_free(&rec);
	store_close(st, true);
}

/* An all-zero page-out: the data file never gets a byte. */
static void data_stays_empty(const char *path, const struct store_identity *id)
{
	struct store *st;
	uint32_t slots[64];
	uint64_t gfns[64];
	char err[512];
	int rc = store_open(path, id, true, &st, NULL, err, sizeof(err));

	CHECK(rc == 0, "create: %d %s", rc, err);
	if (rc != 0)
		return;
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 64; i++)
			gfns[i] = (uint64_t)(round * 64 + i) % id->nr_gfns;
		CHECK(store_reserve(st, 64) == 0 &&
		      store_alloc(st, 64, slots) == 64, "alloc");
		store_record(st, gfns, slots, 64, REC_INTENT, false);
		for (int i = 0; i < 64; i++)
			store_free(st, slots[i], gfns[i], false);
		CHECK(store_record_gfns(st, gfns, 64, REC_ZERO, true) == 0, "zero");
	}
	CHECK(file_size(path) == 0, "data file %lld bytes",
	      (long long)file_size(path));
	store_close(st, true);
}

/* A store of index version @version (1: slot records right after the
 * header; 2: after the gfn records, 1000 of them in whole pages) holding
 * gfn 5 in slot 0, written as the pagers of those versions wrote it. */
static void write_old(const char *path, const char *ipath,
		      const struct store_identity *id, const uint8_t *page,
		      uint32_t version)
{
	uint8_t hdr[4096] = { 0 }, rec[32] = { 0 };
	uint32_t u32, crc;
	uint64_t u64;
	off_t slot_off = version == 1 ? 4096 : 4096 + 32768;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);

	CHECK(fd >= 0 && write(fd, page, 4096) == 4096, "v%u data", version);
	close(fd);
	/* magic, version, page_size, rec_size, domid, nr_gfns, guest_id,
	 * created_s, owner_pid, crc */
	memcpy(hdr, "XPGSTOR1", 8);
	memcpy(hdr + 8, &version, 4);
	u32 = 4096, memcpy(hdr + 12, &u32, 4);
	u32 = 32, memcpy(hdr + 16, &u32, 4);
	memcpy(hdr + 20, &id->domid, 4);
	memcpy(hdr + 24, &id->nr_gfns, 8);
	memcpy(hdr + 32, &id->guest_id, 8);
	crc = crc32_buf(0, hdr, 52), memcpy(hdr + 52, &crc, 4);
	/* gfn, seq, slot, state, magic "REC1", crc */
	u64 = 5, memcpy(rec, &u64, 8);
	u64 = 9, memcpy(rec + 8, &u64, 8);
	u32 = REC_WRITTEN, memcpy(rec + 20, &u32, 4);
	u32 = 0x31434552u, memcpy(rec + 24, &u32, 4);
	crc = crc32_buf(0, rec, 28), memcpy(rec + 28, &crc, 4);
	fd = open(ipath, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, hdr, 4096) == 4096 &&
	      pwrite(fd, rec, 32, slot_off) == 32, "v%u index", version);
	close(fd);
}

/* The old store opens: gfn 5 is live and readable, its data checked
 * against the crc32c the rewrite recorded, the index is now version 3,
 * and it opens again as such. */
static void upgrade(const char *path, const char *ipath,
		    const struct store_identity *id, uint32_t from)
{
	static uint8_t page[4096], back[4096];
	struct store_recovery rec;
	struct store *st;
	void *b = back;
	uint32_t version = 0;
	char err[512];
	int rc, fd, rst = 1;

	memset(page, 0x3c, sizeof(page));
	write_old(path, ipath, id, page, from);
	for (int pass = 0; pass < 2; pass++) {
		const struct store_live *l;

		rc = store_open(path, id, true, &st, &rec, err, sizeof(err));
		CHECK(rc == 1, "v%u open (pass %d): %d %s", from, pass, rc, err);
		if (rc != 1)
			return;
		l = find(&rec, 5);
		CHECK(l && l->state == REC_WRITTEN && l->slot == 0 && rec.n == 1,
		      "v%u record (pass %d)", from, pass);
		CHECK(store_read(st, &(uint32_t){ 0 }, &b, 1, &rst) == 4096 &&
		      rst == 0 && !memcmp(page, back, sizeof(page)),
		      "v%u data (pass %d)", from, pass);
		store_recovery_free(&rec);
		store_close(st, false);
		fd = open(ipath, O_RDONLY);
		CHECK(fd >= 0 && pread(fd, &version, 4, 8) == 4 && version == 4,
		      "index version %u after open", version);
		close(fd);
	}
	CHECK(access(path, F_OK) == 0 && file_size(path) == 4096, "data file");
	unlink(path);
	unlink(ipath);
}

/* A new store at @path, or NULL (a failure counted). */
static struct store *create(const char *path, const struct store_identity *id)
{
	struct store *st;
	char err[512];
	int rc = store_open(path, id, true, &st, NULL, err, sizeof(err));

	CHECK(rc == 0, "create: %d %s", rc, err);
	return rc == 0 ? st : NULL;
}

/* @st closed and its store at @path opened again: the store, or NULL
 * (a failure counted). */
static struct store *reopen(struct store *st, const char *path,
			    const struct store_identity *id)
{
	char err[512];
	int rc;

	store_close(st, false);
	rc = store_open(path, id, true, &st, NULL, err, sizeof(err));
	CHECK(rc == 1, "re-attach: %d %s", rc, err);
	return rc == 1 ? st : NULL;
}

/* The same, as a pager re-attaches: what the index says into @rec, and
 * each record's slots claimed. */
static struct store *reopen_claim(struct store *st, const char *path,
				  const struct store_identity *id,
				  struct store_recovery *rec)
{
	char err[512];
	int rc;

	memset(rec, 0, sizeof(*rec));
	store_close(st, false);
	rc = st ? store_open(path, id, true, &st, rec, err, sizeof(err)) : -1;
	CHECK(rc == 1, "re-attach: %d %s", rc, rc == -1 ? "" : err);
	for (size_t i = 0; rc == 1 && i < rec->n; i++)
		store_claim(st, rec->live[i].slot);
	return rc == 1 ? st : NULL;
}

/* Byte @off of the file @path xored with @x. */
static void flip(const char *path, off_t off, uint8_t x)
{
	int fd = open(path, O_RDWR);
	uint8_t b = 0;

	CHECK(fd >= 0 && pread(fd, &b, 1, off) == 1, "read byte %lld",
	      (long long)off);
	b ^= x;
	CHECK(fd >= 0 && pwrite(fd, &b, 1, off) == 1, "flip byte %lld",
	      (long long)off);
	if (fd >= 0)
		close(fd);
}

/* A byte of a page's data flipped on disk after its record was written:
 * the read says so for that page (-EBADMSG) and for no other, before and
 * after a re-attach. */
static void corrupt_data(const char *path, const struct store_identity *id)
{
	static uint8_t page[2][4096], back[2][4096];
	void *bufs[2] = { page[0], page[1] }, *rbufs[2] = { back[0], back[1] };
	uint64_t gfns[2] = { 20, 21 };
	uint32_t slots[2];
	struct store *st = create(path, id);
	int rst[2];

	if (!st)
		return;
	memset(page[0], 0x11, 4096);
	memset(page[1], 0x22, 4096);
	CHECK(store_reserve(st, 2) == 0 && store_alloc(st, 2, slots) == 2 &&
	      store_write(st, slots, bufs, 2) == 8192 &&
	      store_record(st, gfns, slots, 2, REC_WRITTEN, true) == 0, "out");
	flip(path, (off_t)slots[1] * 512 + 1234, 0x23);
	for (int pass = 0; pass < 2 && st; pass++) {
		rst[0] = rst[1] = 1;
		CHECK(store_read(st, slots, rbufs, 2, rst) == 8192,
		      "read (pass %d)", pass);
		CHECK(rst[0] == 0 && rst[1] == -EBADMSG,
		      "status (pass %d): %d %d", pass, rst[0], rst[1]);
		st = reopen(st, path, id);
	}
	store_close(st, true);
}

/* crc32c: the check value of its definition, the same from the
 * instruction (three lanes at a time past 4080 bytes) and from the
 * table, in pieces as in one go. */
static void crc32c_values(void)
{
	static uint8_t b[4096 + 7], big[3 * 4096 + 1234];
	uint32_t one;

	CHECK(crc32c_buf(0, "123456789", 9) == 0xe3069283u &&
	      crc32c_buf_soft(0, "123456789", 9) == 0xe3069283u,
	      "crc32c check value: %#x", crc32c_buf(0, "123456789", 9));
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7 + (i >> 8));
	one = crc32c_buf(0, b + 3, 4096);
	CHECK(one == crc32c_buf_soft(0, b + 3, 4096), "crc32c: instruction "
	      "and table differ");
	CHECK(one == crc32c_buf(crc32c_buf(0, b + 3, 1001), b + 1004, 3095),
	      "crc32c in two pieces");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + (i >> 9));
	CHECK(crc32c_buf(0, big, sizeof(big)) ==
	      crc32c_buf_soft(0, big, sizeof(big)), "crc32c: instruction and "
	      "table differ over %zu bytes", sizeof(big));
}

/* A page of prose-like text (compressible), or of random bytes. */
static void fill_page(uint8_t *p, unsigned seed, bool text)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t n = 0;

	while (n < 4096) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (text) {
			char w[64];
			int k = snprintf(w, sizeof(w), "the store %u keeps page "
					 "%llu of the guest, ", seed,
					 (unsigned long long)(x % 1000));

			for (int j = 0; j < k && n < 4096; j++)
				p[n++] = (uint8_t)w[j];
		} else {
			for (int j = 0; j < 8 && n < 4096; j++)
				p[n++] = (uint8_t)(x >> (8 * j));
		}
	}
}

/* Four pages out: gfns @gfn0 on (with @fill, page i made text-like
 * where bit i of @text is set, else random), written and recorded
 * WRITTEN. */
struct four {
	uint8_t page[4][4096], back[4][4096];
	void *bufs[4], *rbufs[4];
	uint32_t slots[4];
};

static bool four_out(struct store *st, struct four *f, uint64_t gfn0,
		     unsigned text, bool fill)
{
	uint64_t gfns[4];

	for (unsigned i = 0; i < 4; i++) {
		if (fill)
			fill_page(f->page[i], (unsigned)gfn0 + i, (text >> i) & 1);
		f->bufs[i] = f->page[i];
		f->rbufs[i] = f->back[i];
		gfns[i] = gfn0 + i;
	}
	return store_reserve(st, 4) == 0 && store_alloc(st, 4, f->slots) == 4 &&
	       store_write(st, f->slots, f->bufs, 4) > 0 &&
	       store_record(st, gfns, f->slots, 4, REC_WRITTEN, true) == 0;
}

/* Compressed records: lz4 packs text pages into fewer slots, a random
 * page stays raw; reads give the pages back, before and after a
 * re-attach; a byte flipped in a compressed record fails its check. */
static void compressed(const char *path, const struct store_identity *id)
{
	static struct four f;
	uint32_t *slots = f.slots;
	struct store *st = create(path, id);
	struct store_stats ss;
	int rst[4];

	if (!st || store_set_compress(st, ENC_LZ4, 0) < 0 ||
	    !four_out(st, &f, 30, 0xd, true)) {
		CHECK(0, "lz4 out");
		store_close(st, true);
		return;
	}
	store_get_stats(st, &ss);
	CHECK(ss.pages_compressed == 3 && ss.pages_raw == 1, "compressed %llu, "
	      "raw %llu", (unsigned long long)ss.pages_compressed,
	      (unsigned long long)ss.pages_raw);
	CHECK(slots[0] == 0 && slots[1] > slots[0] && slots[1] < 8 &&
	      slots[2] == slots[1] + 8 && slots[3] > slots[2] &&
	      store_used(st) < 4 * 8 && store_used(st) == ss.bytes_stored / 512,
	      "packed at %u %u %u %u, %llu slots used", slots[0], slots[1],
	      slots[2], slots[3], (unsigned long long)store_used(st));
	for (int pass = 0; pass < 3 && st; pass++) {
		if (pass == 2)
			flip(path, (off_t)slots[2] * 512 + 100, 0x77);
		memset(f.back, 0, sizeof(f.back));
		CHECK(store_read(st, slots, f.rbufs, 4, rst) > 0, "read");
		for (int i = 0; i < 4; i++)
			CHECK(pass == 2 && i == 2 ? rst[i] == -EBADMSG :
			      rst[i] == 0 && !memcmp(f.page[i], f.back[i], 4096),
			      "page %d (pass %d): %d", i, pass, rst[i]);
		st = reopen(st, path, id);
	}
	store_close(st, true);
}

/* A record whose slots a newer one took: four pages of 1200 random
 * bytes and zeros, lz4-compressed to 3 slots each, packed at slots 0,
 * 3, 6 (over the first two page groups) and 9; all but the first back
 * in with their FREE records lost. After a re-attach (which claims the
 * three stale ones and frees them) gfn 64 goes out raw into group 1,
 * slots 8 to 15: its write empties the places it covers (9), not 6,
 * whose record still spans 6 to 8. That one is older than 64's, which
 * holds slot 8: stale, not live; 61's (3 to 5) overlaps nothing. */
static void overlap(const char *path, const struct store_identity *id)
{
	static struct four f;
	uint32_t s64;
	uint64_t g64 = 64;
	struct store_recovery rec;
	struct store *st = create(path, id);

	if (!st || store_set_compress(st, ENC_LZ4, 0) < 0)
		return;
	for (unsigned i = 0; i < 4; i++) {
		fill_page(f.page[i], 50 + i, false);
		memset(f.page[i] + 1200, 0, 4096 - 1200);
	}
	CHECK(four_out(st, &f, 60, 0, false) && f.slots[0] == 0 &&
	      f.slots[1] == 3 && f.slots[2] == 6 && f.slots[3] == 9,
	      "packed at %u %u %u %u", f.slots[0], f.slots[1], f.slots[2],
	      f.slots[3]);
	st = reopen_claim(st, path, id, &rec);
	store_recovery_free(&rec);
	for (unsigned i = 1; st && i < 4; i++)
		store_free(st, f.slots[i], 60 + i, false);
	fill_page(f.page[0], 59, false);
	CHECK(st && store_alloc(st, 1, &s64) == 1 && s64 == 8 &&
	      store_write(st, &s64, f.bufs, 1) == 4096 &&
	      store_record(st, &g64, &s64, 1, REC_WRITTEN, true) == 0, "64");
	st = reopen_claim(st, path, id, &rec);
	CHECK(st && find(&rec, 64) && find(&rec, 60) && find(&rec, 61) &&
	      !find(&rec, 62) && !find(&rec, 63) && rec.stale_records == 1,
	      "62 %s, stale %llu", find(&rec, 62) ? "live" : "not live",
	      (unsigned long long)rec.stale_records);
	store_recovery_free(&rec);
	store_close(st, true);
}

/* Gfn records a few places apart go out in one read and one write
 * (put_gfn_run()): gfn 101's ZERO record, between 100 and 102 written
 * later, and 105's FREE one, between 104 and 107, are kept as they were. */
static void gfn_gaps(const char *path, const struct store_identity *id)
{
	uint64_t a[2] = { 101, 105 }, b[3] = { 100, 102, 104 }, c = 107, f = 105;
	struct store_recovery rec;
	struct store *st = create(path, id);

	if (!st)
		return;
	CHECK(store_record_gfns(st, a, 2, REC_ZERO, false) == 0 &&
	      store_record_gfns(st, &f, 1, REC_FREE, false) == 0 &&
	      store_record_gfns(st, b, 3, REC_ZERO, false) == 0 &&
	      store_record_gfns(st, &c, 1, REC_ZERO, true) == 0, "records");
	st = reopen_claim(st, path, id, &rec);
	CHECK(st && rec.n == 5 && find(&rec, 100) && find(&rec, 101) &&
	      find(&rec, 102) && find(&rec, 104) && !find(&rec, 105) &&
	      find(&rec, 107), "live %zu", rec.n);
	store_recovery_free(&rec);
	store_close(st, true);
}

/* A store with no record at all opens again (as an empty index's
 * re-attach: nothing to sort). */
static void empty(const char *path, const struct store_identity *id)
{
	struct store_recovery rec;
	struct store *st = reopen_claim(create(path, id), path, id, &rec);

	CHECK(st && rec.n == 0 && rec.bad_records == 0, "empty store");
	store_recovery_free(&rec);
	store_close(st, true);
}

/* The RAM tier: room for three raw pages' copies, four written: the
 * oldest copy goes; reads take the three from the tier (a byte flipped
 * in the file under one of them does not reach the reader) and the
 * oldest from the file. After a re-attach (the tier's copies gone, as
 * in a crash) every page comes from the file: the tier only held
 * copies. */
static void ram_tier(const char *path, const struct store_identity *id)
{
	static struct four f;
	struct store *st = create(path, id);
	int rst[4];
	struct store_stats ss;

	if (st)
		CHECK(store_set_ram_tier(st, 3 * (4096 + 64)) == 0 &&
		      four_out(st, &f, 40, 0, true), "out");
	if (!st)
		return;
	store_get_stats(st, &ss);
	CHECK(ss.ram_copies == 4 && ss.ram_dropped == 1 &&
	      ss.ram_bytes == 3 * (4096 + 64), "copies %llu, dropped %llu, "
	      "%llu bytes", (unsigned long long)ss.ram_copies,
	      (unsigned long long)ss.ram_dropped,
	      (unsigned long long)ss.ram_bytes);
	flip(path, (off_t)f.slots[3] * 512 + 9, 0x10);
	for (int pass = 0; pass < 2 && st; pass++) {
		memset(f.back, 0, sizeof(f.back));
		CHECK(store_read(st, f.slots, f.rbufs, 4, rst) ==
		      (pass ? 4 : 1) * 4096, "read (pass %d)", pass);
		for (int i = 0; i < 4; i++)
			CHECK(pass && i == 3 ? rst[i] == -EBADMSG :
			      rst[i] == (!pass && i > 0) &&
			      !memcmp(f.page[i], f.back[i], 4096),
			      "page %d (pass %d): %d", i, pass, rst[i]);
		st = reopen(st, path, id);
	}
	store_close(st, true);
}

int main(void)
{
	char dir[] = "/tmp/xpage-store-test.XXXXXX", path[128], ipath[160],
	     err[512];
	struct store_identity id = { .domid = 3, .nr_gfns = 1000 };
	struct store *st, *st2;
	struct store_recovery rec;
	static uint8_t page[8][4096], back[8][4096];
	void *bufs[8], *rbufs[8];
	int rst[8];
	uint32_t slots[8];
	uint64_t gfns[8];
	struct stat sb;
	int rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(ipath, sizeof(ipath), "%s/s.index", dir);

	/* a new store: mode 0600 whatever the umask */
	umask(0);
	rc = store_open(path, &id, true, &st, &rec, err, sizeof(err));
	CHECK(rc == 0, "create: %d %s", rc, err);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "store mode %o", sb.st_mode & 0777);
	CHECK(stat(ipath, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "index mode %o", sb.st_mode & 0777);

	/* a second opener is refused while the first holds it */
	rc = store_open(path, &id, true, &st2, NULL, err, sizeof(err));
	CHECK(rc == -EBUSY && strstr(err, "in use"), "in use: %d %s", rc, err);

	/* contiguous slots, one write, read back */
	CHECK(store_reserve(st, 8) == 0, "reserve");
	CHECK(store_alloc(st, 8, slots) == 8, "alloc");
	for (int i = 0; i < 8; i++) {
		CHECK(i == 0 || slots[i] == slots[i - 1] + 8, "not contiguous");
		memset(page[i], 'a' + i, sizeof(page[i]));
		bufs[i] = page[i];
		rbufs[i] = back[i];
		gfns[i] = 100 + (uint64_t)i;
	}
	CHECK(store_record(st, gfns, slots, 8, REC_INTENT, false) == 0, "intent");
	CHECK(store_write(st, slots, bufs, 8) == 8 * 4096, "write");
	CHECK(store_sync_data(st) == 0, "sync");
	/* gfns 100..105 written; 106, 107 stay INTENT */
	CHECK(store_record(st, gfns, slots, 6, REC_WRITTEN, true) == 0, "written");
	CHECK(store_read(st, slots, rbufs, 8, rst) == 8 * 4096, "read");
	CHECK(!memcmp(page, back, sizeof(page)), "data differs");
	for (int i = 0; i < 8; i++)
		CHECK(rst[i] == 0, "page %d failed its check: %d", i, rst[i]);
	/* 101 comes back in: FREE; 102 is paged out again elsewhere */
	store_free(st, slots[1], 101, true);
	store_free(st, slots[2], 102, true);
	{
		uint32_t s2;
		uint64_t g = 102;

		CHECK(store_alloc(st, 1, &s2) == 1, "alloc again");
		CHECK(store_record(st, &g, &s2, 1, REC_WRITTEN, true) == -EINVAL,
		      "a WRITTEN record for a slot never written");
		CHECK(store_write(st, &s2, bufs + 2, 1) == 4096, "write again");
		CHECK(store_record(st, &g, &s2, 1, REC_WRITTEN, true) == 0, "rec");
	}
	CHECK(store_used(st) == 7 * 8, "used %llu",
	      (unsigned long long)store_used(st));
	store_close(st, false);

	/* damage the record of slot 3 (gfn 103) */
	{
		int fd = open(ipath, O_RDWR);
		uint8_t x = 0x5a;

		/* header, 1000 gfn records in whole pages, gfn 103's slot */
		CHECK(fd >= 0 && pwrite(fd, &x, 1, 4096 + 32768 +
					(off_t)slots[3] * 32 + 2) == 1,
		      "damage");
		close(fd);
	}

	/* re-attach: what does the index say? */
	rc = store_open(path, &id, true, &st, &rec, err, sizeof(err));
	CHECK(rc == 1, "re-attach: %d %s", rc, err);
	if (rc == 1) {
		const struct store_live *l;

		CHECK(rec.bad_records == 1, "bad records %llu",
		      (unsigned long long)rec.bad_records);
		CHECK((l = find(&rec, 100)) && l->state == REC_WRITTEN &&
		      l->slot == slots[0], "gfn 100");
		CHECK(!find(&rec, 101), "gfn 101 was freed");
		CHECK((l = find(&rec, 102)) && l->state == REC_WRITTEN &&
		      l->slot != slots[2], "gfn 102: the newer record wins");
		CHECK(!find(&rec, 103), "gfn 103's damaged record was used");
		CHECK((l = find(&rec, 106)) && l->state == REC_INTENT, "gfn 106");
		CHECK(rec.n == 6, "live records %zu", rec.n);
		store_recovery_free(&rec);
		store_close(st, false);
	}

	/* refusals */
	{
		struct store_identity other = { .domid = 4, .nr_gfns = 1000 };
		uint32_t dom = 0;

		rc = store_open(path, &other, true, &st, NULL, err, sizeof(err));
		CHECK(rc == -EXDEV && strstr(err, "another domain"),
		      "other domain: %d %s", rc, err);
		rc = store_open(path, &id, false, &st, NULL, err, sizeof(err));
		CHECK(rc == -EEXIST, "existing store allowed: %d", rc);
		CHECK(store_probe(path, &dom, err, sizeof(err)) == 0 && dom == 3,
		      "probe");
		chmod(path, 0640);
		rc = store_open(path, &id, true, &st, NULL, err, sizeof(err));
		CHECK(rc == -EPERM && strstr(err, "0640"), "mode: %d %s", rc, err);
		chmod(path, 0600);
	}
	store_close(NULL, false);
	unlink(path);
	unlink(ipath);
	zero_pages(path, &id);
	data_stays_empty(path, &id);
	upgrade(path, ipath, &id, 1);
	upgrade(path, ipath, &id, 2);
	corrupt_data(path, &id);
	compressed(path, &id);
	overlap(path, &id);
	ram_tier(path, &id);
	gfn_gaps(path, &id);
	empty(path, &id);
	crc32c_values();
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("store: ok\n");
	return 0;
}
