/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-offline(8) on the simulator: a running guest moved off its
 * frames by the tool's own handle, and by the batch pager that holds the
 * domain (its control channel); the frames of a PV guest, Xen, dom0 and
 * MMIO left with their reason; the oracle's verdict after each.
 */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpage/sim.h>

#include "fixture.h"
#include "frames_fixture.h"
#include "simp_call.h"

static xpage_sim_t *sim;
static char dir[128];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xpage-offline-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run the tool on @argv (NULL-terminated, after the program's name),
 * its output into @out (read back into @buf); its exit status. */
static int run_tool(const char *const *argv, const char *out, char *buf,
		    size_t len)
{
	const char *tool = getenv("XPAGE_OFFLINE");
	const char *args[512] = { tool };
	pid_t pid;
	int st, fd;
	ssize_t r;

	ck_assert_msg(tool && access(tool, X_OK) == 0, "XPAGE_OFFLINE");
	for (int i = 0; argv[i]; i++) {
		ck_assert_int_lt(i, 510);
		args[i + 1] = argv[i];
	}
	pid = fork();
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		execv(tool, (char *const *)args);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	fd = open(out, O_RDONLY);
	r = read(fd, buf, len - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The JSON line of frame @mfn. */
static const char *line_of(const char *json, uint64_t mfn)
{
	char key[48];
	const char *l;

	snprintf(key, sizeof(key), "\"mfn\": \"0x%llx\"",
		 (unsigned long long)mfn);
	l = strstr(json, key);
	if (!l)
		fprintf(stderr, "the tool's output:\n%s\n", json);
	ck_assert_msg(l, "no line for frame 0x%llx",
		      (unsigned long long)mfn);
	return l;
}

/* Frame @mfn's line says each of @words (NULL-terminated). */
static void says(const char *json, uint64_t mfn, const char *const *words)
{
	const char *l = line_of(json, mfn), *end = strchr(l, '\n');

	for (; *words; words++) {
		const char *w = strstr(l, *words);

		if (!w || w > end)
			fprintf(stderr, "%.*s\n", (int)(end - l), l);
		ck_assert_msg(w && w < end, "frame 0x%llx: no \"%s\"",
			      (unsigned long long)mfn, *words);
	}
}

#define MOVE 200u

static uint32_t guest(uint64_t pages, uint32_t flags, bool workload)
{
	struct xpage_sim_guest_opts g = XPAGE_OPTS(xpage_sim_guest_opts,
		.vcpus = 2, .pages = pages, .flags = flags, .seed = 4);
	struct xpage_sim_workload w = XPAGE_OPTS(xpage_sim_workload,
		.write_pct = 30, .think_us = 50, .seed = 8);
	int domid = xpage_sim_create_guest(sim, &g);

	ck_assert_int_gt(domid, 0);
	if (workload)
		ck_assert_int_eq(xpage_sim_workload(sim, (uint32_t)domid, &w),
				 0);
	return (uint32_t)domid;
}

/* No pager: the tool opens the domain itself. The other kinds stay
 * with their reasons, and the tool says not all went (status 1). */
START_TEST(tool_moves_guest_itself)
{
	static char json[1 << 20];
	const char *argv[MOVE + 16];
	char arg[MOVE + 8][40], out[200];
	uint64_t old[MOVE], pv, m;
	uint32_t hvm, pvdom;
	int k = 0;

	sim = fx_sim_start(NULL);
	make_dir();
	hvm = guest(1024, 0, true);
	pvdom = guest(16, XPAGE_SIM_GUEST_PV, false);
	argv[k++] = "--json";
	argv[k++] = "--sim-socket";
	argv[k++] = xpage_sim_socket(sim);
	for (uint64_t g = 0; g < MOVE; g++) {
		old[g] = fx_frame_of(sim, hvm, g);
		snprintf(arg[g], sizeof(arg[g]), "0x%llx",
			 (unsigned long long)old[g]);
		argv[k++] = arg[g];
	}
	pv = fx_frame_of(sim, pvdom, 3);
	snprintf(arg[MOVE], sizeof(arg[0]), "%llu", (unsigned long long)pv);
	snprintf(arg[MOVE + 1], sizeof(arg[0]), "%u-%u", SIMP_MFN_XEN_FIRST,
		 SIMP_MFN_XEN_FIRST);
	snprintf(arg[MOVE + 2], sizeof(arg[0]), "%u", SIMP_MFN_DOM0_FIRST);
	snprintf(arg[MOVE + 3], sizeof(arg[0]), "%u", SIMP_MFN_IO_FIRST);
	for (int i = 0; i < 4; i++)
		argv[k++] = arg[MOVE + i];
	argv[k] = NULL;
	snprintf(out, sizeof(out), "%s/out.json", dir);
	k = run_tool(argv, out, json, sizeof(json));
	if (k != 1)
		fprintf(stderr, "the tool's output:\n%s\n", json);
	ck_assert_int_eq(k, 1);
	for (uint64_t g = 0; g < MOVE; g++)
		says(json, old[g], (const char *const[]){
		     "\"result\": \"offlined\"", "\"moved_by\": \"handle\"",
		     NULL });
	says(json, pv, (const char *const[]){ "\"result\": \"pending\"",
	     "cannot be paged", NULL });
	says(json, SIMP_MFN_XEN_FIRST, (const char *const[]){
	     "\"result\": \"refused\"", "hypervisor's own", NULL });
	says(json, SIMP_MFN_DOM0_FIRST, (const char *const[]){
	     "\"result\": \"refused\"", "dom0's frame", NULL });
	says(json, SIMP_MFN_IO_FIRST, (const char *const[]){
	     "\"result\": \"refused\"", "not conventional RAM", NULL });
	ck_assert_ptr_nonnull(strstr(json, "\"offlined\": 200, \"pending\": 1, "
				     "\"refused\": 3"));
	for (uint64_t g = 0; g < MOVE; g++) {
		m = fx_frame_of(sim, hvm, g);
		ck_assert_msg(m != old[g] && m != UINT64_MAX, "gfn %llu",
			      (unsigned long long)g);
	}
	xpage_sim_workload_stop(sim, hvm);
	fx_verdict(sim, hvm, XPAGE_SIM_REPORT_FINAL,
		   "after the tool moved the guest");
	remove_dir();
}
END_TEST

/* Whether the control socket @path answers a ping. */
static bool pings(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64] = "";
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok;

	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     write(fd, "ping\n", 5) == 5 && read(fd, buf, sizeof(buf) - 1) > 0 &&
	     !strncmp(buf, "pong", 4);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The pager's control socket answers (up to 10 s). */
static void wait_for_pager(const char *path, pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (pings(path))
			return;
		ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
		usleep(50000);
	}
	ck_abort_msg("the pager's control channel %s never answered", path);
}

static pid_t start_pager(uint32_t domid, const char *sock)
{
	const char *pager = getenv("XPAGE_BATCH_PAGER");
	char dom[16], store[200], out[200];
	pid_t pid;

	ck_assert_msg(pager && access(pager, X_OK) == 0, "XPAGE_BATCH_PAGER");
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(out, sizeof(out), "%s/pager.out", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(pager, pager, "--sim-socket", xpage_sim_socket(sim),
		      "--domid", dom, "--store", store, "--target-pages", "512",
		      "--batch", "64", "--control", sock, "--no-progress",
		      (char *)NULL);
		_exit(127);
	}
	wait_for_pager(sock, pid);
	return pid;
}

/* A batch pager holds the domain: the tool asks it, and the frames of
 * gfns it pages out and in meanwhile end offlined all the same. */
START_TEST(tool_asks_the_pager)
{
	static char json[1 << 20];
	const char *argv[MOVE + 8];
	char arg[MOVE][40], out[200], sock[200], cdir[160];
	uint64_t old[MOVE];
	uint32_t domid;
	int k = 0, n = 0, st;
	pid_t pid;

	sim = fx_sim_start(NULL);
	make_dir();
	domid = guest(1024, 0, true);
	snprintf(sock, sizeof(sock), "%s/dom%u.sock", dir, domid);
	pid = start_pager(domid, sock);
	usleep(500000); /* some pages go out */
	snprintf(cdir, sizeof(cdir), "%s", dir);
	argv[k++] = "--json";
	argv[k++] = "--sim-socket";
	argv[k++] = xpage_sim_socket(sim);
	argv[k++] = "--control-dir";
	argv[k++] = cdir;
	for (uint64_t g = 0; g < MOVE; g++) {
		uint64_t m = fx_frame_of(sim, domid, g);

		if (m == UINT64_MAX)
			continue; /* paged out: no frame */
		old[n] = m;
		snprintf(arg[n], sizeof(arg[n]), "0x%llx",
			 (unsigned long long)m);
		argv[k++] = arg[n++];
	}
	argv[k] = NULL;
	ck_assert_int_gt(n, 0);
	snprintf(out, sizeof(out), "%s/out.json", dir);
	if (run_tool(argv, out, json, sizeof(json)) != 0) {
		fprintf(stderr, "the tool's output:\n%s\n", json);
		ck_abort_msg("the tool left frames in service");
	}
	for (int i = 0; i < n; i++)
		says(json, old[i], (const char *const[]){
		     "\"result\": \"offlined\"", NULL });
	ck_assert_ptr_nonnull(strstr(json, "\"moved_by\": \"pager\""));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the pager failed (status %#x)", st);
	xpage_sim_workload_stop(sim, domid);
	fx_verdict(sim, domid, XPAGE_SIM_REPORT_FINAL,
		   "after the pager moved the guest for the tool");
	remove_dir();
}
END_TEST

static void add(TCase *tc)
{
	tcase_add_test(tc, tool_moves_guest_itself);
	tcase_add_test(tc, tool_asks_the_pager);
}

int main(void)
{
	return fx_main("offline-tool", "offline-tool", 120, add);
}
