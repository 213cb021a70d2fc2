/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's slots (store_int.h): the bitmap, page-group reservations,
 * freeing and claiming a record's slots, and growing the two files.
 *
 * A batch reserves aligned page groups (8 slots, one byte of the
 * bitmap), as few runs as it can; store_io.c packs what it writes into
 * the front of the batch's runs and gives the rest back. A group serves
 * a new reservation again once every record in it is freed; the count
 * of free groups is kept as slots change (store_mark()).
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_SIZE 32u
/* The files grow by at least this many slots at a time (16 MiB). */
#define GROW_UNITS 32768u

int store_bm_resize(struct store *st, uint64_t cap)
{
	size_t neww = (size_t)((cap + 63) / 64);
	struct slot_meta *m;
	uint64_t *b;

	if (neww <= st->bm_words && st->bm)
		return 0;
	if (!neww)
		neww = 1;
	b = realloc(st->bm, neww * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + st->bm_words, 0, (neww - st->bm_words) * sizeof(*b));
	st->bm = b;
	m = realloc(st->meta, neww * 64 * sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m + st->bm_words * 64, 0,
	       (neww - st->bm_words) * 64 * sizeof(*m));
	st->meta = m;
	st->bm_words = neww;
	return 0;
}

/* Is page group @g (slots 8g to 8g + 7) all free? */
static inline bool grp_free(const struct store *st, uint64_t g)
{
	return !((st->bm[g / 8] >> (g % 8 * 8)) & 0xff);
}

void store_mark(struct store *st, uint64_t first, uint64_t n, bool on)
{
	for (uint64_t s = first; s < first + n; s++) {
		uint64_t g = s / UNITS_PER_PAGE, bit = 1ull << (s % 64);
		bool was = grp_free(st, g);

		if (!(st->bm[s / 64] & bit) == !on)
			continue;
		if (on)
			st->bm[s / 64] |= bit;
		else
			st->bm[s / 64] &= ~bit;
		st->used += on ? 1 : (uint64_t)-1;
		if (was != grp_free(st, g))
			st->free_groups += was ? (uint64_t)-1 : 1;
	}
}

static int grow_file(int fd, off_t off, off_t len, bool *no_falloc)
{
	struct stat sb;

	if (!*no_falloc) {
		if (fallocate(fd, 0, off, len) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		*no_falloc = true;
	}
	/* Sparse: a full disk shows up at write time instead. */
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (sb.st_size < off + len && ftruncate(fd, off + len) < 0)
		return -errno;
	return 0;
}

/* The index's slot records grow by @add slots; the data file with them
 * once it holds data (until then store_data_cover() sizes it at the
 * first write). */
static int try_grow(struct store *st, uint64_t add)
{
	bool data = st->dcap && st->dcap == st->cap;
	int rc = store_bm_resize(st, st->cap + add);

	if (rc < 0)
		return rc;
	rc = grow_file(st->ifd, (off_t)(st->slot_off + st->cap * REC_SIZE),
		       (off_t)(add * REC_SIZE), &st->no_falloc);
	if (rc == 0 && data)
		rc = grow_file(st->fd, (off_t)(st->cap * UNIT), (off_t)(add * UNIT),
			       &st->no_falloc);
	if (rc < 0)
		return rc;
	st->cap += add;
	st->free_groups += add / UNITS_PER_PAGE;
	if (data)
		st->dcap = st->cap;
	return 0;
}

static bool no_space(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG;
}

/* The data file grows by as many page groups as fit, @add at the most. */
static void data_grow_what_fits(struct store *st, uint64_t add)
{
	for (add -= add % UNITS_PER_PAGE; add; add = add / 2 / UNITS_PER_PAGE *
						    UNITS_PER_PAGE)
		if (grow_file(st->fd, (off_t)(st->dcap * UNIT), (off_t)(add * UNIT),
			      &st->no_falloc) == 0) {
			st->dcap += add;
			return;
		}
}

/* Before writing slots below @need: the data file holds every slot the
 * index has, or as many as the disk takes (data_short says it fell
 * short; below @need, the write fails with -ENOSPC and the slots that
 * did fit serve the next, smaller batches). 0, -ENOSPC, or another
 * negative errno. */
int store_data_cover(struct store *st, uint64_t need)
{
	uint64_t want = st->cap;

	if (need <= st->dcap)
		return 0;
	for (;;) {
		int rc = grow_file(st->fd, (off_t)(st->dcap * UNIT),
				   (off_t)((want - st->dcap) * UNIT),
				   &st->no_falloc);

		if (rc == 0) {
			st->dcap = want;
			st->data_short = want < st->cap;
			return 0;
		}
		if (!no_space(rc))
			return rc;
		st->data_short = true;
		if (want == need) {
			data_grow_what_fits(st, (need - st->dcap) / 2);
			return rc;
		}
		want = need + (want - need) / 2;
	}
}

/* Page groups store_alloc() hands out: below the data file's end once
 * the disk fell short of it, else every group of the index. */
static uint64_t alloc_limit(const struct store *st)
{
	return (st->data_short ? st->dcap : st->cap) / UNITS_PER_PAGE;
}

/* Grow the index by at least @need page groups, more when it can. 0,
 * -ENOSPC (grown by what fit), or another negative errno. */
static int grow_groups(struct store *st, uint64_t need)
{
	uint64_t add = need < GROW_UNITS / UNITS_PER_PAGE ?
		       GROW_UNITS / UNITS_PER_PAGE : need;
	int rc;

	if (add < st->cap / UNITS_PER_PAGE / 4)
		add = st->cap / UNITS_PER_PAGE / 4;
	for (;;) {
		rc = try_grow(st, add * UNITS_PER_PAGE);
		if (rc == 0)
			return 0;
		if (!no_space(rc))
			return rc;
		if (add == need)
			break;
		add = add / 2 > need ? add / 2 : need;
	}
	/* Not even what was asked: as much as fits, down to one group. */
	for (add = need / 2; add; add /= 2)
		if (try_grow(st, add * UNITS_PER_PAGE) == 0)
			break;
	return -ENOSPC;
}

int store_reserve(struct store *st, size_t n)
{
	if (st->data_short) {
		/* The disk was full: room again for the whole data file? */
		if (store_data_cover(st, st->cap) < 0 || st->data_short)
			return store_room(st) >= n ? 0 : -ENOSPC;
	}
	if (st->free_groups >= n)
		return 0;
	return grow_groups(st, n - st->free_groups);
}

/* First group of a run of @n free groups in [@from, @to), or UINT64_MAX. */
static uint64_t find_run(const struct store *st, uint64_t from, uint64_t to,
			 size_t n)
{
	uint64_t g = from;

	while (g + n <= to) {
		if (g % 8 == 0 && st->bm[g / 8] == UINT64_MAX) {
			g += 8;
			continue;
		}
		if (!grp_free(st, g)) {
			g++;
			continue;
		}
		uint64_t e = g;

		while (e < to && e - g < n && grp_free(st, e))
			e++;
		if (e - g == n)
			return g;
		g = e + 1;
	}
	return UINT64_MAX;
}

/* Group @g reserved for a page: slots[*k] names its first slot. */
static void take_group(struct store *st, uint64_t g, uint32_t *slots, size_t *k)
{
	uint64_t s = g * UNITS_PER_PAGE;

	store_mark(st, s, UNITS_PER_PAGE, true);
	st->meta[s] = (struct slot_meta){ 0 };
	slots[(*k)++] = (uint32_t)s;
}

size_t store_alloc(struct store *st, size_t n, uint32_t *slots)
{
	uint64_t g, lim = alloc_limit(st);
	size_t k = 0;

	if (!n)
		return 0;
	/* One contiguous run if there is one: one write for the batch. */
	g = find_run(st, st->hint, lim, n);
	if (g == UINT64_MAX)
		g = find_run(st, 0, lim, n);
	if (g != UINT64_MAX) {
		for (size_t i = 0; i < n; i++)
			take_group(st, g + i, slots, &k);
		st->hint = g + n;
		return n;
	}
	/* Fragments, in slot order. */
	for (g = 0; g < lim && k < n; g++)
		if (grp_free(st, g))
			take_group(st, g, slots, &k);
	if (k)
		st->hint = slots[k - 1] / UNITS_PER_PAGE + 1;
	return k;
}

void store_claim(struct store *st, uint32_t slot)
{
	uint32_t n;

	if (slot >= st->cap)
		return;
	n = meta_units(&st->meta[slot]);
	if (slot + (uint64_t)n <= st->cap)
		store_mark(st, slot, n, true);
}

void store_free(struct store *st, uint32_t slot, uint64_t gfn, bool record)
{
	if (slot >= st->cap || !bm_test(st, slot))
		return;
	store_mark(st, slot, meta_units(&st->meta[slot]), false);
	st->meta[slot] = (struct slot_meta){ 0 };
	if (st->ram)
		ram_tier_drop(st->ram, slot);
	if (record)
		store_record(st, &gfn, &slot, 1, REC_FREE, false);
}

bool store_slot_is_page(const struct store *st, uint32_t slot)
{
	return slot < st->cap && slot % UNITS_PER_PAGE == 0 &&
	       meta_units(&st->meta[slot]) == UNITS_PER_PAGE;
}

uint32_t store_next_slot(const struct store *st, uint32_t slot)
{
	return slot < st->cap ? slot + meta_units(&st->meta[slot]) :
	       STORE_NO_SLOT;
}

uint64_t store_used(const struct store *st)
{
	return st->used;
}

uint64_t store_capacity(const struct store *st)
{
	return st->cap;
}

uint64_t store_data_capacity(const struct store *st)
{
	return st->dcap;
}

uint64_t store_room(const struct store *st)
{
	uint64_t lim = alloc_limit(st), n = 0;

	if (!st->data_short)
		return st->free_groups;
	for (uint64_t g = 0; g < lim; g++)
		n += grp_free(st, g);
	return n;
}
