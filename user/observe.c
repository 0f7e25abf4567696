// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * observe.c - TLS and SSH stream observation (see observe.h).
 *
 * Every read goes through `struct rd`, a bounds-checked cursor whose error
 * is sticky: a length field that points past the data makes every later
 * read return zero/NULL, so a parser can read a whole structure and check
 * once.  No pointer arithmetic on input happens outside it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "observe.h"

/* Handshake bytes kept per direction: more than the kernel captures
 * (ATTLS_OBS_MAX_BYTES), so only a caller feeding more is truncated. */
#define OBS_HS_MAX	16384
#define SSH_MAX_PRE_LINES 32	/* lines a server may send before its banner */

/* ---- bounds-checked reader -------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int bad;
};

static void rd_init(struct rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->bad = 0;
}

static size_t rd_left(const struct rd *r)
{
	return r->bad ? 0 : r->len - r->off;
}

/* A big-endian integer of n (1..4) bytes; 0 and sticky error if short. */
static uint32_t rd_be(struct rd *r, unsigned n)
{
	uint32_t v = 0;
	unsigned i;

	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v = v << 8 | r->p[r->off++];
	return v;
}

static const uint8_t *rd_bytes(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

/* A vector with an n-byte length prefix, as a sub-reader. */
static int rd_vec(struct rd *r, unsigned n, struct rd *sub)
{
	size_t len = rd_be(r, n);
	const uint8_t *p = rd_bytes(r, len);

	rd_init(sub, p, len);
	sub->bad = r->bad;
	return !r->bad;
}

/* Copy untrusted text as printable ASCII ('?' for anything else). */
static void copy_text(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t i;

	if (!dstlen)
		return;
	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[n] = '\0';
}

/* Append ",text" (or "text" to an empty dst) within dstlen. */
static void append_text(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t used = strlen(dst);

	if (used && used + 1 < dstlen) {
		dst[used++] = ',';
		dst[used] = '\0';
	}
	if (used < dstlen)
		copy_text(dst + used, dstlen - used, src, n);
}

int obs_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

enum obs_kind obs_sniff(const uint8_t *p, size_t len)
{
	if (len < 4)
		return OBS_KIND_UNKNOWN;
	/* a handshake record, record version 3.0 .. 3.4, length <= 2^14+2048 */
	if (p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && p[3] <= 0x48)
		return OBS_KIND_TLS;
	if (!memcmp(p, "SSH-", 4))
		return OBS_KIND_SSH;
	return OBS_KIND_NONE;
}

/* ---- tables ------------------------------------------------------------ */

#define CS(c, n, k, a, e, b, m) { c, "TLS_" n, k, a, e, b, m }

static const struct obs_cipher ciphers[] = {
	/* TLS 1.3: key exchange and authentication are not in the suite */
	CS(0x1301, "AES_128_GCM_SHA256", "any", "any", "AES-128-GCM", 128, "AEAD"),
	CS(0x1302, "AES_256_GCM_SHA384", "any", "any", "AES-256-GCM", 256, "AEAD"),
	CS(0x1303, "CHACHA20_POLY1305_SHA256", "any", "any", "CHACHA20-POLY1305", 256, "AEAD"),
	CS(0x1304, "AES_128_CCM_SHA256", "any", "any", "AES-128-CCM", 128, "AEAD"),
	CS(0x1305, "AES_128_CCM_8_SHA256", "any", "any", "AES-128-CCM-8", 128, "AEAD"),
	/* ECDHE */
	CS(0xC02B, "ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE", "ECDSA", "AES-128-GCM", 128, "AEAD"),
	CS(0xC02C, "ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE", "ECDSA", "AES-256-GCM", 256, "AEAD"),
	CS(0xCCA9, "ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "ECDSA", "CHACHA20-POLY1305", 256, "AEAD"),
	CS(0xC0AC, "ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE", "ECDSA", "AES-128-CCM", 128, "AEAD"),
	CS(0xC0AD, "ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE", "ECDSA", "AES-256-CCM", 256, "AEAD"),
	CS(0xC023, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE", "ECDSA", "AES-128-CBC", 128, "HMAC-SHA256"),
	CS(0xC024, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE", "ECDSA", "AES-256-CBC", 256, "HMAC-SHA384"),
	CS(0xC009, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE", "ECDSA", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0xC00A, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE", "ECDSA", "AES-256-CBC", 256, "HMAC-SHA1"),
	CS(0xC008, "ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", "ECDSA", "3DES-EDE-CBC", 168, "HMAC-SHA1"),
	CS(0xC007, "ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE", "ECDSA", "RC4", 128, "HMAC-SHA1"),
	CS(0xC006, "ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE", "ECDSA", "NULL", 0, "HMAC-SHA1"),
	CS(0xC02F, "ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE", "RSA", "AES-128-GCM", 128, "AEAD"),
	CS(0xC030, "ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE", "RSA", "AES-256-GCM", 256, "AEAD"),
	CS(0xCCA8, "ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "RSA", "CHACHA20-POLY1305", 256, "AEAD"),
	CS(0xC027, "ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE", "RSA", "AES-128-CBC", 128, "HMAC-SHA256"),
	CS(0xC028, "ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE", "RSA", "AES-256-CBC", 256, "HMAC-SHA384"),
	CS(0xC013, "ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", "RSA", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0xC014, "ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE", "RSA", "AES-256-CBC", 256, "HMAC-SHA1"),
	CS(0xC012, "ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", "RSA", "3DES-EDE-CBC", 168, "HMAC-SHA1"),
	CS(0xC011, "ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE", "RSA", "RC4", 128, "HMAC-SHA1"),
	CS(0xC010, "ECDHE_RSA_WITH_NULL_SHA", "ECDHE", "RSA", "NULL", 0, "HMAC-SHA1"),
	CS(0xC037, "ECDHE_PSK_WITH_AES_128_CBC_SHA256", "ECDHE", "PSK", "AES-128-CBC", 128, "HMAC-SHA256"),
	CS(0xCCAC, "ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "PSK", "CHACHA20-POLY1305", 256, "AEAD"),
	/* DHE */
	CS(0x009E, "DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE", "RSA", "AES-128-GCM", 128, "AEAD"),
	CS(0x009F, "DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE", "RSA", "AES-256-GCM", 256, "AEAD"),
	CS(0xCCAA, "DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE", "RSA", "CHACHA20-POLY1305", 256, "AEAD"),
	CS(0xC09E, "DHE_RSA_WITH_AES_128_CCM", "DHE", "RSA", "AES-128-CCM", 128, "AEAD"),
	CS(0xC09F, "DHE_RSA_WITH_AES_256_CCM", "DHE", "RSA", "AES-256-CCM", 256, "AEAD"),
	CS(0x0067, "DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE", "RSA", "AES-128-CBC", 128, "HMAC-SHA256"),
	CS(0x006B, "DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE", "RSA", "AES-256-CBC", 256, "HMAC-SHA256"),
	CS(0x0033, "DHE_RSA_WITH_AES_128_CBC_SHA", "DHE", "RSA", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0x0039, "DHE_RSA_WITH_AES_256_CBC_SHA", "DHE", "RSA", "AES-256-CBC", 256, "HMAC-SHA1"),
	CS(0x0016, "DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE", "RSA", "3DES-EDE-CBC", 168, "HMAC-SHA1"),
	CS(0x00A2, "DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE", "DSS", "AES-128-GCM", 128, "AEAD"),
	CS(0x00A3, "DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE", "DSS", "AES-256-GCM", 256, "AEAD"),
	CS(0x0032, "DHE_DSS_WITH_AES_128_CBC_SHA", "DHE", "DSS", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0x0038, "DHE_DSS_WITH_AES_256_CBC_SHA", "DHE", "DSS", "AES-256-CBC", 256, "HMAC-SHA1"),
	CS(0x0013, "DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE", "DSS", "3DES-EDE-CBC", 168, "HMAC-SHA1"),
	CS(0x00AA, "DHE_PSK_WITH_AES_128_GCM_SHA256", "DHE", "PSK", "AES-128-GCM", 128, "AEAD"),
	CS(0x00AB, "DHE_PSK_WITH_AES_256_GCM_SHA384", "DHE", "PSK", "AES-256-GCM", 256, "AEAD"),
	CS(0xCCAD, "DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "DHE", "PSK", "CHACHA20-POLY1305", 256, "AEAD"),
	/* static RSA key transport: no forward secrecy */
	CS(0x009C, "RSA_WITH_AES_128_GCM_SHA256", "RSA", "RSA", "AES-128-GCM", 128, "AEAD"),
	CS(0x009D, "RSA_WITH_AES_256_GCM_SHA384", "RSA", "RSA", "AES-256-GCM", 256, "AEAD"),
	CS(0xC09C, "RSA_WITH_AES_128_CCM", "RSA", "RSA", "AES-128-CCM", 128, "AEAD"),
	CS(0xC09D, "RSA_WITH_AES_256_CCM", "RSA", "RSA", "AES-256-CCM", 256, "AEAD"),
	CS(0xC0A0, "RSA_WITH_AES_128_CCM_8", "RSA", "RSA", "AES-128-CCM-8", 128, "AEAD"),
	CS(0xC0A1, "RSA_WITH_AES_256_CCM_8", "RSA", "RSA", "AES-256-CCM-8", 256, "AEAD"),
	CS(0x003C, "RSA_WITH_AES_128_CBC_SHA256", "RSA", "RSA", "AES-128-CBC", 128, "HMAC-SHA256"),
	CS(0x003D, "RSA_WITH_AES_256_CBC_SHA256", "RSA", "RSA", "AES-256-CBC", 256, "HMAC-SHA256"),
	CS(0x002F, "RSA_WITH_AES_128_CBC_SHA", "RSA", "RSA", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0x0035, "RSA_WITH_AES_256_CBC_SHA", "RSA", "RSA", "AES-256-CBC", 256, "HMAC-SHA1"),
	CS(0x0041, "RSA_WITH_CAMELLIA_128_CBC_SHA", "RSA", "RSA", "CAMELLIA-128-CBC", 128, "HMAC-SHA1"),
	CS(0x0084, "RSA_WITH_CAMELLIA_256_CBC_SHA", "RSA", "RSA", "CAMELLIA-256-CBC", 256, "HMAC-SHA1"),
	CS(0x000A, "RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "RSA", "3DES-EDE-CBC", 168, "HMAC-SHA1"),
	CS(0x0005, "RSA_WITH_RC4_128_SHA", "RSA", "RSA", "RC4", 128, "HMAC-SHA1"),
	CS(0x0004, "RSA_WITH_RC4_128_MD5", "RSA", "RSA", "RC4", 128, "HMAC-MD5"),
	CS(0x003B, "RSA_WITH_NULL_SHA256", "RSA", "RSA", "NULL", 0, "HMAC-SHA256"),
	CS(0x0002, "RSA_WITH_NULL_SHA", "RSA", "RSA", "NULL", 0, "HMAC-SHA1"),
	CS(0x0001, "RSA_WITH_NULL_MD5", "RSA", "RSA", "NULL", 0, "HMAC-MD5"),
	/* PSK only */
	CS(0x00A8, "PSK_WITH_AES_128_GCM_SHA256", "PSK", "PSK", "AES-128-GCM", 128, "AEAD"),
	CS(0x00A9, "PSK_WITH_AES_256_GCM_SHA384", "PSK", "PSK", "AES-256-GCM", 256, "AEAD"),
	CS(0xCCAB, "PSK_WITH_CHACHA20_POLY1305_SHA256", "PSK", "PSK", "CHACHA20-POLY1305", 256, "AEAD"),
	CS(0x008C, "PSK_WITH_AES_128_CBC_SHA", "PSK", "PSK", "AES-128-CBC", 128, "HMAC-SHA1"),
	CS(0x008D, "PSK_WITH_AES_256_CBC_SHA", "PSK", "PSK", "AES-256-CBC", 256, "HMAC-SHA1"),
};

static const struct obs_group groups[] = {
	{ 0x0017, "secp256r1", "ECDHE", 0, 0 },
	{ 0x0018, "secp384r1", "ECDHE", 0, 0 },
	{ 0x0019, "secp521r1", "ECDHE", 0, 0 },
	{ 0x001A, "brainpoolP256r1", "ECDHE", 0, 0 },
	{ 0x001B, "brainpoolP384r1", "ECDHE", 0, 0 },
	{ 0x001C, "brainpoolP512r1", "ECDHE", 0, 0 },
	{ 0x001D, "x25519", "ECDHE", 0, 0 },
	{ 0x001E, "x448", "ECDHE", 0, 0 },
	{ 0x001F, "brainpoolP256r1tls13", "ECDHE", 0, 0 },
	{ 0x0020, "brainpoolP384r1tls13", "ECDHE", 0, 0 },
	{ 0x0021, "brainpoolP512r1tls13", "ECDHE", 0, 0 },
	{ 0x0100, "ffdhe2048", "DHE", 0, 0 },
	{ 0x0101, "ffdhe3072", "DHE", 0, 0 },
	{ 0x0102, "ffdhe4096", "DHE", 0, 0 },
	{ 0x0103, "ffdhe6144", "DHE", 0, 0 },
	{ 0x0104, "ffdhe8192", "DHE", 0, 0 },
	{ 0x0200, "MLKEM512", "KEM", 1, 0 },
	{ 0x0201, "MLKEM768", "KEM", 1, 0 },
	{ 0x0202, "MLKEM1024", "KEM", 1, 0 },
	{ 0x11EB, "SecP256r1MLKEM768", "ECDHE+KEM", 1, 1 },
	{ 0x11EC, "X25519MLKEM768", "ECDHE+KEM", 1, 1 },
	{ 0x11ED, "SecP384r1MLKEM1024", "ECDHE+KEM", 1, 1 },
	{ 0x6399, "X25519Kyber768Draft00", "ECDHE+KEM", 1, 1 },
	{ 0x639A, "SecP256r1Kyber768Draft00", "ECDHE+KEM", 1, 1 },
};

/* OpenSSL's names for groups whose IANA name differs. */
static const struct {
	const char *alias;
	uint16_t code;
} group_aliases[] = {
	{ "prime256v1", 0x0017 }, { "P-256", 0x0017 },
	{ "P-384", 0x0018 }, { "P-521", 0x0019 },
	{ "X25519", 0x001D }, { "X448", 0x001E },
};

static const struct obs_ssh_cipher ssh_ciphers[] = {
	{ "chacha20-poly1305@openssh.com", "CHACHA20-POLY1305", 256, 1 },
	{ "aes128-gcm@openssh.com", "AES-128-GCM", 128, 1 },
	{ "aes256-gcm@openssh.com", "AES-256-GCM", 256, 1 },
	{ "aes128-ctr", "AES-128-CTR", 128, 0 },
	{ "aes192-ctr", "AES-192-CTR", 192, 0 },
	{ "aes256-ctr", "AES-256-CTR", 256, 0 },
	{ "aes128-cbc", "AES-128-CBC", 128, 0 },
	{ "aes192-cbc", "AES-192-CBC", 192, 0 },
	{ "aes256-cbc", "AES-256-CBC", 256, 0 },
	{ "rijndael-cbc@lysator.liu.se", "AES-256-CBC", 256, 0 },
	{ "3des-cbc", "3DES-EDE-CBC", 168, 0 },
	{ "blowfish-cbc", "BLOWFISH-CBC", 128, 0 },
	{ "arcfour", "RC4", 128, 0 },
	{ "arcfour128", "RC4", 128, 0 },
	{ "arcfour256", "RC4", 256, 0 },
	{ "none", "NULL", 0, 0 },
};

static const struct obs_ssh_kex ssh_kexes[] = {
	{ "curve25519-sha256", "x25519", 0, 0 },
	{ "curve25519-sha256@libssh.org", "x25519", 0, 0 },
	{ "curve448-sha512", "x448", 0, 0 },
	{ "ecdh-sha2-nistp256", "secp256r1", 0, 0 },
	{ "ecdh-sha2-nistp384", "secp384r1", 0, 0 },
	{ "ecdh-sha2-nistp521", "secp521r1", 0, 0 },
	{ "diffie-hellman-group1-sha1", "modp1024", 0, 0 },
	{ "diffie-hellman-group14-sha1", "modp2048", 0, 0 },
	{ "diffie-hellman-group14-sha256", "modp2048", 0, 0 },
	{ "diffie-hellman-group16-sha512", "modp4096", 0, 0 },
	{ "diffie-hellman-group18-sha512", "modp8192", 0, 0 },
	{ "diffie-hellman-group-exchange-sha1", "dh-gex", 0, 0 },
	{ "diffie-hellman-group-exchange-sha256", "dh-gex", 0, 0 },
	{ "sntrup761x25519-sha512@openssh.com", "sntrup761x25519", 1, 1 },
	{ "sntrup761x25519-sha512", "sntrup761x25519", 1, 1 },
	{ "mlkem768x25519-sha256", "X25519MLKEM768", 1, 1 },
	{ "mlkem768nistp256-sha256", "SecP256r1MLKEM768", 1, 1 },
	{ "mlkem1024nistp384-sha384", "SecP384r1MLKEM1024", 1, 1 },
};

static const struct {
	int desc;
	const char *name;
} alerts[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" },
	{ 20, "bad_record_mac" }, { 22, "record_overflow" },
	{ 40, "handshake_failure" }, { 42, "bad_certificate" },
	{ 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
	{ 45, "certificate_expired" }, { 46, "certificate_unknown" },
	{ 47, "illegal_parameter" }, { 48, "unknown_ca" },
	{ 49, "access_denied" }, { 50, "decode_error" },
	{ 51, "decrypt_error" }, { 70, "protocol_version" },
	{ 71, "insufficient_security" }, { 80, "internal_error" },
	{ 86, "inappropriate_fallback" }, { 90, "user_canceled" },
	{ 100, "no_renegotiation" }, { 109, "missing_extension" },
	{ 110, "unsupported_extension" }, { 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 115, "unknown_psk_identity" }, { 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const struct obs_cipher *obs_cipher_by_code(uint16_t code)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ciphers); i++)
		if (ciphers[i].code == code)
			return &ciphers[i];
	return NULL;
}

const struct obs_cipher *obs_cipher_by_name(const char *iana)
{
	size_t i;

	if (!iana)
		return NULL;
	for (i = 0; i < ARRAY_LEN(ciphers); i++)
		if (!strcmp(ciphers[i].name, iana))
			return &ciphers[i];
	return NULL;
}

const struct obs_group *obs_group_by_code(uint16_t code)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(groups); i++)
		if (groups[i].code == code)
			return &groups[i];
	return NULL;
}

const struct obs_group *obs_group_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_LEN(groups); i++)
		if (!strcasecmp(groups[i].name, name))
			return &groups[i];
	for (i = 0; i < ARRAY_LEN(group_aliases); i++)
		if (!strcasecmp(group_aliases[i].alias, name))
			return obs_group_by_code(group_aliases[i].code);
	return NULL;
}

const char *obs_tls_version_str(uint16_t v)
{
	switch (v) {
	case 0x0300:
		return "3.0";
	case 0x0301:
		return "1.0";
	case 0x0302:
		return "1.1";
	case 0x0303:
		return "1.2";
	case 0x0304:
		return "1.3";
	default:
		return NULL;
	}
}

const char *obs_tls_protocol_str(uint16_t v)
{
	if (v == 0x0300)
		return "ssl";
	return v >= 0x0301 && v <= 0x0304 ? "tls" : NULL;
}

const struct obs_ssh_cipher *obs_ssh_cipher(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_LEN(ssh_ciphers); i++)
		if (!strcmp(ssh_ciphers[i].name, name))
			return &ssh_ciphers[i];
	return NULL;
}

const struct obs_ssh_kex *obs_ssh_kex(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_LEN(ssh_kexes); i++)
		if (!strcmp(ssh_kexes[i].name, name))
			return &ssh_kexes[i];
	return NULL;
}

const char *obs_alert_str(int desc)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(alerts); i++)
		if (alerts[i].desc == desc)
			return alerts[i].name;
	return NULL;
}

/* ---- TLS --------------------------------------------------------------- */

/* SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
	0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

enum {
	TLS_CT_CCS = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPDATA = 23,
};

enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_NEW_SESSION_TICKET = 4,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
};

enum {
	EXT_SERVER_NAME = 0,
	EXT_ALPN = 16,
	EXT_ETM = 22,
	EXT_EMS = 23,
	EXT_SESSION_TICKET = 35,
	EXT_PRE_SHARED_KEY = 41,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_KEY_SHARE = 51,
};

/*
 * One direction's TLS records up to its ChangeCipherSpec: the handshake
 * bytes in cleartext (records joined), plus what followed.
 */
struct tls_dir {
	uint8_t hs[OBS_HS_MAX];
	size_t hs_len;
	int hs_cut;		/* the capture ended inside a handshake record */
	int ccs;
	int encrypted;		/* records after the hello that are not a
				 * cleartext handshake: CCS or application data */
	int appdata;		/* application-data records seen */
	size_t first_enc_len;	/* length of the first application-data record */
	int alert, alert_level;
	int bad;		/* framing broken: not (or no longer) TLS */
	int records;
};

/*
 * A handshake record after ChangeCipherSpec is normally the encrypted
 * Finished (TLS 1.2).  In TLS 1.3's middlebox compatibility mode both
 * sides send a CCS right after a HelloRetryRequest / the first
 * ClientHello, and the next hello follows in cleartext: a fragment that
 * is exactly one ClientHello or ServerHello message is taken as that.
 * (An encrypted Finished starts with a nonce or IV; matching type and
 * length by chance is a 1 in 2^30 event.)
 */
static int cleartext_hello(const uint8_t *frag, size_t len)
{
	size_t mlen;

	if (!frag || len < 4 || (frag[0] != HS_CLIENT_HELLO &&
				 frag[0] != HS_SERVER_HELLO))
		return 0;
	mlen = (size_t)frag[1] << 16 | (size_t)frag[2] << 8 | frag[3];
	return mlen + 4 == len;
}

static void tls_records(const uint8_t *p, size_t len, struct tls_dir *d)
{
	struct rd r;

	/* not memset: hs[] is large and only hs_len bytes of it are read */
	d->hs_len = 0;
	d->hs_cut = d->ccs = d->encrypted = d->appdata = d->bad = d->records = 0;
	d->first_enc_len = 0;
	d->alert = -1;
	d->alert_level = 0;
	rd_init(&r, p, len);
	while (rd_left(&r) >= 5) {
		uint8_t type = (uint8_t)rd_be(&r, 1);
		uint16_t ver = (uint16_t)rd_be(&r, 2);
		size_t rlen = rd_be(&r, 2), have = rd_left(&r);
		const uint8_t *frag;

		if ((ver >> 8) != 0x03 || rlen > 16384 + 2048 ||
		    type < TLS_CT_CCS || type > TLS_CT_APPDATA) {
			d->bad = 1;
			return;
		}
		d->records++;
		if (have < rlen) {
			/* the capture ends inside this record */
			if (type == TLS_CT_HANDSHAKE && !d->ccs) {
				frag = rd_bytes(&r, have);
				if (have > sizeof(d->hs) - d->hs_len)
					have = sizeof(d->hs) - d->hs_len;
				if (frag)
					memcpy(d->hs + d->hs_len, frag, have);
				d->hs_len += have;
				d->hs_cut = 1;
			} else if (type == TLS_CT_APPDATA) {
				if (!d->appdata++)
					d->first_enc_len = rlen;
				d->encrypted = 1;
			}
			return;
		}
		frag = rd_bytes(&r, rlen);
		switch (type) {
		case TLS_CT_HANDSHAKE:
			if (d->ccs && !cleartext_hello(frag, rlen)) {
				/* after CCS: the encrypted Finished (1.2) */
				d->encrypted = 1;
				break;
			}
			if (rlen > sizeof(d->hs) - d->hs_len) {
				rlen = sizeof(d->hs) - d->hs_len;
				d->hs_cut = 1;
			}
			if (frag && rlen)
				memcpy(d->hs + d->hs_len, frag, rlen);
			d->hs_len += rlen;
			break;
		case TLS_CT_CCS:
			d->ccs = 1;
			d->encrypted = 1;
			break;
		case TLS_CT_ALERT:
			/* encrypted alerts are longer (MAC or AEAD tag) */
			if (rlen == 2 && frag) {
				d->alert_level = frag[0];
				d->alert = frag[1];
			}
			break;
		case TLS_CT_APPDATA:
			if (!d->appdata++)
				d->first_enc_len = rlen;
			d->encrypted = 1;
			break;
		}
	}
}

/* Walk a vector of extensions, calling `fn` for each. */
static void tls_extensions(struct rd *r, struct obs_tls *t,
			   void (*fn)(struct obs_tls *, uint16_t, struct rd *))
{
	struct rd exts, data;

	if (!rd_left(r))
		return;		/* no extensions (allowed before TLS 1.2) */
	if (!rd_vec(r, 2, &exts))
		return;
	while (rd_left(&exts) >= 4) {
		uint16_t type = (uint16_t)rd_be(&exts, 2);

		if (!rd_vec(&exts, 2, &data))
			return;
		fn(t, type, &data);
	}
}

static void client_ext(struct obs_tls *t, uint16_t type, struct rd *d)
{
	struct rd list, item;

	switch (type) {
	case EXT_SERVER_NAME:
		if (!rd_vec(d, 2, &list))
			break;
		while (rd_left(&list) >= 3) {
			uint8_t name_type = (uint8_t)rd_be(&list, 1);

			if (!rd_vec(&list, 2, &item))
				break;
			if (name_type == 0 && !t->sni[0]) {
				copy_text(t->sni, sizeof(t->sni), item.p,
					  item.len);
			}
		}
		break;
	case EXT_ALPN:
		if (!rd_vec(d, 2, &list))
			break;
		t->alpn_offered[0] = '\0';
		while (rd_left(&list) >= 1) {
			if (!rd_vec(&list, 1, &item))
				break;
			append_text(t->alpn_offered, sizeof(t->alpn_offered),
				    item.p, item.len);
		}
		break;
	case EXT_SUPPORTED_VERSIONS:
		if (!rd_vec(d, 1, &list))
			break;
		t->client_max_version = 0;
		while (rd_left(&list) >= 2) {
			uint16_t v = (uint16_t)rd_be(&list, 2);

			if (!obs_is_grease(v) && v > t->client_max_version)
				t->client_max_version = v;
		}
		break;
	case EXT_KEY_SHARE:
		if (!rd_vec(d, 2, &list))
			break;
		t->n_key_shares = 0;
		while (rd_left(&list) >= 4) {
			uint16_t g = (uint16_t)rd_be(&list, 2);

			if (!rd_vec(&list, 2, &item))
				break;
			if (!obs_is_grease(g) &&
			    t->n_key_shares < ARRAY_LEN(t->key_shares))
				t->key_shares[t->n_key_shares++] = g;
		}
		break;
	case EXT_PRE_SHARED_KEY:
		t->psk_offered = 1;
		break;
	case EXT_SESSION_TICKET:
		t->ticket_offered = rd_left(d) > 0;
		break;
	}
}

static void client_hello(struct obs_tls *t, struct rd *r)
{
	struct rd sid, suites, comp;

	t->client_version = (uint16_t)rd_be(r, 2);
	rd_bytes(r, 32);
	if (!rd_vec(r, 1, &sid) || sid.len > 32)
		return;
	t->session_id_len = (uint8_t)sid.len;
	if (sid.len)
		memcpy(t->session_id, sid.p, sid.len);
	if (!rd_vec(r, 2, &suites) || !rd_vec(r, 1, &comp))
		return;
	t->n_ciphers = 0;
	while (rd_left(&suites) >= 2)
		if (!obs_is_grease((uint16_t)rd_be(&suites, 2)))
			t->n_ciphers++;
	t->sni[0] = '\0';
	t->alpn_offered[0] = '\0';
	t->psk_offered = t->ticket_offered = 0;
	t->client_max_version = 0;
	tls_extensions(r, t, client_ext);
	t->client_hello = 1;
}

/* Per ServerHello: the HRR flag is set by the caller, extensions land in
 * `t`.  The key_share of an HRR is only a group; of a ServerHello a group
 * and a key. */
static void server_ext(struct obs_tls *t, uint16_t type, struct rd *d)
{
	struct rd list, item;

	switch (type) {
	case EXT_SUPPORTED_VERSIONS:
		if (rd_left(d) >= 2)
			t->version = (uint16_t)rd_be(d, 2);
		break;
	case EXT_KEY_SHARE:
		if (rd_left(d) >= 2)
			t->group = (uint16_t)rd_be(d, 2);
		break;
	case EXT_PRE_SHARED_KEY:
		t->resumed = 1;		/* the server accepted a PSK */
		break;
	case EXT_ALPN:
		if (rd_vec(d, 2, &list) && rd_vec(&list, 1, &item))
			copy_text(t->alpn, sizeof(t->alpn), item.p, item.len);
		break;
	case EXT_EMS:
		t->ems = 1;
		break;
	case EXT_ETM:
		t->etm = 1;
		break;
	}
}

/* Returns 1 for a HelloRetryRequest (the real ServerHello comes later). */
static int server_hello(struct obs_tls *t, struct rd *r, uint8_t *sid,
			uint8_t *sid_len)
{
	const uint8_t *random;
	struct rd s;
	int hrr;

	t->version = (uint16_t)rd_be(r, 2);
	random = rd_bytes(r, 32);
	if (!random || !rd_vec(r, 1, &s) || s.len > 32)
		return 0;
	*sid_len = (uint8_t)s.len;
	if (s.len)
		memcpy(sid, s.p, s.len);
	t->cipher = (uint16_t)rd_be(r, 2);
	rd_be(r, 1);		/* compression */
	if (r->bad)
		return 0;
	hrr = !memcmp(random, hrr_random, sizeof(hrr_random));
	t->resumed = t->ems = t->etm = 0;
	t->alpn[0] = '\0';
	tls_extensions(r, t, server_ext);
	return hrr;
}

/*
 * The leaf of a Certificate message (TLS 1.2 form: a 3-byte list length,
 * then 3-byte-length DER entries).  `cut` says the message was truncated
 * by the capture: a leaf that does not fit is then marked truncated.
 */
static void leaf_cert(struct rd *r, int cut, struct obs_cert *out)
{
	size_t list_len, len;
	const uint8_t *der;

	list_len = rd_be(r, 3);
	if (r->bad || list_len == 0)
		return;
	len = rd_be(r, 3);
	if (r->bad)
		return;
	if (len > rd_left(r) || len > sizeof(out->der)) {
		out->truncated = cut || len > sizeof(out->der);
		return;
	}
	der = rd_bytes(r, len);
	if (!der)
		return;
	memcpy(out->der, der, len);
	out->len = len;
	out->truncated = 0;
}

static unsigned bits_of(const uint8_t *p, size_t n)
{
	while (n && !*p) {
		p++;
		n--;
	}
	if (!n)
		return 0;
	return (unsigned)(n - 1) * 8 + (unsigned)(32 - __builtin_clz(*p));
}

static void server_key_exchange(struct obs_tls *t, struct rd *r)
{
	const struct obs_cipher *cs = obs_cipher_by_code(t->cipher);
	struct rd p;

	if (!cs)
		return;
	if (!strcmp(cs->kex, "ECDHE")) {
		if (rd_be(r, 1) == 3)	/* named_curve */
			t->group = (uint16_t)rd_be(r, 2);
	} else if (!strcmp(cs->kex, "DHE")) {
		if (rd_vec(r, 2, &p))
			t->dh_bits = bits_of(p.p, p.len);
	}
}

/* Walk handshake messages; `from_client` selects which messages count. */
static void tls_messages(const struct tls_dir *d, int from_client,
			 struct obs_tls *t, uint8_t *sid, uint8_t *sid_len,
			 int *cert_seen)
{
	struct rd r, body;

	rd_init(&r, d->hs, d->hs_len);
	while (rd_left(&r) >= 4) {
		uint8_t type = (uint8_t)rd_be(&r, 1);
		size_t len = rd_be(&r, 3), have = rd_left(&r);
		int cut = 0;

		if (len > have) {
			len = have;
			cut = 1;
		}
		rd_init(&body, rd_bytes(&r, len), len);
		if (cut && type != HS_CERTIFICATE)
			return;		/* only a leaf may be used from a cut message */
		if (from_client) {
			if (type == HS_CLIENT_HELLO)
				client_hello(t, &body);
			else if (type == HS_CERTIFICATE)
				leaf_cert(&body, cut || d->hs_cut, &t->client_cert);
		} else {
			switch (type) {
			case HS_SERVER_HELLO:
				if (server_hello(t, &body, sid, sid_len)) {
					t->hrr = 1;
				} else if (!body.bad) {
					t->server_hello = 1;
				}
				break;
			case HS_CERTIFICATE:
				*cert_seen = 1;
				leaf_cert(&body, cut || d->hs_cut, &t->server_cert);
				break;
			case HS_SERVER_KEY_EXCHANGE:
				server_key_exchange(t, &body);
				break;
			case HS_CERTIFICATE_REQUEST:
				t->cert_requested = 1;
				break;
			}
		}
		if (cut)
			return;
	}
}

/* First handshake message type of a direction, or -1. */
static int first_hs_type(const struct tls_dir *d)
{
	return d->hs_len >= 1 ? d->hs[0] : -1;
}

static void analyze_tls(const uint8_t *sent, size_t sent_len,
			const uint8_t *rcvd, size_t rcvd_len, int active,
			int final, struct obs_result *res)
{
	/* large: static would not be reentrant, so they live in one block
	 * the caller's stack holds for the duration of the call */
	struct {
		struct tls_dir a, b;
	} dirs;
	const struct tls_dir *cli, *srv;
	const uint8_t *srv_bytes;
	size_t srv_len;
	struct obs_tls *t = &res->tls;
	uint8_t sh_sid[32];
	uint8_t sh_sid_len = 0;
	int cert_seen = 0, srv_sniff;

	tls_records(sent, sent_len, &dirs.a);
	tls_records(rcvd, rcvd_len, &dirs.b);
	if (first_hs_type(&dirs.a) == HS_CLIENT_HELLO)
		res->we_are_client = 1;
	else if (first_hs_type(&dirs.b) == HS_CLIENT_HELLO)
		res->we_are_client = 0;
	else
		res->we_are_client = active;
	cli = res->we_are_client ? &dirs.a : &dirs.b;
	srv = res->we_are_client ? &dirs.b : &dirs.a;
	srv_bytes = res->we_are_client ? rcvd : sent;
	srv_len = res->we_are_client ? rcvd_len : sent_len;

	t->alert = -1;
	tls_messages(cli, 1, t, NULL, NULL, NULL);
	tls_messages(srv, 0, t, sh_sid, &sh_sid_len, &cert_seen);

	res->truncated = cli->hs_cut || srv->hs_cut;
	res->malformed = cli->bad || srv->bad;
	t->client_ccs = cli->ccs;
	t->server_ccs = srv->ccs;
	t->client_encrypted = cli->encrypted;
	t->server_encrypted = srv->encrypted;

	/* the server answered, but not with TLS (nor with an alert) */
	srv_sniff = obs_sniff(srv_bytes, srv_len);
	if (srv_len && srv_sniff != OBS_KIND_TLS && srv_bytes[0] != TLS_CT_ALERT &&
	    (srv_len >= 4 || final))
		t->not_tls_reply = 1;

	if (srv->alert >= 0) {
		t->alert = srv->alert;
		t->alert_level = srv->alert_level;
		t->alert_from_server = 1;
	} else if (cli->alert >= 0) {
		t->alert = cli->alert;
		t->alert_level = cli->alert_level;
	}

	if (t->server_hello && t->version != 0x0304) {
		/* TLS 1.2 and older: the session id echo (ids and tickets) or
		 * a server flight without a certificate means abbreviated */
		if ((sh_sid_len && sh_sid_len == t->session_id_len &&
		     !memcmp(sh_sid, t->session_id, sh_sid_len)) ||
		    (srv->ccs && !cert_seen))
			t->resumed = 1;
	}

	/* a warning (level 1, e.g. unrecognized_name) does not end a
	 * handshake; a fatal alert does */
	if (t->not_tls_reply || (t->alert >= 0 && t->alert_level == 2)) {
		res->outcome = OBS_OUT_FAILED;
		res->complete = 1;
	} else if (t->server_hello && t->version == 0x0304) {
		/*
		 * TLS 1.3: all after the ServerHello is encrypted; the
		 * handshake is inferred to have finished when the client goes
		 * on with encrypted records.  A first one of exactly 19 bytes
		 * is an alert (2 + content type 1 + AEAD tag 16): its Finished
		 * is at least 4 + 32 + 1 + 16 = 53.
		 */
		if (cli->appdata && cli->first_enc_len == 19) {
			res->outcome = OBS_OUT_FAILED;
			res->complete = 1;
		} else if (cli->appdata) {
			res->outcome = OBS_OUT_OK;
			res->complete = 1;
		} else if (cli->ccs) {
			/* the compatibility CCS alone: the record after it
			 * tells Finished from an alert */
			res->outcome = OBS_OUT_OK;
		}
	} else if (t->server_hello && cli->ccs && srv->ccs) {
		res->outcome = OBS_OUT_OK;
		res->complete = 1;
	}
	if (cli->bad || srv->bad)
		res->complete = 1;
	if (final)
		res->complete = 1;
}

/* ---- SSH --------------------------------------------------------------- */

enum {
	SSH_MSG_DISCONNECT = 1,
	SSH_MSG_KEXINIT = 20,
	SSH_MSG_NEWKEYS = 21,
	SSH_MSG_KEX_31 = 31,	/* ECDH/DH reply, or DH-GEX group */
	SSH_MSG_KEX_33 = 33,	/* DH-GEX reply */
};

struct ssh_dir {
	char banner[OBS_BANNER_LEN];
	int banner_ok;
	struct rd kexinit;	/* payload of KEXINIT, after the type byte */
	int have_kexinit;
	struct rd kex31, kex33;	/* payloads of the kex messages 31 and 33 */
	int have31, have33;
	int newkeys;
	int disconnect;
	int bad;
	int cut;
};

/* The identification line: lines before "SSH-" are skipped (a server may
 * send some, RFC 4253 4.2).  Returns the offset of the binary packets. */
static size_t ssh_banner(const uint8_t *p, size_t len, struct ssh_dir *d)
{
	size_t off = 0, i, lines = 0;

	while (off < len && lines++ < SSH_MAX_PRE_LINES) {
		const uint8_t *nl = memchr(p + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (p + off)) : len - off;

		if (!nl) {
			if (n >= 255)
				d->bad = 1;	/* longer than a line may be */
			else
				d->cut = 1;
			return len;
		}
		if (n > 255) {
			d->bad = 1;
			return len;
		}
		i = n && p[off + n - 1] == '\r' ? n - 1 : n;
		if (i >= 4 && !memcmp(p + off, "SSH-", 4)) {
			copy_text(d->banner, sizeof(d->banner), p + off, i);
			d->banner_ok = 1;
			return off + n + 1;
		}
		off += n + 1;
	}
	if (lines > SSH_MAX_PRE_LINES)
		d->bad = 1;
	else
		d->cut = 1;	/* no banner yet */
	return len;
}

/* Binary packets until NEWKEYS (after it they are encrypted). */
static void ssh_packets(const uint8_t *p, size_t len, struct ssh_dir *d)
{
	struct rd r, pkt;

	rd_init(&r, p, len);
	while (rd_left(&r) >= 5 && !d->newkeys) {
		size_t plen = rd_be(&r, 4), padlen;
		const uint8_t *body;
		uint8_t msg;

		if (plen < 5 || plen > OBS_MAX_SSH_PKT) {
			d->bad = 1;
			return;
		}
		if (plen > rd_left(&r)) {
			d->cut = 1;
			return;
		}
		body = rd_bytes(&r, plen);
		padlen = body[0];
		if (padlen + 1 >= plen) {
			d->bad = 1;
			return;
		}
		rd_init(&pkt, body + 1, plen - 1 - padlen);
		msg = (uint8_t)rd_be(&pkt, 1);
		switch (msg) {
		case SSH_MSG_KEXINIT:
			if (!d->have_kexinit) {
				rd_init(&d->kexinit, pkt.p + pkt.off, rd_left(&pkt));
				d->have_kexinit = 1;
			}
			break;
		case SSH_MSG_NEWKEYS:
			d->newkeys = 1;
			break;
		case SSH_MSG_DISCONNECT:
			d->disconnect = (int)rd_be(&pkt, 4);
			return;
		case SSH_MSG_KEX_31:
			if (!d->have31) {
				rd_init(&d->kex31, pkt.p + pkt.off, rd_left(&pkt));
				d->have31 = 1;
			}
			break;
		case SSH_MSG_KEX_33:
			if (!d->have33) {
				rd_init(&d->kex33, pkt.p + pkt.off, rd_left(&pkt));
				d->have33 = 1;
			}
			break;
		}
	}
}

/* Is `name` (n bytes) in the comma-separated name-list `l`? */
static int nl_has(const struct rd *l, const uint8_t *name, size_t n)
{
	size_t off = 0;

	while (off <= l->len) {
		const uint8_t *c = l->len > off ?
			memchr(l->p + off, ',', l->len - off) : NULL;
		size_t m = c ? (size_t)(c - (l->p + off)) : l->len - off;

		if (m == n && n && !memcmp(l->p + off, name, n))
			return 1;
		if (!c)
			return 0;
		off += m + 1;
	}
	return 0;
}

/* RFC 4253 7.1: the first algorithm of the client's list that the server
 * also lists. */
static void nl_negotiate(const struct rd *cl, const struct rd *sl, char *out,
			 size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	while (off < cl->len) {
		const uint8_t *c = memchr(cl->p + off, ',', cl->len - off);
		size_t m = c ? (size_t)(c - (cl->p + off)) : cl->len - off;

		if (nl_has(sl, cl->p + off, m)) {
			copy_text(out, outlen, cl->p + off, m);
			return;
		}
		if (!c)
			return;
		off += m + 1;
	}
}

/* The ten name-lists of a KEXINIT payload (after the type byte). */
static int kexinit_lists(struct rd kexinit, struct rd lists[10])
{
	int i;

	rd_bytes(&kexinit, 16);		/* cookie */
	for (i = 0; i < 10; i++)
		if (!rd_vec(&kexinit, 4, &lists[i]))
			return 0;
	return 1;
}

static unsigned mpint_bits(struct rd *r)
{
	struct rd v;

	if (!rd_vec(r, 4, &v))
		return 0;
	return bits_of(v.p, v.len);
}

/* The server's host key blob K_S: type, size and OpenSSH fingerprint. */
static void ssh_host_key(struct rd *r, struct obs_ssh *s)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;
	struct rd blob, type, v;
	int n;

	if (!rd_vec(r, 4, &blob) || !rd_vec(&blob, 4, &type))
		return;
	copy_text(s->host_key_type, sizeof(s->host_key_type), type.p, type.len);
	if (!strcmp(s->host_key_type, "ssh-ed25519") ||
	    !strcmp(s->host_key_type, "sk-ssh-ed25519@openssh.com")) {
		s->host_key_bits = 256;
	} else if (!strcmp(s->host_key_type, "ssh-ed448")) {
		s->host_key_bits = 456;
	} else if (!strcmp(s->host_key_type, "ssh-rsa")) {
		mpint_bits(&blob);		/* e */
		s->host_key_bits = mpint_bits(&blob);
	} else if (!strcmp(s->host_key_type, "ssh-dss")) {
		s->host_key_bits = mpint_bits(&blob);
	} else if (!strncmp(s->host_key_type, "ecdsa-sha2-nistp", 16) &&
		   rd_vec(&blob, 4, &v)) {
		if (v.len == 8 && !memcmp(v.p, "nistp256", 8))
			s->host_key_bits = 256;
		else if (v.len == 8 && !memcmp(v.p, "nistp384", 8))
			s->host_key_bits = 384;
		else if (v.len == 8 && !memcmp(v.p, "nistp521", 8))
			s->host_key_bits = 521;
	} else if (!strcmp(s->host_key_type, "sk-ecdsa-sha2-nistp256@openssh.com")) {
		s->host_key_bits = 256;
	}
	if (!EVP_Digest(blob.p, blob.len, md, &mdlen, EVP_sha256(), NULL))
		return;
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(s->host_key_sha256, sizeof(s->host_key_sha256), "SHA256:%.56s",
		 (const char *)b64);
}

/* "2.0" from "SSH-2.0-softwareversion comments". */
static void ssh_version(const char *banner, char *out, size_t outlen)
{
	const char *v = banner + 4, *dash = strchr(v, '-');
	size_t n = dash ? (size_t)(dash - v) : strlen(v);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static void analyze_ssh(const uint8_t *sent, size_t sent_len,
			const uint8_t *rcvd, size_t rcvd_len, int active,
			int final, struct obs_result *res)
{
	struct ssh_dir a = { .disconnect = -1 }, b = { .disconnect = -1 };
	struct ssh_dir *cli, *srv;
	struct obs_ssh *s = &res->ssh;
	struct rd cl[10], sl[10];
	size_t off;

	off = ssh_banner(sent, sent_len, &a);
	if (a.banner_ok && off < sent_len)
		ssh_packets(sent + off, sent_len - off, &a);
	off = ssh_banner(rcvd, rcvd_len, &b);
	if (b.banner_ok && off < rcvd_len)
		ssh_packets(rcvd + off, rcvd_len - off, &b);

	res->we_are_client = active;
	cli = active ? &a : &b;
	srv = active ? &b : &a;
	memcpy(s->client_banner, cli->banner, sizeof(s->client_banner));
	memcpy(s->server_banner, srv->banner, sizeof(s->server_banner));
	if (srv->banner_ok)
		ssh_version(srv->banner, s->version, sizeof(s->version));
	else if (cli->banner_ok)
		ssh_version(cli->banner, s->version, sizeof(s->version));
	s->client_kexinit = cli->have_kexinit;
	s->server_kexinit = srv->have_kexinit;
	s->client_newkeys = cli->newkeys;
	s->server_newkeys = srv->newkeys;
	s->disconnect = srv->disconnect >= 0 ? srv->disconnect : cli->disconnect;
	res->truncated = a.cut || b.cut;
	res->malformed = a.bad || b.bad;

	if (cli->have_kexinit && srv->have_kexinit &&
	    kexinit_lists(cli->kexinit, cl) && kexinit_lists(srv->kexinit, sl)) {
		nl_negotiate(&cl[0], &sl[0], s->kex, sizeof(s->kex));
		nl_negotiate(&cl[1], &sl[1], s->host_key_alg, sizeof(s->host_key_alg));
		nl_negotiate(&cl[2], &sl[2], s->enc_c2s, sizeof(s->enc_c2s));
		nl_negotiate(&cl[3], &sl[3], s->enc_s2c, sizeof(s->enc_s2c));
		nl_negotiate(&cl[4], &sl[4], s->mac_c2s, sizeof(s->mac_c2s));
		nl_negotiate(&cl[5], &sl[5], s->mac_s2c, sizeof(s->mac_s2c));
		nl_negotiate(&cl[6], &sl[6], s->comp_c2s, sizeof(s->comp_c2s));
		nl_negotiate(&cl[7], &sl[7], s->comp_s2c, sizeof(s->comp_s2c));
	}
	if (s->kex[0]) {
		/* DH group exchange: 31 carries the group, 33 the reply;
		 * every other method replies with 31 */
		int gex = strstr(s->kex, "group-exchange") != NULL;
		struct rd reply = gex ? srv->kex33 : srv->kex31;

		if (gex && srv->have31) {
			struct rd grp = srv->kex31;

			s->dh_bits = mpint_bits(&grp);
		}
		if (gex ? srv->have33 : srv->have31)
			ssh_host_key(&reply, s);
	}

	if (s->disconnect >= 0 || (cli->banner_ok && srv->banner_ok &&
	    s->client_kexinit && s->server_kexinit && s->version[0] == '2' &&
	    !s->kex[0])) {
		/* disconnected, or no algorithm both sides accept */
		res->outcome = OBS_OUT_FAILED;
		res->complete = 1;
	} else if (s->client_newkeys && s->server_newkeys) {
		res->outcome = OBS_OUT_OK;
		res->complete = 1;
	} else if (cli->banner_ok && srv->banner_ok && s->version[0] == '1' &&
		   strcmp(s->version, "1.99")) {
		res->complete = 1;	/* SSH-1: no KEXINIT to read */
	}
	if (a.bad || b.bad || final)
		res->complete = 1;
}

/* ---- entry point ------------------------------------------------------- */

void obs_analyze(const uint8_t *sent, size_t sent_len,
		 const uint8_t *rcvd, size_t rcvd_len,
		 int active, int final, struct obs_result *res)
{
	enum obs_kind ks, kr;

	memset(res, 0, sizeof(*res));
	res->tls.alert = -1;
	res->ssh.disconnect = -1;
	if (!sent)
		sent_len = 0;
	if (!rcvd)
		rcvd_len = 0;
	ks = obs_sniff(sent, sent_len);
	kr = obs_sniff(rcvd, rcvd_len);
	if (ks == OBS_KIND_TLS || kr == OBS_KIND_TLS)
		res->kind = OBS_KIND_TLS;
	else if (ks == OBS_KIND_SSH || kr == OBS_KIND_SSH)
		res->kind = OBS_KIND_SSH;
	else if (ks == OBS_KIND_NONE || kr == OBS_KIND_NONE)
		res->kind = OBS_KIND_NONE;
	else if (final && (sent_len || rcvd_len))
		res->kind = OBS_KIND_NONE;	/* fewer than 4 bytes, ever */

	switch (res->kind) {
	case OBS_KIND_TLS:
		analyze_tls(sent, sent_len, rcvd, rcvd_len, active, final, res);
		break;
	case OBS_KIND_SSH:
		analyze_ssh(sent, sent_len, rcvd, rcvd_len, active, final, res);
		break;
	case OBS_KIND_NONE:
		/* provisional until both sides have spoken: a TLS client
		 * answered by a cleartext server is a failed TLS attempt */
		res->we_are_client = active;
		res->complete = final || (ks != OBS_KIND_UNKNOWN &&
					  kr != OBS_KIND_UNKNOWN);
		break;
	default:
		res->we_are_client = active;
		res->complete = final;
		break;
	}
}
