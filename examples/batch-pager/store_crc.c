/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's checksums: crc32 (zlib's polynomial) seals the index's
 * header and records, as it has since version 1; crc32c (Castagnoli's)
 * covers each record's data in its slots (from index version 3). crc32c
 * has an instruction of its own on x86-64 (SSE4.2), run here on three
 * lanes at once (crc32c_sse42()); elsewhere a table, a byte at a time.
 */
#include "store.h"

#include <stdbool.h>
#include <string.h>

static uint32_t crc32_table[256];
static uint32_t crc32c_table[256];

/* The reflected table of @poly into @t (once). */
static void make_table(uint32_t *t, uint32_t poly)
{
	if (t[1])
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? poly ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
}

static uint32_t crc_bytes(const uint32_t *t, uint32_t crc, const uint8_t *b,
			  size_t len)
{
	while (len--)
		crc = t[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t crc32_buf(uint32_t crc, const void *buf, size_t len)
{
	make_table(crc32_table, 0xedb88320u);
	return ~crc_bytes(crc32_table, ~crc, buf, len);
}

#if defined(__x86_64__)
/*
 * The instruction has a latency of three cycles and a throughput of one:
 * one chain of it runs at a third of its speed. A long buffer is done as
 * three lanes of LANE bytes at once, the first lane from the running
 * crc, the others from 0, then joined: the crc register's part in a
 * result is linear in it and moves through the bytes after it as
 * through zeros, so crc(A B C) = Z2L(a) ^ ZL(b) ^ c, where a, b, c are
 * the lanes' registers and ZL(x) is x carried through LANE zero bytes
 * (Z2L: twice that). ZL and Z2L are 32x32 bit matrices, kept as four
 * tables of 256, one per byte of x, made once with the instruction.
 */
#define LANE 1360u /* 3 lanes and 16 bytes: a page */

static uint32_t zl[4][256], z2l[4][256];

__attribute__((target("sse4.2")))
static uint32_t through_zeros(uint32_t x, size_t len)
{
	uint64_t c = x;

	for (size_t i = 0; i < len; i += 8)
		c = __builtin_ia32_crc32di(c, 0);
	return (uint32_t)c;
}

__attribute__((target("sse4.2")))
static void make_lane_tables(void)
{
	for (unsigned k = 0; k < 4; k++)
		for (uint32_t v = 0; v < 256; v++) {
			zl[k][v] = through_zeros(v << (8 * k), LANE);
			z2l[k][v] = through_zeros(v << (8 * k), 2 * LANE);
		}
}

static inline uint32_t carry(uint32_t t[4][256], uint32_t x)
{
	return t[0][x & 0xff] ^ t[1][(x >> 8) & 0xff] ^
	       t[2][(x >> 16) & 0xff] ^ t[3][x >> 24];
}

static inline uint64_t word(const uint8_t *b)
{
	uint64_t w;

	memcpy(&w, b, 8);
	return w;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *b, size_t len)
{
	uint64_t c = crc;

	for (; len >= 3 * LANE; b += 3 * LANE, len -= 3 * LANE) {
		uint64_t x = c, y = 0, z = 0;

		for (size_t i = 0; i < LANE; i += 8) {
			x = __builtin_ia32_crc32di(x, word(b + i));
			y = __builtin_ia32_crc32di(y, word(b + LANE + i));
			z = __builtin_ia32_crc32di(z, word(b + 2 * LANE + i));
		}
		c = carry(z2l, (uint32_t)x) ^ carry(zl, (uint32_t)y) ^ (uint32_t)z;
	}
	for (; len >= 8; b += 8, len -= 8)
		c = __builtin_ia32_crc32di(c, word(b));
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *b++);
	return crc;
}

static bool have_sse42(void)
{
	static int have = -1;

	if (have < 0) {
		have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
		if (have)
			make_lane_tables();
	}
	return have;
}
#endif

uint32_t crc32c_buf_soft(uint32_t crc, const void *buf, size_t len)
{
	make_table(crc32c_table, 0x82f63b78u);
	return ~crc_bytes(crc32c_table, ~crc, buf, len);
}

uint32_t crc32c_buf(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (have_sse42())
		return ~crc32c_sse42(~crc, buf, len);
#endif
	return crc32c_buf_soft(crc, buf, len);
}
