/*
 * Port I/O exits: decode port, size, direction and string/REP form; hand the access to the
 * caller; complete it on the next run. String forms go through the guest's own segments and
 * page tables, faulting where the CPU would; a REP form moves as many elements per exit as stay
 * in the guest page of the first (and fit the caller's buffer), as KVM batches them.
 */
#include "../platform/x86.h"
#include "../../compat/kvmabi/hvabi.h"
#include "insn.h"
#include "vmx_vm.h"

#define QUAL_SIZE(q)   (((q)&7) + 1)
#define QUAL_IN(q)     (((q) >> 3) & 1)
#define QUAL_STRING(q) (((q) >> 4) & 1)
#define QUAL_REP(q)    (((q) >> 5) & 1)
#define QUAL_PORT(q)   ((uint16_t)((q) >> 16))

/* Address-size mask from the VM-exit instruction information of INS/OUTS (0: 16-bit, 1: 32). */
static uint64_t addr_mask(uint32_t info)
{
	return x86_size_mask(2u << ((info >> 7) & 7));
}

/* Guest linear address of the string element: OUTS uses seg:RSI (override allowed), INS ES:RDI. */
static uint64_t string_gla(struct vcpu *v, bool in, uint32_t info)
{
	unsigned seg = in ? 0 : (info >> 15) & 7;
	uint64_t off = v->gprs.r[in ? GPR_RDI : GPR_RSI] & addr_mask(info);

	return vmread(VMCS_SEG_BASE(seg)) + off;
}

static int string_gpa(struct vcpu *v, bool in, uint32_t info, uint64_t *gpa)
{
	return gva_to_gpa_or_pf(v, string_gla(v, in, info), in, gpa);
}

/* Elements this exit moves: one, or for a forward REP all that stay in the first's page. */
static unsigned batch(struct vcpu *v, const struct vm_exit *x, uint32_t info)
{
	uint64_t gla = string_gla(v, x->io.in, info), n = (4096 - (gla & 0xfff)) / x->io.size;

	if (!x->io.rep || !x->strdata || (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) || !n)
		return 1;
	n = MIN(n, v->gprs.r[GPR_RCX] & addr_mask(info));
	return (unsigned)MIN(n, (uint64_t)(HV_IO_DATA_MAX / x->io.size));
}

/* A port an in-hypervisor hook owns: completed here (a refused access reads all ones). */
static int hooked_io(struct vcpu *v, const struct io_hook *h, struct vm_exit *x)
{
	uint64_t val = x->io.in ? ~0ULL : v->gprs.r[GPR_RAX] & x86_size_mask(x->io.size);

	h->access(h->ctx, v, x->io.port, x->io.size, &val, !x->io.in);
	if (x->io.in)
		x86_write_sized(&v->gprs.r[GPR_RAX], x->io.size, val);
	return vcpu_skip_insn(v);
}

int handle_io(struct vcpu *v, struct vm_exit *x)
{
	const struct io_hook *h;
	uint64_t q = x->qual, gpa;
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
	unsigned size = QUAL_SIZE(q);

	x->io.port = QUAL_PORT(q);
	x->io.size = (uint8_t)size;
	x->io.in = QUAL_IN(q);
	x->io.string = QUAL_STRING(q);
	x->io.rep = QUAL_REP(q);
	if (!x->io.string && (h = find_hook(v->vm->pio, &v->vm->npio, x->io.port, size)))
		return hooked_io(v, h, x);
	if (x->io.rep && !(v->gprs.r[GPR_RCX] & addr_mask(info)))
		return vcpu_skip_insn(v); /* REP with a zero count does nothing */
	if (x->io.string && string_gpa(v, x->io.in, info, &gpa)) {
		if (!v->exc.valid) { /* the guest's page tables are not in its RAM */
			x->fail.code = EXIT_REASON_IO;
			return exit_to_caller(x, VMEXIT_INTERNAL);
		}
		return EXIT_RESUME; /* #PF queued */
	}
	x->io.count = (uint16_t)(x->io.string ? batch(v, x, info) : 1);
	if (!x->io.in) {
		uint64_t d = x->io.string ? 0 : v->gprs.r[GPR_RAX];
		if (x->io.string)
			vcpu_read(v, gpa, &d, size);
		x->io.data = d & x86_size_mask(size);
		if (x->io.string && x->strdata)
			vcpu_read(v, gpa, x->strdata, x->io.count * size);
	}
	v->io_count = x->io.count;
	v->io_pending = true;
	v->io_qual = q;
	v->io_insn_info = info;
	/* as KVM: RIP stays at the instruction until it completes, but for an OUT to port 0x7e
	 * (KVM_X86_QUIRK_OUT_7E_INC_RIP, which QEMU's vapic ROM counts on) */
	v->io_insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
	if (!x->io.in && !x->io.string && x->io.port == 0x7e &&
	    vm_quirk(v->vm, QUIRK_OUT_7E_INC_RIP)) {
		vcpu_skip_insn(v);
		v->io_insn_len = 0;
	}
	return exit_to_caller(x, VMEXIT_IO);
}

/* Finishes the access the caller answered: IN data, pointer and count updates, RIP (VMCS loaded).
 */
void io_complete(struct vcpu *v, const struct vm_exit *x)
{
	uint64_t q = v->io_qual, gpa, mask = addr_mask(v->io_insn_info);
	unsigned size = QUAL_SIZE(q), reg = QUAL_IN(q) ? GPR_RDI : GPR_RSI;
	bool again = false;

	v->io_pending = false;
	if (QUAL_STRING(q)) {
		int64_t step = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : size;
		/* the count may have changed since the exit (KVM_SET_REGS): never more than it */
		uint64_t n = QUAL_REP(q) ? MIN(v->io_count, v->gprs.r[GPR_RCX] & mask) : 1;
		const void *in = v->io_count > 1 ? x->strdata : (void *)&x->answer;
		if (!in)
			n = MIN(n, 1), in = &x->answer;
		if (QUAL_IN(q) && n && !string_gpa(v, true, v->io_insn_info, &gpa) &&
		    vcpu_write(v, gpa, in, n * size) && v->need_page) {
			v->io_pending = true; /* completes once dom0 has mapped the page */
			return;
		}
		v->gprs.r[reg] =
			(v->gprs.r[reg] & ~mask) | ((v->gprs.r[reg] + step * (int64_t)n) & mask);
		if (QUAL_REP(q)) {
			uint64_t rcx = (v->gprs.r[GPR_RCX] - n) & mask;
			v->gprs.r[GPR_RCX] = (v->gprs.r[GPR_RCX] & ~mask) | rcx;
			/* the CPU re-executes the instruction for the next elements */
			again = rcx != 0;
		}
	} else if (QUAL_IN(q)) {
		x86_write_sized(&v->gprs.r[GPR_RAX], size, x->answer);
	}
	if (!again && v->io_insn_len)
		vcpu_skip_insn(v); /* the I/O exit's length: no VM entry since */
}
