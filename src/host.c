/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host handle's life (xpage_host_open / xpage_host_close), its log,
 * and the checks at the entry of each call on it: one process, one
 * thread at a time, a live connection. The calls on frames are in
 * frame_ops.c.
 */
#include "host_backend.h"
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Overridden by xen_host.c when the library is built with Xen. */
__attribute__((weak)) const struct xp_host_ops *const xp_host_xen_ops;

static void vlog(const struct xpage_host *h, int level, const char *fmt,
		 va_list ap)
{
	if (h)
		xp_vlog_to(h->log_fn, h->log_ctx, h->log_level, level, fmt, ap);
}

void xp_host_log(const struct xpage_host *h, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(h, level, fmt, ap);
	va_end(ap);
}

/* The backends' logger: ctx is the handle. */
static void log_backend(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_backend(void *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, level, fmt, ap);
	va_end(ap);
}

/* Xen where the machine runs it (or where asked), else the simulator. */
static int open_backend(struct xpage_host *h, const struct xpage_host_opts *o)
{
	const char *sock = o->sim_socket ? o->sim_socket
					 : getenv("XPAGE_SIM_SOCKET");
	int rc;

	if (o->backend != XPAGE_BACKEND_SIM && xp_host_xen_ops) {
		h->ops = xp_host_xen_ops;
		rc = h->ops->open(&h->hb, NULL, log_backend, h);
		if (rc != -ENOENT || o->backend == XPAGE_BACKEND_XEN)
			return rc;
	} else if (o->backend == XPAGE_BACKEND_XEN) {
		xp_host_log(h, XPAGE_LOG_ERROR, "xpage_host_open: this libxpage "
			    "was built without the Xen backend");
		return -EOPNOTSUPP;
	}
	if (!sock) {
		xp_host_log(h, XPAGE_LOG_ERROR, "xpage_host_open: no Xen "
			    "hypervisor on this machine and no simulator "
			    "socket given (sim_socket or XPAGE_SIM_SOCKET)");
		return -ENOENT;
	}
	h->ops = &xp_host_sim;
	return h->ops->open(&h->hb, sock, log_backend, h);
}

XPAGE_API xpage_host_t *xpage_host_open(const struct xpage_host_opts *opts)
{
	struct xpage_host_opts o = XPAGE_OPTS(xpage_host_opts);
	struct xpage_host *h;
	int rc = 0;

	if (opts && (rc = xp_opts_valid(opts, sizeof(o), sizeof(o))) == 0)
		xp_opts_copy(&o, sizeof(o), opts);
	if (rc == 0 && (o.backend > XPAGE_BACKEND_SIM || o.flags))
		rc = -EINVAL;
	h = rc ? NULL : calloc(1, sizeof(*h));
	if (!h) {
		errno = rc ? -rc : ENOMEM;
		return NULL;
	}
	h->log_fn = o.log_fn;
	h->log_ctx = o.log_ctx;
	h->log_level = o.log_level;
	h->pid = getpid();
	rc = open_backend(h, &o);
	if (rc < 0) {
		xp_host_log(h, XPAGE_LOG_ERROR, "xpage_host_open: %s",
			    xpage_strerror(rc));
		free(h);
		errno = -rc;
		return NULL;
	}
	return h;
}

XPAGE_API void xpage_host_close(xpage_host_t *h)
{
	if (!h)
		return;
	if (h->pid == getpid())
		h->ops->close(h->hb);
	free(h);
}

int xp_host_enter(struct xpage_host *h)
{
	int idle = 0;

	if (h->pid != getpid())
		return -ECHILD;
	if (!__atomic_compare_exchange_n(&h->inside, &idle, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	if (h->ops->connection && h->ops->connection(h->hb) < 0) {
		xp_host_leave(h);
		return -EIO;
	}
	return 0;
}

void xp_host_leave(struct xpage_host *h)
{
	__atomic_store_n(&h->inside, 0, __ATOMIC_RELEASE);
}
