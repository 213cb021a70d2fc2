/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compression: the codecs the batch pager's store can use
 * (examples/batch-pager/store_compress.c, called here exactly as the
 * store calls it), one 4 KiB page per call, on four kinds of page:
 *   text    the simulator's text-like pages (sim/text.c: words of a
 *           vocabulary, random ones between)
 *   code    the pages of this process's C library file (machine code,
 *           tables, strings: what a guest's code pages hold)
 *   random  splitmix64 output (incompressible: media, encrypted or
 *           already compressed data)
 *   mixed   each page 2 KiB of text, 1 KiB of code, 1 KiB random
 * Per page: the compressed size (as a ratio), what the store keeps (a
 * page that does not fit in 3584 bytes raw, everything in 512-byte
 * units), and the best run's time to compress and to decompress.
 */
#include "bench.h"
#include "store_compress.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES 256
#define UNIT 512
#define RAW_ABOVE 3584

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* @len bytes of the C library's file from @off on (wrapping), into @d. */
static void code_bytes(uint8_t *d, size_t len, size_t off)
{
	static uint8_t *lib;
	static size_t lib_len;

	if (!lib) {
		char line[512], path[400] = "";
		FILE *f = fopen("/proc/self/maps", "r");

		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "/libc.so") &&
			    sscanf(line, "%*s %*s %*s %*s %*s %399s", path) == 1)
				break;
		if (f)
			fclose(f);
		f = path[0] ? fopen(path, "rb") : NULL;
		lib = malloc(4 << 20);
		lib_len = f && lib ? fread(lib, 1, 4 << 20, f) : 0;
		if (f)
			fclose(f);
		if (lib_len < 65536)
			die("compression: cannot read the C library (%s)", path);
	}
	for (size_t i = 0; i < len; i++)
		d[i] = lib[(off + i) % lib_len];
}

static void text_bytes(uint8_t *d, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = sim_text_word(mix(seed + i));

		memcpy(d + i, &w, 8);
	}
}

static void random_bytes(uint8_t *d, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = mix(seed ^ (i * 0x9e3779b97f4a7c15ull));

		memcpy(d + i, &w, 8);
	}
}

void comp_make_page(unsigned kind, unsigned i, uint8_t *p)
{
	uint64_t seed = mix(i + 1) ^ kind;

	if (kind == 0)
		text_bytes(p, 4096, seed);
	else if (kind == 1)
		code_bytes(p, 4096, (size_t)i * 4096 + 65536);
	else if (kind == 2)
		random_bytes(p, 4096, seed);
	else {
		text_bytes(p, 2048, seed);
		code_bytes(p + 2048, 1024, (size_t)i * 1024 + 65536);
		random_bytes(p + 3072, 1024, seed);
	}
}

static const struct { enum store_enc enc; int level; const char *name; }
codecs[COMP_CODECS] = {
	{ ENC_LZ4, 1, "lz4 1" }, { ENC_LZ4, 8, "lz4 8" },
	{ ENC_ZSTD, -1, "zstd -1" }, { ENC_ZSTD, 1, "zstd 1" },
	{ ENC_ZSTD, 3, "zstd 3" },
};

/* One codec on one kind of page: fills the result's row @k, column @c. */
static void comp_one(struct comp_result *r, unsigned k, unsigned c,
		     uint8_t (*pg)[4096])
{
	static uint8_t out[PAGES][4096 + 64], back[4096];
	size_t len[PAGES];
	double best_c = 1e30, best_d = 1e30, in = 0, stored = 0;
	struct compressor z;

	if (compress_init(&z, codecs[c].enc, codecs[c].level) < 0)
		die("compression: out of memory");
	for (unsigned rep = 0; rep < r->reps; rep++) {
		uint64_t t = now_ns();

		for (unsigned i = 0; i < PAGES; i++)
			len[i] = compress_page(&z, pg[i], out[i], sizeof(out[i]));
		t = now_ns() - t;
		best_c = (double)t < best_c ? (double)t : best_c;
		t = now_ns();
		for (unsigned i = 0; i < PAGES; i++)
			if (len[i] && decompress_page(&z, codecs[c].enc, out[i],
						      len[i], back) < 0)
				die("compression: %s lost a page", codecs[c].name);
		t = now_ns() - t;
		best_d = (double)t < best_d ? (double)t : best_d;
	}
	for (unsigned i = 0; i < PAGES; i++) {
		size_t n = len[i] && len[i] <= RAW_ABOVE ? len[i] : 4096;

		in += len[i] ? (double)len[i] : 4096;
		stored += (double)((n + UNIT - 1) / UNIT * UNIT);
	}
	r->ratio[k][c] = 4096.0 * PAGES / in;
	r->stored[k][c] = 4096.0 * PAGES / stored;
	r->comp_us[k][c] = best_c / 1e3 / PAGES;
	r->decomp_us[k][c] = best_d / 1e3 / PAGES;
	compress_fini(&z);
}

void compress_bench(struct bench_env *env, struct comp_result *r)
{
	static const char *const kinds[COMP_CORPORA] = {
		"text", "code", "random", "mixed" };
	static uint8_t pg[PAGES][4096];

	memset(r, 0, sizeof(*r));
	r->pages = PAGES;
	r->reps = env->quick ? 5 : 20;
	for (unsigned c = 0; c < COMP_CODECS; c++)
		r->codec[c] = codecs[c].name;
	for (unsigned k = 0; k < COMP_CORPORA; k++) {
		r->corpus[k] = kinds[k];
		for (unsigned i = 0; i < PAGES; i++)
			comp_make_page(k, i, pg[i]);
		for (unsigned c = 0; c < COMP_CODECS; c++)
			comp_one(r, k, c, pg);
	}
}
