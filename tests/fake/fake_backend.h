/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process fake hypervisor for tests of the library core (and the
 * bench's cost per ring event, bench/dispatch.c): a
 * ring page the test fills as the hypervisor would (front end), scripted
 * answers to version queries, enable and paging ops, and a record of what
 * the library asked for.
 */
#ifndef XPAGE_TEST_FAKE_BACKEND_H
#define XPAGE_TEST_FAKE_BACKEND_H

#include "private.h"

/* p2m types a request carries (docs/xen-interface.md §1). */
#define XP_P2M_RAM_RW     0u
#define XP_P2M_PAGED      10u
#define XP_P2M_PAGING_IN  11u

struct fake_cfg {
	uint32_t major, minor;
	int vm_event_version;   /* < 0: the query is absent (-ENOSYS) */
	int age;                /* 0: the hypervisor has no notion of age */
	int multicall;
	const char *tool_library; /* tool_library()'s answer (NULL: none) */
	uint32_t vcpus;
	uint64_t nr_gfns;
	int enable_rc;          /* answer of the next enable(s) */
	int enable_busy_once;   /* first enable answers -EBUSY */
	int disable_rc;
	int fail_gfn_rc;        /* answer for paging ops on fail_gfn */
	uint64_t fail_gfn;
	int fail_only_op;       /* 0: fail_gfn fails everything (map too);
				 * else only paging op fail_only_op - 1 */
	int pv;                 /* the domain is a PV guest */
	int fail_times;         /* > 0: fail_gfn fails only this often */
	uint64_t evict_busy_gfn; /* its evicts answer -EBUSY (touched) */
	uint64_t nominate_busy_gfn; /* its nominates answer -EBUSY (as Xen's
				     * do for a gfn already nominated) */
	int call_fail_op;       /* > 0: a call of paging op call_fail_op - 1
				 * fails as a whole with call_fail_rc */
	int call_fail_rc;
	/* hv_gfns: the gfns the hypervisor touches itself; hv_rc < 0 is
	 * answered instead (-EOPNOTSUPP: the op cannot tell) */
	uint64_t hv_gfns[8];
	int hv_n;
	int hv_rc;
	int hv_delay_ms;        /* each answer takes this long */
	/* RAM ranges the hypervisor reports; nram < 0: it cannot tell */
	struct xpage_gfn_range ram[4];
	int nram;
	/* called at each notify (the hypervisor's side of it), if set */
	void (*on_notify)(void);
};

struct fake_state {
	uint8_t *ring;
	uint32_t rsp_cons;      /* front end: next response to read */
	uint32_t req_prod_pvt;  /* front end: next request to write */
	int notifies, enables, disables, pauses, unpauses, maps, unmaps;
	uint64_t traps, ops;
	struct xp_paging_op last_op; /* the last paging op asked for */
	uint32_t declared_age;
	int evt[2];             /* pipe standing in for the event channel */
	char log[4096];         /* the last log lines, concatenated */
	/* responses the hypervisor consumed at each disable: vCPU bit mask of
	 * those answered with VCPU_PAUSED|DROP_PAGE */
	uint32_t released_at_disable[8];
	int generation;         /* layout the front end reads responses in */
	int hv_calls;           /* hv_gfns asked */
	int paused_now;         /* pauses minus unpauses */
	int hv_evicts_running;  /* evicts of an hv_gfns gfn while not paused */
};

extern struct fake_cfg fake_cfg;
extern struct fake_state fake;
extern const struct xp_backend_ops fake_ops;

/* Reset cfg to Xen 4.17 defaults (4 vCPUs, 4096 gfns) and state. */
void fake_reset(void);
/* Front end: post a request (XP_EV_* flags) and notify. */
void fake_put_request(int generation, uint64_t gfn, uint32_t vcpu,
		      uint32_t flags, uint32_t p2mt);
/* Front end: take the next response; 1 if one was there, else 0. */
int fake_take_response(int generation, struct xp_response *out,
		       uint32_t *version, uint32_t *reason);
/* Log callback collecting into fake.log. */
void fake_log(void *ctx, int level, const char *msg);

/* Open a handle on the fake with default options and the given callbacks
 * and ages; NULL with errno on failure. */
struct xpage *fake_open(const struct xpage_callbacks *cbs, uint32_t ages,
			uint64_t required, uint64_t wanted, uint32_t flags);

#endif
