/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text-like words (text.h). Compressible as English prose is with a fast
 * compressor (about 2x with lz4, 3x with zstd: bench/RESULTS.md), not
 * as a page of one repeated byte is; made word by word, so that the
 * oracle checks any word of a page without making the ones before it.
 */
#include "text.h"

#include <string.h>

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* @n letters from the bits of @r, then spaces, into 8 bytes. */
static uint64_t letters(uint64_t r, unsigned n)
{
	char b[8];
	uint64_t w;

	for (unsigned k = 0; k < 8; k++, r /= 26)
		b[k] = k < n ? (char)('a' + r % 26) : ' ';
	memcpy(&w, b, 8);
	return w;
}

uint64_t sim_text_word(uint64_t m)
{
	unsigned tok;

	if ((m & 3) == 0)
		return letters(m >> 2, 8);
	/* a bit of the index is set one time in four: low tokens dominate */
	tok = (unsigned)((m >> 2) & (m >> 10) & 0xff);
	/* token t: 2 to 7 letters, the same for every page and guest */
	return letters(mix(tok + 0x7e57ull), 2 + tok % 6);
}
