/* Frame allocator. Pure logic over a caller-provided bitmap; unit-tested on the host. */
#include "frames.h"

static bool bit_get(const struct frame_pool *p, uint64_t f)
{
	return (p->bitmap[f / 64] >> (f % 64)) & 1;
}

/* Marks frames free (those wholly inside [base, end)) or used (every one touching it). */
static void mark(struct frame_pool *p, uint64_t base, uint64_t end, bool free)
{
	uint64_t f = (free ? ALIGN_UP(base, FRAME_SIZE) : base) / FRAME_SIZE;
	uint64_t last = MIN((free ? end : ALIGN_UP(end, FRAME_SIZE)) / FRAME_SIZE, p->nframes);

	for (; f < last; f++)
		if (bit_get(p, f) != free) {
			p->bitmap[f / 64] ^= 1ULL << (f % 64);
			p->nfree = free ? p->nfree + 1 : p->nfree - 1;
		}
}

static bool overlaps_any(uint64_t base, uint64_t end, const struct phys_range *rsv, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (base < rsv[i].end && rsv[i].base < end)
			return true;
	return false;
}

/* First page-aligned spot of `bytes` in usable RAM above 1 MiB that avoids `rsv`. */
static uint64_t place_bitmap(const struct boot_info *bi, uint64_t bytes,
			     const struct phys_range *rsv, unsigned nrsv)
{
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		uint64_t a = ALIGN_UP(MAX(r->base, FRAMES_LOW_LIMIT), FRAME_SIZE);
		uint64_t end = r->base + r->len;

		if (r->type != MEM_AVAILABLE)
			continue;
		while (a < end && end - a >= bytes) {
			if (!overlaps_any(a, a + bytes, rsv, nrsv))
				return a;
			a += FRAME_SIZE;
		}
	}
	return 0;
}

int frames_init(struct frame_pool *p, const struct boot_info *bi, const struct phys_range *rsv,
		unsigned nrsv, void *(*virt)(uint64_t pa))
{
	uint64_t top = 0, bytes;

	for (unsigned i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_AVAILABLE)
			top = MAX(top, bi->mmap[i].base + bi->mmap[i].len);
	if (top <= FRAMES_LOW_LIMIT)
		return -1;
	*p = (struct frame_pool){.nframes = ALIGN_UP(top / FRAME_SIZE, 64)};
	bytes = ALIGN_UP(p->nframes / 8, FRAME_SIZE);
	p->bitmap_pa = place_bitmap(bi, bytes, rsv, nrsv);
	if (!p->bitmap_pa)
		return -1;
	p->bitmap = virt(p->bitmap_pa);
	__builtin_memset(p->bitmap, 0, p->nframes / 8);
	for (unsigned i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_AVAILABLE)
			mark(p, bi->mmap[i].base, bi->mmap[i].base + bi->mmap[i].len, true);
	mark(p, 0, FRAMES_LOW_LIMIT, false);
	for (unsigned i = 0; i < nrsv; i++)
		mark(p, rsv[i].base, rsv[i].end, false);
	mark(p, p->bitmap_pa, p->bitmap_pa + bytes, false);
	p->ntotal = p->nfree;
	return 0;
}

uint64_t frame_alloc(struct frame_pool *p)
{
	return frames_alloc_contig(p, 1, 1);
}

/* Whether the n frames from f are all free (free true) or all in use (free false). */
static bool run_is(const struct frame_pool *p, uint64_t f, uint64_t n, bool free)
{
	for (uint64_t i = 0; i < n; i++)
		if (bit_get(p, f + i) != free)
			return false;
	return true;
}

/* Scans words from the hint for a free run; a single frame takes the first set bit. */
static uint64_t find_run(const struct frame_pool *p, uint64_t n, uint64_t align)
{
	uint64_t words = p->nframes / 64;

	for (uint64_t k = 0; k < words; k++) {
		uint64_t w = (p->hint + k) % words;
		if (!p->bitmap[w])
			continue;
		uint64_t f = ALIGN_UP(w * 64 + (uint64_t)__builtin_ctzll(p->bitmap[w]), align);
		for (; f < (w + 1) * 64 && f + n <= p->nframes; f += align)
			if (run_is(p, f, n, true))
				return f;
	}
	return 0;
}

uint64_t frames_alloc_contig(struct frame_pool *p, uint64_t n, uint64_t align)
{
	uint64_t f;

	if (n == 0 || align == 0 || (align & (align - 1)))
		return 0;
	spin_lock(&p->lock);
	f = n <= p->nfree ? find_run(p, n, align) : 0;
	if (f) {
		mark(p, f * FRAME_SIZE, (f + n) * FRAME_SIZE, false);
		p->hint = f / 64;
	}
	spin_unlock(&p->lock);
	return f * FRAME_SIZE;
}

/* The n frames at pa turned free (free true) or in use, all of them or (-1) none. */
static int flip_run(struct frame_pool *p, uint64_t pa, uint64_t n, bool free)
{
	uint64_t f = pa / FRAME_SIZE;
	int rc = -1;

	if (pa % FRAME_SIZE || n > p->nframes || f > p->nframes - n)
		return -1;
	spin_lock(&p->lock);
	if (run_is(p, f, n, !free)) { /* a double free or a used frame refuses the whole run */
		mark(p, pa, pa + n * FRAME_SIZE, free);
		rc = 0;
	}
	spin_unlock(&p->lock);
	return rc;
}

int frames_free_contig(struct frame_pool *p, uint64_t pa, uint64_t n)
{
	if (pa / FRAME_SIZE < FRAMES_LOW_LIMIT / FRAME_SIZE)
		return -1;
	return flip_run(p, pa, n, true);
}

int frame_free(struct frame_pool *p, uint64_t pa)
{
	return frames_free_contig(p, pa, 1);
}

bool frame_is_free(const struct frame_pool *p, uint64_t pa)
{
	return pa / FRAME_SIZE < p->nframes && bit_get(p, pa / FRAME_SIZE);
}

int frames_claim(struct frame_pool *p, uint64_t pa, uint64_t n)
{
	return flip_run(p, pa, n, false);
}
