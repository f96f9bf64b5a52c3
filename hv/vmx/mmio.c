/*
 * MMIO accesses to ranges an in-hypervisor hook owns: fetch the instruction through the
 * guest's paging, decode it (x86dec.c), perform it through the hook, advance RIP. A string
 * instruction (STOS, MOVS) moves one element per exit: its pointers and count step, and under
 * REP it re-executes until RCX runs out, elements in RAM at native speed.
 */
#include "../platform/x86.h"
#include "../lib/log.h"
#include "x86dec.h"
#include "insn.h"
#include "vmx_vm.h"

const struct io_hook *find_hook(const struct io_hook *h, const unsigned *count, uint64_t addr,
				unsigned size)
{
	unsigned n = __atomic_load_n(count, __ATOMIC_ACQUIRE); /* see add_hook */

	for (unsigned i = 0; i < n; i++)
		if (addr >= h[i].base && addr - h[i].base < h[i].len &&
		    size <= h[i].len - (addr - h[i].base))
			return &h[i];
	return NULL;
}

/*
 * Reads up to 15 instruction bytes at CS:RIP; returns how many could be read. (The CPU fetched
 * the instruction: past its page the read goes beyond it, so a page missing there is no need.)
 */
size_t vcpu_fetch(struct vcpu *v, uint8_t *buf)
{
	uint64_t lin = vmread(VMCS_SEG_BASE(1)) + vmread(VMCS_GUEST_RIP);
	size_t got = 0;

	while (got < X86_MAX_INSN) {
		uint64_t gpa;
		uint32_t pf;
		size_t chunk = MIN((size_t)X86_MAX_INSN - got, 4096 - ((lin + got) & 0xfff));
		if (gva_to_gpa(v, lin + got, false, &gpa, &pf) ||
		    vcpu_read(v, gpa, buf + got, chunk)) {
			v->need_page = got ? 0 : v->need_page;
			break;
		}
		got += chunk;
	}
	return got;
}

/*
 * One element done: the pointers (and RCX under REP) step in the address size, as the CPU
 * updates them; true when the instruction is over.
 */
static bool string_step(const struct x86_insn *in, uint64_t *r)
{
	uint64_t d =
		(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(uint64_t)in->mem_size : in->mem_size;

	x86_write_sized(&r[GPR_RDI], in->addr_size, r[GPR_RDI] + d);
	if (in->op == X86_MOVS)
		x86_write_sized(&r[GPR_RSI], in->addr_size, r[GPR_RSI] + d);
	if (in->rep)
		x86_write_sized(&r[GPR_RCX], in->addr_size, r[GPR_RCX] - 1);
	return !in->rep || !(r[GPR_RCX] & x86_size_mask(in->addr_size));
}

/*
 * MOVS's operand in RAM: the source read when the destination is MMIO (to_mmio), else the
 * destination written with what the MMIO source gave. 0, 1 with a #PF queued, -1 not RAM.
 */
static int movs_ram(struct vcpu *v, const struct x86_insn *in, const uint64_t *r, bool to_mmio,
		    uint64_t *val)
{
	unsigned seg = to_mmio ? in->seg : 0; /* ES, CS, SS and DS are flat in 64-bit mode */
	uint64_t lin = (vcpu_mode() == X86_MODE64 && seg < 4 ? 0 : vmread(VMCS_SEG_BASE(seg))) +
		       (r[to_mmio ? GPR_RSI : GPR_RDI] & x86_size_mask(in->addr_size)),
		 gpa;
	uint32_t err;
	int rc = to_mmio ? gva_to_gpa(v, lin, false, &gpa, &err)
			 : gva_to_gpa_or_pf(v, lin, true, &gpa);

	if (!rc && (to_mmio ? vcpu_read(v, gpa, val, in->mem_size)
			    : vcpu_write(v, gpa, val, in->mem_size)))
		rc = -1;
	return rc;
}

static void regs_get(struct vcpu *v, uint64_t *regs)
{
	__builtin_memcpy(regs, v->gprs.r, sizeof(v->gprs.r));
	regs[GPR_RSP] = vmread(VMCS_GUEST_RSP);
}

static void regs_put(struct vcpu *v, const uint64_t *regs, uint64_t rflags)
{
	__builtin_memcpy(v->gprs.r, regs, sizeof(v->gprs.r));
	vmwrite(VMCS_GUEST_RSP, regs[GPR_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
}

/* Carries out one decoded access; false when the hook refused it. */
static bool perform(struct vcpu *v, const struct io_hook *h, uint64_t gpa,
		    const struct x86_insn *in, uint64_t *regs, uint64_t *rflags, bool write)
{
	uint64_t val = 0, reg = x86_reg_read(regs, in, in->mem_size),
		 imm = in->imm & x86_size_mask(in->mem_size);

	switch (in->op) {
	case X86_STORE_REG:
	case X86_STOS:
		return h->access(h->ctx, v, gpa, in->mem_size, &reg, true);
	case X86_MOVS:
		if (write)
			return !movs_ram(v, in, regs, true, &val) &&
			       h->access(h->ctx, v, gpa, in->mem_size, &val, true);
		return h->access(h->ctx, v, gpa, in->mem_size, &val, false) &&
		       !movs_ram(v, in, regs, false, &val);
	case X86_STORE_IMM:
		return h->access(h->ctx, v, gpa, in->mem_size, &imm, true);
	default: /* a read, and for XCHG and read-modify-write forms a write after */
		return h->access(h->ctx, v, gpa, in->mem_size, &val, false) &&
		       (!x86_finish_read(in, regs, rflags, val, &val) ||
			h->access(h->ctx, v, gpa, in->mem_size, &val, true));
	}
}

_Static_assert(sizeof(struct x86_insn) <= sizeof(((struct vcpu *)0)->mmio_insn), "insn fits");

/* An instruction not decoded: the caller gets an emulation failure with its bytes. */
static int not_decoded(const uint8_t *bytes, size_t n, struct vm_exit *x)
{
	x->mem.len = 0;
	x->mem.insn_len = x->strdata ? (uint8_t)n : 0;
	if (x->strdata)
		__builtin_memcpy(x->strdata, bytes, n);
	return EXIT_TO_CALLER;
}

/*
 * A guest page walk reached an address over the vCPU's smaller MAXPHYADDR: on such a CPU those
 * bits are reserved, so the access takes #PF with RSVD. As in KVM, whose emulator finds that
 * fault, an instruction that cannot be decoded is an emulation failure for the caller instead.
 */
int mmio_reserved_gpa(struct vcpu *v, struct vm_exit *x)
{
	uint8_t bytes[X86_MAX_INSN];
	size_t n = x->mem.fetch ? 0 : vcpu_fetch(v, bytes);
	struct x86_insn in;

	if (!x->mem.fetch && x86_decode(bytes, n, vcpu_mode(), &in))
		return not_decoded(bytes, n, x);
	vcpu_inject_pf(v, x->mem.gla,
		       PF_P | PF_RSVD | (x->mem.write ? PF_W : 0) | (x->mem.fetch ? PF_FETCH : 0) |
			       (vcpu_cpl() == 3 ? PF_U : 0));
	return EXIT_RESUME;
}

/*
 * An access to memory the VM does not have, for the caller (KVM's user space) to perform:
 * decoded here so that x->mem says how many bytes and, for a write, which value. The
 * instruction completes on the next run with the caller's answer for a read.
 */
int mmio_to_caller(struct vcpu *v, struct vm_exit *x)
{
	uint8_t bytes[X86_MAX_INSN];
	size_t n = vcpu_fetch(v, bytes);
	struct x86_insn in;
	uint64_t regs[16];

	v->mmio_exits++;

	x->kind = VMEXIT_MMIO;
	if (x86_decode(bytes, n, vcpu_mode(), &in))
		return not_decoded(bytes, n, x);
	regs_get(v, regs);
	if (in.op != X86_MOVS) /* MOVS: the EPT violation said which side is MMIO */
		x->mem.write =
			in.op == X86_STORE_REG || in.op == X86_STORE_IMM || in.op == X86_STOS;
	x->mem.read = !x->mem.write;
	if (x->mem.write && in.op == X86_MOVS && movs_ram(v, &in, regs, true, &x->mem.data))
		return EXIT_TO_CALLER; /* the source is not RAM either: not emulated */
	x->mem.len = in.mem_size;
	if (in.op == X86_STORE_REG || in.op == X86_STOS)
		x->mem.data = x86_reg_read(regs, &in, in.mem_size);
	else if (in.op == X86_STORE_IMM)
		x->mem.data = in.imm & x86_size_mask(in.mem_size);
	v->mmio_write = x->mem.write;
	v->mmio_gpa = x->mem.gpa;
	__builtin_memcpy(v->mmio_insn, &in, sizeof(in));
	v->mmio_pending = true;
	return EXIT_TO_CALLER;
}

void mmio_complete(struct vcpu *v, const struct vm_exit *x)
{
	struct x86_insn in;

	__builtin_memcpy(&in, v->mmio_insn, sizeof(in));
	v->mmio_pending = false;
	if (in.op == X86_STOS || in.op == X86_MOVS) {
		uint64_t val = x->answer;
		if (in.op == X86_MOVS && !v->mmio_write &&
		    movs_ram(v, &in, v->gprs.r, false, &val)) {
			v->mmio_pending =
				v->need_page; /* completes once dom0 has mapped the page */
			return; /* #PF queued, or MMIO to MMIO (not done): nothing steps */
		}
		if (string_step(&in, v->gprs.r))
			vcpu_advance_rip(in.len);
		return;
	}
	if (!v->mmio_write) { /* the caller's answer to the read completes it */
		uint64_t regs[16], rflags = vmread(VMCS_GUEST_RFLAGS);
		regs_get(v, regs);
		if (x86_finish_read(&in, regs, &rflags, x->answer, &v->mmio_wb))
			v->mmio_wb_len = in.mem_size;
		regs_put(v, regs, rflags);
	}
	vcpu_advance_rip(in.len);
}

/* The write half of a read-modify-write (or XCHG) to the caller's MMIO: its own exit, as KVM's. */
void mmio_writeback(struct vcpu *v, struct vm_exit *x)
{
	x->kind = VMEXIT_MMIO;
	x->mem.gpa = v->mmio_gpa;
	x->mem.write = true;
	x->mem.len = v->mmio_wb_len;
	x->mem.data = v->mmio_wb;
	v->mmio_wb_len = 0;
}

/* Returns EXIT_RESUME when done, or EXIT_TO_CALLER (kind MMIO) when it cannot be emulated. */
int emulate_mmio(struct vcpu *v, const struct io_hook *h, uint64_t gpa, struct vm_exit *x)
{
	uint8_t bytes[X86_MAX_INSN];
	size_t n = vcpu_fetch(v, bytes);
	uint64_t regs[16], rflags = vmread(VMCS_GUEST_RFLAGS);
	struct x86_insn in;

	regs_get(v, regs);
	if (x86_decode(bytes, n, vcpu_mode(), &in) ||
	    !find_hook(h, &(const unsigned){1}, gpa, in.mem_size)) {
		pr_warn("mmio: vCPU %u: cannot emulate the access to %#lx at RIP %#lx", v->id, gpa,
			vmread(VMCS_GUEST_RIP));
		return exit_to_caller(x, VMEXIT_MMIO);
	}
	if (!perform(v, h, gpa, &in, regs, &rflags, x->mem.write)) {
		if (!v->exc.valid)
			vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	if ((in.op != X86_STOS && in.op != X86_MOVS) || string_step(&in, regs))
		vcpu_advance_rip(in.len);
	regs_put(v, regs, rflags);
	return EXIT_RESUME;
}
