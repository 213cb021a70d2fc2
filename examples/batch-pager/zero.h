/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero pages: found while the page is mapped for its write, they are
 * recorded in the index without a data write and loaded back from
 * zero_page without a read (store.h, pageout.c, pagein.c).
 */
#ifndef BATCH_PAGER_ZERO_H
#define BATCH_PAGER_ZERO_H

#include <stdbool.h>

#include <xpage/xpage.h>

/* Is the XPAGE_PAGE_SIZE bytes at @page all zero?
 * Reads up to the first 256-byte block with a non-zero byte. */
bool page_is_zero(const void *page);

/* A page of zeros, to load a zero page from (never written). */
extern unsigned char zero_page[XPAGE_PAGE_SIZE];

#endif
