/*
 * Guest self-tests and the exit-cost benchmark (command line: selftest, bench), in
 * tests/hv/selftest.c: linked only into build/hv-test.elf, so NULL in the image users boot.
 */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

void selftest_run(void) __attribute__((weak));
void bench_run(void) __attribute__((weak));

#endif
