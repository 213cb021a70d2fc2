/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the simulator's protocol parser, xpage-simd's side of
 * simproto.h: simp_recv() and the per-op decoding of sim/server.c, with the
 * simulator's own objects (guests, p2m, ring, vCPUs, oracle) behind it.
 *
 * sim/server.c is included here so that its connection thread, static in
 * the simulator, serves one end of a socketpair exactly as it serves an
 * accepted connection; this file is the client on the other end.
 *
 *   byte 0    personality of the guest set up first
 *   byte 1    guest size, vCPUs, and whether the connection attaches
 *   then      packets: [kind u8][op u16][len u16][payload]
 *               kind 0: a well-formed packet
 *               kind 1: raw bytes as the whole packet (any header)
 *               kind 2: a header whose len lies about the payload
 *               kind 3: a well-formed packet carrying a file descriptor
 *
 * Every packet must get exactly one reply with its op and seq (or an
 * -EPROTO reply for an unreadable one), in time; no crash, no report from
 * the sanitizers, no file descriptor left open after the connection and
 * its guests are gone.
 *
 * Bounded by this harness, not by the simulator (its control API is for
 * tests and trusts its caller there): guests of at most 4096 pages and 4
 * vCPUs, notification delays of at most 100 us, no SIMP_SHUTDOWN.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "../../sim/server.c"

static void fail(const char *what, long a)
{
	fprintf(stderr, "fuzz_simproto: %s (%ld)\n", what, a);
	abort();
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t u16(struct in *in)
{
	return (uint16_t)(u8(in) | u8(in) << 8);
}

static uint8_t rsp[SIMP_MAX_PAYLOAD + 64];

/* Wait for the reply to @seq; close the fds it carries. */
static void reply(int sock, uint16_t op, uint32_t seq, bool garbled)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct simp_hdr h;
	int fds[SIMP_MAX_FDS], nfds = SIMP_MAX_FDS, rc;

	rc = poll(&p, 1, 20000);
	if (rc == 0)
		fail("no reply within 20 s", op);
	rc = simp_recv(sock, &h, rsp, sizeof(rsp), fds, &nfds);
	if (rc < 0)
		fail("unreadable reply", rc);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (garbled) {
		if (h.op != op && !(h.op == 0 && h.status == -EPROTO))
			fail("a garbled packet got a reply for another op", h.op);
		return;
	}
	if (h.op != op || h.seq != seq)
		fail("a reply for another request", h.op);
	if (h.status > 0 && op != SIMP_HELLO && h.status > 0x7fff)
		fail("a strange status", h.status);
}

static void send_raw(int sock, const void *buf, size_t len, int fd)
{
	struct iovec iov = { (void *)buf, len };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		fail("send", errno);
}

/* Keep what the harness bounds within bounds (see the header). */
static void bound(uint16_t op, uint8_t *p, uint32_t len)
{
	if (op == SIMP_CREATE_GUEST && len >= sizeof(struct simp_guest)) {
		struct simp_guest g;

		memcpy(&g, p, sizeof(g));
		g.pages = g.pages % 4096;
		g.vcpus = g.vcpus % 5;
		memcpy(p, &g, sizeof(g));
	}
	if (op == SIMP_FAULTS && len >= sizeof(struct simp_faults)) {
		struct simp_faults f;

		memcpy(&f, p, sizeof(f));
		f.event_delay_us %= 101;
		memcpy(p, &f, sizeof(f));
	}
	if (op == SIMP_WORKLOAD && len >= sizeof(struct simp_workload)) {
		struct simp_workload w;

		memcpy(&w, p, sizeof(w));
		if (w.think_us < 50)
			w.think_us = 50;
		memcpy(p, &w, sizeof(w));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *pers[] = { "xen-4.2", "xen-4.5", "xen-4.6", "xen-4.8",
		"xen-4.11", "xen-4.12", "xen-4.13", "xen-4.14", "xen-4.15",
		"xen-4.17-nopaging", "xen-4.2-age2" };
	static int fds_at_start = -1;
	static uint8_t pkt[sizeof(struct simp_hdr) + SIMP_MAX_PAYLOAD];
	struct in in = { data, size };
	uint8_t b0 = u8(&in), b1 = u8(&in);
	struct conn *c;
	int sv[2], devnull;
	uint32_t seq = 1;

	if (fds_at_start < 0)
		signal(SIGPIPE, SIG_IGN);
	fds_at_start = count_fds(); /* this run's own (libFuzzer's vary) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	c = calloc(1, sizeof(*c));
	c->fd = sv[1];
	c->bounce_fd = -1;
	c->req = malloc(SIMP_MAX_PAYLOAD);
	c->rsp = malloc(SIMP_MAX_PAYLOAD);
	if (!c->req || !c->rsp || pthread_create(&c->thread, NULL, conn_thread, c))
		abort();
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* a guest, and (mostly) the connection attached to it */
	{
		struct simp_guest g = { .domid = 0, .vcpus = 1 + (b1 & 3),
					.pages = 16u << ((b1 >> 2) & 7),
					.flags = (b1 & 0x80) ? SIM_GUEST_LAZY : 0,
					.seed = b0 };
		struct simp_u32 d;

		snprintf(g.personality, sizeof(g.personality), "%s",
			 pers[b0 % (sizeof(pers) / sizeof(pers[0]))]);
		if (simp_send(sv[0], SIMP_CREATE_GUEST, seq, 0, &g, sizeof(g),
			      NULL, 0) < 0)
			fail("send", 0);
		reply(sv[0], SIMP_CREATE_GUEST, seq++, false);
		memcpy(&d, rsp, sizeof(d));
		if (!(b1 & 0x40)) {
			if (simp_send(sv[0], SIMP_ATTACH, seq, 0, &d, sizeof(d),
				      NULL, 0) < 0)
				fail("send", 0);
			reply(sv[0], SIMP_ATTACH, seq++, false);
		}
	}

	while (in.n) {
		uint8_t kind = u8(&in) % 4;
		uint16_t op = u16(&in) % 64, len = u16(&in) % 2048;
		uint8_t *p = pkt + sizeof(struct simp_hdr);

		if (op == SIMP_SHUTDOWN)
			op = SIMP_HELLO;
		for (uint16_t i = 0; i < len; i++)
			p[i] = u8(&in);
		bound(op, p, len);
		if (kind == 1) {
			/* any bytes at all as the packet (not none: an empty
			 * SEQPACKET message reads as the peer hanging up) */
			if (!len)
				p[len++] = u8(&in);
			if (len >= sizeof(struct simp_hdr))
				bound(((struct simp_hdr *)p)->op,
				      p + sizeof(struct simp_hdr),
				      len - (uint16_t)sizeof(struct simp_hdr));
			if (len >= sizeof(struct simp_hdr) &&
			    ((struct simp_hdr *)p)->op == SIMP_SHUTDOWN)
				((struct simp_hdr *)p)->op = SIMP_HELLO;
			send_raw(sv[0], p, len, -1);
			reply(sv[0], len >= sizeof(struct simp_hdr) ?
			      ((struct simp_hdr *)p)->op : 0, 0, true);
			continue;
		}
		struct simp_hdr h = { .magic = SIMP_MAGIC, .op = op, .seq = seq,
				      .len = len };

		if (kind == 2)
			h.len = (uint32_t)len + 1 + (uint32_t)u8(&in) * 977;
		memcpy(pkt, &h, sizeof(h));
		send_raw(sv[0], pkt, sizeof(h) + len, kind == 3 ? devnull : -1);
		if (kind == 2)
			reply(sv[0], op, seq, true);
		else
			reply(sv[0], op, seq, false);
		seq++;
	}

	/* hang up: the connection thread sees the end, detaches, exits */
	close(sv[0]);
	pthread_join(c->thread, NULL);
	conn_release(c);
	close(devnull);
	guest_destroy_all();
	{
		int now = count_fds();

		if (now > fds_at_start) {
			/* name them */
			DIR *d = opendir("/proc/self/fd");
			struct dirent *e;

			while (d && (e = readdir(d))) {
				char l[300], t[256];
				ssize_t k;

				snprintf(l, sizeof(l), "/proc/self/fd/%s", e->d_name);
				k = readlink(l, t, sizeof(t) - 1);
				if (k > 0) {
					t[k] = 0;
					fprintf(stderr, "  fd %s -> %s\n", e->d_name, t);
				}
			}
			if (d)
				closedir(d);
			fail("file descriptors left open", now - fds_at_start);
		}
	}
	return 0;
}
