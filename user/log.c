// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "log.h"

static int log_level = LOG_LVL_WARN;
static int log_syslog;
static const char *log_ident = "attlsd";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *ident, int level, int use_syslog)
{
	log_ident = ident;
	log_level = level;
	/*
	 * No syslog socket (a container, a minimal host without journald or
	 * rsyslog): syslog(3) would drop every message silently, and errors
	 * routed to syslog only (Trace 2, the default) would be lost.  Send
	 * them to stderr instead, and say so once.
	 */
	log_syslog = use_syslog && access(_PATH_LOG, W_OK) == 0;
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (use_syslog)
		log_warnx("no syslog socket %s: messages for syslog go to "
			  "stderr (fix: start journald or rsyslog)", _PATH_LOG);
}

int log_get_level(void)
{
	return log_level;
}

static void vlog_to(unsigned dest, int prio, const char *fmt, va_list ap,
		    const char *suffix)
{
	char msg[4096];
	struct timespec ts;
	struct tm tm;

	/* Without syslog (attlsd -n, --cleanup) nothing may get lost. */
	if (!log_syslog && (dest & LOG_DEST_SYSLOG))
		dest |= LOG_DEST_STDERR;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (dest & LOG_DEST_STDERR) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s%s%s\n",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident, msg,
			suffix ? ": " : "", suffix ? suffix : "");
		pthread_mutex_unlock(&log_lock);
	}
	if (log_syslog && (dest & LOG_DEST_SYSLOG))
		syslog(prio, "%s%s%s", msg, suffix ? ": " : "",
		       suffix ? suffix : "");
}

static void vlog(int prio, const char *fmt, va_list ap, const char *suffix)
{
	vlog_to(LOG_DEST_STDERR | LOG_DEST_SYSLOG, prio, fmt, ap, suffix);
}

void log_to(unsigned dest, int prio, const char *fmt, ...)
{
	va_list ap;

	if (!dest)
		return;
	va_start(ap, fmt);
	vlog_to(dest, prio, fmt, ap, NULL);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

#define LOG_AT(fn, lvl, prio)					\
	void fn(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		if (log_level < (lvl))				\
			return;					\
		va_start(ap, fmt);				\
		vlog(prio, fmt, ap, NULL);			\
		va_end(ap);					\
	}

LOG_AT(log_info, LOG_LVL_INFO, LOG_INFO)
LOG_AT(log_debug, LOG_LVL_DEBUG, LOG_DEBUG)
LOG_AT(log_verbose, LOG_LVL_VERBOSE, LOG_DEBUG)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(EXIT_FAILURE);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(EXIT_FAILURE);
}

int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int want = level == LIBBPF_WARN ? LOG_LVL_DEBUG : LOG_LVL_VERBOSE;

	if (log_level < want)
		return 0;
	return vfprintf(stderr, fmt, ap);
}
