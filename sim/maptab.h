/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-connection table of foreign mappings: gfn -> number of mappings the
 * connection holds. When a client disconnects (or dies) its mappings are
 * dropped, as the kernel drops a dying process's foreign mappings.
 * Open addressing, linear probing, backward-shift deletion; it grows, it
 * never shrinks, so steady-state map/unmap does not allocate.
 */
#ifndef XPAGE_SIM_MAPTAB_H
#define XPAGE_SIM_MAPTAB_H

#include <stddef.h>
#include <stdint.h>

struct maptab {
	uint64_t *keys;
	uint32_t *counts;
	size_t cap;   /* power of two, or 0 */
	size_t len;
};

/* 0 or -ENOMEM (the count is unchanged then). */
int maptab_add(struct maptab *t, uint64_t gfn);
/* 0, or -ENOENT when the connection holds no mapping of gfn. */
int maptab_del(struct maptab *t, uint64_t gfn);
/* Calls fn(ctx, gfn, count) for every entry, then empties the table. */
void maptab_drain(struct maptab *t, void (*fn)(void *, uint64_t, uint32_t),
		  void *ctx);
void maptab_free(struct maptab *t);

#endif
