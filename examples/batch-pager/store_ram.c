/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RAM tier (store_ram.h): a write-through cache ahead of the file.
 *
 * Every page the store writes is in the file, its record durable, before
 * the pager evicts its gfn, with or without the tier: the tier only
 * holds copies, so a SIGKILL loses nothing a restarted pager needs (a
 * page evicted from the guest whose only copy sat in the pager's memory
 * would die with the pager). What the tier saves is the read at page-in
 * (and, for a compressed record, nothing else: the copy is the record as
 * stored, so the budget holds as many pages as the compression allows).
 *
 * The copies are kept in the order they came (a FIFO): when the budget
 * is full the oldest go first, to the file they are already in. A page
 * paged in or dropped frees its record and its copy with it.
 * A hash of the first slot finds a copy; each costs its bytes and
 * COPY_COST of bookkeeping against the budget.
 */
#include "store_ram.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define COPY_COST 64u

struct copy {
	uint32_t slot, len;
	uint32_t prev, next;  /* the FIFO: head the oldest */
	uint32_t hnext;       /* the hash chain, or the free list */
	uint8_t *data;
};

struct ram_tier {
	uint64_t budget, bytes;
	struct copy *c;
	uint32_t nc, cap, free_list;
	uint32_t *hash, hmask;
	uint32_t head, tail;
};

static uint32_t hash_of(const struct ram_tier *rt, uint32_t slot)
{
	return (uint32_t)((slot * 0x9e3779b97f4a7c15ull) >> 32) & rt->hmask;
}

struct ram_tier *ram_tier_new(uint64_t budget)
{
	struct ram_tier *rt = calloc(1, sizeof(*rt));
	uint64_t buckets = 1024;

	if (!rt)
		return NULL;
	while (buckets < budget / 1024 && buckets < (1u << 24))
		buckets *= 2;
	rt->budget = budget;
	rt->hmask = (uint32_t)buckets - 1;
	rt->hash = malloc(buckets * sizeof(*rt->hash));
	if (!rt->hash) {
		free(rt);
		return NULL;
	}
	memset(rt->hash, 0xff, buckets * sizeof(*rt->hash));
	rt->head = rt->tail = rt->free_list = NIL;
	return rt;
}

void ram_tier_free(struct ram_tier *rt)
{
	if (!rt)
		return;
	for (uint32_t i = 0; i < rt->nc; i++)
		free(rt->c[i].data);
	free(rt->c);
	free(rt->hash);
	free(rt);
}

/* The copy of @slot, and in *@link what points at it in its chain. */
static uint32_t find(const struct ram_tier *rt, uint32_t slot, uint32_t **link)
{
	uint32_t *l = &rt->hash[hash_of(rt, slot)];

	while (*l != NIL && rt->c[*l].slot != slot)
		l = &rt->c[*l].hnext;
	if (link)
		*link = l;
	return *l;
}

/* Copy @i out of the chain @link points into, the FIFO and the budget. */
static void unlink_copy(struct ram_tier *rt, uint32_t i, uint32_t *link)
{
	struct copy *c = &rt->c[i];

	*link = c->hnext;
	if (c->prev != NIL)
		rt->c[c->prev].next = c->next;
	else
		rt->head = c->next;
	if (c->next != NIL)
		rt->c[c->next].prev = c->prev;
	else
		rt->tail = c->prev;
	rt->bytes -= c->len + COPY_COST;
	free(c->data);
	c->data = NULL;
	c->hnext = rt->free_list;
	rt->free_list = i;
}

void ram_tier_drop(struct ram_tier *rt, uint32_t slot)
{
	uint32_t *link, i = find(rt, slot, &link);

	if (i != NIL)
		unlink_copy(rt, i, link);
}

/* A free copy's index, or NIL (no memory). */
static uint32_t new_copy(struct ram_tier *rt)
{
	uint32_t i = rt->free_list;

	if (i != NIL) {
		rt->free_list = rt->c[i].hnext;
		return i;
	}
	if (rt->nc == rt->cap) {
		uint32_t nc = rt->cap ? rt->cap * 2 : 1024;
		struct copy *c = nc > rt->cap ? realloc(rt->c, nc * sizeof(*c)) :
						NULL;

		if (!c)
			return NIL;
		rt->c = c;
		rt->cap = nc;
	}
	return rt->nc++;
}

uint64_t ram_tier_put(struct ram_tier *rt, uint32_t slot, const void *data,
		      uint32_t len)
{
	uint64_t gone = 0;
	uint32_t i;

	ram_tier_drop(rt, slot);
	if ((uint64_t)len + COPY_COST > rt->budget)
		return 0;
	while (rt->bytes + len + COPY_COST > rt->budget && rt->head != NIL) {
		ram_tier_drop(rt, rt->c[rt->head].slot);
		gone++;
	}
	i = new_copy(rt);
	if (i == NIL)
		return gone;
	rt->c[i] = (struct copy){ .slot = slot, .len = len, .prev = rt->tail,
				  .next = NIL, .data = malloc(len) };
	if (!rt->c[i].data) {
		rt->c[i].hnext = rt->free_list;
		rt->free_list = i;
		return gone;
	}
	memcpy(rt->c[i].data, data, len);
	if (rt->tail != NIL)
		rt->c[rt->tail].next = i;
	else
		rt->head = i;
	rt->tail = i;
	rt->c[i].hnext = rt->hash[hash_of(rt, slot)];
	rt->hash[hash_of(rt, slot)] = i;
	rt->bytes += len + COPY_COST;
	return gone;
}

const void *ram_tier_get(const struct ram_tier *rt, uint32_t slot,
			 uint32_t *len)
{
	uint32_t i = find(rt, slot, NULL);

	if (i == NIL)
		return NULL;
	*len = rt->c[i].len;
	return rt->c[i].data;
}

uint64_t ram_tier_bytes(const struct ram_tier *rt)
{
	return rt->bytes;
}
