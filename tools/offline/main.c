/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-offline [--json] [--sim-socket PATH] MFN|MFN-MFN...
 *
 * Marks each frame offline (Xen offlines a free one at once and leaves
 * one a domain owns offline-pending), moves the guests that own pending
 * frames off them (xpage_relocate, through the domain's pager when one
 * holds it), then reports each frame's final state.
 */
#include "offline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
"usage: xpage-offline [--json] [--sim-socket PATH] [--control-dir DIR]\n"
"                     MFN|MFN-MFN...\n"
"\n"
"Takes machine frames out of service. A frame a running HVM/PVH guest\n"
"owns is moved off: the domain's pager does it when one holds the\n"
"domain (its control channel), else this program pages the gfn out and\n"
"back in itself. Reports each frame's final state.\n"
"  --json              one JSON document instead of lines\n"
"  --sim-socket PATH   the simulator's host instead of Xen's\n"
"  --control-dir DIR   where pagers' control sockets are\n"
"                      ($XPAGE_CONTROL_DIR, else /run/xpage)\n"
"  -v, --verbose       the library's log on stderr\n"
"Exit status: 0 when every frame is offlined, 1 when one is not, 2 on\n"
"bad arguments or when the host cannot be reached.\n");
}

/* "MFN" or "MFN-MFN" (hex with 0x, or decimal) appended to @f. */
static int parse_range(const char *arg, struct frame **f, size_t *n)
{
	char *end;
	uint64_t a, b;

	errno = 0;
	a = b = strtoull(arg, &end, 0);
	if (!errno && *end == '-')
		b = strtoull(end + 1, &end, 0);
	if (errno || end == arg || *end || b < a || b - a >= MAX_FRAMES ||
	    *n + (b - a + 1) > MAX_FRAMES) {
		fprintf(stderr, "xpage-offline: %s: expected MFN or MFN-MFN "
			"(at most %u frames in all)\n", arg, MAX_FRAMES);
		return -1;
	}
	*f = realloc(*f, (*n + (b - a + 1)) * sizeof(**f));
	if (!*f)
		return -1;
	for (uint64_t m = a; m <= b; m++)
		(*f)[(*n)++] = (struct frame){ .mfn = m, .moved = 1 };
	return 0;
}

static int parse(int argc, char **argv, struct tool_opts *o,
		 struct frame **f, size_t *n)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sim-socket", required_argument, NULL, 's' },
		{ "control-dir", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 's': o->sim_socket = optarg; break;
		case 'c': o->control_dir = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	for (int i = optind; i < argc; i++)
		if (parse_range(argv[i], f, n) < 0)
			return -1;
	if (!*n) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void log_stderr(void *ctx, int level, const char *msg)
{
	(void)ctx, (void)level;
	fprintf(stderr, "xpage-offline: %s\n", msg);
}

static xpage_host_t *host_open(const struct tool_opts *o)
{
	struct xpage_host_opts ho = XPAGE_OPTS(xpage_host_opts,
		.backend = o->sim_socket ? XPAGE_BACKEND_SIM : XPAGE_BACKEND_AUTO,
		.sim_socket = o->sim_socket, .log_fn = log_stderr,
		.log_level = o->verbose ? XPAGE_LOG_DEBUG : XPAGE_LOG_ERROR);
	xpage_host_t *h = xpage_host_open(&ho);

	if (!h)
		fprintf(stderr, "xpage-offline: the host's frames cannot be "
			"reached: %s\n", xpage_strerror(-errno));
	return h;
}

/* The frames' numbers, in an array of their own (NULL: no memory). */
static uint64_t *mfns_of(const struct frame *f, size_t n)
{
	uint64_t *m = calloc(n, sizeof(*m));

	for (size_t i = 0; m && i < n; i++)
		m[i] = f[i].mfn;
	return m;
}

/* Each frame's query into its info; -1 when the call failed (said). */
static int query(xpage_host_t *h, struct frame *f, size_t n)
{
	uint64_t *m = mfns_of(f, n);
	struct xpage_frame_info *fi = calloc(n, sizeof(*fi));
	int rc = -ENOMEM;

	if (m && fi) {
		fi[0].sz = sizeof(*fi);
		rc = xpage_frame_query(h, m, n, fi);
		for (size_t i = 0; rc >= 0 && i < n; i++)
			f[i].info = fi[i];
	}
	if (rc < 0)
		fprintf(stderr, "xpage-offline: query: %s\n",
			xpage_strerror(rc));
	free(m);
	free(fi);
	return rc < 0 ? -1 : 0;
}

/* Mark every frame offline; -1 when the call failed (said). */
static int mark(xpage_host_t *h, struct frame *f, size_t n)
{
	uint64_t *m = mfns_of(f, n);
	int *st = malloc(n * sizeof(*st));
	int rc = -ENOMEM;

	if (m && st) {
		rc = xpage_frame_offline(h, m, n, 0, st);
		for (size_t i = 0; rc >= 0 && i < n; i++)
			f[i].marked = st[i];
	}
	if (rc < 0)
		fprintf(stderr, "xpage-offline: offline: %s\n",
			xpage_strerror(rc));
	free(m);
	free(st);
	return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct tool_opts o = { .json = false };
	struct frame *f = NULL;
	size_t n = 0;
	xpage_host_t *h;
	int rc = 2;

	if (parse(argc, argv, &o, &f, &n) < 0)
		return 2;
	h = host_open(&o);
	if (h && mark(h, f, n) == 0 && query(h, f, n) == 0) {
		move_frames(&o, f, n);
		if (query(h, f, n) == 0) {
			report(&o, f, n);
			rc = all_offlined(f, n) ? 0 : 1;
		}
	}
	xpage_host_close(h);
	free(f);
	return rc;
}
