/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ram_hand.h"

#include <errno.h>
#include <stdlib.h>

int ram_hand_init(struct ram_hand *h, const struct policy_params *pp)
{
	size_t n = pp->ram ? pp->nram : 1;

	*h = (struct ram_hand){ 0 };
	h->ram = calloc(n ? n : 1, sizeof(*h->ram));
	if (!h->ram)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct xpage_gfn_range g = pp->ram ? pp->ram[i] :
			(struct xpage_gfn_range){ 0, pp->nr_gfns };

		if (g.first >= pp->nr_gfns || !g.count)
			continue;
		if (g.count > pp->nr_gfns - g.first)
			g.count = pp->nr_gfns - g.first;
		h->ram[h->nram++] = g;
		h->gfns += g.count;
	}
	h->hand = h->nram ? h->ram[0].first : 0;
	return 0;
}

void ram_hand_free(struct ram_hand *h)
{
	free(h->ram);
	h->ram = NULL;
}

uint64_t ram_hand_next(struct ram_hand *h)
{
	uint64_t g = h->hand;

	if (++h->hand >= h->ram[h->ri].first + h->ram[h->ri].count) {
		h->ri = h->ri + 1 == h->nram ? 0 : h->ri + 1;
		h->hand = h->ram[h->ri].first;
	}
	return g;
}
