/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page compression for the store (store_compress.c): lz4 or zstd, one
 * 4 KiB page at a time. A record's enc names how its data is stored.
 */
#ifndef BATCH_PAGER_STORE_COMPRESS_H
#define BATCH_PAGER_STORE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum store_enc {
	ENC_RAW = 0,  /* the page as it is, 4096 bytes */
	ENC_LZ4 = 1,  /* an lz4 block */
	ENC_ZSTD = 2, /* a zstd frame */
	ENC_COUNT
};

/* A compressor: its codec and level, and the contexts it reuses. */
struct compressor {
	enum store_enc enc;  /* ENC_RAW: none */
	int level;           /* zstd: its level; lz4: the acceleration */
	void *cctx, *dctx;   /* zstd's contexts */
};

/* The codec called @name ("none", "lz4" or "zstd") into *@enc; -1 when
 * there is none of that name. */
int compress_parse(const char *name, enum store_enc *enc);
const char *compress_name(enum store_enc enc);

/* Set @c up for @enc at @level (0: the codec's default). 0 or -ENOMEM. */
int compress_init(struct compressor *c, enum store_enc enc, int level);
void compress_fini(struct compressor *c);

/* Compress the page @page into @out (room for @cap bytes). Returns the
 * compressed size, or 0 when it does not fit in @cap: the page is then
 * stored raw. */
size_t compress_page(struct compressor *c, const void *page, void *out,
		     size_t cap);

/* Decompress @len bytes of @enc at @in into the page @page. 0, or
 * -EBADMSG when they do not make exactly one page. */
int decompress_page(struct compressor *c, enum store_enc enc, const void *in,
		    size_t len, void *page);

#endif
