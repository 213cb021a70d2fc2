/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine frames of a simulated guest's gfns, as the simulator has
 * them (SIMP_GFN_STATE), for the tests of frames and relocation.
 */
#ifndef XPAGE_TESTS_SAFETY_FRAMES_FIXTURE_H
#define XPAGE_TESTS_SAFETY_FRAMES_FIXTURE_H

#include <stdint.h>

#include <xpage/sim.h>

/* Frames of gfns @first .. @first + @n - 1 of @domid into @mfn
 * (UINT64_MAX for a gfn without one), over one connection. */
void fx_frames_of(xpage_sim_t *sim, uint32_t domid, uint64_t first,
		  size_t n, uint64_t *mfn);
/* The frame of one gfn (UINT64_MAX: none). */
uint64_t fx_frame_of(xpage_sim_t *sim, uint32_t domid, uint64_t gfn);

#endif
