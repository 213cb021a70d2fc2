/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake libxenctrl for the Xen backend's tests, built once per release
 * shape (meson.build passes the -D flags):
 *   FAKE_MINOR=n              xc_version answers 4.n
 *   FAKE_DOMINFO_V42          4.2's xen_domctl_getdomaininfo (max_vcpu_id
 *                             at 60, no outstanding_pages); else 4.3+ (68)
 *   FAKE_HAS_HVM_PARAM_GET    xc_hvm_param_get (4.5+)
 *   FAKE_HAS_NR_GPFNS         xc_domain_nr_gpfns and the 4.6+
 *                             xc_domain_maximum_gpfn(xch, domid, *out);
 *                             else the 4.2-4.5 one returning the gpfn
 *   FAKE_HAS_GET_VERSION      xc_vm_event_get_version (4.13+)
 *   FAKE_HAS_GETINFO_SINGLE   xc_domain_getinfo_single (4.18+)
 *   FAKE_OMIT_EVICT           no xc_mem_paging_evict (a broken library)
 *   FAKE_OMIT_PREP            no xc_mem_paging_prep
 *   FAKE_OMIT_PFN_TYPE        no xc_get_pfn_type_batch
 *   FAKE_HAS_OFFLINE          libxenguest's page offline calls and
 *                             xc_map_m2p too (the test points
 *                             $XPAGE_XENGUEST at the same file)
 * xc_domain_hvm_getcontext_partial answers vCPUs 0 .. hvm_vcpus - 1 with
 * long mode, hvm_cr3, hvm_gs (kernel GS base), hvm_rsp, hvm_idt,
 * hvm_gdt and hvm_tss (the IDTR, GDTR and TR bases), and
 * no-execute in force when hvm_nxe is set.
 * Written from the behaviour the backend relies on, not from Xen's code.
 *
 * Every call is appended to a log the test reads (fake_log); fake_set
 * controls answers: "errno_<call>" makes <call> fail with that errno (a
 * negative value imitates Xen 4.2's errno = -EINVAL), "ring_present"
 * says whether the ring gfn is in the guest physmap, and so on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xentoollog.h>
#define __XEN_TOOLS__ 1
#include <xen/xen.h>
#include <xen/hvm/save.h>

#ifndef FAKE_MINOR
#define FAKE_MINOR 17
#endif

#define EXPORT __attribute__((visibility("default")))

/* --- control ------------------------------------------------------------ */

struct kv {
	char key[32];
	long val;
};
static struct kv kvs[64];
static char calls[8192];

EXPORT void fake_set(const char *key, long val)
{
	int i;

	for (i = 0; i < 64; i++) {
		if (!kvs[i].key[0] || strcmp(kvs[i].key, key) == 0) {
			snprintf(kvs[i].key, sizeof(kvs[i].key), "%s", key);
			kvs[i].val = val;
			return;
		}
	}
}

EXPORT long fake_get(const char *key)
{
	int i;

	for (i = 0; i < 64 && kvs[i].key[0]; i++)
		if (strcmp(kvs[i].key, key) == 0)
			return kvs[i].val;
	return 0;
}

EXPORT void fake_log_add(const char *fmt, ...)
{
	size_t len = strlen(calls);
	va_list ap;

	if (len && len < sizeof(calls) - 1)
		calls[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(calls + len, sizeof(calls) - len, fmt, ap);
	va_end(ap);
}

EXPORT const char *fake_log(void)
{
	return calls;
}

EXPORT void fake_log_reset(void)
{
	calls[0] = '\0';
}

__attribute__((constructor)) static void fake_defaults(void)
{
	fake_set("domid", 5);
	fake_set("ring_gfn", 0xff000);
	fake_set("ring_present", 1);
	fake_set("port", 7);
	fake_set("max_gpfn", 0xfffff);
	fake_set("max_pages", 0x40000);
	fake_set("tot_pages", 0x1000);
	fake_set("max_vcpu_id", 3);
	fake_set("flags", (1 << 1) | (1 << 3)); /* hvm_guest, paused */
	fake_set("vm_event_version", 5);
	fake_set("fail_gfn", -1);
	/* xc_get_pfn_type_batch: RAM is 0 .. ram_low - 1 and ram_hi ..
	 * max_gpfn, but xtab_gfn (paged out) and broken_gfn. */
	fake_set("ram_low", 0x800);
	fake_set("ram_hi", 0xffff8);
	fake_set("xtab_gfn", -1);
	fake_set("broken_gfn", -1);
}

/* Fail with the errno configured for @name, if any. */
static int fail(const char *name)
{
	char key[40];
	long e;

	snprintf(key, sizeof(key), "errno_%s", name);
	e = fake_get(key);
	if (!e)
		return 0;
	errno = (int)e;
	return 1;
}

/* --- libxenctrl --------------------------------------------------------- */

static int the_xch;

/* A message routed through the caller's logger, as libxenctrl's own
 * error reports are. */
static void say(xentoollog_logger *logger, int errnoval, const char *fmt, ...)
{
	va_list ap;

	if (!logger || !logger->vmessage)
		return;
	va_start(ap, fmt);
	logger->vmessage(logger, XTL_ERROR, errnoval, "xc", fmt, ap);
	va_end(ap);
}

EXPORT void *xc_interface_open(xentoollog_logger *logger,
			       xentoollog_logger *dombuild_logger,
			       unsigned int flags)
{
	(void)dombuild_logger, (void)flags;
	if (fail("open")) {
		int e = errno;

		say(logger, e, "fake libxenctrl 4.%d: could not open", FAKE_MINOR);
		errno = e;
		return NULL;
	}
	say(logger, -1, "fake libxenctrl 4.%d opened", FAKE_MINOR);
	fake_set("xch_open", fake_get("xch_open") + 1);
	return &the_xch;
}

EXPORT int xc_interface_close(void *xch)
{
	(void)xch;
	fake_set("xch_open", fake_get("xch_open") - 1);
	return 0;
}

EXPORT int xc_version(void *xch, int cmd, void *arg)
{
	(void)xch, (void)arg;
	if (cmd != 0) {
		errno = EINVAL;
		return -1;
	}
	if (fail("version"))
		return -1;
	if (fake_get("version"))
		return (int)fake_get("version");
	return 4 << 16 | FAKE_MINOR;
}

#ifdef FAKE_HAS_GET_VERSION
EXPORT int xc_vm_event_get_version(void *xch)
{
	(void)xch;
	if (fail("vm_event_version"))
		return -1;
	return (int)fake_get("vm_event_version");
}
#endif

static int get_param(uint32_t param, uint64_t *v)
{
	fake_log_add("get_param");
	if (fail("get_param"))
		return -1;
	*v = param == 27 ? (uint64_t)fake_get("ring_gfn") : 0;
	return 0;
}

EXPORT int xc_get_hvm_param(void *xch, uint16_t domid, int param,
			    unsigned long *value)
{
	uint64_t v = 0;
	int rc;

	(void)xch, (void)domid;
	rc = get_param((uint32_t)param, &v);
	*value = v;
	return rc;
}

#ifdef FAKE_HAS_HVM_PARAM_GET
EXPORT int xc_hvm_param_get(void *xch, uint32_t domid, uint32_t param,
			    uint64_t *value)
{
	(void)xch, (void)domid;
	return get_param(param, value);
}
#endif

/* populate / decrease of the one extent the backend ever moves, the ring
 * gfn: logged as @what, failed as configured, then the gfn is in the
 * physmap (@present) or not. */
static int ring_extent(const char *what, unsigned long nr, unsigned int order,
		       const unsigned long *extents, long present)
{
	fake_log_add("%s", what);
	if (nr != 1 || order != 0 || extents[0] != (unsigned long)fake_get("ring_gfn")) {
		errno = EINVAL;
		return -1;
	}
	if (fail(what))
		return -1;
	fake_set("ring_present", present);
	return 0;
}

EXPORT int xc_domain_populate_physmap_exact(void *xch, uint32_t domid,
					    unsigned long nr,
					    unsigned int order,
					    unsigned int flags,
					    unsigned long *extents)
{
	(void)xch, (void)domid, (void)flags;
	return ring_extent("populate", nr, order, extents, 1);
}

EXPORT int xc_domain_decrease_reservation_exact(void *xch, uint32_t domid,
						unsigned long nr,
						unsigned int order,
						unsigned long *extents)
{
	(void)xch, (void)domid;
	return ring_extent("decrease", nr, order, extents, 0);
}

EXPORT int xc_mem_paging_enable(void *xch, uint32_t domid, uint32_t *port)
{
	(void)xch, (void)domid;
	fake_log_add("enable");
	if (fail("enable"))
		return -1;
	*port = (uint32_t)fake_get("port");
	fake_set("enabled", 1);
	return 0;
}

EXPORT int xc_mem_paging_disable(void *xch, uint32_t domid)
{
	(void)xch, (void)domid;
	fake_log_add("disable");
	if (fail("disable"))
		return -1;
	fake_set("enabled", 0);
	return 0;
}

static int paging_fail(uint64_t gfn)
{
	if ((long)gfn != fake_get("fail_gfn"))
		return 0;
	return fail("paging");
}

/* nominate, evict, prep of @gfn: logged as "@what:gfn", failed as
 * configured for fail_gfn. */
static int paging_gfn_op(const char *what, uint64_t gfn)
{
	fake_log_add("%s:%llx", what, (unsigned long long)gfn);
	return paging_fail(gfn) ? -1 : 0;
}

EXPORT int xc_mem_paging_nominate(void *xch, uint32_t domid, uint64_t gfn)
{
	(void)xch, (void)domid;
	return paging_gfn_op("nominate", gfn);
}

#ifndef FAKE_OMIT_EVICT
EXPORT int xc_mem_paging_evict(void *xch, uint32_t domid, uint64_t gfn)
{
	(void)xch, (void)domid;
	return paging_gfn_op("evict", gfn);
}
#endif

#ifndef FAKE_OMIT_PREP
EXPORT int xc_mem_paging_prep(void *xch, uint32_t domid, uint64_t gfn)
{
	(void)xch, (void)domid;
	return paging_gfn_op("prep", gfn);
}
#endif

EXPORT int xc_mem_paging_load(void *xch, uint32_t domid, uint64_t gfn,
			      void *buffer)
{
	(void)xch, (void)domid;
	/* Like every release up to at least 4.12: page-aligned or EINVAL. */
	if (!buffer || ((uintptr_t)buffer & 4095)) {
		fake_log_add("load:%llx:unaligned", (unsigned long long)gfn);
		errno = EINVAL;
		return -1;
	}
	fake_log_add("load:%llx:%02x", (unsigned long long)gfn,
		     ((unsigned char *)buffer)[0]);
	return paging_fail(gfn) ? -1 : 0;
}

EXPORT int xc_domain_pause(void *xch, uint32_t domid)
{
	(void)xch;
	fake_log_add("pause:%u", domid);
	return fail("pause") ? -1 : 0;
}

EXPORT int xc_domain_unpause(void *xch, uint32_t domid)
{
	(void)xch;
	fake_log_add("unpause:%u", domid);
	return fail("unpause") ? -1 : 0;
}

/* xen_domctl_getdomaininfo as the release lays it out. */
#ifdef FAKE_DOMINFO_V42
#define DI_SIZE 88
#define DI_NR_ONLINE 56
#define DI_MAX_VCPU_ID 60
#else
#define DI_SIZE 104
#define DI_NR_ONLINE 64
#define DI_MAX_VCPU_ID 68
#endif

static void fill_dominfo(unsigned char *info, uint16_t dom)
{
	/* dom0 is PV unless "dom0_flags" says otherwise */
	uint32_t flags = (uint32_t)fake_get(dom ? "flags" : "dom0_flags");
	uint64_t tot = (uint64_t)fake_get("tot_pages");
	uint64_t max = (uint64_t)fake_get("max_pages");
	uint32_t vid = (uint32_t)fake_get("max_vcpu_id"), online = vid + 1;

	memset(info, 0, DI_SIZE);
	memcpy(info + 0, &dom, 2);
	memcpy(info + 4, &flags, 4);
	memcpy(info + 8, &tot, 8);
	memcpy(info + 16, &max, 8);
	memcpy(info + DI_NR_ONLINE, &online, 4);
	memcpy(info + DI_MAX_VCPU_ID, &vid, 4);
}

/* Domains 0 and fake_get("domid") exist. */
EXPORT int xc_domain_getinfolist(void *xch, uint32_t first, unsigned int max,
				 void *info)
{
	uint32_t dom = (uint32_t)fake_get("domid");

	(void)xch;
	fake_log_add("getinfolist");
	if (fail("getinfo"))
		return -1;
	if (max < 1)
		return 0;
	if (first == 0) {
		fill_dominfo(info, 0);
		return 1;
	}
	if (first <= dom) {
		fill_dominfo(info, (uint16_t)dom);
		return 1;
	}
	return 0;
}

#ifdef FAKE_HAS_GETINFO_SINGLE
EXPORT int xc_domain_getinfo_single(void *xch, uint32_t domid, void *info)
{
	(void)xch;
	fake_log_add("getinfo_single");
	if (fail("getinfo"))
		return -1;
	if (domid != 0 && domid != (uint32_t)fake_get("domid")) {
		errno = ESRCH;
		return -1;
	}
	fill_dominfo(info, (uint16_t)domid);
	return 0;
}
#endif

#ifdef FAKE_HAS_NR_GPFNS
EXPORT int xc_domain_maximum_gpfn(void *xch, uint32_t domid,
				  unsigned long *gpfns)
{
	(void)xch, (void)domid;
	fake_log_add("maximum_gpfn");
	*gpfns = (unsigned long)fake_get("max_gpfn");
	return 0;
}

EXPORT int xc_domain_nr_gpfns(void *xch, uint32_t domid,
			      unsigned long *gpfns)
{
	(void)xch, (void)domid;
	fake_log_add("nr_gpfns");
	*gpfns = (unsigned long)fake_get("max_gpfn") + 1;
	return 0;
}
#else
/* 4.2 - 4.5: the maximum gpfn is the return value. */
EXPORT int xc_domain_maximum_gpfn(void *xch, uint16_t domid)
{
	(void)xch, (void)domid;
	fake_log_add("maximum_gpfn");
	return (int)fake_get("max_gpfn");
}
#endif

#ifndef FAKE_OMIT_PFN_TYPE
/* XEN_DOMCTL_PFINFO_*: the type in bits 28 - 31; a hole, a special page
 * of Xen's or a paged-out gfn is XTAB. */
#define FAKE_PFINFO_NOTAB  0x0ul
#define FAKE_PFINFO_XTAB   (0xful << 28)
#define FAKE_PFINFO_BROKEN (0xdul << 28)

EXPORT int xc_get_pfn_type_batch(void *xch, uint32_t domid, unsigned int num,
				 unsigned long *arr)
{
	unsigned long low = (unsigned long)fake_get("ram_low");
	unsigned long hi = (unsigned long)fake_get("ram_hi");

	(void)xch;
	fake_set("pfn_type_calls", fake_get("pfn_type_calls") + 1);
	if (num > 1024) {
		errno = E2BIG;
		return -1;
	}
	if (fail("pfn_type"))
		return -1;
	if (domid == 0) {
		/* a PV dom0's frames are machine frames: 0x30 is its own */
		fake_log_add("pfn_type_dom0:%u", num);
		for (unsigned int i = 0; i < num; i++)
			arr[i] = arr[i] == 0x30 ? FAKE_PFINFO_NOTAB
						: FAKE_PFINFO_XTAB;
		return 0;
	}
	for (unsigned int i = 0; i < num; i++) {
		unsigned long g = arr[i];

		if ((long)g == fake_get("broken_gfn"))
			arr[i] = FAKE_PFINFO_BROKEN;
		else if ((long)g == fake_get("xtab_gfn") ||
			 (g >= low && g < hi) ||
			 g > (unsigned long)fake_get("max_gpfn"))
			arr[i] = FAKE_PFINFO_XTAB;
		else
			arr[i] = FAKE_PFINFO_NOTAB;
	}
	return 0;
}
#endif

/* A vCPU's registers: the ones a walk of the guest's page tables needs. */
EXPORT int xc_domain_hvm_getcontext_partial(void *xch, uint32_t domid,
					    uint16_t typecode,
					    uint16_t instance, void *buf,
					    uint32_t size)
{
	struct hvm_hw_cpu c;

	(void)xch, (void)domid;
	if (typecode != HVM_SAVE_CODE(CPU) || size < sizeof(c)) {
		errno = EINVAL;
		return -1;
	}
	if (instance >= fake_get("hvm_vcpus")) {
		errno = ENOENT;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.cr0 = 0x80000011;          /* PG, ET, PE */
	c.cr4 = 0x20;                /* PAE */
	c.msr_efer = 0x500;          /* LME, LMA */
	if (fake_get("hvm_nxe"))
		c.msr_efer |= 0x800; /* NXE */
	c.cr3 = (uint64_t)fake_get("hvm_cr3");
	c.gs_base = (uint64_t)fake_get("hvm_gs");
	c.rsp = (uint64_t)fake_get("hvm_rsp");
	c.idtr_base = (uint64_t)fake_get("hvm_idt");
	c.gdtr_base = (uint64_t)fake_get("hvm_gdt");
	c.tr_base = (uint64_t)fake_get("hvm_tss");
	memcpy(buf, &c, sizeof(c));
	return 0;
}

/* --- the host's frames (libxenguest's calls; FAKE_HAS_OFFLINE) ---------- */

/* A host of FAKE_MAX_MFN frames: 0x10 is Xen's image, 0x11 MMIO, 0x20
 * domain fake_get("domid")'s gfn 0x1234, 0x30 dom0's, the others free. The calls
 * write Xen's words (xen/common/page_alloc.c) and stop where Xen stops. */
#define FAKE_MAX_MFN 0x100ul

#ifdef FAKE_HAS_NR_GPFNS
/* 4.6+: the value through the pointer */
EXPORT int xc_maximum_ram_page(void *xch, unsigned long *max)
{
	(void)xch;
	*max = FAKE_MAX_MFN;
	return 0;
}
#else
EXPORT long xc_maximum_ram_page(void *xch)
{
	(void)xch;
	return (long)FAKE_MAX_MFN;
}
#endif

#ifdef FAKE_HAS_OFFLINE
enum { F_FREE, F_OWNED, F_PENDING, F_OFFLINED };
static unsigned char fstate[FAKE_MAX_MFN];

static int one_frame(int cmd, unsigned long m, uint32_t *st)
{
	uint32_t dom = (uint32_t)fake_get("domid");

	if (m >= FAKE_MAX_MFN || (m == 0x11 && cmd != 2))
		return m == 0x11 ? (*st = (1u << 3) | (1u << 11), -EINVAL)
				 : -EINVAL;
	if (m == 0x10 && cmd == 1) {
		*st = (1u << 8) | (1u << 3) | (0x7ff2u << 16);
		return -EPERM;
	}
	if ((m == 0x20 || m == 0x30) && fstate[m] == F_FREE)
		fstate[m] = F_OWNED;
	if (m == 0x30)
		dom = 0;
	*st = 0;
	if (cmd == 1 && (fstate[m] == F_OWNED || fstate[m] == F_PENDING)) {
		fstate[m] = F_PENDING;
		*st = (1u << 12) | (1u << 2) | (dom << 16);
	} else if (cmd == 1) {
		fstate[m] = F_OFFLINED;
		*st = 1u << 1;
	} else if (cmd == 2 && fstate[m] >= F_PENDING) {
		fstate[m] = fstate[m] == F_PENDING ? F_OWNED : F_FREE;
		*st = 1u << 1;
	} else if (cmd == 3) {
		*st = fstate[m] == F_PENDING ? 1u << 3 :
		      fstate[m] == F_OFFLINED ? 1u << 1 : 0;
	}
	return 0;
}

/* XEN_SYSCTL_page_offline_op as libxenguest issues it: -1 with errno
 * where Xen stopped, the words copied back either way. */
static int page_offline_op(const char *what, int cmd, unsigned long start,
			   unsigned long end, uint32_t *status)
{
	int rc = 0;

	fake_log_add("%s:%lx-%lx", what, start, end);
	if (fail(what))
		return -1;
	memset(status, 0x01, (end - start + 1) * 4);
	for (unsigned long m = start; m <= end && !rc; m++)
		rc = one_frame(cmd, m, &status[m - start]);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

EXPORT int xc_mark_page_offline(void *xch, unsigned long start,
				unsigned long end, uint32_t *status)
{
	(void)xch;
	return page_offline_op("offline", 1, start, end, status);
}

EXPORT int xc_mark_page_online(void *xch, unsigned long start,
			       unsigned long end, uint32_t *status)
{
	(void)xch;
	return page_offline_op("online", 2, start, end, status);
}

EXPORT int xc_query_page_offline_status(void *xch, unsigned long start,
					unsigned long end, uint32_t *status)
{
	(void)xch;
	return page_offline_op("query", 3, start, end, status);
}

EXPORT unsigned long *xc_map_m2p(void *xch, unsigned long max_mfn, int prot,
				 unsigned long *mfn0)
{
	size_t len = (max_mfn * 8 + (1ul << 21) - 1) & ~((1ul << 21) - 1);
	unsigned long *m2p;

	(void)xch, (void)mfn0;
	fake_log_add("map_m2p:%lx:%d", max_mfn, prot);
	m2p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m2p == MAP_FAILED)
		return NULL;
	memset(m2p, 0xff, len);
	m2p[0x20] = 0x1234;
	mprotect(m2p, len, prot);
	return m2p;
}
#endif
