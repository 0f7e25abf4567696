/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * privdrop.h - least privilege for attlsd: once the programs are loaded
 * and attached, the listeners adopted and the control socket open, attlsd
 * keeps only the capabilities it still uses (docs/security.md G14).
 *
 * Capabilities are per thread on Linux (capset(2) changes the calling
 * thread only), so the daemon's thread and every worker thread (engine,
 * zERT collector) drop their own; /proc/PID/task/TID/status shows each.
 */
#ifndef ATTLS_PRIVDROP_H
#define ATTLS_PRIVDROP_H

/*
 * The main thread, after startup: keep CAP_DAC_READ_SEARCH only (a reload
 * reads key rings, stash files and the policy, owned by their users with
 * mode 0600); drop every other capability from the effective, permitted,
 * inheritable, ambient and bounding sets.  0 or -errno (then nothing may
 * have been dropped; the caller decides).
 */
int privdrop_daemon(void);

/*
 * A worker thread (engine relay, zERT collector): no capability at all;
 * it works only on descriptors the daemon opened.  0 or -errno.
 */
int privdrop_worker(void);

/*
 * The calling thread's effective capability set, as the 64-bit mask of
 * /proc/self/status CapEff (for logs and tests).
 */
unsigned long long privdrop_effective(void);

#endif /* ATTLS_PRIVDROP_H */
