/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * log.h - the one logging module of attlsd (docs/style.md #10).
 *
 * log_warn() appends strerror(errno); log_warnx() does not.  fatal()/fatalx()
 * log and exit(EXIT_FAILURE).  Messages go to stderr, and with
 * log_init(..., use_syslog=1) also to syslog (facility daemon), which is
 * where AT-TLS sends its EZD128xI messages.
 */
#ifndef ATTLS_LOG_H
#define ATTLS_LOG_H

#include <stdarg.h>

#include <bpf/libbpf.h>

enum log_level {
	LOG_LVL_WARN = 0,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_VERBOSE,
};

/* Destinations of log_to(): the daemon log (stderr) and syslog. */
#define LOG_DEST_STDERR		1u
#define LOG_DEST_SYSLOG		2u

void log_init(const char *ident, int level, int use_syslog);
int log_get_level(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * One line to the destinations in `dest` (LOG_DEST_*), whatever the log
 * level, with syslog priority `prio`: how the AT-TLS Trace bits of a
 * connection route its messages (user/trace.c).  Without syslog
 * (log_init(..., 0)) syslog lines go to stderr.  dest 0: nothing.
 */
void log_to(unsigned dest, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* libbpf_set_print() callback: libbpf warnings at DEBUG, the rest at VERBOSE. */
int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap);

#endif /* ATTLS_LOG_H */
