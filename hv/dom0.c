/*
 * dom0, the control domain: loads the PVH kernel GRUB gave as module 0 (module 1 is its
 * initrd), gives it every frame the hypervisor does not keep, maps the machine through to it
 * (the hypervisor's own memory reads as a scratch page) and runs it on every CPU.
 */
#include "dom0.h"
#include "cmdline.h"
#include "lapic.h"
#include "log.h"
#include "mm.h"
#include "panic.h"
#include "printf.h"
#include "pvh.h"
#include "smp.h"
#include "tsc.h"
#include "vm.h"
#include "x86.h"

#define POOL_DEFAULT_MIB    32
#define BOOTINFO_PAGES	    2
#define CMDLINE_MAX	    1024
#define E820_MAX	    128
#define COM1		    0x3f8
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_FIRST	    0x480
#define MSR_VMX_LAST	    0x491

/* What the boot CPU tells an AP about dom0's INIT and SIPI for it. */
struct ap_mailbox {
	volatile bool init;
	volatile int sipi; /* vector, -1 until one arrives */
};

static struct {
	struct vm *vm;
	struct vcpu *vcpus[MAX_CPUS];
	struct ap_mailbox mbox[MAX_CPUS];
	uint64_t *owned; /* bitmap of the frames that are dom0's */
	uint64_t nframes;
	uint64_t scratch; /* stands in for every hypervisor frame */
	uint64_t lapic;
} d0;

static uint64_t sample_ms;     /* dom0sample=MS: log where each dom0 CPU is every MS ms */
static uint32_t trace_vectors; /* dom0trap=N: log exceptions of vector N (debugging) */

/* Logs an intercepted exception and delivers it to dom0 as if nothing had happened. */
static void trace_exception(struct vcpu *v, const struct vm_exit *x)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	vcpu_get_regs(v, &r);
	vcpu_get_sregs(v, &s);
	pr_info("dom0: exception %u error %#x at RIP %#llx CR2 %#llx", x->exc.vector, x->exc.error,
		(unsigned long long)r.rip, (unsigned long long)x->qual);
	if (x->exc.vector == 14)
		vcpu_set_cr2(v, x->qual);
	for (int i = 0; i < 8; i++) {
		uint64_t q = 0;
		vcpu_read_gva(v, r.rsp + 8 * i, &q, 8);
		pr_info("dom0:   stack +%02x: %016llx", 8 * i, (unsigned long long)q);
	}
	vcpu_queue_exception(v, x->exc.vector, x->exc.has_error, x->exc.error);
}

static bool owned(uint64_t f)
{
	return f < d0.nframes && (d0.owned[f / 64] >> (f % 64)) & 1;
}

/* Marks every frame wholly or partly in [base, end) as dom0's. */
static void own(uint64_t base, uint64_t end)
{
	for (uint64_t f = base / PAGE_SIZE;
	     f < ALIGN_UP(end, PAGE_SIZE) / PAGE_SIZE && f < d0.nframes; f++)
		d0.owned[f / 64] |= 1ULL << (f % 64);
}

static void alloc_owned_map(void)
{
	uint64_t bytes = ALIGN_UP(hv_frames.nframes / 8, PAGE_SIZE);
	uint64_t pa = frames_alloc_contig(&hv_frames, bytes / PAGE_SIZE, 1);

	if (!pa)
		panic("dom0: out of memory");
	d0.owned = phys_to_virt(pa);
	d0.nframes = hv_frames.nframes;
	__builtin_memset(d0.owned, 0, bytes);
}

/* Claims the free frames of [lo, hi); those that are not free must be module frames. */
static void claim_destination(uint64_t lo, uint64_t hi)
{
	for (uint64_t pa = ALIGN_DOWN(lo, PAGE_SIZE); pa < hi; pa += PAGE_SIZE)
		if (frame_is_free(&hv_frames, pa))
			frames_claim(&hv_frames, pa, 1);
}

/* Moves modules out of the kernel's way; their old frames go back to the pool. */
static void relocate_modules(struct boot_info *bi, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < bi->nmods; i++) {
		struct boot_module *m = &bi->mods[i];
		uint64_t pages = ALIGN_UP(m->end - m->start, PAGE_SIZE) / PAGE_SIZE, to;
		if (m->start >= hi || m->end <= lo)
			continue;
		to = frames_alloc_contig(&hv_frames, pages ? pages : 1, 1);
		if (!to)
			panic("dom0: no room to move module %u out of the kernel's way", i);
		__builtin_memmove(phys_to_virt(to), phys_to_virt(m->start), m->end - m->start);
		for (uint64_t p = m->start; p < m->start + pages * PAGE_SIZE; p += PAGE_SIZE)
			if (p < lo || p >= hi)
				frame_free(&hv_frames, p);
		pr_info("dom0: module %u moved from %#llx to %#llx", i,
			(unsigned long long)m->start, (unsigned long long)to);
		m->end = to + (m->end - m->start);
		m->start = to;
	}
}

static uint32_t load_kernel(struct boot_info *bi)
{
	const struct boot_module *k = &bi->mods[0];
	struct pvh_image img;
	char err[PVH_ERR_LEN];

	if (pvh_parse(phys_to_virt(k->start), k->end - k->start, &img, err))
		panic("%s", err);
	if (!mb2_range_usable(bi, img.lo, img.hi - img.lo))
		panic("dom0: kernel wants [%#llx-%#llx), which is not usable RAM",
		      (unsigned long long)img.lo, (unsigned long long)img.hi);
	claim_destination(img.lo, img.hi);
	relocate_modules(bi, img.lo, img.hi);
	for (unsigned i = 0; i < img.nsegs; i++) {
		const struct pvh_seg *s = &img.segs[i];
		uint8_t *dst = phys_to_virt(s->paddr);
		__builtin_memcpy(dst, (const uint8_t *)phys_to_virt(k->start) + s->offset,
				 s->filesz);
		__builtin_memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	own(img.lo, img.hi);
	/* the image itself is no longer needed: its frames become free RAM for dom0 */
	frames_free_contig(&hv_frames, k->start,
			   ALIGN_UP(k->end - k->start, PAGE_SIZE) / PAGE_SIZE);
	pr_info("dom0: kernel [%#llx-%#llx), PVH entry %#x", (unsigned long long)img.lo,
		(unsigned long long)img.hi, img.entry);
	return img.entry;
}

/*
 * The hypervisor keeps `pool` bytes of the free frames, the highest ones; every other free
 * frame, and all usable RAM below 1 MiB, becomes dom0's.
 */
static void split_memory(const struct boot_info *bi, uint64_t pool)
{
	uint64_t keep = pool / PAGE_SIZE, kept = 0, f = hv_frames.nframes;

	if (hv_frames.nfree < 2 * keep)
		panic("dom0: %llu MiB free is too little to keep %llu MiB for the hypervisor",
		      (unsigned long long)(hv_frames.nfree >> 8), (unsigned long long)(pool >> 20));
	while (f-- > 0 && kept < keep)
		kept += frame_is_free(&hv_frames, f * PAGE_SIZE);
	for (uint64_t g = 0; g <= f; g++)
		if (!frames_claim(&hv_frames, g * PAGE_SIZE, 1))
			own(g * PAGE_SIZE, (g + 1) * PAGE_SIZE);
	for (unsigned i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_AVAILABLE && bi->mmap[i].base < MiB(1))
			own(bi->mmap[i].base, MIN(bi->mmap[i].base + bi->mmap[i].len, MiB(1)));
	pr_info("dom0: hypervisor keeps %llu MiB above %#llx; dom0 gets the rest",
		(unsigned long long)(pool >> 20), (unsigned long long)((f + 1) * PAGE_SIZE));
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
				     owned(a / PAGE_SIZE) ? MEM_AVAILABLE : MEM_RESERVED);
			a = b;
		}
	}
	return n;
}

struct bootinfo {
	uint8_t rsdp[36] __aligned(16);
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	char cmdline[CMDLINE_MAX];
	struct hvm_memmap_entry e820[E820_MAX];
};

_Static_assert(sizeof(struct bootinfo) <= BOOTINFO_PAGES * PAGE_SIZE, "boot info pages");

/* Fills the boot information pages at pa (dom0's) once memory is split. */
static void build_bootinfo(const struct boot_info *bi, uint64_t pa)
{
	struct bootinfo *b = phys_to_virt(pa);
	uint64_t log_pa;

	__builtin_memset(b, 0, sizeof(*b));
	__builtin_memcpy(b->rsdp, bi->rsdp, bi->rsdp_len);
	log_export(&log_pa);
	fmt_snprintf(b->cmdline, sizeof(b->cmdline),
		     "%s hv.log=%#llx hv.image=%#llx-%#llx dom0cpus=%u", bi->mods[0].cmdline,
		     (unsigned long long)log_pa, (unsigned long long)HV_LOAD_PHYS,
		     (unsigned long long)image_to_phys(__image_end), ncpus_online);
	b->si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = pa + __builtin_offsetof(struct bootinfo, cmdline),
		.rsdp_paddr = bi->rsdp_len ? pa + __builtin_offsetof(struct bootinfo, rsdp) : 0,
		.memmap_paddr = pa + __builtin_offsetof(struct bootinfo, e820),
	};
	if (bi->nmods > 1) {
		b->mod = (struct hvm_modlist_entry){bi->mods[1].start,
						    bi->mods[1].end - bi->mods[1].start, 0, 0};
		b->si.nr_modules = 1;
		b->si.modlist_paddr = pa + __builtin_offsetof(struct bootinfo, mod);
	}
	b->si.memmap_entries = build_e820(bi, b->e820);
	for (unsigned i = 0; i < b->si.memmap_entries; i++)
		pr_debug("dom0:   e820 [%016llx-%016llx) type %u",
			 (unsigned long long)b->e820[i].addr,
			 (unsigned long long)(b->e820[i].addr + b->e820[i].size), b->e820[i].type);
}

static void must(int rc, const char *what)
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
		bool self = owned(f) || (pa >= log_pa && pa < log_pa + log_len);
		if (!self && !mb2_range_usable(bi, pa, PAGE_SIZE))
			continue; /* not RAM: device memory passes through */
		if (vm_gpa_to_hpa(d0.vm, pa, &hpa) || hpa != (self ? pa : d0.scratch))
			panic("dom0: EPT maps GPA %#llx to %#llx", (unsigned long long)pa,
			      (unsigned long long)hpa);
	}
}

/*
 * Identity mappings: the machine's address space uncached, then dom0's RAM and the ACPI
 * ranges write-back; every frame the hypervisor kept shows the scratch page instead.
 */
static void build_ept(const struct boot_info *bi)
{
	uint64_t top = GiB(64), log_pa, log_len;

	for (unsigned i = 0; i < bi->nmmap; i++)
		top = MAX(top, ALIGN_UP(bi->mmap[i].base + bi->mmap[i].len, GiB(1)));
	must(vm_map_mmio(d0.vm, 0, 0, top, VM_RWX), "mapping the address space");
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		uint64_t a = ALIGN_DOWN(r->base, PAGE_SIZE),
			 end = ALIGN_UP(r->base + r->len, PAGE_SIZE);
		if (r->type == MEM_ACPI_RECLAIM || r->type == MEM_ACPI_NVS)
			must(vm_map(d0.vm, a, a, end - a, VM_RWX), "mapping ACPI memory");
		if (r->type != MEM_AVAILABLE)
			continue;
		for (uint64_t p = a; p < end; p += PAGE_SIZE)
			must(owned(p / PAGE_SIZE)
				     ? vm_map(d0.vm, p, p, PAGE_SIZE, VM_RWX)
				     : vm_map(d0.vm, p, d0.scratch, PAGE_SIZE, VM_R | VM_W),
			     "mapping RAM");
	}
	log_len = log_export(&log_pa);
	must(vm_map(d0.vm, log_pa, log_pa, log_len, VM_R), "exporting the log");
	check_ept(bi, log_pa, log_len);
	must(vm_map_mmio(d0.vm, d0.lapic, d0.lapic, PAGE_SIZE, VM_R), "mapping the local APIC");
}

/* COM1's data port: dom0's bytes go out through the console, so lines never interleave. */
static bool com1_write(void *ctx, struct vcpu *v, uint64_t port, unsigned size, uint64_t val)
{
	(void)ctx, (void)v, (void)size;
	if (inb(COM1 + 3) & 0x80) /* divisor latch: not data */
		outb((uint16_t)port, (uint8_t)val);
	else
		log_dom0_putc((char)val);
	return true;
}

/* INIT and SIPI aimed at a CPU that runs a dom0 vCPU are delivered to that vCPU. */
static bool icr_emulate(uint32_t lo)
{
	uint32_t mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3,
		 dest = lapic_read(LAPIC_ICR_HI) >> 24;
	uint32_t self = this_cpu()->apic_id;

	if (mode != 5 && mode != 6)
		return false;
	for (unsigned i = 0; i < ncpus_online; i++) {
		uint32_t id = cpus[i]->apic_id;
		bool hit = shorthand == 0   ? id == dest
			   : shorthand == 1 ? id == self
			   : shorthand == 2 ? true
					    : id != self;
		if (!hit || id == self)
			continue;
		if (mode == 5 && (lo & ICR_LEVEL_ASSERT))
			d0.mbox[i].init = true;
		else if (mode == 6 && d0.mbox[i].init)
			d0.mbox[i].sipi = lo & 0xff;
	}
	return true;
}

static bool lapic_read_hook(void *ctx, struct vcpu *v, uint64_t addr, unsigned size, uint64_t *val)
{
	(void)ctx, (void)v;
	if (size != 4 || (addr & 15))
		return false;
	*val = lapic_read((uint32_t)(addr - d0.lapic));
	return true;
}

static bool lapic_write_hook(void *ctx, struct vcpu *v, uint64_t addr, unsigned size, uint64_t val)
{
	uint32_t reg = (uint32_t)(addr - d0.lapic);

	(void)ctx, (void)v;
	if (size != 4 || (addr & 15))
		return false;
	if (reg == LAPIC_ICR_LO && icr_emulate((uint32_t)val))
		return true;
	lapic_write(reg, (uint32_t)val);
	return true;
}

/* dom0 asking the machine to reset (reboot, or a panic with panic=-1) ends the run here. */
static __noreturn void dom0_reset(uint64_t port, uint64_t val)
{
	log_emergency("\n*** dom0 asked for a reset (port %#llx value %#llx)\n",
		      (unsigned long long)port, (unsigned long long)val);
	log_dump_tail(8);
	if (!hv_poweroff_at_end)
		outb(0xcf9, 0x06); /* a real machine: do what dom0 asked */
	hv_stop(false, "dom0 asked for a reset");
}

static bool port_read(void *ctx, struct vcpu *v, uint64_t port, unsigned size, uint64_t *val)
{
	(void)ctx, (void)v, (void)size;
	*val = inb((uint16_t)port);
	return true;
}

/* 0xcf9 with RST_CPU, or the keyboard controller's pulse-reset command 0xfe. */
static bool reset_write(void *ctx, struct vcpu *v, uint64_t port, unsigned size, uint64_t val)
{
	(void)ctx, (void)v, (void)size;
	if ((port == 0xcf9 && (val & 4)) || (port == 0x64 && (val & 0xff) == 0xfe))
		dom0_reset(port, val);
	outb((uint16_t)port, (uint8_t)val);
	return true;
}

static void setup_vm(void)
{
	struct io_hook com1 = {COM1, 1, port_read, com1_write, NULL};
	struct io_hook kbc = {0x64, 1, port_read, reset_write, NULL};
	struct io_hook rcr = {0xcf9, 1, port_read, reset_write, NULL};
	struct io_hook apic = {d0.lapic, PAGE_SIZE, lapic_read_hook, lapic_write_hook, NULL};

	d0.vm = vm_create(VM_DOM0);
	if (!d0.vm)
		panic("dom0: out of memory");
	must(vm_add_pio_hook(d0.vm, &com1), "hooking COM1");
	must(vm_add_pio_hook(d0.vm, &kbc), "hooking the keyboard controller");
	must(vm_add_pio_hook(d0.vm, &rcr), "hooking the reset control register");
	must(vm_add_mmio_hook(d0.vm, &apic), "hooking the local APIC");
	vm_msr_intercept(d0.vm, MSR_FEATURE_CONTROL, true, true);
	for (uint32_t m = MSR_VMX_FIRST; m <= MSR_VMX_LAST; m++)
		vm_msr_intercept(d0.vm, m, true, true);
}

static void port_passthrough(struct vm_exit *x)
{
	uint16_t p = x->io.port;

	if (x->io.in)
		x->io.data = x->io.size == 1 ? inb(p) : x->io.size == 2 ? inw(p) : inl(p);
	else if (x->io.size == 1)
		outb(p, (uint8_t)x->io.data);
	else if (x->io.size == 2)
		outw(p, (uint16_t)x->io.data);
	else
		outl(p, (uint32_t)x->io.data);
}

/* A dom0 exit that reaches here means dom0 is beyond help: report it and end the run. */
static __noreturn void dom0_failed(struct vcpu *v, const struct vm_exit *x, const char *what)
{
	log_emergency("\n*** dom0 %s (exit kind %d, reason %u, qualification %#llx)\n", what,
		      x->kind, x->reason & 0xffff, (unsigned long long)x->qual);
	vcpu_report(v);
	hv_stop(false, what);
}

static __noreturn void dom0_cpu_loop(struct vcpu *v)
{
	struct vm_exit x;

	vcpu_intercept_exceptions(v, (1u << 8) | trace_vectors);
	vcpu_pin(v);
	if (sample_ms)
		vcpu_set_timeout(v, tsc_khz * sample_ms);
	for (;;) {
		if (vcpu_run(v, &x))
			continue;
		if (x.kind == VMEXIT_TIMEOUT && sample_ms) {
			struct vcpu_regs r;
			vcpu_get_regs(v, &r);
			pr_info("dom0: CPU %u at RIP %#llx RFLAGS %#llx", this_cpu()->index,
				(unsigned long long)r.rip, (unsigned long long)r.rflags);
		}
		switch (x.kind) {
		case VMEXIT_SHUTDOWN:
			dom0_failed(v, &x, "triple fault");
		case VMEXIT_EXCEPTION:
			if (x.exc.vector == 8) /* dom0's kernel is lost */
				dom0_failed(v, &x, "double fault");
			trace_exception(v, &x);
			continue;
		case VMEXIT_FAIL_ENTRY:
			dom0_failed(v, &x, "VM entry failure");
		case VMEXIT_INTR:
		case VMEXIT_TIMEOUT:
			continue;
		case VMEXIT_IO: /* a wide access that overlaps a hooked port: do it for dom0 */
			if (x.io.string)
				dom0_failed(v, &x, "string I/O on a trapped port");
			port_passthrough(&x);
			continue;
		default:
			dom0_failed(v, &x, "exit the hypervisor cannot handle");
		}
	}
}

/* An AP waits for dom0's INIT and SIPI, then runs its dom0 vCPU. */
static void dom0_ap_main(void *arg)
{
	unsigned i = this_cpu()->index;
	struct vcpu *v = d0.vcpus[i];

	(void)arg;
	while (d0.mbox[i].sipi < 0)
		cpu_relax();
	vcpu_init_signal(v);
	vcpu_sipi(v, (uint8_t)d0.mbox[i].sipi);
	pr_debug("dom0: CPU %u starts at %#x", i, d0.mbox[i].sipi << 12);
	dom0_cpu_loop(v);
}

void dom0_boot(struct boot_info *bi)
{
	uint64_t pool = MiB(POOL_DEFAULT_MIB), info, mib;
	uint32_t entry;
	struct vcpu_regs r;

	if (!bi->nmods)
		hv_stop(true, "boot complete; no dom0 module given");
	if (!cmdline_get_u64(bi->cmdline, "dom0sample", &sample_ms))
		sample_ms = 0;
	if (cmdline_get_u64(bi->cmdline, "dom0trap", &mib) && mib < 32 && mib != 8)
		trace_vectors = 1u << mib;
	if (cmdline_get_u64(bi->cmdline, "hvmem", &mib))
		pool = MiB(MAX(8, MIN(mib, 1u << 20)));
	alloc_owned_map();
	d0.lapic = lapic_base_pa();
	d0.scratch = frame_alloc_zeroed();
	entry = load_kernel(bi);
	for (unsigned i = 1; i < bi->nmods; i++)
		own(bi->mods[i].start, bi->mods[i].end);
	info = frames_alloc_contig(&hv_frames, BOOTINFO_PAGES, 1);
	if (!info)
		panic("dom0: out of memory");
	own(info, info + BOOTINFO_PAGES * PAGE_SIZE);
	split_memory(bi, pool);
	build_bootinfo(bi, info);
	setup_vm();
	build_ept(bi);
	for (unsigned i = 0; i < ncpus_online; i++) {
		d0.vcpus[i] = vcpu_create(d0.vm, i);
		d0.mbox[i].sipi = -1;
		if (!d0.vcpus[i])
			panic("dom0: cannot create vCPU %u", i);
	}
	must(vcpu_set_mode(d0.vcpus[0], VCPU_PROT32, entry, 0, 0), "setting the entry state");
	vcpu_get_regs(d0.vcpus[0], &r);
	r.rbx = info + __builtin_offsetof(struct bootinfo, si);
	vcpu_set_regs(d0.vcpus[0], &r);
	pr_info("dom0: starting on %u CPU(s); free frames left to the hypervisor: %llu",
		ncpus_online, (unsigned long long)hv_frames.nfree);
	smp_start_all(dom0_ap_main, NULL);
	dom0_cpu_loop(d0.vcpus[0]);
}
