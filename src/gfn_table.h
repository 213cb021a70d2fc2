/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gfn state table: one byte per guest gfn (the state and two flag
 * bits), plus a hash table of in-flight records only for gfns that have
 * page-in requests waiting for an answer. O(1) per operation; memory is
 * one byte per gfn, taken lazily from anonymous memory so never-touched
 * parts of a huge guest cost nothing.
 */
#ifndef XPAGE_GFN_TABLE_H
#define XPAGE_GFN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XP_GS_STATE   0x07u /* enum xpage_gfn_state */
#define XP_GS_MAPPED  0x08u /* mapped through this handle (xpage_map) */
#define XP_GS_PENDING 0x10u /* an in-flight record holds requests */
#define XP_GS_SEEN    0x20u /* scratch: seen earlier in the same batch call */
/* The library settled a release of this gfn by the guest before reading
 * its drop notice: the next drop notice for the gfn is that one (old
 * news), whatever the gfn has become since. */
#define XP_GS_DROP_OWED 0x40u
/* Mapped through xpage_map() since it last became NOMINATED: the pager
 * can hold its contents, so it may be evicted. Cleared by every change of
 * state. */
#define XP_GS_HELD    0x80u

/* One ring request still owed a response. */
struct xp_req {
	uint32_t vcpu;
	uint32_t flags; /* XP_EV_* of the request */
};

#define XP_INFLIGHT_INLINE 2
struct xp_inflight {
	uint64_t gfn;          /* XP_INFLIGHT_EMPTY when the slot is free */
	uint32_t n;            /* requests held */
	uint32_t cap;          /* capacity of `more` */
	struct xp_req inl[XP_INFLIGHT_INLINE];
	struct xp_req *more;   /* requests past the inline ones */
};
#define XP_INFLIGHT_EMPTY UINT64_MAX

struct xp_gfn_table {
	uint8_t *st;
	uint64_t nr;
	size_t map_len;
	struct xp_inflight *slots;
	size_t cap;            /* power of two */
	size_t used;
};

int xp_table_init(struct xp_gfn_table *t, uint64_t nr_gfns);
void xp_table_fini(struct xp_gfn_table *t);

static inline unsigned xp_gfn_state(const struct xp_gfn_table *t, uint64_t gfn)
{
	return t->st[gfn] & XP_GS_STATE;
}
static inline void xp_gfn_set_state(struct xp_gfn_table *t, uint64_t gfn,
				    unsigned state)
{
	unsigned b = t->st[gfn];

	if ((b & XP_GS_STATE) != state)
		b &= ~XP_GS_HELD;
	t->st[gfn] = (uint8_t)((b & ~XP_GS_STATE) | state);
}
static inline bool xp_gfn_flag(const struct xp_gfn_table *t, uint64_t gfn,
			       unsigned flag)
{
	return (t->st[gfn] & flag) != 0;
}
static inline void xp_gfn_set_flag(struct xp_gfn_table *t, uint64_t gfn,
				   unsigned flag, bool on)
{
	if (on)
		t->st[gfn] |= (uint8_t)flag;
	else
		t->st[gfn] &= (uint8_t)~flag;
}

/* Add a request for @gfn; returns the number now held or -ENOMEM. */
int xp_inflight_add(struct xp_gfn_table *t, uint64_t gfn, uint32_t vcpu,
		    uint32_t flags);
/* The record of @gfn, or NULL. */
struct xp_inflight *xp_inflight_find(struct xp_gfn_table *t, uint64_t gfn);
/* Request i of a record. */
static inline struct xp_req *xp_inflight_req(struct xp_inflight *f, uint32_t i)
{
	return i < XP_INFLIGHT_INLINE ? &f->inl[i] : &f->more[i - XP_INFLIGHT_INLINE];
}
/* Forget the record of @gfn (its requests were answered). */
void xp_inflight_del(struct xp_gfn_table *t, uint64_t gfn);

/* Bytes of memory the table holds for its per-gfn part and in total. */
size_t xp_table_bytes(const struct xp_gfn_table *t, size_t *inflight_bytes);

#endif
