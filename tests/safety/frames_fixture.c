/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine frames of a simulated guest's gfns (frames_fixture.h). */
#include "frames_fixture.h"

#include <check.h>
#include <unistd.h>

#include "simp_call.h"

void fx_frames_of(xpage_sim_t *sim, uint32_t domid, uint64_t first,
		  size_t n, uint64_t *mfn)
{
	int s = simp_connect(xpage_sim_socket(sim));

	ck_assert_int_ge(s, 0);
	for (size_t i = 0; i < n; i++) {
		struct simp_touch t = { .domid = domid, .gfn = first + i };
		struct simp_gfn_state gs;

		ck_assert_int_eq(simp_call(s, SIMP_GFN_STATE, &t, sizeof(t),
					   &gs, sizeof(gs), NULL, NULL, NULL), 0);
		mfn[i] = gs.has_frame ? gs.mfn : UINT64_MAX;
	}
	close(s);
}

uint64_t fx_frame_of(xpage_sim_t *sim, uint32_t domid, uint64_t gfn)
{
	uint64_t m;

	fx_frames_of(sim, domid, gfn, 1, &m);
	return m;
}
