/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Codecs, byte by byte: requests written at literal offsets decode into the
 * right event; responses carry the version word and reason the hypervisor
 * checks, at the offsets it reads them.
 */
#include <check.h>
#include "checkrun.h"
#include "private.h"

static uint8_t slot[512];

static void put32(uint32_t off, uint32_t v) { memcpy(slot + off, &v, 4); }
static void put64(uint32_t off, uint64_t v) { memcpy(slot + off, &v, 8); }
static uint32_t get32(uint32_t off) { uint32_t v; memcpy(&v, slot + off, 4); return v; }
static uint16_t get16(uint32_t off) { uint16_t v; memcpy(&v, slot + off, 2); return v; }
static uint64_t get64(uint32_t off) { uint64_t v; memcpy(&v, slot + off, 8); return v; }

START_TEST(vm_event_decode)
{
	int gen = XPAGE_GEN_VM_EVENT_V1 + _i;
	const struct xp_ring_layout *l = xp_ring_layout(gen);
	const struct xp_codec *c = xp_codec_for(l);
	struct xp_event ev;

	memset(slot, 0, sizeof(slot));
	put32(0, (uint32_t)_i + 1);       /* version */
	put32(4, 1u << 0);                /* VCPU_PAUSED */
	put32(8, 3);                      /* reason: paging */
	put32(12, 5);                     /* vcpu_id */
	put64(24, 0x123456789ull);        /* gfn */
	put32(32, 10);                    /* p2mt: paged */
	put32(36, 1u << 1);               /* EVICT_FAIL */
	ck_assert_int_eq(c->decode(l, slot, &ev), 0);
	ck_assert_uint_eq(ev.gfn, 0x123456789ull);
	ck_assert_uint_eq(ev.vcpu, 5);
	ck_assert_uint_eq(ev.p2mt, 10);
	ck_assert_uint_eq(ev.flags, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL);
	ck_assert_uint_eq(ev.unknown, 0);

	put32(36, 1u << 0);               /* DROP_PAGE */
	put32(4, 1u << 1);                /* FOREIGN */
	ck_assert_int_eq(c->decode(l, slot, &ev), 0);
	ck_assert_uint_eq(ev.flags, XP_EV_DROP_PAGE | XP_EV_FOREIGN);

	put32(4, 1u << 9);                /* unknown flag */
	put32(36, 1u << 7);               /* unknown paging flag */
	ck_assert_int_eq(c->decode(l, slot, &ev), 0);
	ck_assert_uint_ne(ev.unknown, 0);

	put32(0, (uint32_t)_i + 2);       /* another version word */
	ck_assert_int_eq(c->decode(l, slot, &ev), -EPROTO);
	put32(0, (uint32_t)_i + 1);
	put32(8, 1);                      /* another reason */
	ck_assert_int_eq(c->decode(l, slot, &ev), -EPROTO);
}
END_TEST

START_TEST(vm_event_encode)
{
	int gen = XPAGE_GEN_VM_EVENT_V1 + _i;
	const struct xp_ring_layout *l = xp_ring_layout(gen);
	struct xp_response r = { .gfn = 0xabcdefull, .vcpu = 3,
				 .flags = XP_EV_VCPU_PAUSED | XP_EV_DROP_PAGE };

	memset(slot, 0xee, sizeof(slot));
	xp_codec_for(l)->encode(l, slot, &r);
	ck_assert_uint_eq(get32(0), (uint32_t)_i + 1);  /* version */
	ck_assert_uint_eq(get32(4), 1);                 /* VCPU_PAUSED */
	ck_assert_uint_eq(get32(8), 3);                 /* reason paging */
	ck_assert_uint_eq(get32(12), 3);                /* vcpu */
	ck_assert_uint_eq(get64(24), 0xabcdefull);      /* gfn */
	ck_assert_uint_eq(get32(36), 1);                /* DROP_PAGE */
	/* Nothing of the old bytes survives in the slot. */
	for (uint32_t i = 40; i < l->slot_size; i++)
		ck_assert_uint_eq(slot[i], 0);
	ck_assert_uint_eq(slot[l->slot_size], 0xee);
}
END_TEST

START_TEST(mem_event_roundtrip)
{
	int gen = _i ? XPAGE_GEN_MEM_EVENT_45 : XPAGE_GEN_MEM_EVENT_42;
	const struct xp_ring_layout *l = xp_ring_layout(gen);
	const struct xp_codec *c = xp_codec_for(l);
	struct xp_response r = { .gfn = 77, .vcpu = 2, .flags = XP_EV_VCPU_PAUSED };
	struct xp_event ev;

	memset(slot, 0, sizeof(slot));
	put32(0, (1u << 0) | (1u << 2) | (1u << 4)); /* paused, evict_fail, dummy */
	put32(4, 9);
	put64(8, 0x42);
	put32(32, 9);
	ck_assert_int_eq(c->decode(l, slot, &ev), 0);
	ck_assert_uint_eq(ev.flags, XP_EV_VCPU_PAUSED | XP_EV_EVICT_FAIL | XP_EV_DUMMY);
	ck_assert_uint_eq(ev.vcpu, 9);
	ck_assert_uint_eq(ev.gfn, 0x42);
	ck_assert_uint_eq(ev.p2mt, 9);
	put32(0, 1u << 20);
	ck_assert_int_eq(c->decode(l, slot, &ev), 0);
	ck_assert_uint_eq(ev.unknown, 1u << 20);

	memset(slot, 0xee, sizeof(slot));
	c->encode(l, slot, &r);
	ck_assert_uint_eq(get32(0), 1);
	ck_assert_uint_eq(get32(4), 2);
	ck_assert_uint_eq(get64(8), 77);
	ck_assert_uint_eq(get16(38), 0);
	r.flags = XP_EV_DROP_PAGE;
	c->encode(l, slot, &r);
	ck_assert_uint_eq(get32(0), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, vm_event_decode, 0, 7);
	tcase_add_loop_test(tc, vm_event_encode, 0, 7);
	tcase_add_loop_test(tc, mem_event_roundtrip, 0, 2);
	suite_add_tcase(s, tc);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
