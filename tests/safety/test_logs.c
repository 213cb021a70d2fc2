/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * No guest page contents in logs: neither the library's log callback (at
 * its most verbose level, through page-out, page-in, errors, takeover and
 * close) nor the example pager's output (-v, its statistics file) nor the
 * simulator's log carries a word of a guest page, in hex or raw, or any
 * hex dump.
 *
 * The pages' words are read through the library itself (nominate, map,
 * copy), then every message is searched for each 64-bit word as
 * %llx / %016llx / byte-wise hex and as raw bytes, and for runs of 32 or
 * more hex digits (a dump of anything).
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"

#define PAGES 512u
#define SAMPLE 128u   /* gfns whose contents are searched for */

/* ------------------------------------------------------------ words */

static uint64_t *words;  /* SAMPLE pages of 512 words, sorted */
static size_t nwords;

static int cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool is_word(uint64_t w)
{
	return bsearch(&w, words, nwords, sizeof(w), cmp64) != NULL;
}

/* What is wrong with @msg, or NULL. */
static const char *leaks(const char *msg, size_t len)
{
	static char why[160];
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		/* a long hex run: a dump */
		run = isxdigit((unsigned char)msg[i]) ? run + 1 : 0;
		if (run >= 32) {
			snprintf(why, sizeof(why), "a run of 32 hex digits at "
				 "offset %zu", i - 31);
			return why;
		}
		/* raw page bytes */
		if (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, msg + i, 8);
			if (is_word(w)) {
				snprintf(why, sizeof(why), "8 raw bytes of a guest "
					 "page at offset %zu", i);
				return why;
			}
		}
		/* a word printed in hex (with or without leading zeros, any
		 * case), most significant digit first or byte-wise */
		if (isxdigit((unsigned char)msg[i]) &&
		    (i == 0 || !isxdigit((unsigned char)msg[i - 1]))) {
			size_t e = i;
			uint64_t v = 0;

			while (e < len && isxdigit((unsigned char)msg[e]) &&
			       e - i < 16) {
				int c = tolower((unsigned char)msg[e]);

				v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
				e++;
			}
			if (e - i >= 9 && is_word(v)) {
				snprintf(why, sizeof(why), "a guest page word in hex "
					 "at offset %zu", i);
				return why;
			}
			if (e - i == 16 && is_word(__builtin_bswap64(v))) {
				snprintf(why, sizeof(why), "a guest page word as "
					 "bytes in hex at offset %zu", i);
				return why;
			}
		}
	}
	return NULL;
}

static void check_text(const char *what, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		const char *w = leaks(text + start, i - start);

		ck_assert_msg(w == NULL, "%s: %s in: %.*s", what, w,
			      (int)(i - start > 300 ? 300 : i - start),
			      text + start);
		start = i + 1;
	}
}

static void check_file(const char *what, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	check_text(what, buf, (size_t)n);
	free(buf);
}

/* ------------------------------------------------------------ library */

static char *logbuf;
static size_t loglen, logcap;
static unsigned nmsgs;

static void log_fn(void *ctx, int level, const char *msg)
{
	size_t l = strlen(msg);

	(void)ctx; (void)level;
	if (loglen + l + 2 > logcap) {
		logcap = (loglen + l + 2) * 2;
		logbuf = realloc(logbuf, logcap);
		ck_assert_ptr_nonnull(logbuf);
	}
	memcpy(logbuf + loglen, msg, l);
	loglen += l;
	logbuf[loglen++] = '\n';
	nmsgs++;
}

static uint8_t *copies[PAGES];

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev, void *u)
{
	void *b[1] = { copies[ev->gfn] };
	int st;

	(void)u;
	if (b[0])
		xpage_load(xp, &ev->gfn, 1, b, XPAGE_LOAD_RESUME, &st);
}

static void cb_gone(xpage_t *xp, uint64_t gfn, void *u)
{
	(void)xp; (void)u;
	free(copies[gfn]);
	copies[gfn] = NULL;
}

struct env {
	xpage_sim_t *sim;
	uint32_t domid;
	char dir[256];
};

static xpage_t *open_lib(struct env *e, uint32_t flags)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts,
		.flags = flags, .features_wanted = XPAGE_FEAT_ALL,
		.log_fn = log_fn, .log_level = XPAGE_LOG_DEBUG);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate, .evict_fail = cb_gone, .drop = cb_gone);

	return fx_open(e->sim, e->domid, &o, &cb, "xpage_open");
}

static void up(struct env *e)
{
	const char *t = getenv("TMPDIR");
	char logp[300];

	snprintf(e->dir, sizeof(e->dir), "%s/xpage-logs.XXXXXX",
		 t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	snprintf(logp, sizeof(logp), "%s/simd.log", e->dir);
	struct xpage_sim_opts so = XPAGE_OPTS(xpage_sim_opts, .log_path = logp);

	setenv("XPAGE_SIMD_DEBUG", "1", 1); /* the simulator's most verbose */
	e->sim = fx_sim_start(&so);
	e->domid = fx_guest(e->sim, NULL, 2, PAGES, 77);
}

/* Read SAMPLE pages' words through the library (nominate, map, copy,
 * un-nominate: the pages are unchanged). */
static void sample_words(struct env *e)
{
	xpage_t *xp = open_lib(e, 0);
	uint64_t g[SAMPLE];
	int st[SAMPLE], n, ok = 0;
	uint8_t *map;

	for (unsigned i = 0; i < SAMPLE; i++)
		g[i] = i * (PAGES / SAMPLE);
	n = xpage_nominate(xp, g, SAMPLE, 0, st);
	/* The few gfns Xen's scheduler walks are refused: not sampled. */
	for (unsigned i = 0; i < SAMPLE; i++)
		if (st[i] == 0)
			g[ok++] = g[i];
	ck_assert_int_eq(n, ok);
	ck_assert_int_gt(ok, SAMPLE * 9 / 10);
	map = xpage_map(xp, g, (size_t)ok, 0, st);
	ck_assert_ptr_nonnull(map);
	words = malloc((size_t)ok * 512 * sizeof(*words));
	ck_assert_ptr_nonnull(words);
	memcpy(words, map, (size_t)ok * 4096);
	nwords = (size_t)ok * 512;
	ck_assert_int_eq(xpage_unmap(xp, map, (size_t)ok), 0);
	ck_assert_int_eq(xpage_unnominate(xp, g, (size_t)ok, 0, st), ok);
	ck_assert_int_eq(xpage_close(xp), 0);
	qsort(words, nwords, sizeof(*words), cmp64);
	/* zero words (and tiny ones) are not evidence of anything */
	size_t k = 0;

	for (size_t i = 0; i < nwords; i++)
		if (words[i] >> 36)
			words[k++] = words[i];
	nwords = k;
	ck_assert_uint_gt(nwords, (size_t)ok * 500);
	/* the detector detects */
	{
		char m[128];
		uint64_t w = words[nwords / 2];

		snprintf(m, sizeof(m), "gfn 0x12 data %016" PRIx64 " x", w);
		ck_assert_ptr_nonnull(leaks(m, strlen(m)));
		snprintf(m, sizeof(m), "data=0x%" PRIX64, w);
		ck_assert_ptr_nonnull(leaks(m, strlen(m)));
		snprintf(m, sizeof(m), "bytes %016" PRIx64 ".",
			 __builtin_bswap64(w));
		ck_assert_ptr_nonnull(leaks(m, strlen(m)));
		memcpy(m, "raw:", 4);
		memcpy(m + 4, &w, 8);
		ck_assert_ptr_nonnull(leaks(m, 12));
		snprintf(m, sizeof(m), "gfn 0x1234 vcpu 3 paged in 0.25 s");
		ck_assert_ptr_null(leaks(m, strlen(m)));
	}
}

START_TEST(library_logs)
{
	struct env e;
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_UNIFORM, .write_pct = 0, .think_us = 100,
		.release_pm = 2, .seed = 5);
	struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults, .seed = 9,
		.nominate_ebusy_pm = 50, .evict_ebusy_pm = 50,
		.load_enomem_pm = 50, .race_access_pm = 50, .race_drop_pm = 20);
	uint64_t g[PAGES];
	int st[PAGES];
	uint8_t *map;
	xpage_t *xp;

	up(&e);
	sample_words(&e);
	xp = open_lib(&e, 0);
	ck_assert_int_eq(xpage_sim_faults(e.sim, e.domid, &f), 0);
	ck_assert_int_eq(xpage_sim_workload(e.sim, e.domid, &w), 0);
	for (int round = 0; round < 4; round++) {
		size_t n = 0, k = 0;

		for (uint64_t i = 0; i < PAGES; i++)
			if (xpage_gfn_state(xp, i) == XPAGE_GFN_RESIDENT)
				g[n++] = i;
		xpage_nominate(xp, g, n, 0, st);
		for (size_t i = 0; i < n; i++)
			if (st[i] == 0)
				g[k++] = g[i];
		map = k ? xpage_map(xp, g, k, 0, st) : NULL;
		if (map) {
			for (size_t i = 0; i < k; i++) {
				if (st[i])
					continue;
				free(copies[g[i]]);
				copies[g[i]] = malloc(4096);
				memcpy(copies[g[i]], map + i * 4096, 4096);
			}
			xpage_unmap(xp, map, k);
			xpage_evict(xp, g, k, 0, st);
		}
		for (int d = 0; d < 20; d++)
			xpage_dispatch(xp, 5);
	}
	/* errors the library explains */
	{
		uint64_t bad[3] = { PAGES + 100, 3, 3 };
		int s3[3];
		void *b[3] = { NULL, NULL, NULL };

		xpage_map(xp, bad, 3, 0, s3);
		xpage_nominate(xp, bad, 3, 0, s3);
		xpage_load(xp, bad, 3, b, 0, s3);
		xpage_resume(xp, bad, 3, 0, s3);
		xpage_evict(xp, bad, 3, 0, s3);
	}
	/* a pager that dies, one that takes over and adopts */
	xpage_detach(xp, 0);
	xp = open_lib(&e, XPAGE_OPEN_TAKEOVER);
	{
		size_t n = 0;

		for (uint64_t i = 0; i < PAGES; i++)
			if (copies[i])
				g[n++] = i;
		xpage_adopt(xp, g, n, 0, st);
		for (int d = 0; d < 50; d++)
			xpage_dispatch(xp, 5);
	}
	xpage_sim_workload_stop(e.sim, e.domid);
	/* close with pages still out: it warns */
	xpage_close(xp);
	ck_assert_uint_gt(nmsgs, 5);
	check_text("library log", logbuf, loglen);
	{
		char p[300];

		fx_sim_stop();
		snprintf(p, sizeof(p), "%s/simd.log", e.dir);
		check_file("simulator log", p);
	}
	for (unsigned i = 0; i < PAGES; i++)
		free(copies[i]);
	free(words);
	words = NULL;
	free(logbuf);
	logbuf = NULL;
	loglen = logcap = 0;
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e.dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

/* ------------------------------------------------------------ pager */

START_TEST(pager_output)
{
	const char *pager = getenv("XPAGE_BATCH_PAGER");
	struct env e;
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_HOTCOLD, .write_pct = 0, .hot_set_pct = 20,
		.hot_pct = 80, .think_us = 200, .seed = 5);
	char out[300], json[300], store[300], dom[16], cmd[1200];
	pid_t pid;
	int st;

	if (!pager || access(pager, X_OK) < 0)
		return; /* no pager built */
	up(&e);
	sample_words(&e);
	ck_assert_int_eq(xpage_sim_workload(e.sim, e.domid, &w), 0);
	snprintf(out, sizeof(out), "%s/pager.out", e.dir);
	snprintf(json, sizeof(json), "%s/stats.json", e.dir);
	snprintf(store, sizeof(store), "%s/store", e.dir);
	snprintf(dom, sizeof(dom), "%u", e.domid);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(pager, pager, "-v", "--sim-socket", xpage_sim_socket(e.sim),
		      "--domid", dom, "--store", store, "--target-pages", "64",
		      "--batch", "64", "--duration", "2", "--progress",
		      "--stats-json", json, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the pager failed (status %#x), see %s", st, out);
	check_file("pager output (-v)", out);
	check_file("pager statistics", json);
	xpage_sim_workload_stop(e.sim, e.domid);
	fx_sim_stop();
	snprintf(cmd, sizeof(cmd), "%s/simd.log", e.dir);
	check_file("simulator log", cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e.dir);
	ck_assert_int_eq(system(cmd), 0);
	free(words);
	words = NULL;
	free(logbuf);
	logbuf = NULL;
	loglen = logcap = 0;
}
END_TEST

static void tests(TCase *tc)
{
	tcase_add_test(tc, library_logs);
	tcase_add_test(tc, pager_output);
}

int main(void)
{
	return fx_main("logs", "logs", 90, tests);
}
