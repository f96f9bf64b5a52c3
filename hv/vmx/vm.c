/* VM objects: EPT, I/O and MSR bitmaps, VPIDs, and guest-physical memory access. */
#include "../lib/errno.h"
#include "../platform/lapic.h"
#include "../platform/mm.h"
#include "../platform/percpu.h"
#include "../platform/tsc.h"
#include "../platform/x86.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

#define VPID_MAX 0xffff

static uint64_t vpid_bitmap[(VPID_MAX + 1) / 64];
static spinlock_t vpid_lock;

/* VPID 0 is the host's; guests get 1..65535. Returns 0 when all are in use. */
uint16_t vpid_alloc(void)
{
	uint16_t id = 0;

	spin_lock(&vpid_lock);
	for (unsigned i = 1; i <= VPID_MAX && !id; i++)
		if (!(vpid_bitmap[i / 64] & (1ULL << (i % 64)))) {
			vpid_bitmap[i / 64] |= 1ULL << (i % 64);
			id = (uint16_t)i;
		}
	spin_unlock(&vpid_lock);
	return id;
}

void vpid_free(uint16_t id)
{
	spin_lock(&vpid_lock);
	vpid_bitmap[id / 64] &= ~(1ULL << (id % 64));
	spin_unlock(&vpid_lock);
}

static uint64_t ept_alloc(void *ctx __unused)
{
	void *table = mem_alloc(PAGE_SIZE);

	return table ? virt_to_phys(table) : 0;
}

static void ept_free(void *ctx __unused, uint64_t pa)
{
	frame_free(&hv_frames, pa);
}

static void *ept_virt(void *ctx __unused, uint64_t pa)
{
	return phys_to_virt(pa);
}

static const struct ept_ops ept_ops = {ept_alloc, ept_free, ept_virt, NULL};

/* Bitmap frames filled with `fill` (0xff: every port or MSR access exits). */
static uint64_t bitmap_alloc(unsigned pages, uint8_t fill)
{
	uint64_t pa = frames_alloc_contig(&hv_frames, pages, 1);

	if (pa)
		__builtin_memset(phys_to_virt(pa), fill, pages * PAGE_SIZE);
	return pa;
}

/* A guest traps every port and MSR; dom0 only what vm_msr_intercept and its hooks ask for. */
struct vm *vm_create(enum vm_kind kind)
{
	struct vm *vm = mem_alloc(sizeof(*vm));
	uint8_t fill = kind == VM_GUEST ? 0xff : 0;

	if (!vm)
		return NULL;
	vm->kind = kind;
	vm->io_bitmap = bitmap_alloc(2, fill);
	vm->msr_bitmap = bitmap_alloc(1, fill);
	if (kind == VM_GUEST) /* its own roots (vcpu_eptp); dom0 has no SMM */
		vm->low_root = ept_alloc(NULL), vm->smm_root = ept_alloc(NULL);
	if (!vm->io_bitmap || !vm->msr_bitmap ||
	    (kind == VM_GUEST && !(vm->low_root && vm->smm_root)) ||
	    ept_init(&vm->ept, &ept_ops, vmx_caps.ept_1g ? 3 : 1 + vmx_caps.ept_2m)) {
		vm_destroy(vm);
		return NULL;
	}
	vm->eptp = ept_pointer(&vm->ept) - vm->ept.root + (vm->low_root ?: vm->ept.root);
	return vm;
}

void vm_set_kvm_rules(struct vm *vm, uint64_t realtime)
{
	vm->kvm_rules = true;
	vm_set_clock(vm, 0, realtime); /* kvmclock starts at 0, as KVM's */
	vm->tsc_offset = -rdtsc();     /* as KVM: the guest's TSC starts at 0 */
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vcpu_destroy(vm->vcpus[i]);
	vm_dirty_free(vm);
	vm_irqchip_free(vm);
	vm_msr_filter_free(vm);
	if (vm->ept.root) {
		vm_invept(vm);
		ept_destroy(&vm->ept);
	}
	if (vm->smm_root)
		frame_free(&hv_frames, vm->smm_root);
	if (vm->low_root)
		frame_free(&hv_frames, vm->low_root);
	if (vm->io_bitmap)
		frames_free_contig(&hv_frames, vm->io_bitmap, 2);
	if (vm->msr_bitmap)
		frame_free(&hv_frames, vm->msr_bitmap);
	mem_free(vm, sizeof(*vm));
}

static void bitmap_set(uint8_t *map, uint32_t bit, bool on)
{
	map[bit / 8] = (uint8_t)((map[bit / 8] & ~(1u << (bit % 8))) | (unsigned)on << (bit % 8));
}

/* MSR bitmap layout: read low, read high, write low, write high; 1 KiB each. */
void vm_msr_intercept(struct vm *vm, uint32_t msr, bool read, bool write)
{
	uint8_t *map = phys_to_virt(vm->msr_bitmap);
	uint32_t idx = msr & 0x1fff, hi = msr >= 0xc0000000 ? 1024 : 0;

	if ((msr & ~0x1fffu) != 0 && (msr & ~0x1fffu) != 0xc0000000)
		return; /* outside both ranges: such MSRs always exit */
	bitmap_set(map + hi, idx, read);
	bitmap_set(map + 2048 + hi, idx, write);
}

/* A port range a hook handles must exit: set its bits in the I/O bitmap. */
static void io_intercept(struct vm *vm, uint64_t base, uint64_t len)
{
	uint8_t *map = phys_to_virt(vm->io_bitmap);

	for (uint64_t p = base; p < base + len && p <= 0xffff; p++)
		bitmap_set(map, (uint32_t)p, true);
}

/* Whether k new hooks fit beside the n a table has: -EINVAL, -EEXIST (overlaps), -ENOSPC. */
static int hooks_fit(const struct io_hook *arr, unsigned n, const struct io_hook *h, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		if (!h[i].len || h[i].base + h[i].len < h[i].base)
			return -EINVAL;
		for (unsigned j = 0; j < n + i; j++) {
			const struct io_hook *o = j < n ? &arr[j] : &h[j - n];

			if (h[i].base < o->base + o->len && o->base < h[i].base + h[i].len)
				return -EEXIST;
		}
	}
	return n + k > VM_MAX_HOOKS ? -ENOSPC : 0;
}

/* vCPUs may be looking hooks up meanwhile: an entry is complete before the count shows it. */
static void hooks_add(struct io_hook *arr, unsigned *n, const struct io_hook *h, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		arr[*n] = h[i];
		__atomic_store_n(n, *n + 1, __ATOMIC_RELEASE);
	}
}

int vm_add_hooks(struct vm *vm, const struct io_hook *pio, unsigned np, const struct io_hook *mmio,
		 unsigned nm)
{
	int rc;

	spin_lock(&vm->lock);
	rc = hooks_fit(vm->pio, vm->npio, pio, np);
	if (!rc)
		rc = hooks_fit(vm->mmio, vm->nmmio, mmio, nm);
	if (!rc) {
		hooks_add(vm->pio, &vm->npio, pio, np);
		hooks_add(vm->mmio, &vm->nmmio, mmio, nm);
	}
	spin_unlock(&vm->lock);
	for (unsigned i = 0; i < np && !rc; i++)
		io_intercept(vm, pio[i].base, pio[i].len);
	return rc;
}

/*
 * After a guest VM's mappings shrank (ept_gen bumped, its lock released): every vCPU in guest
 * mode on another CPU that has not flushed since is kicked out with an IPI, and waited for. Once
 * this returns, no CPU reaches through the VM what the change took away. dom0's EPT changes
 * only before dom0 runs.
 */
void vm_shootdown(struct vm *vm)
{
	uint64_t gen;
	int me = (int)this_cpu()->index;

	if (vm->kind != VM_GUEST)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the bump before the look at guest_cpu */
	gen = vm->ept_gen;
	for (unsigned pass = 0; pass < 2; pass++) /* kick them all, then wait for each */
		for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
			struct vcpu *v = vm->vcpus[i];
			int cpu;

			while (v && (cpu = __atomic_load_n(&v->guest_cpu, __ATOMIC_SEQ_CST)) >= 0 &&
			       cpu != me &&
			       __atomic_load_n(&v->flushed_gen, __ATOMIC_ACQUIRE) < gen) {
				if (!pass) {
					lapic_send_ipi(cpus[cpu]->apic_id, ICR_FIXED | KICK_VECTOR);
					break;
				}
				cpu_relax();
			}
		}
}

_Static_assert(VM_R == EPT_R && VM_W == EPT_W && VM_X == EPT_X, "one encoding of protections");

/* A mapping made, or (unmap) taken away; then no CPU keeps a translation the change replaced. */
static int ept_change(struct vm *vm, bool unmap, uint64_t gpa, uint64_t hpa, uint64_t size,
		      unsigned prot, unsigned memtype)
{
	int rc;

	spin_lock(&vm->lock);
	rc = !size   ? 0 /* a flush alone */
	     : unmap ? ept_unmap(&vm->ept, gpa, size)
		     : ept_map(&vm->ept, gpa, hpa, size, prot & VM_RWX, memtype);
	if (!rc && size && !unmap)
		dirty_protect_mapped(vm, gpa, size);
	vm->ept_gen++; /* a replaced mapping must not live on in a TLB */
	spin_unlock(&vm->lock);
	vm_shootdown(vm);
	return rc;
}

int vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot)
{
	return ept_change(vm, false, gpa, hpa, size, prot, EPT_MT_WB);
}

int vm_map_mmio(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot)
{
	return ept_change(vm, false, gpa, hpa, size, prot, EPT_MT_UC);
}

_Static_assert(VM_GPA_LIMIT == EPT_GPA_LIMIT, "one limit");

int vm_unmap(struct vm *vm, uint64_t gpa, uint64_t size)
{
	return ept_change(vm, true, gpa, 0, size, 0, 0);
}

int vm_gpa_to_hpa(struct vm *vm, uint64_t gpa, uint64_t *hpa)
{
	struct ept_leaf leaf;

	if (ept_translate(&vm->ept, gpa, &leaf))
		return -ENOENT;
	*hpa = leaf.hpa | (gpa & 0xfff);
	return 0;
}

/*
 * Copies page by page through the direct map; only RAM the VM really has is touched, and it is
 * written as the guest could: a read-only page is not (ROM), a logged one is marked dirty.
 */
static int vm_copy(struct vm *vm, uint64_t gpa, void *buf, size_t len, bool to_guest,
		   uint64_t *miss)
{
	uint8_t *p = buf;

	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa & 0xfff));
		struct ept_leaf leaf;
		uint64_t hpa;

		*miss = gpa; /* not mapped (or not writable): dom0 may not have faulted it in yet */
		if (ept_translate(&vm->ept, gpa, &leaf) ||
		    (to_guest && !(leaf.prot & EPT_W) && !dirty_write_fault(vm, gpa)))
			return -ENOENT;
		hpa = leaf.hpa | (gpa & 0xfff);
		if (hpa >= direct_map_end())
			return -EFAULT;
		if (to_guest)
			__builtin_memcpy(phys_to_virt(hpa), p, chunk);
		else
			__builtin_memcpy(p, phys_to_virt(hpa), chunk);
		gpa += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * A guest's EPT roots each reach one half of its tables' (HV_GPA_SMM selects the half): the
 * low for address space 0, the high for SMM. Their entries are copied when the tables' grew.
 */
uint64_t vcpu_eptp(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t *top = phys_to_virt(vm->ept.root);

	if (vm->low_root && vm->top_synced != vm->ept.top_adds) {
		vm->top_synced = vm->ept.top_adds;
		__builtin_memcpy(phys_to_virt(vm->low_root), top, 256 * sizeof(*top));
		__builtin_memcpy(phys_to_virt(vm->smm_root), top + 256, 256 * sizeof(*top));
	}
	return v->smm ? vm->smm_root | (vm->eptp & 0xfff) : vm->eptp;
}

void vm_invept(struct vm *vm)
{
	invept(INVEPT_SINGLE, vm->eptp);
	if (vm->smm_root)
		invept(INVEPT_SINGLE, vm->smm_root | (vm->eptp & 0xfff));
}

/* A page dom0 has not faulted in is asked for (need_page); one it said is none just fails. */
static int vcpu_copy(struct vcpu *v, uint64_t gpa, void *buf, size_t len, bool write)
{
	uint64_t miss;
	int rc = vm_copy(v->vm, gpa | (v->smm ? HV_GPA_SMM : 0), buf, len, write, &miss);

	if (rc == -ENOENT && v->vm->kvm_rules && (miss ^ v->no_page) >> 12)
		v->need_page = (miss & ~0xfffULL) | 1 | (uint64_t)write << 1;
	return rc ? -EFAULT : 0;
}

int vcpu_read(struct vcpu *v, uint64_t gpa, void *buf, size_t len)
{
	return vcpu_copy(v, gpa, buf, len, false);
}

int vcpu_write(struct vcpu *v, uint64_t gpa, const void *buf, size_t len)
{
	return vcpu_copy(v, gpa, (void *)(uintptr_t)buf, len, true);
}

int vm_read(struct vm *vm, uint64_t gpa, void *buf, size_t len)
{
	uint64_t miss;

	return vm_copy(vm, gpa, buf, len, false, &miss) ? -EFAULT : 0;
}

int vm_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	uint64_t miss;

	return vm_copy(vm, gpa, (void *)(uintptr_t)buf, len, true, &miss) ? -EFAULT : 0;
}

struct vcpu *vm_get_vcpu(struct vm *vm, uint64_t id)
{
	return id < VM_MAX_VCPUS ? vm->vcpus[id] : NULL;
}
