/* Guest self-tests and the exit-cost benchmark (command line: selftest, bench). */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

void selftest_run(void);
void bench_run(void);

#endif
