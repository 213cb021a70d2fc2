/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's RAM tier (store_ram.c): copies of the newest records the
 * store wrote, up to a byte budget, read instead of the file.
 */
#ifndef BATCH_PAGER_STORE_RAM_H
#define BATCH_PAGER_STORE_RAM_H

#include <stdint.h>

struct ram_tier;

/* A tier of @budget bytes, or NULL (ENOMEM). */
struct ram_tier *ram_tier_new(uint64_t budget);
void ram_tier_free(struct ram_tier *rt);

/* Keep a copy of the @len bytes at @data, the record at @slot; the
 * oldest copies go to make room (none is kept when @len alone is over
 * the budget, or memory is short). Returns how many copies went. */
uint64_t ram_tier_put(struct ram_tier *rt, uint32_t slot, const void *data,
		      uint32_t len);
/* The copy of the record at @slot and its length, or NULL. */
const void *ram_tier_get(const struct ram_tier *rt, uint32_t slot,
			 uint32_t *len);
/* Forget the copy of the record at @slot, if there is one. */
void ram_tier_drop(struct ram_tier *rt, uint32_t slot);
/* Bytes the copies take now. */
uint64_t ram_tier_bytes(const struct ram_tier *rt);

#endif
