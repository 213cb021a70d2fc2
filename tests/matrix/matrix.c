/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The integration matrix: for every personality the simulator lists, a
 * guest with busy vCPUs is paged by examples/minimal-pager (a third-party
 * pager's view: public API only) a few thousand pages out and back in, and
 * the oracle must report no page lost or corrupted and no vCPU stuck.
 * One line per personality says what was negotiated.
 *
 *   matrix MINIMAL_PAGER [PAGES]
 * needs XPAGE_SIMD (the simulator binary).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpage/sim.h>

static int run_pager(const char *pager, const char *sock, int domid,
		     const char *pages, char *out, size_t outlen)
{
	int pfd[2], status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;
	char dom[16];

	snprintf(dom, sizeof(dom), "%d", domid);
	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(pager, pager, "--domid", dom, "--sim-socket", sock,
		      "--pages", pages, "--seconds", "2", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (len + 1 < outlen && (r = read(pfd[0], out + len, outlen - len - 1)) > 0)
		len += (size_t)r;
	out[len] = 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int one(xpage_sim_t *sim, const char *pers, const char *pager,
	       const char *pages)
{
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 2, .pages = 8192, .personality = pers, .seed = 11);
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.pattern = XPAGE_SIM_HOTCOLD, .write_pct = 30, .hot_set_pct = 10,
		.hot_pct = 50, .think_us = 200, .seed = 5);
	struct xpage_sim_report r = XPAGE_OPTS(xpage_sim_report);
	bool nopaging = strstr(pers, "nopaging") != NULL;
	char out[8192], *line, *ev;
	unsigned long long evicted = 0;
	int domid, rc;

	domid = xpage_sim_create_guest(sim, &g);
	if (domid < 0) {
		printf("%-20s FAIL create guest: %s\n", pers, xpage_strerror(domid));
		return 1;
	}
	rc = xpage_sim_workload(sim, (uint32_t)domid, &w);
	if (rc < 0) {
		printf("%-20s FAIL workload: %s\n", pers, xpage_strerror(rc));
		return 1;
	}
	rc = run_pager(pager, xpage_sim_socket(sim), domid, pages, out, sizeof(out));
	xpage_sim_workload_stop(sim, (uint32_t)domid);
	if (xpage_sim_report(sim, (uint32_t)domid, XPAGE_SIM_REPORT_FINAL, 1000, &r) < 0) {
		printf("%-20s FAIL no oracle report\n", pers);
		return 1;
	}
	xpage_sim_destroy_guest(sim, (uint32_t)domid);
	if (nopaging) {
		/* Paging compiled out: the pager must fail, clearly. */
		if (rc != 0 && strstr(out, "without memory paging")) {
			printf("%-20s ok   refused: hypervisor built without paging\n", pers);
			return 0;
		}
		printf("%-20s FAIL expected a clear ENOSYS refusal, got rc %d:\n%s",
		       pers, rc, out);
		return 1;
	}
	line = strstr(out, "domain ");
	ev = strstr(out, "evicted ");
	if (ev)
		evicted = strtoull(ev + 8, NULL, 10);
	if (rc != 0 || !line || evicted < 2000 || r.lost || r.corrupted ||
	    r.stuck || r.crashed || r.paged) {
		printf("%-20s FAIL rc %d, evicted %llu, lost %llu, corrupted %llu, "
		       "stuck %llu, crashed %u, still paged %llu\n%s",
		       pers, rc, evicted, (unsigned long long)r.lost,
		       (unsigned long long)r.corrupted, (unsigned long long)r.stuck,
		       r.crashed, (unsigned long long)r.paged, out);
		return 1;
	}
	*strchrnul(line, '\n') = 0;
	printf("%-20s ok   %s; evicted %llu, guest accesses %llu (%llu faulted), "
	       "lost 0, corrupted 0, stuck 0\n", pers, strchr(line, ':') + 2,
	       evicted, (unsigned long long)r.accesses,
	       (unsigned long long)r.faults);
	return 0;
}

int main(int argc, char **argv)
{
	char names[4096], *save = NULL, *p;
	int failed = 0, count = 0;
	xpage_sim_t *sim;
	int n;

	if (argc < 2) {
		fprintf(stderr, "usage: matrix MINIMAL_PAGER [PAGES]\n");
		return 2;
	}
	sim = xpage_sim_start(NULL);
	if (!sim) {
		fprintf(stderr, "cannot start the simulator: %s\n", xpage_strerror(errno));
		return 1;
	}
	n = xpage_sim_personalities(sim, names, sizeof(names));
	if (n < 0) {
		fprintf(stderr, "no personality list: %s\n", xpage_strerror(n));
		xpage_sim_stop(sim);
		return 1;
	}
	for (p = strtok_r(names, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		failed += one(sim, p, argv[1], argc > 2 ? argv[2] : "3000");
		count++;
	}
	xpage_sim_stop(sim);
	printf("%d passed, %d failed\n", count - failed, failed);
	if (count < 11) {
		printf("only %d personalities listed, 11 expected\n", count);
		return 1;
	}
	return failed ? 1 : 0;
}
