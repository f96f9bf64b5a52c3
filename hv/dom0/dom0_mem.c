/*
 * dom0's memory: the frames it owns (everything the hypervisor does not keep), its kernel and
 * boot information, and its EPT (identity, with the hypervisor's frames shown as a scratch page).
 */
#include "dom0_priv.h"
#include "../lib/errno.h"
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../lib/printf.h"
#include "pvh.h"

#define CMDLINE_MAX 1024
#define E820_MAX    128

static bool dom0_owns(uint64_t f)
{
	return f < d0.nframes && (d0.owned[f / 64] >> (f % 64)) & 1;
}

/* Marks every frame wholly or partly in [base, end) as dom0's. */
void dom0_own(uint64_t base, uint64_t end)
{
	for (uint64_t f = base / PAGE_SIZE; f < PAGES(end) && f < d0.nframes; f++)
		d0.owned[f / 64] |= 1ULL << (f % 64);
}

/* The ownership bitmap and the scratch page. */
void dom0_mem_init(void)
{
	d0.owned = mem_alloc(hv_frames.nframes / 8);
	if (!d0.owned)
		panic("dom0: out of memory");
	d0.nframes = hv_frames.nframes;
	d0.scratch = frame_alloc_zeroed();
}

static bool in_module(const struct boot_info *bi, uint64_t pa)
{
	for (unsigned i = 0; i < bi->nmods; i++)
		if (pa >= ALIGN_DOWN(bi->mods[i].start, PAGE_SIZE) && pa < bi->mods[i].end)
			return true;
	return false;
}

/* Claims the free frames of [lo, hi); those that are not free must be module frames. */
static void claim_destination(const struct boot_info *bi, uint64_t lo, uint64_t hi)
{
	for (uint64_t pa = ALIGN_DOWN(lo, PAGE_SIZE); pa < hi; pa += PAGE_SIZE)
		if (frame_is_free(&hv_frames, pa))
			frames_claim(&hv_frames, pa, 1);
		else if (!in_module(bi, pa))
			panic("dom0: kernel wants [%#lx-%#lx): the hypervisor uses %#lx", lo, hi,
			      pa);
}

/* Moves modules out of the kernel's way; their old frames go back to the pool. */
static void relocate_modules(struct boot_info *bi, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < bi->nmods; i++) {
		struct boot_module *m = &bi->mods[i];
		uint64_t pages = PAGES(m->end - m->start), to;
		if (m->start >= hi || m->end <= lo)
			continue;
		to = frames_alloc_contig(&hv_frames, pages ? pages : 1, 1);
		if (!to)
			panic("dom0: no room to move module %u out of the kernel's way", i);
		__builtin_memmove(phys_to_virt(to), phys_to_virt(m->start), m->end - m->start);
		for (uint64_t p = m->start; p < m->start + pages * PAGE_SIZE; p += PAGE_SIZE)
			if (p < lo || p >= hi)
				frame_free(&hv_frames, p);
		pr_info("dom0: module %u moved from %#lx to %#lx", i, m->start, to);
		m->end = to + (m->end - m->start);
		m->start = to;
	}
}

struct pvh_image dom0_kernel; /* a vmlinux, or a bzImage with its setup header */

uint32_t dom0_load_kernel(struct boot_info *bi)
{
	const struct boot_module *k = &bi->mods[0];
	char err[PVH_ERR_LEN];

	if (pvh_parse(phys_to_virt(k->start), k->end - k->start, &dom0_kernel, err))
		panic("%s", err);
	if (!mb2_range_usable(bi, dom0_kernel.lo, dom0_kernel.hi - dom0_kernel.lo))
		panic("dom0: kernel wants [%#lx-%#lx), which is not usable RAM", dom0_kernel.lo,
		      dom0_kernel.hi);
	claim_destination(bi, dom0_kernel.lo, dom0_kernel.hi);
	relocate_modules(bi, dom0_kernel.lo, dom0_kernel.hi);
	for (unsigned i = 0; i < dom0_kernel.nsegs; i++) {
		const struct pvh_seg *s = &dom0_kernel.segs[i];
		uint8_t *dst = phys_to_virt(s->paddr);
		__builtin_memcpy(dst, (const uint8_t *)phys_to_virt(k->start) + s->offset,
				 s->filesz);
		__builtin_memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	dom0_own(dom0_kernel.lo, dom0_kernel.hi);
	/* the image itself is no longer needed: its frames become free RAM for dom0 */
	frames_free_contig(&hv_frames, k->start, PAGES(k->end - k->start));
	pr_info("dom0: kernel [%#lx-%#lx), %s entry %#x", dom0_kernel.lo, dom0_kernel.hi,
		dom0_kernel.setup_len ? "bzImage 32-bit" : "PVH", dom0_kernel.entry);
	return dom0_kernel.entry;
}

/*
 * The hypervisor keeps `pool` bytes of the free frames, the highest ones; every other free
 * frame, and all usable RAM below 1 MiB, becomes dom0's.
 */
void dom0_split_memory(const struct boot_info *bi, uint64_t pool)
{
	uint64_t keep = pool / PAGE_SIZE, kept = 0, f = hv_frames.nframes;

	if (hv_frames.nfree < 2 * keep)
		panic("dom0: %lu MiB free is too little to keep %lu MiB for the hypervisor",
		      hv_frames.nfree >> 8, pool >> 20);
	while (f-- > 0 && kept < keep)
		kept += frame_is_free(&hv_frames, f * PAGE_SIZE);
	for (uint64_t g = 0; g <= f; g++)
		if (!frames_claim(&hv_frames, g * PAGE_SIZE, 1))
			dom0_own(g * PAGE_SIZE, (g + 1) * PAGE_SIZE);
	for (unsigned i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_AVAILABLE && bi->mmap[i].base < MiB(1))
			dom0_own(bi->mmap[i].base, MIN(bi->mmap[i].base + bi->mmap[i].len, MiB(1)));
	pr_info("dom0: hypervisor keeps %lu MiB above %#lx; dom0 gets the rest", pool >> 20,
		(f + 1) * PAGE_SIZE);
}

static unsigned add_e820(struct hvm_memmap_entry *e, unsigned n, uint64_t a, uint64_t b,
			 uint32_t type)
{
	if (a >= b)
		return n;
	if (n && e[n - 1].type == type && e[n - 1].addr + e[n - 1].size == a) {
		e[n - 1].size += b - a;
		return n;
	}
	if (n == E820_MAX)
		panic("dom0: memory map needs more than %u entries", E820_MAX);
	e[n] = (struct hvm_memmap_entry){a, b - a, type, 0};
	return n + 1;
}

/* The loader's map, with usable RAM that is not dom0's turned into reserved. */
static unsigned build_e820(const struct boot_info *bi, struct hvm_memmap_entry *e)
{
	unsigned n = 0;

	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		uint64_t a = r->base, end = r->base + r->len;
		if (r->type != MEM_AVAILABLE) {
			n = add_e820(e, n, a, end, r->type);
			continue;
		}
		while (a < end) {
			uint64_t b = MIN(ALIGN_DOWN(a, PAGE_SIZE) + PAGE_SIZE, end);
			n = add_e820(e, n, a, b,
				     dom0_owns(a / PAGE_SIZE) ? MEM_AVAILABLE : MEM_RESERVED);
			a = b;
		}
	}
	return n;
}

struct bootinfo {
	uint8_t zero_page[PAGE_SIZE]; /* a bzImage's struct boot_params */
	uint8_t rsdp[36] __aligned(16);
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	char cmdline[CMDLINE_MAX];
	struct hvm_memmap_entry e820[E820_MAX];
};

_Static_assert(sizeof(struct bootinfo) <= BOOTINFO_PAGES * PAGE_SIZE, "boot info pages");

static void put(uint8_t *z, unsigned off, uint64_t v, unsigned n)
{
	__builtin_memcpy(z + off, &v, n); /* (little-endian, as the boot protocol) */
}

/*
 * A bzImage's struct boot_params (the zero page): its setup header with the loader's fields,
 * the same command line, initrd, ACPI RSDP and memory map as the PVH start info.
 */
static uint64_t boot_params(struct bootinfo *b, uint64_t pa)
{
	uint8_t *z = b->zero_page;
	uint64_t cmdline = pa + offsetof(struct bootinfo, cmdline);

	__builtin_memcpy(z + 0x1f1, dom0_kernel.setup, dom0_kernel.setup_len);
	z[0x210] = 0xff; /* type_of_loader: none of the registered ones */
	put(z, 0x228, cmdline, 4);
	put(z, 0x0c8, cmdline >> 32, 4); /* ext_cmd_line_ptr */
	put(z, 0x218, b->mod.paddr, 4);	 /* ramdisk_image, _size and their ext_ halves */
	put(z, 0x21c, b->mod.size, 4);
	put(z, 0x0c0, b->mod.paddr >> 32, 4);
	put(z, 0x0c4, b->mod.size >> 32, 4);
	put(z, 0x070, b->si.rsdp_paddr, 8); /* acpi_rsdp_addr */
	z[0x1e8] = (uint8_t)b->si.memmap_entries;
	for (unsigned i = 0; i < b->si.memmap_entries; i++) /* e820_table: 20-byte entries */
		__builtin_memcpy(z + 0x2d0 + 20 * i, &b->e820[i], 20);
	return pa;
}

/* Fills the boot information pages at pa (dom0's) once memory is split. */
uint64_t dom0_build_bootinfo(const struct boot_info *bi, uint64_t pa)
{
	struct bootinfo *b = phys_to_virt(pa);
	const void *log;

	__builtin_memset(b, 0, sizeof(*b));
	__builtin_memcpy(b->rsdp, bi->rsdp, bi->rsdp_len);
	log_export(&log);
	fmt_snprintf(b->cmdline, sizeof(b->cmdline),
		     "%s hv.log=%#lx hv.image=%#lx-%#lx dom0cpus=%u", bi->mods[0].cmdline,
		     image_to_phys(log), image_to_phys(__image_start), image_to_phys(__image_end),
		     ncpus_online);
	b->si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = pa + offsetof(struct bootinfo, cmdline),
		.rsdp_paddr = bi->rsdp_len ? pa + offsetof(struct bootinfo, rsdp) : 0,
		.memmap_paddr = pa + offsetof(struct bootinfo, e820),
	};
	if (bi->nmods > 1) {
		b->mod = (struct hvm_modlist_entry){bi->mods[1].start,
						    bi->mods[1].end - bi->mods[1].start, 0, 0};
		b->si.nr_modules = 1;
		b->si.modlist_paddr = pa + offsetof(struct bootinfo, mod);
	}
	b->si.memmap_entries = build_e820(bi, b->e820);
	for (unsigned i = 0; i < b->si.memmap_entries; i++)
		pr_debug("dom0:   e820 [%016lx-%016lx) type %u", b->e820[i].addr,
			 b->e820[i].addr + b->e820[i].size, b->e820[i].type);
	return dom0_kernel.setup_len ? boot_params(b, pa) : pa + offsetof(struct bootinfo, si);
}

void dom0_must(int rc, const char *what)
{
	if (rc)
		panic("dom0: %s failed (%d)", what, rc);
}

/*
 * The invariant the design rests on: dom0 reaches its own frames (and the log) as themselves;
 * every other frame of RAM shows only the scratch page.
 */
static void check_ept(const struct boot_info *bi, uint64_t log_pa, uint64_t log_len)
{
	for (uint64_t f = 0; f < d0.nframes; f++) {
		uint64_t pa = f * PAGE_SIZE, hpa = 0;
		bool self = dom0_owns(f) || (pa >= log_pa && pa < log_pa + log_len);
		if (!self && !mb2_range_usable(bi, pa, PAGE_SIZE))
			continue; /* not RAM: device memory passes through */
		if (vm_gpa_to_hpa(d0.vm, pa, &hpa) || hpa != (self ? pa : d0.scratch))
			panic("dom0: EPT maps GPA %#lx to %#lx", pa, hpa);
	}
}

/*
 * Identity mappings: the machine's address space uncached, then dom0's RAM and the ACPI
 * ranges write-back; every frame the hypervisor kept shows the scratch page instead.
 */
void dom0_build_ept(const struct boot_info *bi)
{
	uint64_t top = GiB(64), log_pa, log_len;
	const void *log;

	for (unsigned i = 0; i < bi->nmmap; i++)
		top = MAX(top, ALIGN_UP(bi->mmap[i].base + bi->mmap[i].len, GiB(1)));
	dom0_must(vm_map_mmio(d0.vm, 0, 0, top, VM_RWX), "mapping the address space");
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		uint64_t a = ALIGN_DOWN(r->base, PAGE_SIZE),
			 end = ALIGN_UP(r->base + r->len, PAGE_SIZE);
		if (r->type == MEM_ACPI_RECLAIM || r->type == MEM_ACPI_NVS)
			dom0_must(vm_map(d0.vm, a, a, end - a, VM_RWX), "mapping ACPI memory");
		if (r->type != MEM_AVAILABLE)
			continue;
		for (uint64_t p = a; p < end; p += PAGE_SIZE)
			dom0_must(dom0_owns(p / PAGE_SIZE)
					  ? vm_map(d0.vm, p, p, PAGE_SIZE, VM_RWX)
					  : vm_map(d0.vm, p, d0.scratch, PAGE_SIZE, VM_R | VM_W),
				  "mapping RAM");
	}
	log_len = log_export(&log);
	log_pa = image_to_phys(log);
	dom0_must(vm_map(d0.vm, log_pa, log_pa, log_len, VM_R), "exporting the log");
	check_ept(bi, log_pa, log_len);
	dom0_must(vm_map_mmio(d0.vm, d0.lapic, d0.lapic, PAGE_SIZE, VM_R),
		  "mapping the local APIC");
}

bool dom0_owns_range(uint64_t pa, uint64_t len)
{
	if (!d0.owned || !len || pa + len < pa)
		return false;
	for (uint64_t f = pa / PAGE_SIZE; f <= (pa + len - 1) / PAGE_SIZE; f++)
		if (!dom0_owns(f))
			return false;
	return true;
}

int dom0_copy_in(void *dst, uint64_t pa, uint64_t len)
{
	if (len && ((pa & 7) || !dom0_owns_range(pa, len)))
		return -EFAULT;
	__builtin_memcpy(dst, phys_to_virt(pa), len);
	return 0;
}

int dom0_copy_out(uint64_t pa, const void *src, uint64_t len)
{
	if (len && ((pa & 7) || !dom0_owns_range(pa, len)))
		return -EFAULT;
	__builtin_memcpy(phys_to_virt(pa), src, len);
	return 0;
}
