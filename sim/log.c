/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulator's log: the messages a hypervisor would print. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim.h"

static FILE *log_file;
static int log_level = SIM_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int sim_log_open(const char *path)
{
	FILE *f = fopen(path, "ae");

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	log_file = f;
	/* Per-response debug lines only when asked for. */
	if (getenv("XPAGE_SIMD_DEBUG"))
		log_level = SIM_LOG_DEBUG;
	return 0;
}

void sim_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void sim_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	struct timespec ts;
	va_list ap;

	if (!log_file || level > log_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&log_lock);
	if (log_file) {
		fprintf(log_file, "[%5lld.%06ld] %s: ", (long long)ts.tv_sec,
			ts.tv_nsec / 1000,
			names[level < 0 || level > 3 ? 3 : level]);
		va_start(ap, fmt);
		vfprintf(log_file, fmt, ap);
		va_end(ap);
		fputc('\n', log_file);
	}
	pthread_mutex_unlock(&log_lock);
}
