/* libFuzzer target: hv/platform/mb2.c's mb2_parse on arbitrary multiboot2 info blocks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/mb2.h"

#define CHECK(c)                          \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

static bool inside(const uint8_t *blk, size_t size, const char *s)
{
	return (const uint8_t *)s >= blk && (const uint8_t *)s < blk + size &&
	       memchr(s, '\0', (size_t)(blk + size - (const uint8_t *)s)) != NULL;
}

/* What a successful parse promises its callers. */
static void check_result(const uint8_t *blk, size_t size, const struct boot_info *bi)
{
	CHECK(bi->nmmap <= MB2_MAX_MMAP);
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		CHECK(r->len > 0);
		CHECK(r->base < MB2_PHYS_LIMIT && r->len <= MB2_PHYS_LIMIT - r->base);
		CHECK(r->type >= MEM_AVAILABLE && r->type <= MEM_BAD);
		if (i > 0) {
			const struct mem_range *p = &bi->mmap[i - 1];
			CHECK(p->base + p->len <= r->base); /* sorted, disjoint */
			CHECK(p->base + p->len < r->base || p->type != r->type); /* merged */
		}
	}
	CHECK(bi->nmods <= MB2_MAX_MODS);
	for (unsigned i = 0; i < bi->nmods; i++) {
		const struct boot_module *m = &bi->mods[i];
		CHECK(m->start <= m->end);
		CHECK(mb2_range_usable(bi, m->start, m->end - m->start));
		CHECK(inside(blk, size, m->cmdline));
		for (unsigned j = 0; j < i; j++)
			CHECK(m->end <= bi->mods[j].start || bi->mods[j].end <= m->start);
	}
	CHECK(bi->cmdline && (!*bi->cmdline || inside(blk, size, bi->cmdline)));
	CHECK(bi->loader && (!strcmp(bi->loader, "unknown") || inside(blk, size, bi->loader)));
	CHECK(bi->rsdp_len == 0 || bi->rsdp_len == 20 || bi->rsdp_len == 36);
	if (bi->rsdp_len)
		CHECK(!memcmp(bi->rsdp, "RSD PTR ", 8));
	CHECK(mb2_usable_bytes(bi) <= MB2_PHYS_LIMIT);
	for (unsigned i = 0; i < bi->nmmap; i++)
		CHECK(mem_type_name(bi->mmap[i].type) != NULL);
	uint64_t page = mb2_low_page(bi, 0, 0); /* the AP start page: free RAM below 1 MiB */
	CHECK(page == 0 ||
	      (page % 4096 == 0 && page < 0x100000 && mb2_range_usable(bi, page, 4096)));
	for (unsigned i = 0; page && i < bi->nmods; i++)
		CHECK(bi->mods[i].end <= page || page + 4096 <= bi->mods[i].start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	uint8_t *blk;

	if (size > MB2_INFO_MAX + 64)
		return 0;
	/* exactly `size` bytes on the heap (8-byte aligned), so over-reads are caught */
	blk = malloc(size ? size : 1);
	if (!blk)
		return 0;
	memcpy(blk, data, size);
	if (mb2_parse(blk, size, &bi) == 0)
		check_result(blk, size, &bi);
	else
		CHECK(!strncmp(bi.err, "mb2: ", 5) && memchr(bi.err, '\0', sizeof(bi.err)));
	free(blk);
	return 0;
}
