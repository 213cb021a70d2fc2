/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's checksums: crc32 (zlib's polynomial) seals the index's
 * header and records, as it has since version 1; crc32c (Castagnoli's)
 * covers each page's data in its slot (index version 3). crc32c has an
 * instruction of its own on x86-64 (SSE4.2), eight bytes a cycle or so:
 * a page costs well under a microsecond, far below its write. Elsewhere
 * a table, a byte at a time.
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
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *b, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		c = __builtin_ia32_crc32di(c, w);
		b += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *b++);
	return crc;
}

static bool have_sse42(void)
{
	static int have = -1;

	if (have < 0)
		have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
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
