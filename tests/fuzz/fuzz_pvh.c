/* libFuzzer target: hv/dom0/pvh.c's pvh_parse on arbitrary kernel images. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dom0/pvh.h"

#define CHECK(c)                          \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

/* What a successful parse promises its callers (the dom0 loader). */
static void check_result(size_t size, const struct pvh_image *im)
{
	const uint64_t limit = 1ULL << 32;

	CHECK(im->nsegs >= 1 && im->nsegs <= PVH_MAX_SEGS);
	CHECK(im->lo < im->hi && im->hi <= limit);
	CHECK(im->lo <= im->entry && im->entry < im->hi);
	for (unsigned i = 0; i < im->nsegs; i++) {
		const struct pvh_seg *s = &im->segs[i];
		CHECK(s->offset <= size && s->filesz <= size - s->offset); /* inside the file */
		CHECK(s->filesz <= s->memsz && s->memsz > 0);
		CHECK(s->paddr < limit && s->memsz <= limit - s->paddr); /* below 4 GiB */
		CHECK(im->lo <= s->paddr && s->paddr + s->memsz <= im->hi);
		for (unsigned j = 0; j < i; j++) /* disjoint */
			CHECK(s->paddr + s->memsz <= im->segs[j].paddr ||
			      im->segs[j].paddr + im->segs[j].memsz <= s->paddr);
	}
	/* lo and hi are the bounds of the segments, not just around them */
	bool lo_seen = false, hi_seen = false;
	for (unsigned i = 0; i < im->nsegs; i++) {
		lo_seen |= im->segs[i].paddr == im->lo;
		hi_seen |= im->segs[i].paddr + im->segs[i].memsz == im->hi;
	}
	CHECK(lo_seen && hi_seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pvh_image im;
	char err[PVH_ERR_LEN];
	uint8_t *img;

	if (size > (1 << 20))
		return 0;
	/* exactly `size` bytes on the heap, so over-reads are caught */
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	memcpy(img, data, size);
	memset(err, 'X', sizeof(err));
	if (pvh_parse(img, size, &im, err) == 0)
		check_result(size, &im);
	else
		CHECK(memchr(err, '\0', sizeof(err)) && !strncmp(err, "dom0: ", 6));
	free(img);
	return 0;
}
