// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "../bpf/attls_tuple.h"

const char *attls_addr_str(const __u8 *addr, char *buf, size_t len)
{
	if (attls_addr_is_v4mapped(addr)) {
		if (!inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len))
			buf[0] = '\0';
	} else if (!inet_ntop(AF_INET6, addr, buf, (socklen_t)len)) {
		buf[0] = '\0';
	}
	return buf;
}

int attls_addr_from_sockaddr(const struct sockaddr *sa, __u8 *addr, __u16 *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		attls_addr_from_v4(addr, sin->sin_addr.s_addr);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		memcpy(addr, &sin6->sin6_addr, ATTLS_ADDR_LEN);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t attls_sockaddr_from_addr(const __u8 *addr, __u16 port, int family,
				   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == ATTLS_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr + 12, 4);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr, ATTLS_ADDR_LEN);
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}
