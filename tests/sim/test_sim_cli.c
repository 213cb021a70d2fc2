/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xpage-simd's command line, start-up guest and clean shutdown. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkrun.h"
#include "simclient.h"

/* Run xpage-simd with @args; its stdout in @out; returns the exit code. */
static int run(const char *const *args, char *out, size_t outlen)
{
	const char *bin = getenv("XPAGE_SIMD");
	const char *argv[32] = { bin };
	int p[2], status, n = 1;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		dup2(devnull, 2);
		close(p[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < outlen &&
	       (r = read(p[0], out + got, outlen - got - 1)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(t_list_personalities)
{
	char out[4096];
	const char *args[] = { "--list-personalities", NULL };

	ck_assert_int_eq(run(args, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
			 "xen-4.2\nxen-4.5\nxen-4.6\nxen-4.8\nxen-4.11\n"
			 "xen-4.12\nxen-4.13\nxen-4.14\nxen-4.15\n"
			 "xen-4.17-nopaging\nxen-4.2-age2\nxen-4.17-pvh\n"
			 "xen-4.14-pvh\nxen-4.20-pvh\n");
	/* The test table knows each of them. */
	for (size_t i = 0; i < nlits; i++)
		ck_assert(strstr(out, lits[i].pers));
}
END_TEST

START_TEST(t_help)
{
	static const char *const opts[] = {
		"--socket", "--log", "--guest-pages", "--guest-mib", "--domid",
		"--vcpus", "--personality", "--seed", "--lazy", "--spin-us",
		"--resume-delay-us", "--list-personalities", "--help",
	};
	char out[8192];
	const char *args[] = { "--help", NULL };

	ck_assert_int_eq(run(args, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		ck_assert_msg(strstr(out, opts[i]), "--help lacks %s", opts[i]);
}
END_TEST

START_TEST(t_bad_usage)
{
	char out[8192];
	const char *nosock[] = { "--guest-pages", "10", NULL };
	const char *badpers[] = { "--socket", "/tmp/x", "--personality",
				  "xen-3.0", NULL };
	const char *badnum[] = { "--socket", "/tmp/x", "--guest-pages",
				 "lots", NULL };
	const char *extra[] = { "--socket", "/tmp/x", "stray", NULL };
	const char *unknown[] = { "--frobnicate", NULL };
	const char *badspin[] = { "--socket", "/tmp/x", "--spin-us",
				  "100001", NULL };
	const char *negspin[] = { "--socket", "/tmp/x", "--spin-us", "-1",
				  NULL };
	const char *baddelay[] = { "--socket", "/tmp/x", "--resume-delay-us",
				   "1000001", NULL };

	ck_assert_int_eq(run(nosock, out, sizeof(out)), 2);
	ck_assert_int_eq(run(badpers, out, sizeof(out)), 2);
	ck_assert_int_eq(run(badnum, out, sizeof(out)), 2);
	ck_assert_int_eq(run(extra, out, sizeof(out)), 2);
	ck_assert_int_eq(run(unknown, out, sizeof(out)), 2);
	ck_assert_int_eq(run(badspin, out, sizeof(out)), 2);
	ck_assert_int_eq(run(negspin, out, sizeof(out)), 2);
	ck_assert_int_eq(run(baddelay, out, sizeof(out)), 2);
}
END_TEST

/* The simulator, told to stop, exits with status 0 and removes its
 * socket. */
static void exits_cleanly(struct simd *s)
{
	int status;

	ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
	s->pid = 0;
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_ne(access(s->sock, F_OK), 0);   /* socket removed */
}

static void stop_by_signal(int sig)
{
	struct simd s;

	simd_start(&s, NULL);
	ck_assert_int_eq(access(s.sock, F_OK), 0);
	kill(s.pid, sig);
	exits_cleanly(&s);
	simd_stop(&s);
}

START_TEST(t_sigterm)
{
	stop_by_signal(SIGTERM);
}
END_TEST

START_TEST(t_sigint)
{
	stop_by_signal(SIGINT);
}
END_TEST

/* SIMP_SHUTDOWN, with guests, rings and a second client still there. */
START_TEST(t_shutdown_op)
{
	struct simd s;
	struct tc c, d;

	simd_start(&s, NULL);
	tc_guest(&c, &s, 64, 2, NULL, 0);
	ck_assert_int_eq(tc_enable(&c, 0), 0);
	tc_page_out(&c, 3, NULL);
	ck_assert_int_eq(tc_touch(&c, 0, 3, 0), -EAGAIN);
	ck_assert_int_eq(tc_connect(&d, &s), 0);
	ck_assert_int_eq(tc_call(&d, SIMP_SHUTDOWN, NULL, 0, NULL, 0, NULL), 0);
	exits_cleanly(&s);
	tc_close(&d);
	tc_close(&c);
	simd_stop(&s);
}
END_TEST

/* Start a simulator with @args and attach @c to its start-up guest
 * @domid, which must have @pages pages, @vcpus vCPUs and personality
 * @pers. */
static void attach_startup_guest(struct simd *s, struct tc *c,
				 const char *const *args, uint32_t domid,
				 uint64_t pages, uint32_t vcpus,
				 const char *pers)
{
	struct simp_dominfo di;

	simd_start(s, args);
	ck_assert_int_eq(tc_connect(c, s), 0);
	ck_assert_int_eq(tc_attach(c, domid), 0);
	di = tc_info(c);
	ck_assert_uint_eq(di.nr_pages, pages);
	ck_assert_uint_eq(di.vcpus, vcpus);
	ck_assert_str_eq(di.personality, pers);
}

/* A guest from the command line. */
START_TEST(t_startup_guest)
{
	static const char *const a1[] = { "--guest-pages", "100", "--domid",
		"7", "--vcpus", "3", "--personality", "xen-4.6", "--seed", "5",
		NULL };
	static const char *const a2[] = { "--guest-mib", "2", "--lazy",
		"--spin-us", "0", NULL };
	struct simd s;
	struct tc c;

	attach_startup_guest(&s, &c, a1, 7, 100, 3, "xen-4.6");
	ck_assert(c.mem[0] != 0 || c.mem[1] != 0);
	tc_close(&c);
	ck_assert_int_eq(simd_stop(&s), 0);

	attach_startup_guest(&s, &c, a2, 1, 512, 1, "xen-4.15");
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_uint_eq(c.mem[i], 0);
	tc_close(&c);
	ck_assert_int_eq(simd_stop(&s), 0);
}
END_TEST

/* --spin-us: a connection thread that polls for its next request serves
 * calls back to back and after a pause alike, with or without spinning,
 * and a long cap does not hold up a stop. */
START_TEST(t_spin_us)
{
	static const char *const caps[] = { "0", "50", "100000" };
	struct simd s;
	struct tc c;

	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		const char *args[] = { "--spin-us", caps[k], NULL };

		simd_start(&s, args);
		tc_guest(&c, &s, 64, 1, NULL, 0);
		ck_assert_int_eq(tc_enable(&c, 0), 0);
		for (int i = 0; i < 200; i++)
			ck_assert_uint_eq(tc_info(&c).nr_pages, 64);
		tc_sleep_ms(5); /* past every cap but the last */
		tc_page_out(&c, 3, NULL);
		ck_assert_int_eq(tc_touch(&c, 0, 3, 0), -EAGAIN);
		/* Stopped while the connection is spinning (the last cap). */
		kill(s.pid, SIGTERM);
		exits_cleanly(&s);
		tc_close(&c);
		simd_stop(&s);
	}
}
END_TEST

/* A live simulator's socket is not taken; a stale one is. */
START_TEST(t_socket_in_use)
{
	struct simd s;
	char out[256];
	int fd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	simd_start(&s, NULL);
	{
		const char *args[] = { "--socket", s.sock, NULL };

		ck_assert_int_eq(run(args, out, sizeof(out)), 1);
	}
	ck_assert_int_eq(simd_stop(&s), 0);
	/* A stale socket file (nobody listening): taken over. */
	ck_assert(mkdtemp(strcpy(s.dir, "/tmp/xpage-simtest.XXXXXX")));
	snprintf(s.sock, sizeof(s.sock), "%s/sock", s.dir);
	snprintf(s.log, sizeof(s.log), "%s/log", s.dir);
	strcpy(sa.sun_path, s.sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert_int_eq(access(s.sock, F_OK), 0);
	ck_assert_int_eq(simp_connect(s.sock), -ECONNREFUSED);
	s.pid = fork();
	ck_assert_int_ge(s.pid, 0);
	if (s.pid == 0) {
		const char *bin = getenv("XPAGE_SIMD");

		execl(bin, bin, "--socket", s.sock, (char *)NULL);
		_exit(127);
	}
	fd = -1;
	for (int i = 0; i < 400 && fd < 0; i++) {
		fd = simp_connect(s.sock);
		if (fd < 0)
			tc_sleep_ms(5);
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(simd_stop(&s), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-cli");
	TCase *t = check_tcase(s, "cli", 30);

	tcase_add_test(t, t_list_personalities);
	tcase_add_test(t, t_help);
	tcase_add_test(t, t_bad_usage);
	tcase_add_test(t, t_sigterm);
	tcase_add_test(t, t_sigint);
	tcase_add_test(t, t_shutdown_op);
	tcase_add_test(t, t_startup_guest);
	tcase_add_test(t, t_socket_in_use);
	tcase_add_test(t, t_spin_us);
	return s;
}

int main(void)
{
	return check_main(suite);
}
