/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's data (store_int.h): a batch's pages compressed (where the
 * store is set to and a page saves a slot), packed into the front of the
 * batch's reserved page groups, and written with one vectored write per
 * run of adjacent records; reads gather the same way, then check each
 * record's crc32c before a page is decompressed or handed out.
 *
 * Packing never needs more than the reservation: the pages go in slot
 * order, each at the cursor if it fits in the cursor's run of reserved
 * groups, else at the start of its own group; the cursor never passes
 * the group of the page it places, and a page takes at most a group.
 */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define MAX_IOV 1024

/* One record in a transfer: its slots and its bytes. */
struct piece {
	uint32_t slot, units;
	uint32_t run_end;    /* place(): the end of its reservation's run */
	void *data;
	uint32_t len;
	uint8_t enc;
	bool ram;            /* store_read(): taken from the RAM tier */
	size_t idx;          /* the caller's index */
};

/* All of @v (@cnt entries, @left bytes) at @off, resuming a short
 * transfer. Bytes moved or a negative errno. */
static int64_t vec_io(int fd, struct iovec *v, int cnt, size_t left, off_t off,
		      bool wr)
{
	int64_t total = 0;

	while (left) {
		ssize_t r = wr ? pwritev(fd, v, cnt, off) : preadv(fd, v, cnt, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return wr ? -EIO : -ENODATA; /* past the end */
		total += r;
		off += r;
		left -= (size_t)r;
		while (cnt && (size_t)r >= v->iov_len) {
			r -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt && r) {
			v->iov_base = (uint8_t *)v->iov_base + r;
			v->iov_len -= (size_t)r;
		}
	}
	return total;
}

/* The @n pieces, one vectored transfer per run of adjacent ones: each
 * piece's bytes, then up to the end of its slots zeros (a write) or a
 * scratch nobody reads (a read). Bytes moved or a negative errno. */
static int64_t run_io(struct store *st, const struct piece *pc, size_t n,
		      bool wr)
{
	static const uint8_t zeros[UNIT];
	static uint8_t sink[UNIT];
	struct iovec iov[MAX_IOV];
	int64_t total = 0;

	for (size_t i = 0, j; i < n; i = j) {
		size_t left = 0;
		int cnt = 0;

		j = i;
		do {
			size_t pad = (size_t)pc[j].units * UNIT - pc[j].len;

			iov[cnt++] = (struct iovec){ pc[j].data, pc[j].len };
			if (pad)
				iov[cnt++] = (struct iovec){
					wr ? (void *)zeros : sink, pad };
			left += (size_t)pc[j].units * UNIT;
			j++;
		} while (j < n && cnt + 2 <= MAX_IOV &&
			 pc[j].slot == pc[j - 1].slot + pc[j - 1].units);
		int64_t r = vec_io(st->fd, iov, cnt, left,
				   (off_t)pc[i].slot * UNIT, wr);

		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

static int cbuf_reserve(struct store *st, size_t n)
{
	if (n <= st->ccap)
		return 0;
	free(st->cbuf);
	st->cbuf = malloc(n * PAGE);
	st->ccap = st->cbuf ? n : 0;
	return st->cbuf ? 0 : -ENOMEM;
}

/* Page @i into piece *@pc: compressed into cbuf where that saves a slot,
 * else the page as it is. */
static void encode(struct store *st, const void *page, size_t i,
		   struct piece *pc)
{
	uint8_t *out = st->cbuf + i * PAGE;
	size_t len = st->comp.enc == ENC_RAW ? 0 :
		     compress_page(&st->comp, page, out, COMPRESSED_MAX);

	*pc = (struct piece){ .data = len ? out : (void *)page,
			      .len = len ? (uint32_t)len : PAGE,
			      .enc = len ? (uint8_t)st->comp.enc : ENC_RAW,
			      .idx = i };
	pc->units = (pc->len + UNIT - 1) / UNIT;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Place the pieces (sorted by their reservations, in pc[].slot) at the
 * front of the reservation runs (the header comment says why they fit). */
static void place(struct piece *pc, size_t n)
{
	uint64_t cursor = 0, end = 0;

	for (size_t i = n; i-- > 0;)
		pc[i].run_end = i + 1 < n &&
				pc[i + 1].slot == pc[i].slot + UNITS_PER_PAGE ?
				pc[i + 1].run_end : pc[i].slot + UNITS_PER_PAGE;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cursor + pc[i].units > end) {
			cursor = pc[i].slot;
			end = pc[i].run_end;
		}
		pc[i].slot = (uint32_t)cursor;
		cursor += pc[i].units;
	}
}

/* After a write: the reservations @slots given back, the records' slots
 * taken with what they hold, slots[] naming them. */
static void commit(struct store *st, uint32_t *slots, const struct piece *pc,
		   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		store_mark(st, slots[i], UNITS_PER_PAGE, false);
		st->meta[slots[i]] = (struct slot_meta){ 0 };
	}
	for (size_t i = 0; i < n; i++) {
		store_mark(st, pc[i].slot, pc[i].units, true);
		st->meta[pc[i].slot] = (struct slot_meta){
			.dcrc = crc32c_buf(0, pc[i].data, pc[i].len),
			.len = (uint16_t)pc[i].len, .enc = pc[i].enc };
		slots[pc[i].idx] = pc[i].slot;
		st->stats.bytes_stored += (uint64_t)pc[i].units * UNIT;
		if (st->ram) {
			st->stats.ram_dropped += ram_tier_put(st->ram, pc[i].slot,
							      pc[i].data,
							      pc[i].len);
			st->stats.ram_copies++;
		}
		if (pc[i].enc == ENC_RAW)
			st->stats.pages_raw++;
		else
			st->stats.pages_compressed++;
	}
}

int64_t store_write(struct store *st, uint32_t *slots, void *const *pages,
		    size_t n)
{
	struct piece *pc;
	int64_t rc;

	for (size_t i = 0; i < n; i++)
		if (slots[i] >= st->cap || slots[i] % UNITS_PER_PAGE ||
		    !bm_test(st, slots[i]))
			return -EINVAL;
	pc = calloc(n ? n : 1, sizeof(*pc));
	rc = pc ? cbuf_reserve(st, n) : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		encode(st, pages[i], i, &pc[i]);
		pc[i].slot = slots[i];
	}
	if (rc == 0 && n) {
		qsort(pc, n, sizeof(*pc), cmp_slot);
		place(pc, n);
		rc = store_data_cover(st, (uint64_t)pc[n - 1].slot +
					  pc[n - 1].units);
	}
	if (rc == 0)
		rc = run_io(st, pc, n, true);
	if (rc >= 0)
		commit(st, slots, pc, n);
	free(pc);
	return rc;
}

/* Piece @p from the RAM tier's copy, if it has one of its length. */
static bool from_ram(struct store *st, struct piece *p)
{
	uint32_t len;
	const void *c = st->ram ? ram_tier_get(st->ram, p->slot, &len) : NULL;

	if (!c || len != p->len)
		return false;
	memcpy(p->data, c, len);
	p->ram = true;
	return true;
}

/* The pieces not taken from the RAM tier to the front of @pc, in their
 * order; how many. */
static size_t file_pieces(struct piece *pc, size_t k, struct piece *out)
{
	size_t n = 0;

	for (size_t j = 0; j < k; j++)
		if (!pc[j].ram)
			out[n++] = pc[j];
	return n;
}

/* Check piece @p read into its buffer, and decompress it into @page. */
static int check_piece(struct store *st, const struct piece *p, void *page)
{
	if (crc32c_buf(0, p->data, p->len) != st->meta[p->slot].dcrc)
		return -EBADMSG;
	if (p->enc == ENC_RAW)
		return 0;
	return decompress_page(&st->comp, (enum store_enc)p->enc, p->data,
			       p->len, page);
}

int64_t store_read(struct store *st, const uint32_t *slots, void *const *bufs,
		   size_t n, int *status)
{
	struct piece *pc = calloc(n ? n : 1, sizeof(*pc));
	struct piece *io = calloc(n ? n : 1, sizeof(*io));
	int64_t rd = pc && io ? cbuf_reserve(st, n) : -ENOMEM;
	size_t k = 0;

	for (size_t i = 0; rd == 0 && i < n; i++) {
		const struct slot_meta *m = slots[i] < st->cap ?
					    &st->meta[slots[i]] : NULL;

		status[i] = -EBADMSG;
		if (!m || !m->len)
			continue;
		pc[k] = (struct piece){ .slot = slots[i], .units = meta_units(m),
					.len = m->len, .enc = m->enc, .idx = i,
					.data = m->enc == ENC_RAW ? bufs[i] :
						st->cbuf + i * PAGE };
		from_ram(st, &pc[k]);
		k++;
	}
	if (rd == 0)
		rd = run_io(st, io, file_pieces(pc, k, io), false);
	for (size_t j = 0; rd >= 0 && j < k; j++) {
		int rc = check_piece(st, &pc[j], bufs[pc[j].idx]);

		status[pc[j].idx] = rc < 0 ? rc : pc[j].ram;
		if (pc[j].ram)
			st->stats.reads_ram++;
		else
			st->stats.reads_file++;
	}
	free(pc);
	free(io);
	return rd;
}

int store_set_compress(struct store *st, enum store_enc enc, int level)
{
	struct compressor c;
	int rc = compress_init(&c, enc, level);

	if (rc < 0)
		return rc;
	compress_fini(&st->comp);
	st->comp = c;
	return 0;
}

int store_set_ram_tier(struct store *st, uint64_t bytes)
{
	struct ram_tier *rt = bytes ? ram_tier_new(bytes) : NULL;

	if (bytes && !rt)
		return -ENOMEM;
	ram_tier_free(st->ram);
	st->ram = rt;
	return 0;
}

void store_get_stats(const struct store *st, struct store_stats *s)
{
	*s = st->stats;
	s->ram_bytes = st->ram ? ram_tier_bytes(st->ram) : 0;
}
