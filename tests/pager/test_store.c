/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The batch pager's store on its own: slots, records, and what a
 * re-attach reads back (the newest record per gfn wins, FREE hides
 * older records, damaged records are ignored and counted), and the
 * refusals (another domain, mode, a store in use, a store that exists
 * when none may).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		failures++; \
	} \
} while (0)

static const struct store_live *find(const struct store_recovery *r,
				     uint64_t gfn)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->live[i].gfn == gfn)
			return &r->live[i];
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/xpage-store-test.XXXXXX", path[128], ipath[160],
	     err[512];
	struct store_identity id = { .domid = 3, .nr_gfns = 1000 };
	struct store *st, *st2;
	struct store_recovery rec;
	static uint8_t page[8][4096], back[8][4096];
	void *bufs[8], *rbufs[8];
	uint32_t slots[8];
	uint64_t gfns[8];
	struct stat sb;
	int rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(ipath, sizeof(ipath), "%s/s.index", dir);

	/* a new store: mode 0600 whatever the umask */
	umask(0);
	rc = store_open(path, &id, true, &st, &rec, err, sizeof(err));
	CHECK(rc == 0, "create: %d %s", rc, err);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "store mode %o", sb.st_mode & 0777);
	CHECK(stat(ipath, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "index mode %o", sb.st_mode & 0777);

	/* a second opener is refused while the first holds it */
	rc = store_open(path, &id, true, &st2, NULL, err, sizeof(err));
	CHECK(rc == -EBUSY && strstr(err, "in use"), "in use: %d %s", rc, err);

	/* contiguous slots, one write, read back */
	CHECK(store_reserve(st, 8) == 0, "reserve");
	CHECK(store_alloc(st, 8, slots) == 8, "alloc");
	for (int i = 0; i < 8; i++) {
		CHECK(i == 0 || slots[i] == slots[i - 1] + 1, "not contiguous");
		memset(page[i], 'a' + i, sizeof(page[i]));
		bufs[i] = page[i];
		rbufs[i] = back[i];
		gfns[i] = 100 + (uint64_t)i;
	}
	CHECK(store_record(st, gfns, slots, 8, REC_INTENT, false) == 0, "intent");
	CHECK(store_write(st, slots, bufs, 8) == 8 * 4096, "write");
	CHECK(store_sync_data(st) == 0, "sync");
	/* gfns 100..105 written; 106, 107 stay INTENT */
	CHECK(store_record(st, gfns, slots, 6, REC_WRITTEN, true) == 0, "written");
	CHECK(store_read(st, slots, rbufs, 8) == 8 * 4096, "read");
	CHECK(!memcmp(page, back, sizeof(page)), "data differs");
	/* 101 comes back in: FREE; 102 is paged out again elsewhere */
	store_free(st, slots[1], 101, true);
	store_free(st, slots[2], 102, true);
	{
		uint32_t s2;
		uint64_t g = 102;

		CHECK(store_alloc(st, 1, &s2) == 1, "alloc again");
		CHECK(store_record(st, &g, &s2, 1, REC_WRITTEN, true) == 0, "rec");
	}
	CHECK(store_used(st) == 7, "used %llu", (unsigned long long)store_used(st));
	store_close(st, false);

	/* damage the record of slot 3 (gfn 103) */
	{
		int fd = open(ipath, O_RDWR);
		uint8_t x = 0x5a;

		CHECK(fd >= 0 && pwrite(fd, &x, 1, 4096 + 3 * 32 + 2) == 1,
		      "damage");
		close(fd);
	}

	/* re-attach: what does the index say? */
	rc = store_open(path, &id, true, &st, &rec, err, sizeof(err));
	CHECK(rc == 1, "re-attach: %d %s", rc, err);
	if (rc == 1) {
		const struct store_live *l;

		CHECK(rec.bad_records == 1, "bad records %llu",
		      (unsigned long long)rec.bad_records);
		CHECK((l = find(&rec, 100)) && l->state == REC_WRITTEN &&
		      l->slot == slots[0], "gfn 100");
		CHECK(!find(&rec, 101), "gfn 101 was freed");
		CHECK((l = find(&rec, 102)) && l->state == REC_WRITTEN &&
		      l->slot != slots[2], "gfn 102: the newer record wins");
		CHECK(!find(&rec, 103), "gfn 103's damaged record was used");
		CHECK((l = find(&rec, 106)) && l->state == REC_INTENT, "gfn 106");
		CHECK(rec.n == 6, "live records %zu", rec.n);
		store_recovery_free(&rec);
		store_close(st, false);
	}

	/* refusals */
	{
		struct store_identity other = { .domid = 4, .nr_gfns = 1000 };
		uint32_t dom = 0;

		rc = store_open(path, &other, true, &st, NULL, err, sizeof(err));
		CHECK(rc == -EXDEV && strstr(err, "another domain"),
		      "other domain: %d %s", rc, err);
		rc = store_open(path, &id, false, &st, NULL, err, sizeof(err));
		CHECK(rc == -EEXIST, "existing store allowed: %d", rc);
		CHECK(store_probe(path, &dom, err, sizeof(err)) == 0 && dom == 3,
		      "probe");
		chmod(path, 0640);
		rc = store_open(path, &id, true, &st, NULL, err, sizeof(err));
		CHECK(rc == -EPERM && strstr(err, "0640"), "mode: %d %s", rc, err);
		chmod(path, 0600);
	}
	store_close(NULL, false);
	unlink(path);
	unlink(ipath);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("store: ok\n");
	return 0;
}
