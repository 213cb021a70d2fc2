/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero-page detection. Each block of 256 bytes is OR-reduced into four
 * independent 64-bit lanes with no branch inside: gcc 12 at -O2 (its
 * cheap vectoriser cost model) turns that loop into 16-byte vector loads
 * and ORs, which a single accumulator does not get (checked with
 * -fopt-info-vec). The test after each block lets a page with data,
 * nearly every one, stop after its first block; an all-zero page costs
 * 16 blocks. Words are read with memcpy, so any buffer may be passed.
 */
#include "zero.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BLOCK 256u
#define LANES 4u

unsigned char zero_page[XPAGE_PAGE_SIZE] __attribute__((aligned(XPAGE_PAGE_SIZE)));

static bool block_is_zero(const unsigned char *p)
{
	uint64_t acc[LANES] = { 0 };

	for (size_t i = 0; i < BLOCK; i += 8 * LANES)
		for (size_t l = 0; l < LANES; l++) {
			uint64_t w;

			memcpy(&w, p + i + l * 8, 8);
			acc[l] |= w;
		}
	return !((acc[0] | acc[1]) | (acc[2] | acc[3]));
}

bool page_is_zero(const void *page)
{
	const unsigned char *p = page;

	for (size_t off = 0; off < XPAGE_PAGE_SIZE; off += BLOCK)
		if (!block_is_zero(p + off))
			return false;
	return true;
}
