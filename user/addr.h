/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* addr.h - formatting and conversion of ABI addresses for user space. */
#ifndef ATTLS_ADDR_H
#define ATTLS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "../bpf/attls_abi.h"

#define ATTLS_ADDRSTRLEN 46	/* INET6_ADDRSTRLEN */

/* "192.0.2.1" for a v4-mapped address, else the IPv6 text form.
 * Returns buf. */
const char *attls_addr_str(const __u8 *addr, char *buf, size_t len);

/* ABI address + host port from a sockaddr_in/in6.  0 or -EAFNOSUPPORT. */
int attls_addr_from_sockaddr(const struct sockaddr *sa, __u8 *addr, __u16 *port);

/* sockaddr (AF_INET for v4-mapped when `family` is ATTLS_AF_INET, else
 * AF_INET6) from an ABI address + host port; returns its length. */
socklen_t attls_sockaddr_from_addr(const __u8 *addr, __u16 port, int family,
				   struct sockaddr_storage *ss);

#endif /* ATTLS_ADDR_H */
