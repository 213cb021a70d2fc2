/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A hand that sweeps the guest's RAM gfn by gfn, range after range, and
 * starts over: the clock's and the logdirty policy's way round the guest.
 */
#ifndef XPAGE_BATCH_RAM_HAND_H
#define XPAGE_BATCH_RAM_HAND_H

#include "policy.h"

struct ram_hand {
	struct xpage_gfn_range *ram; /* non-empty, clipped to nr_gfns */
	size_t nram, ri;             /* ranges; the hand's */
	uint64_t hand;               /* the gfn under the hand */
	uint64_t gfns;               /* gfns in the ranges: one revolution */
};

/* The ranges of @pp->ram (every gfn when NULL) below @pp->nr_gfns.
 * Returns 0 or -ENOMEM. */
int ram_hand_init(struct ram_hand *h, const struct policy_params *pp);
void ram_hand_free(struct ram_hand *h);
/* The gfn under the hand; the hand moves on. Only when h->gfns > 0. */
uint64_t ram_hand_next(struct ram_hand *h);

#endif
