/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mapping guest gfns for the pager (xpage_map, and the library's own
 * copies) without ever waiting for a page-in.
 *
 * libxenforeignmemory's Linux map retries, in a usleep loop, every gfn
 * the kernel reports ENOENT for (a gfn Xen holds paged out, or paging in
 * without its frame) until the gfn is back. Only the pager can bring it
 * back, and the pager is the thread that waits: mapping such a gfn would
 * never return. So the backend opens the privcmd device itself and issues
 * one IOCTL_PRIVCMD_MMAPBATCH_V2 per batch: the kernel maps every gfn it
 * can into the region, writes each gfn's own error (-ENOENT for a paging
 * state) and returns at once; a page it could not map stays a hole in the
 * region (touching it raises SIGBUS, and the core never hands it out).
 *
 * Where no privcmd device opens (not Linux, or an unusual dom0), maps go
 * through libxenforeignmemory, and the log says that a gfn being paged in
 * makes the map wait.
 */
#include "xen_backend.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/sys/privcmd.h>

/* The real privcmd calls (struct xp_xen_sys; tests replace them). */
int xp_xen_privcmd_open(void)
{
	int fd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fd = open("/proc/xen/privcmd", O_RDWR | O_CLOEXEC);
	return fd;
}

void *xp_xen_privcmd_mmap(int fd, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, 0);
}

int xp_xen_privcmd_mmapbatch(int fd, uint32_t domid, void *addr, size_t n,
			     const uint64_t *gfns, int *err)
{
	privcmd_mmapbatch_v2_t m = {
		.num = (unsigned int)n,
		.dom = (domid_t)domid,
		.addr = (uint64_t)(uintptr_t)addr,
		.arr = (const xen_pfn_t *)gfns, /* same size: xen_backend.h */
		.err = err,
	};

	return ioctl(fd, IOCTL_PRIVCMD_MMAPBATCH_V2, &m);
}

void xp_xen_map_open(struct xp_backend *be)
{
	be->privcmd_fd = be->sys->privcmd_open();
	if (be->privcmd_fd < 0)
		XLOG(be, XPAGE_LOG_WARN, "xen: no privcmd device (%s): gfns are "
		     "mapped through libxenforeignmemory, which waits for a gfn "
		     "being paged in instead of reporting it", strerror(errno));
}

void xp_xen_map_close(struct xp_backend *be)
{
	if (be->privcmd_fd >= 0)
		close(be->privcmd_fd);
	be->privcmd_fd = -1;
}

static void *xp_xen_map_fmem(struct xp_backend *be, const uint64_t *gfns,
			     size_t n, int prot, int *err)
{
	void *addr;

	errno = 0;
	addr = be->sys->fmem_map(be->fmem, be->domid, prot, n,
				 (const xen_pfn_t *)gfns, err);
	if (!addr && !errno)
		errno = EIO;
	return addr;
}

/* One mmapbatch for the batch; NULL with errno when the region could not
 * be made or the call failed as a whole (nothing stays mapped then). */
static void *xp_xen_map_privcmd(struct xp_backend *be, const uint64_t *gfns,
				size_t n, int prot, int *err)
{
	const struct xp_xen_sys *sys = be->sys;
	size_t len = n * XP_XEN_PAGE_SIZE;
	void *addr = sys->privcmd_mmap(be->privcmd_fd, len, prot);
	int e;

	if (addr == MAP_FAILED)
		return NULL;
	if (sys->privcmd_mmapbatch(be->privcmd_fd, be->domid, addr, n, gfns,
				   err) == 0 || errno == ENOENT)
		return addr; /* err[] holds each gfn's outcome */
	e = errno;
	sys->privcmd_munmap(addr, len);
	errno = e;
	return NULL;
}

void *xp_xen_map(struct xp_backend *be, const uint64_t *gfns, size_t n,
		 int prot, int *err)
{
	int *mine = NULL;
	void *addr;

	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (!err && !(err = mine = calloc(n, sizeof(*err)))) {
		errno = ENOMEM;
		return NULL;
	}
	if (be->privcmd_fd >= 0)
		addr = xp_xen_map_privcmd(be, gfns, n, prot, err);
	else
		addr = xp_xen_map_fmem(be, gfns, n, prot, err);
	if (addr)
		for (size_t i = 0; i < n; i++)
			if (err[i] > 0) /* some interfaces give errno, not -errno */
				err[i] = -err[i];
	free(mine);
	return addr;
}

int xp_xen_unmap(struct xp_backend *be, void *addr, size_t n)
{
	if (be->privcmd_fd >= 0)
		return xp_call_rc(be->sys->privcmd_munmap(addr,
					n * XP_XEN_PAGE_SIZE));
	return xp_call_rc(be->sys->fmem_unmap(be->fmem, addr, n));
}
