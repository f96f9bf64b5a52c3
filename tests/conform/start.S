/*
 * The QEMU conformance guest's entry (tests/conform/qconform.c): a Multiboot (v1) kernel that
 * QEMU's -kernel loads and enters in 32-bit protected mode with paging off. Also here: the
 * exception stubs, the AP trampoline and the bodies of the tasks the task-switch checks run.
 */
	.section .multiboot, "a"
	.balign 4
	.long 0x1badb002, 0, -0x1badb002	/* magic, flags, checksum */

	.text
	.code32
	.globl _start
_start:
	cli
	mov $stack_top, %esp
	push %ebx			/* the Multiboot information */
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	call qconform_main
2:	cli
	hlt
	jmp 2b

/* vectors 0-31: the frame struct frame describes; the CPU pushes an error code for these */
	.set ERRCODES, (1 << 8) | (0x7c00) | (1 << 17) | (1 << 21)
	.globl isr_table
	.balign 16 /* (the IDT's gates point at isr_table + 16 * vector) */
isr_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	.if !((ERRCODES >> \n) & 1)
	push $0
	.endif
	push $\n
	jmp isr_common
	.endr
/* the interrupts check_irqs() raises: vectors 0x40 (self-IPI) and 0x41 (LAPIC timer) */
	.globl irq_stubs
	.balign 16
irq_stubs:
	push $0
	push $0x40
	jmp isr_common
	.balign 16
	push $0
	push $0x41
	jmp isr_common
	.balign 16			/* 0x43-0x45: Hyper-V's SINT, IPI and direct timer */
	push $0
	push $0x43
	jmp isr_common
	.balign 16
	push $0
	push $0x44
	jmp isr_common
	.balign 16
	push $0
	push $0x45
	jmp isr_common
isr_common:
	pusha
	push %esp
	call exception
	add $4, %esp
	popa
	add $8, %esp
	iret

/* Task bodies: each records that it ran and returns (IRET to its back link, or a JMP to the
 * main task); the next switch to it resumes after that return, so each is a loop. */
	.globl task_nested, task_jmp, task_fault
task_nested:				/* entered by CALL or a task gate: NT set */
	call task_nested_body
	iret
	jmp task_nested
task_jmp:				/* entered by JMP: back to the main task by JMP */
	call task_jmp_body
	ljmp $0x18, $0
	jmp task_jmp
task_fault:				/* #GP's task gate: the error code is on this task's stack */
	call task_fault_body		/* (steps the main task past the faulting instruction) */
	add $4, %esp
	iret
	jmp task_fault

/* The AP trampoline, copied to a page below 1 MiB whose number is the SIPI vector: it counts
 * its start, notes its CS and its initial APIC ID (CPUID), and halts with interrupts off. */
	.globl tramp, tramp_end
	.code16
tramp:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov $1, %eax
	cpuid
	shr $24, %ebx
	mov %ebx, 0x6004
	mov %cs, %ax
	mov %ax, 0x6008
	lock incl 0x6000
3:	hlt
	jmp 3b
tramp_end:
	.code32

	.bss
	.balign 16
	.space 16384
stack_top:
