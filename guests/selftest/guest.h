/* Shared by the self-test guests: ports, hypercall numbers and the fault-skip convention. */
#define PORT_REPORT 0xe0	/* OUT: a 32-bit value the test checks */
#define PORT_BYTE 0xe1		/* OUT: an 8-bit value (marks, vectors) */
#define PORT_INPUT 0xe2		/* IN: the test supplies a value */
#define PORT_STRING 0xe3	/* OUTS/INS */
#define HC_ABI_VERSION 0
#define HC_NOP 1
#define HC_VM_CREATE 2
/* A fault handler adds the byte at SKIP to the return address: set it before a faulting insn. */
#define SKIP 0x0ff0
#define STACK_TOP 0x8000
