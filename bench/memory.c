/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory per guest gfn, for 1, 16 and 64 GiB simulated guests:
 *   - libxpage's state table, from the table itself (xp_table_bytes): the
 *     part that grows with the guest, and the whole (with the in-flight
 *     request table, which grows with requests, not with the guest); and
 *     how much of it is resident right after xpage_open (mincore);
 *   - the example batch pager's in-memory index (its per-gfn flags and
 *     store slot arrays), its clock policy's
 *     per-gfn state, and its on-disk index record per paged page
 *     (store.h: one fixed 32-byte record per slot);
 *   - Xen's in-tree pager: two int arrays of max_pages (slot_to_gfn,
 *     gfn_to_slot) and a bitmap of max_pages bits.
 */
#include "bench.h"
#include "private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The example batch pager's in-memory index (examples/batch-pager/pager.h):
 * uint16_t gfl[gfn] (its flags) and uint32_t slot[gfn] (the store slot).
 * Written out rather than taken from that header, so that the example's
 * private structures stay free to change without breaking this build.
 * (Its store adds 8 bytes and a bit per slot, a page out: the data's
 * length and crc32c, and the allocation bitmap.) */
#define PAGER_INDEX_BYTES_PER_GFN (2.0 + 4.0)
/* examples/batch-pager/policy.c: "4 bytes of 'not before' time and 1 byte
 * of history per gfn" (private to that file). */
#define CLOCK_POLICY_BYTES_PER_GFN 5.0
/* examples/batch-pager/store.h: a 32-byte record per slot (and one per
 * gfn, in a sparse region, written only for gfns held as zero pages). */
#define STORE_RECORD_BYTES 32.0

static double resident_bytes(const void *addr, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (len + pg - 1) / pg, in = 0;
	unsigned char *vec = malloc(n ? n : 1);

	if (!vec || mincore((void *)addr, len, vec) < 0) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	return (double)(in * pg);
}

void memory_bench(struct bench_env *env, struct mem_result *r)
{
	static const uint64_t mib[] = { 1024, 16384, 65536 };

	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		struct mem_point *pt = &r->pt[r->n++];
		struct bguest g;
		struct xpage *x;
		size_t inflight, total;
		double nr, res;

		bguest_open(env, &g, mib[i] * MIB_PAGES, true, &pagein_callbacks);
		x = (struct xpage *)g.xp;
		nr = (double)x->table.nr;
		total = xp_table_bytes(&x->table, &inflight);
		res = resident_bytes(x->table.st, x->table.map_len);
		pt->guest_mib = mib[i];
		pt->gfns = x->table.nr;
		pt->state_bytes_per_gfn = (double)(total - inflight) / nr;
		pt->state_total_per_gfn = (double)total / nr;
		pt->state_rss_per_gfn = res < 0 ? -1 : res / nr;
		pt->index_bytes_per_gfn = PAGER_INDEX_BYTES_PER_GFN;
		/* xenpaging: int slot_to_gfn[max_pages], int
		 * gfn_to_slot[max_pages], bitmap of max_pages bits */
		pt->xenpaging_bytes_per_gfn =
			(2.0 * sizeof(int) * nr + nr / 8.0) / nr;
		note("memory: %llu MiB guest: state %.4f B/gfn (%.4f with the "
		     "in-flight table), %.0f B resident after open",
		     (unsigned long long)mib[i], pt->state_bytes_per_gfn,
		     pt->state_total_per_gfn, res);
		bguest_close(env, &g);
	}
	r->pager_policy_bytes_per_gfn = CLOCK_POLICY_BYTES_PER_GFN;
	r->pager_disk_bytes_per_page = STORE_RECORD_BYTES;
}
