/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Simulated guests: memory, p2m, frame references, pause state, lifetime.
 *
 * Guest memory is a memfd of nr_gfns pages: gfn N is at offset N * 4096.
 * RAM is gfns 0 .. pages-1; the special pages (the ring gfn first) follow
 * it, or, on a personality with a special_base (the PVH layout), sit at
 * that gfn with a hole between: gfns not in the physmap, without a frame,
 * never written, so the memfd and the mapping stay sparse. Clients get the memfd at SIMP_ATTACH and mmap the gfns
 * they have mapped with SIMP_MAP. A gfn without a frame is a hole in the
 * memfd (punched when the frame is freed), so evicted data is really gone.
 *
 * Frame references: `refs` counts references besides the allocation:
 * foreign mappings (per connection, see maptab.c) and the ring's own
 * reference on the ring gfn while paging is enabled. A frame whose gfn
 * left the physmap is freed when its last reference goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_guest **table;
static size_t table_len, table_cap;
static uint32_t next_domid = 1;

uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct sim_guest *table_find(uint32_t domid)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i]->domid == domid)
			return table[i];
	return NULL;
}

static void guest_free(struct sim_guest *g)
{
	if (g->vcpu) {
		for (uint32_t i = 0; i < g->nvcpus; i++)
			pthread_cond_destroy(&g->vcpu[i].cv);
		free(g->vcpu);
	}
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, g->memsz);
	if (g->memfd >= 0)
		close(g->memfd);
	if (g->seekfd >= 0)
		close(g->seekfd);
	if (g->mfn && g->gfn)
		for (uint64_t gfn = 0; gfn < g->nr_gfns; gfn++)
			if (g->gfn[gfn].flags & SG_FRAME)
				frames_free(g->mfn[gfn]);
	free(g->mfn);
	free(g->gfn);
	writes_fini(g);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* The personality a request names, and the checks of its size and
 * flags. 0, -ENOENT (unknown personality) or -EINVAL. */
static int check_request(const struct simp_guest *req,
			 const struct sim_personality **pers)
{
	char pname[sizeof(req->personality) + 1];
	const struct sim_personality *p;

	memcpy(pname, req->personality, sizeof(req->personality));
	pname[sizeof(req->personality)] = '\0';
	p = sim_personality_find(pname);
	if (!p || !xp_ring_layout(p->generation))
		return -ENOENT;
	if (!req->pages || req->pages > SIM_MAX_PAGES ||
	    (req->flags & ~SIM_GUEST_FLAGS_ALL) || req->vcpus > SIM_MAX_VCPUS)
		return -EINVAL;
	/* PVH layout: RAM must end below the MMIO hole (sim.h). */
	if (p->special_base && req->pages > SIM_PVH_LOWMEM_END)
		return -EINVAL;
	*pers = p;
	return 0;
}

/* A guest's description from the request: size, layout of its gfns. */
static struct sim_guest *guest_new(const struct simp_guest *req,
				   const struct sim_personality *p)
{
	struct sim_guest *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->memfd = g->seekfd = -1;
	pthread_mutex_init(&g->lock, NULL);
	g->refcnt = 1;
	g->nvcpus = req->vcpus;
	g->flags = req->flags;
	g->pages = req->pages;
	if (p->special_base) {
		g->ring_gfn = p->special_base;
		g->nr_gfns = p->special_base + p->nr_special;
	} else {
		g->ring_gfn = req->pages;
		g->nr_gfns = req->pages + SIMP_NR_SPECIAL;
	}
	g->seed = req->seed;
	g->pers = p;
	g->layout = xp_ring_layout(p->generation);
	g->next_port = 1;
	g->memsz = (size_t)g->nr_gfns * SIM_PAGE;
	return g;
}

/* The guest's memory: a memfd (clients map it), mapped here, and a
 * private description of it to seek on (the memfd's is shared with every
 * client that attaches). 0 or a negative errno. */
static int guest_memory(struct sim_guest *g)
{
	char path[64];

	g->gfn = calloc(g->nr_gfns, sizeof(*g->gfn));
	g->mfn = malloc(g->nr_gfns * sizeof(*g->mfn));
	g->vcpu = calloc(g->nvcpus ? g->nvcpus : 1, sizeof(*g->vcpu));
	if (!g->gfn || !g->mfn || !g->vcpu)
		return -ENOMEM;
	memset(g->mfn, 0xff, g->nr_gfns * sizeof(*g->mfn)); /* no frame */
	g->memfd = memfd_create("xpage-sim-guest", MFD_CLOEXEC);
	if (g->memfd < 0 || ftruncate(g->memfd, (off_t)g->memsz) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g->memfd);
	g->seekfd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->seekfd < 0)
		return -errno;
	g->mem = mmap(NULL, g->memsz, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->memfd, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return -errno;
	}
	return 0;
}

static void init_vcpus(struct sim_guest *g)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		g->vcpu[i].g = g;
		g->vcpu[i].id = i;
		pthread_cond_init(&g->vcpu[i].cv, &ca);
	}
	pthread_condattr_destroy(&ca);
}

/* Every RAM gfn and special page starts as RAM with a frame; the special
 * pages and, for a lazy guest, every page start all-zero. A hole's gfns
 * are not in the physmap, without a frame: only their p2m type is
 * written (8 MiB for the 1M gfns of a PVH guest). */
static void init_physmap(struct sim_guest *g)
{
	for (uint64_t gfn = 0; gfn < g->nr_gfns; gfn++) {
		struct sim_gfn *s = &g->gfn[gfn];

		if (gfn == g->pages && g->ring_gfn > gfn) {
			for (; gfn < g->ring_gfn; gfn++)
				g->gfn[gfn].p2mt = SIMP_P2M_INVALID;
			s = &g->gfn[gfn];
		}
		s->p2mt = SIMP_P2M_RAM_RW;
		s->flags = SG_FRAME;
		if (gfn >= g->pages || (g->flags & SIM_GUEST_LAZY))
			s->flags |= SG_ZERO;
		else
			oracle_fill(g, gfn, guest_page(g, gfn));
	}
}

/* A machine frame of the host's for each gfn that has a frame, once the
 * domain has its id (the frames' owner). */
static void assign_frames(struct sim_guest *g)
{
	for (uint64_t gfn = 0; gfn < g->nr_gfns; gfn++)
		if (g->gfn[gfn].flags & SG_FRAME)
			g->mfn[gfn] = (uint32_t)frames_alloc(g->domid, gfn);
}

/* Under table_lock: give @g the domid it asked for (0: the next free
 * one) and room in the table. 0, -EEXIST or -ENOMEM. */
static int table_reserve(struct sim_guest *g, uint32_t want)
{
	if (want) {
		if (table_find(want))
			return -EEXIST;
		g->domid = want;
	} else {
		while (next_domid == 0 || next_domid >= 0x7ff0u ||
		       table_find(next_domid))
			next_domid = next_domid >= 0x7ff0u ? 1 : next_domid + 1;
		g->domid = next_domid++;
	}
	if (table_len == table_cap) {
		size_t cap = table_cap ? table_cap * 2 : 8;
		struct sim_guest **t = realloc(table, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		table = t;
		table_cap = cap;
	}
	return 0;
}

int guest_create(const struct simp_guest *req, uint32_t *domid)
{
	const struct sim_personality *p = NULL;
	struct sim_guest *g;
	int rc = check_request(req, &p);

	if (rc)
		return rc;
	g = guest_new(req, p);
	if (!g)
		return -ENOMEM;
	rc = guest_memory(g);
	if (rc < 0)
		goto fail;
	init_vcpus(g);
	init_physmap(g);
	runstate_place(g);
	hypercall_place(g);
	kcode_place(g);
	pthread_mutex_lock(&table_lock);
	rc = table_reserve(g, req->domid);
	if (rc == 0) {
		assign_frames(g);
		rc = vcpu_start_threads(g);
	}
	if (rc < 0) {
		pthread_mutex_unlock(&table_lock);
		goto fail;
	}
	table[table_len++] = g;
	pthread_mutex_unlock(&table_lock);
	*domid = g->domid;
	sim_log(SIM_LOG_INFO, "d%u: created: %llu pages, %u vCPUs, %s%s%s, "
		"ring gfn %#llx, %#llx gfns", g->domid,
		(unsigned long long)g->pages, g->nvcpus, p->name,
		(g->flags & SIM_GUEST_LAZY) ? ", lazy" : "",
		(g->flags & SIM_GUEST_TEXT) ? ", text" : "",
		(unsigned long long)g->ring_gfn,
		(unsigned long long)g->nr_gfns);
	return 0;

fail:
	vcpu_stop_threads(g);
	guest_free(g);
	return rc;
}

struct sim_guest *guest_get(uint32_t domid)
{
	struct sim_guest *g;

	pthread_mutex_lock(&table_lock);
	g = table_find(domid);
	if (g)
		__atomic_add_fetch(&g->refcnt, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&table_lock);
	return g;
}

void guest_put(struct sim_guest *g)
{
	if (g && __atomic_sub_fetch(&g->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		guest_free(g);
}

static void guest_teardown(struct sim_guest *g)
{
	struct sim_ring *r = NULL;

	guest_lock(g);
	g->destroyed = true;
	g->stopping = true;
	g->wl_active = false;
	ring_disable(g, true, &r);
	guest_kick_all(g);
	guest_unlock(g);
	vcpu_stop_threads(g);
	if (r)
		ring_free(r);
	if (g->st.spins)
		sim_log(SIM_LOG_INFO, "d%u: destroyed (%llu spinning faults)",
			g->domid, (unsigned long long)g->st.spins);
	else
		sim_log(SIM_LOG_INFO, "d%u: destroyed", g->domid);
	guest_put(g);
}

int guest_destroy(uint32_t domid)
{
	struct sim_guest *g;

	pthread_mutex_lock(&table_lock);
	g = table_find(domid);
	if (g) {
		for (size_t i = 0; i < table_len; i++)
			if (table[i] == g) {
				table[i] = table[--table_len];
				break;
			}
	}
	pthread_mutex_unlock(&table_lock);
	if (!g)
		return -ESRCH;
	guest_teardown(g);
	return 0;
}

void guest_destroy_all(void)
{
	for (;;) {
		struct sim_guest *g = NULL;

		pthread_mutex_lock(&table_lock);
		if (table_len)
			g = table[--table_len];
		pthread_mutex_unlock(&table_lock);
		if (!g)
			break;
		guest_teardown(g);
	}
	pthread_mutex_lock(&table_lock);
	free(table);
	table = NULL;
	table_cap = 0;
	pthread_mutex_unlock(&table_lock);
}

void guest_lock(struct sim_guest *g)
{
	pthread_mutex_lock(&g->lock);
	if (g->ring)
		ring_sync(g);
}

void guest_flush(struct sim_guest *g)
{
	if (g->nfrees)
		guest_flush_frees(g);
	if (g->ring && g->ring->notify_pending)
		ring_notify_flush(g);
	if (g->nfrees)
		guest_flush_frees(g);
}

void guest_unlock(struct sim_guest *g)
{
	guest_flush(g);
	pthread_mutex_unlock(&g->lock);
}

int guest_check_live(const struct sim_guest *g)
{
	return (g->destroyed || g->crashed) ? -ESRCH : 0;
}

int guest_check_paging(const struct sim_guest *g, bool need_ring)
{
	if (!g->pers->paging)
		return -ENOSYS;
	if (g->destroyed || g->crashed)
		return -ESRCH;
	if (need_ring && !g->ring)
		return -ENODEV;
	return 0;
}

void guest_set_p2mt(struct sim_guest *g, uint64_t gfn, uint8_t t)
{
	struct sim_gfn *s = &g->gfn[gfn];
	uint8_t o = s->p2mt;
	bool had_evicted = (o == SIMP_P2M_RAM_PAGED ||
			    o == SIMP_P2M_RAM_PAGING_IN) && !(s->flags & SG_FRAME);

	if (o == SIMP_P2M_RAM_PAGING_OUT)
		g->nr_paging_out--;
	if (o == SIMP_P2M_RAM_PAGED || o == SIMP_P2M_RAM_PAGING_IN)
		g->nr_paged_type--;
	if (had_evicted)
		g->paged_pages--;
	s->p2mt = t;
	if (t == SIMP_P2M_RAM_PAGING_OUT)
		g->nr_paging_out++;
	if (t == SIMP_P2M_RAM_PAGED || t == SIMP_P2M_RAM_PAGING_IN)
		g->nr_paged_type++;
	if ((t == SIMP_P2M_RAM_PAGED || t == SIMP_P2M_RAM_PAGING_IN) &&
	    !(s->flags & SG_FRAME))
		g->paged_pages++;
	if (o == SIMP_P2M_RAM_PAGING_IN && t != o && g->spinning)
		vcpu_spin_wake(g, gfn);
}

void guest_flush_frees(struct sim_guest *g)
{
	for (unsigned i = 0; i < g->nfrees; i++) {
		struct sim_free_run *f = &g->frees[i];

		if (fallocate(g->memfd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(f->start * SIM_PAGE),
			      (off_t)(f->n * SIM_PAGE)) < 0) {
			/* Cannot happen on a memfd; keep the data gone anyway. */
			memset(guest_page(g, f->start), 0, f->n * SIM_PAGE);
		}
	}
	g->nfrees = 0;
}

void guest_frame_free(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s = &g->gfn[gfn];

	if (!(s->flags & SG_FRAME))
		return;
	frames_free(g->mfn[gfn]);
	g->mfn[gfn] = UINT32_MAX;
	s->flags &= (uint8_t)~(SG_FRAME | SG_BAD);
	/* paged_pages counts paging gfns without a frame. */
	if (s->p2mt == SIMP_P2M_RAM_PAGED || s->p2mt == SIMP_P2M_RAM_PAGING_IN)
		g->paged_pages++;
	if (g->nfrees) {
		struct sim_free_run *f = &g->frees[g->nfrees - 1];

		if (f->start + f->n == gfn) {
			f->n++;
			return;
		}
	}
	if (g->nfrees == SIM_FREE_RUNS)
		guest_flush_frees(g);
	g->frees[g->nfrees].start = gfn;
	g->frees[g->nfrees].n = 1;
	g->nfrees++;
}

void guest_frame_alloc(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s = &g->gfn[gfn];

	if (g->nfrees)
		guest_flush_frees(g);
	if (s->flags & SG_FRAME) {
		/* The old frame is still referenced (a mapping outlived its
		 * gfn): the simulator has one frame per gfn, so it is reused,
		 * cleared. */
		memset(guest_page(g, gfn), 0, SIM_PAGE);
	}
	if (!(s->flags & SG_FRAME) && (s->p2mt == SIMP_P2M_RAM_PAGED ||
				       s->p2mt == SIMP_P2M_RAM_PAGING_IN))
		g->paged_pages--;
	if (!(s->flags & SG_FRAME))
		g->mfn[gfn] = (uint32_t)frames_alloc(g->domid, gfn);
	s->flags |= SG_FRAME;
	s->flags &= (uint8_t)~SG_BAD;
}

void guest_frame_put(struct sim_guest *g, uint64_t gfn)
{
	struct sim_gfn *s = &g->gfn[gfn];

	if (s->refs)
		s->refs--;
	if (!s->refs && s->p2mt == SIMP_P2M_INVALID && (s->flags & SG_FRAME))
		guest_frame_free(g, gfn);
}

bool vcpu_can_run(const struct sim_vcpu *v)
{
	const struct sim_guest *g = v->g;

	return !g->crashed && !g->destroyed && !g->stopping &&
	       g->pause_count == 0 && v->vm_event_pause == 0 && !v->blocked;
}

void vcpu_kick(struct sim_vcpu *v)
{
	v->rs_due = true; /* woken: switched in when it runs (runstate.c) */
	v->hc_idle_due = true; /* and makes its timer call going idle */
	pthread_cond_signal(&v->cv);
}

void guest_kick_all(struct sim_guest *g)
{
	for (uint32_t i = 0; i < g->nvcpus; i++)
		vcpu_kick(&g->vcpu[i]);
}

void guest_crash(struct sim_guest *g, const char *why)
{
	if (g->crashed)
		return;
	g->crashed = true;
	g->crash_why = why;
	g->wl_active = false;
	/* Domain death empties the ring's wait queue. */
	for (uint32_t i = 0; i < g->nvcpus; i++) {
		struct sim_vcpu *v = &g->vcpu[i];

		if (v->in_waitqueue && g->ring)
			g->ring->waiters--;
		v->in_waitqueue = false;
	}
	sim_log(SIM_LOG_ERR, "d%u: domain crashed: %s", g->domid, why);
	guest_kick_all(g);
}

void guest_dominfo(struct sim_guest *g, struct simp_dominfo *di)
{
	memset(di, 0, sizeof(*di));
	di->domid = g->domid;
	di->vcpus = g->nvcpus;
	di->nr_pages = g->pages;
	di->memfd_pages = g->nr_gfns;
	di->paged_pages = g->paged_pages;
	di->hvm = !(g->flags & SIM_GUEST_PV);
	di->hap = !(g->flags & (SIM_GUEST_NO_HAP | SIM_GUEST_PV));
	di->paused = g->pause_count;
	di->crashed = g->crashed;
	di->ring_enabled = g->ring != NULL;
	di->generation = (uint32_t)g->pers->generation;
	strncpy(di->personality, g->pers->name, sizeof(di->personality) - 1);
}
