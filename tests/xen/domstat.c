/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xpage-rig-domstat: what the hypervisor itself says about a domain, for
 * the real-Xen run (tests/xen). It runs in dom0, so every pager is
 * measured with the same yardstick, whatever the pager reports.
 *
 *   xpage-rig-domstat DOMID
 *     prints one line:
 *     domstat dom=D tot=PAGES max=PAGES paged=PAGES cpu_ns=NS
 *             vcpu0_ns=NS vcpu0_blocked=B vcpu0_running=R paused=P
 *             dying=D shutdown=S crashed=C shared_info=MFN
 *
 *   xpage-rig-domstat --watch DOMID STATE_FILE [INTERVAL_MS [PRINT_S]]
 *     samples the domain every INTERVAL_MS (default 100) until SIGTERM or
 *     until the domain is gone or shut down (then " gone=1" ends the line
 *     and "XPRIG guest_gone" is printed), and keeps in STATE_FILE (rewritten each sample) one line:
 *     t=UPTIME tot= paged= peak= out= in= cpu_ns= samples=
 *     where out/in add up every rise/fall of Xen's paged-page count
 *     between samples (page-outs and page-ins as the hypervisor saw them,
 *     a lower bound if both happen between two samples) and peak is the
 *     largest paged count seen. Every PRINT_S seconds (default 2; 0: never)
 *     it also prints that line on stdout as "XPRIG sample ...".
 *
 * `paged` is Xen's own count of the domain's paged-out frames
 * (d->paged_pages); cpu_ns tells whether the guest still runs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fields of xc_domain_getinfolist()'s answer this program reads; that
 * call and its struct are the same from Xen 4.14 to 4.20 (the older
 * xc_domain_getinfo() is gone from 4.18 on). */
struct dinfo {
	unsigned long nr_pages, max_pages, nr_paged_pages, shared_info_frame;
	unsigned long long cpu_time;
	unsigned paused, dying, shutdown, crashed;
};

static int getinfo(xc_interface *xch, uint32_t domid, struct dinfo *info)
{
	xc_domaininfo_t d;
	unsigned reason;

	if (xc_domain_getinfolist(xch, domid, 1, &d) != 1 || d.domain != domid)
		return -1;
	reason = (d.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
	*info = (struct dinfo){
		.nr_pages = d.tot_pages, .max_pages = d.max_pages,
		.nr_paged_pages = d.paged_pages,
		.shared_info_frame = d.shared_info_frame,
		.cpu_time = d.cpu_time,
		.paused = !!(d.flags & XEN_DOMINF_paused),
		.dying = !!(d.flags & XEN_DOMINF_dying),
		.shutdown = !!(d.flags & XEN_DOMINF_shutdown),
	};
	info->crashed = info->shutdown && reason == SHUTDOWN_crash;
	return 0;
}

static int once(xc_interface *xch, uint32_t domid)
{
	struct dinfo info;
	xc_vcpuinfo_t v = { 0 };

	if (getinfo(xch, domid, &info)) {
		printf("domstat dom=%u gone=1\n", domid);
		return 1;
	}
	int vr = xc_vcpu_getinfo(xch, domid, 0, &v);

	printf("domstat dom=%u tot=%lu max=%lu paged=%lu cpu_ns=%llu "
	       "vcpu0_ns=%llu vcpu0_blocked=%d vcpu0_running=%d paused=%u "
	       "dying=%u shutdown=%u crashed=%u shared_info=0x%lx\n",
	       domid, info.nr_pages, info.max_pages, info.nr_paged_pages,
	       info.cpu_time,
	       vr ? 0ull : (unsigned long long)v.cpu_time,
	       vr ? -1 : v.blocked, vr ? -1 : v.running, info.paused,
	       info.dying, info.shutdown, info.crashed,
	       info.shared_info_frame);
	return 0;
}

static int watch(xc_interface *xch, uint32_t domid, const char *state,
		 long interval_ms, long print_s)
{
	struct dinfo info;
	unsigned long last = 0, peak = 0, out = 0, in = 0, samples = 0;
	double next_print = uptime() + (double)print_s;
	char tmp[4096], line[512];

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop) {
		if (getinfo(xch, domid, &info) || info.dying || info.shutdown) {
			/* The guest is gone (crashed, reset, destroyed): say so
			 * in the state file, keeping the last counts. */
			FILE *f = fopen(tmp, "w");

			if (f) {
				fprintf(f, "%s gone=1\n", samples ? line : "t=0");
				fclose(f);
				rename(tmp, state);
			}
			printf("XPRIG guest_gone t=%.2f dom=%u shutdown=%u "
			       "crashed=%u\n", uptime(), domid,
			       samples ? info.shutdown : 0,
			       samples ? info.crashed : 0);
			fflush(stdout);
			break;
		}
		unsigned long paged = info.nr_paged_pages;

		if (samples && paged > last)
			out += paged - last;
		if (samples && paged < last)
			in += last - paged;
		if (!samples)
			out = paged; /* already out when the watch began */
		if (paged > peak)
			peak = paged;
		last = paged;
		samples++;
		snprintf(line, sizeof(line),
			 "t=%.2f tot=%lu paged=%lu peak=%lu out=%lu in=%lu "
			 "cpu_ns=%llu samples=%lu",
			 uptime(), info.nr_pages, paged, peak, out, in,
			 info.cpu_time, samples);
		FILE *f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%s\n", line);
			fclose(f);
			rename(tmp, state);
		}
		if (print_s > 0 && uptime() >= next_print) {
			printf("XPRIG sample dom=%u %s\n", domid, line);
			fflush(stdout);
			next_print += (double)print_s;
		}
		struct timespec d = { interval_ms / 1000,
				      (interval_ms % 1000) * 1000000L };
		nanosleep(&d, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int w = argc >= 4 && !strcmp(argv[1], "--watch");

	if (!w && argc != 2) {
		fprintf(stderr, "usage: %s DOMID | --watch DOMID STATE_FILE "
			"[INTERVAL_MS [PRINT_S]]\n", argv[0]);
		return 2;
	}
	uint32_t domid = (uint32_t)strtoul(argv[w ? 2 : 1], NULL, 0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		perror("xc_interface_open");
		return 2;
	}
	int rc = w ? watch(xch, domid, argv[3],
			   argc > 4 ? atol(argv[4]) : 100,
			   argc > 5 ? atol(argv[5]) : 2)
		   : once(xch, domid);
	xc_interface_close(xch);
	return rc;
}
