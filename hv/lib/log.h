/* Leveled logging to the serial console and the in-memory log ring. */
#ifndef HV_LOG_H
#define HV_LOG_H

#include "types.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(void);
/* The console's level by name ("err", "warn", "info" or "debug"); false for anything else. */
bool log_set_level(const char *name);
void hv_log(enum log_level level, const char *fmt, ...) __printf(2, 3);

/* The exported log: this header page, then the ring; head is the next sequence number. */
#define HVLOG_MAGIC "HVLOGv1"
struct hvlog_header {
	char magic[8];
	uint64_t size;		/* ring bytes (a power of two) */
	volatile uint64_t head; /* byte seq % size is at ring offset seq % size */
};
/* The header page (an image symbol); returns the length of header and ring together. */
uint64_t log_export(const void **page);
/* A byte dom0 writes to the console; the hypervisor's lines wait until dom0 ends its line. */
void log_dom0_putc(char c);
/* Prints the last `lines` lines of the ring to the console (panic path, no lock). */
void log_dump_tail(unsigned lines);
/* Unlocked console output for the panic path. */
void log_emergency(const char *fmt, ...) __printf(1, 2);

#define pr_err(...)   hv_log(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  hv_log(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  hv_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) hv_log(LOG_DEBUG, __VA_ARGS__)

#endif
