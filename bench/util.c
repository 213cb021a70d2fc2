/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Clocks, statistics, the simulated guest and the store file. */
#include "bench.h"

#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

bool bench_quiet;

/* The simulator this run started: stopped on any way out, so a failed or
 * interrupted run leaves no xpage-simd behind. */
static volatile pid_t sim_pid;

static void kill_sim(void)
{
	if (sim_pid > 0)
		kill(sim_pid, SIGTERM);
}

static void on_fatal(int sig)
{
	kill_sim();
	signal(sig, SIG_DFL);
	raise(sig);
}

void bench_own_sim(int pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS,
				    SIGFPE, SIGABRT, SIGILL };

	sim_pid = pid;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("xpage-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	kill_sim();
	exit(1);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (bench_quiet)
		return;
	fputs("  .. ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

void samples_reset(struct samples *s)
{
	s->n = 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double samples_pct(struct samples *s, double pct)
{
	size_t i;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	/* nearest rank */
	i = (size_t)(pct / 100.0 * (double)s->n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > s->n)
		i = s->n;
	return s->v[i - 1];
}

double samples_max(const struct samples *s)
{
	double m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] > m)
			m = s->v[i];
	return m;
}

double median3(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t warm_memory(uint64_t mib)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long avail_kib = 0;
	size_t len;
	void *p;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &avail_kib) == 1)
				break;
		fclose(f);
	}
	if (avail_kib && mib > avail_kib / 1024 / 3)
		mib = avail_kib / 1024 / 3;
	len = (size_t)mib << 20;
	if (!len)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	/* In huge pages where the kernel has them: large writes take large
	 * page-cache folios, which come from the high-order free lists, so
	 * those must be warm too, not only single pages. */
	madvise(p, len, MADV_HUGEPAGE);
	for (size_t off = 0; off < len; off += 4096)
		((volatile char *)p)[off] = 1;
	munmap(p, len);
	return mib;
}

uint64_t cpu_ns_self(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns_pid(int pid)
{
	char path[64], line[384];
	uint64_t sum = 0;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		unsigned long long run = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(line, sizeof(line), "%s/%s/schedstat", path, e->d_name);
		f = fopen(line, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			sum += run;
		fclose(f);
	}
	closedir(d);
	return sum;
}

uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

const char *fs_type(const char *path)
{
	struct statfs s;

	if (statfs(path, &s) < 0)
		return "unknown";
	switch ((unsigned long)s.f_type) {
	case 0xEF53: return "ext4";
	case 0x01021994: return "tmpfs";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x794c7630: return "overlayfs";
	case 0x2FC12FC1: return "zfs";
	case 0x6969: return "nfs";
	default: return "other";
	}
}

/* ------------------------------------------------------------------ */

void bguest_store_new(struct bench_env *env, struct bguest *g)
{
	if (g->fd >= 0) {
		close(g->fd);
		free(g->path);
	}
	if (asprintf(&g->path, "%s/xpage-bench-%d-%u.store", env->store_dir,
		     (int)getpid(), env->seq++) < 0)
		die("out of memory");
	g->fd = open(g->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (g->fd < 0)
		die("cannot create the store %s: %s", g->path, strerror(errno));
	/* Used through the descriptor only: nothing is left behind, however
	 * the run ends. */
	unlink(g->path);
	g->next_slot = 0;
	if (g->slot_of)
		madvise(g->slot_of, g->slot_of_len, MADV_DONTNEED);
}

/* Set while a handle closes with pages deliberately left out. */
static bool closing;

static void log_fn(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= XPAGE_LOG_WARN && !bench_quiet && !closing)
		fprintf(stderr, "  libxpage: %s\n", msg);
}

void bguest_open(struct bench_env *env, struct bguest *g, uint64_t pages,
		 bool lazy, const struct xpage_callbacks *cbs)
{
	struct xpage_sim_guest_opts go = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 1, .pages = pages, .seed = 42,
		.flags = lazy ? XPAGE_SIM_GUEST_LAZY : 0);
	struct xpage_open_opts oo;
	int d;

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->sim = env->sim;
	g->pages = pages;
	d = xpage_sim_create_guest(env->sim, &go);
	if (d < 0)
		die("cannot create a %llu-page guest: %s",
		    (unsigned long long)pages, xpage_strerror(d));
	g->domid = (uint32_t)d;
	g->cbs = *cbs;
	g->cbs.user = g;
	oo = XPAGE_OPTS(xpage_open_opts, .domid = g->domid,
			.backend = XPAGE_BACKEND_SIM,
			.sim_socket = xpage_sim_socket(env->sim),
			.features_wanted = XPAGE_FEAT_ALL,
			.log_fn = log_fn, .log_level = XPAGE_LOG_WARN);
	g->xp = xpage_open(&oo, &g->cbs);
	if (!g->xp)
		die("xpage_open on guest %u: %s", g->domid,
		    xpage_strerror(errno));
	g->slot_of_len = (size_t)pages * sizeof(*g->slot_of);
	g->slot_of = mmap(NULL, g->slot_of_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->slot_of == MAP_FAILED)
		die("out of memory");
	bguest_store_new(env, g);
}

void bguest_close(struct bench_env *env, struct bguest *g)
{
	if (g->xp) {
		/* Pages still out stay out: the guest goes next, and the
		 * library's warning about them is expected. */
		closing = true;
		xpage_close(g->xp);
		closing = false;
		g->xp = NULL;
	}
	xpage_sim_destroy_guest(env->sim, g->domid);
	if (g->fd >= 0)
		close(g->fd);
	free(g->path);
	if (g->slot_of)
		munmap(g->slot_of, g->slot_of_len);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}
