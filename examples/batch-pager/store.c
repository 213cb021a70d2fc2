/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store file, its slot allocator and the crash-safe index (store.h
 * says what each record means and when it is written).
 *
 * On-disk layout, in the machine's byte order (a store never moves
 * between machines: it belongs to one running domain):
 *   <path>        slot i at offset i * 4096
 *   <path>.index  a 4096-byte header; the gfn records, record g (32
 *                 bytes) for gfn g, padded to a multiple of 4096 bytes
 *                 (sparse: only gfns ever held as zero pages take room);
 *                 then the slot records, record i for slot i
 * A record is {gfn, seq, slot, state, enc, len, dcrc, crc} (struct
 * idx_rec); a WRITTEN one's len and dcrc (crc32c) describe its slot's
 * data, kept in memory per slot (struct slot_meta) from the write or
 * the re-attach, and checked by every read.
 * Version 2 had no len and dcrc (a magic word in their place); version
 * 1 had no gfn records either (the slot records followed the header).
 * Such an index is read as it is, then rewritten as version 3 with its
 * live records in a new file renamed over it (rewrite_index()).
 *
 * The data file lags behind the index: it stays empty until the first
 * page with data is written (an all-zero guest never writes one), then
 * holds every slot the index has and grows with it.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IDX_MAGIC "XPGSTOR1"
#define IDX_VERSION 4u
#define IDX_V3 3u
#define IDX_V2 2u
#define IDX_V1 1u
#define IDX_HDR_SIZE 4096u
#define REC_MAGIC 0x31434552u /* "REC1": versions 1 and 2 */

struct idx_hdr {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint32_t rec_size;
	uint32_t domid;
	uint64_t nr_gfns;
	uint64_t guest_id;
	uint64_t created_s;
	uint32_t owner_pid;   /* informational: the last pager to attach */
	uint32_t crc;         /* crc32 of the bytes before it */
};

struct idx_rec {
	uint64_t gfn;
	uint64_t seq;
	uint32_t slot;
	uint8_t state;
	uint8_t enc;          /* WRITTEN: how the data is stored (0: raw) */
	uint16_t len;         /* WRITTEN: bytes of data in the slot */
	uint32_t dcrc;        /* WRITTEN: crc32c of those bytes */
	uint32_t crc;         /* crc32 of the 28 bytes before it */
};
_Static_assert(sizeof(struct idx_rec) == 32, "record size");

/* Versions 1 and 2: no data length or checksum, a magic word instead. */
struct idx_rec_v2 {
	uint64_t gfn;
	uint64_t seq;
	uint32_t slot;
	uint32_t state;
	uint32_t magic;
	uint32_t crc;
};
_Static_assert(sizeof(struct idx_rec_v2) == 32, "record size");

/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static void rec_seal(struct idx_rec *r)
{
	r->crc = crc32_buf(0, r, offsetof(struct idx_rec, crc));
}

static bool rec_is_zero(const struct idx_rec *r)
{
	static const struct idx_rec zero;

	return !memcmp(r, &zero, sizeof(zero));
}

static void hdr_seal(struct idx_hdr *h)
{
	h->crc = crc32_buf(0, h, offsetof(struct idx_hdr, crc));
}

int store_write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n = pwrite(fd, b, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *d = strdup(path), *s;
	int fd, rc = 0;

	if (!d)
		return -ENOMEM;
	s = strrchr(d, '/');
	if (!s)
		strcpy(d, ".");
	else if (s == d)
		d[1] = '\0';
	else
		*s = '\0';
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0)
			rc = -errno;
		close(fd);
	}
	free(d);
	return rc;
}

/* ------------------------------------------------------------------ */

/* Bytes of the gfn records' region: a record per gfn, whole pages. */
static uint64_t gfn_region_size(uint64_t nr_gfns)
{
	uint64_t b = nr_gfns * sizeof(struct idx_rec);

	return (b + IDX_HDR_SIZE - 1) / IDX_HDR_SIZE * IDX_HDR_SIZE;
}

static struct store *store_new(const char *path, const struct store_identity *id)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->fd = st->ifd = -1;
	st->id = *id;
	st->slot_off = IDX_HDR_SIZE + gfn_region_size(id->nr_gfns);
	st->path = strdup(path);
	if (st->path && asprintf(&st->ipath, "%s.index", path) < 0)
		st->ipath = NULL;
	if (!st->path || !st->ipath || store_bm_resize(st, 64) < 0 ||
	    compress_init(&st->comp, ENC_RAW, 0) < 0) {
		free(st->path);
		free(st->ipath);
		free(st->bm);
		free(st->meta);
		free(st);
		return NULL;
	}
	return st;
}

static void store_free_mem(struct store *st)
{
	if (st->fd >= 0)
		close(st->fd);
	if (st->ifd >= 0)
		close(st->ifd);
	free(st->path);
	free(st->ipath);
	free(st->bm);
	free(st->meta);
	free(st->rbuf);
	free(st->scratch);
	free(st->cbuf);
	compress_fini(&st->comp);
	ram_tier_free(st->ram);
	free(st);
}

/* A store file must be a regular file of ours, mode 0600. */
static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_err(err, errlen, "%s is not a regular file", path);
		return -EPERM;
	}
	if (sb.st_uid != geteuid()) {
		set_err(err, errlen, "%s belongs to uid %u, not to this user "
			"(uid %u): refusing a store someone else could have "
			"written", path, (unsigned)sb.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if ((sb.st_mode & 07777) != 0600) {
		set_err(err, errlen, "%s has mode %04o, not 0600: it holds guest "
			"memory and must be private (chmod 600 it if you trust it)",
			path, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int lock_index(struct store *st, char *err, size_t errlen)
{
	if (flock(st->ifd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		struct idx_hdr h;
		unsigned pid = 0;

		if (pread(st->ifd, &h, sizeof(h), 0) == (ssize_t)sizeof(h))
			pid = h.owner_pid;
		set_err(err, errlen, "store %s is in use by another pager "
			"(pid %u)", st->path, pid);
		return -EBUSY;
	}
	set_err(err, errlen, "cannot lock %s: %s", st->ipath, strerror(errno));
	return -errno;
}

static int write_header(struct store *st, uint64_t created)
{
	struct idx_hdr h;
	uint8_t block[IDX_HDR_SIZE];

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, IDX_MAGIC, 8);
	h.version = IDX_VERSION;
	h.page_size = PAGE;
	h.rec_size = sizeof(struct idx_rec);
	h.domid = st->id.domid;
	h.nr_gfns = st->id.nr_gfns;
	h.guest_id = st->id.guest_id;
	h.created_s = created;
	h.owner_pid = (uint32_t)getpid();
	hdr_seal(&h);
	memset(block, 0, sizeof(block));
	memcpy(block, &h, sizeof(h));
	return store_write_all(st->ifd, block, sizeof(block), 0);
}

static int create_store(struct store *st, char *err, size_t errlen)
{
	int rc = 0;

	st->fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	if (st->fd < 0) {
		rc = -errno;
		set_err(err, errlen, "cannot create store %s: %s", st->path,
			strerror(errno));
		return rc;
	}
	st->ifd = open(st->ipath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if (st->ifd < 0) {
		rc = -errno;
		set_err(err, errlen, "cannot create store index %s: %s",
			st->ipath, strerror(errno));
		unlink(st->path);
		return rc;
	}
	/* The umask may have taken bits away; never added any. */
	if (fchmod(st->fd, 0600) < 0 || fchmod(st->ifd, 0600) < 0 ||
	    (rc = lock_index(st, err, errlen)) < 0 ||
	    (rc = write_header(st, (uint64_t)time(NULL))) < 0 ||
	    ftruncate(st->ifd, (off_t)st->slot_off) < 0 ||
	    fdatasync(st->ifd) < 0) {
		if (rc >= 0)
			rc = -errno;
		if (!err[0])
			set_err(err, errlen, "cannot set up store %s: %s",
				st->path, strerror(-rc));
		unlink(st->path);
		unlink(st->ipath);
		return rc;
	}
	fsync_dir_of(st->path);
	return 0;
}

static int cmp_live(const void *a, const void *b)
{
	const struct idx_rec *x = a, *y = b;

	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	/* newest first */
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* The index header (into @h): a format this pager reads (this one, or
 * an older one it rewrites), and this domain's store. */
static int check_header(struct store *st, struct idx_hdr *hp, char *err,
			size_t errlen)
{
	struct idx_hdr h;

	if (pread(st->ifd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, IDX_MAGIC, 8) ||
	    h.crc != crc32_buf(0, &h, offsetof(struct idx_hdr, crc))) {
		set_err(err, errlen, "%s is not a store index of this pager "
			"(or its header is damaged)", st->ipath);
		return -EBADMSG;
	}
	if (h.version < IDX_V1 || h.version > IDX_VERSION ||
	    h.page_size != PAGE || h.rec_size != sizeof(struct idx_rec)) {
		set_err(err, errlen, "%s: index version %u, page size %u: this "
			"pager reads versions %u to %u with %u-byte pages",
			st->ipath, h.version, h.page_size, IDX_V1, IDX_VERSION,
			PAGE);
		return -EBADMSG;
	}
	*hp = h;
	if (h.domid != st->id.domid || h.nr_gfns != st->id.nr_gfns ||
	    h.guest_id != st->id.guest_id) {
		set_err(err, errlen, "store %s belongs to another domain "
			"(domain %u with %llu gfns%s), not to domain %u with "
			"%llu gfns: refusing to serve its pages to this guest",
			st->path, h.domid, (unsigned long long)h.nr_gfns,
			h.guest_id ? ", a simulated guest since gone" : "",
			st->id.domid, (unsigned long long)st->id.nr_gfns);
		return -EXDEV;
	}
	return 0;
}

/* Does a WRITTEN record's data description hold: a raw page, or a
 * compressed one that saves a slot, inside the data file? */
static bool data_fits(const struct store *st, const struct idx_rec *r)
{
	if (r->enc >= ENC_COUNT ||
	    (r->enc == ENC_RAW ? r->len != PAGE :
				 !r->len || r->len > COMPRESSED_MAX))
		return false;
	return (uint64_t)r->slot + (r->len + UNIT - 1) / UNIT <= st->dcap;
}

/* Does record @r belong at place @pos (a gfn's place with @by_gfn,
 * else a slot's)? Only a WRITTEN record describes data; an INTENT one
 * names the first slot of a page group. */
static bool rec_fits(const struct store *st, const struct idx_rec *r,
		     uint64_t pos, bool by_gfn)
{
	if (r->gfn >= st->id.nr_gfns)
		return false;
	if (r->state == REC_WRITTEN)
		return !by_gfn && r->slot == pos && data_fits(st, r);
	if (r->enc || r->len || r->dcrc)
		return false;
	if (by_gfn)
		return r->gfn == pos && r->slot == STORE_NO_SLOT &&
		       (r->state == REC_ZERO || r->state == REC_FREE);
	return r->slot == pos && (r->state == REC_FREE ||
				  (r->state == REC_INTENT &&
				   r->slot % UNITS_PER_PAGE == 0 &&
				   r->slot + UNITS_PER_PAGE <= st->cap));
}

/* The record at place @pos, as index version @version wrote it, into
 * @r: false when it is damaged or does not belong there. Versions 1 to
 * 3 numbered 4 KiB slots (slot s is this version's slot 8s) and stored
 * every page raw; versions 1 and 2 have no checksum of the data (dcrc 0
 * until rewrite_index() reads the data). */
static bool rec_decode(const struct store *st, const void *raw, uint32_t version,
		       uint64_t pos, bool by_gfn, struct idx_rec *r)
{
	struct idx_rec_v2 o;

	if (version >= IDX_V3) {
		memcpy(r, raw, sizeof(*r));
		if (r->crc != crc32_buf(0, r, offsetof(struct idx_rec, crc)))
			return false;
	} else {
		memcpy(&o, raw, sizeof(o));
		if (o.magic != REC_MAGIC || o.state > REC_ZERO ||
		    o.crc != crc32_buf(0, &o, offsetof(struct idx_rec_v2, crc)))
			return false;
		*r = (struct idx_rec){ .gfn = o.gfn, .seq = o.seq,
				       .slot = o.slot, .state = (uint8_t)o.state,
				       .len = o.state == REC_WRITTEN ? PAGE : 0 };
	}
	if (version < IDX_VERSION && !by_gfn) {
		if (r->slot >= STORE_NO_SLOT / UNITS_PER_PAGE)
			return false;
		r->slot *= UNITS_PER_PAGE;
		pos *= UNITS_PER_PAGE;
	}
	return rec_fits(st, r, pos, by_gfn);
}

/* The valid records read so far. */
struct recs {
	struct idx_rec *v;
	size_t n, cap;
};

static int append_rec(struct recs *all, const struct idx_rec *r)
{
	if (all->n == all->cap) {
		size_t nc = all->cap ? all->cap * 2 : 1024;
		struct idx_rec *a = realloc(all->v, nc * sizeof(*a));

		if (!a)
			return -ENOMEM;
		all->v = a;
		all->cap = nc;
	}
	all->v[all->n++] = *r;
	return 0;
}

/* Every valid non-empty record of the @nrec at offset @off (the gfn
 * records with @by_gfn, else the slot records) into @all; the sequence
 * number goes past the newest. */
static int read_records(struct store *st, uint64_t off, uint64_t nrec,
			bool by_gfn, struct store_recovery *rec,
			struct recs *all)
{
	enum { CH = 4096 };
	struct idx_rec *buf = malloc(CH * sizeof(*buf));
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < nrec && rc == 0; i += CH) {
		size_t k = nrec - i < CH ? (size_t)(nrec - i) : CH;
		ssize_t n = pread(st->ifd, buf, k * sizeof(*buf),
				  (off_t)(off + i * sizeof(*buf)));

		if (n < 0) {
			rc = -errno;
			break;
		}
		k = (size_t)n / sizeof(*buf);
		for (size_t j = 0; j < k && rc == 0; j++) {
			struct idx_rec r;

			if (rec_is_zero(&buf[j]))
				continue;
			if (!rec_decode(st, &buf[j], st->version, i + j, by_gfn,
					&r)) {
				rec->bad_records++;
				continue;
			}
			if (r.seq >= st->seq)
				st->seq = r.seq + 1;
			rc = append_rec(all, &r);
		}
	}
	free(buf);
	return rc;
}

static int cmp_seq_desc(const void *a, const void *b)
{
	const struct idx_rec *x = a, *y = b;

	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Newest first, each record with slots takes them; one that finds a
 * slot taken is stale: the slot was freed (the FREE record lost) and
 * reused by the newer record. A WRITTEN record takes the slots of its
 * data, an INTENT one its page group. The survivors' slots are marked
 * in @taken (a bit per slot, zeroed by the caller). */
static void drop_overlaps(struct idx_rec *all, size_t *n, uint64_t *taken,
			  struct store_recovery *rec)
{
	size_t k = 0;

	if (*n)
		qsort(all, *n, sizeof(*all), cmp_seq_desc);
	for (size_t i = 0; i < *n; i++) {
		struct idx_rec *r = &all[i];
		uint64_t u = r->state == REC_ZERO ? 0 :
			     r->state == REC_INTENT ? UNITS_PER_PAGE :
			     (r->len + UNIT - 1) / UNIT;
		bool clash = false;

		for (uint64_t s = r->slot; s < r->slot + u && !clash; s++)
			clash = (taken[s / 64] >> (s % 64)) & 1;
		if (clash) {
			rec->stale_records++;
			continue;
		}
		for (uint64_t s = r->slot; s < r->slot + u; s++)
			taken[s / 64] |= 1ull << (s % 64);
		all[k++] = *r;
	}
	*n = k;
}

/* The newest record of each gfn that says it is out (INTENT, WRITTEN or
 * ZERO), and does not overlap a newer one (drop_overlaps), into @rec,
 * with each WRITTEN record's data description in meta. */
static int keep_live(struct store *st, struct idx_rec *all, size_t nall,
		     struct store_recovery *rec)
{
	uint64_t *taken = calloc(st->bm_words ? st->bm_words : 1, 8);
	size_t k = 0;

	rec->live = malloc((nall ? nall : 1) * sizeof(*rec->live));
	if (!rec->live || !taken) {
		free(taken);
		return -ENOMEM;
	}
	if (nall)
		qsort(all, nall, sizeof(*all), cmp_live);
	for (size_t i = 0; i < nall; i++) {
		if ((i && all[i].gfn == all[i - 1].gfn) ||
		    all[i].state == REC_FREE)
			rec->stale_records++; /* older, or freed */
		else
			all[k++] = all[i];
	}
	drop_overlaps(all, &k, taken, rec);
	free(taken);
	for (size_t i = 0; i < k; i++) {
		rec->live[rec->n++] = (struct store_live){
			.gfn = all[i].gfn, .slot = all[i].slot,
			.state = all[i].state };
		if (all[i].state == REC_WRITTEN)
			st->meta[all[i].slot] = (struct slot_meta){
				.dcrc = all[i].dcrc, .len = all[i].len,
				.enc = all[i].enc };
	}
	return 0;
}

/* The live record @l sealed anew into @r, for the rewritten index: a
 * WRITTEN one with the length and crc32c of its slot's data as it is. */
static int live_rec(struct store *st, const struct store_live *l,
		    struct idx_rec *r)
{
	uint8_t page[PAGE];

	*r = (struct idx_rec){ .gfn = l->gfn, .seq = st->seq++,
			       .slot = l->slot, .state = (uint8_t)l->state };
	if (l->state == REC_WRITTEN) {
		ssize_t n = pread(st->fd, page, PAGE, (off_t)l->slot * UNIT);

		if (n != (ssize_t)PAGE)
			return n < 0 ? -errno : -EIO;
		r->len = PAGE;
		r->dcrc = crc32c_buf(0, page, PAGE);
		st->meta[l->slot] = (struct slot_meta){ .dcrc = r->dcrc,
							.len = PAGE };
	}
	rec_seal(r);
	return 0;
}

/* Write this version's index into the new file st->ifd: the header,
 * then the live records of @rec at their places (a ZERO record at its
 * gfn's, the others at their slot's), room for every slot's. Durable
 * when it returns 0. */
static int write_rewritten(struct store *st, const struct store_recovery *rec,
			   uint64_t created)
{
	int rc;

	if (fchmod(st->ifd, 0600) < 0 || flock(st->ifd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	rc = write_header(st, created);
	if (rc == 0 && ftruncate(st->ifd, (off_t)(st->slot_off + st->cap *
						  sizeof(struct idx_rec))) < 0)
		rc = -errno;
	for (size_t i = 0; i < rec->n && rc == 0; i++) {
		struct idx_rec r;
		uint64_t at;

		rc = live_rec(st, &rec->live[i], &r);
		at = r.state == REC_ZERO ? IDX_HDR_SIZE + r.gfn * sizeof(r)
					 : st->slot_off + r.slot * sizeof(r);
		if (rc == 0)
			rc = store_write_all(st->ifd, &r, sizeof(r), (off_t)at);
	}
	if (rc == 0 && fdatasync(st->ifd) < 0)
		rc = -errno;
	return rc;
}

/* An index of an older version is rewritten as this version, with what
 * its reading found live in @rec: built in a new file that is renamed
 * over it, so that a crash leaves the one or the other, both complete.
 * The old file's lock covers the building (nobody else can open the
 * store meanwhile); the new one is locked before it takes the name. */
static int rewrite_index(struct store *st, const struct store_recovery *rec,
			 uint64_t created)
{
	char *tmp;
	int old = st->ifd, rc;

	if (asprintf(&tmp, "%s.v%u", st->ipath, IDX_VERSION) < 0)
		return -ENOMEM;
	unlink(tmp); /* left by a rewrite that was killed */
	st->ifd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	rc = st->ifd < 0 ? -errno : write_rewritten(st, rec, created);
	if (rc == 0 && rename(tmp, st->ipath) < 0)
		rc = -errno;
	if (rc < 0) {
		if (st->ifd >= 0)
			close(st->ifd);
		unlink(tmp);
		st->ifd = old;
	} else {
		fsync_dir_of(st->ipath);
		close(old);
	}
	free(tmp);
	return rc;
}

/* Read the index: the gfn records (from version 2), then the slot
 * records. */
static int read_index(struct store *st, uint64_t nrec,
		      struct store_recovery *rec)
{
	struct recs all = { 0 };
	int rc = 0;

	if (st->version >= IDX_V2)
		rc = read_records(st, IDX_HDR_SIZE, st->id.nr_gfns, true, rec,
				  &all);
	if (rc == 0)
		rc = read_records(st, st->slot_off, st->version < IDX_VERSION ?
				  nrec / UNITS_PER_PAGE : nrec, false, rec, &all);
	if (rc == 0)
		rc = keep_live(st, all.v, all.n, rec);
	free(all.v);
	return rc;
}

static int load_index(struct store *st, struct store_recovery *rec,
		      char *err, size_t errlen)
{
	struct stat sb, db;
	struct idx_hdr h;
	uint64_t nrec;
	int rc = check_header(st, &h, err, errlen);
	bool v1;

	if (rc < 0)
		return rc;
	st->version = h.version;
	v1 = h.version == IDX_V1;
	if (fstat(st->ifd, &sb) < 0 || fstat(st->fd, &db) < 0)
		return -errno;
	if (v1)
		st->slot_off = IDX_HDR_SIZE;
	nrec = sb.st_size > (off_t)st->slot_off ?
	       ((uint64_t)sb.st_size - st->slot_off) / sizeof(struct idx_rec) : 0;
	if (h.version < IDX_VERSION)
		nrec *= UNITS_PER_PAGE; /* 4 KiB slots */
	nrec -= nrec % UNITS_PER_PAGE;
	st->dcap = (uint64_t)db.st_size / PAGE * UNITS_PER_PAGE;
	/* Version 1 grew both files together: its capacity is the data's. */
	st->cap = v1 || st->dcap > nrec ? st->dcap : nrec;
	st->free_groups = st->cap / UNITS_PER_PAGE;
	rc = store_bm_resize(st, st->cap);
	if (rc == 0)
		rc = read_index(st, nrec, rec);
	if (rc == 0 && h.version != IDX_VERSION) {
		st->slot_off = IDX_HDR_SIZE + gfn_region_size(st->id.nr_gfns);
		rc = rewrite_index(st, rec, h.created_s);
		if (rc < 0)
			set_err(err, errlen, "cannot rewrite the version-%u index "
				"%s as version %u: %s", h.version, st->ipath,
				IDX_VERSION, strerror(-rc));
	}
	st->version = IDX_VERSION;
	return rc;
}

/* One of an existing store's files: the fd, or a negative errno (with a
 * sentence in @err). */
static int open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		fd = -errno;
		set_err(err, errlen, "cannot open %s: %s", path, strerror(-fd));
	}
	return fd;
}

/* Open an existing store's two files, check them, lock the index and
 * read it into @rec. 0 or a negative errno (with a sentence in @err). */
static int open_existing(struct store *st, struct store_recovery *rec,
			 char *err, size_t errlen)
{
	int rc;

	st->ifd = open_file(st->ipath, err, errlen);
	if (st->ifd < 0)
		return st->ifd;
	st->fd = open_file(st->path, err, errlen);
	if (st->fd < 0)
		return st->fd;
	rc = check_file(st->ifd, st->ipath, err, errlen);
	if (rc == 0)
		rc = check_file(st->fd, st->path, err, errlen);
	if (rc == 0)
		rc = lock_index(st, err, errlen);
	if (rc == 0)
		rc = load_index(st, rec, err, errlen);
	if (rc < 0) {
		store_recovery_free(rec);
		if (!err[0])
			set_err(err, errlen, "cannot read store %s: %s", st->path,
				strerror(-rc));
	}
	return rc;
}

/* Say who holds the store now (informational). */
static void mark_owner(struct store *st)
{
	struct idx_hdr h;

	if (pread(st->ifd, &h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
		h.owner_pid = (uint32_t)getpid();
		hdr_seal(&h);
		store_write_all(st->ifd, &h, sizeof(h), 0);
	}
}

/* Both files or neither: 0 (neither), 1 (both), or -EBADMSG. */
static int store_exists(const struct store *st, char *err, size_t errlen)
{
	struct stat a, b;
	bool have_data = lstat(st->path, &a) == 0;
	bool have_idx = lstat(st->ipath, &b) == 0;

	if (have_data == have_idx)
		return have_data;
	set_err(err, errlen, "store %s is incomplete: %s is missing (remove "
		"the other file if no guest page is in it)", st->path,
		have_data ? st->ipath : st->path);
	return -EBADMSG;
}

int store_open(const char *path, const struct store_identity *id,
	       bool allow_existing, struct store **out,
	       struct store_recovery *rec, char *err, size_t errlen)
{
	struct store *st;
	struct store_recovery dummy;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!rec)
		rec = &dummy;
	memset(rec, 0, sizeof(*rec));
	st = store_new(path, id);
	if (!st) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = store_exists(st, err, errlen);
	if (rc == 0)
		rc = create_store(st, err, errlen);
	else if (rc == 1 && !allow_existing) {
		set_err(err, errlen, "store %s already exists, and the guest "
			"this pager just created cannot have pages in it: it "
			"belongs to another guest (remove it, or use another "
			"--store)", st->path);
		rc = -EEXIST;
	} else if (rc == 1 && (rc = open_existing(st, rec, err, errlen)) == 0) {
		mark_owner(st);
		if (rec == &dummy)
			store_recovery_free(rec);
		rc = 1;
	}
	if (rc < 0) {
		store_free_mem(st);
		return rc;
	}
	*out = st;
	return rc;
}

int store_probe(const char *path, uint32_t *domid, char *err, size_t errlen)
{
	struct store_identity none = { 0 };
	struct store *st = store_new(path, &none);
	struct idx_hdr h;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!st)
		return -ENOMEM;
	st->ifd = open(st->ipath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (st->ifd < 0) {
		rc = -errno;
		store_free_mem(st);
		return rc;
	}
	rc = lock_index(st, err, errlen);
	if (rc == 0) {
		if (pread(st->ifd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		    memcmp(h.magic, IDX_MAGIC, 8)) {
			set_err(err, errlen, "%s is not a store index of this "
				"pager", st->ipath);
			rc = -EBADMSG;
		} else {
			*domid = h.domid;
		}
	}
	store_free_mem(st); /* closing the fd drops the lock */
	return rc;
}

void store_recovery_free(struct store_recovery *rec)
{
	if (!rec)
		return;
	free(rec->live);
	rec->live = NULL;
	rec->n = 0;
}

void store_close(struct store *st, bool remove)
{
	if (!st)
		return;
	if (remove) {
		unlink(st->path);
		unlink(st->ipath);
	}
	store_free_mem(st);
}

/* ------------------------------------------------------------------ */

static int rbuf_reserve(struct store *st, size_t n)
{
	if (n > st->rcap) {
		struct idx_rec *r = realloc(st->rbuf, n * sizeof(*r));

		if (!r)
			return -ENOMEM;
		st->rbuf = r;
		st->rcap = n;
	}
	return 0;
}

/* Records {gfns[i], slots[i] (none without @slots), state} into rbuf;
 * a WRITTEN one with what store_write() wrote to its slot (-EINVAL if
 * nothing was). */
static int fill_recs(struct store *st, const uint64_t *gfns,
		     const uint32_t *slots, size_t n, uint32_t state)
{
	int rc = rbuf_reserve(st, n);

	if (rc < 0)
		return rc;
	for (size_t j = 0; j < n; j++) {
		struct idx_rec *r = &st->rbuf[j];

		memset(r, 0, sizeof(*r));
		r->gfn = gfns[j];
		r->seq = st->seq++;
		r->slot = slots ? slots[j] : STORE_NO_SLOT;
		r->state = (uint8_t)state;
		if (state == REC_WRITTEN) {
			const struct slot_meta *m;

			if (r->slot >= st->cap || !st->meta[r->slot].len)
				return -EINVAL;
			m = &st->meta[r->slot];
			r->dcrc = m->dcrc;
			r->len = m->len;
			r->enc = m->enc;
		}
		rec_seal(r);
	}
	return 0;
}

/* Where a record goes: its gfn's place (@by_gfn) or its slot's. */
static uint64_t rec_place(const struct idx_rec *r, bool by_gfn)
{
	return by_gfn ? r->gfn : r->slot;
}

/* The places a record speaks for: a WRITTEN record's slots, an INTENT
 * record's page group, else its own (a gfn's record: 1). */
static uint64_t rec_span(const struct idx_rec *r, bool by_gfn)
{
	if (by_gfn || r->state == REC_FREE)
		return 1;
	return r->state == REC_INTENT ? UNITS_PER_PAGE :
	       (r->len + UNIT - 1) / UNIT;
}

/* rbuf[i..j), each record at the start of the places after the one
 * before it (a batch's records, packed), in one write from the first's
 * place to the last's span: the places between hold records of slots
 * the new ones took (stale: their slots were free when reserved) and
 * become empty. */
static int put_run(struct store *st, size_t i, size_t j, uint64_t base,
		   bool by_gfn)
{
	uint64_t first = rec_place(&st->rbuf[i], by_gfn);
	uint64_t end = rec_place(&st->rbuf[j - 1], by_gfn) +
		       rec_span(&st->rbuf[j - 1], by_gfn);
	int rc;

	if (j - i == end - first)
		return store_write_all(st->ifd, &st->rbuf[i],
				       (j - i) * sizeof(struct idx_rec),
				       (off_t)(base + first * sizeof(struct idx_rec)));
	if (end - first > st->scap) {
		free(st->scratch);
		st->scratch = calloc(end - first, sizeof(struct idx_rec));
		st->scap = st->scratch ? end - first : 0;
		if (!st->scratch)
			return -ENOMEM;
	}
	memset(st->scratch, 0, (end - first) * sizeof(struct idx_rec));
	for (size_t k = i; k < j; k++)
		st->scratch[rec_place(&st->rbuf[k], by_gfn) - first] = st->rbuf[k];
	rc = store_write_all(st->ifd, st->scratch,
			     (end - first) * sizeof(struct idx_rec),
			     (off_t)(base + first * sizeof(struct idx_rec)));
	return rc;
}

/* The gfn records rbuf[i..j) (ascending gfns, a few apart) in one
 * read of the places from the first to the last, the new records put in,
 * and one write back: the records between (other gfns': a zero page of
 * an earlier batch, say) are written back as they were read. */
static int put_gfn_run(struct store *st, size_t i, size_t j)
{
	uint64_t first = st->rbuf[i].gfn, len = st->rbuf[j - 1].gfn - first + 1;
	off_t off = (off_t)(IDX_HDR_SIZE + first * sizeof(struct idx_rec));
	ssize_t r;

	if (len > st->scap) {
		free(st->scratch);
		st->scratch = calloc(len, sizeof(struct idx_rec));
		st->scap = st->scratch ? len : 0;
		if (!st->scratch)
			return -ENOMEM;
	}
	r = pread(st->ifd, st->scratch, len * sizeof(struct idx_rec), off);
	if (r < 0)
		return -errno;
	/* past the end of the file: no record there yet */
	memset((uint8_t *)st->scratch + r, 0,
	       len * sizeof(struct idx_rec) - (size_t)r);
	for (size_t k = i; k < j; k++)
		st->scratch[st->rbuf[k].gfn - first] = st->rbuf[k];
	return store_write_all(st->ifd, st->scratch,
			       len * sizeof(struct idx_rec), off);
}

/* Gfn records at most this many places apart share a read and a write. */
#define GFN_GAP 8u

/* rbuf[0..n) to their places, one write per run (put_run(), and
 * put_gfn_run() for gfn records that come ascending); with @sync,
 * fdatasync the index afterwards. */
static int put_recs(struct store *st, size_t n, bool by_gfn, bool sync)
{
	uint64_t base = by_gfn ? IDX_HDR_SIZE : st->slot_off;
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1;
		int rc;

		if (by_gfn) {
			while (j < n && st->rbuf[j].gfn > st->rbuf[j - 1].gfn &&
			       st->rbuf[j].gfn - st->rbuf[j - 1].gfn <= GFN_GAP)
				j++;
		} else {
			while (j < n && rec_place(&st->rbuf[j], false) ==
					rec_place(&st->rbuf[j - 1], false) +
					rec_span(&st->rbuf[j - 1], false))
				j++;
		}
		rc = by_gfn && j - i > 1 ? put_gfn_run(st, i, j) :
					   put_run(st, i, j, base, by_gfn);
		if (rc < 0)
			return rc;
		i = j;
	}
	if (sync && fdatasync(st->ifd) < 0)
		return -errno;
	return 0;
}

int store_record(struct store *st, const uint64_t *gfns,
		 const uint32_t *slots, size_t n, uint32_t state, bool sync)
{
	int rc = fill_recs(st, gfns, slots, n, state);

	return rc < 0 ? rc : put_recs(st, n, false, sync);
}

int store_record_gfns(struct store *st, const uint64_t *gfns, size_t n,
		      uint32_t state, bool sync)
{
	int rc = fill_recs(st, gfns, NULL, n, state);

	return rc < 0 ? rc : put_recs(st, n, true, sync);
}


int store_sync_data(struct store *st)
{
	return fdatasync(st->fd) < 0 ? -errno : 0;
}

const char *store_path(const struct store *st)
{
	return st->path;
}
