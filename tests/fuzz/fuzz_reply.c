/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the library's judge of simulator replies (src/simproto.c,
 * simp_exchange and simp_check_reply), which backend_sim.c and sim_api.c
 * use before they read anything the simulator sent.
 *
 * The input is a request and then raw bytes sent back as the reply, over a
 * socketpair, so simp_recv() reads them as it reads a simulator:
 *
 *   u16 op, u32 seq, u32 n (the request's count, for ops that answer with
 *   one result per element), u8 nfds (descriptors sent with the reply,
 *   at most 3), then the reply packet's bytes (header and payload, as
 *   they are: any magic, op, length)
 *
 * Properties: no crash and no sanitizer report; no descriptor left open
 * after a refused reply; and a reply the judge accepts obeys the rules
 * simproto.h states, checked here again from the header and the spec
 * alone: the request's op and seq, status 0 or a negative errno, nothing
 * attached to a failure, and on success exactly the op's shape.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "simproto.h"

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* Send @len raw bytes with @nfds descriptors (copies of /dev/null). */
static void send_raw(int sock, const uint8_t *p, size_t len, int nfds)
{
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[3];

	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfds) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(&u.c), fds, (size_t)nfds * sizeof(int));
	}
	if (len == 0 && nfds == 0)
		shutdown(sock, SHUT_WR); /* nothing at all: the peer hung up */
	else if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0 && len)
		abort();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void check_accepted(const struct simp_reply_spec *s, uint16_t op,
			   uint32_t seq, uint32_t n, const struct simp_hdr *h,
			   const void *rsp)
{
	if (h->op != op || h->seq != seq)
		abort();
	if (h->status > 0 || h->status < -SIMP_MAX_ERRNO)
		abort();
	if (h->status < 0) {
		if (h->len || h->nfds)
			abort();
		return;
	}
	if (h->nfds != s->nfds)
		abort();
	switch (s->shape) {
	case SIMP_RSP_NONE:
		if (h->len)
			abort();
		break;
	case SIMP_RSP_FIXED:
		if (h->len != s->len)
			abort();
		break;
	case SIMP_RSP_RESULTS: {
		const struct simp_results *r = rsp;

		if (h->len != sizeof(*r) + (uint64_t)n * sizeof(int32_t) ||
		    r->n != n)
			abort();
		for (uint32_t i = 0; i < n; i++)
			if (r->rc[i] > 0 || r->rc[i] < -SIMP_MAX_ERRNO)
				abort();
		break;
	}
	case SIMP_RSP_TEXT:
		if (memchr(rsp, 0, h->len))
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t rsp[SIMP_MAX_PAYLOAD / 8 + 1];
	static uint8_t req[4 + 8 * 64];
	const struct simp_reply_spec *s;
	struct simp_hdr h;
	int sv[2], fds[SIMP_MAX_FDS], before, rc, nfds;
	uint16_t op;
	uint32_t seq, n;
	char why[256];

	if (size < 11)
		return 0;
	memcpy(&op, data, 2);
	memcpy(&seq, data + 2, 4);
	memcpy(&n, data + 6, 4);
	nfds = data[10] % 4;
	data += 11;
	size -= 11;
	s = simp_reply_spec(op);
	if (!s)
		return 0;
	n %= 65; /* the request below holds at most 64 elements */
	memset(req, 0, sizeof(req));
	memcpy(req, &n, 4);

	before = open_fds();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* The request goes first (simp_exchange sends it); the reply is
	 * queued before the call so that no thread is needed. */
	send_raw(sv[1], data, size, nfds);
	rc = simp_exchange(sv[0], op, seq, req, sizeof(req), &h, rsp, fds,
			   why, sizeof(why));
	if (rc == 0) {
		check_accepted(s, op, seq, n, &h, rsp);
		if (h.status == 0)
			for (int i = 0; i < s->nfds; i++)
				close(fds[i]);
	} else if (rc != -EPROTO && rc != -EIO && rc != -ECONNRESET) {
		abort();
	}
	close(sv[0]);
	close(sv[1]);
	if (open_fds() != before)
		abort(); /* a descriptor of the reply was left open */
	return 0;
}
