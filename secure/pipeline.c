/*
 * The secure pipeline: from "this submit_sm is marked" to a sealed row in
 * storage, an answer to the ESME and a notice SMS to the recipient.
 *
 *   sec_submit --- one part ---> decode, strip the prefix, size check
 *        |                         |
 *        +-- part of several --> pipeline_parts.c (a sealed DB_KV_PART
 *                                  row each; the last one assembles)
 *                                  |
 *                      sec_seal_message: DEK, body sealed once (AAD id,
 *                      msisdn), plaintext wiped; count per MSISDN and the
 *                      MSISDN's devices looked up together; DEK wrapped to
 *                      each device (state sealed) or by the vault (state
 *                      vault), DEK wiped; ONE db_kv_write of the message,
 *                      its copies and the group's parts; the ESME gets
 *                      ESME_ROK only in that write's DB_OK callback
 *                                  |
 *                      notice SMS (registered / unregistered template);
 *                      failed for good -> message done, UNDELIV receipts;
 *                      accepted -> ENROUTE when intermediates are asked
 *
 * Also here: which parts of a concatenated message are marked (prefix
 * marking is read from part 1 only: see sec_marked), a device becoming
 * active (vault messages sealed to it and shredded from the vault), and
 * the timers of pipeline_receipts.c (expiry, re-wrap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db/store.h"
#include "secure/notify.h"
#include "secure/pipeline_int.h"
#include "smpp/dlr.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

#define EXPIRE_EVERY_S	5
#define REWRAP_EVERY_S	3600
#define ACTIVE_PAGE	50	/* vault messages read per round trip */
#define GROUP_PROBE	16	/* slots a group key may take */

static uint32_t
db_to_status(enum db_status st)
{
	switch (st) {
	case DB_EBUSY:
	case DB_EUNAVAIL:
	case DB_ECLOSED:
		return SMPP_RTHROTTLED;
	default:
		return SMPP_RSYSERR;
	}
}

static bool
transient(uint32_t status)
{
	return status == SMPP_RTHROTTLED;
}

/* ---- rows ---------------------------------------------------------- */

void
sec_msg_row(const struct sec_msg_rec *m, struct db_kv_op *op, void *data,
    size_t len, int64_t expect)
{
	memset(op, 0, sizeof(*op));
	op->op = DB_KV_PUT;
	op->table = DB_KV_MSG;
	op->key = m->id;
	op->idx1 = m->msisdn;
	op->idx2 = sec_msg_state_name(m->state);
	op->sort = m->received_at;
	op->expires_at = m->expires_at;
	op->expect = expect;
	op->data = data;
	op->len = len;
}

uint8_t *
sec_body_decode(uint8_t dcs, const uint8_t *in, size_t in_len,
    const char *prefix, size_t *len, bool *binary)
{
	struct smpp_text_opts o;
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	uint8_t *out;
	int n;

	*len = 0;
	*binary = sec_dcs_binary(dcs);
	if (*binary) {
		if ((out = malloc(in_len + 1)) == NULL)
			return NULL;
		if (in_len > 0)
			memcpy(out, in, in_len);
		*len = in_len;
		return out;
	}
	smpp_text_opts_default(&o);
	o.flags = SMPP_CHARSET_REPLACE;
	if ((n = smpp_text_decode(dcs, in, in_len, &o, NULL, 0, NULL)) < 0 ||
	    (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (smpp_text_decode(dcs, in, in_len, &o, (char *)out, (size_t)n + 1,
	    NULL) != n) {
		OPENSSL_clear_free(out, (size_t)n + 1);
		return NULL;
	}
	if (plen > 0 && (size_t)n >= plen &&
	    strncasecmp((const char *)out, prefix, plen) == 0) {
		memmove(out, out + plen, (size_t)n - plen);
		OPENSSL_cleanse(out + n - plen, plen);
		n -= (int)plen;
	}
	*len = (size_t)n;
	return out;
}

/* ---- which parts are marked -------------------------------------- */

static struct sec_group_mark *
group_slot(struct sec_pipeline *p, const char *key, bool create,
    int64_t now)
{
	uint32_t h = 2166136261u;
	struct sec_group_mark *victim = NULL;

	for (const char *c = key; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (unsigned i = 0; i < GROUP_PROBE; i++) {
		struct sec_group_mark *g =
		    &p->groups[(h + i) % SEC_GROUPS_MAX];

		if (g->used && g->until > now && strcmp(g->key, key) == 0)
			return g;
		if (!g->used || g->until <= now) {
			if (victim == NULL)
				victim = g;
		} else if (victim == NULL || (victim->used &&
		    g->until < victim->until))
			victim = g;
	}
	if (!create)
		return NULL;
	/* a full neighbourhood drops its oldest group: that group's later
	 * parts are then judged alone (held when a prefix rules) */
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->used = true;
	return victim;
}

/*
 * Marking of concatenated messages. A prefix can only be read in part 1,
 * so the decision for part 1 is remembered for its group (account,
 * addresses, reference) for reassembly_timeout, and later parts follow it.
 * A later part that comes before its part 1 cannot be judged: under a
 * prefix rule it is held (marked), and so is the rest of its group, part
 * 1 included, whatever part 1 says: such a message is sealed like a
 * marked one (prefix stripped only if present). Content of a marked
 * message therefore never takes the pass-through path; the price is that
 * an unmarked message whose parts come out of order may be sealed.
 * Other rules (service_type, TLV, all) mark each part that carries them,
 * and every later part of a group whose first-seen part was marked.
 * The memory is per instance: with several instances behind one storage,
 * an ESME must keep a message's parts on one bind (they all do). It holds
 * SEC_GROUPS_MAX groups; a group pushed out by a flood of newer ones
 * (oldest first) is judged part by part again, later parts held under a
 * prefix rule: still never a marked part on the pass-through path when
 * each part carries its mark or a prefix rules.
 */
bool
sec_marked(struct sec_service *svc, const struct sec_mark_rule *rule,
    const char *account, const struct smpp_scan *req)
{
	struct sec_pipeline *p;
	struct sec_group_mark *g;
	struct sec_body_view v;
	char key[DB_KV_IDX_MAX + 1];
	int64_t now;
	bool m;

	if (rule == NULL || !rule->enabled)
		return false;
	m = sec_mark_match(rule, req);
	if (svc == NULL || (p = svc->pipeline) == NULL ||
	    sec_body_of(req, &v) != 0 || !v.multi ||
	    sec_group_key(account, req, v.ref, key, sizeof(key)) != 0)
		return m;
	now = sec_now_ms();
	if ((g = group_slot(p, key, false, now)) != NULL)
		return g->marked || m;
	if (v.seq != 1 && rule->prefix[0] != '\0')
		m = true;	/* cannot be judged: held */
	if (v.seq == 1 || m) {
		g = group_slot(p, key, true, now);
		g->marked = m;
		g->until = now + (int64_t)svc->cfg.reassembly_timeout_s * 1000;
	}
	return m;
}

/* ---- sec_submit ---------------------------------------------------- */

static void
refuse(struct sec_service *svc, const char *id, const char *why,
    uint32_t status, sec_submit_reply reply, void *arg)
{
	svc->n.refused++;
	smpp_log(SMPP_LOG_INFO, id, "secure", "refused", "why=%s status=%s",
	    why, smpp_status_name(status));
	reply(arg, status);
}

/* Fills the parts of a message record that come from the request. */
void
sec_msg_from_req(struct sec_msg_rec *m, const char *account, const char *gw_id,
    const char *msisdn, const struct smpp_scan *req)
{
	snprintf(m->id, sizeof(m->id), "%s", gw_id);
	snprintf(m->msisdn, sizeof(m->msisdn), "%s", msisdn);
	snprintf(m->account, sizeof(m->account), "%s", account);
	smpp_str_copy(m->source, sizeof(m->source), &req->src.addr);
	m->source_ton = req->src.ton;
	m->source_npi = req->src.npi;
	m->dest_ton = req->dst.ton;
	m->dest_npi = req->dst.npi;
	m->registered_delivery = req->registered_delivery;
	m->data_coding = req->data_coding;
	m->received_at = sec_now_ms();
}

void
sec_submit(struct sec_service *svc, const struct sec_mark_rule *rule,
    const char *account, const char *gw_id, const struct smpp_scan *req,
    sec_submit_reply reply, void *arg)
{
	struct sec_body_view bv;
	struct sec_incoming *in;
	char dst[SMPP_ADDR65_MAX], msisdn[SEC_MSISDN_MAX + 1];
	uint8_t *text;
	size_t len;
	bool binary;

	smpp_str_copy(dst, sizeof(dst), &req->dst.addr);
	if (sec_msisdn_normalize(dst, msisdn) != 0) {
		refuse(svc, gw_id, "not_msisdn", SMPP_RINVDSTADR, reply, arg);
		return;
	}
	if (sec_body_of(req, &bv) != 0) {
		refuse(svc, gw_id, "bad_udh_or_sar", SMPP_RINVESMCLASS, reply,
		    arg);
		return;
	}
	if (strlen(gw_id) > SEC_ID_MAX || strlen(account) >= SEC_ACCOUNT_SIZE) {
		refuse(svc, gw_id, "id_too_long", SMPP_RSYSERR, reply, arg);
		return;
	}
	if (bv.multi) {
		sec_part_submit(svc, rule, account, gw_id, req, &bv, msisdn,
		    reply, arg);
		return;
	}
	text = sec_body_decode(req->data_coding, bv.p, bv.len,
	    rule != NULL ? rule->prefix : NULL, &len, &binary);
	if (text == NULL) {
		refuse(svc, gw_id, "decode", SMPP_RSYSERR, reply, arg);
		return;
	}
	if (len > svc->cfg.max_message_bytes) {
		OPENSSL_clear_free(text, len + 1);
		refuse(svc, gw_id, "too_big", SMPP_RINVMSGLEN, reply, arg);
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->m.part_ids = calloc(1, sizeof(*in->m.part_ids))) == NULL) {
		free(in);
		OPENSSL_clear_free(text, len + 1);
		refuse(svc, gw_id, "no_memory", SMPP_RSYSERR, reply, arg);
		return;
	}
	sec_msg_from_req(&in->m, account, gw_id, msisdn, req);
	in->m.binary = binary;
	in->m.n_parts = 1;
	snprintf(in->m.part_ids[0], sizeof(in->m.part_ids[0]), "%s", gw_id);
	in->reply = reply;
	in->reply_arg = arg;
	sec_seal_message(svc, in, text, len);
}

/* ---- sealing and the one write ------------------------------------- */

struct seal_job {
	struct sec_service	*svc;
	struct sec_incoming	*in;
	uint8_t			 dek[SEC_DEK_LEN];
	struct seal_job		*next_wait;	/* its MSISDN's read */
	struct sec_device_rec	*devs;
	size_t			 n_devs;
	struct sec_copy_rec	*copies;
	size_t			 n_copies;
};

static void
incoming_free(struct sec_incoming *in)
{
	if (in == NULL)
		return;
	sec_rec_msg_clear(&in->m);
	free(in);
}

bool
sec_group_busy(struct sec_service *svc, const char *group)
{
	struct sec_pipeline *p = svc->pipeline;
	struct sec_busy *b;

	for (b = p->busy; b != NULL; b = b->next)
		if (strcmp(b->key, group) == 0)
			return false;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return true;	/* no memory: the store's guard still holds */
	snprintf(b->key, sizeof(b->key), "%s", group);
	b->next = p->busy;
	p->busy = b;
	return true;
}

void
sec_group_idle(struct sec_service *svc, const char *group)
{
	struct sec_busy **bp, *b;

	for (bp = &svc->pipeline->busy; (b = *bp) != NULL; bp = &b->next)
		if (strcmp(b->key, group) == 0) {
			*bp = b->next;
			free(b);
			return;
		}
}

static void
seal_job_free(struct seal_job *j)
{
	if (j->in->group[0] != '\0')
		sec_group_idle(j->svc, j->in->group);
	OPENSSL_cleanse(j->dek, sizeof(j->dek));
	free(j->devs);
	free(j->copies);		/* bodies borrowed from in->m */
	incoming_free(j->in);
	j->svc->pipeline->in_flight--;
	free(j);
}

/*
 * The message cannot be taken. Someone to answer: the status. A group
 * (every part already answered ESME_ROK): when the failure is for good,
 * UNDELIV to each part and its rows go; a transient one leaves the rows
 * for the expiry round to try again.
 */
static void
seal_fail(struct seal_job *j, uint32_t status, const char *why)
{
	struct sec_service *svc = j->svc;
	struct sec_incoming *in = j->in;

	smpp_log(SMPP_LOG_INFO, in->m.id, "secure", "seal_failed",
	    "why=%s status=%s parts=%zu", why, smpp_status_name(status),
	    in->m.n_parts);
	if (in->reply != NULL) {
		svc->n.refused++;
		in->reply(in->reply_arg, status);
	} else if (in->group[0] != '\0' && !transient(status))
		sec_group_drop(svc, in->group, &in->m);
	seal_job_free(j);
}

static void seal_write(struct seal_job *j);

/* ---- what the pipeline knows of an MSISDN ------------------------- */

/*
 * A message needs its MSISDN's active devices (to seal to) and how many
 * it holds (max_per_msisdn). Both are read from storage together on a
 * miss and kept MCACHE_TTL_MS, so a burst to one number costs one read
 * round, not two storage jobs a message. Misses on one number while a
 * read runs wait for that read.
 *
 * What the cache gives up:
 * - max_per_msisdn is approximate: the count is the stored one at the
 *   read plus the messages this instance accepted since; messages acked,
 *   expired or accepted by another instance show up at the next read. A
 *   refusal is only made on a fresh read (a cached count at the limit
 *   reads again).
 * - A device this instance activates or revokes drops the entry at once
 *   (sec_pipeline_msisdn_changed). One another instance activates: a
 *   message sealed to the vault meanwhile is caught by the activating
 *   instance's second listing, which therefore runs ACTIVE_AGAIN_S after
 *   the first (more than MCACHE_TTL_MS plus a write). One another
 *   instance revokes is still sealed to for at most MCACHE_TTL_MS (its
 *   token is refused at once, so it cannot fetch them).
 */
#define MCACHE_TTL_MS	2000
#define MCACHE_BUCKETS	4096
#define MCACHE_MAX	65536	/* entries; beyond, reads are not kept */

struct sec_mcache {
	struct sec_mcache	*next;		/* bucket chain */
	char			 msisdn[SEC_MSISDN_MAX + 1];
	int64_t			 read_at;	/* mono ms the read was asked;
						   0: stale */
	bool			 loading;
	bool			 detached;	/* not in the table */
	int			 waiting;	/* lookups not yet back */
	enum db_status		 fail;
	int64_t			 count;
	struct sec_device_rec	*devs;
	size_t			 n_devs;
	struct seal_job		*first, *last;	/* waiting for the read */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
mcache_hash(const char *msisdn)
{
	uint32_t h = 2166136261u;

	for (const char *c = msisdn; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h % MCACHE_BUCKETS;
}

static void
mcache_entry_free(struct sec_mcache *e)
{
	free(e->devs);
	free(e);
}

/* Frees the table's stale entries (not those being read). */
static void
mcache_sweep(struct sec_pipeline *p)
{
	int64_t now = mono_ms();

	if (p->mcache == NULL)
		return;
	for (size_t b = 0; b < MCACHE_BUCKETS; b++) {
		struct sec_mcache **ep = &p->mcache[b];

		while (*ep != NULL) {
			struct sec_mcache *e = *ep;

			if (!e->loading && (e->read_at == 0 ||
			    now - e->read_at >= MCACHE_TTL_MS)) {
				*ep = e->next;
				mcache_entry_free(e);
				p->mcache_n--;
			} else
				ep = &e->next;
		}
	}
}

/* msisdn's entry, made when missing (detached when the table is full);
 * NULL when out of memory. */
static struct sec_mcache *
mcache_get(struct sec_pipeline *p, const char *msisdn)
{
	struct sec_mcache *e;
	unsigned b = mcache_hash(msisdn);

	if (p->mcache != NULL)
		for (e = p->mcache[b]; e != NULL; e = e->next)
			if (strcmp(e->msisdn, msisdn) == 0)
				return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->msisdn, sizeof(e->msisdn), "%s", msisdn);
	if (p->mcache != NULL && p->mcache_n >= MCACHE_MAX)
		mcache_sweep(p);
	if (p->mcache == NULL || p->mcache_n >= MCACHE_MAX) {
		e->detached = true;
		return e;
	}
	e->next = p->mcache[b];
	p->mcache[b] = e;
	p->mcache_n++;
	return e;
}

void
sec_pipeline_msisdn_changed(struct sec_service *svc, const char *msisdn)
{
	struct sec_pipeline *p = svc->pipeline;

	if (p == NULL || p->mcache == NULL)
		return;
	for (struct sec_mcache *e = p->mcache[mcache_hash(msisdn)];
	    e != NULL; e = e->next)
		if (strcmp(e->msisdn, msisdn) == 0)
			e->read_at = 0;	/* a read under way is not kept */
}

/* Decides j with e's (fresh) answer: refused when the number is full,
 * else sealed to e's devices (or the vault). fresh: e was read for j. */
static void mcache_load(struct sec_service *svc, struct sec_mcache *e);

static void
seal_decide(struct seal_job *j, struct sec_mcache *e, bool fresh)
{
	if (e->count >= (int64_t)j->svc->cfg.max_per_msisdn) {
		if (!fresh && !e->detached) {
			/* refused only on a fresh count */
			e->read_at = 0;
			j->next_wait = NULL;
			e->first = e->last = j;
			mcache_load(j->svc, e);
			return;
		}
		seal_fail(j, SMPP_RMSGQFUL, "msisdn_full");
		return;
	}
	if (e->n_devs > 0) {
		if ((j->devs = calloc(e->n_devs, sizeof(*j->devs))) == NULL) {
			seal_fail(j, SMPP_RSYSERR, "no_memory");
			return;
		}
		memcpy(j->devs, e->devs, e->n_devs * sizeof(*j->devs));
		j->n_devs = e->n_devs;
	}
	e->count++;		/* held from now on (if its write commits) */
	seal_write(j);
}

static void
mcache_loaded(struct sec_service *svc, struct sec_mcache *e)
{
	struct seal_job *j, *next;

	if (--e->waiting > 0)
		return;
	e->loading = false;
	j = e->first;
	e->first = e->last = NULL;
	if (e->fail != DB_OK) {
		e->read_at = 0;
		for (; j != NULL; j = next) {
			next = j->next_wait;
			seal_fail(j, db_to_status(e->fail),
			    db_status_name(e->fail));
		}
	} else {
		for (; j != NULL; j = next) {
			next = j->next_wait;
			seal_decide(j, e, true);
		}
	}
	if (e->detached)
		mcache_entry_free(e);
	(void)svc;
}

static void
on_count(void *arg, enum db_status st, int64_t n)
{
	struct sec_mcache *e = arg;
	struct seal_job *j = e->first;

	if (st != DB_OK && e->fail == DB_OK)
		e->fail = st;
	e->count = n;
	mcache_loaded(j->svc, e);
}

static void
on_devices(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_mcache *e = arg;
	struct seal_job *j = e->first;

	free(e->devs);
	e->devs = NULL;
	e->n_devs = 0;
	if (st != DB_OK && st != DB_NOTFOUND) {
		if (e->fail == DB_OK)
			e->fail = st;
	} else if (n > 0 && (e->devs = calloc(n, sizeof(*e->devs))) != NULL) {
		for (size_t i = 0; i < n; i++) {
			struct sec_device_rec *d = &e->devs[e->n_devs];

			if (sec_rec_device_decode(rows[i].data, rows[i].len,
			    d) != 0) {
				smpp_log(SMPP_LOG_WARN, rows[i].key, "secure",
				    "bad_row", "table=device");
				continue;
			}
			if (d->revoked_at == 0 &&
			    strcmp(d->msisdn, e->msisdn) == 0)
				e->n_devs++;
		}
	} else if (n > 0 && e->fail == DB_OK)
		e->fail = DB_ENOMEM;
	mcache_loaded(j->svc, e);
}

/* Reads e's count and devices for the jobs waiting on it (at least
 * one). */
static void
mcache_load(struct sec_service *svc, struct sec_mcache *e)
{
	enum db_status st;

	e->loading = true;
	e->fail = DB_OK;
	e->read_at = mono_ms();
	/* the bound per MSISDN and its devices, asked together */
	e->waiting = 2;
	st = db_kv_count(svc->store, DB_KV_MSG, 1, e->msisdn, 0, on_count, e);
	if (st != DB_OK) {
		e->fail = st;
		e->waiting = 1;
		mcache_loaded(svc, e);
		return;
	}
	st = db_kv_list(svc->store, DB_KV_DEVICE, 1, e->msisdn, 0, "",
	    svc->cfg.max_devices > 0 && svc->cfg.max_devices <
	    DB_KV_LIST_MAX ? svc->cfg.max_devices : DB_KV_LIST_MAX,
	    on_devices, e);
	if (st != DB_OK) {
		e->fail = st;
		mcache_loaded(svc, e);	/* the count's answer finishes it */
	}
}

void
sec_seal_message(struct sec_service *svc, struct sec_incoming *in,
    uint8_t *text, size_t len)
{
	struct seal_job *j;
	struct sec_msg_rec *m = &in->m;
	struct sec_mcache *e;
	size_t cap = len + SEC_TAG_LEN;
	int rc = -1;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		OPENSSL_clear_free(text, len + 1);
		if (in->reply != NULL)
			in->reply(in->reply_arg, SMPP_RSYSERR);
		if (in->group[0] != '\0')
			sec_group_idle(svc, in->group);
		incoming_free(in);
		return;
	}
	j->svc = svc;
	j->in = in;
	svc->pipeline->in_flight++;
	/* the body is sealed at once: from here on only the DEK is secret */
	m->size = len;
	if ((m->body = malloc(cap)) != NULL &&
	    sec_dek_new(j->dek) == SEC_ENV_OK &&
	    sec_body_seal(j->dek, m->id, m->msisdn, text, len, m->body_nonce,
	    m->body, cap, &m->body_len) == SEC_ENV_OK)
		rc = 0;
	OPENSSL_clear_free(text, len + 1);
	if (rc != 0) {
		seal_fail(j, SMPP_RSYSERR, "seal");
		return;
	}
	if (m->expires_at == 0)
		m->expires_at = m->received_at +
		    (int64_t)svc->cfg.retention_s * 1000;
	if ((e = mcache_get(svc->pipeline, m->msisdn)) == NULL) {
		seal_fail(j, SMPP_RSYSERR, "no_memory");
		return;
	}
	if (e->loading) {
		if (e->last != NULL)
			e->last->next_wait = j;
		else
			e->first = j;
		e->last = j;
		return;
	}
	if (e->read_at != 0 && mono_ms() - e->read_at < MCACHE_TTL_MS) {
		seal_decide(j, e, false);
		return;
	}
	e->first = e->last = j;
	mcache_load(svc, e);
}

/* Wraps the DEK for device d into copy c; -1 (logged) if its key will
 * not take it. */
static int
wrap_for(const uint8_t dek[SEC_DEK_LEN], const struct sec_msg_rec *m,
    const struct sec_device_rec *d, struct sec_copy_rec *c)
{
	EVP_PKEY *pk = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	/* stored at registration, checked then: load_stored, whose answer
	 * does not change from one message to the next */
	if ((rc = sec_pubkey_load_stored(d->scheme, d->spki, d->spki_len,
	    &pk)) == SEC_ENV_OK)
		rc = sec_wrap_seal(d->scheme, pk, dek, SEC_DEK_LEN, m->id,
		    strlen(m->id), &c->key);
	EVP_PKEY_free(pk);
	if (rc != SEC_ENV_OK) {
		smpp_log(SMPP_LOG_WARN, m->id, "secure", "wrap_failed",
		    "device=%s why=%s", d->device_id, sec_env_strerror(rc));
		return -1;
	}
	snprintf(c->id, sizeof(c->id), "%s", m->id);
	snprintf(c->device_id, sizeof(c->device_id), "%s", d->device_id);
	snprintf(c->msisdn, sizeof(c->msisdn), "%s", m->msisdn);
	snprintf(c->from, sizeof(c->from), "%s", m->source);
	c->binary = m->binary;
	c->received_at = m->received_at;
	c->expires_at = m->expires_at;
	c->size = m->size;
	memcpy(c->body_nonce, m->body_nonce, sizeof(c->body_nonce));
	c->body = m->body;		/* borrowed */
	c->body_len = m->body_len;
	return 0;
}

void
sec_copy_row(const struct sec_copy_rec *c, struct db_kv_op *op, char *key,
    size_t keycap, void *data, size_t len, int64_t expect)
{
	snprintf(key, keycap, "%s/%s", c->id, c->device_id);
	memset(op, 0, sizeof(*op));
	op->op = DB_KV_PUT;
	op->table = DB_KV_COPY;
	op->key = key;
	op->idx1 = c->acked_at == 0 ? c->device_id : "";
	op->idx2 = c->id;
	op->sort = c->received_at;
	op->expires_at = c->expires_at;
	op->expect = expect;
	op->data = data;
	op->len = len;
}

static void on_written(void *arg, enum db_status st, int64_t v);

static void
seal_write(struct seal_job *j)
{
	struct sec_service *svc = j->svc;
	struct sec_incoming *in = j->in;
	struct sec_msg_rec *m = &in->m;
	struct db_kv_op ops[2 + SEC_MAX_DEVICES_WRITE];
	char keys[SEC_MAX_DEVICES_WRITE][DB_KV_KEY_MAX + 1];
	void *bufs[1 + SEC_MAX_DEVICES_WRITE];
	size_t n = 0, nb = 0, len;
	enum db_status st;

	if (j->n_devs > 0 &&
	    (j->copies = calloc(j->n_devs, sizeof(*j->copies))) == NULL) {
		seal_fail(j, SMPP_RSYSERR, "no_memory");
		return;
	}
	for (size_t i = 0; i < j->n_devs &&
	    j->n_copies < SEC_MAX_DEVICES_WRITE; i++)
		if (wrap_for(j->dek, m, &j->devs[i],
		    &j->copies[j->n_copies]) == 0)
			j->n_copies++;
	if (j->n_copies > 0) {
		m->state = SEC_MSG_SEALED;
		m->has_vault = false;
	} else {
		if (sec_keyring_wrap(svc->keyring, m->id, m->msisdn, j->dek,
		    &m->vault) != 0) {
			seal_fail(j, SMPP_RSYSERR, "vault_wrap");
			return;
		}
		m->state = SEC_MSG_VAULT;
		m->has_vault = true;
	}
	OPENSSL_cleanse(j->dek, sizeof(j->dek));
	if ((bufs[nb] = sec_rec_msg_encode(m, &len)) == NULL) {
		seal_fail(j, SMPP_RSYSERR, "encode");
		return;
	}
	sec_msg_row(m, &ops[n++], bufs[nb++], len, 0);
	for (size_t i = 0; i < j->n_copies; i++) {
		if ((bufs[nb] = sec_rec_copy_encode(&j->copies[i], &len)) ==
		    NULL)
			break;
		sec_copy_row(&j->copies[i], &ops[n++], keys[i],
		    sizeof(keys[i]), bufs[nb++], len, 0);
	}
	if (nb != 1 + j->n_copies) {
		for (size_t i = 0; i < nb; i++)
			free(bufs[i]);
		seal_fail(j, SMPP_RSYSERR, "encode");
		return;
	}
	if (in->group[0] != '\0') {
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].op = DB_KV_DEL_IDX2;
		ops[n].table = DB_KV_PART;
		ops[n].idx2 = in->group;
		ops[n].expect = -1;
		n++;
	}
	st = db_kv_write(svc->store, ops, n, on_written, j);
	for (size_t i = 0; i < nb; i++)
		free(bufs[i]);
	if (st != DB_OK)
		seal_fail(j, db_to_status(st), db_status_name(st));
}

static void
on_written(void *arg, enum db_status st, int64_t v)
{
	struct seal_job *j = arg;
	struct sec_service *svc = j->svc;
	struct sec_incoming *in = j->in;
	struct sec_msg_rec *m = &in->m;

	(void)v;
	if (st == DB_ECONFLICT && in->reply == NULL) {
		/* another round assembled this group first */
		smpp_log(SMPP_LOG_DEBUG, m->id, "secure", "assembled_twice",
		    NULL);
		seal_job_free(j);
		return;
	}
	if (st != DB_OK) {
		seal_fail(j, st == DB_ECONFLICT ? SMPP_RSYSERR :
		    db_to_status(st), db_status_name(st));
		return;
	}
	svc->n.accepted++;
	if (m->state == SEC_MSG_VAULT)
		svc->n.vaulted++;
	else
		svc->n.sealed_direct++;
	smpp_log(SMPP_LOG_DEBUG, m->id, "secure", "stored",
	    "account=%s state=%s devices=%zu parts=%zu size=%zu",
	    m->account, sec_msg_state_name(m->state), j->n_copies,
	    m->n_parts, m->size);
	if (in->reply != NULL)
		in->reply(in->reply_arg, SMPP_ROK);
	sec_notice_send(svc, m, m->state == SEC_MSG_SEALED);
	seal_job_free(j);
}

/* ---- notices ------------------------------------------------------- */

struct sec_notice {
	struct sec_notice	*next, *prev;
	struct sec_service	*svc;
	struct sec_msg_rec	 m;		/* with its sealed body */
};

static void
notice_unlink(struct sec_notice *n)
{
	struct sec_pipeline *p = n->svc->pipeline;

	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		p->notices = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
}

static void
notice_free(struct sec_notice *n)
{
	sec_rec_msg_clear(&n->m);
	free(n);
}

/* Copies m without its body (part ids duplicated). */
int
sec_msg_copy_head(struct sec_msg_rec *dst, const struct sec_msg_rec *m)
{
	*dst = *m;
	dst->body = NULL;
	dst->body_len = 0;
	dst->part_ids = NULL;
	if ((dst->part_ids = calloc(m->n_parts, sizeof(*m->part_ids))) ==
	    NULL)
		return -1;
	memcpy(dst->part_ids, m->part_ids, m->n_parts *
	    sizeof(*m->part_ids));
	return 0;
}

/*
 * A change to a stored message: read it, edit (false: nothing to do),
 * write it back under its version; a conflict (it changed meanwhile:
 * sealed to a device, acked) reads it again, at most three times.
 */
typedef bool (*msg_edit_fn)(struct sec_msg_rec *m);
typedef void (*msg_edited_fn)(struct sec_service *svc,
    const struct sec_msg_rec *m);

struct edit_job {
	struct sec_service	*svc;
	char			 id[SEC_ID_MAX + 1];
	msg_edit_fn		 edit;
	msg_edited_fn		 after;		/* once written; may be NULL */
	unsigned		 tries;
	struct sec_msg_rec	 m;
};

static void edit_read(struct edit_job *e);

static void
edit_end(struct edit_job *e)
{
	sec_rec_msg_clear(&e->m);
	free(e);
}

static void
on_edit_written(void *arg, enum db_status st, int64_t v)
{
	struct edit_job *e = arg;

	(void)v;
	if (st == DB_ECONFLICT && ++e->tries < 3) {
		sec_rec_msg_clear(&e->m);
		edit_read(e);
		return;
	}
	if (st == DB_OK && e->after != NULL)
		e->after(e->svc, &e->m);
	else if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, e->id, "secure", "update_failed",
		    "db=%s", db_status_name(st));
	edit_end(e);
}

static void
on_edit_read(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct edit_job *e = arg;
	struct db_kv_op op;
	void *buf;
	size_t len;

	if (st != DB_OK || n != 1 || sec_rec_msg_decode(rows[0].data,
	    rows[0].len, &e->m) != 0 || !e->edit(&e->m) ||
	    (buf = sec_rec_msg_encode(&e->m, &len)) == NULL) {
		/* gone, or nothing to change any more */
		edit_end(e);
		return;
	}
	sec_msg_row(&e->m, &op, buf, len, rows[0].version);
	st = db_kv_write(e->svc->store, &op, 1, on_edit_written, e);
	free(buf);
	if (st != DB_OK)
		on_edit_written(e, st, 0);
}

static void
edit_read(struct edit_job *e)
{
	if (db_kv_get(e->svc->store, DB_KV_MSG, e->id, on_edit_read, e) !=
	    DB_OK)
		edit_end(e);
}

static void
msg_edit(struct sec_service *svc, const char *id, msg_edit_fn edit,
    msg_edited_fn after)
{
	struct edit_job *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	e->svc = svc;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->edit = edit;
	e->after = after;
	edit_read(e);
}

static bool
edit_done(struct sec_msg_rec *m)
{
	if (m->state != SEC_MSG_VAULT && m->state != SEC_MSG_SEALED)
		return false;
	m->state = SEC_MSG_DONE;
	return true;
}

static void
after_done(struct sec_service *svc, const struct sec_msg_rec *m)
{
	sec_receipts(svc, m, SMPP_DLR_UNDELIV);
}

static bool
edit_notified(struct sec_msg_rec *m)
{
	if (m->notified)
		return false;
	m->notified = true;
	return true;
}

/* The notice was accepted: recorded, so a restart does not send it
 * again. The first try writes the copy we hold over version 1 (the row
 * as stored, unless something changed it meanwhile). */
static void
on_notified_fast(void *arg, enum db_status st, int64_t v)
{
	struct edit_job *e = arg;

	(void)v;
	if (st == DB_ECONFLICT) {
		sec_rec_msg_clear(&e->m);
		edit_read(e);
		return;
	}
	edit_end(e);
}

/*
 * Notices accepted in one loop wake-up are recorded in one write (up to
 * DB_KV_OPS_MAX rows, each over version 1 as below) instead of one
 * storage job each. The write is all or none: when a row changed
 * meanwhile, each of them is recorded alone (read, edit, write). A kill
 * -9 before the write sends those notices again after the restart, as
 * it did before the write was queued.
 */
struct notified_batch {
	struct sec_service	*svc;
	size_t			 n;
	char			 ids[][SEC_ID_MAX + 1];
};

static void
on_notified_batch(void *arg, enum db_status st, int64_t v)
{
	struct notified_batch *b = arg;

	(void)v;
	if (st == DB_ECONFLICT)
		for (size_t i = 0; i < b->n; i++)
			msg_edit(b->svc, b->ids[i], edit_notified, NULL);
	else if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, NULL, "secure", "update_failed",
		    "what=notified rows=%zu db=%s", b->n, db_status_name(st));
	free(b);
}

/* Writes the rows of the notices waiting in p->notified (sealed bodies
 * kept, so each row is written back whole, notified set) and frees
 * them. */
static void
notified_flush(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;
	struct db_kv_op ops[DB_KV_OPS_MAX];
	void *bufs[DB_KV_OPS_MAX];
	struct sec_notice *held[DB_KV_OPS_MAX];
	struct notified_batch *b;
	size_t k, nh, len;

	while (p->notified != NULL) {
		for (nh = 0; p->notified != NULL && nh < DB_KV_OPS_MAX; nh++) {
			held[nh] = p->notified;
			p->notified = held[nh]->next;
		}
		b = calloc(1, sizeof(*b) + nh * sizeof(b->ids[0]));
		for (k = 0; b != NULL && k < nh; k++) {
			struct sec_msg_rec *m = &held[k]->m;

			if ((bufs[k] = sec_rec_msg_encode(m, &len)) == NULL)
				break;
			snprintf(b->ids[k], sizeof(b->ids[k]), "%s", m->id);
			sec_msg_row(m, &ops[k], bufs[k], len, 1);
		}
		if (b != NULL && k == nh) {
			b->svc = svc;
			b->n = k;
			if (db_kv_write(svc->store, ops, k, on_notified_batch,
			    b) == DB_OK)
				b = NULL;
		}
		free(b);
		for (size_t i = 0; i < k; i++)
			free(bufs[i]);
		for (size_t i = 0; i < nh; i++)
			notice_free(held[i]);
	}
}

static void
on_notified_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notified_flush(arg);
}

/* n's notice was accepted: its row is recorded with the others of this
 * wake-up (n taken). */
static void
notified_queue(struct sec_service *svc, struct sec_notice *n)
{
	struct sec_pipeline *p = svc->pipeline;
	struct timeval now = { 0, 0 };

	n->m.notified = true;
	n->prev = NULL;
	n->next = p->notified;
	p->notified = n;
	if (p->notified_timer == NULL ||
	    evtimer_add(p->notified_timer, &now) != 0)
		notified_flush(svc);
}

static void
mark_notified(struct sec_service *svc, struct sec_msg_rec *m)
{
	struct edit_job *e;
	struct db_kv_op op;
	void *buf;
	size_t len;

	if (m->body == NULL) {
		msg_edit(svc, m->id, edit_notified, NULL);
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	e->svc = svc;
	snprintf(e->id, sizeof(e->id), "%s", m->id);
	e->edit = edit_notified;
	m->notified = true;
	buf = sec_rec_msg_encode(m, &len);
	if (buf == NULL) {
		free(e);
		return;
	}
	sec_msg_row(m, &op, buf, len, 1);
	if (db_kv_write(svc->store, &op, 1, on_notified_fast, e) != DB_OK)
		free(e);
	free(buf);
}

static void
notice_done(void *arg, bool ok)
{
	struct sec_notice *n = arg;
	struct sec_service *svc = n->svc;

	notice_unlink(n);
	if (ok) {
		svc->n.notices_sent++;
		smpp_log(SMPP_LOG_DEBUG, n->m.id, "secure", "notified", NULL);
		if (n->m.registered_delivery & 0x10)
			sec_receipts(svc, &n->m, SMPP_DLR_ENROUTE);
		if (n->m.body != NULL)
			notified_queue(svc, n);
		else {
			mark_notified(svc, &n->m);
			notice_free(n);
		}
		return;
	}
	svc->n.notices_failed++;
	smpp_log(SMPP_LOG_WARN, n->m.id, "secure", "notice_failed",
	    "msisdn=%s", n->m.msisdn);
	msg_edit(svc, n->m.id, edit_done, after_done);
	notice_free(n);
}

void
sec_notice_send(struct sec_service *svc, const struct sec_msg_rec *m,
    bool registered)
{
	struct sec_pipeline *p = svc->pipeline;
	struct sec_notify_vars v;
	struct sec_notice *n;
	char text[SEC_NOTIFY_MAX], ref[SEC_REF_LEN + 1];
	const char *src;

	if (svc->hooks.send_sms == NULL)
		return;
	sec_notify_ref(m->id, ref);
	memset(&v, 0, sizeof(v));
	v.sender = m->source;
	v.ref = ref;
	v.link = svc->cfg.app_link;
	if (sec_notify_fill(registered ? svc->cfg.tpl_registered :
	    svc->cfg.tpl_unregistered, &v, text, sizeof(text)) < 0) {
		smpp_log(SMPP_LOG_ERR, m->id, "secure", "notice_too_long",
		    NULL);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    sec_msg_copy_head(&n->m, m) != 0) {
		free(n);
		return;
	}
	/* the sealed body too (never plaintext): once the notice is
	 * accepted the row is written back as is, with notified set */
	if (m->body != NULL && m->body_len > 0 &&
	    (n->m.body = malloc(m->body_len)) != NULL) {
		memcpy(n->m.body, m->body, m->body_len);
		n->m.body_len = m->body_len;
	}
	n->svc = svc;
	n->next = p->notices;
	if (p->notices != NULL)
		p->notices->prev = n;
	p->notices = n;
	src = svc->cfg.notify_source[0] != '\0' ? svc->cfg.notify_source :
	    m->source;
	svc->hooks.send_sms(svc->hooks.arg, src, m->msisdn, text, notice_done,
	    n);
}

/* ---- a device became active ---------------------------------------- */

/*
 * The MSISDN's vault messages are listed twice: at once, and again
 * ACTIVE_AGAIN_S later for a message whose sealing read "no device" before
 * this device was stored (up to MCACHE_TTL_MS before, the read being
 * kept that long) and committed just after the first
 * listing passed it (it would otherwise stay in the vault).
 */
#define ACTIVE_AGAIN_S	(MCACHE_TTL_MS / 1000 + 2)

struct sec_active {
	struct sec_active	*next, *prev;
	struct sec_service	*svc;
	struct sec_device_rec	 dev;
	EVP_PKEY		*pk;
	int64_t			 after_sort;
	char			 after_key[DB_KV_KEY_MAX + 1];
	unsigned		 writes;	/* sealings in flight */
	bool			 listing;
	unsigned		 pass;
	struct event		*again;
};

static void active_next(struct sec_active *a);

static void
active_free(struct sec_active *a)
{
	struct sec_pipeline *p = a->svc->pipeline;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		p->actives = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	if (a->again != NULL)
		event_free(a->again);
	EVP_PKEY_free(a->pk);
	OPENSSL_cleanse(&a->dev, sizeof(a->dev));
	free(a);
}

static void
on_active_again(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	active_next(arg);
}

static void
active_maybe_free(struct sec_active *a)
{
	struct timeval tv = { ACTIVE_AGAIN_S, 0 };

	if (a->listing || a->writes > 0 ||
	    (a->again != NULL && evtimer_pending(a->again, NULL)))
		return;
	if (a->pass++ == 0 && a->svc->base != NULL &&
	    (a->again = evtimer_new(a->svc->base, on_active_again, a)) !=
	    NULL && evtimer_add(a->again, &tv) == 0) {
		a->after_sort = 0;
		a->after_key[0] = '\0';
		return;
	}
	active_free(a);
}

struct active_write {
	struct sec_active	*a;
	char			 id[SEC_ID_MAX + 1];
};

static void
on_active_written(void *arg, enum db_status st, int64_t v)
{
	struct active_write *w = arg;
	struct sec_active *a = w->a;

	(void)v;
	if (st == DB_OK) {
		a->svc->n.sealed_later++;
		smpp_log(SMPP_LOG_INFO, w->id, "secure", "sealed_later",
		    "device=%s", a->dev.device_id);
	} else
		smpp_log(SMPP_LOG_WARN, w->id, "secure", "seal_later_failed",
		    "device=%s db=%s", a->dev.device_id, db_status_name(st));
	a->writes--;
	free(w);
	active_maybe_free(a);
}

/* Seals one vault message (row) to the device: the copy and the message,
 * now without its vault wrap, in one guarded write. */
static void
active_one(struct sec_active *a, const struct db_kv_row *row)
{
	struct sec_service *svc = a->svc;
	struct sec_msg_rec m;
	struct sec_copy_rec c;
	struct active_write *w = NULL;
	struct db_kv_op ops[2];
	char key[DB_KV_KEY_MAX + 1];
	uint8_t dek[SEC_DEK_LEN];
	void *mb = NULL, *cb = NULL;
	size_t ml, cl;
	int rc;

	if (sec_rec_msg_decode(row->data, row->len, &m) != 0)
		return;
	if (m.state != SEC_MSG_VAULT || !m.has_vault) {
		sec_rec_msg_clear(&m);
		return;
	}
	if (sec_keyring_unwrap(svc->keyring, m.id, m.msisdn, &m.vault,
	    dek) != 0) {
		smpp_log(SMPP_LOG_WARN, m.id, "secure", "vault_unwrap_failed",
		    "kid=%s", m.vault.kid);
		sec_rec_msg_clear(&m);
		return;
	}
	memset(&c, 0, sizeof(c));
	rc = sec_wrap_seal(a->dev.scheme, a->pk, dek, SEC_DEK_LEN, m.id,
	    strlen(m.id), &c.key);
	OPENSSL_cleanse(dek, sizeof(dek));
	if (rc != SEC_ENV_OK) {
		sec_rec_msg_clear(&m);
		return;
	}
	snprintf(c.id, sizeof(c.id), "%s", m.id);
	snprintf(c.device_id, sizeof(c.device_id), "%s", a->dev.device_id);
	snprintf(c.msisdn, sizeof(c.msisdn), "%s", m.msisdn);
	snprintf(c.from, sizeof(c.from), "%s", m.source);
	c.binary = m.binary;
	c.received_at = m.received_at;
	c.expires_at = m.expires_at;
	c.size = m.size;
	memcpy(c.body_nonce, m.body_nonce, sizeof(c.body_nonce));
	c.body = m.body;
	c.body_len = m.body_len;
	/* the vault's copy of the DEK goes: the server can no longer open
	 * the message */
	m.state = SEC_MSG_SEALED;
	m.has_vault = false;
	OPENSSL_cleanse(&m.vault, sizeof(m.vault));
	if ((mb = sec_rec_msg_encode(&m, &ml)) == NULL ||
	    (cb = sec_rec_copy_encode(&c, &cl)) == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		goto out;
	sec_msg_row(&m, &ops[0], mb, ml, row->version);
	sec_copy_row(&c, &ops[1], key, sizeof(key), cb, cl, 0);
	w->a = a;
	snprintf(w->id, sizeof(w->id), "%s", m.id);
	if (db_kv_write(svc->store, ops, 2, on_active_written, w) == DB_OK) {
		a->writes++;
		w = NULL;
	}
out:
	free(w);
	free(mb);
	free(cb);
	sec_rec_msg_clear(&m);
}

static void
on_active_page(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_active *a = arg;

	a->listing = false;
	if (st != DB_OK || n == 0) {
		if (st != DB_OK && st != DB_NOTFOUND)
			smpp_log(SMPP_LOG_WARN, a->dev.device_id, "secure",
			    "seal_later_list_failed", "db=%s",
			    db_status_name(st));
		active_maybe_free(a);
		return;
	}
	for (size_t i = 0; i < n; i++)
		active_one(a, &rows[i]);
	a->after_sort = rows[n - 1].sort;
	snprintf(a->after_key, sizeof(a->after_key), "%s", rows[n - 1].key);
	if (n < ACTIVE_PAGE) {
		active_maybe_free(a);
		return;
	}
	active_next(a);
}

static void
active_next(struct sec_active *a)
{
	if (db_kv_list(a->svc->store, DB_KV_MSG, 1, a->dev.msisdn,
	    a->after_sort, a->after_key, ACTIVE_PAGE, on_active_page, a) ==
	    DB_OK)
		a->listing = true;
	active_maybe_free(a);
}

void
sec_pipeline_device_active(struct sec_service *svc,
    const struct sec_device_rec *dev)
{
	struct sec_active *a;
	int rc;

	sec_pipeline_msisdn_changed(svc, dev->msisdn);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->svc = svc;
	a->dev = *dev;
	a->next = svc->pipeline->actives;
	if (a->next != NULL)
		a->next->prev = a;
	svc->pipeline->actives = a;
	if ((rc = sec_pubkey_load_stored(dev->scheme, dev->spki,
	    dev->spki_len, &a->pk)) != SEC_ENV_OK) {
		smpp_log(SMPP_LOG_WARN, dev->device_id, "secure",
		    "device_key_refused", "why=%s", sec_env_strerror(rc));
		active_free(a);
		return;
	}
	active_next(a);
}

/* ---- notices a restart left unsent -------------------------------- */

/*
 * A kill -9 between a message's commit and its notice's acceptance loses
 * no message, but it would lose the notice: after a start, messages of
 * the last day received before it, still waiting and never notified, get
 * their notice (at most RESEND_MAX). A notice accepted but not yet
 * recorded when the process died goes twice: the safe side.
 */
#define RESEND_DELAY_S	5	/* links bind first */
#define RESEND_WINDOW_MS (24 * 3600 * 1000LL)
#define RESEND_PAGE	100
#define RESEND_MAX	100000
/* db_kv_list reads "" as "from the very start": a key below every id
 * (ids are digits and letters) starts at the window's first ms instead */
#define RESEND_FROM_KEY	"!"

static void resend_next(struct sec_service *svc);

static void
on_resend_page(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_service *svc = arg;
	struct sec_pipeline *p = svc->pipeline;
	bool end = false;

	if (st != DB_OK)
		n = 0;
	for (size_t i = 0; i < n && !end; i++) {
		struct sec_msg_rec m;

		if (rows[i].sort >= p->started_at || p->resent >= RESEND_MAX) {
			end = true;
			break;
		}
		if (sec_rec_msg_decode(rows[i].data, rows[i].len, &m) != 0)
			continue;
		if (!m.notified && (m.state == SEC_MSG_VAULT ||
		    m.state == SEC_MSG_SEALED)) {
			smpp_log(SMPP_LOG_INFO, m.id, "secure", "notice_resent",
			    "state=%s", sec_msg_state_name(m.state));
			p->resent++;
			/* the fast path's version guard will miss: the row's
			 * version is unknown here */
			OPENSSL_clear_free(m.body, m.body_len);
			m.body = NULL;
			m.body_len = 0;
			sec_notice_send(svc, &m, m.state == SEC_MSG_SEALED);
		}
		sec_rec_msg_clear(&m);
	}
	if (n > 0) {
		p->resend_after_sort = rows[n - 1].sort;
		snprintf(p->resend_after_key, sizeof(p->resend_after_key), "%s",
		    rows[n - 1].key);
	}
	if (end || n < RESEND_PAGE) {
		if (p->resend_state == SEC_MSG_SEALED)
			return;
		p->resend_state = SEC_MSG_SEALED;
		p->resend_after_sort = p->started_at - RESEND_WINDOW_MS;
		snprintf(p->resend_after_key, sizeof(p->resend_after_key),
		    "%s", RESEND_FROM_KEY);
	}
	resend_next(svc);
}

static void
resend_next(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;

	(void)db_kv_list(svc->store, DB_KV_MSG, 2,
	    sec_msg_state_name((enum sec_msg_state)p->resend_state),
	    p->resend_after_sort, p->resend_after_key, RESEND_PAGE,
	    on_resend_page, svc);
}

static void
on_resend_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sec_service *svc = arg;
	struct sec_pipeline *p = svc->pipeline;

	(void)fd;
	(void)what;
	p->resend_state = SEC_MSG_VAULT;
	p->resend_after_sort = p->started_at - RESEND_WINDOW_MS;
	snprintf(p->resend_after_key, sizeof(p->resend_after_key), "%s",
	    RESEND_FROM_KEY);
	resend_next(svc);
}

/* ---- init and free ------------------------------------------------- */

static void
on_expire_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sec_service *svc = arg;

	(void)fd;
	(void)what;
	mcache_sweep(svc->pipeline);
	sec_expire_round(svc);
}

static void
on_rewrap_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sec_service *svc = arg;
	struct timeval tv = { REWRAP_EVERY_S, 0 };

	(void)fd;
	(void)what;
	sec_rewrap_round(svc);
	evtimer_add(svc->pipeline->rewrap_timer, &tv);
}

int
sec_pipeline_init(struct sec_service *svc, char *err, size_t errlen)
{
	struct sec_pipeline *p;
	struct timeval every = { EXPIRE_EVERY_S, 0 }, soon = { 1, 0 };
	struct timeval resend = { RESEND_DELAY_S, 0 };

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->groups = calloc(SEC_GROUPS_MAX, sizeof(*p->groups))) == NULL ||
	    (p->mcache = calloc(MCACHE_BUCKETS, sizeof(*p->mcache))) == NULL) {
		if (p != NULL)
			free(p->groups);
		free(p);
		snprintf(err, errlen, "pipeline: out of memory");
		return -1;
	}
	p->svc = svc;
	p->started_at = sec_now_ms();
	svc->pipeline = p;
	if (svc->base != NULL) {
		p->expire_timer = event_new(svc->base, -1, EV_PERSIST,
		    on_expire_tick, svc);
		p->rewrap_timer = evtimer_new(svc->base, on_rewrap_tick, svc);
		p->resend_timer = evtimer_new(svc->base, on_resend_tick, svc);
		p->notified_timer = evtimer_new(svc->base, on_notified_flush,
		    svc);
		if (p->expire_timer == NULL || p->rewrap_timer == NULL ||
		    p->resend_timer == NULL || p->notified_timer == NULL ||
		    evtimer_add(p->expire_timer, &every) != 0 ||
		    evtimer_add(p->rewrap_timer, &soon) != 0 ||
		    evtimer_add(p->resend_timer, &resend) != 0) {
			sec_pipeline_free(svc);
			snprintf(err, errlen, "pipeline: timers");
			return -1;
		}
	}
	return 0;
}

void
sec_pipeline_free(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;

	if (p == NULL)
		return;
	if (p->expire_timer != NULL)
		event_free(p->expire_timer);
	if (p->rewrap_timer != NULL)
		event_free(p->rewrap_timer);
	if (p->resend_timer != NULL)
		event_free(p->resend_timer);
	if (p->notified_timer != NULL)
		event_free(p->notified_timer);
	/* accepted notices not yet recorded: sent again after a restart */
	while (p->notified != NULL) {
		struct sec_notice *n = p->notified;

		p->notified = n->next;
		notice_free(n);
	}
	/* notices whose SMS never finished: the gateway drops their done
	 * callbacks once it stops */
	while (p->notices != NULL) {
		struct sec_notice *n = p->notices;

		p->notices = n->next;
		notice_free(n);
	}
	while (p->actives != NULL)
		active_free(p->actives);
	while (p->busy != NULL) {
		struct sec_busy *b = p->busy;

		p->busy = b->next;
		free(b);
	}
	for (size_t b = 0; b < MCACHE_BUCKETS; b++)
		while (p->mcache[b] != NULL) {
			struct sec_mcache *e = p->mcache[b];

			p->mcache[b] = e->next;
			mcache_entry_free(e);
		}
	free(p->mcache);
	free(p->groups);
	free(p);
	svc->pipeline = NULL;
}
