/* Leveled logging to the serial console and the in-memory log ring. */
#ifndef HV_LOG_H
#define HV_LOG_H

#include "types.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(void);
void log_set_level(enum log_level level);
/* Parses "err", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);
void hv_log(enum log_level level, const char *fmt, ...) __printf(2, 3);
/* Prints the last `lines` lines of the ring to the console (panic path, no lock). */
void log_dump_tail(unsigned lines);
/* Unlocked console output for the panic path. */
void log_emergency(const char *fmt, ...) __printf(1, 2);

#define pr_err(...)   hv_log(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  hv_log(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  hv_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) hv_log(LOG_DEBUG, __VA_ARGS__)

#endif
