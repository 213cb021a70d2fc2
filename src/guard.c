/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may call a handle, checked at the entry of every public function
 * that takes one:
 *
 *   - the process that opened it: a child made by fork() shares the
 *     parent's ring, mappings and hypervisor connection, and anything it
 *     did would happen behind the parent's back (-ECHILD);
 *   - one thread at a time: a second thread entering while a call runs
 *     gets -EBUSY instead of a share of the conversation with the
 *     hypervisor; the thread inside may enter again (a callback calling
 *     the library, or the library calling its own entry points);
 *   - from inside a callback, only what <xpage/xpage.h> lists: dispatch,
 *     close and detach are refused (-EINVAL), since the handle is in use
 *     below the callback;
 *   - calls that need the hypervisor, only while the connection to it
 *     works (-EIO once the backend reports it gone).
 *
 * A fork is seen through a page that the kernel empties in the child
 * (MADV_WIPEONFORK), without a system call per entry; where the kernel
 * lacks that, the process id is compared.
 */
#include "private.h"

#include <sys/mman.h>
#include <unistd.h>

/* Its address is a token unique among the threads alive. */
static __thread char thread_token;

int xp_guard_init(struct xpage *xp)
{
	void *p = mmap(NULL, XPAGE_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	xp->pid = getpid();
	if (p == MAP_FAILED)
		return 0; /* the process id alone then */
	if (madvise(p, XPAGE_PAGE_SIZE, MADV_WIPEONFORK) < 0) {
		munmap(p, XPAGE_PAGE_SIZE);
		return 0;
	}
	*(volatile uint8_t *)p = 1;
	xp->fork_marker = p;
	return 0;
}

void xp_guard_fini(struct xpage *xp)
{
	if (xp->fork_marker)
		munmap((void *)xp->fork_marker, XPAGE_PAGE_SIZE);
	xp->fork_marker = NULL;
}

bool xp_forked(const struct xpage *xp)
{
	if (xp->fork_marker)
		return *xp->fork_marker == 0;
	return getpid() != xp->pid;
}

int xp_conn_error(const struct xpage *xp)
{
	if (!xp->be || !xp->ops->connection)
		return 0;
	return xp->ops->connection(xp->be);
}

int xp_enter(const struct xpage *cxp, unsigned need)
{
	struct xpage *xp = (struct xpage *)cxp; /* a heap object */
	uintptr_t me = (uintptr_t)&thread_token, none = 0;
	int rc;

	if (!xp)
		return -EINVAL;
	if (xp_forked(xp))
		return -ECHILD;
	if (__atomic_load_n(&xp->owner, __ATOMIC_ACQUIRE) == me) {
		if ((need & XP_NOT_IN_CALLBACK) && xp->in_dispatch)
			return -EINVAL;
		xp->depth++;
	} else if (__atomic_compare_exchange_n(&xp->owner, &none, me, false,
					       __ATOMIC_ACQUIRE,
					       __ATOMIC_RELAXED)) {
		xp->depth = 1;
	} else {
		return -EBUSY;
	}
	if ((need & XP_NEEDS_HV) && (rc = xp_conn_error(xp)) < 0) {
		xp_leave(xp);
		return rc;
	}
	return 0;
}

void xp_leave(const struct xpage *cxp)
{
	struct xpage *xp = (struct xpage *)cxp;

	if (--xp->depth == 0)
		__atomic_store_n(&xp->owner, 0, __ATOMIC_RELEASE);
}
