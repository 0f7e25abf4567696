// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_trace.c - where the AT-TLS Trace bits send a connection's messages
 * (user/trace.c), and the return-code index the engine counters use.
 */
#include "../../user/log.h"
#include "../../user/rc_table.h"
#include "../../user/trace.h"
#include "unit.h"

static void test_trace_dest(void)
{
	const unsigned err = ATTLS_TRACE_ERR_SYSLOG;

	ASSERT_TRUE(trace_dest(0, err, 0) == 0, "Trace 0: errors nowhere");
	ASSERT_TRUE(trace_dest(0, err, 1) == 0, "Trace 0: not even with -d");
	ASSERT_TRUE(trace_dest(1, err, 0) == LOG_DEST_STDERR, "1: the daemon log only");
	ASSERT_TRUE(trace_dest(2, err, 0) == LOG_DEST_SYSLOG, "2: syslog only");
	ASSERT_TRUE(trace_dest(3, err, 0) == (LOG_DEST_STDERR | LOG_DEST_SYSLOG),
		    "3: both");
	ASSERT_TRUE(trace_dest(2, err, 1) == (LOG_DEST_STDERR | LOG_DEST_SYSLOG),
		    "-d copies syslog lines to the daemon log");
	ASSERT_TRUE(trace_dest(2, ATTLS_TRACE_INFO, 0) == 0, "2: no info");
	ASSERT_TRUE(trace_dest(4, ATTLS_TRACE_INFO, 0) == LOG_DEST_SYSLOG,
		    "info goes to syslog");
	ASSERT_TRUE(trace_dest(4, err, 0) == 0, "4 alone: errors nowhere");
	ASSERT_TRUE(trace_dest(8, ATTLS_TRACE_EVENT | ATTLS_TRACE_FLOW, 0) ==
		    LOG_DEST_SYSLOG, "a start line shows with events or flow");
	ASSERT_TRUE(trace_dest(16, ATTLS_TRACE_DATA, 1) == 0, "16: no data lines");
	ASSERT_TRUE(trace_dest(255, ATTLS_TRACE_DATA, 0) == LOG_DEST_SYSLOG, "255: data");
}

static void test_rc_index(void)
{
	const struct attls_rc_info *t;
	size_t n, i;

	t = attls_rc_table(&n);
	ASSERT_TRUE(n <= ATTLS_RC_MAX_CODES, "counter slots for every code");
	for (i = 0; i < n; i++)
		ASSERT_TRUE(attls_rc_index(t[i].rc) == (int)i, "index of each code");
	ASSERT_TRUE(attls_rc_index(1) == -1 && attls_rc_index(99999) == -1,
		    "unknown codes have no slot");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_trace_dest),
		UNIT_TEST(test_rc_index),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
