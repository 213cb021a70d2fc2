/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The few operations a hypervisor offers a pager. The core (handle,
 * negotiation, codecs, gfn table, dispatch) is written against this and
 * nothing else; backend_xen.c speaks to Xen through its tool libraries,
 * backend_sim.c to xpage-simd through simproto.h.
 *
 * Every operation returns 0 (or a non-negative value where said) or a
 * negative errno exactly as the hypervisor gave it, so the core can turn
 * it into a sentence. A backend that lacks an operation leaves the pointer
 * NULL; the core treats that as -EOPNOTSUPP.
 */
#ifndef XPAGE_BACKEND_H
#define XPAGE_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A backend's own state. Each backend completes the type for itself, in
 * its own files (backend_sim.c; xen_backend.h for the Xen backend; the
 * tests' fakes), and hands the core a pointer that only its own
 * operations read: the core never looks inside, so the definitions need
 * not agree and no object is ever seen through two of them. */
struct xp_backend;
struct xpage_gfn_range;

/* Domain facts a backend reports. */
struct xp_dominfo {
	uint32_t domid;
	uint32_t vcpus;        /* max vCPU id + 1 */
	uint64_t nr_gfns;      /* gfns 0 .. nr_gfns - 1 may be paged */
	uint32_t hvm;
	uint32_t dying;        /* crashed, shutting down or dying */
	uint64_t tot_pages;    /* pages the domain holds (0: not known) */
};

/* A gfn no guest has: a place map() leaves empty. */
#define XP_GFN_NONE UINT64_MAX

/* Paging sub-operations (the hypervisor's numbering). */
#define XP_PAGING_NOMINATE 0u
#define XP_PAGING_EVICT    1u
#define XP_PAGING_PREP     2u

/* One paging operation of a batch. buf: PREP data (XPAGE_PAGE_SIZE bytes)
 * or NULL for prep without a buffer. rc: filled with 0 or -errno. idx:
 * the core's own record of where the gfn stands in its caller's array
 * (backends leave it alone). */
struct xp_paging_op {
	uint32_t op;
	int rc;
	uint64_t gfn;
	const void *buf;
	size_t idx;
};

/* Log sink the backend uses (the core's logger). */
/* log.c: one message to @fn (if set and @level <= @max_level); the
 * handle's and the host handle's loggers both end here. */
void xp_vlog_to(xpage_log_fn fn, void *ctx, int max_level, int level,
		const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

typedef void (*xp_backend_log_fn)(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define XP_LD_OFF    0u
#define XP_LD_ENABLE 2u
#define XP_LD_CLEAN  11u
#define XP_LD_PEEK   12u

#define XP_CODE_KERNEL 0u
#define XP_CODE_USER   1u

struct xp_backend_ops {
	const char *name; /* "xen", "sim" */

	/* Attach to @domid; @arg is backend specific (sim: socket path).
	 * Returns -ENOENT when this backend is not available on the machine
	 * (no Xen, no simulator), -ESRCH for an unknown domain. */
	int (*open)(struct xp_backend **be, uint32_t domid, const char *arg,
		    xp_backend_log_fn log, void *log_ctx);
	void (*close)(struct xp_backend *be);

	int (*domain_info)(struct xp_backend *be, struct xp_dominfo *info);
	/* The guest's RAM: up to @max ranges of gfns into @r, ascending,
	 * disjoint, inside 0 .. nr_gfns - 1. Returns how many ranges there
	 * are in all (more than @max: only @max written), or a negative
	 * errno. Gfns with no page because they are paged out are RAM; the
	 * core adds the ones it holds paged out, so a backend that learns RAM
	 * from the p2m may leave those out. NULL: -EOPNOTSUPP. */
	int (*ram_ranges)(struct xp_backend *be, struct xpage_gfn_range *r,
			  size_t max);
	/* A name for the attached domain, the same for every process of this
	 * machine that attaches to it and unique among the hypervisors the
	 * backend may reach (the library's per-domain pager lock). 0 or a
	 * negative errno. NULL: "<name>:<domid>" (one hypervisor a machine). */
	int (*domain_key)(struct xp_backend *be, char *buf, size_t len);
	/* Xen version; 0 on success. */
	int (*xen_version)(struct xp_backend *be, uint32_t *major,
			   uint32_t *minor);
	/* Ring interface version (xc_vm_event_get_version); -ENOSYS where the
	 * hypervisor or its tool library lacks the query. */
	int (*vm_event_version)(struct xp_backend *be, uint32_t *version);
	/* Paging age the hypervisor speaks; -ENOSYS where it has no notion. */
	int (*paging_age)(struct xp_backend *be, uint32_t *age);
	/* 1 if batches can go in one trap (multicall), else 0. */
	int (*can_multicall)(struct xp_backend *be);
	/* The hypervisor's tool library the backend loaded (its name as
	 * found), valid until close; NULL: none. */
	const char *(*tool_library)(struct xp_backend *be);

	/* Enable paging, Xen 4.2+ style: find the ring gfn, populate it if
	 * needed, map it, enable (declaring @age where the hypervisor has the
	 * notion, 0 = declare nothing), bind the event channel, and remove the
	 * ring gfn from the guest physmap. On success *ring is the mapped ring
	 * page (read/write, owned by the backend until disable/close). */
	int (*enable)(struct xp_backend *be, uint32_t age, void **ring);
	/* Disable paging and release the ring mapping and event channel. */
	int (*disable)(struct xp_backend *be);
	/* Drop the ring mapping and event channel without disabling. */
	void (*forget)(struct xp_backend *be);

	int (*pause)(struct xp_backend *be);
	int (*unpause)(struct xp_backend *be);

	/* Run @n paging operations; each op's rc is filled. Returns the number
	 * of traps it took (>= 1) or a negative errno when the batch could not
	 * be issued at all (then no rc is meaningful). Uses one trap for the
	 * whole batch when can_multicall() is true. */
	int (*paging_ops)(struct xp_backend *be, struct xp_paging_op *ops,
			  size_t n);

	/* Map @n gfns into one contiguous region (page i at base + i * 4096),
	 * in one mapping call; err[i] = 0 or -errno (-ENOENT: paging state).
	 * A gfn of XP_GFN_NONE is a hole in the region: nothing is mapped
	 * there and its err is -EINVAL (the backend may leave it out of the
	 * call, or pass it on for the hypervisor to refuse: no guest has such
	 * a gfn). @prot: PROT_READ or PROT_READ | PROT_WRITE. NULL with errno
	 * when nothing could be mapped at all. */
	void *(*map)(struct xp_backend *be, const uint64_t *gfns, size_t n,
		     int prot, int *err);
	int (*unmap)(struct xp_backend *be, void *addr, size_t n);

	/* The gfns the hypervisor reads or writes itself, on a guest vCPU's
	 * behalf, where a paging request for them is fatal to the domain (on
	 * Xen: the runstate areas it writes from its scheduler, the kernel
	 * stacks it copies hypercall arguments from, and the guest page
	 * tables it walks to both; docs/xen-hazards.md). Fills up to
	 * @cap gfns and returns how many, or a negative errno (-EOPNOTSUPP:
	 * the backend cannot tell). The set follows the guest (its current
	 * page tables): ask again before each nomination. NULL: none. */
	int (*hv_gfns)(struct xp_backend *be, uint64_t *gfns, size_t cap);

	/* The gfns the guest runs code from, as of the last hv_gfns call:
	 * @which XP_CODE_KERNEL, what its kernel maps executable (its own
	 * code, modules too), or XP_CODE_USER, what the processes its vCPUs
	 * were seen running map executable. Sorted, each once, owned by the
	 * backend until its next hv_gfns call. Returns how many (*@gfns set),
	 * 0 when none are known, or -EOPNOTSUPP when the backend cannot tell.
	 * NULL: cannot tell. */
	int (*code_gfns)(struct xp_backend *be, unsigned which,
			 const uint64_t **gfns);

	/* Log-dirty mode (write tracking), Xen's shadow-op numbering: @op
	 * XP_LD_ENABLE (answers -EINVAL, as Xen does, when the mode is on
	 * already, whoever holds it), XP_LD_OFF, or XP_LD_CLEAN / XP_LD_PEEK:
	 * the bits of gfns 0 .. @nr - 1 into @bitmap ((@nr + 63) / 64 words,
	 * every word written, nothing past @nr set), their count into
	 * *@dirty; CLEAN resets them. 0 or the hypervisor's negative errno.
	 * NULL: no log-dirty mode (-EOPNOTSUPP). */
	int (*logdirty)(struct xp_backend *be, unsigned op, uint64_t *bitmap,
			uint64_t nr, uint64_t *dirty);

	/* Event channel: the fd to poll, notify the hypervisor, and consume a
	 * pending notification (re-arming it). The fd also polls readable
	 * when the connection to the hypervisor is lost (then ack() and
	 * connection() return the error), so that a wait ends at once. */
	int (*evtchn_fd)(struct xp_backend *be);
	int (*notify)(struct xp_backend *be);
	int (*ack)(struct xp_backend *be);

	/* 0 while the connection to the hypervisor works; -EIO once it is
	 * gone for good (a simulator that died): the core then refuses every
	 * call that needs the hypervisor. Cheap: no round trip. NULL: the
	 * connection cannot be lost (Xen: the hypervisor is the machine). */
	int (*connection)(struct xp_backend *be);
};

extern const struct xp_backend_ops xp_backend_sim;
/* NULL when the library was built without Xen support. */
extern const struct xp_backend_ops *const xp_backend_xen_ops;

#endif
