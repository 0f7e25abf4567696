/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * attls.h - libattls: application control of attls-protected connections,
 * the Linux counterpart of z/OS AT-TLS's SIOCTTLSCTL ioctl.
 *
 * An application asks about, or (with ApplicationControlled On in its
 * policy) controls, the TLS session attls runs for one of its own TCP
 * sockets:
 *
 *	struct attls_ioc ioc = { .version = ATTLS_IOC_VERSION,
 *				 .req = ATTLS_REQ_INIT_CONNECTION };
 *	if (attls_ioctl(fd, &ioc) < 0)
 *		... errno (table in docs/appctl.md), ioc.rc = AT-TLS RC
 *
 * The socket itself is the credential: libattls passes it to attlsd with
 * SCM_RIGHTS over the unix socket ATTLS_APPCTL_SOCK (or the environment
 * variable of that name), and attlsd finds the connection from the
 * kernel's socket, never from addresses.  No privilege is needed; a
 * process that does not hold a socket cannot name it.
 *
 * Link with -lattls (pkg-config attls).  Thread-safe: each call uses its
 * own connection to attlsd.
 */
#ifndef ATTLS_H
#define ATTLS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTLS_IOC_VERSION	1

/* Default daemon socket (attlsd with the default pin root /sys/fs/bpf/attls;
 * attlsd -p /sys/fs/bpf/X listens on /run/attls/X.appctl.sock). */
#define ATTLS_APPCTL_SOCK	"/run/attls/attls.appctl.sock"

/* attls_ioc.req: an OR of these (AT-TLS TTLSi_Req_Type). */
#define ATTLS_REQ_QUERY			0x01u	/* status only, changes nothing */
#define ATTLS_REQ_INIT_CONNECTION	0x02u	/* start the TLS handshake */
#define ATTLS_REQ_RESET_SESSION		0x04u	/* next handshake is a full one */
#define ATTLS_REQ_RESET_CIPHER		0x08u	/* new keys now (TLS 1.3 KeyUpdate,
						 * TLS 1.2 renegotiation) */
#define ATTLS_REQ_STOP_CONNECTION	0x10u	/* close_notify, back to cleartext */
#define ATTLS_REQ_ALLOW_HSTIMEOUT	0x20u	/* with INIT (server): no handshake
						 * within HandshakeTimeout keeps the
						 * connection, in cleartext */
#define ATTLS_REQ_RETURN_CERTIFICATE	0x40u	/* partner certificate (DER) */
#define ATTLS_REQ_RESET_WRITE_CIPHER	0x80u	/* new keys for what attls sends
						 * (TLS 1.3 KeyUpdate, the partner
						 * is not asked to update) */
#define ATTLS_REQ_SEND_SESSION_TICKET	0x100u	/* a NewSessionTicket now (TLS 1.3
						 * server role, resumption on) */
#define ATTLS_REQ_ALL			0x1ffu
/* The requests that need ApplicationControlled On (else EACCES). */
#define ATTLS_REQ_CONTROL	(ATTLS_REQ_INIT_CONNECTION | ATTLS_REQ_RESET_SESSION | \
				 ATTLS_REQ_RESET_CIPHER | ATTLS_REQ_STOP_CONNECTION | \
				 ATTLS_REQ_RESET_WRITE_CIPHER | \
				 ATTLS_REQ_SEND_SESSION_TICKET)

/* attls_ioc.stat_policy (AT-TLS TTLSi_Stat_Policy). */
#define ATTLS_POL_OFF		1	/* attls is not running */
#define ATTLS_POL_NO_POLICY	2	/* no TLS rule protects the connection */
#define ATTLS_POL_NOT_ENABLED	3	/* the rule has TTLSEnabled Off (rule
					 * names it); attls does not carry it */
#define ATTLS_POL_ENABLED	4	/* protected, ApplicationControlled Off */
#define ATTLS_POL_APPLCNTRL	5	/* protected, ApplicationControlled On */

/* attls_ioc.stat_conn (AT-TLS TTLSi_Stat_Conn). */
#define ATTLS_CONN_NOTSECURE	1	/* cleartext */
#define ATTLS_CONN_HS_INPROGRESS 2	/* handshake (or stop) in progress */
#define ATTLS_CONN_SECURE	3	/* TLS */

/* attls_ioc.sec_type (AT-TLS TTLSi_Sec_Type): the role attls plays. */
#define ATTLS_SEC_UNKNOWN	0
#define ATTLS_SEC_CLIENT	1
#define ATTLS_SEC_SERVER	2
#define ATTLS_SEC_SRV_CA_PASS	3	/* ServerWithClientAuth PassThru */
#define ATTLS_SEC_SRV_CA_FULL	4	/* ... Full */
#define ATTLS_SEC_SRV_CA_REQD	5	/* ... Required */
#define ATTLS_SEC_SRV_CA_SAFCHK	6	/* ... SAFCheck */

/* attls_ioc.protocol: the TLS version as on the wire, 0 when not secure. */
#define ATTLS_PROT_TLSV1_2	0x0303
#define ATTLS_PROT_TLSV1_3	0x0304

struct attls_ioc {
	/* in */
	uint32_t version;		/* ATTLS_IOC_VERSION */
	uint32_t req;			/* ATTLS_REQ_* */
	void *cert_buf;			/* RETURN_CERTIFICATE: buffer, else NULL */
	uint32_t cert_buf_len;		/* its size (0 without RETURN_CERTIFICATE) */
	/* out (valid after success, and with ENOBUFS / EACCES) */
	uint32_t cert_len;		/* DER length; with ENOBUFS the size needed */
	uint32_t stat_policy;		/* ATTLS_POL_* */
	uint32_t stat_conn;		/* ATTLS_CONN_* */
	uint32_t sec_type;		/* ATTLS_SEC_* */
	uint32_t protocol;		/* ATTLS_PROT_*, 0 = not secure */
	uint32_t cipher;		/* IANA cipher suite (0x1302), 0 = none */
	uint32_t key_share;		/* IANA TLS group (0x001d X25519), 0 = none
					 * or not known */
	int32_t rc;			/* AT-TLS return code of a failure (e.g.
					 * the handshake's, with ECONNRESET); 0 */
	uint32_t pad;
	uint64_t conn_id;		/* attlsd CONNID, 0 = none */
	char cipher_name[64];		/* IANA name, "" = none */
	char group_name[32];		/* key exchange group, "" = none */
	char rule[48];			/* TTLSRule name, "" = none */
};

/*
 * Query or control the attls session of TCP socket fd (see the request
 * flags).  INIT_CONNECTION on a blocking socket returns after the
 * handshake; on an O_NONBLOCK socket it returns -1/EINPROGRESS at once and
 * the application polls with ATTLS_REQ_QUERY until stat_conn is not
 * ATTLS_CONN_HS_INPROGRESS.  STOP_CONNECTION likewise.
 * Returns 0, or -1 with errno set (docs/appctl.md has the table):
 *   EINVAL  bad version, flags, or buffer arguments
 *   EPERM   illegal combination (INIT with RESET_* or STOP, ...)
 *   ENOTSOCK / EPROTOTYPE / ENOTCONN  not a connected TCP socket
 *   EACCES  control request, but not ApplicationControlled On (or no rule)
 *   EALREADY INIT when secure (or in progress), STOP when not secure
 *   EWOULDBLOCK  a handshake or stop is in progress (non-blocking socket);
 *           also (EAGAIN) INIT/STOP while bytes written before it still
 *           wait in the socket's send queue (the partner does not read):
 *           nothing changed, retry later
 *   EINPROGRESS  INIT/STOP started on a non-blocking socket
 *   ECONNRESET  the handshake failed (ioc->rc: why); connection reset
 *   EPROTO  STOP with data the application has not read yet
 *   ENOBUFS certificate buffer too small (ioc->cert_len: size needed)
 *   (RETURN_CERTIFICATE with no partner certificate: 0 and cert_len 0)
 *   EOPNOTSUPP  RESET_CIPHER / RESET_WRITE_CIPHER / SEND_SESSION_TICKET
 *           not possible on this session (not TLS 1.3; a ticket from the
 *           client role or with GSK_V3_SESSION_TIMEOUT 0)
 *   ENOSYS  attlsd does not answer (ioc->stat_policy = ATTLS_POL_OFF; a
 *           plain ATTLS_REQ_QUERY then returns 0)
 *   EBADF   fd is not open
 */
int attls_ioctl(int fd, struct attls_ioc *ioc);

/* Short text of an ATTLS_POL_* / ATTLS_CONN_* / ATTLS_SEC_* value. */
const char *attls_policy_str(uint32_t stat_policy);
const char *attls_conn_str(uint32_t stat_conn);
const char *attls_sec_str(uint32_t sec_type);

/*
 * ---- wire protocol between libattls and attlsd (not for applications) ---
 *
 * A SOCK_SEQPACKET unix socket; per call one connection, one request
 * message carrying the application's socket (SCM_RIGHTS, exactly one fd)
 * and one reply message: struct attls_wire_rep followed by rep.cert_len
 * bytes of DER when a certificate is returned.  Both start with magic,
 * version and their own size, so either side refuses what it does not
 * understand (attlsd answers EINVAL).  Fields are host order (same host).
 */
#define ATTLS_WIRE_MAGIC	0x534c5441u	/* "ATLS" */
#define ATTLS_WIRE_VERSION	1
#define ATTLS_WF_NONBLOCK	0x1u	/* the application's socket is O_NONBLOCK */
#define ATTLS_WIRE_CERT_MAX	65536	/* largest certificate returned */

struct attls_wire_req {
	uint32_t magic;
	uint16_t version;
	uint16_t size;			/* sizeof(struct attls_wire_req) */
	uint32_t req;			/* ATTLS_REQ_* */
	uint32_t flags;			/* ATTLS_WF_* */
	uint32_t cert_max;		/* largest certificate the caller takes */
	uint32_t pad;
};

struct attls_wire_rep {
	uint32_t magic;
	uint16_t version;
	uint16_t size;			/* sizeof(struct attls_wire_rep) */
	int32_t err;			/* 0 or a positive errno */
	int32_t rc;			/* AT-TLS return code, 0 */
	uint32_t stat_policy, stat_conn, sec_type, protocol, cipher, key_share;
	uint32_t cert_len;		/* DER length (sent only if <= cert_max) */
	uint32_t pad;
	uint64_t conn_id;
	char cipher_name[64];
	char group_name[32];
	char rule[48];
};

#ifdef __cplusplus
}
#endif

#endif /* ATTLS_H */
