/*
 * Marked messages in several parts (UDH with an 8- or 16-bit reference,
 * or the SAR TLVs). Parts are not kept in memory: each one is sealed
 * like a message body (a fresh DEK per part, wrapped by the vault; never
 * plaintext at rest) into a DB_KV_PART row, keyed by its group (account,
 * addresses, reference) and number, and the ESME gets ESME_ROK for it
 * after that row's commit. After each commit the group's rows are listed;
 * when every number 1..total is there, the parts are opened, joined in
 * order, decoded as one text (so a character split across parts comes
 * out whole) and sealed as one message whose id is part 1's gateway id;
 * that message's write deletes the group's rows (compare-and-set on the
 * message id: two rounds that both saw the group complete make one
 * message). Rows past the reassembly deadline are looked at by the
 * expiry round: a complete group is assembled (a crash between the last
 * part's commit and its assembly loses nothing), an incomplete one gets
 * UNDELIV for each part received (when receipts were asked) and goes.
 *
 * A part row: {"msg": <a sec_msg_rec of this part alone>, "seq", "total",
 * "prefix"} (prefix: the account's marking prefix, stripped from the
 * joined text when it starts with it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "db/store.h"
#include "secure/pipeline_int.h"
#include "smpp/dlr.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/scan.h"

struct part {
	struct sec_msg_rec	m;
	unsigned		seq, total;
	char			prefix[33];
};

static void
parts_clear(struct part *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sec_rec_msg_clear(&p[i].m);
	free(p);
}

static int
part_decode(const struct db_kv_row *row, struct part *out)
{
	json_t *o, *msg;
	char *s = NULL;
	const char *pre;
	json_int_t seq, total;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = json_loadb((const char *)row->data, row->len, 0, NULL)) ==
	    NULL)
		return -1;
	msg = json_object_get(o, "msg");
	seq = json_integer_value(json_object_get(o, "seq"));
	total = json_integer_value(json_object_get(o, "total"));
	pre = json_string_value(json_object_get(o, "prefix"));
	if (json_is_object(msg) && seq >= 1 && total >= 2 && total <= 255 &&
	    seq <= total && pre != NULL && strlen(pre) < sizeof(out->prefix) &&
	    (s = json_dumps(msg, JSON_COMPACT)) != NULL &&
	    sec_rec_msg_decode(s, strlen(s), &out->m) == 0) {
		out->seq = (unsigned)seq;
		out->total = (unsigned)total;
		snprintf(out->prefix, sizeof(out->prefix), "%s", pre);
		rc = 0;
	}
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s));
	json_decref(o);
	return rc;
}

/* ---- dropping a group ---------------------------------------------- */

struct drop_job {
	struct sec_service	*svc;
	struct sec_msg_rec	 m;
};

static void
on_dropped(void *arg, enum db_status st, int64_t v)
{
	struct drop_job *d = arg;

	(void)v;
	if (st == DB_OK) {
		smpp_log(SMPP_LOG_INFO, d->m.id, "secure", "parts_dropped",
		    "account=%s parts=%zu", d->m.account, d->m.n_parts);
		if (d->m.n_parts > 0)
			sec_receipts(d->svc, &d->m, SMPP_DLR_UNDELIV);
	}
	sec_rec_msg_clear(&d->m);
	free(d);
}

void
sec_group_drop(struct sec_service *svc, const char *group,
    const struct sec_msg_rec *m)
{
	struct drop_job *d;
	struct db_kv_op op;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	d->svc = svc;
	if (m != NULL && sec_msg_copy_head(&d->m, m) != 0) {
		free(d);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.op = DB_KV_DEL_IDX2;
	op.table = DB_KV_PART;
	op.idx2 = group;
	op.expect = -1;
	if (db_kv_write(svc->store, &op, 1, on_dropped, d) != DB_OK) {
		sec_rec_msg_clear(&d->m);
		free(d);
	}
}

/* A message record naming every part in rows (in seq order), for the
 * receipts of a dropped group; -1 if no row decodes. */
static int
group_head(const struct part *p, size_t n, struct sec_msg_rec *m)
{
	size_t first = n;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++)
		if (first == n || p[i].seq < p[first].seq)
			first = i;
	if (first == n || sec_msg_copy_head(m, &p[first].m) != 0)
		return -1;
	free(m->part_ids);
	if ((m->part_ids = calloc(n, sizeof(*m->part_ids))) == NULL) {
		m->n_parts = 0;
		return -1;
	}
	m->n_parts = 0;
	for (unsigned s = 1; s <= 255; s++)
		for (size_t i = 0; i < n; i++)
			if (p[i].seq == s)
				memcpy(m->part_ids[m->n_parts++], p[i].m.id,
				    sizeof(m->part_ids[0]));
	return 0;
}

/* ---- assembling ---------------------------------------------------- */

/*
 * rows: every row of group. Returns 1 when the group was complete and its
 * sealing started (or it was dropped for good, or another round is
 * assembling it), 0 when it is not complete, -1 when its rows do not
 * decode.
 */
static int assemble_rows(struct sec_service *svc, const char *group,
    const struct db_kv_row *rows, size_t n);

static int
assemble(struct sec_service *svc, const char *group,
    const struct db_kv_row *rows, size_t n)
{
	int rc;

	if (!sec_group_busy(svc, group))
		return 1;	/* another round assembles it now */
	/* 2: handed to sec_seal_message, which ends the busy mark */
	if ((rc = assemble_rows(svc, group, rows, n)) == 2)
		return 1;
	sec_group_idle(svc, group);
	return rc;
}

static int
assemble_rows(struct sec_service *svc, const char *group,
    const struct db_kv_row *rows, size_t n)
{
	struct part *p, *order[256];
	struct sec_incoming *in;
	uint8_t *joined = NULL, *text = NULL, dek[SEC_DEK_LEN];
	size_t cap = 0, off = 0, tlen = 0;
	unsigned total;
	bool binary = false;
	int rc = 1;

	if (n < 2 || (p = calloc(n, sizeof(*p))) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (part_decode(&rows[i], &p[i]) != 0) {
			parts_clear(p, i);
			return -1;
		}
	total = p[0].total;
	memset(order, 0, sizeof(order));
	for (size_t i = 0; i < n; i++) {
		if (p[i].total != total || order[p[i].seq] != NULL) {
			parts_clear(p, n);
			return 0;	/* mixed totals or a twin: never */
		}
		order[p[i].seq] = &p[i];
		cap += p[i].m.body_len;
	}
	if (n != total) {
		parts_clear(p, n);
		return 0;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (joined = malloc(cap + 1)) == NULL) {
		free(in);
		parts_clear(p, n);
		return 0;
	}
	for (unsigned s = 1; s <= total; s++) {
		struct sec_msg_rec *m = &order[s]->m;
		size_t got = 0;

		if (sec_keyring_unwrap(svc->keyring, m->id, m->msisdn,
		    &m->vault, dek) != 0 || sec_body_open(dek, m->id,
		    m->msisdn, m->body_nonce, m->body, m->body_len,
		    joined + off, cap - off, &got) != SEC_ENV_OK) {
			OPENSSL_cleanse(dek, sizeof(dek));
			smpp_log(SMPP_LOG_WARN, m->id, "secure",
			    "part_unopenable", "group_parts=%u", total);
			rc = -1;
			break;
		}
		OPENSSL_cleanse(dek, sizeof(dek));
		off += got;
	}
	if (rc == 1)
		text = sec_body_decode(order[1]->m.data_coding, joined, off,
		    order[1]->prefix, &tlen, &binary);
	OPENSSL_clear_free(joined, cap + 1);
	if (rc == 1 && text == NULL)
		rc = 0;		/* out of memory: the expiry round retries */
	if (rc == 1 && group_head(p, n, &in->m) != 0) {
		OPENSSL_clear_free(text, tlen + 1);
		rc = 0;
	}
	if (rc != 1) {
		free(in);
		parts_clear(p, n);
		return rc;
	}
	/* the message is part 1's, with every part's id */
	in->m.binary = binary;
	in->m.state = 0;
	in->m.has_vault = false;
	OPENSSL_cleanse(&in->m.vault, sizeof(in->m.vault));
	in->m.expires_at = 0;
	in->m.notified = false;
	for (size_t i = 0; i < n; i++)
		if (p[i].m.received_at < in->m.received_at)
			in->m.received_at = p[i].m.received_at;
	snprintf(in->group, sizeof(in->group), "%s", group);
	parts_clear(p, n);
	if (tlen > svc->cfg.max_message_bytes) {
		smpp_log(SMPP_LOG_INFO, in->m.id, "secure", "refused",
		    "why=too_big parts=%zu", in->m.n_parts);
		OPENSSL_clear_free(text, tlen + 1);
		sec_group_drop(svc, group, &in->m);
		sec_rec_msg_clear(&in->m);
		free(in);
		return 1;
	}
	smpp_log(SMPP_LOG_DEBUG, in->m.id, "secure", "assembled",
	    "parts=%zu size=%zu", in->m.n_parts, tlen);
	sec_seal_message(svc, in, text, tlen);
	return 2;
}

/* ---- a part arrives ------------------------------------------------ */

struct part_job {
	struct sec_service	*svc;
	char			 group[DB_KV_IDX_MAX + 1];
	char			 id[SEC_ID_MAX + 1];
	sec_submit_reply	 reply;
	void			*arg;
};

static void
on_group_listed(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct part_job *j = arg;

	if (st == DB_OK && n > 0 && assemble(j->svc, j->group, rows, n) < 0)
		sec_group_drop(j->svc, j->group, NULL);
	free(j);
}

static void
on_part_written(void *arg, enum db_status st, int64_t v)
{
	struct part_job *j = arg;
	struct sec_service *svc = j->svc;

	(void)v;
	j->svc->pipeline->in_flight--;
	if (st != DB_OK && st != DB_ECONFLICT) {
		svc->n.refused++;
		smpp_log(SMPP_LOG_INFO, j->id, "secure", "refused",
		    "why=part_store db=%s", db_status_name(st));
		j->reply(j->arg, st == DB_EFAIL ? SMPP_RSYSERR :
		    SMPP_RTHROTTLED);
		free(j);
		return;
	}
	if (st == DB_ECONFLICT)	/* the ESME sent that part again */
		smpp_log(SMPP_LOG_INFO, j->id, "secure", "part_twin", NULL);
	else
		svc->n.accepted_parts++;
	j->reply(j->arg, SMPP_ROK);
	if (db_kv_list(svc->store, DB_KV_PART, 2, j->group, 0, "",
	    SEC_PARTS_MAX, on_group_listed, j) != DB_OK)
		free(j);	/* the expiry round will find the group */
}

/* The row of one part; NULL when out of memory. */
static char *
part_row(const struct sec_msg_rec *m, const struct sec_body_view *bv,
    const char *prefix)
{
	json_t *o = NULL, *msg = NULL;
	char *enc, *s = NULL;
	size_t len;

	if ((enc = sec_rec_msg_encode(m, &len)) == NULL)
		return NULL;
	msg = json_loadb(enc, len, 0, NULL);
	free(enc);
	if (msg == NULL || (o = json_object()) == NULL ||
	    json_object_set_new(o, "msg", msg) != 0) {
		json_decref(msg);
		json_decref(o);
		return NULL;
	}
	if (json_object_set_new(o, "seq", json_integer(bv->seq)) == 0 &&
	    json_object_set_new(o, "total", json_integer(bv->total)) == 0 &&
	    json_object_set_new(o, "prefix", json_string(prefix)) == 0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

void
sec_part_submit(struct sec_service *svc, const struct sec_mark_rule *rule,
    const char *account, const char *gw_id, const struct smpp_scan *req,
    const struct sec_body_view *bv, const char *msisdn,
    sec_submit_reply reply, void *arg)
{
	struct sec_msg_rec m;
	struct part_job *j;
	struct db_kv_op op;
	char key[DB_KV_KEY_MAX + 1];
	uint8_t dek[SEC_DEK_LEN];
	const char *why = NULL;
	char *row = NULL;
	enum db_status st;
	int64_t now = sec_now_ms();

	memset(&m, 0, sizeof(m));
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		reply(arg, SMPP_RSYSERR);
		return;
	}
	j->svc = svc;
	j->reply = reply;
	j->arg = arg;
	snprintf(j->id, sizeof(j->id), "%s", gw_id);
	if (sec_group_key(account, req, bv->ref, j->group,
	    sizeof(j->group)) != 0 || snprintf(key, sizeof(key), "%s|%u",
	    j->group, (unsigned)bv->seq) >= (int)sizeof(key)) {
		free(j);
		svc->n.refused++;
		reply(arg, SMPP_RINVDSTADR);
		return;
	}
	sec_msg_from_req(&m, account, gw_id, msisdn, req);
	m.binary = sec_dcs_binary(req->data_coding);
	m.state = SEC_MSG_VAULT;
	m.expires_at = now + (int64_t)svc->cfg.reassembly_timeout_s * 1000;
	m.size = bv->len;
	m.n_parts = 1;
	if ((m.part_ids = calloc(1, sizeof(*m.part_ids))) == NULL ||
	    (m.body = malloc(bv->len + SEC_TAG_LEN)) == NULL)
		why = "no_memory";
	else {
		snprintf(m.part_ids[0], sizeof(m.part_ids[0]), "%s", gw_id);
		if (sec_dek_new(dek) != SEC_ENV_OK ||
		    sec_body_seal(dek, m.id, m.msisdn, bv->p, bv->len,
		    m.body_nonce, m.body, bv->len + SEC_TAG_LEN,
		    &m.body_len) != SEC_ENV_OK ||
		    sec_keyring_wrap(svc->keyring, m.id, m.msisdn, dek,
		    &m.vault) != 0)
			why = "seal";
		OPENSSL_cleanse(dek, sizeof(dek));
		m.has_vault = true;
	}
	if (why == NULL && (row = part_row(&m, bv, rule != NULL ?
	    rule->prefix : "")) == NULL)
		why = "encode";
	sec_rec_msg_clear(&m);
	if (why != NULL) {
		free(j);
		svc->n.refused++;
		smpp_log(SMPP_LOG_WARN, gw_id, "secure", "refused", "why=%s",
		    why);
		reply(arg, SMPP_RSYSERR);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.op = DB_KV_PUT;
	op.table = DB_KV_PART;
	op.key = key;
	op.idx2 = j->group;
	op.sort = bv->seq;
	op.expires_at = now + (int64_t)svc->cfg.reassembly_timeout_s * 1000;
	op.expect = 0;
	op.data = row;
	op.len = strlen(row);
	st = db_kv_write(svc->store, &op, 1, on_part_written, j);
	free(row);
	if (st != DB_OK) {
		free(j);
		svc->n.refused++;
		reply(arg, st == DB_EINVAL ? SMPP_RSYSERR : SMPP_RTHROTTLED);
		return;
	}
	svc->pipeline->in_flight++;
	smpp_log(SMPP_LOG_DEBUG, gw_id, "secure", "part", "seq=%u total=%u",
	    (unsigned)bv->seq, (unsigned)bv->total);
}

/* ---- the expiry round of parts ------------------------------------ */

struct pexp_job {
	struct sec_service	*svc;
	void			(*done)(void *);
	void			*arg;
	char			(*groups)[DB_KV_IDX_MAX + 1];
	size_t			 n, i;
};

static void pexp_next(struct pexp_job *x);

static void
pexp_end(struct pexp_job *x)
{
	x->done(x->arg);
	free(x->groups);
	free(x);
}

static void
on_pexp_group(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct pexp_job *x = arg;
	const char *g = x->groups[x->i];
	struct sec_msg_rec m;
	struct part *p;
	size_t k = 0;
	int rc;

	if (st != DB_OK) {
		pexp_end(x);	/* storage trouble: the next round */
		return;
	}
	if (n > 0 && (rc = assemble(x->svc, g, rows, n)) != 1) {
		/* incomplete (or unreadable) after its deadline: gone, with
		 * UNDELIV for each part that came */
		if ((p = calloc(n, sizeof(*p))) != NULL) {
			for (size_t i = 0; i < n; i++)
				if (part_decode(&rows[i], &p[k]) == 0)
					k++;
		}
		if (k > 0 && group_head(p, k, &m) == 0) {
			smpp_log(SMPP_LOG_INFO, m.id, "secure",
			    "parts_expired", "received=%zu total=%u",
			    m.n_parts, p[0].total);
			sec_group_drop(x->svc, g, &m);
			sec_rec_msg_clear(&m);
		} else
			sec_group_drop(x->svc, g, NULL);
		if (p != NULL)
			parts_clear(p, k);
	}
	x->i++;
	pexp_next(x);
}

static void
pexp_next(struct pexp_job *x)
{
	if (x->i >= x->n) {
		pexp_end(x);
		return;
	}
	if (db_kv_list(x->svc->store, DB_KV_PART, 2, x->groups[x->i], 0, "",
	    SEC_PARTS_MAX, on_pexp_group, x) != DB_OK)
		pexp_end(x);
}

static void
on_pexp_rows(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct pexp_job *x = arg;

	if (st != DB_OK || n == 0 ||
	    (x->groups = calloc(n, sizeof(*x->groups))) == NULL) {
		pexp_end(x);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < x->n && !seen; k++)
			seen = strcmp(x->groups[k], rows[i].idx2) == 0;
		if (!seen && rows[i].idx2[0] != '\0')
			snprintf(x->groups[x->n++], sizeof(x->groups[0]), "%s",
			    rows[i].idx2);
	}
	pexp_next(x);
}

void
sec_parts_expire(struct sec_service *svc, void (*done)(void *), void *arg)
{
	struct pexp_job *x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		done(arg);
		return;
	}
	x->svc = svc;
	x->done = done;
	x->arg = arg;
	if (db_kv_expired(svc->store, DB_KV_PART, sec_now_ms(), SEC_PARTS_MAX,
	    on_pexp_rows, x) != DB_OK)
		pexp_end(x);
}
