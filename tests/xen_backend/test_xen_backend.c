/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Xen backend without a hypervisor: the libxenctrl loader against fake
 * builds of each release shape (fake_xenctrl.c, paths in $FAKEXC_*), and
 * the backend ops with the stable tool libraries replaced through
 * xp_xen_set_sys(), so the ORDER of the enable sequence and its undo path
 * can be checked call by call. check forks each test: state never leaks.
 */
/* xen_backend.h first: its xenctrl.h sets up Xen's tool-only headers */
#include "xen_backend.h"
#include <check.h>
#include "checkrun.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host_backend.h"
#include "private.h"
#include "xenctrl_loader.h"

/* ------------------------------------------------------------------------ */
/* The fake libxenctrl's control functions                                  */

static struct {
	void *dl;
	void (*set)(const char *key, long val);
	long (*get)(const char *key);
	void (*add)(const char *fmt, ...);
	const char *(*log)(void);
	void (*reset)(void);
} F;

static const char *fake_path(const char *var)
{
	const char *p = getenv(var);

	ck_assert_msg(p && p[0], "%s not set (run through meson test)", var);
	return p;
}

/* Point the loader at the fake named by $var and reach its controls. */
static void use_fake(const char *var)
{
	const char *path = fake_path(var);

	setenv("XPAGE_XENCTRL", path, 1);
	F.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(F.dl, "%s", dlerror());
	*(void **)&F.set = dlsym(F.dl, "fake_set");
	*(void **)&F.get = dlsym(F.dl, "fake_get");
	*(void **)&F.add = dlsym(F.dl, "fake_log_add");
	*(void **)&F.log = dlsym(F.dl, "fake_log");
	*(void **)&F.reset = dlsym(F.dl, "fake_log_reset");
	ck_assert(F.set && F.get && F.add && F.log && F.reset);
}

#define ck_calls(expect) ck_assert_str_eq(F.log(), (expect))

/* ------------------------------------------------------------------------ */
/* Fake stable libraries (libxenevtchn, libxenforeignmemory, libxencall)    */

static int evtchn_pipe[2] = { -1, -1 };
static int dummy_xce, dummy_fmem, dummy_xcall;
static void *ring_page;
static int nr_fmem_open, nr_xcall_open, nr_buffers;
/* Set before open_fake(): the handle then finds no libxencall (one trap
 * per paging op) or no privcmd device (maps through fmem). */
static int no_xcall, no_privcmd;

static int fk_xen_present(void) { return 1; }

static xenevtchn_handle *fk_evtchn_open(struct xentoollog_logger *l,
					unsigned int f)
{
	(void)l, (void)f;
	F.add("evtchn_open");
	if (F.get("errno_evtchn_open")) {
		errno = (int)F.get("errno_evtchn_open");
		return NULL;
	}
	ck_assert_int_eq(pipe(evtchn_pipe), 0);
	return (xenevtchn_handle *)&dummy_xce;
}

static int fk_evtchn_close(xenevtchn_handle *x)
{
	ck_assert_ptr_eq(x, (void *)&dummy_xce);
	F.add("evtchn_close");
	close(evtchn_pipe[0]);
	close(evtchn_pipe[1]);
	evtchn_pipe[0] = evtchn_pipe[1] = -1;
	return 0;
}

static int fk_evtchn_fd(xenevtchn_handle *x)
{
	(void)x;
	return evtchn_pipe[0];
}

static int fk_evtchn_notify(xenevtchn_handle *x, evtchn_port_t p)
{
	(void)x;
	F.add("notify:%u", p);
	return 0;
}

static xenevtchn_port_or_error_t fk_evtchn_bind(xenevtchn_handle *x,
						 uint32_t dom,
						 evtchn_port_t remote)
{
	(void)x;
	ck_assert_uint_eq(dom, (uint32_t)F.get("domid"));
	F.add("bind:%u", remote);
	if (F.get("errno_bind")) {
		errno = (int)F.get("errno_bind");
		return -1;
	}
	return 42;
}

static int fk_evtchn_unbind(xenevtchn_handle *x, evtchn_port_t p)
{
	(void)x;
	F.add("unbind:%u", p);
	return 0;
}

static xenevtchn_port_or_error_t fk_evtchn_pending(xenevtchn_handle *x)
{
	char c;

	(void)x;
	/* Blocks like the real one when nothing is pending. */
	if (read(evtchn_pipe[0], &c, 1) != 1)
		return -1;
	return 42;
}

static int fk_evtchn_unmask(xenevtchn_handle *x, evtchn_port_t p)
{
	(void)x;
	F.add("unmask:%u", p);
	return 0;
}

static xenforeignmemory_handle *fk_fmem_open(struct xentoollog_logger *l,
					     unsigned int f)
{
	(void)l, (void)f;
	if (F.get("errno_fmem_open")) {
		errno = (int)F.get("errno_fmem_open");
		return NULL;
	}
	nr_fmem_open++;
	return (xenforeignmemory_handle *)&dummy_fmem;
}

static int fk_fmem_close(xenforeignmemory_handle *h)
{
	ck_assert_ptr_eq(h, (void *)&dummy_fmem);
	nr_fmem_open--;
	return 0;
}

/* The ring gfn maps only while it is in the physmap; a fresh ring page is
 * filled with 0xa5 so a test can see nobody initialised it. Other gfns:
 * 13 is in a paging state (Linux reports -ENOENT), 14 gives the positive
 * errno libxenforeignmemory's comment documents. */
static void *fk_fmem_map(xenforeignmemory_handle *h, uint32_t dom, int prot,
			 size_t n, const xen_pfn_t arr[], int err[])
{
	void *p;
	size_t i;

	ck_assert_ptr_eq(h, (void *)&dummy_fmem);
	ck_assert_uint_eq(dom, (uint32_t)F.get("domid"));
	if (n == 1 && arr[0] == (xen_pfn_t)F.get("ring_gfn")) {
		F.add("map_ring");
		ck_assert_int_eq(prot, PROT_READ | PROT_WRITE);
		ck_assert_ptr_nonnull(err);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert_ptr_ne(p, MAP_FAILED);
		memset(p, 0xa5, 4096);
		err[0] = F.get("ring_present") ? 0 : -EFAULT;
		ring_page = p;
		return p;
	}
	F.add("map:%zu", n);
	if (F.get("errno_map")) {
		errno = (int)F.get("errno_map");
		return NULL;
	}
	p = mmap(NULL, n * 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	for (i = 0; i < n; i++)
		err[i] = arr[i] == 13 ? -ENOENT : arr[i] == 14 ? EPERM : 0;
	return p;
}

static int fk_fmem_unmap(xenforeignmemory_handle *h, void *addr, size_t n)
{
	ck_assert_ptr_eq(h, (void *)&dummy_fmem);
	if (addr == ring_page && n == 1) {
		F.add("unmap_ring");
		ring_page = NULL;
	} else {
		F.add("unmap:%zu", n);
	}
	return munmap(addr, n * 4096);
}

static xencall_handle *fk_call_open(struct xentoollog_logger *l,
				    unsigned int f)
{
	(void)l, (void)f;
	if (no_xcall) {
		errno = ENOENT;
		return NULL;
	}
	nr_xcall_open++;
	return (xencall_handle *)&dummy_xcall;
}

static int fk_call_close(xencall_handle *x)
{
	(void)x;
	nr_xcall_open--;
	return 0;
}

static void *fk_call_alloc_buffer(xencall_handle *x, size_t size)
{
	void *p;

	(void)x;
	size = (size + 4095) & ~(size_t)4095;
	p = aligned_alloc(4096, size);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, size);
	nr_buffers++;
	return p;
}

static void fk_call_free_buffer(xencall_handle *x, void *p)
{
	(void)x;
	free(p);
	nr_buffers--;
}

/* What the fake hypervisor saw in multicalls. */
#define SEEN_MAX 1024
static struct {
	unsigned calls;
	unsigned n;
	uint8_t op[SEEN_MAX];
	uint16_t dom[SEEN_MAX];
	uint64_t gfn[SEEN_MAX];
	int byte[SEEN_MAX]; /* first byte of the prep buffer, -1 if none */
	const void *buffer[SEEN_MAX];
} seen;

static int fk_call2(xencall_handle *x, unsigned int op, uint64_t a1,
		    uint64_t a2)
{
	struct xp_xen_multicall_entry *e = (void *)(uintptr_t)a1;
	uint64_t i;

	(void)x;
	ck_assert_uint_eq(op, 13);
	F.add("multicall:%llu", (unsigned long long)a2);
	if (F.get("errno_multicall")) {
		errno = (int)F.get("errno_multicall");
		return -1;
	}
	seen.calls++;
	for (i = 0; i < a2; i++) {
		struct xp_xen_mem_paging_op *mpo;
		unsigned k = seen.n++;

		ck_assert_uint_lt(k, SEEN_MAX);
		ck_assert_uint_eq(e[i].op, 12);
		ck_assert_uint_eq(e[i].args[0], 20);
		mpo = (void *)(uintptr_t)e[i].args[1];
		seen.op[k] = mpo->op;
		seen.dom[k] = mpo->domain;
		seen.gfn[k] = mpo->gfn;
		seen.buffer[k] = (const void *)(uintptr_t)mpo->buffer;
		seen.byte[k] = mpo->buffer ? *(const unsigned char *)seen.buffer[k]
					   : -1;
		e[i].result = (long)mpo->gfn == F.get("fail_gfn")
				      ? (uint64_t)(long)-EBUSY
				      : 0;
	}
	return 0;
}

/* Guest pages with contents (page tables for a walk); others read 0. */
#define GUEST_PAGES 12
static struct { uint64_t gfn; uint64_t e[512]; } guest[GUEST_PAGES];

static uint64_t *guest_page(uint64_t gfn)
{
	for (unsigned i = 0; i < GUEST_PAGES; i++)
		if (guest[i].gfn == gfn)
			return guest[i].e;
	for (unsigned i = 0; i < GUEST_PAGES; i++)
		if (!guest[i].gfn) {
			guest[i].gfn = gfn;
			return guest[i].e;
		}
	ck_abort_msg("more than %d guest pages", GUEST_PAGES);
	return NULL;
}

/* The privcmd device: a real fd (of /dev/null) so the backend can close
 * it; regions are anonymous memory, filled from guest[]; gfn 13 is in a
 * paging state (the kernel reports -ENOENT for it and ENOENT for the
 * call), 14 refused. */
static int fk_privcmd_open(void)
{
	int fd;

	if (no_privcmd) {
		errno = ENOENT;
		return -1;
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void *fk_privcmd_mmap(int fd, size_t len, int prot)
{
	(void)fd;
	F.add("region:%zu", len / 4096);
	if (F.get("errno_region")) {
		errno = (int)F.get("errno_region");
		return MAP_FAILED;
	}
	(void)prot; /* writable: mmapbatch fills it */
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static int fk_privcmd_mmapbatch(int fd, uint32_t dom, void *addr, size_t n,
				const uint64_t *gfns, int *err)
{
	int enoent = 0;

	(void)fd;
	ck_assert_uint_eq(dom, (uint32_t)F.get("domid"));
	F.add("mmapbatch:%zu", n);
	if (F.get("errno_mmapbatch")) {
		errno = (int)F.get("errno_mmapbatch");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		err[i] = gfns[i] == 13 ? -ENOENT : gfns[i] == 14 ? -EPERM : 0;
		enoent |= err[i] == -ENOENT;
		for (unsigned j = 0; j < GUEST_PAGES; j++)
			if (guest[j].gfn && guest[j].gfn == gfns[i])
				memcpy((char *)addr + i * 4096, guest[j].e,
				       4096);
	}
	if (enoent) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int fk_privcmd_munmap(void *addr, size_t len)
{
	F.add("unregion:%zu", len / 4096);
	return munmap(addr, len);
}

static const struct xp_xen_sys fake_sys = {
	.xen_present = fk_xen_present,
	.evtchn_open = fk_evtchn_open,
	.evtchn_close = fk_evtchn_close,
	.evtchn_fd = fk_evtchn_fd,
	.evtchn_notify = fk_evtchn_notify,
	.evtchn_bind_interdomain = fk_evtchn_bind,
	.evtchn_unbind = fk_evtchn_unbind,
	.evtchn_pending = fk_evtchn_pending,
	.evtchn_unmask = fk_evtchn_unmask,
	.fmem_open = fk_fmem_open,
	.fmem_close = fk_fmem_close,
	.fmem_map = fk_fmem_map,
	.fmem_unmap = fk_fmem_unmap,
	.call_open = fk_call_open,
	.call_close = fk_call_close,
	.call_alloc_buffer = fk_call_alloc_buffer,
	.call_free_buffer = fk_call_free_buffer,
	.call2 = fk_call2,
	.privcmd_open = fk_privcmd_open,
	.privcmd_mmap = fk_privcmd_mmap,
	.privcmd_mmapbatch = fk_privcmd_mmapbatch,
	.privcmd_munmap = fk_privcmd_munmap,
};

/* ------------------------------------------------------------------------ */
/* The log function given to open                                           */

static char logbuf[16384];

static void test_log(void *ctx, int level, const char *fmt, ...)
{
	size_t len = strlen(logbuf);
	va_list ap;

	(void)ctx;
	if (len >= sizeof(logbuf) - 8)
		return;
	len += snprintf(logbuf + len, sizeof(logbuf) - len, "[%d] ", level);
	va_start(ap, fmt);
	len += vsnprintf(logbuf + len, sizeof(logbuf) - len, fmt, ap);
	va_end(ap);
	if (len < sizeof(logbuf) - 1)
		strcat(logbuf, "\n");
}

static const struct xp_backend_ops *X;

static struct xp_backend *open_fake(const char *var)
{
	struct xp_backend *be = NULL;
	int rc;

	use_fake(var);
	xp_xen_set_sys(&fake_sys);
	X = xp_backend_xen_ops;
	ck_assert_ptr_nonnull(X);
	rc = X->open(&be, (uint32_t)F.get("domid"), NULL, test_log, NULL);
	ck_assert_msg(rc == 0, "open: %d\n%s", rc, logbuf);
	ck_assert_ptr_nonnull(be);
	F.reset();
	return be;
}

/* With the fake's errno @key set to @err, enable fails with -@err after
 * exactly the libxenctrl and tool library calls @calls; returns what
 * enable left in its ring argument (set to (void *)1 before). */
static void *enable_fails(struct xp_backend *be, const char *key, int err,
			  const char *calls)
{
	void *ring = (void *)1;

	F.set(key, err);
	ck_assert_int_eq(X->enable(be, 0, &ring), -err);
	ck_calls(calls);
	return ring;
}

/* The 4.17 fake, open, with paging enabled (the ring in @ring); the call
 * log starts after the enable. */
static struct xp_backend *open_enabled(void **ring)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");

	ck_assert_int_eq(X->enable(be, 0, ring), 0);
	F.reset();
	return be;
}

static void close_and_check(struct xp_backend *be)
{
	X->close(be);
	no_xcall = no_privcmd = 0;
	ck_assert_int_eq(F.get("xch_open"), 0);
	ck_assert_int_eq(nr_fmem_open, 0);
	ck_assert_int_eq(nr_xcall_open, 0);
	ck_assert_int_eq(nr_buffers, 0);
	ck_assert_ptr_null(ring_page);
}

/* ------------------------------------------------------------------------ */
/* Loader                                                                   */

START_TEST(loader_4_17)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load(fake_path("FAKEXC_4_17"), &x, why,
					 sizeof(why)), 0);
	ck_assert_ptr_nonnull(x.interface_open);
	ck_assert_ptr_nonnull(x.interface_close);
	ck_assert_ptr_nonnull(x.version);
	ck_assert_ptr_nonnull(x.mem_paging_enable);
	ck_assert_ptr_nonnull(x.mem_paging_disable);
	ck_assert_ptr_nonnull(x.mem_paging_nominate);
	ck_assert_ptr_nonnull(x.mem_paging_evict);
	ck_assert_ptr_nonnull(x.mem_paging_load);
	ck_assert_ptr_nonnull(x.domain_pause);
	ck_assert_ptr_nonnull(x.domain_unpause);
	ck_assert_ptr_nonnull(x.domain_populate_physmap_exact);
	ck_assert_ptr_nonnull(x.domain_decrease_reservation_exact);
	ck_assert_ptr_nonnull(x.hvm_param_get);
	ck_assert_ptr_nonnull(x.get_hvm_param);
	ck_assert_ptr_nonnull(x.domain_getinfolist);
	ck_assert_ptr_null(x.domain_getinfo_single);
	ck_assert_ptr_nonnull(x.vm_event_get_version);
	ck_assert_ptr_nonnull(x.mem_paging_prep);
	ck_assert_ptr_nonnull(x.domain_nr_gpfns);
	ck_assert_ptr_nonnull(x.domain_maximum_gpfn);
	ck_assert_str_eq(x.path, fake_path("FAKEXC_4_17"));
	xp_xenctrl_unload(&x);
	ck_assert_ptr_null(x.dl);
}
END_TEST

START_TEST(loader_4_2)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load(fake_path("FAKEXC_4_2"), &x, why,
					 sizeof(why)), 0);
	ck_assert_ptr_null(x.hvm_param_get);      /* 4.5+ */
	ck_assert_ptr_nonnull(x.get_hvm_param);
	ck_assert_ptr_null(x.vm_event_get_version); /* 4.13+ */
	ck_assert_ptr_null(x.domain_nr_gpfns);    /* 4.6+ */
	ck_assert_ptr_nonnull(x.domain_maximum_gpfn);
	ck_assert_ptr_null(x.domain_getinfo_single);
	ck_assert_ptr_nonnull(x.domain_getinfolist);
	xp_xenctrl_unload(&x);
}
END_TEST

START_TEST(loader_4_18)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load(fake_path("FAKEXC_4_18"), &x, why,
					 sizeof(why)), 0);
	ck_assert_ptr_nonnull(x.domain_getinfo_single);
	ck_assert_ptr_nonnull(x.vm_event_get_version);
	xp_xenctrl_unload(&x);
}
END_TEST

START_TEST(loader_missing_required)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load(fake_path("FAKEXC_NOEVICT"), &x, why,
					 sizeof(why)), -ELIBBAD);
	ck_assert_msg(strstr(why, "xc_mem_paging_evict") != NULL, "%s", why);
	ck_assert_ptr_null(x.dl);
	ck_assert_ptr_null(x.interface_open);
}
END_TEST

START_TEST(loader_optional_prep_absent)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load(fake_path("FAKEXC_NOPREP"), &x, why,
					 sizeof(why)), 0);
	ck_assert_ptr_null(x.mem_paging_prep);
	xp_xenctrl_unload(&x);
}
END_TEST

START_TEST(loader_no_such_file)
{
	struct xp_xenctrl x;
	char why[256];

	ck_assert_int_eq(xp_xenctrl_load("/nonexistent/libxenctrl.so.4.99", &x,
					 why, sizeof(why)), -ENOENT);
	ck_assert(why[0] != '\0');
	ck_assert_ptr_null(x.dl);
}
END_TEST

START_TEST(find_env_is_exact)
{
	struct xp_xenctrl x;
	char why[256];

	/* XPAGE_XENCTRL names the library: no fall-back past a bad one. */
	setenv("XPAGE_XENCTRL", fake_path("FAKEXC_NOEVICT"), 1);
	ck_assert_int_eq(xp_xenctrl_find(&x, why, sizeof(why)), -ELIBBAD);
	ck_assert_msg(strstr(why, "xc_mem_paging_evict") != NULL, "%s", why);

	setenv("XPAGE_XENCTRL", "/nonexistent/libxenctrl.so", 1);
	ck_assert_int_eq(xp_xenctrl_find(&x, why, sizeof(why)), -ENOENT);

	setenv("XPAGE_XENCTRL", fake_path("FAKEXC_4_18"), 1);
	ck_assert_int_eq(xp_xenctrl_find(&x, why, sizeof(why)), 0);
	ck_assert_str_eq(x.path, fake_path("FAKEXC_4_18"));
	xp_xenctrl_unload(&x);
}
END_TEST

/* The libxenctrl installed on this machine (libxen-dev), found by the
 * default search: every required symbol must resolve. Skipped where no
 * libxenctrl is installed. */
START_TEST(loader_installed_library)
{
	struct xp_xenctrl x;
	char why[320];
	int rc;

	unsetenv("XPAGE_XENCTRL");
	rc = xp_xenctrl_find(&x, why, sizeof(why));
	if (rc == -ENOENT) {
		fprintf(stderr, "loader_installed_library: %s; not checked\n", why);
		return;
	}
	ck_assert_msg(rc == 0, "%d: %s", rc, why);
	ck_assert_ptr_nonnull(x.interface_open);
	ck_assert_ptr_nonnull(x.mem_paging_enable);
	ck_assert_ptr_nonnull(x.mem_paging_load);
	ck_assert_ptr_nonnull(x.domain_decrease_reservation_exact);
	ck_assert(x.hvm_param_get || x.get_hvm_param);
	ck_assert(x.domain_getinfo_single || x.domain_getinfolist);
	xp_xenctrl_unload(&x);
}
END_TEST

/* The installed libxenctrl, on a machine without /dev/xen: its own error
 * report must reach the log function (not stderr) and open says -ENOENT. */
START_TEST(open_installed_library_without_privcmd)
{
	struct xp_backend *be = (void *)1;
	struct xp_xenctrl x;
	char why[320];
	int rc;

	if (access("/dev/xen/privcmd", F_OK) == 0) {
		fprintf(stderr, "open_installed_library_without_privcmd: this machine runs Xen; not checked\n");
		return;
	}
	unsetenv("XPAGE_XENCTRL");
	if (xp_xenctrl_find(&x, why, sizeof(why)) < 0) {
		fprintf(stderr, "open_installed_library_without_privcmd: %s; not checked\n", why);
		return;
	}
	xp_xenctrl_unload(&x);
	xp_xen_set_sys(&fake_sys); /* claims Xen is present */
	rc = xp_backend_xen_ops->open(&be, 1, NULL, test_log, NULL);
	ck_assert_msg(rc == -ENOENT, "%d\n%s", rc, logbuf);
	ck_assert_ptr_null(be);
	/* libxencall's "Could not obtain handle on privileged command
	 * interface" (or similar) arrived through the xentoollog bridge. */
	ck_assert_msg(strstr(logbuf, "xen xencall") || strstr(logbuf, "xen xc"),
		      "%s", logbuf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* open and the domain facts                                                */

START_TEST(open_without_xen)
{
	struct xp_backend *be = (void *)1;

	if (access("/dev/xen/privcmd", F_OK) == 0 ||
	    access("/proc/xen/capabilities", F_OK) == 0) {
		fprintf(stderr, "open_without_xen: this machine runs Xen; not checked\n");
		return;
	}
	xp_xen_set_sys(NULL); /* the real probe */
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 1, NULL, test_log, NULL),
			 -ENOENT);
	ck_assert_ptr_null(be);
}
END_TEST

START_TEST(open_missing_symbol)
{
	struct xp_backend *be = (void *)1;

	use_fake("FAKEXC_NOEVICT");
	xp_xen_set_sys(&fake_sys);
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 5, NULL, test_log, NULL),
			 -ELIBBAD);
	ck_assert_ptr_null(be);
	ck_assert_msg(strstr(logbuf, "xc_mem_paging_evict") != NULL, "%s",
		      logbuf);
	ck_assert_int_eq(nr_fmem_open, 0);
}
END_TEST

START_TEST(open_4_2)
{
	struct xp_backend *be = open_fake("FAKEXC_4_2");
	struct xp_dominfo di;
	uint32_t maj = 0, min = 0, v = 0;

	ck_assert_int_eq(X->xen_version(be, &maj, &min), 0);
	ck_assert_uint_eq(maj, 4);
	ck_assert_uint_eq(min, 2);
	ck_assert_int_eq(X->vm_event_version(be, &v), -ENOSYS);
	ck_assert_int_eq(X->paging_age(be, &v), -ENOSYS);
	ck_assert_int_eq(X->can_multicall(be), 1); /* libxencall opened */

	ck_assert_int_eq(X->domain_info(be, &di), 0);
	ck_assert_uint_eq(di.domid, 5);
	ck_assert_uint_eq(di.vcpus, 4);            /* max_vcpu_id @60 */
	ck_assert_uint_eq(di.nr_gfns, 0xfffff + 1); /* return-value style */
	ck_assert_uint_eq(di.hvm, 1);
	ck_assert_uint_eq(di.dying, 0);
	ck_calls("getinfolist maximum_gpfn");
	close_and_check(be);
}
END_TEST

START_TEST(open_4_17)
{
	struct xp_backend *be;
	struct xp_dominfo di;
	uint32_t maj = 0, min = 0, v = 0;

	use_fake("FAKEXC_4_17");
	F.set("max_vcpu_id", 7);
	F.set("flags", (1 << 1) | (1 << 2)); /* hvm, shut down */
	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->xen_version(be, &maj, &min), 0);
	ck_assert_uint_eq(min, 17);
	ck_assert_int_eq(X->vm_event_version(be, &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(X->domain_info(be, &di), 0);
	ck_assert_uint_eq(di.vcpus, 8);            /* max_vcpu_id @68 */
	ck_assert_uint_eq(di.nr_gfns, 0xfffff + 1);
	ck_assert_uint_eq(di.dying, 1);
	ck_calls("getinfolist nr_gpfns");

	F.set("errno_vm_event_version", EPERM);
	ck_assert_int_eq(X->vm_event_version(be, &v), -EPERM);
	close_and_check(be);
}
END_TEST

START_TEST(open_4_18_uses_getinfo_single)
{
	struct xp_backend *be = open_fake("FAKEXC_4_18");
	struct xp_dominfo di;

	ck_assert_int_eq(X->domain_info(be, &di), 0);
	ck_assert_uint_eq(di.vcpus, 4);
	ck_calls("getinfo_single nr_gpfns");
	close_and_check(be);
}
END_TEST

START_TEST(open_tool_messages_go_to_log)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");

	/* The fake libxenctrl reports through the logger it was given. */
	ck_assert_msg(strstr(logbuf, "fake libxenctrl 4.17 opened") != NULL,
		      "%s", logbuf);
	close_and_check(be);
}
END_TEST

START_TEST(open_unknown_domain)
{
	static const char *const fakes[] = { "FAKEXC_4_2", "FAKEXC_4_18" };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct xp_backend *be = (void *)1;

		use_fake(fakes[i]);
		xp_xen_set_sys(&fake_sys);
		/* 4.2: getinfolist from 3 lists domain 5, which is not 3. */
		ck_assert_int_eq(xp_backend_xen_ops->open(&be, 3, NULL, test_log,
							  NULL), -ESRCH);
		ck_assert_ptr_null(be);
		ck_assert_int_eq(F.get("xch_open"), 0);
		ck_assert_int_eq(nr_fmem_open, 0);
		ck_assert_int_eq(xp_backend_xen_ops->open(&be, 6, NULL, test_log,
							  NULL), -ESRCH);
		ck_assert_int_eq(F.get("xch_open"), 0);
	}
}
END_TEST

START_TEST(open_interface_fails)
{
	struct xp_backend *be = (void *)1;

	use_fake("FAKEXC_4_17");
	xp_xen_set_sys(&fake_sys);
	F.set("errno_open", ENOENT);
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 5, NULL, test_log, NULL),
			 -ENOENT);
	F.set("errno_open", EACCES); /* not root: say so, not "no Xen" */
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 5, NULL, test_log, NULL),
			 -EACCES);
	F.set("errno_open", 0);
	F.set("errno_fmem_open", EMFILE);
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 5, NULL, test_log, NULL),
			 -EMFILE);
	ck_assert_ptr_null(be);
	ck_assert_int_eq(F.get("xch_open"), 0);
	ck_assert_int_eq(nr_fmem_open, 0);
}
END_TEST

START_TEST(open_old_xen_refused)
{
	struct xp_backend *be = (void *)1;

	use_fake("FAKEXC_4_2");
	xp_xen_set_sys(&fake_sys);
	F.set("version", 4 << 16 | 1);
	ck_assert_int_eq(xp_backend_xen_ops->open(&be, 5, NULL, test_log, NULL),
			 -EOPNOTSUPP);
	ck_assert_int_eq(F.get("xch_open"), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* enable / disable / forget                                                */

START_TEST(enable_order_with_populate)
{
	struct xp_backend *be;
	unsigned char *ring = NULL;
	int i;

	use_fake("FAKEXC_4_17");
	F.set("ring_present", 0); /* a previous pager removed it */
	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->enable(be, 0, (void **)&ring), 0);
	ck_calls("get_param map_ring unmap_ring populate map_ring enable "
		 "evtchn_open bind:7 decrease");
	ck_assert_ptr_nonnull(ring);
	ck_assert_ptr_eq(ring, ring_page);
	for (i = 0; i < 4096; i++) /* header and slots untouched */
		ck_assert_uint_eq(ring[i], 0xa5);
	ck_assert_int_eq(F.get("ring_present"), 0);
	ck_assert_int_eq(X->evtchn_fd(be), evtchn_pipe[0]);
	ck_assert_int_eq(X->enable(be, 0, (void **)&ring), -EALREADY);
	close_and_check(be);
}
END_TEST

START_TEST(enable_order_mapped_first_time)
{
	struct xp_backend *be = open_fake("FAKEXC_4_2"); /* xc_get_hvm_param */
	void *ring = NULL;

	ck_assert_int_eq(X->enable(be, 0, &ring), 0);
	ck_calls("get_param map_ring enable evtchn_open bind:7 decrease");
	close_and_check(be);
}
END_TEST

START_TEST(enable_errnos_pass_through)
{
	static const int errs[] = { EBUSY, ENODEV, EMLINK, EXDEV, EOPNOTSUPP,
				    ENOSYS, EINVAL };
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	unsigned i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		F.reset();
		ck_assert_ptr_eq(enable_fails(be, "errno_enable", errs[i],
				 "get_param map_ring enable unmap_ring"),
				 (void *)1);
		ck_assert_int_eq(X->evtchn_fd(be), -EBADF);
	}
	close_and_check(be);
}
END_TEST

START_TEST(enable_fails_after_populate_removes_gfn)
{
	struct xp_backend *be;

	use_fake("FAKEXC_4_17");
	F.set("ring_present", 0);
	be = open_fake("FAKEXC_4_17");
	enable_fails(be, "errno_enable", EBUSY, "get_param map_ring unmap_ring "
		     "populate map_ring enable unmap_ring decrease");
	ck_assert_int_eq(F.get("ring_present"), 0); /* as it was */
	close_and_check(be);
}
END_TEST

START_TEST(enable_decrease_fails_undoes_all)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");

	enable_fails(be, "errno_decrease", EPERM, "get_param map_ring enable "
		     "evtchn_open bind:7 decrease disable unbind:42 "
		     "evtchn_close unmap_ring");
	ck_assert_int_eq(F.get("enabled"), 0);
	ck_assert_int_eq(X->evtchn_fd(be), -EBADF);
	ck_assert_int_eq(X->notify(be), -EBADF);
	close_and_check(be);
}
END_TEST

START_TEST(enable_bind_fails_undoes_all)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");

	enable_fails(be, "errno_bind", EINVAL, "get_param map_ring enable "
		     "evtchn_open bind:7 disable evtchn_close unmap_ring");
	F.reset();
	F.set("errno_bind", 0);
	enable_fails(be, "errno_evtchn_open", EMFILE, "get_param map_ring "
		     "enable evtchn_open disable unmap_ring");
	close_and_check(be);
}
END_TEST

START_TEST(enable_populate_fails)
{
	struct xp_backend *be;
	void *ring;

	use_fake("FAKEXC_4_17");
	F.set("ring_present", 0);
	F.set("errno_populate", ENOMEM);
	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->enable(be, 0, &ring), -ENOMEM);
	ck_calls("get_param map_ring unmap_ring populate");
	close_and_check(be);
}
END_TEST

START_TEST(enable_without_ring_gfn)
{
	struct xp_backend *be;
	void *ring;

	use_fake("FAKEXC_4_17");
	F.set("ring_gfn", 0);
	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->enable(be, 0, &ring), -EOPNOTSUPP);
	ck_calls("get_param");
	F.reset();
	enable_fails(be, "errno_get_param", ESRCH, "get_param");
	close_and_check(be);
}
END_TEST

START_TEST(disable_order)
{
	void *ring;
	struct xp_backend *be = open_enabled(&ring);

	ck_assert_int_eq(X->disable(be), 0);
	ck_calls("disable unbind:42 evtchn_close unmap_ring");
	ck_assert_int_eq(X->evtchn_fd(be), -EBADF);
	/* Enable again on the same handle. */
	F.reset();
	ck_assert_int_eq(X->enable(be, 0, &ring), 0);
	ck_calls("get_param map_ring unmap_ring populate map_ring enable "
		 "evtchn_open bind:7 decrease");
	close_and_check(be);
}
END_TEST

START_TEST(disable_failure_keeps_ring)
{
	void *ring;
	struct xp_backend *be = open_enabled(&ring);

	F.set("errno_disable", EBUSY);
	ck_assert_int_eq(X->disable(be), -EBUSY);
	ck_calls("disable");
	ck_assert_int_eq(X->evtchn_fd(be), evtchn_pipe[0]);
	ck_assert_ptr_eq(ring, ring_page);
	close_and_check(be);
}
END_TEST

START_TEST(forget_does_not_disable)
{
	void *ring;
	struct xp_backend *be = open_enabled(&ring);

	X->forget(be);
	ck_calls("unbind:42 evtchn_close unmap_ring");
	ck_assert_int_eq(F.get("enabled"), 1);
	F.reset();
	X->close(be);
	ck_calls(""); /* close does not disable either */
	ck_assert_int_eq(F.get("xch_open"), 0);
}
END_TEST

START_TEST(close_releases_ring)
{
	void *ring;
	struct xp_backend *be = open_enabled(&ring);

	close_and_check(be);
	ck_calls("unbind:42 evtchn_close unmap_ring");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Paging operations                                                        */

static unsigned char page_a[4096] __attribute__((aligned(4096)));
static unsigned char page_b[4096 + 16] __attribute__((aligned(4096)));

START_TEST(paging_ops_one_trap_each)
{
	struct xp_backend *be = (no_xcall = 1, open_fake("FAKEXC_4_17"));
	struct xp_paging_op ops[] = {
		{ .op = XP_PAGING_NOMINATE, .gfn = 1 },
		{ .op = XP_PAGING_EVICT, .gfn = 2 },
		{ .op = XP_PAGING_PREP, .gfn = 3, .buf = page_a },
		{ .op = XP_PAGING_PREP, .gfn = 4, .buf = page_b + 16 },
		{ .op = XP_PAGING_PREP, .gfn = 5, .buf = NULL },
		{ .op = 9, .gfn = 6 },
	};
	unsigned i;

	memset(page_a, 0xaa, sizeof(page_a));
	memset(page_b, 0xbb, sizeof(page_b));
	for (i = 0; i < 6; i++)
		ops[i].rc = 12345;
	F.set("fail_gfn", 2);
	F.set("errno_paging", EBUSY);
	ck_assert_int_eq(X->paging_ops(be, ops, 6), 5);
	/* The unaligned buffer was bounced: the load saw its data. */
	ck_calls("nominate:1 evict:2 load:3:aa load:4:bb prep:5");
	ck_assert_int_eq(ops[0].rc, 0);
	ck_assert_int_eq(ops[1].rc, -EBUSY);
	ck_assert_int_eq(ops[2].rc, 0);
	ck_assert_int_eq(ops[3].rc, 0);
	ck_assert_int_eq(ops[4].rc, 0);
	ck_assert_int_eq(ops[5].rc, -EINVAL);
	ck_assert_int_eq(X->paging_ops(be, ops, 0), 0);
	close_and_check(be);
}
END_TEST

START_TEST(paging_ops_negative_errno_of_xen_4_2)
{
	struct xp_backend *be = (no_xcall = 1, open_fake("FAKEXC_4_2"));
	struct xp_paging_op op = { .op = XP_PAGING_PREP, .gfn = 7,
				   .buf = page_a };

	/* Xen 4.2's xc_mem_paging_load sets errno = -EINVAL. */
	F.set("fail_gfn", 7);
	F.set("errno_paging", -EINVAL);
	ck_assert_int_eq(X->paging_ops(be, &op, 1), 1);
	ck_assert_int_eq(op.rc, -EINVAL);
	close_and_check(be);
}
END_TEST

START_TEST(paging_ops_prep_without_buffer_unsupported)
{
	struct xp_backend *be = (no_xcall = 1, open_fake("FAKEXC_NOPREP"));
	struct xp_paging_op op = { .op = XP_PAGING_PREP, .gfn = 7 };

	ck_assert_int_eq(X->paging_ops(be, &op, 1), 0);
	ck_assert_int_eq(op.rc, -EOPNOTSUPP);
	ck_calls("");
	close_and_check(be);
}
END_TEST

START_TEST(multicall_on_by_default)
{
	struct xp_backend *be;

	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->can_multicall(be), 1);
	ck_assert_int_eq(nr_xcall_open, 1);
	close_and_check(be);
	/* Without libxencall: one trap per op, and the log says so. */
	logbuf[0] = '\0';
	no_xcall = 1;
	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->can_multicall(be), 0);
	ck_assert_ptr_nonnull(strstr(logbuf, "one trap per paging operation"));
	close_and_check(be);
}
END_TEST

START_TEST(multicall_batches)
{
	enum { N = 300 };
	static struct xp_paging_op ops[N];
	static unsigned char bufs[N][4096];
	struct xp_backend *be;
	unsigned i;

	be = open_fake("FAKEXC_4_17");
	ck_assert_int_eq(X->can_multicall(be), 1);
	for (i = 0; i < N; i++) {
		ops[i].op = i % 3; /* nominate, evict, prep */
		ops[i].gfn = 0x100 + i;
		ops[i].rc = 12345;
		if (ops[i].op == XP_PAGING_PREP) {
			memset(bufs[i], (int)(i & 0xff), 4096);
			ops[i].buf = bufs[i];
		}
	}
	ops[10].op = 77;        /* invalid: answered locally */
	ops[20].buf = NULL;     /* prep without buffer (20 % 3 == 2) */
	F.set("fail_gfn", 0x100 + 100);
	/* 300 ops, split at 256: two traps. */
	ck_assert_int_eq(X->paging_ops(be, ops, N), 2);
	ck_calls("multicall:255 multicall:44");
	ck_assert_uint_eq(seen.calls, 2);
	ck_assert_uint_eq(seen.n, N - 1);
	for (i = 0; i < N; i++) {
		unsigned k = i < 10 ? i : i - 1; /* op 10 was not sent */

		if (i == 10) {
			ck_assert_int_eq(ops[i].rc, -EINVAL);
			continue;
		}
		ck_assert_uint_eq(seen.op[k], ops[i].op);
		ck_assert_uint_eq(seen.dom[k], 5);
		ck_assert_uint_eq(seen.gfn[k], ops[i].gfn);
		if (ops[i].op == XP_PAGING_PREP && ops[i].buf) {
			/* copied to hypercall-safe memory, not passed as is */
			ck_assert_int_eq(seen.byte[k], (int)(i & 0xff));
			ck_assert_ptr_ne(seen.buffer[k], ops[i].buf);
		} else {
			ck_assert_int_eq(seen.byte[k], -1);
		}
		ck_assert_int_eq(ops[i].rc, i == 100 ? -EBUSY : 0);
	}
	close_and_check(be);
}
END_TEST

/* A multicall that fails as a whole for another reason than a refusal:
 * every op of the batch carries the error, nothing is retried. */
START_TEST(multicall_failure)
{
	struct xp_paging_op ops[300];
	struct xp_backend *be;
	unsigned i;

	be = open_fake("FAKEXC_4_17");
	for (i = 0; i < 300; i++)
		ops[i] = (struct xp_paging_op){ .op = XP_PAGING_NOMINATE,
						.gfn = i, .rc = 1 };
	F.set("errno_multicall", EFAULT);
	ck_assert_int_eq(X->paging_ops(be, ops, 300), -EFAULT);
	ck_calls("multicall:256");
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(ops[i].rc, -EFAULT);
	ck_assert_int_eq(X->can_multicall(be), 1);
	close_and_check(be);
}
END_TEST

/* A hypervisor (or privcmd) that refuses multicalls: the batch is done one
 * trap per op instead, and so is every later one. */
START_TEST(multicall_refused_falls_back)
{
	struct xp_paging_op ops[3] = {
		{ .op = XP_PAGING_NOMINATE, .gfn = 1, .rc = 9 },
		{ .op = XP_PAGING_NOMINATE, .gfn = 2, .rc = 9 },
		{ .op = XP_PAGING_EVICT, .gfn = 3, .rc = 9 },
	};
	struct xp_backend *be;

	be = open_fake("FAKEXC_4_17");
	logbuf[0] = '\0';
	F.set("errno_multicall", ENOSYS);
	F.set("fail_gfn", 2);
	F.set("errno_paging", EBUSY);
	ck_assert_int_eq(X->paging_ops(be, ops, 3), 3);
	ck_calls("multicall:3 nominate:1 nominate:2 evict:3");
	ck_assert_int_eq(ops[0].rc, 0);
	ck_assert_int_eq(ops[1].rc, -EBUSY);
	ck_assert_int_eq(ops[2].rc, 0);
	ck_assert_int_eq(X->can_multicall(be), 0);
	ck_assert_ptr_nonnull(strstr(logbuf, "multicall refused"));
	F.reset();
	ck_assert_int_eq(X->paging_ops(be, ops, 1), 1);
	ck_calls("nominate:1");
	close_and_check(be);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Mapping, event channel, pause                                            */

/* One privcmd mmapbatch per batch; a gfn in a paging state is reported
 * at once (-ENOENT), never waited for; a failure of the call as a whole
 * releases the region. */
START_TEST(map_never_waits)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	uint64_t gfns[] = { 1, 13, 14, 2 };
	int err[4] = { 9, 9, 9, 9 };
	void *p;

	p = X->map(be, gfns, 4, PROT_READ, err);
	ck_assert_ptr_nonnull(p);
	ck_calls("region:4 mmapbatch:4");
	ck_assert_int_eq(err[0], 0);
	ck_assert_int_eq(err[1], -ENOENT);
	ck_assert_int_eq(err[2], -EPERM);
	ck_assert_int_eq(err[3], 0);
	F.reset();
	ck_assert_int_eq(X->unmap(be, p, 4), 0);
	ck_calls("unregion:4");

	F.reset();
	F.set("errno_mmapbatch", EINVAL);
	errno = 0;
	ck_assert_ptr_null(X->map(be, gfns, 4, PROT_READ, err));
	ck_assert_int_eq(errno, EINVAL);
	ck_calls("region:4 mmapbatch:4 unregion:4");

	F.reset();
	F.set("errno_region", ENOMEM);
	errno = 0;
	ck_assert_ptr_null(X->map(be, gfns, 4, PROT_READ, err));
	ck_assert_int_eq(errno, ENOMEM);
	ck_calls("region:4");
	close_and_check(be);
}
END_TEST

/* No privcmd device: maps go through libxenforeignmemory (which waits for
 * a gfn being paged in on Linux), and the log says so. */
START_TEST(map_without_privcmd_uses_fmem)
{
	struct xp_backend *be;
	uint64_t gfns[] = { 1, 13, 14, 2 };
	int err[4] = { 9, 9, 9, 9 };
	void *p;

	logbuf[0] = '\0';
	no_privcmd = 1;
	be = open_fake("FAKEXC_4_17");
	ck_assert_ptr_nonnull(strstr(logbuf, "no privcmd device"));
	p = X->map(be, gfns, 4, PROT_READ, err);
	ck_assert_ptr_nonnull(p);
	ck_calls("map:4");
	ck_assert_int_eq(err[1], -ENOENT);
	ck_assert_int_eq(err[2], -EPERM); /* positive errno made negative */
	ck_assert_int_eq(X->unmap(be, p, 4), 0);

	F.set("errno_map", ENOMEM);
	errno = 0;
	ck_assert_ptr_null(X->map(be, gfns, 4, PROT_READ, err));
	ck_assert_int_eq(errno, ENOMEM);
	close_and_check(be);
}
END_TEST

START_TEST(evtchn_notify_and_ack)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	void *ring;

	ck_assert_int_eq(X->ack(be), -EBADF);
	ck_assert_int_eq(X->enable(be, 0, &ring), 0);
	F.reset();
	ck_assert_int_eq(X->ack(be), 0); /* nothing pending: no block */
	ck_calls("");
	ck_assert_int_eq(write(evtchn_pipe[1], "x", 1), 1);
	ck_assert_int_eq(X->ack(be), 0);
	ck_calls("unmask:42");
	ck_assert_int_eq(X->notify(be), 0);
	ck_calls("unmask:42 notify:42"); /* the local port */
	close_and_check(be);
}
END_TEST

START_TEST(pause_unpause)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");

	ck_assert_int_eq(X->pause(be), 0);
	ck_assert_int_eq(X->unpause(be), 0);
	F.set("errno_unpause", EINVAL);
	ck_assert_int_eq(X->unpause(be), -EINVAL);
	ck_calls("pause:5 unpause:5 unpause:5");
	close_and_check(be);
}
END_TEST

/* RAM from the p2m: the gfns with a page, in ascending ranges; paged-out
 * and broken gfns have none; ranges past @max are counted, not written.
 * Here the domain holds more pages than its p2m shows (tot_pages 0x1000):
 * every chunk of 1024 gfns is read. */
START_TEST(ram_ranges_from_p2m)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	struct xpage_gfn_range r[4];

	ck_assert_ptr_nonnull(X->ram_ranges);
	F.set("xtab_gfn", 0x400);
	F.set("broken_gfn", 0x7ff);
	ck_assert_int_eq(X->ram_ranges(be, r, 4), 3);
	ck_assert_uint_eq(r[0].first, 0);
	ck_assert_uint_eq(r[0].count, 0x400);
	ck_assert_uint_eq(r[1].first, 0x401);
	ck_assert_uint_eq(r[1].count, 0x3fe);
	ck_assert_uint_eq(r[2].first, 0xffff8);
	ck_assert_uint_eq(r[2].count, 8);
	ck_assert_int_eq(F.get("pfn_type_calls"), 1024); /* 1024 a call */

	/* The core asks twice (count, then fill): the answer is kept. */
	memset(r, 0xa5, sizeof(r));
	ck_assert_int_eq(X->ram_ranges(be, r, 1), 3);
	ck_assert_uint_eq(r[0].count, 0x400);
	ck_assert_uint_eq(r[1].first, 0xa5a5a5a5a5a5a5a5ull); /* untouched */
	ck_assert_int_eq(X->ram_ranges(be, NULL, 0), 3);
	ck_assert_int_eq(F.get("pfn_type_calls"), 1024);

	be->ram_ns = 0; /* as if a second had passed */
	F.set("errno_pfn_type", EPERM);
	ck_assert_int_eq(X->ram_ranges(be, r, 4), -EPERM);
	close_and_check(be);
}
END_TEST

/* A domain holding what its p2m shows and one page more (the paging
 * ring's, outside the p2m): the scan stops once it found about that
 * many, from both ends, and skips the hole between. */
START_TEST(ram_ranges_skip_the_hole)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	struct xpage_gfn_range r[4];

	F.set("xtab_gfn", 0x400);
	F.set("tot_pages", 0x7ff + 8 + 1);
	ck_assert_int_eq(X->ram_ranges(be, r, 4), 3);
	ck_assert_uint_eq(r[0].first, 0);
	ck_assert_uint_eq(r[0].count, 0x400);
	ck_assert_uint_eq(r[1].first, 0x401);
	ck_assert_uint_eq(r[1].count, 0x3ff);
	ck_assert_uint_eq(r[2].first, 0xffff8);
	ck_assert_uint_eq(r[2].count, 8);
	ck_assert_int_eq(F.get("pfn_type_calls"), 3); /* 0, 1023, 1 */

	/* Far fewer than it holds (100 pages outside the p2m): all of it. */
	be->ram_ns = 0;
	F.set("pfn_type_calls", 0);
	F.set("tot_pages", 0x7ff + 8 + 100);
	ck_assert_int_eq(X->ram_ranges(be, r, 4), 3);
	ck_assert_uint_eq(r[2].first, 0xffff8);
	ck_assert_int_eq(F.get("pfn_type_calls"), 1024);
	close_and_check(be);
}
END_TEST

/* A libxenctrl without the call: the core is told it cannot tell. */
START_TEST(ram_ranges_without_pfn_type)
{
	struct xp_backend *be = open_fake("FAKEXC_NO_PFN_TYPE");
	struct xpage_gfn_range r[1];

	ck_assert_int_eq(X->ram_ranges(be, r, 1), -EOPNOTSUPP);
	close_and_check(be);
}
END_TEST

/* A 4-level guest: per-CPU data at GS base in a 2 MiB page of the direct
 * map, kernel stacks in 4 KiB pages of the vmalloc area. */
#define PTE(gfn) (((uint64_t)(gfn) << 12) | 0x3) /* present, writable */
#define PTE_2M(gfn) (PTE(gfn) | 0x80)
#define GS_VA    0xffff888000400000ull /* L4 273, L3 0, L2 2 */
#define STACK_VA 0xffffc900000a0000ull /* L4 402, L3 0, L2 0, L1 160 */

static void build_guest(void)
{
	memset(guest, 0, sizeof(guest));
	guest_page(0x100)[273] = PTE(0x101);
	guest_page(0x101)[0] = PTE(0x102);
	guest_page(0x102)[2] = PTE_2M(0x1000);
	guest_page(0x100)[402] = PTE(0x103);
	guest_page(0x103)[0] = PTE(0x104);
	guest_page(0x104)[0] = PTE(0x105);
	for (unsigned i = 0; i < 12 * 4; i++) /* 12 stacks of 4 pages */
		guest_page(0x105)[160 + i] = PTE(0x2000 + 16 * i);
	F.set("hvm_vcpus", 1);
	F.set("hvm_cr3", 0x100000);
	F.set("hvm_gs", (long)GS_VA);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* hv_gfns as the core takes it: sorted, each gfn once. */
static int hv(struct xp_backend *be, uint64_t *g, size_t cap)
{
	int n = X->hv_gfns(be, g, cap), k = 0;

	ck_assert_int_ge(n, 0);
	qsort(g, (size_t)n, sizeof(*g), cmp_u64);
	for (int i = 0; i < n; i++)
		if (!k || g[k - 1] != g[i])
			g[k++] = g[i];
	return k;
}

static int has(const uint64_t *g, int n, uint64_t gfn)
{
	for (int i = 0; i < n; i++)
		if (g[i] == gfn)
			return 1;
	return 0;
}

/* Xen writes the runstate area at GS base and copies hypercall arguments
 * from the kernel stack: the walk returns the pages and the page tables
 * to them, and keeps a stack it saw after the vCPU moved on. */
START_TEST(hv_gfns_percpu_and_stacks)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	uint64_t g[512];
	int n;

	build_guest();
	F.set("hvm_rsp", (long)(STACK_VA + 0x3e08));
	n = hv(be, g, 512);
	ck_assert_int_eq(n, 3 + 128 + 3 + 4);
	for (uint64_t t = 0x100; t <= 0x105; t++)
		ck_assert_msg(has(g, n, t), "table 0x%llx", (unsigned long long)t);
	for (unsigned i = 0; i < 128; i++)
		ck_assert(has(g, n, 0x1000 + i));
	for (unsigned i = 0; i < 4; i++)
		ck_assert(has(g, n, 0x2000 + 16 * i));

	F.set("hvm_rsp", 0x7ffc0000); /* in user mode: nothing new */
	ck_assert_int_eq(hv(be, g, 512), n);
	ck_assert(has(g, n, 0x2000));

	/* Another process (its own top-level table, the kernel's below it):
	 * the first one's table stays, the vCPU may switch back to it. */
	guest_page(0x150)[273] = PTE(0x101);
	guest_page(0x150)[402] = PTE(0x103);
	F.set("hvm_cr3", 0x150000);
	ck_assert_int_eq(hv(be, g, 512), n + 1);
	ck_assert(has(g, n + 1, 0x100) && has(g, n + 1, 0x150));
	n++;

	/* Eight stacks are remembered: the ninth replaces the first. */
	for (unsigned s = 1; s <= 8; s++) {
		F.set("hvm_rsp", (long)(STACK_VA + s * 0x4000 + 0x100));
		n = hv(be, g, 512);
	}
	ck_assert_int_eq(n, 4 + 128 + 3 + 8 * 4);
	ck_assert(!has(g, n, 0x2000));
	ck_assert(has(g, n, 0x2000 + 16 * 4));
	ck_assert(has(g, n, 0x2000 + 16 * 35));
	close_and_check(be);
}
END_TEST

/* Every page table of the kernel's half, also under no walk above (the
 * tables to other tasks' stacks), none of the user half's, no page they
 * map; read again once a second. */
START_TEST(hv_gfns_kernel_tables)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	uint64_t g[512];
	int n;

	build_guest();
	guest_page(0x104)[5] = PTE(0x106);      /* another 2 MiB of vmalloc */
	guest_page(0x106)[0] = PTE(0x3000);
	guest_page(0x100)[100] = PTE(0x107);    /* the user half */
	guest_page(0x107)[0] = PTE(0x108);
	F.set("hvm_rsp", (long)(STACK_VA + 0x100));
	n = hv(be, g, 512);
	ck_assert(has(g, n, 0x106));
	ck_assert(!has(g, n, 0x3000) && !has(g, n, 0x107) && !has(g, n, 0x108));
	ck_assert(!has(g, n, 0x1000 + 200)); /* in the 2 MiB page, past 128 */

	guest_page(0x104)[6] = PTE(0x109);
	ck_assert(!has(g, hv(be, g, 512), 0x109)); /* not yet */
	be->ktables_ns = 0; /* as if a second had passed */
	ck_assert(has(g, hv(be, g, 512), 0x109));
	close_and_check(be);
}
END_TEST

/* A vCPU seen only in user mode still shows the kernel's tables when its
 * process maps the kernel (no page-table isolation), and not when it
 * does not (with it: the per-CPU area is not there). */
START_TEST(hv_gfns_kernel_tables_from_user_mode)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	uint64_t g[512];

	build_guest();
	guest_page(0x104)[5] = PTE(0x106);
	F.set("hvm_rsp", 0x7ffc0000);
	ck_assert(has(g, hv(be, g, 512), 0x106));
	close_and_check(be);

	be = open_fake("FAKEXC_4_17");
	build_guest();
	guest_page(0x104)[5] = PTE(0x106);
	guest_page(0x160)[511] = PTE(0x161); /* entry code only */
	F.set("hvm_cr3", 0x160000);
	F.set("hvm_rsp", 0x7ffc0000);
	ck_assert(!has(g, hv(be, g, 512), 0x106));
	close_and_check(be);
}
END_TEST

/* What the processor reads at each event: the IDT, GDT and TSS in the
 * direct map (L4 273, L3 0, L2 3: a table of 4 KiB pages), and the stacks
 * the TSS names (RSP0 and IST1; the other ISTs 0), in the vmalloc area:
 * each top page and the one below, and the tables to them. */
START_TEST(hv_gfns_event_delivery)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	uint64_t g[512], *tss;
	int n;

	build_guest();
	guest_page(0x102)[3] = PTE(0x120);
	guest_page(0x120)[0] = PTE(0x121);           /* IDT */
	guest_page(0x120)[1] = PTE(0x122);           /* GDT */
	guest_page(0x120)[2] = PTE(0x123);           /* TSS */
	guest_page(0x105)[160 + 300] = PTE(0x130);         /* RSP0's stack */
	guest_page(0x105)[160 + 301] = PTE(0x131);
	guest_page(0x105)[160 + 310] = PTE(0x140);         /* IST1's stack */
	guest_page(0x105)[160 + 311] = PTE(0x141);
	tss = guest_page(0x123);
	/* RSP0 at byte 4, IST1 at byte 36: unaligned 64-bit words */
	tss[0] = (STACK_VA + 302 * 4096ull) << 32;
	tss[1] = (STACK_VA + 302 * 4096ull) >> 32;
	tss[4] = (STACK_VA + 312 * 4096ull) << 32;
	tss[5] = (STACK_VA + 312 * 4096ull) >> 32;
	F.set("hvm_idt", (long)(GS_VA - 0x400000 + 0x600000));
	F.set("hvm_gdt", (long)(GS_VA - 0x400000 + 0x601000));
	F.set("hvm_tss", (long)(GS_VA - 0x400000 + 0x602000));
	F.set("hvm_rsp", 0x7ffc0000);
	n = hv(be, g, 512);
	for (uint64_t p = 0x120; p <= 0x123; p++)
		ck_assert_msg(has(g, n, p), "page 0x%llx", (unsigned long long)p);
	ck_assert(has(g, n, 0x130) && has(g, n, 0x131));
	ck_assert(has(g, n, 0x140) && has(g, n, 0x141));
	close_and_check(be);
}
END_TEST

#define NX (1ull << 63)
#define US 0x4ull
#define KTEXT_VA 0xffffffff81000000ull /* L4 511, L3 510, L2 8 */

/* build_guest() with kernel code, data, a module and a user half. */
static void build_guest_code(void)
{
	build_guest();
	guest_page(0x102)[2] |= NX;                  /* per-CPU data */
	guest_page(0x100)[511] = PTE(0x110);
	guest_page(0x110)[510] = PTE(0x111);
	guest_page(0x111)[8] = PTE_2M(0x4000);       /* text: 2 MiB */
	guest_page(0x111)[9] = PTE_2M(0x4200) | NX;  /* rodata */
	guest_page(0x111)[10] = PTE(0x112);          /* module: 4 KiB */
	guest_page(0x112)[0] = PTE(0x5000);
	guest_page(0x112)[1] = PTE(0x5001) | NX;
	guest_page(0x112)[2] = PTE(0x5002) | 0x4;    /* a user page */
	guest_page(0x104)[0] |= NX;                  /* stacks: no code */
	guest_page(0x100)[100] = PTE(0x107) | US;    /* the user half */
	guest_page(0x107)[0] = PTE(0x108) | US;
	guest_page(0x108)[1] = PTE(0x109) | US;
	guest_page(0x109)[0] = PTE(0x7000) | US;     /* a process's code */
	guest_page(0x109)[1] = PTE(0x7001) | US | NX; /* and its data */
	guest_page(0x109)[2] = PTE(0x7002);          /* not user-mode */
	F.set("hvm_rsp", (long)(STACK_VA + 0x100));
}

/* The kernel's code: its executable large pages and 4 KiB pages in the
 * kernel's half; not its data (no-execute), not a user page. A process's
 * code: its executable user pages, not its data nor a kernel page. None
 * when no-execute is not in force. */
START_TEST(kcode_from_kernel_tables)
{
	struct xp_backend *be = open_fake("FAKEXC_4_17");
	const uint64_t *k = NULL;
	uint64_t g[512];
	int n;

	build_guest_code();
	F.set("hvm_nxe", 1);
	n = hv(be, g, 512);
	ck_assert(has(g, n, 0x112)); /* the walk read the module's table */
	n = X->code_gfns(be, XP_CODE_KERNEL, &k);
	ck_assert_int_eq(n, 512 + 1);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(k[i], 0x4000 + (uint64_t)i);
	ck_assert_uint_eq(k[512], 0x5000);
	ck_assert_int_eq(X->code_gfns(be, XP_CODE_USER, &k), 1);
	ck_assert_uint_eq(k[0], 0x7000);
	close_and_check(be);

	be = open_fake("FAKEXC_4_17");
	build_guest_code();
	F.set("hvm_nxe", 0);
	ck_assert(has(g, hv(be, g, 512), 0x112));
	ck_assert_int_eq(X->code_gfns(be, XP_CODE_KERNEL, &k), 0);
	ck_assert_int_eq(X->code_gfns(be, XP_CODE_USER, &k), 0);
	close_and_check(be);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The host handle: page offline through libxenguest, the M2P              */

static const struct xp_host_ops *H;

/* The Xen host backend on the fake named by $var, which also stands for
 * libxenguest ($XPAGE_XENGUEST: @guest, NULL for the same file). */
static struct xp_host_backend *host_fake(const char *var, const char *guest)
{
	struct xp_host_backend *hb = NULL;
	int rc;

	use_fake(var);
	setenv("XPAGE_XENGUEST", guest ? guest : fake_path(var), 1);
	xp_xen_set_sys(&fake_sys);
	H = xp_host_xen_ops;
	rc = H->open(&hb, NULL, test_log, NULL);
	ck_assert_msg(rc == 0, "host open: %d\n%s", rc, logbuf);
	F.reset();
	return hb;
}

static struct xp_frame_word word_of(unsigned cmd, uint32_t w, int ret)
{
	struct xp_frame_word d;

	xp_frame_decode(cmd, w, ret, &d);
	return d;
}

START_TEST(host_offline_words_4_17)
{
	struct xp_host_backend *hb = host_fake("FAKEXC_4_17", NULL);
	uint32_t st[4];
	uint64_t m[2] = { 0x20, 0x21 }, g[2], max = 0;

	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_OFFLINE, 0x20, 0x20, st),
			 0);
	ck_assert_int_eq(word_of(XP_PGOFF_OFFLINE, st[0], 0).err, -EAGAIN);
	ck_assert_uint_eq(word_of(XP_PGOFF_OFFLINE, st[0], 0).owner, 5);
	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_QUERY, 0x20, 0x20, st),
			 0);
	ck_assert_uint_eq(word_of(XP_PGOFF_QUERY, st[0], 0).state,
			  XPAGE_FRAME_OFFLINE_PENDING);
	/* a range: a free frame, then Xen's own, where Xen stops */
	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_OFFLINE, 0x0f, 0x12, st),
			 -EPERM);
	ck_assert_int_eq(word_of(XP_PGOFF_OFFLINE, st[0], 0).err, 0);
	ck_assert_int_eq(word_of(XP_PGOFF_OFFLINE, st[1], -EPERM).err, -EPERM);
	ck_assert_uint_eq(word_of(XP_PGOFF_OFFLINE, st[1], -EPERM).reason,
			  XPAGE_FRAME_REASON_XEN);
	ck_assert(!xp_frame_reached(st[2]) && !xp_frame_reached(st[3]));
	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_ONLINE, 0x0f, 0x0f, st),
			 0);
	ck_calls("offline:20-20 query:20-20 offline:f-12 online:f-f");
	F.reset();
	ck_assert_int_eq(H->m2p(hb, m, 2, g, &max), 0);
	ck_assert_uint_eq(g[0], 0x1234);
	ck_assert_uint_eq(g[1], XP_M2P_INVALID);
	ck_assert_uint_eq(max, 0x100);
	ck_assert_int_eq(H->m2p(hb, m, 1, g, &max), 0); /* mapped once */
	ck_calls("map_m2p:100:1");
	H->close(hb);
	ck_assert_int_eq(F.get("xch_open"), 0);
}
END_TEST

/* dom0's frames told apart without marking them: Xen's page-frame info
 * on a PV dom0 takes machine frames; for a PVH dom0 nothing is said. */
START_TEST(host_dom0_owns)
{
	struct xp_host_backend *hb = host_fake("FAKEXC_4_17", NULL);
	uint64_t m[3] = { 0x20, 0x30, 0x31 };
	bool own[3];

	ck_assert_ptr_nonnull(H->dom0_owns);
	ck_assert_int_eq(H->dom0_owns(hb, m, 3, own), 0);
	ck_assert(!own[0] && own[1] && !own[2]);
	ck_calls("getinfolist pfn_type_dom0:3");
	F.reset();
	F.set("dom0_flags", 1u << 1); /* hvm_guest */
	own[1] = true;
	ck_assert_int_eq(H->dom0_owns(hb, m, 3, own), 0);
	ck_assert(!own[0] && !own[1] && !own[2]);
	ck_calls("getinfolist");
	F.set("dom0_flags", 0);
	F.set("errno_pfn_type", EACCES);
	ck_assert_int_eq(H->dom0_owns(hb, m, 3, own), -EACCES);
	F.set("errno_pfn_type", 0);
	H->close(hb);
}
END_TEST

/* 4.2 - 4.5: xc_maximum_ram_page returns the value. */
START_TEST(host_m2p_4_2)
{
	struct xp_host_backend *hb = host_fake("FAKEXC_4_2", NULL);
	uint64_t m = 0x20, g = 0, max = 0;

	ck_assert_int_eq(H->m2p(hb, &m, 1, &g, &max), 0);
	ck_assert_uint_eq(g, 0x1234);
	ck_assert_uint_eq(max, 0x100);
	H->close(hb);
}
END_TEST

/* A libxenguest without the calls, and none at all: -EOPNOTSUPP, said. */
START_TEST(host_without_offline_calls)
{
	struct xp_host_backend *hb = host_fake("FAKEXC_4_17",
					       fake_path("FAKEXC_NOPREP"));
	uint32_t st = 0;
	uint64_t m = 0x20, g, max;

	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_OFFLINE, 0x20, 0x20, &st),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(logbuf, "has no xc_mark_page_offline"));
	ck_assert_int_eq(H->m2p(hb, &m, 1, &g, &max), -EOPNOTSUPP);
	H->close(hb);
	logbuf[0] = '\0';
	hb = host_fake("FAKEXC_4_17", "/nonexistent/libxenguest.so");
	ck_assert_ptr_nonnull(strstr(logbuf, "no libxenguest beside"));
	ck_assert_int_eq(H->page_offline(hb, XP_PGOFF_QUERY, 0x20, 0x20, &st),
			 -EOPNOTSUPP);
	H->close(hb);
}
END_TEST

static Suite *xen_backend_suite(void)
{
	Suite *s = suite_create("xen_backend");
	TCase *loader = tcase_create("loader");
	TCase *open = tcase_create("open");
	TCase *enable = tcase_create("enable");
	TCase *ops = tcase_create("ops");

	tcase_add_test(loader, loader_4_17);
	tcase_add_test(loader, loader_4_2);
	tcase_add_test(loader, loader_4_18);
	tcase_add_test(loader, loader_missing_required);
	tcase_add_test(loader, loader_optional_prep_absent);
	tcase_add_test(loader, loader_no_such_file);
	tcase_add_test(loader, find_env_is_exact);
	tcase_add_test(loader, loader_installed_library);
	suite_add_tcase(s, loader);

	tcase_add_test(open, open_without_xen);
	tcase_add_test(open, open_missing_symbol);
	tcase_add_test(open, open_installed_library_without_privcmd);
	tcase_add_test(open, open_4_2);
	tcase_add_test(open, open_4_17);
	tcase_add_test(open, open_4_18_uses_getinfo_single);
	tcase_add_test(open, open_tool_messages_go_to_log);
	tcase_add_test(open, open_unknown_domain);
	tcase_add_test(open, open_interface_fails);
	tcase_add_test(open, open_old_xen_refused);
	suite_add_tcase(s, open);

	tcase_add_test(enable, enable_order_with_populate);
	tcase_add_test(enable, enable_order_mapped_first_time);
	tcase_add_test(enable, enable_errnos_pass_through);
	tcase_add_test(enable, enable_fails_after_populate_removes_gfn);
	tcase_add_test(enable, enable_decrease_fails_undoes_all);
	tcase_add_test(enable, enable_bind_fails_undoes_all);
	tcase_add_test(enable, enable_populate_fails);
	tcase_add_test(enable, enable_without_ring_gfn);
	tcase_add_test(enable, disable_order);
	tcase_add_test(enable, disable_failure_keeps_ring);
	tcase_add_test(enable, forget_does_not_disable);
	tcase_add_test(enable, close_releases_ring);
	suite_add_tcase(s, enable);

	tcase_add_test(ops, paging_ops_one_trap_each);
	tcase_add_test(ops, paging_ops_negative_errno_of_xen_4_2);
	tcase_add_test(ops, paging_ops_prep_without_buffer_unsupported);
	tcase_add_test(ops, multicall_on_by_default);
	tcase_add_test(ops, multicall_batches);
	tcase_add_test(ops, multicall_failure);
	tcase_add_test(ops, multicall_refused_falls_back);
	tcase_add_test(ops, map_never_waits);
	tcase_add_test(ops, map_without_privcmd_uses_fmem);
	tcase_add_test(ops, evtchn_notify_and_ack);
	tcase_add_test(ops, pause_unpause);
	tcase_add_test(ops, ram_ranges_from_p2m);
	tcase_add_test(ops, ram_ranges_skip_the_hole);
	tcase_add_test(ops, ram_ranges_without_pfn_type);
	tcase_add_test(ops, hv_gfns_percpu_and_stacks);
	tcase_add_test(ops, hv_gfns_kernel_tables);
	tcase_add_test(ops, hv_gfns_kernel_tables_from_user_mode);
	tcase_add_test(ops, hv_gfns_event_delivery);
	tcase_add_test(ops, kcode_from_kernel_tables);
	tcase_add_test(ops, host_offline_words_4_17);
	tcase_add_test(ops, host_dom0_owns);
	tcase_add_test(ops, host_m2p_4_2);
	tcase_add_test(ops, host_without_offline_calls);
	suite_add_tcase(s, ops);
	return s;
}

int main(void)
{
	/* Each test in its own process: env, fake state and handles. */
	return check_main_mode(xen_backend_suite, CK_FORK);
}
