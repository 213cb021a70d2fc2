/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-batch-pager: the helpers its files share: the clock, messages
 * (and the library's log lines among them), the crash-test hook, and
 * growing arrays.
 */
#include "pager.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int verbosity = 1; /* 0 quiet, 1 normal, 2 debug */
static const char *prog = "xpage-batch-pager";
static struct pager *g_pager; /* for clearing the progress line */

void messages_init(struct pager *p, int level)
{
	g_pager = p;
	verbosity = level;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vmsg(const char *tag, const char *fmt, va_list ap)
{
	if (g_pager)
		report_progress_end(g_pager);
	fprintf(stderr, "%s: %s", prog, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void say(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void errx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void dbg(const struct pager *p, const char *fmt, ...)
{
	char pre[48];
	va_list ap;

	if (verbosity < 2)
		return;
	/* the time since the pager started: where a slow start goes */
	snprintf(pre, sizeof(pre), "debug: +%.3f s: ",
		 p->t0_ns ? (double)(now_ns() - p->t0_ns) / 1e9 : 0.0);
	va_start(ap, fmt);
	vmsg(pre, fmt, ap);
	va_end(ap);
}

void crash_point(const char *point)
{
	static int armed = -1;
	static char name[32];
	static long count = 1;

	if (armed < 0) {
		const char *e = getenv("XPAGE_BATCH_PAGER_CRASH");
		const char *c;

		armed = 0;
		if (e && *e) {
			c = strchr(e, ':');
			snprintf(name, sizeof(name), "%.*s",
				 (int)(c ? (size_t)(c - e) : strlen(e)), e);
			if (c)
				count = strtol(c + 1, NULL, 10);
			armed = 1;
		}
	}
	if (armed && !strcmp(point, name) && --count <= 0) {
		fprintf(stderr, "%s: test hook: killed at \"%s\"\n", prog, point);
		raise(SIGKILL);
	}
}

int grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
	void **arr = arrp;
	size_t nc;
	void *a;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	while (nc < need)
		nc *= 2;
	a = realloc(*arr, nc * elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = nc;
	return 0;
}

void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= XPAGE_LOG_WARN || verbosity >= 2) {
		if (g_pager)
			report_progress_end(g_pager);
		fprintf(stderr, "%s: libxpage: %s\n", prog, msg);
	}
}
