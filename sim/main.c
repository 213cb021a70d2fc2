/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xpage-simd: command line, start-up and shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static void usage(FILE *f)
{
	fputs(
"Usage: xpage-simd --socket PATH [options]\n"
"       xpage-simd --list-personalities | --help\n"
"\n"
"A simulated Xen hypervisor for memory paging: it owns simulated guests\n"
"(memory, p2m, vCPUs, the paging ring) and serves libxpage's simulator\n"
"backend and test tools over a UNIX socket.\n"
"\n"
"Options:\n"
"  --socket PATH         listen on this UNIX socket path (required)\n"
"  --log FILE            append hypervisor messages to FILE\n"
"  --guest-pages N       create a guest of N 4 KiB pages at start-up\n"
"  --guest-mib N         the same, in MiB\n"
"  --domid N             domid of that guest (default: the first free, 1)\n"
"  --vcpus N             vCPUs of that guest (default 1)\n"
"  --personality NAME    hypervisor it imitates (default xen-4.15; see\n"
"                        --list-personalities)\n"
"  --seed N              seed of the guest's page contents (default 0)\n"
"  --lazy                do not fill pages at creation (all-zero until\n"
"                        written): for very large guests\n"
"  --text                text-like page contents (compressible) instead\n"
"                        of random bytes\n"
"  --spin-us N           after each reply, poll the connection for the\n"
"                        next request for up to N microseconds before\n"
"                        sleeping (default 50, at most 100000; 0: sleep\n"
"                        at once): CPU spent to save the wake-up of a\n"
"                        call that follows within N us\n"
"  --resume-delay-us N   after a pager's notify, wait up to N microseconds\n"
"                        for an operation on the domain to consume its\n"
"                        responses before the ring's own thread does\n"
"                        (default 200, at most 1000000; 0: at once)\n"
"  --parent-fd N         stop when descriptor N reads end of file: the\n"
"                        starter holds the pipe's other end, so the\n"
"                        simulator does not outlive it (xpage_sim_start)\n"
"  --list-personalities  print the personality names, one per line\n"
"  --help                print this help\n"
"\n"
"More guests are created through the socket (SIMP_CREATE_GUEST). The\n"
"simulator stops on SIGTERM, SIGINT, SIMP_SHUTDOWN or the end of\n"
"--parent-fd, and removes its socket. With XPAGE_SIMD_DEBUG set in the environment the log also gets\n"
"a line per ignored response.\n", f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_SOCKET = 1, OPT_LOG, OPT_PAGES, OPT_MIB, OPT_DOMID, OPT_VCPUS,
	OPT_PERSONALITY, OPT_SEED, OPT_LAZY, OPT_TEXT, OPT_SPIN, OPT_RESUME_DELAY,
	OPT_PARENT_FD, OPT_LIST, OPT_HELP,
};

/* The command line. */
struct simd_opts {
	const char *sock, *logf, *pers;
	uint64_t pages, domid, vcpus, seed;
	bool lazy, text;
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "guest-pages", required_argument, NULL, OPT_PAGES },
	{ "guest-mib", required_argument, NULL, OPT_MIB },
	{ "domid", required_argument, NULL, OPT_DOMID },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "personality", required_argument, NULL, OPT_PERSONALITY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "lazy", no_argument, NULL, OPT_LAZY },
	{ "text", no_argument, NULL, OPT_TEXT },
	{ "spin-us", required_argument, NULL, OPT_SPIN },
	{ "resume-delay-us", required_argument, NULL, OPT_RESUME_DELAY },
	{ "parent-fd", required_argument, NULL, OPT_PARENT_FD },
	{ "list-personalities", no_argument, NULL, OPT_LIST },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* An option with a number: 0, or -1 for a bad value. */
static int set_number(struct simd_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_PAGES:
		return parse_u64(arg, SIM_MAX_PAGES, &o->pages) || !o->pages ?
		       -1 : 0;
	case OPT_MIB:
		if (parse_u64(arg, SIM_MAX_PAGES / 256, &v) || !v)
			return -1;
		o->pages = v * 256;
		return 0;
	case OPT_DOMID:
		return parse_u64(arg, 0x7fefu, &o->domid);
	case OPT_VCPUS:
		return parse_u64(arg, SIM_MAX_VCPUS, &o->vcpus);
	case OPT_SEED:
		return parse_u64(arg, UINT64_MAX, &o->seed);
	case OPT_SPIN:
		if (parse_u64(arg, SERVER_SPIN_US_MAX, &v))
			return -1;
		server_set_spin_us((uint32_t)v);
		return 0;
	case OPT_RESUME_DELAY:
		if (parse_u64(arg, RING_RESUME_DELAY_US_MAX, &v))
			return -1;
		ring_set_resume_delay_us((uint32_t)v);
		return 0;
	case OPT_PARENT_FD:
		if (parse_u64(arg, INT32_MAX, &v) || fcntl((int)v, F_GETFD) < 0)
			return -1;
		server_set_parent_fd((int)v);
		return 0;
	default:
		return -1;
	}
}

/* Fill @o from the command line. -1 to run, else the exit status: 0
 * after --help or --list-personalities, 2 for a bad command line. */
static int parse_args(int argc, char **argv, struct simd_opts *o)
{
	char buf[1024];
	int c;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET: o->sock = optarg; break;
		case OPT_LOG: o->logf = optarg; break;
		case OPT_LAZY: o->lazy = true; break;
		case OPT_TEXT: o->text = true; break;
		case OPT_PERSONALITY:
			o->pers = optarg;
			if (sim_personality_find(o->pers))
				break;
			fprintf(stderr, "xpage-simd: unknown personality '%s' "
				"(see --list-personalities)\n", o->pers);
			return 2;
		case OPT_LIST:
			sim_personality_list(buf, sizeof(buf));
			fputs(buf, stdout);
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return 2;
		default:
			if (set_number(o, c, optarg) == 0)
				break;
			fprintf(stderr, "xpage-simd: bad value '%s'\n", optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xpage-simd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!o->sock) {
		fprintf(stderr, "xpage-simd: --socket PATH is required\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The guest --guest-pages/--guest-mib asks for. 0 or -1 (said). */
static int create_guest(const struct simd_opts *o)
{
	struct simp_guest g = { .domid = (uint32_t)o->domid,
				.vcpus = (uint32_t)o->vcpus,
				.pages = o->pages,
				.flags = (o->lazy ? SIM_GUEST_LAZY : 0) |
					 (o->text ? SIM_GUEST_TEXT : 0),
				.seed = o->seed };
	uint32_t id;
	int rc;

	if (o->pers)
		strncpy(g.personality, o->pers, sizeof(g.personality) - 1);
	rc = guest_create(&g, &id);
	if (rc < 0)
		fprintf(stderr, "xpage-simd: cannot create the guest: %s\n",
			strerror(-rc));
	return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct simd_opts o = { .vcpus = 1 };
	sigset_t set;
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* Signals are taken through a signalfd: block them before any
	 * thread exists so every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.logf && (rc = sim_log_open(o.logf)) < 0) {
		fprintf(stderr, "xpage-simd: %s: %s\n", o.logf, strerror(-rc));
		return 1;
	}
	if (o.pages && create_guest(&o) < 0) {
		sim_log_close();
		return 1;
	}
	rc = server_run(o.sock);
	if (rc < 0) {
		fprintf(stderr, "xpage-simd: %s: %s\n", o.sock, strerror(-rc));
		guest_destroy_all();
		sim_log_close();
		return 1;
	}
	sim_log(SIM_LOG_INFO, "stopped");
	sim_log_close();
	return 0;
}
