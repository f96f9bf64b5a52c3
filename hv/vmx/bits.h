/* VMX architectural constants: control bits, capability bits, VMCS field encodings, exit reasons.
 */
#ifndef HV_VMX_BITS_H
#define HV_VMX_BITS_H

/* pin-based controls */
#define PIN_EXT_INTR	  (1u << 0)
#define PIN_NMI_EXIT	  (1u << 3)
#define PIN_VIRTUAL_NMI	  (1u << 5)
#define PIN_PREEMPT_TIMER (1u << 6)
#define PIN_POSTED_INTR	  (1u << 7)

/* primary processor-based controls */
#define PROC_INTR_WINDOW  (1u << 2)
#define PROC_TSC_OFFSET	  (1u << 3)
#define PROC_HLT_EXIT	  (1u << 7)
#define PROC_MWAIT_EXIT	  (1u << 10)
#define PROC_RDPMC_EXIT	  (1u << 11)
#define PROC_CR8_LOAD	  (1u << 19)
#define PROC_CR8_STORE	  (1u << 20)
#define PROC_TPR_SHADOW	  (1u << 21)
#define PROC_NMI_WINDOW	  (1u << 22)
#define PROC_MOV_DR_EXIT  (1u << 23)
#define PROC_IO_BITMAP	  (1u << 25)
#define PROC_MTF	  (1u << 27)
#define PROC_MSR_BITMAP	  (1u << 28)
#define PROC_MONITOR_EXIT (1u << 29)
#define PROC_SECONDARY	  (1u << 31)

/* secondary processor-based controls */
#define PROC2_VAPIC	   (1u << 0)
#define PROC2_EPT	   (1u << 1)
#define PROC2_RDTSCP	   (1u << 3)
#define PROC2_VPID	   (1u << 5)
#define PROC2_UNRESTRICTED (1u << 7)
#define PROC2_APIC_REG	   (1u << 8)
#define PROC2_VINTR	   (1u << 9)
#define PROC2_PLE	   (1u << 10) /* PAUSE-loop exiting */
#define PROC2_INVPCID	   (1u << 12)

/* VM-exit controls */
#define EXIT_SAVE_DEBUG	  (1u << 2)
#define EXIT_HOST_64	  (1u << 9)
#define EXIT_SAVE_PAT	  (1u << 18)
#define EXIT_LOAD_PAT	  (1u << 19)
#define EXIT_SAVE_EFER	  (1u << 20)
#define EXIT_LOAD_EFER	  (1u << 21)
#define EXIT_SAVE_PREEMPT (1u << 22)

/* VM-entry controls */
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E	 (1u << 9)
#define ENTRY_LOAD_PAT	 (1u << 14)
#define ENTRY_LOAD_EFER	 (1u << 15)

/* IA32_VMX_EPT_VPID_CAP */
#define EPT_CAP_WALK4		(1ULL << 6)
#define EPT_CAP_WB		(1ULL << 14)
#define EPT_CAP_2M		(1ULL << 16)
#define EPT_CAP_1G		(1ULL << 17)
#define EPT_CAP_INVEPT		(1ULL << 20)
#define EPT_CAP_AD		(1ULL << 21)
#define EPT_CAP_INVEPT_SINGLE	(1ULL << 25)
#define EPT_CAP_INVEPT_ALL	(1ULL << 26)
#define VPID_CAP_INVVPID	(1ULL << 32)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL	(1ULL << 42)

/* VMCS fields: 16-bit */
#define VMCS_VPID	  0x0000
#define VMCS_GUEST_ES_SEL 0x0800
#define VMCS_HOST_ES_SEL  0x0c00
#define VMCS_HOST_CS_SEL  0x0c02
#define VMCS_HOST_SS_SEL  0x0c04
#define VMCS_HOST_DS_SEL  0x0c06
#define VMCS_HOST_FS_SEL  0x0c08
#define VMCS_HOST_GS_SEL  0x0c0a
#define VMCS_HOST_TR_SEL  0x0c0c
/* 64-bit */
#define VMCS_IO_BITMAP_A     0x2000
#define VMCS_IO_BITMAP_B     0x2002
#define VMCS_MSR_BITMAP	     0x2004
#define VMCS_TSC_OFFSET	     0x2010
#define VMCS_EPTP	     0x201a
#define VMCS_GUEST_PHYS_ADDR 0x2400
#define VMCS_LINK_POINTER    0x2800
#define VMCS_GUEST_DEBUGCTL  0x2802
#define VMCS_GUEST_PAT	     0x2804
#define VMCS_GUEST_EFER	     0x2806
#define VMCS_GUEST_PDPTE0    0x280a
#define VMCS_HOST_PAT	     0x2c00
#define VMCS_HOST_EFER	     0x2c02
/* 32-bit */
#define VMCS_PIN_CTLS		    0x4000
#define VMCS_PROC_CTLS		    0x4002
#define VMCS_EXCEPTION_BITMAP	    0x4004
#define VMCS_PF_ERR_MASK	    0x4006
#define VMCS_PF_ERR_MATCH	    0x4008
#define VMCS_CR3_TARGET_COUNT	    0x400a
#define VMCS_EXIT_CTLS		    0x400c
#define VMCS_EXIT_MSR_STORE_COUNT   0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010
#define VMCS_ENTRY_CTLS		    0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014
#define VMCS_ENTRY_INTR_INFO	    0x4016
#define VMCS_ENTRY_EXC_ERROR	    0x4018
#define VMCS_ENTRY_INSN_LEN	    0x401a
#define VMCS_PROC2_CTLS		    0x401e
#define VMCS_PLE_GAP		    0x4020
#define VMCS_PLE_WINDOW		    0x4022
#define VMCS_INSN_ERROR		    0x4400
#define VMCS_EXIT_REASON	    0x4402
#define VMCS_EXIT_INTR_INFO	    0x4404
#define VMCS_EXIT_INTR_ERROR	    0x4406
#define VMCS_IDT_VECTORING_INFO	    0x4408
#define VMCS_IDT_VECTORING_ERROR    0x440a
#define VMCS_EXIT_INSN_LEN	    0x440c
#define VMCS_EXIT_INSN_INFO	    0x440e
#define VMCS_GUEST_ES_LIMIT	    0x4800
#define VMCS_GUEST_IDTR_LIMIT	    0x4812
#define VMCS_GUEST_GDTR_LIMIT	    0x4810
#define VMCS_GUEST_ES_AR	    0x4814
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY	    0x4826
#define VMCS_GUEST_SYSENTER_CS	    0x482a
#define VMCS_PREEMPT_TIMER	    0x482e
#define VMCS_HOST_SYSENTER_CS	    0x4c00
/* natural width */
#define VMCS_CR0_MASK		0x6000
#define VMCS_CR4_MASK		0x6002
#define VMCS_CR0_SHADOW		0x6004
#define VMCS_CR4_SHADOW		0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400
#define VMCS_GUEST_LINEAR_ADDR	0x640a
#define VMCS_GUEST_CR0		0x6800
#define VMCS_GUEST_CR3		0x6802
#define VMCS_GUEST_CR4		0x6804
#define VMCS_GUEST_ES_BASE	0x6806
#define VMCS_GUEST_GDTR_BASE	0x6816
#define VMCS_GUEST_IDTR_BASE	0x6818
#define VMCS_GUEST_DR7		0x681a
#define VMCS_GUEST_RSP		0x681c
#define VMCS_GUEST_RIP		0x681e
#define VMCS_GUEST_RFLAGS	0x6820
#define VMCS_GUEST_PENDING_DBG	0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0		0x6c00
#define VMCS_HOST_CR3		0x6c02
#define VMCS_HOST_CR4		0x6c04
#define VMCS_HOST_FS_BASE	0x6c06
#define VMCS_HOST_GS_BASE	0x6c08
#define VMCS_HOST_TR_BASE	0x6c0a
#define VMCS_HOST_GDTR_BASE	0x6c0c
#define VMCS_HOST_IDTR_BASE	0x6c0e
#define VMCS_HOST_SYSENTER_ESP	0x6c10
#define VMCS_HOST_SYSENTER_EIP	0x6c12
#define VMCS_HOST_RSP		0x6c14
#define VMCS_HOST_RIP		0x6c16

/* guest segment fields are laid out per segment: ES CS SS DS FS GS LDTR TR, stride 2 */
#define VMCS_SEG_SEL(s)	  (VMCS_GUEST_ES_SEL + 2 * (s))
#define VMCS_SEG_LIMIT(s) (VMCS_GUEST_ES_LIMIT + 2 * (s))
#define VMCS_SEG_AR(s)	  (VMCS_GUEST_ES_AR + 2 * (s))
#define VMCS_SEG_BASE(s)  (VMCS_GUEST_ES_BASE + 2 * (s))

/* exit reasons (basic, bits 15:0) */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0,
	EXIT_REASON_EXTERNAL_INTR = 1,
	EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INIT = 3,
	EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTR_WINDOW = 7,
	EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10,
	EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12,
	EXIT_REASON_RDPMC = 15,
	EXIT_REASON_VMCALL = 18,
	EXIT_REASON_VMCLEAR = 19,
	EXIT_REASON_VMXON = 27,
	EXIT_REASON_CR_ACCESS = 28,
	EXIT_REASON_DR_ACCESS = 29,
	EXIT_REASON_IO = 30,
	EXIT_REASON_RDMSR = 31,
	EXIT_REASON_WRMSR = 32,
	EXIT_REASON_MWAIT = 36,
	EXIT_REASON_MTF = 37,
	EXIT_REASON_MONITOR = 39,
	EXIT_REASON_PAUSE = 40,
	EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49,
	EXIT_REASON_INVEPT = 50,
	EXIT_REASON_PREEMPT_TIMER = 52,
	EXIT_REASON_INVVPID = 53,
	EXIT_REASON_XSETBV = 55,
	EXIT_REASON_VMFUNC = 59,
	EXIT_REASON_MAX = 65,
};
#define EXIT_REASON_FAILED_ENTRY (1u << 31)

/* interruption information (entry and exit) */
#define INTR_INFO_VALID	       (1u << 31)
#define INTR_INFO_ERROR_CODE   (1u << 11)
#define INTR_TYPE_EXT_INTR     (0u << 8)
#define INTR_TYPE_NMI	       (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_PRIV_SW_EXC  (5u << 8) /* ICEBP */
#define INTR_TYPE_MASK	       (7u << 8)

/* guest interruptibility */
#define INTERRUPTIBILITY_STI	(1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
/* blocking by STI or by MOV SS: the interrupt shadow */
#define INTERRUPTIBILITY_SHADOW (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)
#define INTERRUPTIBILITY_NMI	(1u << 3)

#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT	1

#endif
