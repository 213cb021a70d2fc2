/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxpage: a stable interface for Xen memory pagers.
 *
 * A pager opens a domain with xpage_open(), says which interface ages and
 * features it speaks, and gets back a handle on which it
 *   - nominates, maps, evicts, loads and resumes arrays of gfns (one status
 *     per gfn, one hypervisor round trip or mapping call per batch where the
 *     hypervisor allows it);
 *   - waits on xpage_fd() and calls xpage_dispatch(), which drains the
 *     paging ring and runs the pager's callbacks (populate, evict_fail,
 *     drop).
 * Every difference between hypervisor releases (ring layouts, response
 * fields, nominate/map ordering, missing EVICT_FAIL notices, load without a
 * buffer) is handled inside the library.
 *
 * Conventions
 *   - Functions returning int return >= 0 on success and a negative errno
 *     value on failure; errno is set to the positive value as well.
 *     Functions returning a pointer return NULL and set errno.
 *   - Batch calls take `status`, an array of n ints the library fills with
 *     0 or a negative errno per gfn; the return value is the number of gfns
 *     that succeeded, or a negative errno if the call as a whole was refused
 *     (in which case status is unspecified, except that the entry of a gfn
 *     the call had already passed on holds the call's error, never 0;
 *     a refused call may have changed some gfns). -EPROTO means the
 *     hypervisor's (or simulator's) answers broke its interface (a
 *     corrupt ring, or a reply that makes no sense). From then on
 *     xpage_dispatch(), xpage_nominate(), xpage_evict(),
 *     xpage_unnominate() and xpage_resume() refuse with -EPROTO, while
 *     xpage_load() still gives pages back, xpage_map(), xpage_unmap() and
 *     xpage_adopt() still work and the queries still answer, so that a
 *     pager can save what it holds before xpage_close().
 *     A batch of n = 0 gfns is no error: the call does nothing and returns
 *     0 (the arrays may be NULL); xpage_map() then returns NULL with errno
 *     0, and xpage_unmap(xp, NULL, 0) returns 0.
 *   - Extensible structs start with `size_t sz`, set by the caller with
 *     XPAGE_OPTS(). A caller built against an older header passes a smaller
 *     sz and keeps working; bytes past this library's sizeof of the struct
 *     must be zero or the call fails with -E2BIG (tail padding of the
 *     struct is not checked: fields added later start past it).
 *   - A handle is used by one thread at a time. A call made while another
 *     thread is inside a call on the same handle (a thread waiting in
 *     xpage_dispatch() included) fails with -EBUSY and changes nothing.
 *     Different handles are independent.
 *   - A handle belongs to the process that opened it. In a child made by
 *     fork() every call on it fails with -ECHILD, except xpage_close()
 *     and xpage_detach(): there they release the child's memory of the
 *     handle, touch nothing of the domain and return 0 (the parent's
 *     pager goes on; its descriptors stay open in the child until it
 *     exits or execs).
 *   - Once the connection to the hypervisor is lost (a simulator that
 *     died), every call that needs it fails at once with -EIO: xpage_fd()
 *     polls readable and xpage_dispatch() returns -EIO however long it
 *     was to wait. xpage_gfn_state(), xpage_get_info() and
 *     xpage_get_stats() still answer from the library's records (a pager
 *     may save its state); xpage_close() releases the handle and returns
 *     -EIO.
 *   - Nothing in the library prints or exits; diagnostics go to the
 *     optional log callback.
 */
#ifndef XPAGE_XPAGE_H
#define XPAGE_XPAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define XPAGE_API __attribute__((visibility("default")))
#else
#define XPAGE_API
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */

#define XPAGE_VERSION_MAJOR 1
#define XPAGE_VERSION_MINOR 1
#define XPAGE_VERSION_PATCH 0

/* One number per version, comparable: major << 16 | minor << 8 | patch. */
#define XPAGE_VERSION_NUMBER(maj, min, patch) \
	(((maj) << 16) | ((min) << 8) | (patch))
#define XPAGE_VERSION \
	XPAGE_VERSION_NUMBER(XPAGE_VERSION_MAJOR, XPAGE_VERSION_MINOR, \
			     XPAGE_VERSION_PATCH)
/* True when the header being compiled against is at least maj.min.patch. */
#define XPAGE_CHECK_VERSION(maj, min, patch) \
	(XPAGE_VERSION >= XPAGE_VERSION_NUMBER(maj, min, patch))

/* Size of a guest page, the unit of every operation. */
#define XPAGE_PAGE_SIZE 4096u

/*
 * Zero-initialise an extensible struct and set its size, with optional
 * designated initialisers: XPAGE_OPTS(xpage_open_opts, .domid = 5)
 */
#define XPAGE_OPTS(...) XPAGE_OPTS_(__VA_ARGS__, )
#define XPAGE_OPTS_(type, ...) \
	((struct type){ .sz = sizeof(struct type), __VA_ARGS__ })

/**
 * xpage_version() - version of the library actually loaded.
 * Returns XPAGE_VERSION_NUMBER() of the run-time library. Never fails,
 * thread-safe, does not block.
 */
XPAGE_API uint32_t xpage_version(void);

/**
 * xpage_version_string() - the run-time version as "major.minor.patch".
 * Returns a static string. Never fails, thread-safe, does not block.
 */
XPAGE_API const char *xpage_version_string(void);

/* ------------------------------------------------------------------------ */
/* Interface ages and features                                              */

/*
 * Ages of the paging contract. A pager names the ages it can work with as
 * a bit mask; the library picks the highest one the hypervisor also
 * speaks.
 *   age 1: gfns are nominated before the pager maps them. Every released
 *          Xen speaks age 1 and nothing else.
 *   age 2: the pager must hold a mapping of a gfn when nominating it, and
 *          the hypervisor need not send EVICT_FAIL (the library synthesises
 *          it). This is a proposal for Xen (MEM_EVENT_PAGING_AGE) that no
 *          released Xen implements; only the simulator's xen-4.2-age2
 *          personality speaks it. It is in the ABI so that a pager that
 *          names it keeps working should a hypervisor adopt it.
 * The library hides the ordering difference: with either age, a pager calls
 * xpage_nominate(), then xpage_map() to write pages out.
 */
#define XPAGE_AGE_1 (1u << 0)
#define XPAGE_AGE_2 (1u << 1)
#define XPAGE_AGES_ALL (XPAGE_AGE_1 | XPAGE_AGE_2)

/*
 * Features of the negotiated contract. Baseline behaviour (populate and
 * EVICT_FAIL notices, coalescing of page-in requests, per-gfn status) is
 * always there and has no bit. A pager asks for features with
 * xpage_open_opts.features_wanted (or _required); what it names and the
 * hypervisor offers is in force (xpage_info.features). A pager that names
 * none gets none: name XPAGE_FEAT_ALL to get whatever the hypervisor
 * offers. Of the bits, only XPAGE_FEAT_MULTICALL changes how the library
 * works; the others say where things come from, and drop and evict_fail
 * notices reach the callbacks whether or not their bits are in force.
 */
/* The hypervisor reports pages the guest released (drop callback). */
#define XPAGE_FEAT_DROP          (1ull << 0)
/* EVICT_FAIL comes from the hypervisor itself (else the library derives it
 * from its own state table; the pager sees the same callbacks either way). */
#define XPAGE_FEAT_EVICT_FAIL_HV (1ull << 1)
/* A load is one hypercall with the data (prep with a buffer). Every
 * hypervisor the library supports (Xen 4.2 and later) offers it, and a
 * load works that way whether or not the bit is in force: the bit only
 * reports it. */
#define XPAGE_FEAT_LOAD_BUFFER   (1ull << 2)
/* The hypervisor answers a query for its ring interface version. */
#define XPAGE_FEAT_VERSION_QUERY (1ull << 3)
/* Many nominate/evict/load operations go to the hypervisor in one trap
 * (a multicall) instead of one trap per gfn. */
#define XPAGE_FEAT_MULTICALL     (1ull << 4)
/* Every feature bit this version of the library knows. */
#define XPAGE_FEAT_ALL           ((1ull << 5) - 1)

/*
 * Ring interface generations, as the library reports them. The value says
 * which hypervisor layout is in use; pagers need not care.
 */
enum xpage_generation {
	XPAGE_GEN_UNKNOWN = 0,
	XPAGE_GEN_MEM_EVENT_42 = 1, /* Xen 4.2 - 4.4, 40-byte slots */
	XPAGE_GEN_MEM_EVENT_45 = 2, /* Xen 4.5, 296-byte slots */
	XPAGE_GEN_VM_EVENT_V1 = 3,  /* Xen 4.6 - 4.7 */
	XPAGE_GEN_VM_EVENT_V2 = 4,  /* Xen 4.8 - 4.10 */
	XPAGE_GEN_VM_EVENT_V3 = 5,  /* Xen 4.11 */
	XPAGE_GEN_VM_EVENT_V4 = 6,  /* Xen 4.12 */
	XPAGE_GEN_VM_EVENT_V5 = 7,  /* Xen 4.13 */
	XPAGE_GEN_VM_EVENT_V6 = 8,  /* Xen 4.14 */
	XPAGE_GEN_VM_EVENT_V7 = 9,  /* Xen 4.15 and later */
};

/**
 * xpage_generation_name() - a short name for a generation ("vm_event-v7").
 * Returns a static string ("unknown" for values it does not know). Never
 * fails, thread-safe.
 */
XPAGE_API const char *xpage_generation_name(int generation);

/**
 * xpage_feature_name() - name of one feature bit ("drop", "multicall").
 * Returns a static string, or NULL if @feature is not exactly one known bit.
 */
XPAGE_API const char *xpage_feature_name(uint64_t feature);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */

enum xpage_log_level {
	XPAGE_LOG_ERROR = 0,
	XPAGE_LOG_WARN = 1,
	XPAGE_LOG_INFO = 2,
	XPAGE_LOG_DEBUG = 3,
};

/* Called with a complete, newline-free message. Never guest page data. */
typedef void (*xpage_log_fn)(void *ctx, int level, const char *msg);

/* ------------------------------------------------------------------------ */
/* Opening a domain                                                         */

typedef struct xpage xpage_t;

enum xpage_backend {
	/* Xen if the machine runs it, else the simulator named by sim_socket
	 * or the XPAGE_SIM_SOCKET environment variable. */
	XPAGE_BACKEND_AUTO = 0,
	XPAGE_BACKEND_XEN = 1,
	XPAGE_BACKEND_SIM = 2,
};

/* xpage_open_opts.flags */
/* A paging ring is already enabled (a previous pager died): take it over.
 * The domain is paused, paging is disabled and enabled again, and the
 * domain is unpaused; no vCPU runs while no ring exists. Without this flag
 * such an open fails with -EBUSY; with it, a domain without a ring is
 * simply attached (xpage_info.took_over says which happened).
 * Every open, with this flag or without, answers the vCPUs a previous
 * ring left paused (a pager that died, or one that closed while the guest
 * waited for a page it had evicted): each vCPU gets one answer that
 * releases it and changes no page. On Xen 4.2 - 4.4 that is not possible:
 * those releases unpause a vCPU for any answer without checking that it
 * was paused (a running vCPU then stops for good) and nothing tells which
 * vCPUs are paused, so no vCPU is answered and the ones a dead pager left
 * paused stay paused (the log says so). A libxpage pager that closes or
 * detaches on those releases releases the vCPUs it holds requests of
 * itself. Either way the open fails
 * with -EBUSY, before anything is touched, while another libxpage pager
 * of this machine still holds the domain (an open handle in a running
 * process: it must exit, close or xpage_detach() first); a running pager
 * that does not use libxpage cannot be seen. Requests the previous pager
 * had read are gone, and a vCPU faulting on a gfn already paging in raises
 * no new one: it retries until the gfn is loaded. Load the gfns you adopt
 * (xpage_adopt) soon after the takeover. */
#define XPAGE_OPEN_TAKEOVER (1u << 0)
/* (1.1) xpage_open returns with the domain paused, one pause held by the
 * handle until xpage_unpause() (or close, or detach without keep_paused).
 * For a pager that takes over: it adopts what its records say is out and
 * loads all of it before any vCPU runs. On Xen a vCPU released by the
 * takeover while the gfns it (or Xen's scheduler, for it) touches are
 * still out raises request after request, and a full ring then crashes
 * the domain (docs/xen-hazards.md). */
#define XPAGE_OPEN_KEEP_PAUSED (1u << 1)
#define XPAGE_OPEN_FLAGS_ALL (XPAGE_OPEN_TAKEOVER | XPAGE_OPEN_KEEP_PAUSED)

struct xpage_open_opts {
	size_t sz;
	uint32_t domid;
	uint32_t backend;          /* enum xpage_backend */
	const char *sim_socket;    /* simulator socket path (SIM/AUTO) */
	uint32_t ages;             /* XPAGE_AGE_* mask; 0 means XPAGE_AGE_1 */
	uint32_t flags;            /* XPAGE_OPEN_* */
	uint64_t features_required;/* open fails with -EOPNOTSUPP without them */
	uint64_t features_wanted;  /* used when the hypervisor has them; 0:
				    * none (XPAGE_FEAT_ALL: all it offers) */
	xpage_log_fn log_fn;       /* optional */
	void *log_ctx;
	int log_level;             /* messages up to this level are passed */
};
#define xpage_open_opts__last_field log_level

/* Flags of a populate notice. */
/* At least one guest vCPU is paused until the gfn is resumed. */
#define XPAGE_POPULATE_PAUSED  (1u << 0)
/* The request came from a foreign mapping (e.g. a toolstack process). */
#define XPAGE_POPULATE_FOREIGN (1u << 1)

/* What the populate callback is told. Read-only, valid during the call. */
struct xpage_populate {
	size_t sz;         /* bytes of this struct the library filled */
	uint64_t gfn;
	uint32_t vcpu;     /* first vCPU that asked */
	uint32_t flags;    /* XPAGE_POPULATE_* */
	uint32_t requests; /* always 1: the callback comes with the gfn's
			    * first request; later ones are held with it
			    * (stats.coalesced) */
};

/*
 * Callbacks, run only from inside xpage_dispatch(), on the caller's thread.
 * On the same handle a callback may call xpage_nominate(), xpage_map(),
 * xpage_unmap(), xpage_evict(), xpage_unnominate(), xpage_relocate() (1.1),
 * xpage_load(),
 * xpage_resume(), xpage_adopt(), xpage_gfn_state(), xpage_fd(),
 * xpage_get_info() and xpage_get_stats() (and anything on other handles).
 * xpage_dispatch(), xpage_close() and xpage_detach() fail there with
 * -EINVAL and do nothing: the handle is in use below the callback.
 *
 * populate: the guest (or a foreign mapper) needs @ev->gfn, which the pager
 *   evicted. Called once per gfn however many requests arrive for it; the
 *   pager answers with xpage_load() and xpage_resume(), now or later, and
 *   every waiting vCPU is then released.
 * evict_fail: a nominated gfn was touched (or released) before it was
 *   evicted. Its contents are still in guest memory: any write-out in
 *   progress for it is useless, and xpage_evict() on it will fail. The
 *   library answers the waiting vCPUs itself. A notice older than the
 *   gfn's current nomination (checked with one prep without data) is
 *   answered without a callback: the gfn stays nominated.
 * drop: the guest released a gfn that was paged out or nominated; the
 *   pager's copy is no longer needed. No answer is expected. A release
 *   the library found out first (xpage_unnominate() or xpage_load()
 *   reported the gfn resident because it no longer mapped or had become
 *   an ordinary page) gets no drop call when its notice is read later:
 *   by then the gfn may be paged out again, and that copy is needed.
 */
struct xpage_callbacks {
	size_t sz;
	void *user;
	void (*populate)(xpage_t *xp, const struct xpage_populate *ev,
			 void *user);
	void (*evict_fail)(xpage_t *xp, uint64_t gfn, void *user);
	void (*drop)(xpage_t *xp, uint64_t gfn, void *user);
};
#define xpage_callbacks__last_field drop

/**
 * xpage_open() - attach to a domain and enable paging on it.
 * @opts: sized options; NULL is not allowed.
 * @cbs:  sized callbacks; populate is required.
 *
 * Learns the hypervisor's ring generation, agrees on an age and a feature
 * set, enables the paging ring (removing the ring page from the guest's
 * physmap before it is used) and binds the event channel.
 *
 * Returns a handle, or NULL with errno (the log function of @opts, when
 * @opts can be read, says why):
 *   EINVAL     malformed opts/callbacks (NULL, an sz no release had),
 *              unknown flag/age/feature bits, no populate callback
 *   E2BIG      non-zero bytes past the fields this library knows
 *   ESRCH      no such domain
 *   ENOEXEC    no age in common with the hypervisor
 *   EOPNOTSUPP a required feature is missing (the log names it), or the
 *              hypervisor refuses paging for this domain
 *   ENOSYS     the hypervisor was built without memory paging
 *   ENODEV     the domain has no hardware-assisted paging (HAP)
 *   EMLINK     the domain uses an IOMMU / device passthrough
 *   EXDEV      the domain is populate-on-demand
 *   EBUSY      another pager is active: a libxpage pager of this machine
 *              holds the domain, or (without XPAGE_OPEN_TAKEOVER) a ring
 *              is enabled
 *   ENOENT     no hypervisor and no simulator could be reached
 *   ENOMEM     out of memory
 * Blocks for a few hypervisor round trips. Thread-safe with respect to
 * other handles.
 */
XPAGE_API xpage_t *xpage_open(const struct xpage_open_opts *opts,
			      const struct xpage_callbacks *cbs);

/**
 * xpage_close() - disable paging and release the handle.
 * With the domain paused: releases the pager's mappings, un-nominates
 * gfns still nominated (xpage_unnominate), answers every request that can
 * be answered without the pager (no callbacks run), disables paging, and
 * unpauses. (1.1) When gfns are still evicted, paging is not disabled (on
 * Xen a guest access to an evicted page with paging disabled crashes the
 * domain): the ring stays for the next pager, as after xpage_detach(xp,
 * 0), and the call returns -ENOTEMPTY. A vCPU that touches such a page,
 * or already waits for one, stays paused until the next pager opens with
 * XPAGE_OPEN_TAKEOVER, adopts and loads it (on Xen 4.2 - 4.4 one waiting
 * at close is released here and retries its access). Load every page
 * back first to end paging for good. Returns 0, -ENOTEMPTY, or the
 * negative errno of the disable (the handle is released anyway). Nothing
 * is released on -EINVAL (called from a callback) or -EBUSY (another
 * thread is inside a call on the handle). In a child after fork(), see
 * the conventions at the top. NULL is a no-op.
 */
XPAGE_API int xpage_close(xpage_t *xp);

/**
 * xpage_detach() - release the handle without disabling paging.
 * For a pager that wants another process to take over (with
 * XPAGE_OPEN_TAKEOVER). The pager's mappings are released and gfns still
 * nominated are un-nominated first (a successor knows only what was
 * evicted); no callbacks run. The domain is left paused when @keep_paused
 * is non-zero. On Xen 4.2 - 4.4 the vCPUs waiting for evicted gfns are
 * released (they retry their access until the successor loads the gfns),
 * since the successor cannot answer them; keep the domain paused there, or
 * a request made after the detach is lost with the ring at the takeover
 * and its vCPU stays paused. Returns 0 or a negative errno (nothing is
 * released on -EINVAL from a callback or -EBUSY from another thread).
 * NULL is a no-op.
 */
XPAGE_API int xpage_detach(xpage_t *xp, int keep_paused);

/**
 * xpage_unpause() - (1.1) drop the pause XPAGE_OPEN_KEEP_PAUSED holds: the
 * domain's vCPUs run again (those waiting for a page-in stay paused until
 * it is answered). Returns 0, -EALREADY when the handle holds no pause,
 * -EINVAL for NULL, or the hypervisor's error (the pause is then still
 * held). Blocks for one hypervisor call.
 */
XPAGE_API int xpage_unpause(xpage_t *xp);

/* ------------------------------------------------------------------------ */
/* Negotiated contract and domain facts                                     */

struct xpage_info {
	size_t sz;
	uint32_t domid;
	uint32_t age;            /* 1 or 2 */
	uint32_t generation;     /* enum xpage_generation */
	uint32_t xen_major;
	uint32_t xen_minor;
	uint32_t vcpus;
	uint64_t features;       /* XPAGE_FEAT_* in force */
	uint64_t hv_features;    /* XPAGE_FEAT_* the hypervisor offers */
	uint64_t nr_gfns;        /* the guest's max gfn + 1: gfns 0 .. nr_gfns-1
				  * may be paged; holes and special pages in
				  * that range are refused (-EBUSY); which
				  * are RAM: xpage_ram_ranges() */
	uint32_t ring_slots;     /* slots of the paging ring */
	uint32_t took_over;      /* 1 if XPAGE_OPEN_TAKEOVER was needed */
	const char *backend;     /* "xen" or "sim" */
	/* (Since 1.1.) The hypervisor's tool library this handle loaded, as
	 * it was found ("libxenctrl.so.4.17": one pager binary serves every
	 * Xen release through that release's library); NULL on the
	 * simulator. Valid while the handle is open. */
	const char *xen_library;
	/* (Since 1.1.) The version word of the last request read from the
	 * ring (the vm_event interface version Xen wrote: 7 from Xen 4.15 on,
	 * 6 in 4.14 ...); 0 before the first request and on rings without
	 * one (mem_event, Xen 4.2 - 4.5). */
	uint32_t request_version;
};
#define xpage_info__last_field request_version

/**
 * xpage_get_info() - what was negotiated, and facts about the domain.
 * @info: sized by the caller. Returns 0, -EINVAL (NULL argument, sz too
 * small), -E2BIG. Does not block.
 */
XPAGE_API int xpage_get_info(const xpage_t *xp, struct xpage_info *info);

/* A run of gfns: first, first + 1, ... first + count - 1. */
struct xpage_gfn_range {
	uint64_t first;
	uint64_t count;
};

/**
 * xpage_ram_ranges() - the gfns of the guest that are RAM. (Since 1.1.)
 * nr_gfns (xpage_info) is the guest's highest gfn + 1: a PVH guest of
 * 8,192 pages has 1,044,480, most of them a hole below the special pages.
 * A pager that picks its victims among these ranges never asks the
 * hypervisor about a hole.
 * @ranges: room for @max ranges (NULL if @max is 0), filled in ascending
 * order, disjoint and not adjacent; gfns this handle holds paged out (or
 * nominated, or adopted) are RAM whatever the hypervisor reports.
 * Returns the number of ranges the guest's RAM takes, which may be more
 * than @max (only @max are written: call again with room for that many),
 * or a negative errno: -EOPNOTSUPP when the backend cannot tell (page
 * gfns 0 .. nr_gfns - 1 then, and expect -EBUSY for holes), -EPROTO when
 * its answer is not a set of ranges inside the guest, -EAGAIN when the
 * guest's memory kept changing while it was read, -ENOMEM, and the errors
 * every call has. The answer is the memory at the time of the
 * call: ask again after the guest's memory changed. Blocks for one
 * hypervisor round trip with the simulator, a walk of the guest's p2m on
 * Xen (one call per 1024 gfns): call it once, not per batch.
 */
XPAGE_API int xpage_ram_ranges(xpage_t *xp, struct xpage_gfn_range *ranges,
			       size_t max);

/* ------------------------------------------------------------------------ */
/* Batch operations                                                         */

/*
 * Per-gfn errors common to every batch call:
 *   -ERANGE   gfn beyond the guest (nothing is asked of the hypervisor)
 *   -EALREADY the same gfn appears twice in one call (second occurrence)
 *   -EINVAL   wrong state for this call; the gfn's state is unchanged
 *             (one log line per call, level INFO, names the first such
 *             gfn's state and the one the call needs)
 *   -EBUSY    the hypervisor refused (page in use, mapped, or touched)
 *   -ENOMEM   the hypervisor has no memory now; try again later
 * Whole-call errors: -EINVAL (NULL array with n > 0, unknown flag),
 * -ESHUTDOWN (the domain crashed or paging was disabled), -EIO (the
 * hypervisor connection failed).
 */

/**
 * xpage_nominate() - mark resident gfns for page-out.
 * After success the gfn is NOMINATED: map it with xpage_map(), write it
 * out, unmap it and evict it. A guest access in between produces an
 * evict_fail callback. Blocks for one hypervisor trap per batch (multicall)
 * or per gfn.
 *
 * Gfns the hypervisor itself reads or writes on the guest's behalf where
 * a paging request is fatal are refused with -EBUSY (counted in
 * stats.hv_refused), here and in xpage_evict(). On Xen these are each
 * vCPU's runstate area, which Xen writes from its scheduler at every
 * context switch, the kernel stacks hypercall arguments are copied from,
 * and every page table of the kernel's half of the address space, which
 * Xen's own walks read but the guest's accesses (through its TLB) do not:
 * a request raised from the scheduler with the paging ring full makes the
 * vCPU sleep there, which crashes the domain or corrupts the vCPU, and a
 * hypercall whose arguments meet a paging gfn fails, which Linux treats
 * as a bug (docs/xen-hazards.md). The library finds them from each vCPU's
 * registers (page tables, stack pointer, kernel GS base), and looks again
 * every 50 ms at most (less often where a look is slow: never more than a
 * tenth of the time), since they follow the guest.
 */
XPAGE_API int xpage_nominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status);

/**
 * xpage_map() - map nominated gfns read-only, in one mapping call.
 * Returns the address of n pages, page i at addr + i * XPAGE_PAGE_SIZE;
 * a page whose status is non-zero is not mapped and must not be touched.
 * A gfn that may not be mapped (beyond the guest, listed twice, not
 * nominated, already mapped) gets its error in status and leaves a hole
 * at its place; the others are mapped all the same. -ENOENT in status:
 * the gfn is being paged in (its evict_fail or populate notice follows).
 * Returns NULL with errno when nothing could be mapped: EINVAL when no
 * gfn could be asked for, else the hypervisor's answer (ENOENT when it
 * mapped none); status then says why per gfn, if the arguments were
 * valid. Release with xpage_unmap() before evicting.
 * Blocks for one mapping call, and does not wait for a page-in: on Xen
 * the batch goes through the privcmd device (IOCTL_PRIVCMD_MMAPBATCH_V2),
 * which reports a gfn in a paging state with -ENOENT at once. Only on a
 * dom0 where that device cannot be opened does the library map through
 * libxenforeignmemory, which waits for such a gfn until it is paged in
 * (the log says so at open).
 */
XPAGE_API void *xpage_map(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status);

/**
 * xpage_unmap() - release a mapping made by xpage_map().
 * @addr, @n: exactly as returned and passed. Returns 0, -EINVAL for an
 * address the handle did not map.
 */
XPAGE_API int xpage_unmap(xpage_t *xp, void *addr, size_t n);

/**
 * xpage_evict() - evict nominated, unmapped gfns: their frames are freed.
 * Only a gfn whose contents the pager can hold is evicted: one this
 * handle mapped with xpage_map() (status 0) since it became NOMINATED
 * (by xpage_nominate(), or by xpage_adopt() with XPAGE_ADOPT_NOMINATED).
 * Per gfn: -EINVAL if not NOMINATED (never nominated, already evicted,
 * touched) or not mapped since its nomination, -EBUSY if still mapped by
 * this handle or the hypervisor refused (the page was touched: its
 * evict_fail notice follows).
 */
XPAGE_API int xpage_evict(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status);

/**
 * xpage_unnominate() - make nominated gfns ordinary resident pages again.
 * For a gfn the pager decides not to evict (its write-out failed, or it
 * is shutting down). Xen has no operation for this, so the library maps
 * the pages, keeps a copy, evicts them and loads them straight back, one
 * mapping call and one trap per step for the batch. xpage_close() does
 * this for every gfn still nominated, since a guest touching a nominated
 * gfn after the ring is gone crashes the domain.
 * Per gfn: 0 when the gfn is an ordinary resident page again (also one
 * adopted as nominated that was not, and one the guest released
 * meanwhile, which the library then forgets), -EINVAL if not NOMINATED, -EBUSY if
 * mapped by this handle or if the hypervisor keeps refusing its evict
 * (the guest touched it, and its evict_fail notice settles it, or the
 * page is in use elsewhere: try again later); the gfn then stays
 * NOMINATED. After a takeover, a gfn touched before it (its evict-fail
 * notice went with the old ring) is made present without data and
 * reports 0. -ENOMEM if the hypervisor had no memory to load it back: the
 * gfn reads EVICTED, and the library keeps its copy and loads it back
 * itself as soon as the hypervisor has memory (at each xpage_dispatch(),
 * at once when the guest asks for it, with no populate callback, and for
 * up to 5 s in xpage_close() and xpage_detach(), which log the page as
 * lost if it never could). The same for a load back that failed as a
 * whole (its error, e.g. -EIO, in status). (Since 1.1; 1.0 dropped the
 * copy.)
 * Between the evict and the load the contents exist only in this
 * process's memory: a pager killed there (SIGKILL, a crash) loses the
 * page. A pager that must lose nothing when killed anywhere writes the
 * page to its store and indexes it first, as for a page-out, and then
 * evicts it and loads it back itself (examples/batch-pager does so for
 * the gfns a dead pager left nominated).
 */
XPAGE_API int xpage_unnominate(xpage_t *xp, const uint64_t *gfns, size_t n,
			       unsigned int flags, int *status);

/**
 * xpage_relocate() - move resident gfns to new machine frames. (Since 1.1.)
 * For a frame that is failing: once the frame is marked offline
 * (xpage_frame_offline() answers -EAGAIN while the guest owns it), moving
 * the gfn off it frees it, and Xen then offlines it for good. Each gfn is
 * nominated, mapped, copied into the library's memory, evicted (which
 * frees its frame) and loaded straight back from the copy, onto a frame
 * the hypervisor allocates (never an offlined or offline-pending one).
 * Nothing is written to a store; one mapping call and one trap per step
 * for the batch, where the hypervisor allows. Gfns the hypervisor itself
 * reads or writes for the guest (page tables on its walks, stacks it
 * copies hypercall arguments from: xpage_nominate() refuses them) move
 * in a second round with the domain paused, so that none of those
 * accesses meets them out; the guest stops for that round only.
 * Per gfn:
 *   0           moved: its contents are on a new frame, its old frame is
 *               free (also for a gfn the guest released meanwhile, which
 *               then has no frame at all);
 *   -EALREADY   paged out already (EVICTED or PAGING_IN): it has no frame,
 *               and its load will get a new one; or listed twice;
 *   -EBUSY      the hypervisor refused: the gfn is granted away, or
 *               mapped by a device model or anyone else (or the pause
 *               for the hypervisor's own gfns failed); it stays
 *               resident on its frame: retry later. A gfn the guest
 *               touched between the nominate and the evict also answers
 *               -EBUSY but stays NOMINATED until its evict_fail notice is
 *               dispatched (the pager's evict_fail callback runs for it),
 *               which makes it resident again on its old frame;
 *   -EINVAL     not resident in this handle's table (NOMINATED by this
 *               pager, or LOADED and not yet resumed): move it after its
 *               page-out or page-in ends;
 *   -ERANGE     beyond the guest;
 *   -ENOMEM     as xpage_unnominate(): the hypervisor had no memory to
 *               load it back; it is then EVICTED (the log says so).
 * @flags: 0. Returns the number moved, or a negative errno for the call
 * as a whole as every batch call does (-EINVAL for a NULL array with
 * @n > 0 or unknown flags, -ESHUTDOWN, -EPROTO, -EBUSY from another
 * thread, -ECHILD after fork, -EIO once the connection is lost, -ENOMEM).
 * Allowed inside a callback, like xpage_unnominate(). Blocks for the
 * hypervisor calls (and a few milliseconds while an evict is refused
 * for a passing reason).
 */
XPAGE_API int xpage_relocate(xpage_t *xp, const uint64_t *gfns, size_t n,
			     unsigned int flags, int *status);

/**
 * xpage_load() - give evicted gfns their contents back.
 * @bufs: n pointers to XPAGE_PAGE_SIZE bytes each. The page is guest
 * accessible at once; waiting vCPUs run again after xpage_resume() (or at
 * once with XPAGE_LOAD_RESUME). A gfn that was only nominated needs no
 * data: it is un-nominated (xpage_unnominate) and the buffer is not read;
 * -EBUSY if the guest touched it meanwhile (it becomes resident when its
 * evict_fail notice is dispatched). Per gfn: -EINVAL if resident (never
 * paged out); -EBUSY also for a gfn whose copy the library keeps after
 * xpage_unnominate() met -ENOMEM (it loads that one itself).
 */
#define XPAGE_LOAD_RESUME (1u << 0)
XPAGE_API int xpage_load(xpage_t *xp, const uint64_t *gfns, size_t n,
			 void *const *bufs, unsigned int flags, int *status);

/**
 * xpage_resume() - answer every request waiting on loaded gfns.
 * Each paused vCPU gets its own answer, in the layout and with the version
 * word the hypervisor expects. Per gfn: -EINVAL if not loaded yet,
 * -EALREADY if no request is pending (nothing to answer; not an error for
 * the pager's data). Does not block: each answer goes into the ring slot
 * its request freed, and one notification tells the hypervisor.
 */
XPAGE_API int xpage_resume(xpage_t *xp, const uint64_t *gfns, size_t n,
			   unsigned int flags, int *status);

/**
 * xpage_adopt() - tell the library about gfns a previous pager paged out.
 * After a takeover the library's table says every gfn is resident; a pager
 * that restores its own index marks the gfns it holds as evicted, so that
 * xpage_load() accepts them. With XPAGE_ADOPT_NOMINATED the gfns are ones
 * the previous pager may have nominated without evicting (it died between
 * the two): they become NOMINATED, so that xpage_unnominate() returns them
 * to the guest (or xpage_evict() pages them out once this handle has
 * mapped them with xpage_map() and written them).
 * Per gfn: -EINVAL if in flight in this handle or mapped.
 * After a takeover, load every adopted gfn without waiting for a populate:
 * the previous pager may have read the request of a vCPU that now retries
 * its access until the gfn is loaded, and no call tells which gfns those
 * are.
 */
#define XPAGE_ADOPT_NOMINATED (1u << 0)
XPAGE_API int xpage_adopt(xpage_t *xp, const uint64_t *gfns, size_t n,
			  unsigned int flags, int *status);

/* State of one gfn as the library sees it. */
enum xpage_gfn_state {
	XPAGE_GFN_RESIDENT = 0,
	XPAGE_GFN_NOMINATED = 1,  /* nominated, frame still present */
	XPAGE_GFN_EVICTED = 2,    /* paged out, no request yet */
	XPAGE_GFN_PAGING_IN = 3,  /* requested, waiting for xpage_load() */
	XPAGE_GFN_LOADED = 4,     /* loaded, requests waiting for resume */
};

/**
 * xpage_gfn_state() - the library's state of @gfn (enum xpage_gfn_state),
 * or -ERANGE. O(1), does not block.
 */
XPAGE_API int xpage_gfn_state(const xpage_t *xp, uint64_t gfn);

/* What xpage_gfn_hints() knows of a gfn's use (bits of its answer). */
#define XPAGE_HINT_HV_TOUCHED  (1u << 0) /* the hypervisor touches it */
#define XPAGE_HINT_KERNEL_CODE (1u << 1) /* the guest kernel's code */
#define XPAGE_HINT_USER_CODE   (1u << 2) /* a running process's code */

/**
 * xpage_gfn_hints() - how the guest uses each gfn, as far as the library
 * can tell, for a pager choosing its victims. (Since 1.1.)
 * @hints: @n words, each an OR of:
 *  XPAGE_HINT_HV_TOUCHED: the hypervisor reads or writes the gfn itself
 *  for the guest (see xpage_nominate()); nominating it is refused with
 *  -EBUSY, so skip it.
 *  XPAGE_HINT_KERNEL_CODE: the guest's kernel maps the gfn executable: its
 *  own code, which runs at every interrupt and system call.
 *  XPAGE_HINT_USER_CODE: a process the vCPUs were seen running lately
 *  maps the gfn executable: code it runs.
 *  Paging code out stops the vCPUs that run it until the page is back,
 *  again and again; on the project's real-Xen rig a guest whose code was
 *  paged out while it ran was lost (docs/xen-hazards.md): leave it
 *  resident.
 * Later releases may set more bits: ignore those you do not know. A gfn
 * beyond the guest, or a backend that cannot tell, gives 0.
 * @flags: 0.
 * The answer comes from the library's last look at the guest's vCPUs and
 * page tables; the call looks again when that is stale, no more often
 * than xpage_nominate() does. Returns 0, or -EINVAL (a NULL array with
 * @n > 0, unknown flags), -ESHUTDOWN (paging was disabled), and the
 * errors every call has. Blocks only for that look (milliseconds).
 */
XPAGE_API int xpage_gfn_hints(xpage_t *xp, const uint64_t *gfns, size_t n,
			      unsigned int flags, uint32_t *hints);

/* ------------------------------------------------------------------------ */
/* Write tracking (log-dirty)                                               */

/*
 * (Since 1.1.) Which guest pages were written since the pager last
 * looked: the hypervisor's log-dirty mode, which live migration uses too.
 * A pager that pages out what the guest has not written for a while
 * evicts fewer pages it needs back soon. It sees writes only (a page the
 * guest only reads looks idle), and one user may hold it at a time: while
 * a live migration (or anyone else) holds it, xpage_logdirty_enable()
 * answers -EBUSY and the pager carries on without it. Paging and
 * log-dirty coexist: a page paged back in is tracked again.
 *
 * Usage: xpage_logdirty_enable() once, then xpage_logdirty_scan() now and
 * then into a bitmap the pager owns (bit g % 64 of word g / 64 for gfn g);
 * xpage_logdirty_disable(), xpage_close() or xpage_detach() turns it off.
 * The calls are refused inside a callback (-EINVAL), like
 * xpage_dispatch().
 */

struct xpage_logdirty_opts {
	size_t sz;
	uint32_t flags;          /* 0: no flag is defined yet */
};
#define xpage_logdirty_opts__last_field flags

/**
 * xpage_logdirty_enable() - turn write tracking on for the handle's
 * domain. @opts: sized options or NULL (the defaults).
 * Returns 0, or -EBUSY when log-dirty mode is already on and not this
 * handle's (a live migration, a save, a pager that died holding it: the
 * log says so), -EALREADY when this handle holds it, -EOPNOTSUPP when
 * the backend has no log-dirty mode (a libxenctrl without
 * xc_logdirty_control or xc_shadow_control), -EINVAL (unknown flags, an
 * sz no release had), -E2BIG, -ESHUTDOWN (paging was disabled), -ENOMEM
 * and the errors every call has. Blocks for one hypervisor call (Xen
 * pauses the domain while it sets the mode up).
 */
XPAGE_API int xpage_logdirty_enable(xpage_t *xp,
				    const struct xpage_logdirty_opts *opts);

/* xpage_logdirty_scan.flags */
/* Read the log without resetting it (Xen's PEEK); default: read and
 * reset (CLEAN), so that the next scan shows the writes made after
 * this one. */
#define XPAGE_LOGDIRTY_PEEK (1u << 0)
#define XPAGE_LOGDIRTY_SCAN_FLAGS_ALL XPAGE_LOGDIRTY_PEEK

struct xpage_logdirty_scan {
	size_t sz;
	uint32_t flags;          /* XPAGE_LOGDIRTY_* */
	uint32_t reserved0;      /* 0 */
	uint64_t *bitmap;        /* the pager's: (nr_gfns + 63) / 64 words */
	uint64_t nr_gfns;        /* gfns 0 .. nr_gfns - 1; at most
				  * xpage_info.nr_gfns */
	uint64_t dirty;          /* set by the call: bits set in bitmap */
};
#define xpage_logdirty_scan__last_field dirty

/**
 * xpage_logdirty_scan() - which gfns the guest wrote since tracking began
 * or since the last scan without XPAGE_LOGDIRTY_PEEK. Fills every word of
 * @scan->bitmap (bits past nr_gfns in its last word are 0) and sets
 * @scan->dirty. Writes through foreign mappings count; page-ins do not.
 * Returns 0, or -EINVAL (this handle has not enabled tracking, NULL
 * bitmap, nr_gfns 0 or past the guest, unknown flags, reserved0 not 0,
 * an sz no release had), -E2BIG, -ESHUTDOWN, and the errors every call
 * has; the hypervisor's error (its sentence in the log) when it refuses,
 * e.g. after someone else turned the mode off. Blocks for one hypervisor
 * call (one per 262,144 gfns with the simulator); Xen pauses the domain
 * while it copies the log.
 */
XPAGE_API int xpage_logdirty_scan(xpage_t *xp,
				  struct xpage_logdirty_scan *scan);

/**
 * xpage_logdirty_disable() - turn write tracking off. Returns 0,
 * -EALREADY when this handle does not hold it (tracking someone else
 * holds is left alone), or the hypervisor's error, and the errors every
 * call has. Blocks for one hypervisor call.
 */
XPAGE_API int xpage_logdirty_disable(xpage_t *xp);

/* ------------------------------------------------------------------------ */
/* Events                                                                   */

/**
 * xpage_fd() - a file descriptor that polls readable when ring events may
 * be pending, or when the connection to the hypervisor is lost (the next
 * xpage_dispatch() says which). Owned by the handle. Returns the fd or a
 * negative errno.
 */
XPAGE_API int xpage_fd(const xpage_t *xp);

/**
 * xpage_dispatch() - drain the ring and run the callbacks.
 * @timeout_ms: how long to wait for an event first; 0 does not wait, -1
 * waits for ever. Returns the number of ring requests consumed (0 on
 * timeout), or a negative errno: -EPROTO when the ring is corrupt (indexes
 * out of range, wrong version word): nothing past the corruption is
 * trusted; -EINTR when a signal arrived while waiting; -ESHUTDOWN when
 * the domain died; -EIO at once when the connection to the hypervisor is
 * lost. Not re-entrant: -EINVAL from a callback.
 */
XPAGE_API int xpage_dispatch(xpage_t *xp, int timeout_ms);

/* ------------------------------------------------------------------------ */
/* Machine frames (since 1.1)                                               */

/*
 * A frame of the host's memory that reports errors should leave service.
 * Xen offlines it in two steps: a free frame at once; one a domain owns
 * is marked offline-pending, and offlined when the domain frees it (Xen
 * never allocates a frame that is offlined or pending). Nobody frees the
 * frame of a running HVM/PVH guest by itself: a pager does, with
 * xpage_relocate() on the gfn xpage_frame_query() names. The tool
 * xpage-offline(8) does the whole job.
 *
 * These calls act on the host, not on a domain: they take a host handle,
 * which a dom0 process opens once (on the simulator: any process that
 * reaches it). A host handle is used by one thread at a time (-EBUSY
 * otherwise) and belongs to the process that opened it (-ECHILD in a
 * child); once the connection to the simulator is lost every call fails
 * with -EIO. Nothing is printed: messages go to the log callback.
 */
typedef struct xpage_host xpage_host_t;

struct xpage_host_opts {
	size_t sz;
	uint32_t backend;          /* enum xpage_backend */
	uint32_t flags;            /* 0: no flag is defined yet */
	const char *sim_socket;    /* simulator socket path (SIM/AUTO); NULL:
				    * $XPAGE_SIM_SOCKET */
	xpage_log_fn log_fn;       /* optional */
	void *log_ctx;
	int log_level;             /* messages up to this level are passed */
};
#define xpage_host_opts__last_field log_level

/**
 * xpage_host_open() - a handle on the host's machine frames.
 * @opts: sized options or NULL (XPAGE_BACKEND_AUTO, no log). With
 * XPAGE_BACKEND_AUTO: Xen where the machine runs it, else the simulator
 * at sim_socket (or $XPAGE_SIM_SOCKET).
 * Returns the handle, or NULL with errno: ENOENT (no Xen, no simulator
 * there), EACCES/EPERM (not allowed: Xen wants root in dom0),
 * EOPNOTSUPP (this library was built without the Xen backend and Xen was
 * asked for), ELIBBAD (libxenctrl lacks what every release has), EINVAL
 * (unknown backend or flags, an sz no release had), E2BIG, ENOMEM. The
 * reason is logged. Does not block beyond connecting.
 */
XPAGE_API xpage_host_t *xpage_host_open(const struct xpage_host_opts *opts);

/**
 * xpage_host_close() - release a host handle (NULL: nothing). Marks
 * nothing: frames keep their state. In a child after fork() it releases
 * the child's memory only.
 */
XPAGE_API void xpage_host_close(xpage_host_t *host);

/* Owners of a frame that are not guests (Xen's DOMID_IO, DOMID_XEN,
 * DOMID_INVALID), and an owner the hypervisor did not say. */
#define XPAGE_OWNER_IO      0x7ff1u  /* MMIO and other I/O memory */
#define XPAGE_OWNER_XEN     0x7ff2u  /* the hypervisor itself */
#define XPAGE_OWNER_NONE    0x7ff4u  /* free, or in use by nobody known */
#define XPAGE_OWNER_UNKNOWN 0xffffffffu

/* A frame no guest maps in the machine-to-phys table. */
#define XPAGE_GFN_INVALID UINT64_MAX

enum xpage_frame_state {
	XPAGE_FRAME_ONLINE = 0,
	XPAGE_FRAME_OFFLINE_PENDING = 1, /* offlined once its owner frees it */
	XPAGE_FRAME_OFFLINED = 2,        /* out of service, never allocated */
};

/* Why the hypervisor refused or could not tell (xpage_frame_info.reason). */
enum xpage_frame_reason {
	XPAGE_FRAME_REASON_NONE = 0,
	XPAGE_FRAME_REASON_XEN = 1,       /* the hypervisor's own frame */
	XPAGE_FRAME_REASON_DOM0 = 2,      /* dom0's: dom0 never frees it */
	XPAGE_FRAME_REASON_NOT_RAM = 3,   /* not conventional RAM (MMIO,
					   * reserved) */
	XPAGE_FRAME_REASON_NO_FRAME = 4,  /* beyond the host's memory */
	XPAGE_FRAME_REASON_ANONYMOUS = 5, /* in use, owner not set yet: retry */
	XPAGE_FRAME_REASON_BROKEN = 6,    /* marked broken: Xen crashed the
					   * domain owning it */
};

/* One frame's state, as xpage_frame_query() reports it. */
struct xpage_frame_info {
	size_t sz;            /* set by the caller, the same in each element */
	uint64_t mfn;
	uint32_t state;       /* enum xpage_frame_state */
	uint32_t owner;       /* a domid or XPAGE_OWNER_*: known from Xen for
			       * a pending frame, XPAGE_OWNER_UNKNOWN for one
			       * in service, XPAGE_OWNER_NONE once offlined */
	uint64_t gfn;         /* the owner's gfn, from the machine-to-phys
			       * table (HVM/PVH guests too), or
			       * XPAGE_GFN_INVALID */
	uint32_t reason;      /* enum xpage_frame_reason */
	uint32_t broken;      /* 1: Xen marked the frame broken */
	uint32_t xen_status;  /* the hypervisor's own query word */
};
#define xpage_frame_info__last_field xen_status

/**
 * xpage_frame_query() - the state of @n machine frames.
 * @info: @n elements; set info[0].sz (XPAGE_OPTS): the library takes it
 * as the size of each element, and fills that much of each.
 * A frame the hypervisor does not know is reported with reason
 * XPAGE_FRAME_REASON_NO_FRAME or _NOT_RAM. For a pending frame the
 * library asks Xen for its owner with the offline operation again, which
 * changes nothing for a frame already pending. (1.1) dom0's frames are
 * named (owner 0, reason XPAGE_FRAME_REASON_DOM0) without that, in
 * service too, where the library can tell them apart (on Xen, a PV
 * dom0: its page-frame info takes machine frames). The gfn comes from the
 * machine-to-phys table, which only dom0 can read on Xen; XPAGE_GFN_INVALID
 * where it cannot be read (the log says why).
 * Returns the number of frames the hypervisor knows, or a negative errno
 * for the whole call: -EINVAL (NULL arrays with @n > 0, an sz no release
 * had), -E2BIG, -EOPNOTSUPP (the hypervisor, or libxenguest on Xen, has no
 * page offline operation), -EACCES/-EPERM, -ENOMEM, -EBUSY (another
 * thread), -ECHILD, -EIO (connection lost). Blocks for a few hypervisor
 * calls per 2048 frames.
 */
XPAGE_API int xpage_frame_query(xpage_host_t *host, const uint64_t *mfns,
				size_t n, struct xpage_frame_info *info);

/**
 * xpage_frame_offline() - take @n machine frames out of service.
 * Per frame, in @status:
 *   0            offlined: out of service now (also one offlined before);
 *   -EAGAIN      offline-pending: a guest owns it, and it is offlined once
 *                the guest frees it: xpage_frame_query() names the owner
 *                and the gfn, xpage_relocate() on that gfn frees it;
 *   -EPERM       refused: the hypervisor's own frame, or dom0's (neither
 *                is ever freed: query says which, in reason). (1.1)
 *                dom0's frames are refused without being marked where the
 *                library can tell them apart (as xpage_frame_query()):
 *                marking one is never useful, and the rig's one-CPU host
 *                stopped at that call in three boots (tests/xen/
 *                RESULTS.md); elsewhere Xen marks them pending;
 *   -EINVAL      not conventional RAM, or beyond the host's memory;
 *   -EBUSY       in use without an owner yet (being allocated): retry.
 * @flags: 0. Returns the number offlined (status 0), or a negative errno
 * for the whole call, as xpage_frame_query().
 */
XPAGE_API int xpage_frame_offline(xpage_host_t *host, const uint64_t *mfns,
				  size_t n, unsigned int flags, int *status);

/**
 * xpage_frame_online() - put @n frames back in service, to undo an
 * offline (tests, an operator's mistake): an offlined frame goes back to
 * the free memory, a pending one stays with its owner.
 * Per frame: 0 (also for a frame in service already), -EPERM (marked
 * broken: it stays offline), -EINVAL (beyond the host's memory).
 * @flags: 0. Returns the number with status 0, or a negative errno for
 * the whole call, as xpage_frame_query().
 */
XPAGE_API int xpage_frame_online(xpage_host_t *host, const uint64_t *mfns,
				 size_t n, unsigned int flags, int *status);

/* ------------------------------------------------------------------------ */
/* Statistics and errors                                                    */

struct xpage_stats {
	size_t sz;
	uint64_t nominated;
	uint64_t evicted;
	uint64_t loaded;
	uint64_t requests;        /* ring requests consumed */
	uint64_t populates;       /* populate callbacks (after coalescing) */
	uint64_t coalesced;       /* requests merged into an earlier one, or
				   * older than the gfn's state (answered,
				   * no callback; the latter also in
				   * stale) */
	uint64_t evict_fails;     /* evict_fail notices, hypervisor's */
	uint64_t evict_fails_synth;/* evict_fail notices the library derived */
	uint64_t drops;
	uint64_t responses;       /* responses written to the ring */
	uint64_t hypercalls;      /* traps into the hypervisor */
	uint64_t bad_events;      /* ring requests rejected as malformed */
	uint64_t evicted_now;     /* gfns currently evicted or paging in */
	/* 1.1: */
	uint64_t hv_refused;      /* nominations and evictions refused
				   * (-EBUSY) because the hypervisor touches
				   * the gfn itself where a paging request
				   * would be fatal (see xpage_nominate) */
	uint64_t stale;           /* the part of coalesced that were notices
				   * older than what the library knows of
				   * the gfn: a page-in for a gfn resident
				   * or nominated again since, an evict-fail
				   * notice older than the nomination, a drop
				   * notice of a release already settled */
};
#define xpage_stats__last_field stale

/**
 * xpage_get_stats() - counters since open. Returns 0, -EINVAL, -E2BIG.
 */
XPAGE_API int xpage_get_stats(const xpage_t *xp, struct xpage_stats *st);

/**
 * xpage_strerror() - a sentence for a libxpage error (negative or positive
 * errno), in terms of paging ("the hypervisor was built without memory
 * paging" for ENOSYS). Returns a static string. Thread-safe.
 */
XPAGE_API const char *xpage_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* XPAGE_XPAGE_H */
