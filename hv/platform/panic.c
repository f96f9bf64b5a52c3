/* panic() and hv_stop(): the only ways a run ends. */
#include "../lib/panic.h"
#include "../lib/log.h"
#include "power.h"
#include "../lib/printf.h"
#include "x86.h"

#define PANIC_TAIL_LINES 10

bool hv_poweroff_at_end;
static int panicking;

__noreturn void hv_stop(bool ok, const char *why)
{
	if (!hv_poweroff_at_end) {
		log_emergency("hv: stopped (%s); halting\n", why);
		halt_forever();
	}
	if (ok)
		log_emergency("hv: result: PASS\n");
	else
		log_emergency("hv: result: FAIL (%s)\n", why);
	power_off(ok);
}

__noreturn void panic(const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	uint64_t rsp, rbp;

	cli();
	if (__atomic_fetch_add(&panicking, 1, __ATOMIC_SEQ_CST))
		halt_forever(); /* a panic inside a panic: nothing sensible is left */
	va_start(ap, fmt);
	fmt_vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	__asm__ volatile("mov %%rsp, %0; mov %%rbp, %1" : "=r"(rsp), "=r"(rbp));
	log_emergency("\n*** PANIC on CPU (APIC id %u): %s\n", apic_id_self(), reason);
	log_emergency("  caller %p  RSP %016lx  RBP %016lx  RFLAGS %016lx\n",
		      __builtin_return_address(0), rsp, rbp, read_rflags());
	log_emergency("  CR0 %016lx  CR2 %016lx  CR3 %016lx  CR4 %016lx\n", read_cr0(), read_cr2(),
		      read_cr3(), read_cr4());
	log_emergency("--- last log lines ---\n");
	log_dump_tail(PANIC_TAIL_LINES);
	log_emergency("--- end of panic report ---\n");
	hv_stop(false, reason);
}
