/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <xpage/sim.h>: running and driving the simulated hypervisor (xpage-simd)
 * from test code, over the simulator protocol (simproto.h).
 *
 * A handle owns one control connection; calls on it are serialised by a
 * mutex, so one handle may be used from several threads. Nothing here
 * prints; errors are negative errno values (and errno) as in <xpage/xpage.h>.
 *
 * Nothing the simulator sends is trusted: each reply is judged against
 * what its op returns (simp_exchange(), simproto.h) before any byte of it
 * is used, and create_guest's domid against what the caller can take. A
 * malformed reply fails the call with -EPROTO (errno EPROTO) and leaves
 * the caller's output untouched; the next call is judged on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "simproto.h"
#include "xpage/sim.h"

#ifndef XPAGE_SIMD_DEFAULT
#define XPAGE_SIMD_DEFAULT "/usr/local/bin/xpage-simd"
#endif
#ifndef SIMP_VCPU_ANY
#define SIMP_VCPU_ANY 0xffffffffu
#endif

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000

struct xpage_sim {
	pthread_mutex_t lock;
	int sock;
	pid_t pid;          /* 0: connected to a simulator we did not start */
	int lifeline;       /* write end of the simulator's --parent-fd, or -1 */
	char *socket_path;
	char *dir;          /* mkdtemp directory we created, or NULL */
	uint32_t seq;       /* of the last request */
	uint64_t rsp[SIMP_MAX_PAYLOAD / 8]; /* the reply (under lock) */
};

static int fail(int e)
{
	errno = e < 0 ? -e : e;
	return e < 0 ? e : -e;
}

/*
 * One judged round trip (simp_exchange()). The reply's payload is copied
 * to @out when it fits in @outmax bytes; *@outlen (if given) is its size.
 * Returns 0, the simulator's negative errno, or -EIO / -ECONNRESET (the
 * connection failed) or -EPROTO (a malformed reply), with errno set.
 */
static int ctl(xpage_sim_t *sim, uint16_t op, const void *req, uint32_t len,
	       void *out, uint32_t outmax, uint32_t *outlen)
{
	struct simp_hdr h;
	int rc;

	if (!sim)
		return fail(-EINVAL);
	pthread_mutex_lock(&sim->lock);
	rc = simp_exchange(sim->sock, op, ++sim->seq, req, len, &h, sim->rsp,
			   NULL, NULL, 0);
	if (rc == 0 && h.status == 0) {
		if (outlen)
			*outlen = h.len;
		if (h.len && h.len <= outmax)
			memcpy(out, sim->rsp, h.len);
	}
	pthread_mutex_unlock(&sim->lock);
	if (rc == 0)
		rc = h.status;
	return rc < 0 ? fail(rc) : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void sim_free(xpage_sim_t *sim)
{
	if (!sim)
		return;
	if (sim->sock >= 0)
		close(sim->sock);
	if (sim->lifeline >= 0)
		close(sim->lifeline);
	if (sim->dir) {
		if (sim->socket_path)
			unlink(sim->socket_path);
		rmdir(sim->dir);
	}
	free(sim->socket_path);
	free(sim->dir);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
}

static xpage_sim_t *sim_alloc(void)
{
	xpage_sim_t *sim = calloc(1, sizeof(*sim));

	if (!sim)
		return NULL;
	pthread_mutex_init(&sim->lock, NULL);
	sim->sock = -1;
	sim->lifeline = -1;
	return sim;
}

/* Wait for the child to exit, SIGKILL after @ms. Returns its status. */
static int reap_child(pid_t pid, unsigned ms, int *status)
{
	uint64_t end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		sleep_ms(2);
	}
}

/* The socket path: the caller's, or one in a fresh private directory
 * (under $XDG_RUNTIME_DIR, else /tmp). 0 or a negative errno. */
static int choose_socket(xpage_sim_t *sim, const char *given)
{
	const char *base;

	if (given) {
		sim->socket_path = strdup(given);
		return sim->socket_path ? 0 : -ENOMEM;
	}
	base = getenv("XDG_RUNTIME_DIR");
	if (!base || !*base || access(base, W_OK) < 0)
		base = "/tmp";
	if (asprintf(&sim->dir, "%s/xpage-sim.XXXXXX", base) < 0) {
		sim->dir = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(sim->dir)) {
		int e = errno;

		free(sim->dir);
		sim->dir = NULL;
		return -e;
	}
	if (asprintf(&sim->socket_path, "%s/simd.sock", sim->dir) < 0) {
		sim->socket_path = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* In the child: its own session (a Ctrl-C meant for the caller, whose
 * pager then drains, must not take the hypervisor down with it), stdio on
 * /dev/null (the library never prints; the simulator's messages go to
 * its log), the lifeline kept across exec. Tells the parent through
 * @report why exec failed. */
static void exec_simd(const char *simd, char **argv, int devnull,
		      int lifeline, int report)
{
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	fcntl(lifeline, F_SETFD, 0);
	execv(simd, argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0) {
		/* nothing more to tell */
	}
	_exit(127);
}

/*
 * Start @simd for @sim. The simulator gets the read end of a pipe whose
 * write end only this process holds (close-on-exec, so no program it
 * starts keeps it): when this process exits without xpage_sim_stop(),
 * however it exits, the simulator reads end of file and stops. 0 or a
 * negative errno.
 */
static int spawn_simd(xpage_sim_t *sim, const char *simd, const char *log)
{
	int life[2] = { -1, -1 }, rep[2] = { -1, -1 }, devnull, e = 0, st;
	char *argv[10], fdarg[16];
	int argc = 0;
	ssize_t n;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    pipe2(life, O_CLOEXEC) < 0) {
		e = -errno;
		goto out;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", life[0]);
	argv[argc++] = (char *)simd;
	argv[argc++] = (char *)"--socket";
	argv[argc++] = sim->socket_path;
	argv[argc++] = (char *)"--parent-fd";
	argv[argc++] = fdarg;
	if (log) {
		argv[argc++] = (char *)"--log";
		argv[argc++] = (char *)log;
	}
	argv[argc] = NULL;
	sim->pid = fork();
	if (sim->pid < 0) {
		e = -errno;
		sim->pid = 0;
		goto out;
	}
	if (sim->pid == 0)
		exec_simd(simd, argv, devnull, life[0], rep[1]);
	close(rep[1]);
	rep[1] = -1;
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(sim->pid, &st, 0) < 0 && errno == EINTR)
			;
		sim->pid = 0;
		e = -e;
		goto out;
	}
	e = 0;
	sim->lifeline = life[1];
	life[1] = -1;
out:
	for (int i = 0; i < 2; i++) {
		if (life[i] >= 0)
			close(life[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	if (devnull >= 0)
		close(devnull);
	return e;
}

/* Wait until the simulator accepts connections. 0, -EIO (it exited: bad
 * options, socket in use...) or -ETIMEDOUT (then it is killed). */
static int wait_ready(xpage_sim_t *sim)
{
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;
	int status;

	for (unsigned wait = 1;; wait = wait < 20 ? wait * 2 : 20) {
		int fd = simp_connect(sim->socket_path);

		if (fd >= 0) {
			sim->sock = fd;
			return 0;
		}
		if (waitpid(sim->pid, &status, WNOHANG) == sim->pid) {
			sim->pid = 0;
			return -EIO;
		}
		if (now_ms() >= deadline)
			break;
		sleep_ms(wait);
	}
	kill(sim->pid, SIGKILL);
	while (waitpid(sim->pid, &status, 0) < 0 && errno == EINTR)
		;
	sim->pid = 0;
	return -ETIMEDOUT;
}

XPAGE_API xpage_sim_t *xpage_sim_start(const struct xpage_sim_opts *opts)
{
	struct xpage_sim_opts o;
	const char *simd;
	xpage_sim_t *sim;
	int e;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	if (opts) {
		e = XP_OPTS_VALID(opts, xpage_sim_opts);
		if (e < 0) {
			errno = -e;
			return NULL;
		}
		xp_opts_copy(&o, sizeof(o), opts);
	}
	simd = o.simd_path;
	if (!simd || !*simd)
		simd = getenv("XPAGE_SIMD");
	if (!simd || !*simd)
		simd = XPAGE_SIMD_DEFAULT;
	if (access(simd, X_OK) < 0) {
		errno = ENOENT;
		return NULL;
	}
	sim = sim_alloc();
	if (!sim) {
		errno = ENOMEM;
		return NULL;
	}
	e = choose_socket(sim, o.socket_path);
	if (e == 0)
		e = spawn_simd(sim, simd, o.log_path);
	if (e == 0)
		e = wait_ready(sim);
	if (e < 0) {
		sim_free(sim);
		errno = -e;
		return NULL;
	}
	return sim;
}

XPAGE_API xpage_sim_t *xpage_sim_connect(const char *socket_path)
{
	xpage_sim_t *sim;
	int fd;

	if (!socket_path) {
		errno = EINVAL;
		return NULL;
	}
	sim = sim_alloc();
	if (!sim || !(sim->socket_path = strdup(socket_path))) {
		sim_free(sim);
		errno = ENOMEM;
		return NULL;
	}
	fd = simp_connect(socket_path);
	if (fd < 0) {
		sim_free(sim);
		errno = -fd;
		return NULL;
	}
	sim->sock = fd;
	return sim;
}

XPAGE_API const char *xpage_sim_socket(const xpage_sim_t *sim)
{
	if (!sim) {
		errno = EINVAL;
		return NULL;
	}
	return sim->socket_path;
}

XPAGE_API int xpage_sim_pid(const xpage_sim_t *sim)
{
	return sim ? (int)sim->pid : 0;
}

XPAGE_API int xpage_sim_stop(xpage_sim_t *sim)
{
	int rc = 0, status = 0;

	if (!sim)
		return 0;
	if (sim->sock >= 0) {
		close(sim->sock);
		sim->sock = -1;
	}
	if (sim->pid > 0) {
		if (kill(sim->pid, SIGTERM) < 0 && errno != ESRCH)
			rc = -errno;
		if (!rc) {
			rc = reap_child(sim->pid, STOP_TIMEOUT_MS, &status);
			if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
				rc = -ECHILD; /* it did not stop cleanly */
		}
	}
	sim_free(sim);
	return rc < 0 ? fail(rc) : 0;
}

/* A control request that names only a domain. */
static int ctl_domain(xpage_sim_t *sim, uint16_t op, uint32_t domid)
{
	struct simp_u32 d = { domid, 0 };

	return ctl(sim, op, &d, sizeof(d), NULL, 0, NULL);
}

/* A caller's sized struct in: @valid is XP_OPTS_VALID()'s answer for
 * @src; @dst gets it, zeroed past what the caller knows. 0, or the
 * failure (errno set). */
static int opts_in(const xpage_sim_t *sim, int valid, void *dst, size_t size,
		   const void *src)
{
	if (!sim)
		return fail(-EINVAL);
	if (valid < 0)
		return fail(valid);
	xp_opts_copy(dst, size, src);
	return 0;
}

XPAGE_API int xpage_sim_create_guest(xpage_sim_t *sim,
				     const struct xpage_sim_guest_opts *opts)
{
	struct xpage_sim_guest_opts o;
	struct simp_guest g;
	struct simp_u32 d;
	int rc = opts_in(sim, XP_OPTS_VALID(opts, xpage_sim_guest_opts), &o,
			 sizeof(o), opts);

	if (rc < 0)
		return rc;
	if (!o.pages || (o.flags & ~XPAGE_SIM_GUEST_FLAGS_ALL))
		return fail(-EINVAL);
	memset(&g, 0, sizeof(g));
	if (o.personality) {
		if (strlen(o.personality) >= sizeof(g.personality))
			return fail(-ENOENT);
		strcpy(g.personality, o.personality);
	}
	g.domid = o.domid;
	g.vcpus = o.vcpus ? o.vcpus : 1;
	g.pages = o.pages;
	g.flags = o.flags;
	g.seed = o.seed;
	rc = ctl(sim, SIMP_CREATE_GUEST, &g, sizeof(g), &d, sizeof(d), NULL);
	if (rc < 0)
		return rc;
	/* The domid asked for, or one the simulator chose below Xen's
	 * reserved ids (0x7ff0): anything else would read as another guest
	 * or, past INT_MAX, as an errno. */
	if (g.domid ? d.v != g.domid : d.v == 0 || d.v >= 0x7ff0u)
		return fail(-EPROTO);
	return (int)d.v;
}

XPAGE_API int xpage_sim_destroy_guest(xpage_sim_t *sim, uint32_t domid)
{
	return ctl_domain(sim, SIMP_DESTROY_GUEST, domid);
}

XPAGE_API int xpage_sim_workload(xpage_sim_t *sim, uint32_t domid,
				 const struct xpage_sim_workload *w)
{
	struct xpage_sim_workload o;
	struct simp_workload q;
	int rc = opts_in(sim, XP_OPTS_VALID(w, xpage_sim_workload), &o,
			 sizeof(o), w);

	if (rc < 0)
		return rc;
	q = (struct simp_workload){ .domid = domid, .vcpus = o.vcpus,
				    .pattern = o.pattern,
				    .write_pct = o.write_pct,
				    .hot_set_pct = o.hot_set_pct,
				    .hot_pct = o.hot_pct,
				    .think_us = o.think_us,
				    .release_pm = o.release_pm,
				    .seed = o.seed };
	return ctl(sim, SIMP_WORKLOAD, &q, sizeof(q), NULL, 0, NULL);
}

XPAGE_API int xpage_sim_workload_stop(xpage_sim_t *sim, uint32_t domid)
{
	return ctl_domain(sim, SIMP_WORKLOAD_STOP, domid);
}

XPAGE_API int xpage_sim_faults(xpage_sim_t *sim, uint32_t domid,
			       const struct xpage_sim_faults *f)
{
	struct xpage_sim_faults o;
	struct simp_faults q;
	int rc = opts_in(sim, XP_OPTS_VALID(f, xpage_sim_faults), &o,
			 sizeof(o), f);

	if (rc < 0)
		return rc;
	q = (struct simp_faults){ .domid = domid, .seed = o.seed,
				  .nominate_ebusy_pm = o.nominate_ebusy_pm,
				  .evict_ebusy_pm = o.evict_ebusy_pm,
				  .load_enomem_pm = o.load_enomem_pm,
				  .race_access_pm = o.race_access_pm,
				  .race_drop_pm = o.race_drop_pm,
				  .event_delay_us = o.event_delay_us,
				  .ring_slots_held = o.ring_slots_held };
	return ctl(sim, SIMP_FAULTS, &q, sizeof(q), NULL, 0, NULL);
}

XPAGE_API int xpage_sim_touch(xpage_sim_t *sim, uint32_t domid,
			      uint32_t vcpu, uint64_t gfn, unsigned int flags)
{
	struct simp_touch t = { .domid = domid, .vcpu = vcpu,
				.flags = flags, .gfn = gfn };

	if (flags & ~(XPAGE_SIM_TOUCH_WRITE | XPAGE_SIM_TOUCH_FOREIGN))
		return fail(-EINVAL);
	return ctl(sim, SIMP_TOUCH, &t, sizeof(t), NULL, 0, NULL);
}

XPAGE_API int xpage_sim_release(xpage_sim_t *sim, uint32_t domid,
				uint64_t gfn)
{
	struct simp_touch t = { .domid = domid, .vcpu = SIMP_VCPU_ANY,
				.gfn = gfn };

	return ctl(sim, SIMP_RELEASE, &t, sizeof(t), NULL, 0, NULL);
}

XPAGE_API int xpage_sim_logdirty_hold(xpage_sim_t *sim, uint32_t domid,
				      int on)
{
	struct simp_u32x2 q = { .a = domid, .b = on != 0 };

	return ctl(sim, SIMP_LOGDIRTY_HOLD, &q, sizeof(q), NULL, 0, NULL);
}

XPAGE_API int xpage_sim_report(xpage_sim_t *sim, uint32_t domid,
			       unsigned int flags, uint32_t stuck_ms,
			       struct xpage_sim_report *r)
{
	struct simp_report_req q = { .domid = domid, .flags = flags,
				     .stuck_ms = stuck_ms };
	struct xpage_sim_report out;
	struct simp_report rep;
	int rc;

	if (!sim)
		return fail(-EINVAL);
	rc = XP_OPTS_VALID(r, xpage_sim_report);
	if (rc < 0)
		return fail(rc);
	if (flags & ~XPAGE_SIM_REPORT_FINAL)
		return fail(-EINVAL);
	rc = ctl(sim, SIMP_REPORT, &q, sizeof(q), &rep, sizeof(rep), NULL);
	if (rc < 0)
		return rc;
	memset(&out, 0, sizeof(out));
	out.sz = sizeof(out);
	out.pages = rep.pages;
	out.paged = rep.paged;
	out.nominated = rep.nominated;
	out.accesses = rep.accesses;
	out.faults = rep.faults;
	out.requests = rep.requests;
	out.responses = rep.responses;
	out.ignored = rep.ignored;
	out.lost = rep.lost;
	out.corrupted = rep.corrupted;
	out.stuck = rep.stuck;
	out.crashed = rep.crashed;
	out.paused_vcpus = rep.paused_vcpus;
	out.ring_enabled = rep.ring_enabled;
	out.pause_count = rep.pause_count;
	xp_opts_export(r, &out, XP_KNOWN_SIZE(xpage_sim_report));
	return 0;
}

XPAGE_API int xpage_sim_personalities(xpage_sim_t *sim, char *buf,
				      size_t len)
{
	uint32_t n = 0;
	int rc;

	if (!buf && len)
		return fail(-EINVAL);
	/* copied only when it fits with its NUL (text: no NUL in it) */
	rc = ctl(sim, SIMP_PERSONALITIES, NULL, 0, buf,
		 len > SIMP_MAX_PAYLOAD ? SIMP_MAX_PAYLOAD :
		 len ? (uint32_t)len - 1 : 0, &n);
	if (rc < 0)
		return rc;
	if ((size_t)n >= len)
		return fail(-ENOSPC);
	buf[n] = '\0';
	return (int)n;
}
