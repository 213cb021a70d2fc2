/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's workload for the real-Xen run (tests/xen): runs as PID 1's
 * child inside a small PVH guest, built static.
 *
 * It fills most of the guest's memory with a pattern that names each page
 * and each pass, then keeps verifying and rewriting it. Every pass reads
 * every word of every page (so every paged-out page must come back, with
 * its contents) and writes the next pass's pattern (so pages are dirty
 * again and a pager cannot keep stale copies). The memory is split into
 * one slice per worker thread, a thread per vCPU, so every vCPU of the
 * guest touches paged memory. Its verdicts go to the kernel log, which the
 * guest's console and Xen's serial log both show:
 *
 *   GUEST: ready mib=N pages=N threads=N
 *   GUEST: OK n pages=N ms=T passes=P
 *   GUEST: FAIL n bad=K first=PAGE word=W want=X got=Y ms=T
 *
 * (n: the pass; in churn mode a line covers the P passes since the last
 * one, at most one line a second.)
 *
 * Commands, one per line on stdin (the guest's console; dom0 writes them
 * to the console's pty): "pass" runs a pass now, "hold" stops the
 * periodic passes (the memory is left alone until the next command),
 * "run" resumes them, "churn" runs passes back to back (every page written
 * continuously) until the next command. Each command is acknowledged with
 * "GUEST: ack CMD".
 *
 * usage: guest-workload [--mib N] [--period SECONDS] [--threads N] [--hold]
 *   --mib 0 (default): MemAvailable less 20 MiB.
 *   --threads 0 (default): one per online CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
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
#define MAX_THREADS 64

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

/* What one worker found in its slice during a pass. */
struct verdict {
	uint64_t bad, first, word, want, got;
};

/* One worker per slice of the memory. */
struct worker {
	pthread_t tid;
	size_t p0, p1;          /* pages [p0, p1) */
	struct verdict v;
};

static struct {
	uint64_t *mem;
	size_t pages;
	unsigned nthreads;
	struct worker w[MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	uint64_t gen;           /* the pattern in memory now */
	unsigned started;       /* passes started */
	unsigned finished;      /* workers done with the current pass */
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER, .gen = 1 };

/* The order a pass visits a slice of @n pages in: page (i * stride) % n
 * at step i, a stride coprime with @n that changes with every pass, so
 * the pages a pager nominates together (neighbours in the guest's memory)
 * are written at scattered moments of the pass, not all at one. */
static size_t stride_for(uint64_t gen, size_t n)
{
	size_t a, b, s = n > 1 ? (size_t)((gen * 0x9e3779b97f4a7c15ull) >> 40) % n : 1;

	for (;; s = s + 1 < n ? s + 1 : 1) {
		for (a = s, b = n; b;) {
			size_t r = a % b;

			a = b;
			b = r;
		}
		if (a == 1 || n <= 1)
			return n > 1 ? s : 1;
	}
}

/* Verify generation @gen in pages [p0, p1) and write generation gen + 1,
 * every page once, in a scattered order. */
static void pass_slice(uint64_t gen, size_t p0, size_t p1, struct verdict *v)
{
	size_t n = p1 - p0, stride = stride_for(gen, n), at = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++, at = (at + stride) % n) {
		size_t p = p0 + at;
		uint64_t *pg = W.mem + p * WORDS;
		int page_bad = 0;

		for (size_t w = 0; w < WORDS; w++) {
			uint64_t want = pattern(gen, p, w), got = pg[w];

			if (got != want && !page_bad) {
				page_bad = 1;
				if (!v->bad || p < v->first) {
					v->first = p;
					v->word = w;
					v->want = want;
					v->got = got;
				}
				v->bad++;
			}
			pg[w] = pattern(gen + 1, p, w);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	unsigned seen = 0;

	for (;;) {
		uint64_t gen;

		pthread_mutex_lock(&W.lock);
		while (W.started == seen)
			pthread_cond_wait(&W.go, &W.lock);
		seen = W.started;
		gen = W.gen;
		pthread_mutex_unlock(&W.lock);

		pass_slice(gen, me->p0, me->p1, &me->v);

		pthread_mutex_lock(&W.lock);
		if (++W.finished == W.nthreads)
			pthread_cond_signal(&W.done);
		pthread_mutex_unlock(&W.lock);
	}
	return NULL;
}

/* One pass over all memory by every worker; returns what they found. */
static struct verdict run_pass(void)
{
	struct verdict all = { 0 };

	pthread_mutex_lock(&W.lock);
	W.finished = 0;
	W.started++;
	pthread_cond_broadcast(&W.go);
	while (W.finished < W.nthreads)
		pthread_cond_wait(&W.done, &W.lock);
	W.gen++;
	pthread_mutex_unlock(&W.lock);

	for (unsigned i = 0; i < W.nthreads; i++) {
		const struct verdict *v = &W.w[i].v;

		if (v->bad && !all.bad)
			all = *v;
		else
			all.bad += v->bad;
	}
	return all;
}

/* The verdict line of pass @n (@passes passes since the last line, in
 * churn mode), @ms after the first of them started. */
static void report(unsigned n, unsigned passes, const struct verdict *v,
		   uint64_t ms)
{
	if (!v->bad)
		say("OK %u pages=%zu ms=%" PRIu64 " passes=%u", n, W.pages, ms,
		    passes);
	else
		say("FAIL %u bad=%" PRIu64 " first=%" PRIu64 " word=%" PRIu64
		    " want=%016" PRIx64 " got=%016" PRIx64 " ms=%" PRIu64,
		    n, v->bad, v->first, v->word, v->want, v->got, ms);
}

static void start_workers(unsigned nthreads)
{
	size_t per;

	W.nthreads = nthreads;
	per = (W.pages + nthreads - 1) / nthreads;
	for (unsigned i = 0; i < nthreads; i++) {
		struct worker *w = &W.w[i];

		w->p0 = (size_t)i * per < W.pages ? (size_t)i * per : W.pages;
		w->p1 = w->p0 + per < W.pages ? w->p0 + per : W.pages;
		if (pthread_create(&w->tid, NULL, worker_main, w)) {
			say("FAIL 0 pthread_create: %s", strerror(errno));
			exit(1);
		}
	}
}

enum mode { HOLD, PERIODIC, CHURN };

/* A command from the console; returns the new mode and sets *now when a
 * pass is wanted at once. */
static enum mode command(const char *cmd, enum mode m, int *now)
{
	if (!strcmp(cmd, "pass"))
		*now = 1;
	else if (!strcmp(cmd, "hold"))
		m = HOLD;
	else if (!strcmp(cmd, "run"))
		m = PERIODIC;
	else if (!strcmp(cmd, "churn"))
		m = CHURN;
	else {
		say("ack unknown %s", cmd);
		return m;
	}
	say("ack %s", cmd);
	return m;
}

/* Read what the console has; returns 1 when a whole line is in @cmd. */
static int read_line(char *cmd, size_t cap, size_t *len)
{
	char c;
	ssize_t n = read(0, &c, 1);

	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			sleep(1);
		return -1;
	}
	if (c != '\n' && c != '\r') {
		if (*len < cap - 1)
			cmd[(*len)++] = c;
		return 0;
	}
	cmd[*len] = '\0';
	if (!*len)
		return 0;
	*len = 0;
	return 1;
}

/* Churn mode prints one line per second at most (the console is slow,
 * and a guest that waits for it is not writing its memory); a failure is
 * printed at once. */
struct tally {
	unsigned passes;
	uint64_t t0;
	struct verdict v;
};

static void run_and_report(unsigned n, enum mode m, struct tally *t)
{
	uint64_t start = now_ms();
	struct verdict v = run_pass();

	if (!t->passes)
		t->t0 = start;
	t->passes++;
	if (v.bad && !t->v.bad)
		t->v = v;
	if (m == CHURN && !t->v.bad && now_ms() - t->t0 < 1000)
		return;
	report(n, t->passes, &t->v, now_ms() - t->t0);
	memset(t, 0, sizeof(*t));
}

static void serve(enum mode m, long period)
{
	unsigned pass = 0;
	uint64_t next = now_ms() + (uint64_t)period * 1000u;
	char cmd[64];
	size_t cmdlen = 0;
	int run_now = m != HOLD;
	struct tally tally = { 0 };

	for (;;) {
		if (run_now || m == CHURN) {
			run_now = 0;
			run_and_report(++pass, m, &tally);
			next = now_ms() + (uint64_t)period * 1000u;
		}
		uint64_t t = now_ms();
		int timeout = m == HOLD ? -1 : m == CHURN ? 0 :
			      (next > t ? (int)(next - t) : 0);
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		int r = poll(&pfd, 1, timeout);

		if (r == 0) {
			run_now = m == PERIODIC;
			continue;
		}
		if (r < 0) {
			if (errno != EINTR)
				sleep(1);
			continue;
		}
		r = read_line(cmd, sizeof(cmd), &cmdlen);
		if (r < 0 && m == HOLD)
			m = PERIODIC; /* no console input: stay periodic */
		if (r == 1) {
			enum mode was = m;

			m = command(cmd, m, &run_now);
			if (was == CHURN && tally.passes)
				report(pass, tally.passes, &tally.v,
				       now_ms() - tally.t0);
			if (was == CHURN)
				memset(&tally, 0, sizeof(tally));
		}
	}
}

int main(int argc, char **argv)
{
	long mib = 0, period = 10, threads = 0;
	int hold = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = atol(argv[++i]);
		else if (!strcmp(argv[i], "--period") && i + 1 < argc)
			period = atol(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atol(argv[++i]);
		else if (!strcmp(argv[i], "--hold"))
			hold = 1;
		else {
			fprintf(stderr, "usage: %s [--mib N] [--period S] "
				"[--threads N] [--hold]\n", argv[0]);
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
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || threads > MAX_THREADS)
		threads = threads < 1 ? 1 : MAX_THREADS;

	W.pages = (size_t)mib * (1024 * 1024 / PAGE);
	W.mem = mmap(NULL, W.pages * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (W.mem == MAP_FAILED) {
		say("FAIL 0 mmap %ld MiB: %s", mib, strerror(errno));
		return 1;
	}
	uint64_t t0 = now_ms();
	for (size_t p = 0; p < W.pages; p++)
		for (size_t w = 0; w < WORDS; w++)
			W.mem[p * WORDS + w] = pattern(W.gen, p, w);
	start_workers((unsigned)threads);
	say("ready mib=%ld pages=%zu threads=%ld fill_ms=%" PRIu64, mib,
	    W.pages, threads, now_ms() - t0);
	serve(hold ? HOLD : PERIODIC, period);
	return 0;
}
