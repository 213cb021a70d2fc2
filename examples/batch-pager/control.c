/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control channel (control.h has the protocol): a listening Unix
 * socket and a few clients, polled by the event loop and served between
 * page-out batches. A relocate request runs xpage_relocate() at once;
 * the gfns refused because they are busy, or held in a page-out of the
 * pager's own (NOMINATED), are retried after each later batch until
 * they settle or CONTROL_RETRY_MS passes, then the reply goes out.
 */
#include "control.h"
#include "pager.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <limits.h>
#include <unistd.h>

#define CONTROL_CLIENTS 4

struct ctl_client {
	int fd;                  /* -1: free */
	char *line;              /* CONTROL_LINE_MAX bytes */
	size_t len;
	uint64_t *gfns;          /* the request in progress */
	int *st;
	size_t n;
	uint64_t since_ns;       /* 0: none in progress */
};

struct control {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client c[CONTROL_CLIENTS];
};

static void client_drop(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->since_ns = 0;
}

/* The socket @path, bound and listening (a stale one replaced). */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		goto fail;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		errno = EADDRINUSE; /* a live pager answers there */
		goto fail;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, CONTROL_CLIENTS) < 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

static const char *control_path(struct pager *p, char *buf, size_t len)
{
	if (p->o.control_path)
		return p->o.control_path;
	if (p->o.no_control || ((p->o.sim || p->o.sim_socket) &&
				!getenv("XPAGE_CONTROL_DIR")))
		return NULL;
	if (control_default_path(buf, len, p->domid, NULL) < 0)
		return NULL;
	/* the directory, only for its owner */
	{
		char dir[PATH_MAX];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", buf);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				return NULL;
		}
	}
	return buf;
}

void control_open(struct pager *p)
{
	char buf[PATH_MAX];
	const char *path = control_path(p, buf, sizeof(buf));
	struct control *ctl;
	int fd;

	if (!path)
		return;
	fd = listen_at(path);
	if (fd < 0) {
		warnx_("control channel %s: %s: relocation requests are not "
		       "served", path, strerror(errno));
		return;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		close(fd);
		return;
	}
	ctl->lfd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	p->ctl = ctl;
	dbg(p, "control channel at %s", path);
}

void control_close(struct pager *p)
{
	struct control *ctl = p->ctl;

	if (!ctl)
		return;
	for (int i = 0; i < CONTROL_CLIENTS; i++) {
		client_drop(&ctl->c[i]);
		free(ctl->c[i].line);
		free(ctl->c[i].gfns);
		free(ctl->c[i].st);
	}
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl);
	p->ctl = NULL;
}

int control_pollfds(const struct pager *p, struct pollfd *pf, int max)
{
	const struct control *ctl = p->ctl;
	int n = 0;

	if (!ctl || max < 1)
		return 0;
	pf[n++] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	/* a client whose request is in progress is not read meanwhile */
	for (int i = 0; i < CONTROL_CLIENTS && n < max; i++)
		if (ctl->c[i].fd >= 0 && !ctl->c[i].since_ns)
			pf[n++] = (struct pollfd){ .fd = ctl->c[i].fd,
						   .events = POLLIN };
	return n;
}

/* Write a whole reply, never waiting: a client that does not read it is
 * dropped. */
static void reply(struct ctl_client *c, const char *text, size_t len)
{
	ssize_t w = send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w != (ssize_t)len)
		client_drop(c);
}

static void reply_text(struct ctl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_text(struct ctl_client *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		reply(c, buf, (size_t)n < sizeof(buf) ? (size_t)n
						      : sizeof(buf) - 1);
}

/* "ok MOVED GFN=STATUS ..." */
static void reply_result(struct ctl_client *c)
{
	size_t cap = c->n * 32 + 32, len;
	char *buf = malloc(cap);
	int moved = 0;

	if (!buf) {
		reply_text(c, "error %d out of memory\n", ENOMEM);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		moved += c->st[i] == 0;
	len = (size_t)snprintf(buf, cap, "ok %d", moved);
	for (size_t i = 0; i < c->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, " 0x%llx=%d",
					(unsigned long long)c->gfns[i],
					c->st[i]);
	len += (size_t)snprintf(buf + len, cap - len, "\n");
	reply(c, buf, len);
	free(buf);
}

static bool retryable(int st)
{
	return st == -EBUSY || st == -EINVAL;
}

/* Relocate the request's gfns still to settle (all, the first time);
 * reply when none is left to retry, or the time is up. */
static void relocate_step(struct pager *p, struct ctl_client *c)
{
	uint64_t *g = calloc(c->n, sizeof(*g));
	int *st = malloc(c->n * sizeof(*st));
	size_t *at = malloc(c->n * sizeof(*at)), k = 0, left = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; g && st && at && i < c->n; i++)
		if (retryable(c->st[i])) {
			g[k] = c->gfns[i];
			at[k++] = i;
		}
	if (g && st && at)
		rc = xpage_relocate(p->xp, g, k, 0, st);
	for (size_t j = 0; rc >= 0 && j < k; j++) {
		c->st[at[j]] = st[j];
		left += retryable(st[j]);
	}
	free(g), free(st), free(at);
	if (rc < 0) {
		reply_text(c, "error %d %s\n", -rc, xpage_strerror(rc));
		c->since_ns = 0;
	} else if (!left || now_ns() - c->since_ns >
			    CONTROL_RETRY_MS * 1000000ull) {
		reply_result(c);
		c->since_ns = 0;
	}
	p->st.relocated += (uint64_t)(rc > 0 ? rc : 0);
}

/* "relocate GFN ...": the gfns into the client's request. */
static int parse_gfns(struct ctl_client *c, char *args)
{
	char *save = NULL;

	c->n = 0;
	for (char *t = strtok_r(args, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		char *end;

		if (c->n == CONTROL_MAX_GFNS)
			return -E2BIG;
		errno = 0;
		c->gfns[c->n] = strtoull(t, &end, 0);
		if (errno || end == t || *end)
			return -EINVAL;
		c->st[c->n++] = -EBUSY; /* to be tried */
	}
	return c->n ? 0 : -EINVAL;
}

static void handle_line(struct pager *p, struct ctl_client *c, char *line)
{
	int rc;

	if (!strcmp(line, "ping")) {
		reply_text(c, "pong %u\n", p->domid);
	} else if (!strncmp(line, "relocate ", 9)) {
		rc = parse_gfns(c, line + 9);
		if (rc < 0) {
			reply_text(c, "error %d bad gfn list\n", -rc);
			return;
		}
		c->since_ns = now_ns();
		relocate_step(p, c);
	} else {
		reply_text(c, "error %d unknown request\n", EINVAL);
	}
}

/* Read what the client sent; serve a complete line. */
static void read_client(struct pager *p, struct ctl_client *c)
{
	ssize_t r = recv(c->fd, c->line + c->len, CONTROL_LINE_MAX - 1 - c->len,
			 MSG_DONTWAIT);
	char *nl;

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		client_drop(c);
		return;
	}
	if (r < 0)
		return;
	c->len += (size_t)r;
	c->line[c->len] = '\0';
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->len >= CONTROL_LINE_MAX - 1) {
			reply_text(c, "error %d line too long\n", E2BIG);
			client_drop(c);
		}
		return;
	}
	*nl = '\0';
	handle_line(p, c, c->line);
	c->len = 0; /* one request at a time: the rest is dropped */
}

static void accept_new(struct control *ctl)
{
	int fd;

	while ((fd = accept4(ctl->lfd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct ctl_client *c = NULL;

		for (int i = 0; i < CONTROL_CLIENTS && !c; i++)
			if (ctl->c[i].fd < 0)
				c = &ctl->c[i];
		if (c && !c->line) {
			c->line = malloc(CONTROL_LINE_MAX);
			c->gfns = malloc(CONTROL_MAX_GFNS * sizeof(*c->gfns));
			c->st = malloc(CONTROL_MAX_GFNS * sizeof(*c->st));
		}
		if (!c || !c->line || !c->gfns || !c->st) {
			static const char busy[] = "error 16 busy\n";

			if (send(fd, busy, sizeof(busy) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to say */
			}
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
	}
}

void control_serve(struct pager *p)
{
	struct control *ctl = p->ctl;

	if (!ctl)
		return;
	accept_new(ctl);
	for (int i = 0; i < CONTROL_CLIENTS; i++) {
		struct ctl_client *c = &ctl->c[i];

		if (c->fd >= 0 && c->since_ns)
			relocate_step(p, c);
		else if (c->fd >= 0)
			read_client(p, c);
	}
}
