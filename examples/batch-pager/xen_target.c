/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Xen specifics the library does not cover: is this machine a Xen host,
 * and following xenstore's memory/target-tot_pages the way Xen's own
 * pager does (the value is in KiB; 0 means "page everything back in").
 * Built with the stable xenstore library when its header is there;
 * without it --follow-xenstore says so.
 */
#include "pager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool xen_present(void)
{
	return access("/dev/xen/privcmd", F_OK) == 0 ||
	       access("/proc/xen/privcmd", F_OK) == 0;
}

#ifdef HAVE_XENSTORE
#include <xenstore.h>

struct xen_target {
	struct xs_handle *xs;
	char *path;
};

static void read_target(struct pager *p)
{
	struct xen_target *t = p->xen;
	unsigned int len = 0;
	char *val = xs_read(t->xs, XBT_NULL, t->path, &len), *end;
	unsigned long long kib;

	if (!val)
		return; /* not set (yet) */
	errno = 0;
	kib = strtoull(val, &end, 10);
	if (errno || end == val) {
		warnx_("xenstore %s: not a number: %s", t->path, val);
		free(val);
		return;
	}
	free(val);
	if (kib == 0) {
		/* Xen's pager: no target means no paging */
		p->target = p->guest_pages;
	} else {
		p->target = kib / (XPAGE_PAGE_SIZE / 1024);
		if (p->target > p->guest_pages)
			p->target = p->guest_pages;
	}
	p->target_reached = false;
	say("target from xenstore: %llu pages", (unsigned long long)p->target);
}

int xen_target_follow(struct pager *p)
{
	struct xen_target *t = calloc(1, sizeof(*t));
	char *dom;

	if (!t)
		return -ENOMEM;
	p->xen = t;
	t->xs = xs_open(0);
	if (!t->xs) {
		errx_("--follow-xenstore: cannot open xenstore: %s",
		      strerror(errno));
		return -errno ? -errno : -EIO;
	}
	dom = xs_get_domain_path(t->xs, p->domid);
	if (!dom || asprintf(&t->path, "%s/memory/target-tot_pages", dom) < 0) {
		free(dom);
		t->path = NULL;
		errx_("--follow-xenstore: no xenstore path for domain %u",
		      p->domid);
		return -ENOENT;
	}
	free(dom);
	if (!xs_watch(t->xs, t->path, "target")) {
		errx_("--follow-xenstore: cannot watch %s: %s", t->path,
		      strerror(errno));
		return -errno ? -errno : -EIO;
	}
	read_target(p);
	return 0;
}

int xen_target_fd(const struct pager *p)
{
	return p->xen && p->xen->xs ? xs_fileno(p->xen->xs) : -1;
}

uint64_t xen_guest_pages(uint32_t domid)
{
	/* The guest's RAM as the toolstack set it (KiB); gfns past it or
	 * in holes are not RAM and are not counted as resident. */
	struct xs_handle *xs = xs_open(0);
	char *dom, *path = NULL, *val = NULL;
	unsigned int len;
	uint64_t pages = 0;

	if (!xs)
		return 0;
	dom = xs_get_domain_path(xs, domid);
	if (dom && asprintf(&path, "%s/memory/target", dom) >= 0)
		val = xs_read(xs, XBT_NULL, path, &len);
	else
		path = NULL;
	if (val)
		pages = strtoull(val, NULL, 10) / (XPAGE_PAGE_SIZE / 1024);
	free(val);
	free(path);
	free(dom);
	xs_close(xs);
	return pages;
}

void xen_target_event(struct pager *p)
{
	char **vec = xs_check_watch(p->xen->xs);

	while (vec) {
		free(vec);
		read_target(p);
		vec = xs_check_watch(p->xen->xs);
	}
}

void xen_target_fini(struct pager *p)
{
	struct xen_target *t = p->xen;

	if (!t)
		return;
	if (t->xs) {
		if (t->path)
			xs_unwatch(t->xs, t->path, "target");
		xs_close(t->xs);
	}
	free(t->path);
	free(t);
	p->xen = NULL;
}

#else /* !HAVE_XENSTORE */

int xen_target_follow(struct pager *p)
{
	(void)p;
	errx_("--follow-xenstore: this pager was built without the xenstore "
	      "library; give --target-mib or --target-pages");
	return -ENOTSUP;
}

int xen_target_fd(const struct pager *p)
{
	(void)p;
	return -1;
}

uint64_t xen_guest_pages(uint32_t domid)
{
	(void)domid;
	return 0;
}

void xen_target_event(struct pager *p)
{
	(void)p;
}

void xen_target_fini(struct pager *p)
{
	(void)p;
}

#endif
