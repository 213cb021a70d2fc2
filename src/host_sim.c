/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host handle on xpage-simd: its machine frames through
 * SIMP_PAGE_OFFLINE and SIMP_M2P (simproto.h), on a connection attached
 * to no domain. As in backend_sim.c, nothing the simulator sends is
 * trusted: a reply is judged (simp_exchange(), then its values here)
 * before it is used; a malformed one fails with -EPROTO for good, a
 * closed connection with -EIO.
 */
#include "host_backend.h"
#include "simproto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xp_host_backend {
	int sock;
	uint32_t seq;
	bool broken, dead;
	xp_backend_log_fn log;
	void *log_ctx;
	union {
		struct simp_pgoff pgoff;
		struct simp_m2p m2p;
		uint8_t raw[SIMP_MAX_PAYLOAD];
	} *rsp;
	struct simp_m2p_req *m2p_req;
};

/* One judged round trip: the reply's status, -EIO once the connection is
 * gone, -EPROTO once a reply was malformed. */
static int ask(struct xp_host_backend *hb, uint16_t op, const void *req,
	       uint32_t len)
{
	struct simp_hdr h;
	char why[192];
	int rc;

	if (hb->broken)
		return -EPROTO;
	if (hb->dead)
		return -EIO;
	rc = simp_exchange(hb->sock, op, ++hb->seq, req, len, &h, hb->rsp,
			   NULL, why, sizeof(why));
	if (rc == -EIO || rc == -ECONNRESET) {
		hb->dead = true;
		hb->log(hb->log_ctx, XPAGE_LOG_ERROR, "simulator: the "
			"connection is closed (the simulator stopped or died)");
		return -EIO;
	}
	if (rc == -EPROTO) {
		hb->broken = true;
		hb->log(hb->log_ctx, XPAGE_LOG_ERROR, "simulator: malformed "
			"reply: %s; not trusted any more", why);
	}
	return rc < 0 ? rc : h.status;
}

static int malformed(struct xp_host_backend *hb, const char *why)
{
	hb->broken = true;
	hb->log(hb->log_ctx, XPAGE_LOG_ERROR, "simulator: malformed reply: "
		"%s; not trusted any more", why);
	return -EPROTO;
}

static void host_sim_close(struct xp_host_backend *hb)
{
	if (!hb)
		return;
	if (hb->sock >= 0)
		close(hb->sock);
	free(hb->rsp);
	free(hb->m2p_req);
	free(hb);
}

static int host_sim_open(struct xp_host_backend **out, const char *arg,
			 xp_backend_log_fn log, void *log_ctx)
{
	struct xp_host_backend *hb = calloc(1, sizeof(*hb));
	struct simp_u32 hello = { .v = SIMP_PROTO_VERSION };
	int rc;

	if (!hb)
		return -ENOMEM;
	hb->log = log;
	hb->log_ctx = log_ctx;
	hb->rsp = malloc(sizeof(*hb->rsp));
	hb->m2p_req = malloc(sizeof(*hb->m2p_req) +
			     SIMP_M2P_MAX * sizeof(uint64_t));
	hb->sock = simp_connect(arg);
	if (!hb->rsp || !hb->m2p_req || hb->sock < 0) {
		rc = hb->sock < 0 ? hb->sock : -ENOMEM;
		log(log_ctx, XPAGE_LOG_ERROR, "cannot reach the simulator at "
		    "%s: %s", arg, xpage_strerror(rc));
		host_sim_close(hb);
		return rc == -ECONNREFUSED ? -ENOENT : rc;
	}
	rc = ask(hb, SIMP_HELLO, &hello, sizeof(hello));
	if (rc < 0) {
		host_sim_close(hb);
		return rc;
	}
	*out = hb;
	return 0;
}

static int host_sim_page_offline(struct xp_host_backend *hb, unsigned cmd,
				 uint64_t first, uint64_t last,
				 uint32_t *status)
{
	struct simp_pgoff_req q = { .cmd = cmd, .start = first, .end = last };
	const struct simp_pgoff *r = &hb->rsp->pgoff;
	int rc = ask(hb, SIMP_PAGE_OFFLINE, &q, sizeof(q));

	if (rc < 0)
		return rc;
	if (r->n != last - first + 1 || r->ret > 0 || r->ret < -SIMP_MAX_ERRNO)
		return malformed(hb, "SIMP_PAGE_OFFLINE: wrong count or answer");
	memcpy(status, r->status, r->n * sizeof(*status));
	return r->ret;
}

static int host_sim_m2p(struct xp_host_backend *hb, const uint64_t *mfns,
			size_t n, uint64_t *gfns, uint64_t *max)
{
	for (size_t i = 0; i < n; i += SIMP_M2P_MAX) {
		uint32_t k = (uint32_t)(n - i < SIMP_M2P_MAX ? n - i
							     : SIMP_M2P_MAX);
		int rc;

		hb->m2p_req->n = k;
		hb->m2p_req->pad = 0;
		memcpy(hb->m2p_req->mfn, mfns + i, k * sizeof(*mfns));
		rc = ask(hb, SIMP_M2P, hb->m2p_req,
			 (uint32_t)(sizeof(*hb->m2p_req) + k * sizeof(*mfns)));
		if (rc < 0)
			return rc;
		if (hb->rsp->m2p.n != k)
			return malformed(hb, "SIMP_M2P: wrong count");
		memcpy(gfns + i, hb->rsp->m2p.gfn, k * sizeof(*gfns));
		*max = hb->rsp->m2p.max_mfn;
	}
	return 0;
}

/* The simulator hung up (nothing else comes on the socket between
 * requests), or an earlier call found it gone. */
static int host_sim_connection(struct xp_host_backend *hb)
{
	struct pollfd p = { .fd = hb->sock, .events = POLLIN | POLLRDHUP };

	if (!hb->dead && poll(&p, 1, 0) > 0 && p.revents)
		hb->dead = true;
	return hb->dead ? -EIO : 0;
}

const struct xp_host_ops xp_host_sim = {
	.name = "sim",
	.open = host_sim_open,
	.close = host_sim_close,
	.page_offline = host_sim_page_offline,
	.m2p = host_sim_m2p,
	.connection = host_sim_connection,
};
