// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_observe.c - libFuzzer target for the zERT stream observation
 * parsers (user/observe.c): what they read comes off other programs'
 * connections, so any byte sequence must be safe.
 *
 * Input layout: byte 0 flags (bit 0 active, bit 1 final), bytes 1-2 the
 * length of the first stream (big-endian, clamped), then the two streams:
 * what the observed socket sent, then what it received.  Seeds in
 * tests/fuzz/corpus-observe/ are real transcripts in that layout
 * (tests/fuzz/mkseeds_observe.py).  Built with ASan and UBSan by
 * "make fuzz-observe".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/observe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct obs_result res;
	size_t split, sent_len, rcvd_len;
	uint8_t *sent, *rcvd;

	if (size < 3)
		return 0;
	split = (size_t)data[1] << 8 | data[2];
	if (split > size - 3)
		split = size - 3;
	sent_len = split;
	rcvd_len = size - 3 - split;
	/* separate exact-size heap copies: ASan sees a read past either */
	sent = sent_len ? malloc(sent_len) : NULL;
	rcvd = rcvd_len ? malloc(rcvd_len) : NULL;
	if ((sent_len && !sent) || (rcvd_len && !rcvd))
		goto out;
	if (sent)
		memcpy(sent, data + 3, sent_len);
	if (rcvd)
		memcpy(rcvd, data + 3 + sent_len, rcvd_len);
	obs_analyze(sent, sent_len, rcvd, rcvd_len, data[0] & 1, data[0] & 2, &res);
	/* the same bytes from the peer's side */
	obs_analyze(rcvd, rcvd_len, sent, sent_len, !(data[0] & 1), data[0] & 2, &res);
	if (res.kind == OBS_KIND_TLS) {
		obs_cipher_by_code(res.tls.cipher);
		obs_group_by_code(res.tls.group);
		obs_alert_str(res.tls.alert);
	} else if (res.kind == OBS_KIND_SSH) {
		obs_ssh_cipher(res.ssh.enc_c2s);
		obs_ssh_kex(res.ssh.kex);
	}
out:
	free(sent);
	free(rcvd);
	return 0;
}
