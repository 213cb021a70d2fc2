/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's machine frames: who owns each, its machine-to-phys entry,
 * its offline state, and the free pool guests' frames come from.
 *
 * A guest's page contents live in its memfd at the gfn's place (guest.c);
 * what a frame adds is its identity. Each gfn with a frame holds a
 * machine frame number (sim_guest.mfn) drawn from the pool here, and
 * gives it back when the frame is freed (evict, release, destruction).
 * The pool is a stack: a frame freed is the next one handed out, so a
 * frame that went back by mistake would be reused at once.
 *
 * Page offline, as Xen does it (src/page_offline.h has the rules and the
 * status words): a free frame is offlined at once and leaves the pool; a
 * frame a domain owns becomes offline-pending and is offlined, not
 * returned to the pool, when its owner frees it; an offlined or pending
 * frame is never handed out. Fixed frames model the ones a host has
 * besides its guests': MMIO (not RAM), Xen's image, Xen's heap, dom0's.
 *
 * One lock for the table, taken inside a guest's lock (never the other
 * way round): the host operations take no guest's lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "page_offline.h"
#include "sim.h"

enum frame_kind { FK_IO, FK_XEN, FK_XENHEAP, FK_DOM0, FK_POOL };
enum frame_state { FS_FREE, FS_INUSE, FS_PENDING, FS_OFFLINED };

struct sim_frame {
	uint16_t owner;   /* domid; XP_DOMID_INVALID while free */
	uint8_t kind;     /* enum frame_kind */
	uint8_t state;    /* enum frame_state */
	uint32_t pos;     /* FS_FREE: its place in the free stack */
	uint64_t gfn;     /* machine-to-phys entry */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_frame *fr;
static uint32_t *free_stack;
static uint64_t nr, cap, nfree;

static int grow(uint64_t want)
{
	uint64_t c = cap ? cap : 1024;
	struct sim_frame *f;
	uint32_t *s;

	while (c < want)
		c *= 2;
	if (c > UINT32_MAX)
		return -ENOMEM;
	f = realloc(fr, c * sizeof(*f));
	if (f)
		fr = f;
	s = realloc(free_stack, c * sizeof(*s));
	if (s)
		free_stack = s;
	if (!f || !s)
		return -ENOMEM;
	cap = c;
	return 0;
}

static void push_free(uint64_t mfn)
{
	struct sim_frame *f = &fr[mfn];

	f->state = FS_FREE;
	f->owner = XP_DOMID_INVALID;
	f->gfn = XP_M2P_INVALID;
	f->pos = (uint32_t)nfree;
	free_stack[nfree++] = (uint32_t)mfn;
}

static void unlink_free(uint64_t mfn)
{
	uint32_t last = free_stack[--nfree];

	free_stack[fr[mfn].pos] = last;
	fr[last].pos = fr[mfn].pos;
}

/* The fixed frames, once: locked. */
static void fixed_frames(void)
{
	static const struct { uint32_t first; uint8_t kind; uint16_t owner; }
	ranges[] = {
		{ SIMP_MFN_IO_FIRST, FK_IO, XP_DOMID_IO },
		{ SIMP_MFN_XEN_FIRST, FK_XEN, XP_DOMID_XEN },
		{ SIMP_MFN_XENHEAP_FIRST, FK_XENHEAP, XP_DOMID_INVALID },
		{ SIMP_MFN_DOM0_FIRST, FK_DOM0, 0 },
		{ SIMP_MFN_POOL_FIRST, FK_POOL, 0 },
	};

	if (nr || grow(SIMP_MFN_POOL_FIRST) < 0)
		return;
	for (size_t r = 0; r + 1 < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (uint64_t m = ranges[r].first; m < ranges[r + 1].first; m++)
			fr[m] = (struct sim_frame){ .owner = ranges[r].owner,
				.kind = ranges[r].kind, .state = FS_INUSE,
				.gfn = XP_M2P_INVALID };
	nr = SIMP_MFN_POOL_FIRST;
}

uint64_t frames_alloc(uint32_t domid, uint64_t gfn)
{
	uint64_t mfn = SIM_MFN_NONE;

	pthread_mutex_lock(&lock);
	fixed_frames();
	if (!nfree && (nr < cap || grow(nr + 1) == 0)) {
		fr[nr].kind = FK_POOL;
		push_free(nr++);
	}
	if (nfree) {
		mfn = free_stack[nfree - 1];
		unlink_free(mfn);
		fr[mfn].state = FS_INUSE;
		fr[mfn].owner = (uint16_t)domid;
		fr[mfn].gfn = gfn;
	}
	pthread_mutex_unlock(&lock);
	return mfn;
}

void frames_free(uint64_t mfn)
{
	pthread_mutex_lock(&lock);
	if (mfn < nr && fr[mfn].kind == FK_POOL) {
		if (fr[mfn].state == FS_PENDING) {
			fr[mfn].state = FS_OFFLINED;
			fr[mfn].owner = XP_DOMID_INVALID;
			fr[mfn].gfn = XP_M2P_INVALID;
		} else if (fr[mfn].state == FS_INUSE) {
			push_free(mfn);
		}
	}
	pthread_mutex_unlock(&lock);
}

static uint32_t owner_word(uint16_t domid)
{
	return (uint32_t)domid << XP_PG_OFFLINE_OWNER_SHIFT;
}

/* Xen's offline_page(): locked; the frame is in the table. */
static int offline_one(uint64_t mfn, uint32_t *st)
{
	struct sim_frame *f = &fr[mfn];

	if (f->kind == FK_XEN) {
		*st = XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_FAILED |
		      owner_word(XP_DOMID_XEN);
		return -EPERM;
	}
	if (f->kind == FK_IO) {
		*st = XP_PG_OFFLINE_FAILED | XP_PG_OFFLINE_NOT_CONV_RAM;
		return -EINVAL;
	}
	if (f->state == FS_FREE) {
		unlink_free(mfn);
		f->state = FS_OFFLINED;
	}
	if (f->state == FS_OFFLINED) {
		*st = XP_PG_OFFLINE_OFFLINED;
		return 0;
	}
	f->state = FS_PENDING;
	if (f->kind == FK_XENHEAP)
		*st = XP_PG_OFFLINE_XENPAGE | XP_PG_OFFLINE_PENDING |
		      owner_word(XP_DOMID_XEN);
	else
		*st = XP_PG_OFFLINE_OWNED | XP_PG_OFFLINE_PENDING |
		      owner_word(f->owner);
	return 0;
}

/* Xen's online_page(). */
static int online_one(uint64_t mfn, uint32_t *st)
{
	struct sim_frame *f = &fr[mfn];

	*st = 0;
	if (f->state == FS_OFFLINED) {
		push_free(mfn);
		*st = XP_PG_OFFLINE_OFFLINED;
	} else if (f->state == FS_PENDING) {
		f->state = FS_INUSE;
		*st = XP_PG_OFFLINE_OFFLINED;
	}
	return 0;
}

/* Xen's query_page_offline(). */
static int query_one(uint64_t mfn, uint32_t *st)
{
	const struct sim_frame *f = &fr[mfn];

	if (f->kind == FK_IO)
		return -EINVAL;
	*st = f->state == FS_PENDING ? XP_PG_STATUS_OFFLINE_PENDING :
	      f->state == FS_OFFLINED ? XP_PG_STATUS_OFFLINED : 0;
	return 0;
}

int frames_offline_op(uint32_t cmd, uint64_t start, uint64_t end,
		      uint32_t *status)
{
	int (*one)(uint64_t, uint32_t *) =
		cmd == XP_PGOFF_OFFLINE ? offline_one :
		cmd == XP_PGOFF_ONLINE ? online_one :
		cmd == XP_PGOFF_QUERY ? query_one : NULL;
	int rc = -EINVAL;

	if (end < start || end - start >= SIMP_PGOFF_MAX)
		return -EINVAL;
	/* Xen fills the words with the byte 0x01: "not handled". */
	memset(status, XP_PG_OFFLINE_INVALID, (end - start + 1) * 4);
	pthread_mutex_lock(&lock);
	fixed_frames();
	for (uint64_t m = start; one && m <= end; m++) {
		rc = m < nr ? one(m, &status[m - start]) : -EINVAL;
		if (rc)
			break;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

uint64_t frames_m2p(const uint64_t *mfn, uint32_t n, uint64_t *gfn)
{
	uint64_t max;

	pthread_mutex_lock(&lock);
	fixed_frames();
	for (uint32_t i = 0; i < n; i++)
		gfn[i] = mfn[i] < nr ? fr[mfn[i]].gfn : XP_M2P_INVALID;
	max = nr;
	pthread_mutex_unlock(&lock);
	return max;
}

bool frames_marked(uint64_t mfn)
{
	bool marked;

	pthread_mutex_lock(&lock);
	marked = mfn < nr && (fr[mfn].state == FS_PENDING ||
			      fr[mfn].state == FS_OFFLINED);
	pthread_mutex_unlock(&lock);
	return marked;
}
