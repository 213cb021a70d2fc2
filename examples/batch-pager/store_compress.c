/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page compression (store_compress.h): Debian's liblz4 and libzstd, one
 * page per call, no frame of our own around them. zstd's contexts are
 * made once and reused (a fresh one per page costs more than the page);
 * lz4's block API needs none.
 */
#include "store_compress.h"

#include <errno.h>
#include <string.h>

#include <lz4.h>
#include <zstd.h>

#define PAGE 4096

static const char *const names[ENC_COUNT] = {
	[ENC_RAW] = "none", [ENC_LZ4] = "lz4", [ENC_ZSTD] = "zstd",
};

int compress_parse(const char *name, enum store_enc *enc)
{
	for (int i = 0; i < ENC_COUNT; i++)
		if (!strcmp(name, names[i])) {
			*enc = (enum store_enc)i;
			return 0;
		}
	return -1;
}

const char *compress_name(enum store_enc enc)
{
	return enc < ENC_COUNT ? names[enc] : "?";
}

int compress_init(struct compressor *c, enum store_enc enc, int level)
{
	memset(c, 0, sizeof(*c));
	c->enc = enc;
	c->level = level ? level : 1;
	/* a decompression context for every codec: a store written with
	 * zstd may be read by a pager that writes lz4 */
	c->dctx = ZSTD_createDCtx();
	if (enc == ENC_ZSTD)
		c->cctx = ZSTD_createCCtx();
	if (!c->dctx || (enc == ENC_ZSTD && !c->cctx)) {
		compress_fini(c);
		return -ENOMEM;
	}
	return 0;
}

void compress_fini(struct compressor *c)
{
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	c->cctx = c->dctx = NULL;
}

size_t compress_page(struct compressor *c, const void *page, void *out,
		     size_t cap)
{
	if (c->enc == ENC_LZ4) {
		int n = LZ4_compress_fast(page, out, PAGE, (int)cap, c->level);

		return n > 0 ? (size_t)n : 0;
	}
	if (c->enc == ENC_ZSTD) {
		size_t n = ZSTD_compressCCtx(c->cctx, out, cap, page, PAGE,
					     c->level);

		return ZSTD_isError(n) ? 0 : n;
	}
	return 0;
}

int decompress_page(struct compressor *c, enum store_enc enc, const void *in,
		    size_t len, void *page)
{
	if (enc == ENC_LZ4) {
		int n = LZ4_decompress_safe(in, page, (int)len, PAGE);

		return n == PAGE ? 0 : -EBADMSG;
	}
	if (enc == ENC_ZSTD) {
		size_t n = ZSTD_decompressDCtx(c->dctx, page, PAGE, in, len);

		return !ZSTD_isError(n) && n == PAGE ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}
