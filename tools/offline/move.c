/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moving guests off pending frames, one domain at a time: with a handle
 * of our own (xpage_open, xpage_relocate, xpage_close) when no pager
 * holds the domain, else through that pager's control channel
 * (examples/batch-pager/control.h), since the library refuses a second
 * pager a domain (-EBUSY).
 */
#include "offline.h"
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <time.h>

/* One domain's move: its gfns, each one's answer, and why it stopped. */
struct dom_move {
	uint32_t domid;
	uint64_t *gfns;
	int *st;
	size_t k;
	const char *how;
	char why[160];
};

/* A frame to move: pending because a guest (not dom0) owns it, its gfn
 * known. */
static bool movable(const struct frame *f)
{
	return f->marked == -EAGAIN &&
	       f->info.state == XPAGE_FRAME_OFFLINE_PENDING &&
	       f->info.owner != 0 && f->info.owner < 0x7ff0u &&
	       f->info.gfn != XPAGE_GFN_INVALID;
}

static void cb_populate(xpage_t *xp, const struct xpage_populate *ev,
			void *user)
{
	(void)xp, (void)ev, (void)user; /* this handle pages nothing out */
}

/* A sentence into @buf, cut to fit. */
static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void cb_log(void *ctx, int level, const char *msg)
{
	struct dom_move *d = ctx;

	if (level <= XPAGE_LOG_WARN)
		say(d->why, sizeof(d->why), "%s", msg);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Relocate with our own handle, retrying refused gfns for a while after
 * the notices that settle them. */
static void relocate_own(xpage_t *xp, struct dom_move *d)
{
	uint64_t end = ms_now() + 3000;
	uint64_t *g = calloc(d->k, sizeof(*g));
	int *st = malloc(d->k * sizeof(*st));
	size_t *at = malloc(d->k * sizeof(*at));

	for (size_t i = 0; i < d->k; i++)
		d->st[i] = -EBUSY;
	while (g && st && at && ms_now() < end) {
		size_t k = 0;
		int rc;

		for (size_t i = 0; i < d->k; i++)
			if (d->st[i] == -EBUSY) {
				g[k] = d->gfns[i];
				at[k++] = i;
			}
		if (!k || (rc = xpage_relocate(xp, g, k, 0, st)) < 0)
			break;
		for (size_t j = 0; j < k; j++)
			d->st[at[j]] = st[j];
		while (xpage_dispatch(xp, 20) > 0)
			;
	}
	free(g), free(st), free(at);
}

/* "ok N 0xG=S ...": each gfn's status into d->st. */
static void parse_reply(struct dom_move *d, char *line)
{
	char *save = NULL, *t = strtok_r(line, " \n", &save);

	if (!t || strcmp(t, "ok")) {
		say(d->why, sizeof(d->why), "the pager answered: %s",
			 t ? line : "nothing");
		return;
	}
	strtok_r(NULL, " \n", &save); /* the count */
	while ((t = strtok_r(NULL, " \n", &save))) {
		char *eq = strchr(t, '=');
		uint64_t g = strtoull(t, NULL, 0);

		for (size_t i = 0; eq && i < d->k; i++)
			if (d->gfns[i] == g)
				d->st[i] = atoi(eq + 1);
	}
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

/* One request of @k gfns from @first, its reply line into @buf. */
static int exchange(int fd, const uint64_t *g, size_t k, char *buf,
		    size_t cap)
{
	size_t len = (size_t)snprintf(buf, cap, "relocate");
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	uint64_t end = ms_now() + CONTROL_RETRY_MS + 10000;
	size_t got = 0;

	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(buf + len, cap - len, " 0x%llx",
					(unsigned long long)g[i]);
	buf[len++] = '\n';
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	while (!memchr(buf, '\n', got) && got < cap - 1) {
		ssize_t r;
		uint64_t now = ms_now();

		if (now >= end || poll(&pf, 1, (int)(end - now)) <= 0)
			return -ETIMEDOUT;
		r = recv(fd, buf + got, cap - 1 - got, 0);
		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return 0;
}

/* Ask the pager that holds the domain, CONTROL_MAX_GFNS at a time. */
static void ask_pager(const struct tool_opts *o, struct dom_move *d)
{
	char path[256];
	char *buf = malloc(CONTROL_LINE_MAX);
	int fd = -1, rc = -ENOMEM;

	for (size_t i = 0; i < d->k; i++)
		d->st[i] = -EBUSY;
	d->how = "pager";
	if (control_default_path(path, sizeof(path), d->domid,
				 o->control_dir) == 0 && buf)
		fd = connect_to(path);
	for (size_t i = 0; fd >= 0 && i < d->k; i += CONTROL_MAX_GFNS) {
		size_t k = d->k - i < CONTROL_MAX_GFNS ? d->k - i
						       : CONTROL_MAX_GFNS;

		rc = exchange(fd, d->gfns + i, k, buf, CONTROL_LINE_MAX);
		if (rc < 0)
			break;
		parse_reply(d, buf);
	}
	if (fd < 0)
		say(d->why, sizeof(d->why), "a pager holds domain %u and "
			 "takes no requests at %s (%s)", d->domid, path,
			 strerror(errno));
	else if (rc < 0)
		say(d->why, sizeof(d->why), "the pager of domain %u did "
			 "not answer: %s", d->domid, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* Open the domain ourselves and move its gfns; a pager holding it gets
 * the request instead. */
static void move_domain(const struct tool_opts *o, struct dom_move *d)
{
	struct xpage_open_opts oo = XPAGE_OPTS(xpage_open_opts,
		.domid = d->domid,
		.backend = o->sim_socket ? XPAGE_BACKEND_SIM : XPAGE_BACKEND_AUTO,
		.sim_socket = o->sim_socket, .ages = XPAGE_AGES_ALL,
		.log_fn = cb_log, .log_ctx = d, .log_level = XPAGE_LOG_WARN);
	struct xpage_callbacks cb = XPAGE_OPTS(xpage_callbacks,
		.populate = cb_populate);
	xpage_t *xp = xpage_open(&oo, &cb);
	int err = xp ? 0 : -errno;

	if (err == -EBUSY) {
		ask_pager(o, d);
		return;
	}
	d->how = "handle";
	if (!xp) {
		char said[160];

		snprintf(said, sizeof(said), "%s", d->why);
		say(d->why, sizeof(d->why), "domain %u cannot be paged: "
			 "%s%s%s", d->domid, xpage_strerror(err),
			 said[0] ? ": " : "", said);
		for (size_t i = 0; i < d->k; i++)
			d->st[i] = err;
		return;
	}
	relocate_own(xp, d);
	xpage_close(xp);
}

/* The frames of domain @domid still to move, from @first on. */
static size_t gather(struct frame *f, size_t n, size_t first,
		     struct dom_move *d, size_t *idx)
{
	d->k = 0;
	for (size_t i = first; i < n; i++)
		if (movable(&f[i]) && f[i].moved == 1 &&
		    f[i].info.owner == d->domid) {
			d->gfns[d->k] = f[i].info.gfn;
			idx[d->k++] = i;
		}
	return d->k;
}

void move_frames(const struct tool_opts *o, struct frame *f, size_t n)
{
	struct dom_move d = { .gfns = malloc(n * sizeof(uint64_t)),
			      .st = malloc(n * sizeof(int)) };
	size_t *idx = malloc(n * sizeof(*idx));

	for (size_t i = 0; d.gfns && d.st && idx && i < n; i++) {
		if (!movable(&f[i]) || f[i].moved != 1)
			continue;
		d.domid = f[i].info.owner;
		d.why[0] = '\0';
		gather(f, n, i, &d, idx);
		move_domain(o, &d);
		for (size_t j = 0; j < d.k; j++) {
			f[idx[j]].owner = d.domid;
			f[idx[j]].gfn = d.gfns[j];
			f[idx[j]].moved = d.st[j];
			f[idx[j]].how = d.how;
			say(f[idx[j]].why, sizeof(f[idx[j]].why), "%s", d.why);
		}
	}
	free(d.gfns), free(d.st), free(idx);
}
