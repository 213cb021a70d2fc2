/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ring codec for the mem_event era (Xen 4.2 - 4.5): no version word; one
 * u32 flags word at offset 0 holds the vCPU-paused, foreign, drop,
 * evict-fail and dummy bits; the reason is a u16 at offset 38 and is not
 * set for paging. The two generations differ only in slot size, which the
 * layout table carries.
 */
#include "private.h"

static int me_decode(const struct xp_ring_layout *l,
		     const volatile uint8_t *slot, struct xp_event *ev)
{
	uint32_t raw = xp_rd32(slot, l->off_flags);

	ev->gfn = xp_rd64(slot, l->off_gfn);
	ev->vcpu = xp_rd32(slot, l->off_vcpu);
	ev->p2mt = xp_rd32(slot, l->off_p2mt);
	ev->version = 0;
	ev->flags = xp_flags_from_raw(l, raw, raw);
	ev->unknown = raw & ~l->known_flags;
	return 0;
}

static void me_encode(const struct xp_ring_layout *l, volatile uint8_t *slot,
		      const struct xp_response *rsp)
{
	uint32_t raw, praw;

	xp_flags_to_raw(l, rsp->flags, &raw, &praw);
	/* Clear the whole slot: no stale request bytes go back. */
	memset((void *)slot, 0, l->slot_size);
	xp_wr32(slot, l->off_flags, raw | praw);
	xp_wr32(slot, l->off_vcpu, rsp->vcpu);
	xp_wr64(slot, l->off_gfn, rsp->gfn);
}

const struct xp_codec xp_codec_mem_event = {
	.decode = me_decode,
	.encode = me_encode,
};
