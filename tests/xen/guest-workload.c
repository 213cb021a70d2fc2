/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's workload for the real-Xen run (tests/xen): runs as PID 1's
 * child inside a small PVH guest, built static.
 *
 * It fills most of the guest's memory with a pattern that names each page
 * and each pass, then keeps verifying and rewriting it. Every pass reads
 * every word of every page (so every paged-out page must come back, with
 * its contents) and writes the next pass's pattern (so pages are dirty
 * again and a pager cannot keep stale copies). Its verdicts go to the
 * kernel log, which the guest's console and Xen's serial log both show:
 *
 *   GUEST: ready mib=N pages=N
 *   GUEST: OK n pages=N ms=T
 *   GUEST: FAIL n bad=K first=PAGE word=W want=X got=Y ms=T
 *
 * Commands, one per line on stdin (the guest's console; dom0 writes them
 * to the console's pty): "pass" runs a pass now, "hold" stops the
 * periodic passes (the memory is left alone until the next command),
 * "run" resumes them. Each command is acknowledged with "GUEST: ack CMD".
 *
 * usage: guest-workload [--mib N] [--period SECONDS] [--hold]
 *   --mib 0 (default): MemAvailable less 20 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / sizeof(uint64_t))

static int kmsg = -1;

static void say(const char *fmt, ...)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "GUEST: ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write is one kernel log record: it reaches hvc0 and Xen's
	 * serial (earlyprintk=xen,keep) whole. */
	if (kmsg < 0 || write(kmsg, buf, (size_t)n) < 0)
		(void)!write(2, buf, (size_t)n);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The word that pass `gen` leaves at (page, word): distinct per page, per
 * word and per pass, never zero (a page that came back zeroed fails). */
static inline uint64_t pattern(uint64_t gen, uint64_t page, uint64_t word)
{
	uint64_t x = (gen << 40) ^ (page << 9) ^ word;

	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x | 1;
}

static long mem_available_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

int main(int argc, char **argv)
{
	long mib = 0, period = 10;
	int hold = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = atol(argv[++i]);
		else if (!strcmp(argv[i], "--period") && i + 1 < argc)
			period = atol(argv[++i]);
		else if (!strcmp(argv[i], "--hold"))
			hold = 1;
		else {
			fprintf(stderr, "usage: %s [--mib N] [--period S] [--hold]\n",
				argv[0]);
			return 2;
		}
	}
	kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (mib <= 0) {
		long avail = mem_available_mib();
		mib = avail > 40 ? avail - 20 : 16;
	}
	if (period < 1)
		period = 1;

	size_t pages = (size_t)mib * (1024 * 1024 / PAGE);
	uint64_t *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		say("FAIL 0 mmap %ld MiB: %s", mib, strerror(errno));
		return 1;
	}

	uint64_t gen = 1, t0 = now_ms();
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < WORDS; w++)
			mem[p * WORDS + w] = pattern(gen, p, w);
	say("ready mib=%ld pages=%zu fill_ms=%" PRIu64, mib, pages, now_ms() - t0);

	unsigned pass = 0;
	uint64_t next = now_ms() + (uint64_t)period * 1000u;
	char cmd[64];
	size_t cmdlen = 0;
	int run_now = !hold;

	for (;;) {
		if (run_now) {
			uint64_t bad = 0, first = 0, fw = 0, want = 0, got = 0;

			run_now = 0;
			pass++;
			t0 = now_ms();
			for (size_t p = 0; p < pages; p++) {
				uint64_t *pg = mem + p * WORDS;
				int page_bad = 0;

				for (size_t w = 0; w < WORDS; w++) {
					uint64_t v = pg[w];

					if (v != pattern(gen, p, w) && !page_bad) {
						page_bad = 1;
						if (!bad) {
							first = p;
							fw = w;
							want = pattern(gen, p, w);
							got = v;
						}
						bad++;
					}
					pg[w] = pattern(gen + 1, p, w);
				}
			}
			gen++;
			if (!bad)
				say("OK %u pages=%zu ms=%" PRIu64, pass, pages,
				    now_ms() - t0);
			else
				say("FAIL %u bad=%" PRIu64 " first=%" PRIu64
				    " word=%" PRIu64 " want=%016" PRIx64
				    " got=%016" PRIx64 " ms=%" PRIu64,
				    pass, bad, first, fw, want, got, now_ms() - t0);
			next = now_ms() + (uint64_t)period * 1000u;
		}

		uint64_t t = now_ms();
		int timeout = hold ? -1 : (next > t ? (int)(next - t) : 0);
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		int r = poll(&pfd, 1, timeout);

		if (r == 0) {
			run_now = 1;
			continue;
		}
		if (r < 0) {
			if (errno != EINTR)
				sleep(1);
			continue;
		}
		char c;
		ssize_t n = read(0, &c, 1);
		if (n <= 0) {
			/* No console input: stay periodic. */
			hold = 0;
			if (n == 0 || errno != EINTR)
				sleep(1);
			continue;
		}
		if (c != '\n' && c != '\r') {
			if (cmdlen < sizeof(cmd) - 1)
				cmd[cmdlen++] = c;
			continue;
		}
		cmd[cmdlen] = '\0';
		if (!cmdlen)
			continue;
		cmdlen = 0;
		if (!strcmp(cmd, "pass")) {
			say("ack pass");
			run_now = 1;
		} else if (!strcmp(cmd, "hold")) {
			hold = 1;
			say("ack hold");
		} else if (!strcmp(cmd, "run")) {
			hold = 0;
			next = now_ms() + (uint64_t)period * 1000u;
			say("ack run");
		} else {
			say("ack unknown %s", cmd);
		}
	}
}
