/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the example pager's store index reader (store_open of an
 * existing store, examples/batch-pager/store.c), the file a restarted
 * pager trusts to serve guest pages.
 *
 *   byte 0    flags: bit 0 seal the header (magic, version, sizes, this
 *             domain, crc) so the records are reached; bit 1 seal every
 *             record's crc; bit 2 a data file at all
 *   byte 1    data file size in slots (0..255)
 *   byte 2    header identity: 0 this domain, else another one
 *   the rest  the index file: a 4096-byte header, then 32-byte records
 *
 * The index and data files are written (mode 0600) to a private directory
 * on each run and opened as a restarted pager opens them. Whatever the
 * bytes, store_open must return a documented error or a recovery list in
 * which every entry is a gfn of the guest, appears once, and (if WRITTEN)
 * names a slot inside the data file; the store must then work (claim,
 * allocate, record, read back, free) and close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define HDR 4096u
#define NR_GFNS 512u
#define DOMID 7u

static char dir[256], path[300], ipath[310];

static void fail(const char *what, unsigned long long a)
{
	fprintf(stderr, "fuzz_store: %s (%llu)\n", what, a);
	abort();
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	if (dir[0])
		return;
	/* tmpfs when there is one: two small files per run */
	snprintf(dir, sizeof(dir), "%s/xpage-fuzz-store.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		fail("mkdtemp", (unsigned long long)errno);
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(ipath, sizeof(ipath), "%s/s.index", dir);
}

static void write_file(const char *p, const void *buf, size_t len,
		       off_t size)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		fail("open for writing", (unsigned long long)errno);
	if (len && write(fd, buf, len) != (ssize_t)len)
		fail("write", (unsigned long long)errno);
	if (size >= 0 && ftruncate(fd, size) < 0)
		fail("ftruncate", (unsigned long long)errno);
	fchmod(fd, 0600);
	close(fd);
}

/* The header as store.c writes it (struct idx_hdr, machine byte order),
 * of index version @version. */
static void seal_header(uint8_t *h, uint32_t domid, uint32_t version)
{
	uint32_t v;
	uint64_t q;

	memcpy(h, "XPGSTOR1", 8);
	v = version; memcpy(h + 8, &v, 4);
	v = 4096;    memcpy(h + 12, &v, 4);  /* page size */
	v = 32;      memcpy(h + 16, &v, 4);  /* record size */
	memcpy(h + 20, &domid, 4);
	q = NR_GFNS; memcpy(h + 24, &q, 8);
	q = 0;       memcpy(h + 32, &q, 8);  /* guest id */
	v = crc32_buf(0, h, 52);             /* crc of the bytes before it */
	memcpy(h + 52, &v, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_identity id = { .domid = DOMID, .nr_gfns = NR_GFNS };
	struct store_recovery rec;
	struct store *st = NULL;
	uint8_t flags, slots, who, *idx;
	size_t ilen;
	char err[512];
	int rc;

	if (size < 3)
		return 0;
	setup();
	flags = data[0];
	slots = data[1];
	who = data[2];
	data += 3;
	size -= 3;
	ilen = size;
	if ((flags & 1) && ilen < HDR)
		ilen = HDR;
	idx = calloc(1, ilen ? ilen : 1);
	if (!idx)
		return 0;
	memcpy(idx, data, size);
	/* bit 3: version 3, or 4 with bit 4 (a record's crc alone), else
	 * version 1 (the magic word "REC1" and the crc) */
	if (flags & 1)
		seal_header(idx, who ? DOMID + who : DOMID,
			    flags & 8 ? (flags & 16 ? 4 : 3) : 1);
	if (flags & 2) {
		for (size_t off = HDR; off + 32 <= ilen; off += 32) {
			uint32_t magic = 0x31434552u, crc;

			if (!(flags & 8))
				memcpy(idx + off + 24, &magic, 4);
			crc = crc32_buf(0, idx + off, 28);
			memcpy(idx + off + 28, &crc, 4);
		}
	}
	unlink(path);
	unlink(ipath);
	write_file(ipath, idx, ilen, -1);
	if (flags & 4)
		write_file(path, NULL, 0, (off_t)slots * 4096);
	free(idx);

	memset(&rec, 0, sizeof(rec));
	err[0] = 0;
	rc = store_open(path, &id, true, &st, &rec, err, sizeof(err));
	if (rc < 0) {
		if (rc != -EBADMSG && rc != -EXDEV && rc != -EPERM &&
		    rc != -EBUSY && rc != -ENOENT && rc != -ENOMEM)
			fail("store_open: an error it does not document",
			     (unsigned long long)-rc);
		if (!err[0])
			fail("store_open failed without a sentence", 0);
		return 0;
	}
	if (rc != 1)
		fail("store_open of an existing store did not re-attach",
		     (unsigned long long)rc);
	if (!(flags & 4))
		fail("a store without its data file was accepted", 0);
	{
		uint64_t cap = store_capacity(st);
		uint8_t *seen = calloc(NR_GFNS, 1);

		if (!seen)
			abort();
		for (size_t i = 0; i < rec.n; i++) {
			const struct store_live *l = &rec.live[i];

			if (l->gfn >= NR_GFNS)
				fail("a recovered gfn beyond the guest", l->gfn);
			if (seen[l->gfn]++)
				fail("a gfn recovered twice", l->gfn);
			if (l->state != REC_INTENT && l->state != REC_WRITTEN &&
			    !(l->state == REC_ZERO && l->slot == STORE_NO_SLOT))
				fail("a recovered record in another state", l->state);
			if (l->state == REC_WRITTEN && l->slot >= cap)
				fail("a written page past the data file", l->slot);
			store_claim(st, l->slot);
		}
		free(seen);
		/* the store still works: a page out and back */
		if (store_reserve(st, 2) == 0) {
			uint32_t s2[2];
			uint64_t g2[2] = { 1, 2 };
			uint8_t a[4096], b[4096];
			void *pa[2] = { a, a }, *pb[2] = { b, b };
			int rst[2] = { 1, 1 };

			memset(a, 0x5a, sizeof(a));
			if (store_alloc(st, 2, s2) != 2)
				fail("no slots after a reserve", 0);
			if (s2[0] >= store_capacity(st) || s2[1] >= store_capacity(st))
				fail("a slot past the capacity", s2[0]);
			if (store_write(st, s2, pa, 2) != 8192 ||
			    store_record(st, g2, s2, 2, REC_WRITTEN, false) < 0 ||
			    store_read(st, s2, pb, 2, rst) != 8192 ||
			    rst[0] || rst[1] || memcmp(a, b, sizeof(a)))
				fail("write, record, read back", 0);
			store_free(st, s2[0], 1, true);
			store_free(st, s2[1], 2, true);
		}
	}
	store_recovery_free(&rec);
	store_close(st, true);
	return 0;
}
