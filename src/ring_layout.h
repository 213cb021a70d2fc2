/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Byte layouts of the paging ring of every hypervisor generation.
 *
 * One 4 KiB page: a 64-byte header {req_prod, req_event, rsp_prod,
 * rsp_event (u32 each), 4 bytes private, 44 bytes pad}, then the slots.
 * Requests and responses share slots and have the same layout. The number
 * of slots is the largest power of two that fits (4096 - 64) / slot_size.
 *
 * These are the project's own descriptions of those layouts (no hypervisor
 * header is used): the library's codecs and the simulator both read this
 * table, and tests/unit/test_ring_layout.c pins every number to the
 * documented hypervisor layout.
 */
#ifndef XPAGE_RING_LAYOUT_H
#define XPAGE_RING_LAYOUT_H

#include <stdint.h>
#include <string.h>

#define XP_RING_PAGE        4096u
#define XP_RING_HDR_SIZE    64u
#define XP_RING_OFF_REQ_PROD  0u
#define XP_RING_OFF_REQ_EVENT 4u
#define XP_RING_OFF_RSP_PROD  8u
#define XP_RING_OFF_RSP_EVENT 12u

/* Normalised flags (library and simulator side alike). */
#define XP_EV_VCPU_PAUSED (1u << 0)
#define XP_EV_FOREIGN     (1u << 1)
#define XP_EV_DROP_PAGE   (1u << 2)
#define XP_EV_EVICT_FAIL  (1u << 3)
#define XP_EV_DUMMY       (1u << 4)

enum xp_era {
	XP_ERA_MEM_EVENT = 1, /* Xen 4.2 - 4.5: no version word, flags in u32 @0 */
	XP_ERA_VM_EVENT = 2,  /* Xen 4.6 and later: version word @0 */
};

struct xp_ring_layout {
	int generation;        /* enum xpage_generation */
	int era;               /* enum xp_era */
	const char *name;
	uint32_t slot_size;
	uint32_t nr_slots;
	uint32_t version;      /* vm_event version word; 0 for mem_event */
	/* Field offsets within a slot. */
	uint32_t off_version;  /* vm_event only */
	uint32_t off_flags;
	uint32_t off_reason;
	uint32_t reason_width; /* 2 (mem_event u16) or 4 */
	uint32_t off_vcpu;
	uint32_t off_gfn;
	uint32_t off_p2mt;
	uint32_t off_pflags;   /* vm_event: u.mem_paging.flags; mem_event: = off_flags */
	uint32_t reason_paging;/* reason word of a paging request/response */
	/* Raw bit values. vm_event: vcpu_paused/foreign in flags; drop and
	 * evict_fail in the paging flags. mem_event: all in flags. */
	uint32_t f_vcpu_paused;
	uint32_t f_foreign;
	uint32_t f_drop_page;
	uint32_t f_evict_fail;
	uint32_t f_dummy;
	uint32_t known_flags;  /* every bit of the flags word this layout defines */
	uint32_t known_pflags; /* vm_event: every paging-flags bit */
};

/* Normalised flags to a slot's raw words and back, for layout @l: the
 * flags word and the paging flags word (one word in the mem_event era:
 * OR them on the way out, pass it twice on the way in). One table in
 * ring_layout.c says where each flag lives. */
void xp_flags_to_raw(const struct xp_ring_layout *l, uint32_t norm,
		     uint32_t *flags, uint32_t *pflags);
uint32_t xp_flags_from_raw(const struct xp_ring_layout *l, uint32_t flags,
			   uint32_t pflags);

/* Layout of a generation (enum xpage_generation), or NULL. */
const struct xp_ring_layout *xp_ring_layout(int generation);

/* Slots of a ring whose slots are @slot_size bytes. */
uint32_t xp_ring_slots_for(uint32_t slot_size);

/* Unaligned little-endian-native accessors for ring bytes. */
static inline uint32_t xp_rd32(const volatile uint8_t *p, uint32_t off)
{
	uint32_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}
static inline uint16_t xp_rd16(const volatile uint8_t *p, uint32_t off)
{
	uint16_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}
static inline uint64_t xp_rd64(const volatile uint8_t *p, uint32_t off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}
static inline void xp_wr32(volatile uint8_t *p, uint32_t off, uint32_t v)
{
	memcpy((uint8_t *)p + off, &v, sizeof(v));
}
static inline void xp_wr16(volatile uint8_t *p, uint32_t off, uint16_t v)
{
	memcpy((uint8_t *)p + off, &v, sizeof(v));
}
static inline void xp_wr64(volatile uint8_t *p, uint32_t off, uint64_t v)
{
	memcpy((uint8_t *)p + off, &v, sizeof(v));
}

/* Ring index words in the shared header, with the ordering the protocol
 * needs (acquire on the producer index we consume, release on ours). */
static inline uint32_t xp_ring_load_idx(volatile uint8_t *ring, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(ring + off), __ATOMIC_ACQUIRE);
}
static inline void xp_ring_store_idx(volatile uint8_t *ring, uint32_t off,
				     uint32_t v)
{
	__atomic_store_n((uint32_t *)(ring + off), v, __ATOMIC_RELEASE);
}
static inline volatile uint8_t *xp_ring_slot(volatile uint8_t *ring,
					     const struct xp_ring_layout *l,
					     uint32_t idx)
{
	return ring + XP_RING_HDR_SIZE + (idx & (l->nr_slots - 1)) * l->slot_size;
}

#endif
