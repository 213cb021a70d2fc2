/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxpage simulator API: run a simulated Xen paging hypervisor
 * (xpage-simd) from test code, create guests on it, drive their vCPUs,
 * inject faults and ask the integrity oracle whether any guest page was
 * lost, corrupted or left stuck.
 *
 * A pager under test opens the simulated domain with
 * XPAGE_BACKEND_SIM and sim_socket = xpage_sim_socket(sim) and otherwise
 * runs unchanged. Conventions are those of <xpage/xpage.h>.
 *
 * These functions are in libxpage itself for every 1.x release (1.0
 * published them there); a later major version moves them to a
 * libxpage-sim library of their own (abi/README.md says why).
 */
#ifndef XPAGE_SIM_H
#define XPAGE_SIM_H

#include <xpage/xpage.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xpage_sim xpage_sim_t;

struct xpage_sim_opts {
	size_t sz;
	/* xpage-simd to run; NULL: $XPAGE_SIMD, then the installed one. */
	const char *simd_path;
	/* Socket path; NULL: a fresh one under $XDG_RUNTIME_DIR or /tmp. */
	const char *socket_path;
	/* File the simulator logs to (hypervisor messages); NULL: none. */
	const char *log_path;
};
#define xpage_sim_opts__last_field log_path

/**
 * xpage_sim_start() - start an xpage-simd process and wait until it
 * accepts connections. The simulator runs in a session of its own (a
 * Ctrl-C at the caller's terminal does not reach it) and stops, with its
 * guests, when the process that started it exits without
 * xpage_sim_stop(), however it exits (a descriptor only this process
 * holds tells it; children made by fork() hold it too, programs they exec
 * do not). For a simulator that outlives its users, run xpage-simd
 * yourself and use xpage_sim_connect(). Returns a handle, or NULL with
 * errno (ENOENT: no simulator binary; ETIMEDOUT: it did not come up).
 * Blocks up to 10 s.
 */
XPAGE_API xpage_sim_t *xpage_sim_start(const struct xpage_sim_opts *opts);

/**
 * xpage_sim_connect() - control a simulator that is already running at
 * @socket_path (not stopped by xpage_sim_stop()). NULL with errno.
 */
XPAGE_API xpage_sim_t *xpage_sim_connect(const char *socket_path);

/** xpage_sim_socket() - the socket path to give xpage_open_opts. */
XPAGE_API const char *xpage_sim_socket(const xpage_sim_t *sim);

/** xpage_sim_pid() - process id of the simulator (0 if connected). */
XPAGE_API int xpage_sim_pid(const xpage_sim_t *sim);

/**
 * xpage_sim_stop() - stop the simulator this handle started (SIGTERM, then
 * wait) and free the handle. Returns 0 or a negative errno. NULL: no-op.
 */
XPAGE_API int xpage_sim_stop(xpage_sim_t *sim);

/* Guest properties that make paging refuse, as Xen does. */
#define XPAGE_SIM_GUEST_NO_HAP (1u << 0) /* enable: ENODEV */
#define XPAGE_SIM_GUEST_IOMMU  (1u << 1) /* enable: EMLINK */
#define XPAGE_SIM_GUEST_POD    (1u << 2) /* enable: EXDEV */
#define XPAGE_SIM_GUEST_PV     (1u << 3) /* not HVM: enable: ENODEV */
/* Leave never-written pages unmaterialised (all-zero) instead of filling
 * every page with its pattern at creation: for very large guests. */
#define XPAGE_SIM_GUEST_LAZY   (1u << 4)
/* Pages hold text-like contents (words from a small vocabulary with
 * random ones between, compressible about as English text is) instead
 * of random bytes: for pagers that compress. */
#define XPAGE_SIM_GUEST_TEXT   (1u << 5)
#define XPAGE_SIM_GUEST_FLAGS_ALL ((1u << 6) - 1)

struct xpage_sim_guest_opts {
	size_t sz;
	uint32_t domid;           /* 0: the simulator chooses (1, 2, ...) */
	uint32_t vcpus;           /* 0: 1 */
	uint64_t pages;           /* guest RAM in 4 KiB pages */
	const char *personality;  /* NULL: the newest Xen */
	uint32_t flags;           /* XPAGE_SIM_GUEST_* */
	uint64_t seed;            /* page contents */
};
#define xpage_sim_guest_opts__last_field seed

/**
 * xpage_sim_create_guest() - create a guest. Returns its domid (> 0) or a
 * negative errno (-EEXIST domid taken, -ENOENT unknown personality,
 * -ENOMEM, -EINVAL).
 */
XPAGE_API int xpage_sim_create_guest(xpage_sim_t *sim,
				     const struct xpage_sim_guest_opts *o);

/** xpage_sim_destroy_guest() - destroy a guest. 0 or -ESRCH. */
XPAGE_API int xpage_sim_destroy_guest(xpage_sim_t *sim, uint32_t domid);

enum xpage_sim_pattern {
	XPAGE_SIM_UNIFORM = 0,    /* every gfn equally likely */
	XPAGE_SIM_HOTCOLD = 1,    /* hot_pct % of accesses on hot_set_pct % */
	XPAGE_SIM_SEQUENTIAL = 2, /* each vCPU walks its share in order */
	/* (1.1) hot_pct % of accesses on the first hot_set_pct % of RAM,
	 * the page of rank i there with probability ~ 1 / (i + 1) (Zipf,
	 * exponent 1); the rest uniform over RAM. A read-mostly workload
	 * is this one with a small write_pct. */
	XPAGE_SIM_ZIPF = 3,
};

struct xpage_sim_workload {
	size_t sz;
	uint32_t vcpus;         /* active vCPUs, 0: all */
	uint32_t pattern;       /* enum xpage_sim_pattern */
	uint32_t write_pct;     /* share of accesses that write, 0..100 */
	uint32_t hot_set_pct;   /* HOTCOLD: size of the hot set, 1..100 */
	uint32_t hot_pct;       /* HOTCOLD: accesses going there, 0..100 */
	uint32_t think_us;      /* pause between accesses of one vCPU */
	uint32_t release_pm;    /* per mille of accesses that balloon out */
	uint64_t seed;
};
#define xpage_sim_workload__last_field seed

/**
 * xpage_sim_workload() - start (or replace) the vCPU threads' activity.
 * Each access verifies the page it reads against the oracle. A vCPU that
 * faults on a paged gfn is paused until the pager answers. Returns 0 or a
 * negative errno.
 */
XPAGE_API int xpage_sim_workload(xpage_sim_t *sim, uint32_t domid,
				 const struct xpage_sim_workload *w);

/** xpage_sim_workload_stop() - stop the activity (paused vCPUs stay
 * paused until answered). Returns 0 or a negative errno. */
XPAGE_API int xpage_sim_workload_stop(xpage_sim_t *sim, uint32_t domid);

/* Faults, each a probability in per mille unless said otherwise. */
struct xpage_sim_faults {
	size_t sz;
	uint64_t seed;
	uint32_t nominate_ebusy_pm; /* nominate answers EBUSY */
	uint32_t evict_ebusy_pm;    /* evict answers EBUSY */
	uint32_t load_enomem_pm;    /* prep answers ENOMEM */
	uint32_t race_access_pm;    /* a guest access right after nominate */
	uint32_t race_drop_pm;      /* the guest releases a nominated gfn */
	uint32_t event_delay_us;    /* delay before each notification */
	uint32_t ring_slots_held;   /* slots kept busy (a fuller ring) */
};
#define xpage_sim_faults__last_field ring_slots_held

/** xpage_sim_faults() - set (or clear with zeroes) fault injection. */
XPAGE_API int xpage_sim_faults(xpage_sim_t *sim, uint32_t domid,
			       const struct xpage_sim_faults *f);

/**
 * xpage_sim_touch() - one guest access by @vcpu to @gfn, as if the vCPU
 * executed it. Returns 0 when the access completed, -EAGAIN when the vCPU
 * now waits for the pager: paused (the access completes once it is
 * answered) or, for a gfn already paging in, retrying the access until the
 * gfn is loaded, as a vCPU does on Xen. -ESHUTDOWN when the access crashed
 * the domain, -ERANGE, -EINVAL.
 */
#define XPAGE_SIM_TOUCH_WRITE (1u << 0)
#define XPAGE_SIM_TOUCH_FOREIGN (1u << 1) /* a foreign mapper, no vCPU */
XPAGE_API int xpage_sim_touch(xpage_sim_t *sim, uint32_t domid,
			      uint32_t vcpu, uint64_t gfn, unsigned int flags);

/** xpage_sim_release() - the guest balloons @gfn out (a drop event if it
 * is paged or nominated). 0 or a negative errno. */
XPAGE_API int xpage_sim_release(xpage_sim_t *sim, uint32_t domid,
				uint64_t gfn);

/**
 * xpage_sim_logdirty_hold() - (1.1) turn the domain's log-dirty mode on
 * (@on non-zero) or off as another user of it would, a live migration
 * say: a pager's xpage_logdirty_enable() then finds it taken (-EBUSY).
 * Returns 0, -EINVAL when @on and log-dirty is on already (whoever holds
 * it), -ESRCH, or a negative errno.
 */
XPAGE_API int xpage_sim_logdirty_hold(xpage_sim_t *sim, uint32_t domid,
				      int on);

struct xpage_sim_report {
	size_t sz;
	uint64_t pages;          /* guest RAM pages */
	uint64_t paged;          /* gfns paged out or paging in now */
	uint64_t nominated;      /* gfns nominated now */
	uint64_t accesses;       /* guest accesses performed */
	uint64_t faults;         /* guest accesses that paused a vCPU */
	uint64_t requests;       /* ring requests sent */
	uint64_t responses;      /* ring responses accepted */
	uint64_t ignored;        /* responses the hypervisor dropped without
				  * acting on them, as its release does: a
				  * wrong version word, a vCPU the domain
				  * lacks, DUMMY, or an unpause of a vCPU
				  * that is not paused (each libxpage open
				  * answers every vCPU once, so most of
				  * these are that: no harm done) */
	uint64_t lost;           /* pages whose contents are gone */
	uint64_t corrupted;      /* pages with wrong contents */
	uint64_t stuck;          /* vCPUs paused, or retrying an access to a
				  * paging-in gfn, longer than the limit */
	uint32_t crashed;        /* 1 if the domain crashed */
	uint32_t paused_vcpus;   /* vCPUs paused for the pager now */
	uint32_t ring_enabled;
	uint32_t pause_count;    /* domain (toolstack) pause count */
};
#define xpage_sim_report__last_field pause_count

/* Final check: pages still paged out count as lost, paused vCPUs (and
 * vCPUs retrying a paging-in gfn) as stuck regardless of how long they
 * waited. */
#define XPAGE_SIM_REPORT_FINAL (1u << 0)

/**
 * xpage_sim_report() - ask the oracle. Verifies every resident page against
 * what the guest last wrote (and every load against what was evicted).
 * @stuck_ms: a vCPU paused (or retrying a paging-in gfn) longer than this
 * counts as stuck.
 */
XPAGE_API int xpage_sim_report(xpage_sim_t *sim, uint32_t domid,
			       unsigned int flags, uint32_t stuck_ms,
			       struct xpage_sim_report *r);

/**
 * xpage_sim_personalities() - the simulator's personality names, one per
 * line, in @buf. Returns the length or a negative errno (-ENOSPC).
 */
XPAGE_API int xpage_sim_personalities(xpage_sim_t *sim, char *buf,
				      size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XPAGE_SIM_H */
