/* VMX capability decoding (hv/vmx/caps.c) against MSR values of a modern Intel CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/bits.h"
#include "vmx/caps.h"

#define EPT_VPID_FULL                                                                              \
	(EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_INVEPT | EPT_CAP_AD |      \
	 EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE | \
	 VPID_CAP_INVVPID_ALL)

/* Everything the hypervisor needs that depends on the secondary controls, in parse order. */
#define MISSING_SECONDARY                                                                        \
	"secondary controls, EPT, VPID, unrestricted guest, EPT write-back tables, EPT 4-level " \
	"walk, INVEPT, INVEPT single-context, INVVPID, INVVPID single-context"

/*
 * A recent Intel core: true controls (allowed-0 settings in the low half, allowed-1 in the
 * high half), VMCS revision 4 of 4 KiB in write-back memory, full EPT and VPID support.
 */
static const struct vmx_msrs modern = {
	.cpuid1_ecx = 0x7ffafbff, /* bit 5: VMX */
	.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX,
	/* bit 55 true controls, 54 INS/OUTS info, 53:50 = 6 (WB), 44:32 = 4096, revision 4 */
	.basic = 0x00d8100000000004ULL,
	.pin = 0x000000ff00000016ULL,
	.proc = 0xfff9fffe04006172ULL,
	.exit = 0x01ffffff00036dfbULL,
	.entry = 0x0003ffff000011fbULL,
	.misc = 0x000000007004c1e7ULL, /* preemption timer rate: 2^7 TSC cycles */
	.proc2 = 0x0053ffff00000000ULL,
	.ept_vpid = EPT_VPID_FULL,
	.cr0_fixed0 = 0x80000021ULL,
	.cr0_fixed1 = 0xffffffffULL,
	.cr4_fixed0 = 0x2000ULL,
	.cr4_fixed1 = 0x3767ffULL,
};

/* Parses m, expecting failure with exactly `missing`. */
static void expect_missing(const struct vmx_msrs *m, const char *missing)
{
	struct vmx_caps c;

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(vmx_caps_parse(m, &c), -1);
	assert_string_equal(c.missing, missing);
}

static void test_modern_cpu(void **state)
{
	struct vmx_caps c;

	(void)state;
	memset(&c, 0x5a, sizeof(c)); /* parse must initialize every field */
	assert_int_equal(vmx_caps_parse(&modern, &c), 0);
	assert_string_equal(c.missing, "");
	assert_int_equal(c.revision, 4);
	assert_int_equal(c.vmcs_size, 4096);
	assert_int_equal(c.pin.must1, 0x16);
	assert_int_equal(c.pin.may1, 0xff);
	assert_int_equal(c.proc.must1, 0x04006172);
	assert_int_equal(c.proc.may1, 0xfff9fffe);
	assert_int_equal(c.proc2.must1, 0);
	assert_int_equal(c.proc2.may1, 0x0053ffff);
	assert_int_equal(c.exit.must1, 0x00036dfb);
	assert_int_equal(c.exit.may1, 0x01ffffff);
	assert_int_equal(c.entry.must1, 0x000011fb);
	assert_int_equal(c.entry.may1, 0x0003ffff);
	assert_int_equal(c.ept_vpid, EPT_VPID_FULL);
	assert_int_equal(c.cr0_fixed0, 0x80000021);
	assert_int_equal(c.cr0_fixed1, 0xffffffff);
	assert_int_equal(c.cr4_fixed0, 0x2000);
	assert_int_equal(c.cr4_fixed1, 0x3767ff);
	assert_int_equal(c.preempt_shift, 7);
	assert_true(c.ept_2m);
	assert_true(c.ept_1g);
	assert_true(c.ept_ad);
	assert_true(c.preempt_timer);
	assert_true(c.apicv);
	assert_true(c.tpr_shadow);
	assert_true(c.posted_intr);
	assert_false(c.feature_control_unlocked);
}

static void test_revision_and_size_fields(void **state)
{
	struct vmx_msrs m = modern;
	struct vmx_caps c;

	(void)state;
	/* bit 31 of the revision is not part of it; 44:32 are 13 bits; misc 4:0 only */
	m.basic = (m.basic & ~0x00001fffffffffffULL) | 0x0000040080001234ULL;
	m.misc = 0x7004c1ffULL;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_int_equal(c.revision, 0x1234);
	assert_int_equal(c.vmcs_size, 1024);
	assert_int_equal(c.preempt_shift, 0x1f);
}

static void test_optional_features_follow_bits(void **state)
{
	struct vmx_msrs m = modern;
	struct vmx_caps c;

	(void)state;
	m.ept_vpid &= ~(EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_AD);
	m.pin &= ~((uint64_t)(PIN_PREEMPT_TIMER | PIN_POSTED_INTR) << 32);
	m.proc &= ~((uint64_t)PROC_TPR_SHADOW << 32);
	m.misc = 0;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_string_equal(c.missing, "");
	assert_false(c.ept_2m);
	assert_false(c.ept_1g);
	assert_false(c.ept_ad);
	assert_false(c.preempt_timer);
	assert_false(c.posted_intr);
	assert_false(c.tpr_shadow);
	assert_true(c.apicv);
	assert_int_equal(c.preempt_shift, 0);

	/* each feature alone */
	m = modern;
	m.ept_vpid &= ~EPT_CAP_1G;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_true(c.ept_2m);
	assert_false(c.ept_1g);
	assert_true(c.ept_ad);
	m = modern;
	m.pin &= ~((uint64_t)PIN_POSTED_INTR << 32);
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_true(c.preempt_timer);
	assert_false(c.posted_intr);

	/* the low (allowed-0) halves never enable anything */
	m = modern;
	m.pin = (uint64_t)(PIN_EXT_INTR | PIN_NMI_EXIT | PIN_VIRTUAL_NMI) << 32 | 0xffffffffu;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_false(c.preempt_timer);
	assert_false(c.posted_intr);
}

/* APIC virtualization needs virtual APIC accesses, APIC-register and interrupt virtualization. */
static void test_apicv_needs_all_three(void **state)
{
	static const uint32_t bits[] = {PROC2_VAPIC, PROC2_APIC_REG, PROC2_VINTR};
	struct vmx_msrs m;
	struct vmx_caps c;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		m = modern;
		m.proc2 &= ~((uint64_t)bits[i] << 32);
		assert_int_equal(vmx_caps_parse(&m, &c), 0);
		assert_false(c.apicv);
	}
	m = modern;
	m.proc2 = (uint64_t)(PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED) << 32;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_false(c.apicv);
	m.proc2 |= (uint64_t)(PROC2_VAPIC | PROC2_APIC_REG | PROC2_VINTR) << 32;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_true(c.apicv);
}

static void test_no_cpuid_vmx(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.cpuid1_ecx &= ~(1u << 5);
	expect_missing(&m, "VMX (CPUID.1:ECX[5])");
	/* what vmx.c passes on such a CPU: no MSR read at all; the parser stops at once */
	m = (struct vmx_msrs){.cpuid1_ecx = 0x7ffafbdf};
	expect_missing(&m, "VMX (CPUID.1:ECX[5])");
}

static void test_feature_control_locked_off(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.feature_control = FEATURE_CONTROL_LOCK;
	expect_missing(&m, "VMX enabled by firmware (IA32_FEATURE_CONTROL)");
	/* VMX inside SMX only (bit 1) is not enough either; later failures are not listed */
	m.feature_control = FEATURE_CONTROL_LOCK | (1u << 1);
	m.proc2 = 0;
	expect_missing(&m, "VMX enabled by firmware (IA32_FEATURE_CONTROL)");
}

static void test_feature_control_unlocked(void **state)
{
	struct vmx_msrs m = modern;
	struct vmx_caps c;

	(void)state;
	m.feature_control = 0;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_string_equal(c.missing, "");
	assert_true(c.feature_control_unlocked);
	m.feature_control = FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	assert_true(c.feature_control_unlocked);
}

static void test_no_unrestricted_guest(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.proc2 &= ~((uint64_t)PROC2_UNRESTRICTED << 32);
	expect_missing(&m, "unrestricted guest");
}

static void test_no_ept_no_vpid(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.proc2 &= ~((uint64_t)(PROC2_EPT | PROC2_VPID) << 32);
	expect_missing(&m, "EPT, VPID");
	/* vmx.c does not read IA32_VMX_EPT_VPID_CAP then: its items follow */
	m.ept_vpid = 0;
	expect_missing(&m, "EPT, VPID, EPT write-back tables, EPT 4-level walk, INVEPT, "
			   "INVEPT single-context, INVVPID, INVVPID single-context");
	m = modern;
	m.proc2 &= ~((uint64_t)PROC2_VPID << 32);
	expect_missing(&m, "VPID");
}

static void test_no_secondary_controls(void **state)
{
	struct vmx_msrs m = modern;
	struct vmx_caps c;

	(void)state;
	m.proc &= ~((uint64_t)PROC_SECONDARY << 32);
	expect_missing(&m, MISSING_SECONDARY);
	/* the secondary MSRs are ignored when the primary controls cannot enable them */
	assert_int_equal(vmx_caps_parse(&m, &c), -1);
	assert_int_equal(c.proc2.may1, 0);
	assert_int_equal(c.proc2.must1, 0);
	assert_int_equal(c.ept_vpid, 0);
	assert_false(c.ept_2m);
	assert_false(c.ept_1g);
	assert_false(c.ept_ad);
	assert_false(c.apicv);
	m.proc2 = 0;
	m.ept_vpid = 0;
	expect_missing(&m, MISSING_SECONDARY);
}

static void test_vmcs_memory_type(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.basic &= ~(0xfULL << 50); /* UC */
	expect_missing(&m, "write-back VMCS memory");
	/* a VMCS region larger than a page is refused under the same name */
	m = modern;
	m.basic = (m.basic & ~(0x1fffULL << 32)) | (0x1001ULL << 32);
	expect_missing(&m, "write-back VMCS memory");
	m.basic &= ~(0x1fffULL << 32);
	expect_missing(&m, "write-back VMCS memory");
}

/* One removal per remaining requirement, each reported alone under its name. */
static void test_each_requirement(void **state)
{
	static const struct {
		size_t field; /* offset in struct vmx_msrs of the uint64_t to clear bits in */
		uint64_t bits;
		const char *name;
	} cases[] = {
		{offsetof(struct vmx_msrs, basic), 1ULL << 55, "true VMX controls"},
		{offsetof(struct vmx_msrs, proc), (uint64_t)PROC_IO_BITMAP << 32, "I/O bitmaps"},
		{offsetof(struct vmx_msrs, proc), (uint64_t)PROC_MSR_BITMAP << 32, "MSR bitmaps"},
		{offsetof(struct vmx_msrs, proc), (uint64_t)PROC_HLT_EXIT << 32, "HLT exiting"},
		{offsetof(struct vmx_msrs, proc2), (uint64_t)PROC2_EPT << 32, "EPT"},
		{offsetof(struct vmx_msrs, pin), (uint64_t)PIN_EXT_INTR << 32,
		 "external-interrupt exiting"},
		{offsetof(struct vmx_msrs, pin), (uint64_t)PIN_NMI_EXIT << 32, "NMI exiting"},
		{offsetof(struct vmx_msrs, pin), (uint64_t)PIN_VIRTUAL_NMI << 32, "virtual NMIs"},
		{offsetof(struct vmx_msrs, exit), (uint64_t)EXIT_HOST_64 << 32,
		 "64-bit host on exit"},
		{offsetof(struct vmx_msrs, exit), (uint64_t)EXIT_LOAD_EFER << 32,
		 "EFER load/save on exit"},
		{offsetof(struct vmx_msrs, entry), (uint64_t)ENTRY_LOAD_EFER << 32,
		 "EFER load on entry"},
		{offsetof(struct vmx_msrs, ept_vpid), EPT_CAP_WB, "EPT write-back tables"},
		{offsetof(struct vmx_msrs, ept_vpid), EPT_CAP_WALK4, "EPT 4-level walk"},
		{offsetof(struct vmx_msrs, ept_vpid), EPT_CAP_INVEPT, "INVEPT"},
		{offsetof(struct vmx_msrs, ept_vpid), EPT_CAP_INVEPT_SINGLE,
		 "INVEPT single-context"},
		{offsetof(struct vmx_msrs, ept_vpid), VPID_CAP_INVVPID, "INVVPID"},
		{offsetof(struct vmx_msrs, ept_vpid), VPID_CAP_INVVPID_SINGLE,
		 "INVVPID single-context"},
		/* not required: */
		{offsetof(struct vmx_msrs, ept_vpid), EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID_ALL,
		 ""},
		/* vmcs.c requires both halves */
		{offsetof(struct vmx_msrs, exit), (uint64_t)EXIT_SAVE_EFER << 32,
		 "EFER load/save on exit"},
		{offsetof(struct vmx_msrs, proc), (uint64_t)PROC_MOV_DR_EXIT << 32,
		 "CR8, MOV DR, MWAIT, MONITOR and RDPMC exiting"},
	};
	struct vmx_caps c;

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmx_msrs m = modern;
		uint64_t *f = (uint64_t *)((char *)&m + cases[i].field);

		*f &= ~cases[i].bits;
		print_message("clearing bits for \"%s\"\n", cases[i].name);
		assert_int_equal(vmx_caps_parse(&m, &c), cases[i].name[0] ? -1 : 0);
		assert_string_equal(c.missing, cases[i].name);
	}
}

static void test_several_missing_in_order(void **state)
{
	struct vmx_msrs m = modern;

	(void)state;
	m.basic &= ~(1ULL << 55);
	m.proc &= ~((uint64_t)PROC_HLT_EXIT << 32);
	m.entry = 0;
	m.ept_vpid &= ~VPID_CAP_INVVPID_SINGLE;
	expect_missing(&m, "true VMX controls, HLT exiting, EFER load on entry, "
			   "INVVPID single-context");
}

/* With VMX present and enabled but nothing else, the list is cut at 255 characters. */
static void test_missing_truncated(void **state)
{
	static const char *const names[] = {
		"write-back VMCS memory",
		"true VMX controls",
		"secondary controls",
		"I/O bitmaps",
		"MSR bitmaps",
		"HLT exiting",
		"CR8, MOV DR, MWAIT, MONITOR and RDPMC exiting",
		"EPT",
		"VPID",
		"unrestricted guest",
		"external-interrupt exiting",
		"NMI exiting",
		"virtual NMIs",
		"64-bit host on exit",
		"EFER load/save on exit",
		"EFER load on entry",
		"EPT write-back tables",
		"EPT 4-level walk",
		"INVEPT",
		"INVEPT single-context",
		"INVVPID",
		"INVVPID single-context",
	};
	struct vmx_msrs m = {.cpuid1_ecx = 1u << 5};
	struct vmx_caps c;
	char full[1024] = "";

	(void)state;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (i)
			strcat(full, ", ");
		strcat(full, names[i]);
	}
	assert_true(strlen(full) > sizeof(c.missing) - 1);
	assert_int_equal(vmx_caps_parse(&m, &c), -1);
	assert_int_equal(strlen(c.missing), sizeof(c.missing) - 1);
	assert_memory_equal(c.missing, full, sizeof(c.missing) - 1);
	assert_true(c.feature_control_unlocked);
}

static void test_ctl_value(void **state)
{
	struct vmx_ctl pin = {.must1 = 0x16, .may1 = 0xff};
	struct vmx_ctl proc = {.must1 = 0x04006172, .may1 = 0xfff9fffe};

	(void)state;
	assert_int_equal(vmx_ctl_value(pin, 0), 0x16);
	assert_int_equal(vmx_ctl_value(pin, PIN_EXT_INTR | PIN_NMI_EXIT), 0x1f);
	assert_int_equal(vmx_ctl_value(pin, 0xff), 0xff);
	assert_int_equal(vmx_ctl_value(pin, 0x100), -1);
	assert_int_equal(vmx_ctl_value(pin, 0x80000001u), -1);
	/* bit 31 set: a positive 64-bit value, not sign-extended */
	assert_int_equal(vmx_ctl_value(proc, PROC_SECONDARY | PROC_HLT_EXIT), 0x840061f2LL);
	assert_true(vmx_ctl_value(proc, PROC_SECONDARY) > 0);
	assert_int_equal(vmx_ctl_value(proc, 1u << 17), -1); /* CR3-load default is fixed */
	assert_int_equal(vmx_ctl_value(proc, 1u << 0), -1);
	assert_int_equal(vmx_ctl_value(proc, PROC_IO_BITMAP | 1u << 18), -1);
	/* must-be-1 bits outside may1 (inconsistent MSR) are still OR-ed in */
	assert_int_equal(vmx_ctl_value((struct vmx_ctl){.must1 = 0x3, .may1 = 0x4}, 0x4), 0x7);
	assert_int_equal(vmx_ctl_value((struct vmx_ctl){0, 0}, 0), 0);
	assert_int_equal(vmx_ctl_value((struct vmx_ctl){0, 0xffffffffu}, 0xffffffffu),
			 0xffffffffLL);
}

static void test_describe_modern(void **state)
{
	struct vmx_caps c;
	char buf[256];

	(void)state;
	assert_int_equal(vmx_caps_parse(&modern, &c), 0);
	memset(buf, 0x5a, sizeof(buf));
	vmx_caps_describe(&c, buf, sizeof(buf));
	assert_string_equal(buf, "EPT 4K 2M 1G A/D, VPID, unrestricted guest, MSR/IO bitmaps, "
				 "preemption timer yes, APIC virtualization yes, TPR shadow yes, "
				 "posted interrupts yes, VMCS rev 0x4 size 4096");
}

static void test_describe_minimal(void **state)
{
	struct vmx_msrs m = modern;
	struct vmx_caps c;
	char buf[256];

	(void)state;
	m.basic = (m.basic & ~0x00001fffffffffffULL) | 0x0000040000000012ULL;
	m.ept_vpid &= ~(EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_AD);
	m.pin &= ~((uint64_t)(PIN_PREEMPT_TIMER | PIN_POSTED_INTR) << 32);
	m.proc &= ~((uint64_t)PROC_TPR_SHADOW << 32);
	m.proc2 &= ~((uint64_t)PROC2_VINTR << 32);
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	vmx_caps_describe(&c, buf, sizeof(buf));
	assert_string_equal(buf, "EPT 4K, VPID, unrestricted guest, MSR/IO bitmaps, "
				 "preemption timer no, APIC virtualization no, TPR shadow no, "
				 "posted interrupts no, VMCS rev 0x12 size 1024");

	m.ept_vpid |= EPT_CAP_1G;
	assert_int_equal(vmx_caps_parse(&m, &c), 0);
	vmx_caps_describe(&c, buf, 16);
	assert_string_equal(buf, "EPT 4K 1G, VPID");
	memset(buf, 0x5a, sizeof(buf));
	vmx_caps_describe(&c, buf, 8);
	assert_string_equal(buf, "EPT 4K ");
	assert_int_equal((unsigned char)buf[8], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_cpu),
		cmocka_unit_test(test_revision_and_size_fields),
		cmocka_unit_test(test_optional_features_follow_bits),
		cmocka_unit_test(test_apicv_needs_all_three),
		cmocka_unit_test(test_no_cpuid_vmx),
		cmocka_unit_test(test_feature_control_locked_off),
		cmocka_unit_test(test_feature_control_unlocked),
		cmocka_unit_test(test_no_unrestricted_guest),
		cmocka_unit_test(test_no_ept_no_vpid),
		cmocka_unit_test(test_no_secondary_controls),
		cmocka_unit_test(test_vmcs_memory_type),
		cmocka_unit_test(test_each_requirement),
		cmocka_unit_test(test_several_missing_in_order),
		cmocka_unit_test(test_missing_truncated),
		cmocka_unit_test(test_ctl_value),
		cmocka_unit_test(test_describe_modern),
		cmocka_unit_test(test_describe_minimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
