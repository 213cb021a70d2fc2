/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Zero pages in a simulated guest (sim_zero.h). */
#include "sim_zero.h"

#include <xpage/xpage.h>

/* splitmix64's finaliser: gfns spread evenly over 0..99 for any seed. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool sim_zero_pick(uint64_t seed, uint64_t gfn, uint32_t pct)
{
	return mix(seed * 0x9e3779b97f4a7c15ull + gfn + 1) % 100 < pct;
}

int64_t sim_zero_share(xpage_sim_t *sim, uint32_t domid, uint64_t pages,
		       uint32_t pct, uint64_t seed)
{
	int64_t n = 0;

	for (uint64_t gfn = 0; gfn < pages; gfn++) {
		int rc;

		if (!sim_zero_pick(seed, gfn, pct))
			continue;
		rc = xpage_sim_release(sim, domid, gfn);
		if (rc == 0)
			rc = xpage_sim_touch(sim, domid, 0, gfn, 0);
		if (rc < 0)
			return rc;
		n++;
	}
	return n;
}
