/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake xpage-simd that lies, for the unit tests of the library's two
 * clients of the simulator protocol: the sim backend (test_backend_sim)
 * and the <xpage/sim.h> control calls (test_sim_api).
 *
 * start_server() forks it; it listens on sock_path, in a temporary
 * directory, takes one connection and answers every op as the real one
 * would (a guest DOMID of NR RAM pages and the ring page in a memfd, a
 * bounce memfd, eventfds at enable; the control ops' replies), except one
 * chosen reply (the nth of one op), which it malforms as enum fault_kind
 * says. The counters in *sh tell the test what reached it.
 */
#ifndef XPAGE_TESTS_UNIT_FAKE_SIM_H
#define XPAGE_TESTS_UNIT_FAKE_SIM_H

#include <check.h>
#include <stdint.h>

#define NR 64u          /* guest RAM pages; the ring gfn is NR */
#define DOMID 7u
#define FAKE_PERSONALITIES "xen-4.17\nxen-4.2\n" /* SIMP_PERSONALITIES */
/* SIMP_RUNSTATE_GFNS: the one vCPU's walk (two gfns twice) */
#define FAKE_WALK { 60, 62, 62, 60 }
/* SIMP_STACK_GFNS: the one vCPU's walk to its stack, the top-level table
 * the runstate walk's. A fake told to answer SIMP_RUNSTATE_GFNS with
 * -ENOSYS answers this one so too (an older simulator lacks both). */
#define FAKE_STACK { 60, 40, 41, 42, 43, 44, 45, 46 }

enum fault_kind {
	F_NONE,
	F_SHORT,        /* the last 4 payload bytes missing */
	F_LONG,         /* 8 bytes too many */
	F_OP,           /* the reply names the next op */
	F_SEQ,          /* ... the next sequence number */
	F_COUNT_LESS,   /* simp_results: one result fewer (length to match) */
	F_COUNT_MORE,   /* ... one more */
	F_RC_POS,       /* simp_results: result 0 is 1 */
	F_RC_LOW,       /* ... the last one is -5000 */
	F_STATUS_POS,   /* status 1 */
	F_STATUS_LOW,   /* status -5000, no payload */
	F_NO_FD,        /* one file descriptor fewer */
	F_EXTRA_FD,     /* one more */
	F_HDR_NFDS,     /* the header announces one fd more than comes */
	F_ERR_PAYLOAD,  /* status -EBUSY with the payload and fds */
	F_MAGIC,        /* not a protocol packet */
	F_VALUE,        /* the op's value check (malform() in fake_sim.c) */
	F_SMALL_MEMFD,  /* SIMP_ATTACH: guest memfd one page short */
	F_SMALL_BOUNCE, /* SIMP_ATTACH: bounce memfd of one page */
	F_NUL,          /* text (SIMP_PERSONALITIES) with a NUL byte in it */
	F_ENOSYS,       /* a well-formed -ENOSYS: an op older simulators lack */
};

struct shared {
	unsigned requests;      /* received */
	unsigned after_fault;   /* received after the malformed reply */
	unsigned faulted;       /* the malformed reply was sent */
};

extern struct shared *sh;       /* shared with the fake */
extern char sock_path[128];

/* Fork the fake; it malforms its @nth reply to @op as @kind (F_NONE: it
 * malforms nothing). Fails the test if it cannot. */
void start_server(uint16_t op, int nth, int kind);
/* Kill the fake and remove its socket (a checked fixture's teardown). */
void stop_server(void);
/* The file descriptors this process has open. */
int count_fds(void);
/* main() of a test of the fake: runs the tests @add puts in test case
 * "replies" of suite @suite, each forked, with stop_server() as the
 * teardown; EXIT_FAILURE if any failed, else EXIT_SUCCESS. */
int fake_sim_main(const char *suite, void (*add)(TCase *t));

#endif
