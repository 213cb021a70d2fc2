/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ring layout table against the hypervisor's documented layouts: every
 * number below is written out from the interface facts (header 64 bytes,
 * slot sizes, offsets, flag bits), not derived from ring_layout.c.
 */
#include <check.h>
#include "checkrun.h"
#include "private.h"

struct expect {
	int gen; uint32_t slot, slots, version;
	uint32_t flags, vcpu, gfn, p2mt, pflags, reason, reason_width;
	uint32_t paused, foreign, drop, evict_fail;
};

static const struct expect exp_layouts[] = {
	/* gen                     slot slots ver flags vcpu gfn p2mt pfl reason w  paused foreign drop  evf */
	{ XPAGE_GEN_MEM_EVENT_42,  40,  64,  0,  0,    4,   8,  32,  0,  38,    2, 1,     8,      2,    4 },
	{ XPAGE_GEN_MEM_EVENT_45,  296, 8,   0,  0,    4,   8,  32,  0,  38,    2, 1,     8,      2,    4 },
	{ XPAGE_GEN_VM_EVENT_V1,   312, 8,   1,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V2,   312, 8,   2,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V3,   312, 8,   3,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V4,   376, 8,   4,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V5,   384, 8,   5,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V6,   384, 8,   6,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
	{ XPAGE_GEN_VM_EVENT_V7,   400, 8,   7,  4,    12,  24, 32,  36, 8,     4, 1,     2,      1,    2 },
};

START_TEST(layout_matches_facts)
{
	const struct expect *e = &exp_layouts[_i];
	const struct xp_ring_layout *l = xp_ring_layout(e->gen);

	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->slot_size, e->slot);
	ck_assert_uint_eq(l->nr_slots, e->slots);
	ck_assert_uint_eq(xp_ring_slots_for(l->slot_size), e->slots);
	ck_assert_uint_le(64 + l->nr_slots * l->slot_size, 4096);
	ck_assert_uint_eq(l->version, e->version);
	ck_assert_uint_eq(l->off_flags, e->flags);
	ck_assert_uint_eq(l->off_vcpu, e->vcpu);
	ck_assert_uint_eq(l->off_gfn, e->gfn);
	ck_assert_uint_eq(l->off_p2mt, e->p2mt);
	ck_assert_uint_eq(l->off_pflags, e->pflags);
	ck_assert_uint_eq(l->off_reason, e->reason);
	ck_assert_uint_eq(l->reason_width, e->reason_width);
	ck_assert_uint_eq(l->f_vcpu_paused, e->paused);
	ck_assert_uint_eq(l->f_foreign, e->foreign);
	ck_assert_uint_eq(l->f_drop_page, e->drop);
	ck_assert_uint_eq(l->f_evict_fail, e->evict_fail);
	if (l->era == XP_ERA_MEM_EVENT) {
		ck_assert_uint_eq(l->f_dummy, 1u << 4);
		ck_assert_uint_eq(l->reason_paging, 0);
	} else {
		ck_assert_uint_eq(l->off_version, 0);
		ck_assert_uint_eq(l->reason_paging, 3);
	}
}
END_TEST

START_TEST(header_and_unknown)
{
	ck_assert_uint_eq(XP_RING_HDR_SIZE, 64);
	ck_assert_uint_eq(XP_RING_OFF_REQ_PROD, 0);
	ck_assert_uint_eq(XP_RING_OFF_REQ_EVENT, 4);
	ck_assert_uint_eq(XP_RING_OFF_RSP_PROD, 8);
	ck_assert_uint_eq(XP_RING_OFF_RSP_EVENT, 12);
	ck_assert_ptr_null(xp_ring_layout(0));
	ck_assert_ptr_null(xp_ring_layout(99));
	ck_assert_uint_eq(xp_ring_slots_for(4096), 0);
	ck_assert_str_eq(xpage_generation_name(XPAGE_GEN_VM_EVENT_V7), "vm_event-v7");
	ck_assert_str_eq(xpage_generation_name(42), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_layout");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, layout_matches_facts, 0,
			    sizeof(exp_layouts) / sizeof(exp_layouts[0]));
	tcase_add_test(tc, header_and_unknown);
	suite_add_tcase(s, tc);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
