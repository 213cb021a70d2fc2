/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fuzz targets' hostile hypervisor; see fuzz_backend.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_backend.h"

struct fuzz_hv hv;



struct xp_backend { int dummy; };
static struct xp_backend the_be;

static int b_open(struct xp_backend **be, uint32_t domid, const char *arg,
		  xp_backend_log_fn log, void *ctx)
{
	(void)domid; (void)arg; (void)log; (void)ctx;
	*be = &the_be;
	return 0;
}
static void b_close(struct xp_backend *be) { (void)be; }
static int b_info(struct xp_backend *be, struct xp_dominfo *i)
{
	(void)be;
	memset(i, 0, sizeof(*i));
	i->vcpus = hv.vcpus;
	i->nr_gfns = hv.nr_gfns;
	i->hvm = 1;
	return 0;
}
static int b_version(struct xp_backend *be, uint32_t *ma, uint32_t *mi)
{
	(void)be;
	*ma = 4;
	*mi = hv.minor;
	return 0;
}
static int b_vmev(struct xp_backend *be, uint32_t *v)
{
	(void)be;
	if (hv.vmev < 0)
		return -ENOSYS;
	*v = (uint32_t)hv.vmev;
	return 0;
}
static int b_age(struct xp_backend *be, uint32_t *a)
{
	(void)be;
	if (!hv.age)
		return -ENOSYS;
	*a = (uint32_t)hv.age;
	return 0;
}
static int b_mc(struct xp_backend *be) { (void)be; return hv.multicall; }
static int b_enable(struct xp_backend *be, uint32_t age, void **ring)
{
	(void)be; (void)age;
	memset(hv.ring, 0, 4096);
	hv.enabled = true;
	*ring = hv.ring;
	return 0;
}
static int b_disable(struct xp_backend *be)
{
	(void)be;
	hv.enabled = false;
	return 0;
}
static void b_forget(struct xp_backend *be) { (void)be; }
static int b_pause(struct xp_backend *be) { (void)be; return 0; }
static int b_unpause(struct xp_backend *be) { (void)be; return 0; }
static int b_ops(struct xp_backend *be, struct xp_paging_op *ops, size_t n)
{
	(void)be;
	for (size_t i = 0; i < n; i++) {
		uint8_t r = hv.refuse[ops[i].gfn & 255];

		ops[i].rc = r == 0 ? 0 : r == 1 ? -EBUSY : r == 2 ? -ENOMEM :
			    r == 3 ? -ENOENT : r == 4 ? -EINVAL : 0;
		if (ops[i].op == XP_PAGING_PREP && ops[i].buf) {
			/* the hypervisor reads the whole page */
			volatile const uint8_t *b = ops[i].buf;

			(void)b[0];
			(void)b[4095];
		}
	}
	return hv.multicall ? 1 : (int)n;
}
static void *b_map(struct xp_backend *be, const uint64_t *g, size_t n,
		   int prot, int *err)
{
	void *p;

	(void)be; (void)prot;
	p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < n; i++)
		err[i] = hv.refuse[g[i] & 255] == 3 ? -ENOENT : 0;
	return p;
}
static int b_unmap(struct xp_backend *be, void *a, size_t n)
{
	(void)be;
	return munmap(a, n * 4096);
}
static int b_fd(struct xp_backend *be) { (void)be; return hv.evt[0]; }
static int b_notify(struct xp_backend *be) { (void)be; return 0; }
static int b_ack(struct xp_backend *be)
{
	char buf[64];

	(void)be;
	while (read(hv.evt[0], buf, sizeof(buf)) > 0)
		;
	return 0;
}

const struct xp_backend_ops fuzz_ops = {
	.name = "fuzz", .open = b_open, .close = b_close,
	.domain_info = b_info, .xen_version = b_version,
	.vm_event_version = b_vmev, .paging_age = b_age,
	.can_multicall = b_mc, .enable = b_enable, .disable = b_disable,
	.forget = b_forget, .pause = b_pause, .unpause = b_unpause,
	.paging_ops = b_ops, .map = b_map, .unmap = b_unmap,
	.evtchn_fd = b_fd, .notify = b_notify, .ack = b_ack,
};

void fuzz_hv_init(void)
{
	if (hv.ring)
		return;
	hv.ring = malloc(4096);
	if (!hv.ring || pipe2(hv.evt, O_NONBLOCK | O_CLOEXEC) < 0)
		abort();
}
