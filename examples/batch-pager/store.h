/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store: guest pages the pager evicted, in a file of 4 KiB slots, and
 * the index that makes it crash-safe.
 *
 * Files: <path> holds the slots (mode 0600: it is guest memory);
 * <path>.index holds a header (magic, version, page size, domid, the
 * guest's size), one fixed 32-byte record per gfn, then one per slot:
 * {gfn, sequence number, slot, state, data encoding, data length,
 * crc32c of the data, crc32 of the record}. A slot's record is the
 * truth about its slot:
 *
 *   INTENT   gfn is about to be nominated with this slot reserved
 *            (written, not synced, before the nominate: a pager killed
 *            during the write-out can find the gfns it left nominated)
 *   WRITTEN  the slot holds gfn's contents: the data was fdatasync'd
 *            before this record, and the record is fdatasync'd before
 *            the gfn is evicted. It carries the data's length and
 *            crc32c, checked by every read (store_read()): a slot whose
 *            data no longer matches is never handed out.
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
 * a zero page), the newer one is the truth. The index file is locked
 * (flock) while a pager uses it, so two pagers never share a store.
 *
 * Versions: this pager writes index version 3 (the data's length and
 * crc32c are new in it; version 2 brought the gfn records) and opens
 * versions 1 and 2 too, rewriting them as version 3 first: the live
 * records only, each WRITTEN one with the checksum of its slot's data
 * as the file holds it then. A pager that knows an older version only
 * refuses a newer store (-EBADMSG, "index version 3 ... this pager
 * reads versions 1 to 2"): it must not serve pages from an index it
 * cannot read. Run the newer pager until the store is empty again.
 */
#ifndef BATCH_PAGER_STORE_H
#define BATCH_PAGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Make sure @n more slots can be allocated without growing the index at
 * record time (the files are extended with fallocate). The data file is
 * left empty until the first page with data is written (store_write
 * sizes it then), and grows with the index from there. 0, -ENOSPC (the
 * disk is full), or another negative errno. */
int store_reserve(struct store *st, size_t n);

/* Allocate @n slots, as few contiguous runs as possible (one when it
 * can). Returns the number allocated (< n only when reserve was not
 * called first). */
size_t store_alloc(struct store *st, size_t n, uint32_t *slots);

/* Mark a slot in use (re-attach). */
void store_claim(struct store *st, uint32_t slot);

/* Free a slot. @record: write a FREE record for it (not synced). */
void store_free(struct store *st, uint32_t slot, uint64_t gfn, bool record);

/* Write @n pages into their slots (pages[i] into slots[i]) with one
 * vectored write per run of consecutive slots, extending the data file
 * first if it does not hold them yet. Each page's crc32c is kept for
 * its WRITTEN record. Returns bytes written or a negative errno
 * (-ENOSPC; -EINVAL for a slot the index does not have). */
int64_t store_write(struct store *st, const uint32_t *slots,
		    void *const *pages, size_t n);
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

/* Read slots[i] into bufs[i] (one vectored read per run) and check each
 * page against its record: status[i] is 0, or -EBADMSG when the slot's
 * data does not match the length and crc32c its WRITTEN record gives
 * (or it has none): such a buffer holds garbage and must not reach the
 * guest. Returns bytes read or a negative errno (then status is not
 * set). */
int64_t store_read(struct store *st, const uint32_t *slots, void *const *bufs,
		   size_t n, int *status);

/* Slots in use, slots in the index, slots in the data file, and slots
 * store_alloc() can still hand out without growing anything. */
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
