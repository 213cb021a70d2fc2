/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's insides, shared by its files:
 *   store.c           opening, the index and its records, re-attach
 *   store_alloc.c     the slot bitmap, reservations, growing the files
 *   store_io.c        packing pages into slots, the data's reads/writes
 *   store_compress.c  lz4 and zstd, a page at a time
 *   store_ram.c       the RAM tier: copies of the newest records
 *   store_crc.c       crc32 and crc32c
 *
 * A slot is a 512-byte unit of the data file (slot s at s * 512). A page
 * is reserved as an aligned group of 8 slots (a "page group", one byte of
 * the bitmap); once written, its record takes the slots its data needs
 * from its first (1 to 7 compressed, 8 raw) and the rest of the batch's
 * reservation is given back. A record's slots are counted from its
 * first: meta[first] says how many.
 */
#ifndef BATCH_PAGER_STORE_INT_H
#define BATCH_PAGER_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xpage/xpage.h>

#include "store.h"
#include "store_compress.h"
#include "store_ram.h"

#define PAGE XPAGE_PAGE_SIZE
#define UNIT 512u
#define UNITS_PER_PAGE (PAGE / UNIT)
/* A compressed page bigger than this is stored raw: it would save less
 * than one slot of eight. */
#define COMPRESSED_MAX (PAGE - UNIT)

/* What a record says of its slots' data, kept at its first slot. */
struct slot_meta {
	uint32_t dcrc;        /* crc32c of the len bytes stored */
	uint16_t len;         /* 0: no data written there (a reservation) */
	uint8_t enc;          /* enum store_enc */
	uint8_t pad;
};

struct idx_rec;

struct store {
	char *path, *ipath;
	int fd, ifd;
	struct store_identity id;
	uint64_t cap;         /* slots the index has records for (a
			       * multiple of 8) */
	uint64_t dcap;        /* slots the data file holds: 0 until the
			       * first page with data, then cap */
	uint64_t slot_off;    /* where slot 0's record is in the index */
	uint64_t used;        /* slots in use */
	uint64_t free_groups; /* page groups with no slot in use */
	uint64_t *bm;         /* bit set: slot in use */
	struct slot_meta *meta; /* per slot, bm_words * 64 of them */
	size_t bm_words;
	uint64_t hint;        /* the page group the next search starts at */
	uint64_t seq;
	uint32_t version;     /* of the index being read */
	bool no_falloc;       /* the filesystem cannot fallocate */
	bool data_short;      /* the disk could not hold the data file at
			       * cap: slots are allocated below dcap */
	struct idx_rec *rbuf; /* scratch for record writes */
	size_t rcap;
	struct idx_rec *scratch; /* put_run(): a run's places */
	size_t scap;
	struct compressor comp;
	uint8_t *cbuf;        /* a page per page of a batch: compressed data */
	size_t ccap;          /* pages of cbuf */
	struct ram_tier *ram; /* NULL: no RAM tier */
	struct store_stats stats;
};

static inline bool bm_test(const struct store *st, uint64_t s)
{
	return (st->bm[s / 64] >> (s % 64)) & 1;
}

/* Slots a record with meta @m takes: a reservation's whole page group
 * when nothing was written. */
static inline uint32_t meta_units(const struct slot_meta *m)
{
	return m->len ? (m->len + UNIT - 1) / UNIT : UNITS_PER_PAGE;
}

/* store_alloc.c */
int store_bm_resize(struct store *st, uint64_t cap);
/* Mark @n slots from @first in use (@on) or free; the counts follow. */
void store_mark(struct store *st, uint64_t first, uint64_t n, bool on);
/* Before writing slots below @need: the data file covers them (see
 * store_alloc.c). 0, -ENOSPC, or another negative errno. */
int store_data_cover(struct store *st, uint64_t need);

/* store.c */
int store_write_all(int fd, const void *buf, size_t len, off_t off);

#endif
