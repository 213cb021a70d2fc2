/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store: guest pages the pager evicted, in a file of 512-byte slots,
 * raw (8 slots) or compressed with lz4 or zstd (1 to 7), and the index
 * that makes it crash-safe.
 *
 * Files: <path> holds the slots (mode 0600: it is guest memory);
 * <path>.index holds a header (magic, version, page size, domid, the
 * guest's size), one fixed 32-byte record per gfn, then one per slot:
 * {gfn, sequence number, slot, state, data encoding, data length,
 * crc32c of the data, crc32 of the record}, at the place of the first
 * slot it speaks of:
 *
 *   INTENT   gfn is about to be nominated with this page group (8
 *            slots from this one) reserved (written, not synced, before
 *            the nominate: a pager killed during the write-out can find
 *            the gfns it left nominated)
 *   WRITTEN  the slots from this one hold gfn's contents, as many as
 *            its length needs, raw or compressed (its encoding): the
 *            data was fdatasync'd before this record, and the record is
 *            fdatasync'd before the gfn is evicted. Its length and
 *            crc32c are checked by every read (store_read()): data that
 *            no longer matches is never handed out.
 *   FREE     the slot is free (written, not synced, when a page comes
 *            back in; a lost FREE record is harmless: see pagein.c)
 *
 * A gfn's own record (no slot) says what became of it as a zero page:
 *
 *   ZERO     gfn's contents are all zero and take no slot: written when
 *            the page was found zero while mapped, and fdatasync'd
 *            before the gfn is evicted, exactly as a WRITTEN record
 *   FREE     it came back in (not synced, as a slot's FREE)
 *
 * Every evicted gfn has a WRITTEN or a ZERO record. The slot it had as
 * INTENT is freed without a record when the page is found zero: the
 * INTENT left there is older than the ZERO record.
 *
 * Sequence numbers only grow, so when two records name the same gfn (a
 * slot freed lazily, the gfn paged out again into another slot, or as
 * a zero page), the newer one is the truth; and when two records' slots
 * overlap (a record's slots freed lazily, then packed with another
 * batch's), the older one is stale. The index file is locked (flock)
 * while a pager uses it, so two pagers never share a store. A store
 * holds up to 2^32 slots (2 TiB).
 *
 * Versions: this pager writes index version 4 (512-byte slots and
 * compressed records are new in it; version 3 brought the data's
 * length and crc32c, version 2 the gfn records) and opens versions 1
 * to 3 too, rewriting them as version 4 first: the live records only,
 * 4 KiB slot s as slot 8s, each WRITTEN one with the checksum of its
 * data as the file holds it then. A pager that knows an older version
 * only refuses a newer store (-EBADMSG, "index version 4 ... this
 * pager reads versions 1 to 3"): it must not serve pages from an index
 * it cannot read. Run the newer pager until the store is empty again.
 */
#ifndef BATCH_PAGER_STORE_H
#define BATCH_PAGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_compress.h"

#define STORE_NO_SLOT UINT32_MAX

enum store_rec_state {
	REC_EMPTY = 0,
	REC_INTENT = 1,
	REC_WRITTEN = 2,
	REC_FREE = 3,
	REC_ZERO = 4,
};

struct store_identity {
	uint32_t domid;
	uint64_t nr_gfns;
	/* 0, or a value naming one guest instance (a simulated guest this
	 * pager created); a store with another non-zero value is refused. */
	uint64_t guest_id;
};

/* What the index says after a crash: the newest record per gfn. */
struct store_live {
	uint64_t gfn;
	uint32_t slot;  /* STORE_NO_SLOT for REC_ZERO */
	uint32_t state; /* REC_INTENT, REC_WRITTEN or REC_ZERO */
};

struct store_recovery {
	struct store_live *live;
	size_t n;
	uint64_t bad_records;   /* crc or bounds failures (ignored) */
	uint64_t stale_records; /* superseded or free */
};

/* What the store wrote and read (store_get_stats()). */
struct store_stats {
	uint64_t pages_raw;        /* pages written as they are */
	uint64_t pages_compressed; /* pages written compressed */
	uint64_t bytes_stored;     /* slots they took, in bytes */
	uint64_t ram_copies;       /* of them, copies kept in the RAM tier */
	uint64_t ram_dropped;      /* copies the tier let go, oldest first */
	uint64_t ram_bytes;        /* what the tier's copies take now */
	uint64_t reads_ram;        /* pages read from the RAM tier */
	uint64_t reads_file;       /* pages read from the file */
};

struct store;

/*
 * Open or create the store. On success *st is set and the return value
 * is 0 (a new store) or 1 (an existing store was re-attached; @rec, if
 * not NULL, is filled and must be released with store_recovery_free()).
 * On failure a negative errno, with a sentence in @err:
 *   -EEXIST    a store exists but @allow_existing is false
 *   -EXDEV     the store belongs to another domain or guest
 *   -EPERM     the store is not owned by this user or not mode 0600
 *   -EBUSY     another pager holds the store
 *   -EBADMSG   the index header is not a store index (or damaged)
 */
int store_open(const char *path, const struct store_identity *id,
	       bool allow_existing, struct store **st,
	       struct store_recovery *rec, char *err, size_t errlen);
void store_recovery_free(struct store_recovery *rec);

/* Before attaching: is the store at @path held by a running pager
 * (-EBUSY), or not a store index (-EBADMSG)? 0 and *domid otherwise,
 * -ENOENT if there is none. The lock is not kept. */
int store_probe(const char *path, uint32_t *domid, char *err, size_t errlen);

/* Close; with @remove, unlink both files. */
void store_close(struct store *st, bool remove);

/* Make sure @n more pages can be reserved without growing the index at
 * record time (the files are extended with fallocate). The data file is
 * left empty until the first page with data is written (store_write
 * sizes it then), and grows with the index from there. 0, -ENOSPC (the
 * disk is full), or another negative errno. */
int store_reserve(struct store *st, size_t n);

/* Reserve a page group for each of @n pages, as few contiguous runs as
 * possible (one when it can); slots[i] names its first slot. Returns
 * the number reserved (< n only when reserve was not called first). */
size_t store_alloc(struct store *st, size_t n, uint32_t *slots);

/* Mark a record's slots in use (re-attach): a WRITTEN record's data, an
 * INTENT record's page group. */
void store_claim(struct store *st, uint32_t slot);

/* Free a record's slots (a reservation's page group, or what its data
 * takes). @record: write a FREE record for it (not synced). */
void store_free(struct store *st, uint32_t slot, uint64_t gfn, bool record);

/* Is @slot a whole page group (a reservation, or a raw page's record)?
 * A page is written again only into such a slot. */
bool store_slot_is_page(const struct store *st, uint32_t slot);

/* The slot right after the record at @slot: where the record written
 * next to it in the same run starts (STORE_NO_SLOT past the index). */
uint32_t store_next_slot(const struct store *st, uint32_t slot);

/* Compress the pages store_write() writes with @enc (ENC_RAW: none) at
 * @level (0: the codec's default). Records of any encoding are read
 * whatever the setting. 0 or -ENOMEM. */
int store_set_compress(struct store *st, enum store_enc enc, int level);

/* A RAM tier of @bytes (0: none) ahead of the file: a copy of each
 * record written is kept, the oldest let go when it is full, and reads
 * take the copy when there is one. Write-through: every record is in
 * the file as without it, so what a crash loses of it is copies. 0 or
 * -ENOMEM. */
int store_set_ram_tier(struct store *st, uint64_t bytes);
void store_get_stats(const struct store *st, struct store_stats *s);

/* Write @n pages reserved at slots[i] (store_alloc()): each compressed
 * where the store is set to and it saves a slot, else raw; packed into
 * the front of the batch's reservations (the rest given back) and
 * written with one vectored write per run of adjacent records,
 * extending the data file first if it does not hold them yet. On
 * success slots[i] names page i's record (its length, encoding and
 * crc32c are kept for its WRITTEN record) and the bytes written are
 * returned; on failure nothing changed and a negative errno is (-ENOSPC;
 * -EINVAL for a slot that is not a reservation). */
int64_t store_write(struct store *st, uint32_t *slots, void *const *pages,
		    size_t n);
/* Make the written data durable. 0 or negative errno. */
int store_sync_data(struct store *st);

/* Write records {gfns[i], slots[i], state} (one write per run of
 * consecutive slots); with @sync, fdatasync the index afterwards. A
 * WRITTEN record names what store_write() last wrote to its slot
 * (-EINVAL if nothing was since the slot was allocated). */
int store_record(struct store *st, const uint64_t *gfns,
		 const uint32_t *slots, size_t n, uint32_t state, bool sync);
/* The same for gfns' own records (REC_ZERO or REC_FREE, no slot): one
 * write per run of consecutive gfns. */
int store_record_gfns(struct store *st, const uint64_t *gfns, size_t n,
		      uint32_t state, bool sync);

/* Read the page whose record is at slots[i] into bufs[i] (from the RAM
 * tier's copy if there is one, else the file: one vectored read per run
 * of adjacent records), checking each against its record and
 * decompressing it: status[i] is 0 (read from the file), 1 (from the
 * RAM tier), or -EBADMSG when the data does not match the length and
 * crc32c its WRITTEN record gives, does not decompress into one page,
 * or there is no record: such a buffer holds garbage and must not reach
 * the guest. Returns bytes read from the file or a negative errno (then
 * status is not set). */
int64_t store_read(struct store *st, const uint32_t *slots, void *const *bufs,
		   size_t n, int *status);

/* Slots in use, slots in the index, slots in the data file, and pages
 * store_alloc() can still reserve without growing anything. */
uint64_t store_used(const struct store *st);
uint64_t store_capacity(const struct store *st);
uint64_t store_data_capacity(const struct store *st);
uint64_t store_room(const struct store *st);
const char *store_path(const struct store *st);

/* store_crc.c: crc32 (zlib's polynomial: the index's own records and
 * header) and crc32c (Castagnoli: the data; SSE4.2 where the processor
 * has it, else a table, which crc32c_buf_soft() always uses). Start
 * with @crc 0, or continue with the previous result. */
uint32_t crc32_buf(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_buf(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_buf_soft(uint32_t crc, const void *buf, size_t len);

#endif
