/*
 * Fuzz target: marking and the pipeline's reading of a submit (secure/
 * mark.c, sec_body_decode, sec_marked's part-1 memory). The input is one
 * PDU; once smpp_scan accepts it, every rule kind judges it, its body and
 * concatenation are read and the text decoded with the prefix stripped.
 * Asserts the bounds the internal header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure/pipeline_int.h"
#include "smpp/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sec_service svc;

static void
once(void)
{
	static int done;
	char err[64];

	if (done++)
		return;
	sec_config_default(&svc.cfg);
	if (sec_pipeline_init(&svc, err, sizeof(err)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sec_mark_rule rules[4];
	struct smpp_limits lim;
	struct smpp_scan s;
	struct sec_body_view v;
	uint8_t *raw, *text;
	uint32_t st;
	size_t len;
	bool bin;

	once();
	if (size < 16 || size > 70000 || (raw = malloc(size)) == NULL)
		return 0;
	memcpy(raw, data, size);
	smpp_limits_default(&lim);
	if (smpp_scan(raw, size, &lim, &s, &st) != 0 ||
	    !(s.has & SMPP_HAS_SM)) {
		free(raw);
		return 0;
	}
	memset(rules, 0, sizeof(rules));
	for (int i = 0; i < 4; i++)
		rules[i].enabled = true;
	memcpy(rules[0].prefix, "#secure ", 9);
	memcpy(rules[1].service_type, "SECUR", 6);
	rules[2].tlv_tag = 0x1501;
	rules[3].all = true;
	for (int i = 0; i < 4; i++) {
		bool m = sec_mark_match(&rules[i], &s);

		if (i == 3 && !m)
			abort();
		(void)sec_marked(&svc, &rules[i], "fuzz", &s);
	}
	if (sec_body_of(&s, &v) == 0) {
		if (v.len > size || (v.multi && (v.total < 2 || v.seq < 1 ||
		    v.seq > v.total)))
			abort();
		(void)sec_text_has_prefix("#secure ", s.data_coding, v.p,
		    v.len);
		text = sec_body_decode(s.data_coding, v.p, v.len, "#secure ",
		    &len, &bin);
		if (text != NULL) {
			if (bin && len != v.len)
				abort();
			free(text);
		}
	}
	free(raw);
	return 0;
}
