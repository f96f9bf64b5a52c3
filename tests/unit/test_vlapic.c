/* The local APIC model (hv/devices/vlapic*.c) through its API, with a fake clock and VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/vlapic.h"

#define ID   3
#define BASE 0xfee00000ULL
#define EN   VLAPIC_BASE_EN
#define EXTD VLAPIC_BASE_EXTD

/* The fake VM: a clock, and logs of delivered messages and EOIs. */
static uint64_t now_ns;
static struct apic_msg msgs[16];
static unsigned nmsgs;
static uint8_t eois[16];
static unsigned neois;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return now_ns;
}

static void fake_deliver(void *ctx, const struct apic_msg *m)
{
	(void)ctx;
	assert_true(nmsgs < 16);
	msgs[nmsgs++] = *m;
}

static void fake_eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	assert_true(neois < 16);
	eois[neois++] = vector;
}

static const struct irq_env env = {NULL, fake_now, fake_deliver, fake_eoi, NULL, NULL};
static struct vlapic L;

static int setup(void **state)
{
	(void)state;
	now_ns = 0;
	nmsgs = neois = 0;
	memset(&L, 0xa5, sizeof(L)); /* reset must define everything */
	vlapic_reset(&L, ID, true, false);
	return 0;
}

static uint32_t rd(uint32_t off)
{
	return vlapic_read(&L, off, &env);
}

static void wr(uint32_t off, uint32_t val)
{
	vlapic_write(&L, off, val, &env);
}

static uint64_t msr_rd(uint32_t msr)
{
	uint64_t v = 0xdead;

	assert_int_equal(vlapic_msr_read(&L, msr, &v, &env), 0);
	return v;
}

static uint32_t esr(void)
{
	wr(0x280, 0);
	return rd(0x280);
}

static void enable(void)
{
	wr(0xf0, 0x1ff);
}

static void assert_msg(const struct apic_msg *m, uint32_t dest, uint32_t source, uint8_t vector,
		       uint8_t delivery, uint8_t shorthand, bool logical, bool level, bool assert)
{
	assert_int_equal(m->dest, dest);
	assert_int_equal(m->source, source);
	assert_int_equal(m->vector, vector);
	assert_int_equal(m->delivery, delivery);
	assert_int_equal(m->shorthand, shorthand);
	assert_int_equal(m->logical, logical);
	assert_int_equal(m->level, level);
	assert_int_equal(m->assert, assert);
}

static void test_reset(void **state)
{
	static const uint32_t lvts[] = {0x2f0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370};

	(void)state;
	assert_int_equal(L.apic_base, BASE | EN | VLAPIC_BASE_BSP);
	assert_int_equal(vlapic_mode(&L), VLAPIC_XAPIC);
	assert_int_equal(rd(0x20), ID << 24);
	assert_int_equal(vlapic_id(&L), ID);
	assert_int_equal(rd(0x30), 0x00050014); /* six LVTs: no CMCI until MCG_CAP has it */
	vlapic_set_version(&L, 0x01060014);
	assert_int_equal(rd(0x30), 0x01060014);
	vlapic_set_version(&L, 0x00050014);
	assert_int_equal(rd(0xf0), 0xff);
	assert_int_equal(rd(0xe0), 0xffffffff);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(rd(lvts[i]), 0x10000);
	for (uint32_t off = 0x80; off < 0x3f0; off += 0x10)
		if (off != 0xe0 && off != 0xf0 && (off < 0x2f0 || off > 0x370))
			assert_int_equal(rd(off), 0);
	assert_int_equal(vlapic_pending(&L), -1);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	assert_false(vlapic_accepts_extint(&L)); /* LINT0 masked */
	vlapic_reset(&L, 7, false, false);
	assert_int_equal(L.apic_base, BASE | EN);
	assert_int_equal(rd(0x20), 0x07000000);
	vlapic_reset(&L, ID, true, true); /* KVM's LINT0_REENABLED quirk: LINT0 ExtINT */
	assert_int_equal(rd(0x350), 0x700);
	assert_int_equal(rd(0x360), 0x10000);
	vlapic_init_signal(&L, false);
	assert_int_equal(rd(0x350), 0x10000);
	vlapic_init_signal(&L, true);
	assert_int_equal(rd(0x350), 0x700);
}

static void test_register_masks(void **state)
{
	(void)state;
	wr(0x20, 0xffffffff);
	assert_int_equal(rd(0x20), 0xff000000);
	assert_int_equal(vlapic_id(&L), 0xff);
	wr(0x30, 0); /* read-only */
	assert_int_equal(rd(0x30), 0x00050014);
	wr(0xd0, 0x12345678);
	assert_int_equal(rd(0xd0), 0x12000000);
	wr(0xe0, 0);
	assert_int_equal(rd(0xe0), 0x0fffffff);
	wr(0xf0, 0xffffffff);
	assert_int_equal(rd(0xf0), 0x3ff);
	wr(0x320, 0xffffffff);
	assert_int_equal(rd(0x320), 0x700ff);
	wr(0x350, 0xffffffff);
	assert_int_equal(rd(0x350), 0x1a7ff);
	wr(0x370, 0xffffffff);
	assert_int_equal(rd(0x370), 0x100ff);
	wr(0x3e0, 0xffffffff);
	assert_int_equal(rd(0x3e0), 0xb);
	wr(0x310, 0x12345678);
	assert_int_equal(rd(0x310), 0x12000000);
	wr(0xb0, 0); /* EOI is write-only */
	assert_int_equal(rd(0xb0), 0);
	assert_int_equal(esr(), 0);
	assert_int_equal(rd(0x40), 0); /* reserved: ESR "illegal register address" */
	assert_int_equal(esr(), 0x80);
	wr(0x3f0, 1); /* SELF IPI is x2APIC only */
	assert_int_equal(esr(), 0x80);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(rd(0x54), 0); /* unaligned: ignored */
}

static void test_tpr_ppr(void **state)
{
	(void)state;
	enable();
	wr(0x80, 0x1234);
	assert_int_equal(rd(0x80), 0x34);
	assert_int_equal(rd(0xa0), 0x34);
	assert_true(vlapic_set_irr(&L, 0x51, false));
	assert_int_equal(vlapic_pending(&L), 0x51);
	vlapic_ack(&L, 0x51);
	assert_int_equal(rd(0xa0), 0x50); /* ISR class above TPR's */
	wr(0x80, 0x65);
	assert_int_equal(rd(0xa0), 0x65);
	wr(0x80, 0x5a);
	assert_int_equal(rd(0xa0), 0x5a); /* same class: TPR */
	wr(0x80, 0x4f);
	assert_int_equal(rd(0xa0), 0x50);
	wr(0xb0, 0);
	assert_int_equal(rd(0xa0), 0x4f);
	vlapic_set_irr(&L, 0x45, false);
	assert_int_equal(vlapic_pending(&L), -1); /* class 4 does not exceed PPR's */
	wr(0x80, 0x3f);
	assert_int_equal(vlapic_pending(&L), 0x45);
}

static void test_priority_nesting(void **state)
{
	(void)state;
	enable();
	vlapic_set_irr(&L, 0x30, false);
	vlapic_set_irr(&L, 0x80, false);
	assert_int_equal(rd(0x200 + 0x10), 1u << 16); /* IRR word 1 bit 16: vector 0x30 */
	assert_int_equal(rd(0x240), 1);
	assert_int_equal(vlapic_pending(&L), 0x80);
	vlapic_ack(&L, 0x80);
	assert_int_equal(rd(0x140), 1); /* ISR */
	assert_int_equal(rd(0x240), 0);
	assert_int_equal(vlapic_pending(&L), -1); /* 0x30 waits */
	vlapic_set_irr(&L, 0x81, false);
	assert_int_equal(vlapic_pending(&L), -1); /* same class waits */
	vlapic_set_irr(&L, 0x90, false);
	assert_int_equal(vlapic_pending(&L), 0x90); /* a higher class interrupts */
	vlapic_ack(&L, 0x90);
	assert_int_equal(rd(0xa0), 0x90);
	assert_int_equal(vlapic_pending(&L), -1);
	wr(0xb0, 0); /* ends 0x90 */
	assert_int_equal(rd(0x140), 1);
	assert_int_equal(vlapic_pending(&L), -1);
	wr(0xb0, 0); /* ends 0x80 */
	assert_int_equal(rd(0x140), 0);
	assert_int_equal(vlapic_pending(&L), 0x81);
	vlapic_ack(&L, 0x81);
	wr(0xb0, 0);
	assert_int_equal(vlapic_pending(&L), 0x30);
	vlapic_ack(&L, 0x30);
	wr(0xb0, 0);
	assert_int_equal(vlapic_pending(&L), -1);
	assert_int_equal(rd(0xa0), 0);
	wr(0xb0, 0); /* nothing in service: no effect */
	assert_int_equal(neois, 0);
}

static void test_eoi_level(void **state)
{
	(void)state;
	enable();
	assert_true(vlapic_set_irr(&L, 0x40, true));
	assert_int_equal(rd(0x180 + 0x20), 1); /* TMR */
	vlapic_ack(&L, 0x40);
	wr(0xb0, 0);
	assert_int_equal(neois, 1);
	assert_int_equal(eois[0], 0x40);
	vlapic_set_irr(&L, 0x40, false); /* now edge: TMR cleared */
	assert_int_equal(rd(0x1a0), 0);
	vlapic_ack(&L, 0x40);
	wr(0xb0, 0);
	assert_int_equal(neois, 1);
	/* nested: the EOI goes to the highest in service */
	vlapic_set_irr(&L, 0x50, true);
	vlapic_ack(&L, 0x50);
	vlapic_set_irr(&L, 0x70, false);
	vlapic_ack(&L, 0x70);
	wr(0xb0, 0);
	assert_int_equal(neois, 1);
	wr(0xb0, 0);
	assert_int_equal(neois, 2);
	assert_int_equal(eois[1], 0x50);
}

/* KVM's PV EOI may stand in for the EOI of an edge vector in service with nothing requested. */
static void test_eoi_deferrable(void **state)
{
	(void)state;
	enable();
	assert_false(vlapic_eoi_deferrable(&L)); /* nothing in service */
	vlapic_set_irr(&L, 0x40, false);
	assert_false(vlapic_eoi_deferrable(&L)); /* requested, not yet in service */
	vlapic_ack(&L, 0x40);
	assert_true(vlapic_eoi_deferrable(&L));
	vlapic_set_irr(&L, 0x30, false); /* a lower one waits for the EOI: not deferred */
	assert_false(vlapic_eoi_deferrable(&L));
	assert_int_equal(rd(0x120), 1); /* ISR word 2 bit 0: 0x40 */
	vlapic_eoi(&L, &env); /* as the hypervisor does it when the guest took the PV EOI */
	assert_int_equal(rd(0x120), 0);
	assert_int_equal(vlapic_pending(&L), 0x30);
	vlapic_ack(&L, 0x30);
	vlapic_set_irr(&L, 0x50, true); /* nested level vector: its EOI must reach the IOAPIC */
	vlapic_ack(&L, 0x50);
	assert_false(vlapic_eoi_deferrable(&L));
	vlapic_eoi(&L, &env);
	assert_int_equal(neois, 1);
	assert_int_equal(eois[0], 0x50);
	assert_true(vlapic_eoi_deferrable(&L)); /* 0x30, edge, in service again the highest */
}

static void test_illegal_vector(void **state)
{
	(void)state;
	enable();
	assert_false(vlapic_set_irr(&L, 5, false));
	for (uint32_t off = 0x200; off < 0x280; off += 0x10)
		assert_int_equal(rd(off), 0);
	assert_int_equal(rd(0x280), 0); /* not latched yet */
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x40);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0);
	/* with the error LVT unmasked, errors raise its vector */
	wr(0x370, 0xfe);
	vlapic_set_irr(&L, 15, false);
	assert_int_equal(vlapic_pending(&L), 0xfe);
	assert_int_equal(esr(), 0x40);
	/* sending an illegal vector: not sent, ESR bit 5 */
	wr(0x300, 0x4003);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(esr(), 0x20);
	/* software-disabled: fixed interrupts are dropped */
	wr(0xf0, 0xff);
	assert_false(vlapic_set_irr(&L, 0x33, false));
	assert_int_equal(vlapic_pending(&L), -1);
}

static void test_software_disable(void **state)
{
	(void)state;
	enable();
	wr(0x350, 0x700);
	wr(0x320, 0x20);
	vlapic_set_irr(&L, 0x60, false);
	wr(0xf0, 0xff);
	assert_int_equal(rd(0x350), 0x10700);
	assert_int_equal(rd(0x320), 0x10020);
	wr(0x320, 0x21); /* the mask stays while disabled */
	assert_int_equal(rd(0x320), 0x10021);
	assert_int_equal(vlapic_pending(&L), -1); /* held */
	enable();
	assert_int_equal(rd(0x320), 0x10021);
	assert_int_equal(vlapic_pending(&L), 0x60);
	wr(0x320, 0x21);
	assert_int_equal(rd(0x320), 0x21);
}

static void test_ipis(void **state)
{
	(void)state;
	enable();
	wr(0x310, 0x05000000);
	wr(0x300, 0x40a1); /* fixed, assert, edge, physical */
	assert_int_equal(nmsgs, 1);
	assert_msg(&msgs[0], 5, ID, 0xa1, DM_FIXED, SH_NONE, false, false, true);
	assert_int_equal(rd(0x300), 0x40a1); /* delivery status idle */
	wr(0x300, 0x4400);		     /* NMI */
	assert_msg(&msgs[1], 5, ID, 0, DM_NMI, SH_NONE, false, false, true);
	wr(0x300, 0xc500); /* INIT, level, assert */
	assert_msg(&msgs[2], 5, ID, 0, DM_INIT, SH_NONE, false, true, true);
	wr(0x300, 0x8500); /* INIT de-assert */
	assert_msg(&msgs[3], 5, ID, 0, DM_INIT, SH_NONE, false, true, false);
	wr(0x300, 0x469f); /* SIPI, vector 0x9f */
	assert_msg(&msgs[4], 5, ID, 0x9f, DM_STARTUP, SH_NONE, false, false, true);
	wr(0x310, 0x0c000000);
	wr(0x300, 0x4931); /* lowest priority, logical */
	assert_msg(&msgs[5], 0x0c, ID, 0x31, DM_LOWEST, SH_NONE, true, false, true);
	wr(0x300, 0x44041);
	assert_msg(&msgs[6], 0x0c, ID, 0x41, DM_FIXED, SH_SELF, false, false, true);
	wr(0x300, 0x84042);
	assert_msg(&msgs[7], 0x0c, ID, 0x42, DM_FIXED, SH_ALL, false, false, true);
	wr(0x300, 0xc4043);
	assert_msg(&msgs[8], 0x0c, ID, 0x43, DM_FIXED, SH_OTHERS, false, false, true);
	wr(0x300, 0xc4400); /* NMI to all others */
	assert_msg(&msgs[9], 0x0c, ID, 0, DM_NMI, SH_OTHERS, false, false, true);
	assert_int_equal(nmsgs, 10);
	wr(0x300, 0xfff3f0ff); /* kept as written but the delivery status, as KVM keeps it */
	assert_int_equal(rd(0x300), 0xfff3e0ff);
}

static struct apic_msg msg(uint32_t dest, bool logical, uint8_t sh, uint32_t source)
{
	return (struct apic_msg){
		.dest = dest, .logical = logical, .shorthand = sh, .source = source};
}

static bool match(uint32_t dest, bool logical)
{
	struct apic_msg m = msg(dest, logical, SH_NONE, 0);

	return vlapic_matches(&L, &m);
}

static bool match_sh(uint8_t sh, uint32_t source)
{
	struct apic_msg m = msg(0x77, false, sh, source);

	return vlapic_matches(&L, &m);
}

static void test_matching(void **state)
{
	(void)state;
	/* physical and broadcast */
	assert_true(match(ID, false));
	assert_false(match(4, false));
	assert_true(match(0xff, false));
	assert_false(match(0x103, false));
	/* flat: LDR bits 31:24 a mask */
	wr(0xd0, 0x02000000);
	assert_true(match(0x02, true));
	assert_true(match(0x03, true));
	assert_false(match(0x01, true));
	assert_false(match(0x00, true));
	assert_true(match(0xff, true));
	/* cluster: cluster 3, member bit 1 */
	wr(0xe0, 0x0fffffff);
	wr(0xd0, 0x32000000);
	assert_true(match(0x32, true));
	assert_true(match(0x36, true));
	assert_false(match(0x31, true));
	assert_false(match(0x22, true));
	assert_true(match(0xff, true));
	/* shorthands, relative to the source */
	assert_true(match_sh(SH_SELF, ID));
	assert_false(match_sh(SH_SELF, 4));
	assert_true(match_sh(SH_ALL, ID));
	assert_true(match_sh(SH_ALL, 4));
	assert_false(match_sh(SH_OTHERS, ID));
	assert_true(match_sh(SH_OTHERS, 4));
	/* hardware-disabled: nothing, and the page reads all ones (as KVM's) */
	assert_int_equal(vlapic_set_base(&L, BASE, true, false), 0);
	assert_int_equal(rd(0x20), 0xffffffff);
	assert_false(match(0xff, false));
	assert_false(match_sh(SH_ALL, 4));
	assert_true(vlapic_accepts_extint(&L));
}

static void enter_x2apic(uint32_t id)
{
	vlapic_reset(&L, id, false, false);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, true, false), 0);
	assert_int_equal(vlapic_mode(&L), VLAPIC_X2APIC);
}

static void test_x2apic_msrs(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vlapic_msr_read(&L, 0x802, &v, &env), -1); /* xAPIC mode */
	assert_int_equal(vlapic_msr_write(&L, 0x808, 0, &env), -1);
	enter_x2apic(0x123);
	assert_int_equal(msr_rd(0x802), 0x123);
	assert_int_equal(vlapic_id(&L), 0x123);
	assert_int_equal(msr_rd(0x803), 0x00050014);
	assert_int_equal(msr_rd(0x80d), 0x120008); /* cluster 0x12, bit 3 */
	assert_int_equal(msr_rd(0x80f), 0xff);
	assert_int_equal(vlapic_read(&L, 0x20, &env), 0xffffffff); /* no MMIO: all ones, as KVM */
	/* #GP: read-only, write-only, absent registers, reserved bits */
	assert_int_equal(vlapic_msr_write(&L, 0x802, 0x123, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x80d, 0x120008, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x803, 0, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x839, 0, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x80b, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x83f, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x80e, &v, &env), -1); /* no DFR */
	assert_int_equal(vlapic_msr_read(&L, 0x809, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x831, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x800, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x840, &v, &env), -1);
	assert_int_equal(vlapic_msr_read(&L, 0x8ff, &v, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x808, 0x100, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x808, 1ULL << 32, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x80b, 1, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x828, 1, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x832, 1u << 20, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x83e, 4, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x83f, 0x145, &env), -1);
	assert_int_equal(vlapic_msr_write(&L, 0x830, 0x2000, &env), -1); /* reserved bit 13 */
	assert_int_equal(nmsgs, 0);
	/* accepted writes */
	assert_int_equal(vlapic_msr_write(&L, 0x80f, 0x1ff, &env), 0);
	assert_int_equal(vlapic_msr_write(&L, 0x808, 0x20, &env), 0);
	assert_int_equal(msr_rd(0x80a), 0x20);
	assert_int_equal(vlapic_msr_write(&L, 0x80b, 0, &env), 0);
	assert_int_equal(vlapic_msr_write(&L, 0x828, 0, &env), 0);
	assert_int_equal(vlapic_msr_write(&L, 0x832, 0x1020, &env), 0); /* status bit ignored */
	assert_int_equal(msr_rd(0x832), 0x20);
	assert_int_equal(vlapic_msr_write(&L, 0x830, 0x00001234000040a1ULL, &env), 0);
	assert_msg(&msgs[0], 0x1234, 0x123, 0xa1, DM_FIXED, SH_NONE, false, false, true);
	assert_int_equal(msr_rd(0x830), 0x00001234000040a1ULL);
	assert_int_equal(vlapic_msr_write(&L, 0x830, 0xffffffff000048a2ULL, &env), 0);
	assert_msg(&msgs[1], 0xffffffff, 0x123, 0xa2, DM_FIXED, SH_NONE, true, false, true);
	assert_int_equal(vlapic_msr_write(&L, 0x83f, 0x45, &env), 0);
	assert_msg(&msgs[2], 0x123, 0x123, 0x45, DM_FIXED, SH_SELF, false, false, true);
	assert_int_equal(nmsgs, 3);
	/* x2APIC destinations: 32-bit ids, cluster in 31:16 */
	assert_true(match(0x123, false));
	assert_true(match(0xffffffff, false));
	assert_false(match(0x23, false));
	assert_false(match(0xff, false)); /* x2APIC id 255, not a broadcast */
	assert_true(match(0x120008, true));
	assert_true(match(0x12000c, true));
	assert_false(match(0x120004, true));
	assert_false(match(0x110008, true));
	assert_true(match(0xffffffff, true));
}

static void test_base_transitions(void **state)
{
	(void)state;
	/* reserved bits, EXTD without CPUID support, EXTD without EN */
	assert_int_equal(vlapic_set_base(&L, BASE | EN | 1, true, false), -1);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | 0x200, true, false), -1);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | 1ULL << 52, true, false), -1);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, false, false), -1);
	assert_int_equal(vlapic_set_base(&L, BASE | EXTD, true, false), -1);
	assert_int_equal(vlapic_mode(&L), VLAPIC_XAPIC);
	/* a new base address keeps the state */
	wr(0x80, 0x20);
	assert_int_equal(vlapic_set_base(&L, 0xfed00000 | EN, true, false), 0);
	assert_int_equal(L.apic_base, 0xfed00000 | EN);
	assert_int_equal(rd(0x80), 0x20);
	/* xAPIC -> x2APIC keeps the registers but ID and LDR */
	wr(0x20, 0x09000000);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, true, false), 0);
	assert_int_equal(msr_rd(0x802), ID);
	assert_int_equal(msr_rd(0x80d), 8);
	assert_int_equal(msr_rd(0x808), 0x20);
	/* x2APIC -> xAPIC is invalid; through disabled it resets */
	assert_int_equal(vlapic_set_base(&L, BASE | EN, true, false), -1);
	assert_int_equal(vlapic_set_base(&L, BASE, true, false), 0);
	assert_int_equal(vlapic_mode(&L), VLAPIC_DISABLED);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, true, false),
			 -1); /* disabled -> x2APIC */
	assert_int_equal(vlapic_set_base(&L, BASE | EN, true, false), 0);
	assert_int_equal(rd(0x20), ID << 24);
	assert_int_equal(rd(0x80), 0);
	assert_int_equal(rd(0xf0), 0xff);
	assert_int_equal(rd(0xd0), 0);
	/* INIT keeps the base, the mode and the ID */
	wr(0x20, 0x0a000000);
	wr(0x80, 0x30);
	vlapic_init_signal(&L, false);
	assert_int_equal(rd(0x20), 0x0a000000);
	assert_int_equal(rd(0x80), 0);
	assert_int_equal(L.apic_base, BASE | EN);
	/* the host (its VMM's reset, as KVM lets it) takes x2APIC back to xAPIC, and back again */
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, true, false), 0);
	assert_int_equal(vlapic_set_base(&L, BASE | EN, true, true), 0);
	assert_int_equal(vlapic_mode(&L), VLAPIC_XAPIC);
	assert_int_equal(rd(0x20), ID << 24);
	assert_int_equal(vlapic_set_base(&L, BASE, true, true), 0);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | EXTD, true, true), 0);
	assert_int_equal(msr_rd(0x802), ID);
	assert_int_equal(vlapic_set_base(&L, BASE | EN | 1, true, true), -1); /* reserved: never */
}

static void test_timer_oneshot(void **state)
{
	(void)state;
	enable();
	wr(0x320, 0x20); /* one-shot, vector 0x20; divide by 2 (reset) */
	now_ns = 1000;
	wr(0x380, 100);
	assert_int_equal(vlapic_next_ns(&L), 1200);
	assert_int_equal(rd(0x390), 100);
	now_ns = 1001;
	assert_int_equal(rd(0x390), 100);
	now_ns = 1002;
	assert_int_equal(rd(0x390), 99);
	now_ns = 1100;
	assert_int_equal(rd(0x390), 50);
	now_ns = 1199;
	assert_int_equal(rd(0x390), 1);
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), -1);
	now_ns = 1200;
	assert_int_equal(rd(0x390), 0);
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), 0x20);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	now_ns = 5000;
	assert_int_equal(rd(0x390), 0);
	assert_int_equal(rd(0x380), 100);
	/* restart, then stop with 0 */
	wr(0x380, 10);
	assert_int_equal(vlapic_next_ns(&L), 5020);
	wr(0x380, 0);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	assert_int_equal(rd(0x390), 0);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	enable();
	wr(0x3e0, 0xb); /* divide by 1 */
	wr(0x320, 0x20030);
	wr(0x380, 1000);
	assert_int_equal(vlapic_next_ns(&L), 1000);
	now_ns = 1005; /* late */
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), 0x30);
	assert_int_equal(vlapic_next_ns(&L), 2000); /* no drift */
	now_ns = 1500;
	assert_int_equal(rd(0x390), 500);
	now_ns = 4250; /* two periods missed, not ticked: the count reloaded */
	assert_int_equal(rd(0x390), 750);
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_next_ns(&L), 5000);
	vlapic_ack(&L, 0x30);
	now_ns = 5000;
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_next_ns(&L), 6000);
	assert_int_equal(vlapic_pending(&L), -1); /* in service: same class */
	assert_int_equal(rd(0x200 + 0x10), 1u << 16);
	/* a mode change disarms */
	wr(0x320, 0x30);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	assert_int_equal(rd(0x390), 0);
}

static void test_timer_masked(void **state)
{
	(void)state;
	enable();
	wr(0x3e0, 0xb);
	wr(0x320, 0x30040); /* periodic, masked */
	wr(0x380, 100);
	now_ns = 100;
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), -1);
	assert_int_equal(vlapic_next_ns(&L), 200); /* still counts */
	now_ns = 150;
	assert_int_equal(rd(0x390), 50);
	wr(0x320, 0x20040); /* unmasked, same mode: keeps counting */
	now_ns = 200;
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), 0x40);
}

static void test_timer_divide(void **state)
{
	static const struct {
		uint32_t dcr, div;
	} divs[] = {{0, 2}, {1, 4}, {2, 8}, {3, 16}, {8, 32}, {9, 64}, {0xa, 128}, {0xb, 1}};

	(void)state;
	enable();
	wr(0x320, 0x20);
	for (unsigned i = 0; i < 8; i++) {
		wr(0x3e0, divs[i].dcr);
		wr(0x380, 10);
		assert_int_equal(vlapic_next_ns(&L), now_ns + 10 * divs[i].div);
		now_ns += divs[i].div;
		assert_int_equal(rd(0x390), 9);
		now_ns += 1000;
	}
	/* a new divider applies to the rest of the count */
	now_ns = 0;
	wr(0x3e0, 0xb);
	wr(0x380, 100);
	now_ns = 40;
	wr(0x3e0, 1);
	assert_int_equal(rd(0x390), 60);
	assert_int_equal(vlapic_next_ns(&L), 40 + 240);
}

static void test_tsc_deadline(void **state)
{
	(void)state;
	enable();
	vlapic_set_tsc_deadline(&L, 5000, 700); /* one-shot mode: ignored */
	assert_int_equal(vlapic_get_tsc_deadline(&L), 0);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	wr(0x320, 0x40030);
	wr(0x380, 100); /* ignored in TSC-deadline mode */
	assert_int_equal(rd(0x380), 0);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	vlapic_set_tsc_deadline(&L, 5000, 700);
	assert_int_equal(vlapic_get_tsc_deadline(&L), 5000);
	assert_int_equal(vlapic_next_ns(&L), 700);
	assert_int_equal(rd(0x390), 0);
	now_ns = 699;
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), -1);
	now_ns = 700;
	vlapic_tick(&L, &env);
	assert_int_equal(vlapic_pending(&L), 0x30);
	assert_int_equal(vlapic_get_tsc_deadline(&L), 0);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	/* disarm with 0 */
	vlapic_set_tsc_deadline(&L, 9000, 1500);
	assert_int_equal(vlapic_next_ns(&L), 1500);
	vlapic_set_tsc_deadline(&L, 0, 0);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	assert_int_equal(vlapic_get_tsc_deadline(&L), 0);
	/* leaving TSC-deadline mode disarms */
	vlapic_set_tsc_deadline(&L, 9000, 1500);
	wr(0x320, 0x30);
	assert_int_equal(vlapic_next_ns(&L), NO_DEADLINE);
	wr(0x320, 0x40030);
	assert_int_equal(vlapic_get_tsc_deadline(&L), 0);
}

static void test_lint0_extint(void **state)
{
	(void)state;
	enable();
	wr(0x350, 0x700); /* ExtINT */
	assert_true(vlapic_accepts_extint(&L));
	wr(0x350, 0x10700);
	assert_false(vlapic_accepts_extint(&L));
}

/* A local source (CMCI) fires through its LVT: a message to this APIC alone, unless masked. */
static void test_local_irq(void **state)
{
	(void)state;
	enable();
	vlapic_local_irq(&L, 0x2f0, &env); /* masked since reset */
	assert_int_equal(nmsgs, 0);
	wr(0x2f0, 0x4a9); /* NMI (vector ignored) */
	vlapic_local_irq(&L, 0x2f0, &env);
	assert_int_equal(nmsgs, 1);
	assert_msg(&msgs[0], 0, ID, 0xa9, DM_NMI, 1, false, false, true);
	wr(0x2f0, 0xa9);
	vlapic_local_irq(&L, 0x2f0, &env);
	assert_msg(&msgs[1], 0, ID, 0xa9, DM_FIXED, 1, false, false, true);
}

static void test_save_restore(void **state)
{
	uint8_t page[1024], page2[1024];
	struct vlapic fresh;

	(void)state;
	enable();
	wr(0x80, 0x21);
	wr(0xd0, 0x04000000);
	wr(0x310, 0x02000000);
	wr(0x300, 0x40a1);
	wr(0x350, 0x700);
	wr(0x3e0, 1);
	wr(0x320, 0x20050);
	vlapic_set_irr(&L, 0x61, true);
	vlapic_ack(&L, 0x61);
	vlapic_set_irr(&L, 0x42, false);
	vlapic_set_irr(&L, 3, false);
	wr(0x280, 0);
	now_ns = 10000;
	wr(0x380, 1000); /* period 4000 ns */
	now_ns = 11000;
	vlapic_get_state(&L, page, &env);
	assert_int_equal(page[0x390] | page[0x391] << 8, 750);
	memset(&fresh, 0, sizeof(fresh));
	vlapic_reset(&fresh, ID, true, false);
	now_ns = 20000; /* restored later: the timer restarts from the saved count */
	assert_int_equal(vlapic_set_state(&fresh, page, &env), 0);
	assert_int_equal(vlapic_next_ns(&fresh), 23000);
	vlapic_get_state(&fresh, page2, &env);
	assert_memory_equal(page, page2, sizeof(page));
	for (uint32_t off = 0; off < 0x400; off += 0x10) /* L's timer ran on: 500 */
		assert_int_equal(vlapic_read(&fresh, off, &env),
				 vlapic_read(&L, off, &env) + (off == 0x390 ? 250 : 0));
	assert_int_equal(vlapic_pending(&fresh), vlapic_pending(&L));
	wr(0xb0, 0);
	vlapic_write(&fresh, 0xb0, 0, &env);
	assert_int_equal(neois, 2); /* both knew 0x61 was level */
	/* x2APIC: the page's ID must be the vCPU's */
	enter_x2apic(0x40);
	vlapic_get_state(&L, page, &env);
	assert_int_equal(page[0x20], 0x40);
	vlapic_reset(&fresh, 0x41, false, false);
	assert_int_equal(vlapic_set_base(&fresh, BASE | EN | EXTD, true, false), 0);
	assert_int_equal(vlapic_set_state(&fresh, page, &env), -1);
	vlapic_reset(&fresh, 0x40, false, false);
	assert_int_equal(vlapic_set_base(&fresh, BASE | EN | EXTD, true, false), 0);
	assert_int_equal(vlapic_set_state(&fresh, page, &env), 0);
}

static void test_restore_sanitizes(void **state)
{
	uint8_t page[1024];

	(void)state;
	memset(page, 0xff, sizeof(page));
	assert_int_equal(vlapic_set_state(&L, page, &env), 0);
	assert_int_equal(rd(0x30), 0x00050014);
	assert_int_equal(rd(0x20), 0xff000000);
	assert_int_equal(rd(0x300), 0xffffefff);
	assert_int_equal(rd(0x350), 0x1a7ff);
	assert_int_equal(rd(0xa0), 0xff);
	assert_int_equal(rd(0x320), 0x700ff); /* mode 3: counts as one-shot */
	vlapic_get_state(&L, page, &env);
	assert_int_equal(page[0xb0], 0);
	assert_int_equal(page[0x3f0], 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		T(test_reset),
		T(test_register_masks),
		T(test_tpr_ppr),
		T(test_priority_nesting),
		T(test_eoi_level),
		T(test_eoi_deferrable),
		T(test_illegal_vector),
		T(test_software_disable),
		T(test_ipis),
		T(test_matching),
		T(test_x2apic_msrs),
		T(test_base_transitions),
		T(test_timer_oneshot),
		T(test_timer_periodic),
		T(test_timer_masked),
		T(test_timer_divide),
		T(test_tsc_deadline),
		T(test_lint0_extint),
		T(test_local_irq),
		T(test_save_restore),
		T(test_restore_sanitizes),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
