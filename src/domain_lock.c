/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One pager per domain among the libxpage pagers of this machine.
 *
 * A takeover disables the ring it finds; if the pager that enabled it is
 * still running, that pager's loads fail from then on and the pages it
 * holds are lost. The hypervisor cannot tell whether the owner of a ring
 * is alive, so each handle holds a lock on its domain for its life: an
 * abstract UNIX socket name (no file to clean up) that the kernel frees
 * when the process holding it exits, however it exits. An open finding
 * the name taken refuses with -EBUSY before it touches anything.
 *
 * The name is per network namespace, and a pager that does not use
 * libxpage takes no lock: neither can be seen from here.
 */
#include "private.h"

#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int xp_domain_lock(struct xpage *xp)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char key[96];
	int fd, n;

	if (!xp->ops->domain_key ||
	    xp->ops->domain_key(xp->be, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "%s:%u", xp->ops->name, xp->domid);
	/* sun_path[0] = 0: the abstract namespace */
	n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
		     "libxpage/domain/%s", key);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			     (size_t)n)) < 0) {
		int e = errno;

		close(fd);
		if (e != EADDRINUSE)
			return -e;
		xp_log(xp, XPAGE_LOG_ERROR, "another libxpage pager holds "
		       "domain %u (a process of this machine that is still "
		       "running): it must exit or call xpage_detach() before "
		       "another pager may open or take over the domain",
		       xp->domid);
		return -EBUSY;
	}
	xp->lock_fd = fd;
	return 0;
}

void xp_domain_unlock(struct xpage *xp)
{
	if (xp->lock_fd >= 0)
		close(xp->lock_fd);
	xp->lock_fd = -1;
}
