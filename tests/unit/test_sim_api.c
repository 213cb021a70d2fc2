/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The <xpage/sim.h> control calls (src/sim_api.c) against a simulator
 * that lies.
 *
 * The fake xpage-simd of fake_sim.h answers each control op as the real
 * one would, except one reply, which it malforms: too short or too long,
 * another op or sequence number, a status out of range, a failure with a
 * payload, a file descriptor that comes or is announced where none
 * should, text with a NUL in it, a domid the caller cannot take. Each
 * test asserts that the xpage_sim_* call fails with -EPROTO and errno
 * EPROTO, writes nothing where its answer goes, leaves no file descriptor
 * behind, and that the handle takes the next, well-formed reply.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xpage/sim.h>

#include "fake_sim.h"
#include "simproto.h"

#define UNTOUCHED 12345u  /* in the caller's report before the call */

static xpage_sim_t *connect_fake(uint16_t op, int nth, int kind)
{
	xpage_sim_t *sim;

	start_server(op, nth, kind);
	sim = xpage_sim_connect(sock_path);
	ck_assert_msg(sim, "xpage_sim_connect: %s", strerror(errno));
	return sim;
}

/*
 * The xpage_sim_* call that sends @op (create_guest asks for @domid).
 * Where the call answers in the caller's memory, a failure must have left
 * it as it was, and a success must carry the fake's answer.
 */
static int call_op(xpage_sim_t *sim, uint16_t op, uint32_t domid)
{
	switch (op) {
	case SIMP_CREATE_GUEST: {
		struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
			.domid = domid, .pages = NR);

		return xpage_sim_create_guest(sim, &g);
	}
	case SIMP_DESTROY_GUEST:
		return xpage_sim_destroy_guest(sim, DOMID);
	case SIMP_WORKLOAD: {
		struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
			.write_pct = 50);

		return xpage_sim_workload(sim, DOMID, &w);
	}
	case SIMP_WORKLOAD_STOP:
		return xpage_sim_workload_stop(sim, DOMID);
	case SIMP_FAULTS: {
		struct xpage_sim_faults f = XPAGE_OPTS(xpage_sim_faults,
			.seed = 1);

		return xpage_sim_faults(sim, DOMID, &f);
	}
	case SIMP_TOUCH:
		return xpage_sim_touch(sim, DOMID, 0, 1, XPAGE_SIM_TOUCH_WRITE);
	case SIMP_RELEASE:
		return xpage_sim_release(sim, DOMID, 1);
	case SIMP_REPORT: {
		struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report,
			.pages = UNTOUCHED, .accesses = UNTOUCHED);
		int rc = xpage_sim_report(sim, DOMID, 0, 1000, &r);

		ck_assert_uint_eq(r.pages, rc < 0 ? UNTOUCHED : NR);
		ck_assert_uint_eq(r.accesses, rc < 0 ? UNTOUCHED : 3);
		return rc;
	}
	case SIMP_PERSONALITIES: {
		char buf[64], was[64];
		int rc;

		memset(buf, '#', sizeof(buf));
		memcpy(was, buf, sizeof(was));
		rc = xpage_sim_personalities(sim, buf, sizeof(buf));
		if (rc < 0)
			ck_assert_mem_eq(buf, was, sizeof(buf));
		else
			ck_assert_str_eq(buf, FAKE_PERSONALITIES);
		return rc;
	}
	}
	ck_abort_msg("no xpage_sim_* call sends op %u", op);
	return 0;
}

/* What call_op() returns when the reply is well formed. */
static int answer_of(uint16_t op, uint32_t domid)
{
	if (op == SIMP_CREATE_GUEST)
		return (int)(domid ? domid : DOMID);
	if (op == SIMP_PERSONALITIES)
		return (int)strlen(FAKE_PERSONALITIES);
	return 0;
}

/* The same fake without a fault: the test's baseline. */
static const uint16_t control_ops[] = {
	SIMP_CREATE_GUEST, SIMP_DESTROY_GUEST, SIMP_WORKLOAD,
	SIMP_WORKLOAD_STOP, SIMP_FAULTS, SIMP_TOUCH, SIMP_RELEASE,
	SIMP_REPORT, SIMP_PERSONALITIES,
};

START_TEST(well_formed_replies)
{
	xpage_sim_t *sim = connect_fake(0, 0, F_NONE);

	for (size_t i = 0; i < sizeof(control_ops) / sizeof(control_ops[0]);
	     i++)
		ck_assert_int_eq(call_op(sim, control_ops[i], 0),
				 answer_of(control_ops[i], 0));
	ck_assert_int_eq(call_op(sim, SIMP_CREATE_GUEST, 9), 9);
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

/* Each call, each way its reply can be wrong (@what: the fault, for the
 * failure message). */
static const struct api_case {
	uint16_t op;
	int kind;
	uint32_t domid;         /* SIMP_CREATE_GUEST: the domid asked for */
	const char *what;
} api_cases[] = {
	{ SIMP_CREATE_GUEST, F_SHORT, 0, "4 payload bytes, 8 expected" },
	{ SIMP_CREATE_GUEST, F_LONG, 0, "16 payload bytes, 8 expected" },
	{ SIMP_CREATE_GUEST, F_OP, 0, "the reply is for op 41" },
	{ SIMP_CREATE_GUEST, F_ERR_PAYLOAD, 0, "failure -16 carries 8 payload bytes" },
	{ SIMP_CREATE_GUEST, F_EXTRA_FD, 0, "1 file descriptors, 0 expected" },
	{ SIMP_CREATE_GUEST, F_VALUE, 0, "domid 0xfffffffb (-EIO as an int)" },
	{ SIMP_CREATE_GUEST, F_VALUE, 9, "domid 0xfffffffb, 9 asked for" },
	{ SIMP_DESTROY_GUEST, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_DESTROY_GUEST, F_STATUS_LOW, 0, "status -5000 is neither 0 nor a negative errno" },
	{ SIMP_DESTROY_GUEST, F_SEQ, 0, "the reply has sequence number 2, the request 1" },
	{ SIMP_WORKLOAD, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_WORKLOAD, F_STATUS_POS, 0, "status 1 is neither 0 nor a negative errno" },
	{ SIMP_WORKLOAD, F_HDR_NFDS, 0, "the header announces 1 file descriptors, 0 came" },
	{ SIMP_WORKLOAD_STOP, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_WORKLOAD_STOP, F_EXTRA_FD, 0, "1 file descriptors, 0 expected" },
	{ SIMP_FAULTS, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_FAULTS, F_STATUS_POS, 0, "status 1 is neither 0 nor a negative errno" },
	{ SIMP_FAULTS, F_OP, 0, "the reply is for op 45" },
	{ SIMP_TOUCH, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_TOUCH, F_STATUS_POS, 0, "status 1 is neither 0 nor a negative errno" },
	{ SIMP_TOUCH, F_STATUS_LOW, 0, "status -5000 is neither 0 nor a negative errno" },
	{ SIMP_RELEASE, F_LONG, 0, "8 payload bytes, none expected" },
	{ SIMP_RELEASE, F_STATUS_POS, 0, "status 1 is neither 0 nor a negative errno" },
	{ SIMP_RELEASE, F_SEQ, 0, "the reply has sequence number 2, the request 1" },
	{ SIMP_REPORT, F_SHORT, 0, "164 payload bytes, 168 expected" },
	{ SIMP_REPORT, F_LONG, 0, "176 payload bytes, 168 expected" },
	{ SIMP_REPORT, F_STATUS_LOW, 0, "status -5000 is neither 0 nor a negative errno" },
	{ SIMP_REPORT, F_ERR_PAYLOAD, 0, "failure -16 carries 168 payload bytes" },
	{ SIMP_REPORT, F_EXTRA_FD, 0, "1 file descriptors, 0 expected" },
	{ SIMP_PERSONALITIES, F_NUL, 0, "a NUL byte at offset 8 of 17 bytes of text" },
	{ SIMP_PERSONALITIES, F_STATUS_POS, 0, "status 1 is neither 0 nor a negative errno" },
	{ SIMP_PERSONALITIES, F_ERR_PAYLOAD, 0, "failure -16 carries 17 payload bytes" },
	{ SIMP_PERSONALITIES, F_EXTRA_FD, 0, "1 file descriptors, 0 expected" },
};

START_TEST(control_call_refuses_malformed_reply)
{
	const struct api_case *c = &api_cases[_i];
	xpage_sim_t *sim = connect_fake(c->op, 1, c->kind);
	int fds = count_fds(), rc;

	errno = 0;
	rc = call_op(sim, c->op, c->domid);
	ck_assert_msg(rc == -EPROTO, "op %u, %s: returned %d, not -EPROTO",
		      c->op, c->what, rc);
	ck_assert_int_eq(errno, EPROTO);
	/* the caller's sentence for it names the simulator */
	ck_assert_ptr_nonnull(strstr(xpage_strerror(rc), "simulator"));
	ck_assert_msg(sh->faulted, "the fault was never injected");
	/* an fd that came with the bad reply is closed */
	ck_assert_int_eq(count_fds(), fds);
	/* the next reply is well formed, and taken */
	ck_assert_int_eq(call_op(sim, c->op, c->domid),
			 answer_of(c->op, c->domid));
	ck_assert_int_eq(xpage_sim_stop(sim), 0);
}
END_TEST

static void tests(TCase *t)
{
	tcase_add_test(t, well_formed_replies);
	tcase_add_loop_test(t, control_call_refuses_malformed_reply, 0,
			    sizeof(api_cases) / sizeof(api_cases[0]));
}

int main(void)
{
	return fake_sim_main("sim_api", tests);
}
