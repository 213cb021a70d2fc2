/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table of ring layouts per generation; see ring_layout.h. */
#include "ring_layout.h"
#include "xpage/xpage.h"

#include <stdbool.h>
#include <stddef.h>

#define MEM_EVENT(gen, nm, slot, nslots)                                          \
	{ .generation = gen, .era = XP_ERA_MEM_EVENT, .name = nm,             \
	  .slot_size = slot, .nr_slots = nslots, .version = 0, .off_version = 0,   \
	  .off_flags = 0, .off_reason = 38, .reason_width = 2,                \
	  .off_vcpu = 4, .off_gfn = 8, .off_p2mt = 32, .off_pflags = 0,       \
	  .reason_paging = 0, .f_vcpu_paused = 1u << 0, .f_foreign = 1u << 3, \
	  .f_drop_page = 1u << 1, .f_evict_fail = 1u << 2, .f_dummy = 1u << 4, \
	  .known_flags = 0x1f, .known_pflags = 0 }

#define VM_EVENT(gen, nm, slot, nslots, ver)                                      \
	{ .generation = gen, .era = XP_ERA_VM_EVENT, .name = nm,              \
	  .slot_size = slot, .nr_slots = nslots, .version = ver, .off_version = 0, \
	  .off_flags = 4, .off_reason = 8, .reason_width = 4,                 \
	  .off_vcpu = 12, .off_gfn = 24, .off_p2mt = 32, .off_pflags = 36,    \
	  .reason_paging = 3, .f_vcpu_paused = 1u << 0, .f_foreign = 1u << 1, \
	  .f_drop_page = 1u << 0, .f_evict_fail = 1u << 1, .f_dummy = 0,      \
	  .known_flags = 0x3, .known_pflags = 0x3 }

/* nr_slots is written out; a unit test checks it against
 * xp_ring_slots_for(slot_size). */
static const struct xp_ring_layout layouts[] = {
	MEM_EVENT(XPAGE_GEN_MEM_EVENT_42, "mem_event-4.2", 40, 64),
	MEM_EVENT(XPAGE_GEN_MEM_EVENT_45, "mem_event-4.5", 296, 8),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V1, "vm_event-v1", 312, 8, 1),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V2, "vm_event-v2", 312, 8, 2),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V3, "vm_event-v3", 312, 8, 3),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V4, "vm_event-v4", 376, 8, 4),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V5, "vm_event-v5", 384, 8, 5),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V6, "vm_event-v6", 384, 8, 6),
	VM_EVENT(XPAGE_GEN_VM_EVENT_V7, "vm_event-v7", 400, 8, 7),
};

uint32_t xp_ring_slots_for(uint32_t slot_size)
{
	uint32_t fit = (XP_RING_PAGE - XP_RING_HDR_SIZE) / slot_size, n = 1;

	if (fit == 0)
		return 0;
	while (n * 2 <= fit)
		n *= 2;
	return n;
}

const struct xp_ring_layout *xp_ring_layout(int generation)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i].generation == generation)
			return &layouts[i];
	}
	return NULL;
}

/* Where each normalised flag lives: the layout's member holding its raw
 * bit, and whether that bit is in the paging flags word. A layout that
 * lacks a flag has 0 there. */
static const struct {
	uint32_t norm;
	size_t bit;
	bool paging;
} flag_map[] = {
	{ XP_EV_VCPU_PAUSED, offsetof(struct xp_ring_layout, f_vcpu_paused), false },
	{ XP_EV_FOREIGN,     offsetof(struct xp_ring_layout, f_foreign),     false },
	{ XP_EV_DROP_PAGE,   offsetof(struct xp_ring_layout, f_drop_page),   true },
	{ XP_EV_EVICT_FAIL,  offsetof(struct xp_ring_layout, f_evict_fail),  true },
	{ XP_EV_DUMMY,       offsetof(struct xp_ring_layout, f_dummy),       false },
};

static uint32_t raw_bit(const struct xp_ring_layout *l, size_t member)
{
	uint32_t v;

	memcpy(&v, (const char *)l + member, sizeof(v));
	return v;
}

void xp_flags_to_raw(const struct xp_ring_layout *l, uint32_t norm,
		     uint32_t *flags, uint32_t *pflags)
{
	*flags = *pflags = 0;
	for (size_t i = 0; i < sizeof(flag_map) / sizeof(flag_map[0]); i++)
		if (norm & flag_map[i].norm)
			*(flag_map[i].paging ? pflags : flags) |=
				raw_bit(l, flag_map[i].bit);
}

uint32_t xp_flags_from_raw(const struct xp_ring_layout *l, uint32_t flags,
			   uint32_t pflags)
{
	uint32_t norm = 0;

	for (size_t i = 0; i < sizeof(flag_map) / sizeof(flag_map[0]); i++)
		if ((flag_map[i].paging ? pflags : flags) &
		    raw_bit(l, flag_map[i].bit))
			norm |= flag_map[i].norm;
	return norm;
}
