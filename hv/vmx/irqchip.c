/*
 * The in-hypervisor irqchip of a VM (KVM_CREATE_IRQCHIP): the 8259 pair, the IOAPIC and a local
 * APIC per vCPU, wired as KVM wires them: GSI n drives IOAPIC pin n and, below 16, PIC line n;
 * the PIC's output reaches the local APICs through LINT0 (ExtINT). KVM_CREATE_PIT2 adds the
 * 8254 on GSI 0. One lock per VM serializes every model. A vCPU takes its interrupts at its
 * next entry: a running one exits at least every KICK_NS to look; a halted one waits in dom0
 * until its next timer or until the hypercall that made it runnable wakes it (wake masks);
 * irqchip_run.c has that side, irqchip_state.c what dom0 reads and writes of its state. A split
 * irqchip (KVM_CAP_SPLIT_IRQCHIP) is the local APICs only.
 */
#include "../lib/errno.h"
#include "../platform/lapic.h"
#include "../platform/percpu.h"
#include "../platform/mm.h"
#include "../platform/tsc.h"
#include "insn.h"
#include "irqchip_priv.h"

/* ---- time ---- */

uint64_t irqchip_now_ns(void *ctx)
{
	struct irqchip *c = ctx;

	return tsc_to_ns(rdtsc() - c->tsc0);
}

/* ---- routing ---- */

/*
 * A vCPU with something new to take: dom0 wakes it if it is halted; one in guest mode on another
 * CPU is kicked out with an IPI so that it looks now. The vector is the one KVM kicks with
 * (Linux's POSTED_INTR_VECTOR): dom0's kernel, which gets it when the vCPU has left guest mode,
 * only acknowledges it.
 */
static void wake(struct irqchip *c, struct vcpu *v)
{
	int cpu = __atomic_load_n(&v->guest_cpu, __ATOMIC_SEQ_CST);

	__atomic_add_fetch(&c->gen, 1, __ATOMIC_RELEASE); /* v looks again (see chip_lock_own) */
	if (v->halted || v->wait_sipi)
		c->wake |= 1ULL << v->id;
	else if (cpu >= 0 && (unsigned)cpu != this_cpu()->index)
		lapic_send_ipi(cpus[cpu]->apic_id, ICR_FIXED | KICK_VECTOR);
}

/* A message to the local APICs it names; INIT, SIPI and NMI wait as requests for the target. */
static void deliver(void *ctx, const struct apic_msg *m)
{
	struct irqchip *c = ctx;
	bool lowest_done = false;

	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = c->vm->vcpus[i];
		if (!v || !v->lapic || !vlapic_matches(v->lapic, m) || lowest_done)
			continue;
		switch (m->delivery) {
		case DM_LOWEST:
			lowest_done = true; /* the first match takes it */
					    /* fall through */
		case DM_FIXED:
			vlapic_set_irr(v->lapic, m->vector, m->level);
			break;
		case DM_NMI:
			v->req_nmi = true;
			break;
		case DM_INIT:
			v->req_init |= m->assert;
			break;
		case DM_STARTUP:
			v->req_sipi = 0x100 | m->vector;
			break;
		case DM_SMI:
			v->smi_pending = true;
			break;
		default:
			continue; /* ExtINT: not delivered as a message */
		}
		wake(c, v);
	}
}

/* Split irqchip: a level-triggered vector that user space's IOAPIC routes to this vCPU (as KVM
 * finds them: an MSI route of one of its pins with the trigger bit set, aimed at the vCPU). */
static bool user_ioapic_vector(struct irqchip *c, struct vcpu *v, uint8_t vector)
{
	struct apic_msg m;

	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct hv_irq_route *r = &c->routes[i];
		if (r->gsi < c->ioapic_pins && r->type == HV_ROUTE_MSI &&
		    msi_to_msg(r->msi_addr, r->msi_data, &m) && m.level && m.vector == vector &&
		    vlapic_matches(v->lapic, &m))
			return true;
	}
	return false;
}

/* A level-triggered EOI: to the IOAPIC, or with a split irqchip to user space's (an exit). */
static void eoi(void *ctx, uint8_t vector)
{
	struct irqchip *c = ctx;
	struct vcpu *v = c->eoi_from;

	if (!c->split)
		ioapic_eoi(&c->ioapic, vector, &c->env);
	else if (v && user_ioapic_vector(c, v, vector))
		v->eoi_exit = 0x100 | vector;
}

enum { SRC_USER, SRC_DEVICE };

/* A source's level on one pin; the pin sees the OR of its sources. */
static void pin_level(struct irqchip *c, unsigned src, unsigned chip, unsigned pin, int level)
{
	unsigned bit = chip < 2 ? chip * 8 + pin : 16 + pin;
	struct vcpu *bsp = c->vm->vcpus[c->vm->bsp_id];

	c->levels[src] = (c->levels[src] & ~(1ULL << bit)) | ((uint64_t) !!level << bit);
	level = ((c->levels[SRC_USER] | c->levels[SRC_DEVICE]) >> bit) & 1;
	if (chip < 2) {
		pic_set_irq(&c->pic, bit, level);
		if (bsp && pic_intr(&c->pic))
			wake(c, bsp); /* the PIC's output goes to the BSP */
		return;
	}
	ioapic_set_irq(&c->ioapic, pin, level, &c->env);
}

/* A GSI's level reaches every route it has; an MSI route fires when it is raised. */
static void gsi_level(struct irqchip *c, unsigned src, unsigned gsi, int level)
{
	struct apic_msg m;

	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct hv_irq_route *r = &c->routes[i];
		if (r->gsi != gsi)
			continue;
		if (r->type == HV_ROUTE_IRQCHIP)
			pin_level(c, src, r->chip, r->pin, level);
		else if (level && msi_to_msg(r->msi_addr, r->msi_data, &m))
			deliver(c, &m);
	}
}

static void set_irq(void *ctx, unsigned gsi, int level)
{
	gsi_level(ctx, SRC_DEVICE, gsi, level);
}

/* An EOI of an IOAPIC pin: a resampling GSI routed there is lowered, and dom0 told (as KVM). */
static void ack(void *ctx, unsigned pin)
{
	struct irqchip *c = ctx;

	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct hv_irq_route *r = &c->routes[i];
		if (r->type == HV_ROUTE_IRQCHIP && r->chip == 2 && r->pin == pin && r->gsi < 64 &&
		    (c->resample >> r->gsi & 1)) {
			gsi_level(c, SRC_USER, r->gsi, 0);
			c->resampled |= 1ULL << r->gsi;
		}
	}
}

/* KVM_IRQFD_FLAG_RESAMPLE on a GSI (below 64), or no more. */
int vm_irq_resample(struct vm *vm, uint64_t gsi, bool on)
{
	struct irqchip *c = vm->irqchip;

	if (!c)
		return -ENXIO;
	if (gsi >= 64 || c->split)
		return -EINVAL; /* split: no IOAPIC here to see the EOI */
	chip_lock(c);
	c->resample = (c->resample & ~(1ULL << gsi)) | ((uint64_t)on << gsi);
	spin_unlock(&c->lock);
	return 0;
}

/* KVM's default routes: GSI n to IOAPIC pin n and, below 16, to PIC pin n. */
static void default_routes(struct irqchip *c)
{
	c->nroutes = 0;
	for (unsigned gsi = 0; gsi < NGSI; gsi++) {
		struct hv_irq_route r = {.gsi = gsi, .type = HV_ROUTE_IRQCHIP, .chip = 2};

		r.pin = (uint8_t)gsi;
		c->routes[c->nroutes++] = r;
		r.chip = (uint8_t)(gsi / 8), r.pin = gsi % 8;
		if (gsi < 16)
			c->routes[c->nroutes++] = r;
	}
}

static bool route_valid(const struct irqchip *c, const struct hv_irq_route *r,
			const struct hv_irq_route *set, unsigned n)
{
	if (r->gsi >= HV_MAX_ROUTES) /* an MSI's address is checked when it fires, as in KVM */
		return false;
	if (c->split && r->type != HV_ROUTE_MSI)
		return false; /* no PIC or IOAPIC here to route to */
	if (r->type != HV_ROUTE_MSI &&
	    (r->type != HV_ROUTE_IRQCHIP || r->chip > 2 || r->pin >= (r->chip < 2 ? 8 : NGSI)))
		return false;
	for (unsigned i = 0; i < n; i++) /* as KVM: one route per chip, or one MSI, per GSI */
		if (set[i].gsi == r->gsi && (r->type == HV_ROUTE_MSI ||
					     set[i].type == HV_ROUTE_MSI || set[i].chip == r->chip))
			return false;
	return true;
}

/* KVM_SET_GSI_ROUTING: the whole table, checked first (`in`: the hypercall's copy of dom0's). */
int vm_irq_routing(struct vm *vm, const struct hv_irq_route *in, unsigned n)
{
	struct irqchip *c = vm->irqchip;
	int rc = 0;

	if (!c)
		return -ENXIO;
	if (n > HV_MAX_ROUTES)
		return -EINVAL;
	for (unsigned i = 0; i < n && !rc; i++)
		rc = route_valid(c, &in[i], in, i) ? 0 : -EINVAL;
	if (!rc) {
		chip_lock(c);
		__builtin_memcpy(c->routes, in, n * sizeof(*in));
		c->nroutes = n;
		spin_unlock(&c->lock);
	}
	return rc;
}

/* ---- guest accesses ---- */

/* The local APIC's and the IOAPIC's MMIO: as KVM, aligned dword writes reach the LAPIC, and reads
 * of bytes within a register's first dword. */
static bool chip_mmio(void *ctx, struct vcpu *v, uint64_t addr, unsigned size, uint64_t *val,
		      bool write)
{
	struct irqchip *c = ctx;
	uint32_t off = (uint32_t)(addr - VLAPIC_DEFAULT_BASE), w = (uint32_t)*val;
	bool lapic = addr >= VLAPIC_DEFAULT_BASE;

	if (lapic && (!v->lapic || (write ? size != 4 || (off & 0xf) : (off & 0xf) + size > 4))) {
		*val = write ? *val : 0;
		return true;
	}
	chip_lock_own(c, v);
	c->eoi_from = v;
	if (lapic && write)
		vlapic_write(v->lapic, off, w, &c->env);
	else if (lapic)
		*val = vlapic_read(v->lapic, off & ~0xfu, &c->env) >> (off & 3) * 8;
	else if (write)
		ioapic_mmio_write(&c->ioapic, addr - c->ioapic.base, w, &c->env);
	else
		*val = ioapic_mmio_read(&c->ioapic, addr - c->ioapic.base);
	c->eoi_from = NULL;
	spin_unlock(&c->lock);
	return true;
}

/* The PICs' ports, and the PIT's with port 0x61 (its next tick is the BSP's: all look). */
static bool chip_pio(void *ctx, struct vcpu *v, uint64_t port, unsigned size __unused,
		     uint64_t *val, bool write)
{
	struct irqchip *c = ctx;
	struct vcpu *bsp = c->vm->vcpus[c->vm->bsp_id];
	bool pit = (port & ~3ULL) == 0x40 || port == 0x61;

	pit ? chip_lock(c) : chip_lock_own(c, v);
	if (pit && write)
		pit_port_write(&c->pit, (uint16_t)port, (uint8_t)*val, &c->env);
	else if (pit)
		*val = pit_port_read(&c->pit, (uint16_t)port, &c->env);
	else if (write)
		pic_port_write(&c->pic, (uint16_t)port, (uint8_t)*val);
	else
		*val = pic_port_read(&c->pic, (uint16_t)port);
	if (!pit && bsp && pic_intr(&c->pic))
		wake(c, bsp); /* as pin_level: the PIC's output goes to the BSP */
	spin_unlock(&c->lock);
	return true;
}

/* MSR_KVM_PV_EOI_EN: disabled, or bit 0 and a 4-byte aligned GPA of the guest's RAM (as KVM). */
static bool pv_eoi_msr(struct vcpu *v, uint64_t *val, bool write)
{
	uint8_t probe;

	if (!vcpu_pv_has(v, KVM_FEATURE_PV_EOI))
		return false;
	if (!write)
		*val = v->pv_eoi;
	else if ((*val & 2) || ((*val & 1) && vcpu_read(v, *val & ~3ULL, &probe, 1)))
		return false;
	else
		v->pv_eoi = *val, v->irq_quiet = false; /* the next entry may offer */
	return true;
}

/* x2APIC, APIC base, TSC deadline, PV EOI MSRs: handled (true, *ok the result) or not ours. */
bool irqchip_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool host, bool *ok)
{
	static const uint16_t hv_regs[3] = {0xb0, 0x300, 0x80}; /* Hyper-V's EOI, ICR, TPR */
	struct irqchip *c = v->vm->irqchip;
	bool hv = v->hv_apic && msr - HV_MSR_EOI < 3;

	if (msr == MSR_PV_EOI && v->vm->kvm_rules)
		return *ok = pv_eoi_msr(v, val, write), true;
	if (!c || !v->lapic || !(msr == MSR_APICB || msr == MSR_TSC_DL || (msr >> 8) == 8 || hv))
		return false;
	chip_lock_own(c, v);
	if (msr == MSR_APICB)
		*ok = write ? !vlapic_set_base(v->lapic, *val,
					       vcpu_cpuid_has(v, 1, 2, CPUID_X2APIC), host)
			    : (*val = v->lapic->apic_base, true);
	else if (msr == MSR_TSC_DL && write)
		vlapic_set_tsc_deadline(v->lapic, *val,
					*val ? tsc_to_ns(*val - vmread(VMCS_TSC_OFFSET) - c->tsc0)
					     : 0),
			*ok = true;
	else if (msr == MSR_TSC_DL)
		*val = vlapic_get_tsc_deadline(v->lapic), *ok = true;
	else
		c->eoi_from = v,
		*ok = !(hv ? vlapic_hv_msr(v->lapic, hv_regs[msr - HV_MSR_EOI], val, write, &c->env)
			: write ? vlapic_msr_write(v->lapic, msr, *val, &c->env)
				: vlapic_msr_read(v->lapic, msr, val, &c->env)),
		c->eoi_from = NULL;
	spin_unlock(&c->lock);
	return true;
}

/* The local APIC's version as KVM's: the CMCI LVT with MCG_CAP's CMCI_P; directed EOI with
 * x2APIC in CPUID and the IOAPIC in user space (split) */
void irqchip_lapic_version(struct vcpu *v)
{
	bool cmci = v->mcg_cap >> 10 & 1, x2 = vcpu_cpuid_has(v, 1, 2, 1u << 21);

	if (v->lapic)
		vlapic_set_version(v->lapic,
				   0x50014 | cmci << 16 | (x2 && v->vm->irqchip->split) << 24);
}

/* A corrected error signalled to the guest (KVM_X86_SET_MCE's UCNA): its CMCI LVT fires. */
void irqchip_cmci(struct vcpu *v)
{
	struct irqchip *c = v->vm->irqchip;

	if (!c || !v->lapic)
		return;
	chip_lock_own(c, v);
	vlapic_local_irq(v->lapic, 0x2f0, &c->env);
	spin_unlock(&c->lock);
}

/* ---- creation ---- */

/*
 * The controllers (a split irqchip: the local APICs only), hooked where the guest reaches them:
 * all the hooks or none, so a failure leaves no irqchip behind.
 */
static int chip_create(struct vm *vm, bool split, uint32_t ioapic_pins)
{
	struct irqchip *c = mem_alloc(sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	*c = (struct irqchip){
		.vm = vm, .tsc0 = rdtsc(), .split = split, .ioapic_pins = ioapic_pins};
	c->env = (struct irq_env){c, irqchip_now_ns, deliver, eoi, set_irq, ack};
	pic_reset(&c->pic);
	ioapic_reset(&c->ioapic, IOAPIC_DEFAULT_BASE);
	if (!split)
		default_routes(c); /* split: none, as KVM's */
	const struct io_hook pics[] = {{0x20, 2, chip_pio, c},
				       {0xa0, 2, chip_pio, c},
				       {0x4d0, 2, chip_pio, c}},
			     mmio[] = {{VLAPIC_DEFAULT_BASE, LAPIC_SIZE, chip_mmio, c},
				       {IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, chip_mmio, c}};
	rc = vm_add_hooks(vm, pics, split ? 0 : 3, mmio, split ? 1 : 2);
	if (rc)
		mem_free(c, sizeof(*c));
	else
		vm->irqchip = c;
	return rc;
}

/* KVM_CREATE_IRQCHIP (split false) or KVM_CAP_SPLIT_IRQCHIP, KVM's checks in KVM's order. */
static int irqchip_create(struct vm *vm, bool split, uint64_t ioapic_pins)
{
	if (split && ioapic_pins > 4096) /* KVM_MAX_IRQ_ROUTES */
		return -EINVAL;
	if (vm->irqchip && !split)
		return vm->irqchip->split ? -EBUSY : -EEXIST;
	if (vm->irqchip || vm->nvcpus)
		return split ? -EEXIST : -EINVAL; /* before the first vCPU */
	return chip_create(vm, split, (uint32_t)ioapic_pins);
}

static int pit_create(struct vm *vm)
{
	struct irqchip *c = vm->irqchip;
	int rc;

	if (!c)
		return -ENOENT;
	if (c->has_pit)
		return -EEXIST;
	chip_lock(c);
	pit_reset(&c->pit, &c->env);
	spin_unlock(&c->lock);
	rc = vm_add_hooks(vm,
			  (const struct io_hook[]){{0x40, 4, chip_pio, c}, {0x61, 1, chip_pio, c}},
			  2, NULL, 0);
	c->has_pit = !rc;
	return rc;
}

/* One creation at a time per VM (dom0's CPUs may race). */
int vm_irqchip_create(struct vm *vm, enum irqchip_kind kind, uint64_t ioapic_pins)
{
	int rc;

	spin_lock(&vm->create_lock);
	rc = kind == IRQCHIP_PIT ? pit_create(vm)
				 : irqchip_create(vm, kind == IRQCHIP_SPLIT, ioapic_pins);
	spin_unlock(&vm->create_lock);
	return rc;
}

void vm_irqchip_free(struct vm *vm)
{
	mem_free(vm->irqchip, sizeof(struct irqchip));
	vm->irqchip = NULL;
}

/* A new vCPU of a VM with an irqchip gets its local APIC (vCPU 0 is the BSP). */
int irqchip_vcpu_init(struct vcpu *v)
{
	if (!v->vm->irqchip)
		return 0;
	v->lapic = mem_alloc(sizeof(struct vlapic));
	if (!v->lapic)
		return -ENOMEM;
	vlapic_reset(v->lapic, v->id, v->id == v->vm->bsp_id, lint0_quirk(v));
	irqchip_lapic_version(v);
	v->wait_sipi = v->mp_uninit = v->id != v->vm->bsp_id; /* APs wait for INIT and SIPI */
	return 0;
}

void irqchip_vcpu_free(struct vcpu *v)
{
	mem_free(v->lapic, sizeof(struct vlapic));
	v->lapic = NULL;
}

/* ---- lines from dom0 ---- */

/* KVM_IRQ_LINE: 1 (delivered or coalesced is not tracked). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level, uint64_t *wake_mask)
{
	struct irqchip *c = vm->irqchip;

	if (!c)
		return -ENXIO;
	chip_lock(c); /* a GSI without routes raises nothing, as in KVM */
	gsi_level(c, SRC_USER, gsi, level);
	*wake_mask = c->wake;
	c->wake = 0;
	spin_unlock(&c->lock);
	return 1;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint64_t *wake_mask)
{
	struct irqchip *c = vm->irqchip;
	struct apic_msg m;

	if (!c)
		return -ENXIO;
	if (!msi_to_msg(addr, data, &m))
		return -EINVAL;
	chip_lock(c);
	deliver(c, &m);
	*wake_mask = c->wake;
	c->wake = 0;
	spin_unlock(&c->lock);
	return 1;
}
