/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake_backend.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

struct fake_cfg fake_cfg;
struct fake_state fake;

struct xp_backend { int dummy; };
static struct xp_backend the_be;

void fake_reset(void)
{
	if (fake.ring)
		munmap(fake.ring, 4096);
	if (fake.evt[0] > 0) {
		close(fake.evt[0]);
		close(fake.evt[1]);
	}
	memset(&fake, 0, sizeof(fake));
	memset(&fake_cfg, 0, sizeof(fake_cfg));
	fake_cfg.major = 4;
	fake_cfg.minor = 17;
	fake_cfg.vm_event_version = 7;
	fake_cfg.vcpus = 4;
	fake_cfg.nr_gfns = 4096;
	fake_cfg.fail_gfn = UINT64_MAX;
	fake_cfg.evict_busy_gfn = UINT64_MAX;
	fake_cfg.nominate_busy_gfn = UINT64_MAX;
	fake_cfg.ram[0] = (struct xpage_gfn_range){ 0, 4096 };
	fake_cfg.nram = 1;
	fake.generation = XPAGE_GEN_VM_EVENT_V7;
	fake.ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pipe2(fake.evt, O_NONBLOCK) < 0)
		abort();
}

void fake_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	size_t l = strlen(fake.log);

	snprintf(fake.log + l, sizeof(fake.log) - l, "%s\n", msg);
	if (strlen(fake.log) > sizeof(fake.log) / 2)
		memmove(fake.log, fake.log + sizeof(fake.log) / 4,
			strlen(fake.log + sizeof(fake.log) / 4) + 1);
}

static int f_open(struct xp_backend **be, uint32_t domid, const char *arg,
		  xp_backend_log_fn log, void *ctx)
{
	(void)domid; (void)arg; (void)log; (void)ctx;
	*be = &the_be;
	return 0;
}
static void f_close(struct xp_backend *be) { (void)be; }
/* Test programs run in parallel, each with its own fake domain 1. */
static int f_key(struct xp_backend *be, char *buf, size_t len)
{
	(void)be;
	snprintf(buf, len, "fake:%ld:1", (long)getpid());
	return 0;
}
static int f_info(struct xp_backend *be, struct xp_dominfo *i)
{
	(void)be;
	memset(i, 0, sizeof(*i));
	i->vcpus = fake_cfg.vcpus;
	i->nr_gfns = fake_cfg.nr_gfns;
	i->hvm = !fake_cfg.pv;
	return 0;
}
static int f_ram(struct xp_backend *be, struct xpage_gfn_range *r, size_t max)
{
	(void)be;
	if (fake_cfg.nram < 0)
		return -EOPNOTSUPP;
	for (int i = 0; i < fake_cfg.nram && (size_t)i < max; i++)
		r[i] = fake_cfg.ram[i];
	return fake_cfg.nram;
}
static int f_xen_version(struct xp_backend *be, uint32_t *ma, uint32_t *mi)
{
	(void)be;
	*ma = fake_cfg.major;
	*mi = fake_cfg.minor;
	return 0;
}
static int f_vmev(struct xp_backend *be, uint32_t *v)
{
	(void)be;
	if (fake_cfg.vm_event_version < 0)
		return -ENOSYS;
	*v = (uint32_t)fake_cfg.vm_event_version;
	return 0;
}
static int f_age(struct xp_backend *be, uint32_t *a)
{
	(void)be;
	if (!fake_cfg.age)
		return -ENOSYS;
	*a = (uint32_t)fake_cfg.age;
	return 0;
}
static int f_mc(struct xp_backend *be) { (void)be; return fake_cfg.multicall; }
static const char *f_lib(struct xp_backend *be)
{
	(void)be;
	return fake_cfg.tool_library;
}
static int f_enable(struct xp_backend *be, uint32_t age, void **ring)
{
	(void)be;
	fake.enables++;
	fake.declared_age = age;
	if (fake_cfg.enable_busy_once) {
		fake_cfg.enable_busy_once = 0;
		return -EBUSY;
	}
	if (fake_cfg.enable_rc)
		return fake_cfg.enable_rc;
	memset(fake.ring, 0, 4096);
	fake.rsp_cons = fake.req_prod_pvt = 0;
	*ring = fake.ring;
	return 0;
}
static int f_disable(struct xp_backend *be)
{
	struct xp_response r;

	(void)be;
	/* The hypervisor consumes what was notified before the disable. */
	while (fake.disables < 8 &&
	       fake_take_response(fake.generation, &r, NULL, NULL))
		if (r.flags == (XP_EV_VCPU_PAUSED | XP_EV_DROP_PAGE) && r.vcpu < 32)
			fake.released_at_disable[fake.disables] |= 1u << r.vcpu;
	fake.disables++;
	return fake_cfg.disable_rc;
}
static int f_pause(struct xp_backend *be)
{
	(void)be;
	fake.pauses++;
	fake.paused_now++;
	return 0;
}
static int f_unpause(struct xp_backend *be)
{
	(void)be;
	fake.unpauses++;
	fake.paused_now--;
	return 0;
}
static int f_hv(struct xp_backend *be, uint64_t *g, size_t cap)
{
	int n = 0;

	(void)be;
	fake.hv_calls++;
	if (fake_cfg.hv_delay_ms) {
		struct timespec ts = { 0, fake_cfg.hv_delay_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (fake_cfg.hv_rc < 0)
		return fake_cfg.hv_rc;
	for (int i = 0; i < fake_cfg.hv_n && (size_t)n < cap; i++)
		g[n++] = fake_cfg.hv_gfns[i];
	return n;
}
static int f_ops(struct xp_backend *be, struct xp_paging_op *ops, size_t n)
{
	(void)be;
	if (n && fake_cfg.call_fail_op &&
	    ops[0].op == (uint32_t)fake_cfg.call_fail_op - 1)
		return fake_cfg.call_fail_rc;
	for (size_t i = 0; i < n; i++) {
		bool hit = ops[i].gfn == fake_cfg.fail_gfn &&
			   (!fake_cfg.fail_only_op ||
			    ops[i].op == (uint32_t)fake_cfg.fail_only_op - 1);

		if (hit && fake_cfg.fail_times > 0 && --fake_cfg.fail_times == 0)
			fake_cfg.fail_gfn = UINT64_MAX;

		ops[i].rc = hit ? fake_cfg.fail_gfn_rc : 0;
		if (ops[i].op == XP_PAGING_EVICT &&
		    ops[i].gfn == fake_cfg.evict_busy_gfn)
			ops[i].rc = -EBUSY;
		if (ops[i].op == XP_PAGING_EVICT && !fake.paused_now)
			for (int h = 0; h < fake_cfg.hv_n; h++)
				fake.hv_evicts_running +=
					ops[i].gfn == fake_cfg.hv_gfns[h];
		if (ops[i].op == XP_PAGING_NOMINATE &&
		    ops[i].gfn == fake_cfg.nominate_busy_gfn)
			ops[i].rc = -EBUSY;
		fake.last_op = ops[i];
	}
	fake.ops += n;
	fake.traps++;
	return 1;
}
static void *f_map(struct xp_backend *be, const uint64_t *g, size_t n,
		   int prot, int *err)
{
	(void)be; (void)g; (void)prot;
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < n; i++)
		err[i] = g[i] == fake_cfg.fail_gfn && !fake_cfg.fail_only_op ?
			 fake_cfg.fail_gfn_rc : 0;
	for (size_t i = 0; i < n; i++)
		if (g[i] == XP_GFN_NONE)
			err[i] = -EINVAL;
	fake.maps++;
	return p == MAP_FAILED ? NULL : p;
}
static int f_unmap(struct xp_backend *be, void *a, size_t n)
{
	(void)be;
	fake.unmaps++;
	return munmap(a, n * 4096);
}
static int f_fd(struct xp_backend *be) { (void)be; return fake.evt[0]; }
static int f_notify(struct xp_backend *be)
{
	(void)be;
	fake.notifies++;
	if (fake_cfg.on_notify)
		fake_cfg.on_notify();
	return 0;
}
static int f_ack(struct xp_backend *be)
{
	char buf[64];
	(void)be;
	while (read(fake.evt[0], buf, sizeof(buf)) > 0)
		;
	return 0;
}

const struct xp_backend_ops fake_ops = {
	.name = "fake", .open = f_open, .close = f_close,
	.domain_info = f_info, .domain_key = f_key, .ram_ranges = f_ram,
	.xen_version = f_xen_version,
	.vm_event_version = f_vmev, .paging_age = f_age,
	.can_multicall = f_mc, .tool_library = f_lib,
	.enable = f_enable, .disable = f_disable, .forget = NULL, .pause = f_pause, .unpause = f_unpause,
	.paging_ops = f_ops, .map = f_map, .unmap = f_unmap,
	.evtchn_fd = f_fd, .notify = f_notify, .ack = f_ack,
	.hv_gfns = f_hv,
};

void fake_put_request(int generation, uint64_t gfn, uint32_t vcpu,
		      uint32_t flags, uint32_t p2mt)
{
	const struct xp_ring_layout *l = xp_ring_layout(generation);
	uint8_t *s = fake.ring + 64 + (fake.req_prod_pvt & (l->nr_slots - 1)) * l->slot_size;
	uint32_t raw, praw;

	memset(s, 0, l->slot_size);
	xp_flags_to_raw(l, flags, &raw, &praw);
	if (l->era == XP_ERA_VM_EVENT) {
		xp_wr32(s, 0, l->version);
		xp_wr32(s, 8, 3);
		xp_wr32(s, l->off_pflags, praw);
	} else {
		raw |= praw;
	}
	xp_wr32(s, l->off_flags, raw);
	xp_wr32(s, l->off_vcpu, vcpu);
	xp_wr64(s, l->off_gfn, gfn);
	xp_wr32(s, l->off_p2mt, p2mt);
	fake.req_prod_pvt++;
	__atomic_store_n((uint32_t *)fake.ring, fake.req_prod_pvt, __ATOMIC_RELEASE);
	if (write(fake.evt[1], "x", 1) < 0) { /* pipe full: already pending */ }
}

int fake_take_response(int generation, struct xp_response *out,
		       uint32_t *version, uint32_t *reason)
{
	const struct xp_ring_layout *l = xp_ring_layout(generation);
	uint32_t prod = __atomic_load_n((uint32_t *)(fake.ring + 8), __ATOMIC_ACQUIRE);
	uint8_t *s;
	uint32_t raw, praw = 0;

	if (prod == fake.rsp_cons)
		return 0;
	s = fake.ring + 64 + (fake.rsp_cons & (l->nr_slots - 1)) * l->slot_size;
	fake.rsp_cons++;
	raw = xp_rd32(s, l->off_flags);
	out->gfn = xp_rd64(s, l->off_gfn);
	out->vcpu = xp_rd32(s, l->off_vcpu);
	if (l->era == XP_ERA_VM_EVENT)
		praw = xp_rd32(s, l->off_pflags);
	else
		praw = raw;
	out->flags = xp_flags_from_raw(l, raw, praw) &
		     (XP_EV_VCPU_PAUSED | XP_EV_DROP_PAGE | XP_EV_EVICT_FAIL);
	if (version)
		*version = l->era == XP_ERA_VM_EVENT ? xp_rd32(s, 0) : 0;
	if (reason)
		*reason = l->era == XP_ERA_VM_EVENT ? xp_rd32(s, 8) : xp_rd16(s, 38);
	return 1;
}

struct xpage *fake_open(const struct xpage_callbacks *cbs, uint32_t ages,
			uint64_t required, uint64_t wanted, uint32_t flags)
{
	struct xpage_open_opts o = XPAGE_OPTS(xpage_open_opts, .domid = 1,
		.ages = ages, .features_required = required,
		.features_wanted = wanted, .flags = flags, .log_fn = fake_log,
		.log_level = XPAGE_LOG_DEBUG);

	return xp_open_with(&fake_ops, &o, cbs);
}
