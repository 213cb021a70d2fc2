/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ring codec for the vm_event era (Xen 4.6 and later): a version word at
 * offset 0 that the hypervisor checks on every response (a response with
 * another version is dropped and its vCPU never resumes), flags at 4, the
 * reason at 8 (paging = 3), vcpu_id at 12, and the paging payload
 * {gfn u64 @24, p2mt u32 @32, flags u32 @36}. Generations v1..v7 differ in
 * slot size and version word only, both carried by the layout table.
 */
#include "private.h"

static int vme_decode(const struct xp_ring_layout *l,
		      const volatile uint8_t *slot, struct xp_event *ev)
{
	uint32_t raw = xp_rd32(slot, l->off_flags);
	uint32_t praw = xp_rd32(slot, l->off_pflags);

	ev->version = xp_rd32(slot, l->off_version);
	ev->gfn = xp_rd64(slot, l->off_gfn);
	ev->vcpu = xp_rd32(slot, l->off_vcpu);
	ev->p2mt = xp_rd32(slot, l->off_p2mt);
	ev->flags = xp_flags_from_raw(l, raw, praw);
	ev->unknown = (raw & ~l->known_flags) | (praw & ~l->known_pflags);
	if (xp_rd32(slot, l->off_reason) != l->reason_paging)
		return -EPROTO;
	if (ev->version != l->version)
		return -EPROTO;
	return 0;
}

static void vme_encode(const struct xp_ring_layout *l, volatile uint8_t *slot,
		       const struct xp_response *rsp)
{
	uint32_t raw, praw;

	/* The response echoes the pause and the paging flags; a vm_event
	 * response carries no foreign flag. */
	xp_flags_to_raw(l, rsp->flags & ~XP_EV_FOREIGN, &raw, &praw);
	memset((void *)slot, 0, l->slot_size);
	xp_wr32(slot, l->off_version, l->version);
	xp_wr32(slot, l->off_flags, raw);
	xp_wr32(slot, l->off_reason, l->reason_paging);
	xp_wr32(slot, l->off_vcpu, rsp->vcpu);
	xp_wr64(slot, l->off_gfn, rsp->gfn);
	xp_wr32(slot, l->off_pflags, praw);
}

const struct xp_codec xp_codec_vm_event = {
	.decode = vme_decode,
	.encode = vme_encode,
};

const struct xp_codec *xp_codec_for(const struct xp_ring_layout *l)
{
	if (!l)
		return NULL;
	return l->era == XP_ERA_VM_EVENT ? &xp_codec_vm_event
					 : &xp_codec_mem_event;
}
