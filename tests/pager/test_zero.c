/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * page_is_zero(): a zero page is zero; a page with one non-zero byte is
 * not, wherever the byte is (every offset, so the first, middle and last
 * bytes and each 256-byte block's edges), whatever its bits, and at an
 * address that is not 8-byte aligned.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "zero.h"

#define PAGE XPAGE_PAGE_SIZE

static int failures;


/* One non-zero byte (@val) at each offset of the page at @pg. */
static void each_offset(unsigned char *pg, unsigned char val)
{
	for (size_t off = 0; off < PAGE; off++) {
		pg[off] = val;
		CHECK(!page_is_zero(pg), "byte %#x at %zu not seen", val, off);
		pg[off] = 0;
	}
	CHECK(page_is_zero(pg), "a cleared page is not zero");
}

int main(void)
{
	static unsigned char buf[PAGE + 64] __attribute__((aligned(64)));
	static const size_t named[] = { 0, PAGE / 2, PAGE - 1 };

	CHECK(page_is_zero(zero_page), "zero_page is not zero");
	CHECK(page_is_zero(buf), "a zero page is not zero");
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		buf[named[i]] = 1;
		CHECK(!page_is_zero(buf), "a 1 at %zu not seen", named[i]);
		buf[named[i]] = 0;
	}
	each_offset(buf, 0x80);
	each_offset(buf, 0x01);
	each_offset(buf + 3, 0xff);
	memset(buf, 0xff, sizeof(buf));
	CHECK(!page_is_zero(buf), "a page of 0xff is zero");
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("zero-detect: ok\n");
	return 0;
}
