/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Data-safety rules of the example pager's store (examples/batch-pager/
 * store.c): the store holds guest memory, so
 *   - it is created mode 0600 whatever the umask (data and index);
 *   - on reopen it is refused unless it is a regular file of this user,
 *     mode 0600 (data and index), not reached through a symlink;
 *   - on reopen it is refused unless it belongs to this domain (domid,
 *     guest size, guest instance);
 *   - it is refused while another pager holds it, when one of its two
 *     files is missing, or when its header is damaged;
 *   - index records that are damaged or name a gfn beyond the guest are
 *     never handed back as pages to serve.
 */
#include <check.h>
#include "checkrun.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static char dir[256], path[300], ipath[310];
static char err[512];

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/xpage-store-safety.XXXXXX",
		 t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(ipath, sizeof(ipath), "%s/s.index", dir);
	err[0] = 0;
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const struct store_identity id5 = { .domid = 5, .nr_gfns = 1000 };
#define SLOT_RECS (4096 + 32768)

/* Create a store with one WRITTEN page and close it, kept on disk. */
static void make_store(const struct store_identity *id)
{
	struct store *st;
	uint8_t page[4096];
	void *pages[1] = { page };
	uint32_t slot;
	uint64_t gfn = 7;

	memset(page, 0x5a, sizeof(page));
	ck_assert_int_eq(store_open(path, id, false, &st, NULL, err,
				    sizeof(err)), 0);
	ck_assert_int_eq(store_reserve(st, 1), 0);
	ck_assert_uint_eq(store_alloc(st, 1, &slot), 1);
	ck_assert_int_eq(store_write(st, &slot, pages, 1), 4096);
	ck_assert_int_eq(store_record(st, &gfn, &slot, 1, REC_WRITTEN, true), 0);
	store_close(st, false);
}

static int reopen(const struct store_identity *id, struct store_recovery *rec)
{
	struct store *st = NULL;
	int rc;

	err[0] = 0;
	rc = store_open(path, id, true, &st, rec, err, sizeof(err));
	if (rc >= 0)
		store_close(st, false);
	return rc;
}

START_TEST(created_0600_whatever_the_umask)
{
	static const mode_t masks[] = { 0, 022, 077, 007 };

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct stat a, b;
		mode_t old = umask(masks[i]);
		struct store *st;

		ck_assert_int_eq(store_open(path, &id5, false, &st, NULL, err,
					    sizeof(err)), 0);
		umask(old);
		ck_assert_int_eq(stat(path, &a), 0);
		ck_assert_int_eq(stat(ipath, &b), 0);
		ck_assert_msg((a.st_mode & 07777) == 0600 &&
			      (b.st_mode & 07777) == 0600,
			      "umask %03o: store %04o, index %04o", masks[i],
			      a.st_mode & 07777, b.st_mode & 07777);
		ck_assert_uint_eq(a.st_uid, geteuid());
		store_close(st, true);
	}
}
END_TEST

START_TEST(reopen_refuses_other_modes)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0700, 0400,
					0666, 02600 };
	struct store_recovery rec;

	make_store(&id5);
	ck_assert_int_eq(reopen(&id5, &rec), 1);
	store_recovery_free(&rec);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (int which = 0; which < 2; which++) {
			const char *p = which ? ipath : path;

			ck_assert_int_eq(chmod(p, modes[i]), 0);
			ck_assert_int_eq(reopen(&id5, NULL), -EPERM);
			ck_assert_msg(strstr(err, "mode") != NULL,
				      "no mode in the message: %s", err);
			ck_assert_int_eq(chmod(p, 0600), 0);
		}
	}
	ck_assert_int_eq(reopen(&id5, NULL), 1);
}
END_TEST

START_TEST(reopen_refuses_another_owner)
{
	if (geteuid() != 0) {
		/* only root can give a file away; the rule is the same code
		 * path as the mode check (check_file) */
		return;
	}
	make_store(&id5);
	for (int which = 0; which < 2; which++) {
		const char *p = which ? ipath : path;

		ck_assert_int_eq(chown(p, 65534, 65534), 0);
		ck_assert_int_eq(reopen(&id5, NULL), -EPERM);
		ck_assert_msg(strstr(err, "not to this user") != NULL,
			      "unclear message: %s", err);
		ck_assert_int_eq(chown(p, 0, 0), 0);
	}
	ck_assert_int_eq(reopen(&id5, NULL), 1);
}
END_TEST

START_TEST(reopen_refuses_another_domain)
{
	struct store_identity other_dom = id5, other_size = id5,
			      other_guest = id5;

	other_dom.domid = 6;
	other_size.nr_gfns = 1001;
	other_guest.guest_id = 42;
	make_store(&id5);
	ck_assert_int_eq(reopen(&other_dom, NULL), -EXDEV);
	ck_assert_msg(strstr(err, "another domain") != NULL, "%s", err);
	ck_assert_int_eq(reopen(&other_size, NULL), -EXDEV);
	ck_assert_int_eq(reopen(&other_guest, NULL), -EXDEV);
	/* nothing was changed by the refusals */
	ck_assert_int_eq(reopen(&id5, NULL), 1);
}
END_TEST

START_TEST(reopen_refuses_symlinks_and_non_files)
{
	char real[320];

	make_store(&id5);
	/* the index behind a symlink */
	snprintf(real, sizeof(real), "%s/elsewhere.index", dir);
	ck_assert_int_eq(rename(ipath, real), 0);
	ck_assert_int_eq(symlink(real, ipath), 0);
	ck_assert_int_lt(reopen(&id5, NULL), 0);
	ck_assert_int_eq(unlink(ipath), 0);
	ck_assert_int_eq(rename(real, ipath), 0);
	/* the data file behind a symlink */
	snprintf(real, sizeof(real), "%s/elsewhere", dir);
	ck_assert_int_eq(rename(path, real), 0);
	ck_assert_int_eq(symlink(real, path), 0);
	ck_assert_int_lt(reopen(&id5, NULL), 0);
	ck_assert_int_eq(unlink(path), 0);
	/* a directory where the data file should be */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_lt(reopen(&id5, NULL), 0);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rename(real, path), 0);
	ck_assert_int_eq(reopen(&id5, NULL), 1);
	/* a new store is not created through a dangling symlink either */
	store_close(NULL, false);
	{
		struct store *st;
		char p2[320], t2[320];

		snprintf(p2, sizeof(p2), "%s/new", dir);
		snprintf(t2, sizeof(t2), "%s/target", dir);
		ck_assert_int_eq(symlink(t2, p2), 0);
		ck_assert_int_lt(store_open(p2, &id5, false, &st, NULL, err,
					    sizeof(err)), 0);
		ck_assert_int_ne(access(t2, F_OK), 0);
	}
}
END_TEST

START_TEST(refuses_a_store_in_use_missing_or_damaged)
{
	struct store *st;
	int fd;

	make_store(&id5);
	/* another pager holds it */
	fd = open(ipath, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(reopen(&id5, NULL), -EBUSY);
	close(fd);
	/* a new guest's pager never takes an existing store */
	ck_assert_int_eq(store_open(path, &id5, false, &st, NULL, err,
				    sizeof(err)), -EEXIST);
	/* a damaged header */
	fd = open(ipath, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, 20), 1);
	close(fd);
	ck_assert_int_eq(reopen(&id5, NULL), -EBADMSG);
	/* one of the two files missing */
	ck_assert_int_eq(unlink(ipath), 0);
	ck_assert_int_eq(reopen(&id5, NULL), -EBADMSG);
	ck_assert_int_eq(access(path, F_OK), 0); /* not removed */
}
END_TEST

START_TEST(damaged_records_are_not_served)
{
	struct store_recovery rec;
	struct store *st;
	uint64_t gfns[3] = { 1, 2, 3 };
	uint32_t slots[3];
	int fd;

	ck_assert_int_eq(store_open(path, &id5, false, &st, NULL, err,
				    sizeof(err)), 0);
	ck_assert_int_eq(store_reserve(st, 3), 0);
	ck_assert_uint_eq(store_alloc(st, 3, slots), 3);
	{
		static uint8_t page[3][4096];
		void *bufs[3] = { page[0], page[1], page[2] };

		ck_assert_int_eq(store_write(st, slots, bufs, 3), 3 * 4096);
	}
	ck_assert_int_eq(store_record(st, gfns, slots, 3, REC_WRITTEN, true), 0);
	store_close(st, false);
	/* a bit flipped in record 1's gfn; record 2 rewritten, crc and all,
	 * with a gfn beyond the guest (slot records follow the header and
	 * the 1000 gfn records, in whole pages: 4096 + 32768) */
	fd = open(ipath, O_RDWR);
	ck_assert_int_ge(fd, 0);
	{
		uint8_t b, r[32];
		uint64_t big = 1ull << 40;
		uint32_t crc;

		ck_assert_int_eq(pread(fd, &b, 1, SLOT_RECS + 32 * slots[1]), 1);
		b ^= 1;
		ck_assert_int_eq(pwrite(fd, &b, 1, SLOT_RECS + 32 * slots[1]), 1);
		/* {gfn u64, seq u64, slot u32, state u32, magic u32, crc u32}:
		 * a well-sealed record for a gfn the guest does not have */
		ck_assert_int_eq(pread(fd, r, 32, SLOT_RECS + 32 * slots[2]), 32);
		memcpy(r, &big, 8);
		crc = crc32_buf(0, r, 28);
		memcpy(r + 28, &crc, 4);
		ck_assert_int_eq(pwrite(fd, r, 32, SLOT_RECS + 32 * slots[2]), 32);
	}
	close(fd);
	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(reopen(&id5, &rec), 1);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.live[0].gfn, 1);
	ck_assert_uint_eq(rec.bad_records, 2);
	for (size_t i = 0; i < rec.n; i++)
		ck_assert_uint_lt(rec.live[i].gfn, id5.nr_gfns);
	store_recovery_free(&rec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store-safety");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, created_0600_whatever_the_umask);
	tcase_add_test(tc, reopen_refuses_other_modes);
	tcase_add_test(tc, reopen_refuses_another_owner);
	tcase_add_test(tc, reopen_refuses_another_domain);
	tcase_add_test(tc, reopen_refuses_symlinks_and_non_files);
	tcase_add_test(tc, refuses_a_store_in_use_missing_or_damaged);
	tcase_add_test(tc, damaged_records_are_not_served);
	suite_add_tcase(s, tc);
	return check_run_mode(s, CK_FORK_GETENV) ? EXIT_FAILURE : EXIT_SUCCESS;
}
