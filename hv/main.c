/* hv_main: the boot CPU's path from the assembly entry to a discovered machine. */
#include "selftest.h"
#include "dom0/dom0.h"
#include "hypercall/hypercall.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "platform/acpi.h"
#include "platform/cpu.h"
#include "platform/lapic.h"
#include "platform/mb2.h"
#include "platform/mm.h"
#include "platform/power.h"
#include "platform/smp.h"
#include "platform/tsc.h"
#include "platform/x86.h"
#include "vmx/virt.h"

struct frame_pool hv_frames;
static struct boot_info boot_info;
static struct madt_info madt;
static uint64_t ap_page; /* where the AP start code goes: a free page below 1 MiB */

static struct cpu_tables early_tables; /* until the boot CPU has its per-CPU block */

/* selftest and bench exist only in build/hv-test.elf (weak symbols, NULL here otherwise). */
static void run_test_entry(void (*entry)(void))
{
	if (entry)
		entry();
	else
		pr_warn("hv: selftest and bench are in build/hv-test.elf, not this image");
}

void hv_main(uint32_t magic, uint32_t mbi_pa);

/* Checks where the info block lies, then parses it; any problem is fatal and named. */
static void parse_boot_info(uint32_t magic, uint32_t mbi_pa)
{
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("boot: not started by a multiboot2 loader (EAX %#x)", magic);
	if (mbi_pa < KiB(4) || (mbi_pa & 7))
		panic("boot: multiboot2 info pointer %#x is invalid", mbi_pa);
	if (mb2_parse(phys_to_virt(mbi_pa), MIN(MB2_INFO_MAX, GiB(4) - mbi_pa), &boot_info))
		panic("%s", boot_info.err);
}

static void apply_cmdline(const char *cl)
{
	uint64_t com[2] = {COM1, 115200};
	char val[16];

	if (cmdline_get_nums(cl, "com1", com, 2) && com[0] && com[0] <= 0xfff8 && com[1] &&
	    com[1] <= 115200 && !(115200 % com[1]))
		console_init((uint16_t)com[0], (uint32_t)com[1]);
	else if (cmdline_has(cl, "com1"))
		pr_warn("hv: com1= wants PORT,BAUD (a baud that divides 115200); COM1 kept");
	hv_poweroff_at_end = cmdline_has(cl, "poweroff");
	if (cmdline_get(cl, "loglevel", val, sizeof(val)) && !log_set_level(val))
		pr_warn("hv: unknown loglevel '%s' (err, warn, info, debug)", val);
}

static void setup_memory(uint32_t mbi_pa)
{
	uint32_t mbi_len = *(const uint32_t *)phys_to_virt(mbi_pa); /* checked by mb2_parse */
	struct phys_range rsv[FRAMES_MAX_RESERVED] = {
		{image_to_phys(__image_start), image_to_phys(__image_end)},
		{mbi_pa, (uint64_t)mbi_pa + mbi_len},
	};
	unsigned n = 2;
	uint64_t top = 0;

	if (!mb2_range_usable(&boot_info, rsv[0].base, rsv[0].end - rsv[0].base))
		panic("boot: the hypervisor image is not in usable RAM");
	for (unsigned i = 0; i < boot_info.nmods; i++)
		rsv[n++] = (struct phys_range){boot_info.mods[i].start, boot_info.mods[i].end};
	if (frames_init(&hv_frames, &boot_info, rsv, n, phys_to_virt))
		panic("mm: no usable memory for the frame allocator");
	for (unsigned i = 0; i < boot_info.nmmap; i++)
		if (boot_info.mmap[i].type != MEM_RESERVED && boot_info.mmap[i].type != MEM_BAD)
			top = MAX(top, boot_info.mmap[i].base + boot_info.mmap[i].len);
	paging_init(top); /* RAM and ACPI tables; device MMIO is mapped on demand */
	ap_page = mb2_low_page(&boot_info, mbi_pa, mbi_pa + mbi_len);
}

/* ACPI tables are read through the direct map only. */
static const void *acpi_map(void *ctx __unused, uint64_t pa, size_t len)
{
	if (pa >= direct_map_end() || len > direct_map_end() - pa)
		return NULL;
	return phys_to_virt(pa);
}

static void discover_acpi(void)
{
	char err[ACPI_ERR_LEN];
	const void *t;
	uint32_t len;
	int rc;

	if (!boot_info.rsdp_len)
		panic("acpi: the loader passed no RSDP; cannot find the CPUs");
	rc = acpi_find_table(boot_info.rsdp, boot_info.rsdp_len, "APIC", acpi_map, NULL, &t, &len,
			     err);
	if (rc)
		panic("%s", rc < 0 ? err : "acpi: no MADT; cannot find the CPUs");
	if (madt_parse(t, len, &madt, err))
		panic("%s", err);
	pr_info("acpi: MADT at %#lx, %u bytes", virt_to_phys(t), len);
	rc = acpi_find_table(boot_info.rsdp, boot_info.rsdp_len, "FACP", acpi_map, NULL, &t, &len,
			     err);
	if (rc == 0) {
		pr_info("acpi: FADT at %#lx, %u bytes", virt_to_phys(t), len);
		power_set_pm1a_cnt(fadt_pm1a_cnt(t, len));
	} else
		pr_warn("acpi: no usable FADT (%s)", rc < 0 ? err : "absent");
}

static void print_memory(void)
{
	uint64_t usable = mb2_usable_bytes(&boot_info);

	pr_info("mem: map from the loader (%u ranges, %u overlaps resolved):", boot_info.nmmap,
		boot_info.mmap_conflicts);
	for (unsigned i = 0; i < boot_info.nmmap; i++) {
		const struct mem_range *r = &boot_info.mmap[i];
		pr_info("mem:   [%016lx-%016lx) %s", r->base, r->base + r->len,
			mem_type_name(r->type));
	}
	pr_info("mem: usable %lu KiB (%lu MiB); frames free %lu of %lu (%lu KiB)", usable >> 10,
		usable >> 20, hv_frames.nfree, hv_frames.ntotal, hv_frames.nfree * 4);
	pr_info("mem: hypervisor image [%#lx-%#lx), frame bitmap at %#lx",
		image_to_phys(__image_start), image_to_phys(__image_end), hv_frames.bitmap_pa);
}

static void print_machine(void)
{
	pr_info("boot: %u module(s)", boot_info.nmods);
	for (unsigned i = 0; i < boot_info.nmods; i++)
		pr_info("boot:   module %u [%#lx-%#lx) %lu bytes '%s'", i, boot_info.mods[i].start,
			boot_info.mods[i].end, boot_info.mods[i].end - boot_info.mods[i].start,
			boot_info.mods[i].cmdline);
	pr_info("acpi: ACPI %s RSDP; local APIC at %#lx (%s mode); %s",
		boot_info.rsdp_len == 36 ? "2.0+" : "1.0", madt.lapic_addr,
		lapic_x2apic() ? "x2APIC" : "xAPIC",
		madt.pcat_compat ? "8259 PICs present" : "no 8259");
	pr_info("cpu: %u CPU(s) found (%u disabled in firmware)", madt.ncpus, madt.ncpus_disabled);
	for (unsigned i = 0; i < madt.ncpus; i++)
		pr_info("cpu:   CPU %u: APIC id %u, ACPI uid %u", i, madt.cpus[i].apic_id,
			madt.cpus[i].uid);
	for (unsigned i = 0; i < madt.nioapics; i++)
		pr_info("cpu:   IOAPIC id %u at %#x, GSI base %u", madt.ioapics[i].id,
			madt.ioapics[i].addr, madt.ioapics[i].gsi_base);
}

/* `crash=KIND` deliberately faults, so the system tests can see the fault reports. */
static void crash_test(const char *cl)
{
	char kind[16];

	if (!cmdline_get(cl, "crash", kind, sizeof(kind)))
		return;
	pr_info("hv: crash test '%s' requested", kind);
	if (!__builtin_strcmp(kind, "ud"))
		__asm__ volatile("ud2");
	if (!__builtin_strcmp(kind, "pf"))
		(void)*(volatile uint64_t *)0x1000; /* no identity map: must fault */
	if (!__builtin_strcmp(kind, "panic"))
		panic("hv: panic requested on the command line");
	pr_warn("hv: unknown crash kind '%s' (ud, pf, panic)", kind);
}

/* Every CPU up, then VMX root on each; a CPU that cannot do it ends the run with the reason. */
static void start_virtualization(void)
{
	tsc_calibrate();
	lapic_init();
	smp_start_aps(&madt, ap_page);
	if (virt_probe())
		hv_stop(false, "this CPU cannot run the hypervisor (see above)");
	smp_call_all(virt_cpu_on, NULL);
}

void hv_main(uint32_t magic, uint32_t mbi_pa)
{
	console_init(COM1, 115200);
	log_init();
	idt_init();
	cpu_tables_load(&early_tables);
	parse_boot_info(magic, mbi_pa);
	apply_cmdline(boot_info.cmdline);
	pr_info("hv: micro-hypervisor starting on CPU with APIC id %u", apic_id_self());
	pr_info("boot: loader '%s', command line '%s'", boot_info.loader, boot_info.cmdline);
	setup_memory(mbi_pa);
	smp_init_bsp(apic_id_self());
	discover_acpi();
	print_memory();
	print_machine();
	crash_test(boot_info.cmdline);
	start_virtualization();
	hypercall_init();
	pr_info("hv: boot complete");
	if (cmdline_has(boot_info.cmdline, "selftest"))
		run_test_entry(selftest_run);
	if (cmdline_has(boot_info.cmdline, "bench"))
		run_test_entry(bench_run);
	dom0_boot(&boot_info);
}
