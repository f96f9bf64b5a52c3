/* The hypervisor's own 4-level page tables. */
#include "../lib/log.h"
#include "mm.h"
#include "../lib/panic.h"
#include "../lib/spinlock.h"
#include "x86.h"

#define PTE_P	 (1ULL << 0)
#define PTE_RW	 (1ULL << 1)
#define PTE_PWT	 (1ULL << 3)
#define PTE_PCD	 (1ULL << 4)
#define PTE_PS	 (1ULL << 7)
#define PTE_G	 (1ULL << 8)
#define PTE_NX	 (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

static uint64_t dm_limit = GiB(4); /* the early tables map 4 GiB */
static uint64_t kernel_pml4_pa;
static spinlock_t map_lock;

uint64_t direct_map_end(void)
{
	return dm_limit;
}

uint64_t frame_alloc_zeroed(void)
{
	uint64_t pa = frame_alloc(&hv_frames);

	if (!pa)
		panic("mm: out of memory");
	if (pa >= dm_limit)
		panic("mm: frame %#lx is beyond the direct map", pa);
	__builtin_memset(phys_to_virt(pa), 0, FRAME_SIZE);
	return pa;
}

void *mem_alloc(uint64_t bytes)
{
	uint64_t pa = frames_alloc_contig(&hv_frames, PAGES(bytes), 1);

	if (!pa)
		return NULL;
	return __builtin_memset(phys_to_virt(pa), 0, ALIGN_UP(bytes, PAGE_SIZE));
}

void mem_free(void *p, uint64_t bytes)
{
	if (p)
		frames_free_contig(&hv_frames, virt_to_phys(p), PAGES(bytes));
}

/* Returns the table that entry `idx` of `table` points to, creating it. */
static uint64_t *next_table(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P))
		table[idx] = frame_alloc_zeroed() | PTE_P | PTE_RW;
	else if (table[idx] & PTE_PS)
		panic("mm: mapping over a large page");
	return phys_to_virt(table[idx] & PTE_ADDR);
}

/* Maps one page of 4K, 2M or 1G (level 1, 2, 3) at va. */
static void map_page(uint64_t *pml4, uint64_t va, uint64_t pa, unsigned level, uint64_t flags)
{
	uint64_t *t = pml4;

	for (unsigned l = 4; l > level; l--)
		t = next_table(t, (va >> (12 + 9 * (l - 1))) & 511);
	t[(va >> (12 + 9 * (level - 1))) & 511] = pa | flags | (level > 1 ? PTE_PS : 0);
}

static void map_image_range(uint64_t *pml4, const char *start, const char *end, uint64_t flags)
{
	for (uint64_t va = (uint64_t)(uintptr_t)start; va < (uint64_t)(uintptr_t)end;
	     va += PAGE_SIZE)
		map_page(pml4, va, image_to_phys((void *)(uintptr_t)va), 1, flags);
}

void paging_init(uint64_t dm_end)
{
	bool gb = cpuid(0x80000001, 0).edx & (1u << 26);
	uint64_t step = gb ? GiB(1) : MiB(2);
	uint64_t pml4_pa = frame_alloc_zeroed();
	uint64_t *pml4 = phys_to_virt(pml4_pa);
	uint64_t flags = PTE_P | PTE_G;

	dm_end = ALIGN_UP(MAX(dm_end, GiB(4)), GiB(1));
	for (uint64_t pa = 0; pa < dm_end; pa += step)
		map_page(pml4, HV_DIRECT_MAP + pa, pa, gb ? 3 : 2, flags | PTE_RW | PTE_NX);
	map_image_range(pml4, __text_start, __text_end, flags);
	map_image_range(pml4, __rodata_start, __rodata_end, flags | PTE_NX);
	map_image_range(pml4, __data_start, __bss_end, flags | PTE_RW | PTE_NX);
	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(pml4_pa);
	kernel_pml4_pa = pml4_pa;
	dm_limit = dm_end;
	pr_info("mm: direct map of %lu GiB with %s pages; image W^X; no identity map", dm_end >> 30,
		gb ? "1G" : "2M");
}

uint64_t paging_root(void)
{
	return kernel_pml4_pa;
}

void *ioremap(uint64_t pa, size_t size)
{
	uint64_t base = ALIGN_DOWN(pa, PAGE_SIZE), end = ALIGN_UP(pa + size, PAGE_SIZE);

	if (end > HV_IOREMAP_LIMIT)
		panic("mm: cannot map device memory at %#lx", pa);
	spin_lock(&map_lock);
	for (uint64_t p = base; p < end; p += PAGE_SIZE)
		map_page(phys_to_virt(kernel_pml4_pa), HV_IOREMAP + p, p, 1,
			 PTE_P | PTE_RW | PTE_NX | PTE_PCD | PTE_PWT);
	spin_unlock(&map_lock);
	return (void *)(uintptr_t)(HV_IOREMAP + pa);
}
