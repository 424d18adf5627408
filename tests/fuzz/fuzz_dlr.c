/*
 * Fuzz target: delivery receipt parsing, id rewriting and id comparison.
 * Properties: a parsed id is where id_off says; a rewritten receipt
 * parses to the new id with the other fields unchanged; a receipt the
 * formatter writes parses back to its fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/dlr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	static const char new_id[] = "sg-0123456789abcdef";
	struct smpp_dlr d, e;
	char *out;
	size_t cap;
	int n;

	if (size > 8192)
		return 0;
	/* Id comparison on two halves of the input, every flag set. */
	if (size >= 2) {
		char a[80], b[80];
		size_t h = size / 2 < 79 ? size / 2 : 79;
		size_t k = size - size / 2 < 79 ? size - size / 2 : 79;

		memcpy(a, in, h);
		a[h] = '\0';
		memcpy(b, in + size / 2, k);
		b[k] = '\0';
		(void)smpp_dlr_id_equivalent(a, b, data[0] & 7);
		if (!smpp_dlr_id_equivalent(a, a, data[0] & 7) &&
		    strlen(a) <= SMPP_DLR_ID_MAX)
			abort();
	}
	if (smpp_dlr_parse(in, size, &d, NULL) != 0)
		return 0;
	if (d.id_len == 0 || d.id_len > SMPP_DLR_ID_MAX ||
	    d.id_off + d.id_len > size ||
	    memcmp(in + d.id_off, d.id, d.id_len) != 0 ||
	    strlen(d.id) != d.id_len)
		abort();
	if ((d.present & SMPP_DLR_F_TEXT) &&
	    (d.text < in || d.text + d.text_len > in + size))
		abort();

	cap = size + sizeof(new_id) + 1;
	if ((out = malloc(cap)) == NULL)
		abort();
	n = smpp_dlr_rewrite_id(in, size, new_id, out, cap, NULL);
	if (n < 0 || (size_t)n >= cap || out[n] != '\0')
		abort();
	if (smpp_dlr_parse(out, (size_t)n, &e, NULL) != 0 ||
	    strcmp(e.id, new_id) != 0 || e.present != d.present ||
	    e.stat != d.stat || e.sub != d.sub || e.dlvrd != d.dlvrd ||
	    strcmp(e.done_date, d.done_date) != 0 ||
	    e.text_len != d.text_len)
		abort();
	free(out);

	/* Formatting what was parsed gives a receipt that parses back. */
	cap = d.text_len + 256;
	if ((out = malloc(cap)) == NULL)
		abort();
	n = smpp_dlr_format(&d, out, cap, NULL);
	if (n >= 0) {
		if ((size_t)n >= cap || out[n] != '\0' ||
		    smpp_dlr_parse(out, (size_t)n, &e, NULL) != 0 ||
		    strcmp(e.id, d.id) != 0 ||
		    ((d.present & SMPP_DLR_F_STAT) && e.stat != d.stat) ||
		    ((d.present & SMPP_DLR_F_SUB) && e.sub != d.sub) ||
		    ((d.present & SMPP_DLR_F_DONE_DATE) &&
		    strcmp(e.done_date, d.done_date) != 0))
			abort();
	} else
		abort();	/* parsed fields always format */
	free(out);
	return 0;
}
