/*
 * fg_kafka_range.c: a topic's history, read by plain assignment.
 * (DESIGN in fg_kafka_range.h.)
 */
#include "fg_kafka_range.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/fg_common.h"
#include "../core/fg_date.h"

/* [start, end) of one partition */
struct range {
	int32_t partition;
	int64_t start, end;
};

struct fg_kafka_range {
	rd_kafka_t *rk;
	char *topic;
	int timeout_ms;
	struct range *v; /* by partition, ascending */
	size_t n;
	size_t cur;        /* index of the partition being read */
	int64_t next;      /* next offset wanted in it */
	int assigned;      /* v[cur] is assigned */
	uint64_t total, done;
};

int fg_kafka_parse_time(const char *s, int64_t *ms)
{
	int32_t days;
	char *end;

	if (*s == '@') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno || *end || end == s + 1 || v < 0 || s[1] == '-' || s[1] == '+')
			return -1;
		*ms = v;
		return 0;
	}
	if (strlen(s) < 10 || fg_date_parse(s, 10, &days))
		return -1;
	*ms = (int64_t)days * 86400000;
	if (s[10] == '\0')
		return 0;
	unsigned hh, mm, ss, frac = 0;
	int n = 0;
	if (sscanf(s + 10, "T%2u:%2u:%2u%n", &hh, &mm, &ss, &n) != 3 || hh > 23 || mm > 59 ||
	    ss > 60)
		return -1;
	s += 10 + n;
	if (*s == '.') {
		int k = 0;
		for (s++; *s >= '0' && *s <= '9'; s++, k++)
			if (k < 3)
				frac = frac * 10 + (unsigned)(*s - '0');
		for (; k < 3; k++)
			frac *= 10;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	*ms += ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + frac;
	return 0;
}

/* replay's --from/--to: fg_kafka_parse_time's forms, or bare milliseconds. */
static int parse_replay_time(const char *s, int64_t *ms)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!errno && *end == '\0' && end != s && strlen(s) > 10 && v >= 0) {
		*ms = v;
		return 0;
	}
	return fg_kafka_parse_time(s, ms);
}

static int cmp_part(const void *a, const void *b)
{
	const struct fg_kafka_part_ends *x = a, *y = b;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* --offsets p:start-end,... (end inclusive) into partition ends, by partition. */
static int parse_offsets(const char *s, struct fg_kafka_part_ends **out, size_t *n, char *err,
			 size_t err_size)
{
	struct fg_kafka_part_ends *v = NULL;
	size_t cap = 0;
	char *copy = strdup(s), *save = NULL, *tok;

	*n = 0;
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long long p, a, e;
		int used = 0;
		if (sscanf(tok, "%lld:%lld-%lld%n", &p, &a, &e, &used) != 3 || tok[used] ||
		    p < 0 || p > INT32_MAX || a < 0 || e < a) {
			fg_errf(err, err_size,
				"--offsets: \"%s\" is not PARTITION:START-END (END >= START >= 0)", tok);
			goto err;
		}
		for (size_t i = 0; i < *n; i++)
			if (v[i].partition == p) {
				fg_errf(err, err_size, "--offsets: partition %lld given twice", p);
				goto err;
			}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct fg_kafka_part_ends *nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				goto err;
			v = nv;
		}
		v[(*n)++] = (struct fg_kafka_part_ends){ (int32_t)p, { a, -1 }, { e + 1, -1 } };
	}
	free(copy);
	if (!*n) {
		fg_errf(err, err_size, "--offsets is empty");
		free(v);
		return -1;
	}
	qsort(v, *n, sizeof(*v), cmp_part);
	*out = v;
	return 0;
err:
	free(copy);
	free(v);
	*n = 0;
	return -1;
}

static rd_kafka_t *make_consumer(const struct fg_config *cfg, const char *group, char *err,
				 size_t err_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char own[64], why[512];
	rd_kafka_t *rk;

	/* A group never joined, nothing stored or committed: no group's offsets move. */
	if (!group) {
		snprintf(own, sizeof(own), "floorgate-replay-%ld", (long)getpid());
		group = own;
	}
	/*
	 * Partitions are read one after the other; a fetch long-polling at the end
	 * of the last one would hold up the first fetch of the next for up to
	 * fetch.wait.max.ms (500 ms by default). History is all there: do not wait.
	 * A kafka.fetch.wait.max.ms in the configuration still wins.
	 */
	if (fg_config_rdkafka_set(conf, "fetch.wait.max.ms", "10", err, err_size) ||
	    fg_config_rdkafka_apply(cfg, conf, FG_CONFIG_PRODUCER, err, err_size) ||
	    fg_config_rdkafka_set(conf, "group.id", group, err, err_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "false", err, err_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.offset.store", "false", err, err_size) ||
	    fg_config_rdkafka_set(conf, "enable.partition.eof", "true", err, err_size)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!rk) {
		fg_errf(err, err_size, "cannot create the consumer: %s", why);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/*
 * Resolves the ends that are times (pass 0: from, 1: to) with one
 * rd_kafka_offsets_for_times call; an end with no message at or after its
 * time is the partition's end (hi).
 */
static int resolve_times(struct fg_kafka_range *kr, struct fg_kafka_part_ends *e,
			 const int64_t *hi, int pass, char *err, size_t err_size)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)kr->n);
	rd_kafka_resp_err_t re;

	if (!l) {
		fg_errf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < kr->n; i++) {
		struct fg_kafka_end *end = pass ? &e[i].to : &e[i].from;
		if (end->offset < 0 && end->time_ms >= 0)
			rd_kafka_topic_partition_list_add(l, kr->topic, e[i].partition)->offset =
				end->time_ms;
	}
	re = l->cnt ? rd_kafka_offsets_for_times(kr->rk, l, kr->timeout_ms)
		    : RD_KAFKA_RESP_ERR_NO_ERROR;
	for (int j = 0; !re && j < l->cnt; j++) {
		if (l->elems[j].err) {
			re = l->elems[j].err;
			break;
		}
		for (size_t i = 0; i < kr->n; i++)
			if (e[i].partition == l->elems[j].partition) {
				struct fg_kafka_end *end = pass ? &e[i].to : &e[i].from;
				end->offset = l->elems[j].offset < 0 ? hi[i] : l->elems[j].offset;
			}
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (re) {
		fg_errf(err, err_size, "%s: offsets for --%s: %s", kr->topic, pass ? "to" : "from",
			rd_kafka_err2str(re));
		return -1;
	}
	return 0;
}

/* Resolves the partitions and [start, end) offsets to read into kr->v. */
static int plan(struct fg_kafka_range *kr, const struct fg_kafka_range_spec *spec, char *err,
		size_t err_size)
{
	rd_kafka_t *rk = kr->rk;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, kr->topic, NULL);
	struct fg_kafka_part_ends *e = NULL;
	int32_t *ids = NULL;
	int64_t *lo = NULL, *hi = NULL;
	int tmo = kr->timeout_ms;
	rd_kafka_resp_err_t re;
	size_t n_ids, n;
	int rc = -1;

	if (!rkt) {
		fg_errf(err, err_size, "topic %s: %s", kr->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	re = rd_kafka_metadata(rk, 0, rkt, &md, tmo);
	if (re || md->topic_cnt != 1 || md->topics[0].err) {
		fg_errf(err, err_size, "cannot get topic %s from Kafka within %d ms: %s", kr->topic,
			tmo, rd_kafka_err2str(re ? re : md ? md->topics[0].err : re));
		goto done;
	}
	n_ids = (size_t)md->topics[0].partition_cnt;
	n = spec->listed_only ? spec->n_parts : n_ids;
	ids = calloc(n_ids ? n_ids : 1, sizeof(*ids));
	e = calloc(n ? n : 1, sizeof(*e));
	lo = calloc(n ? n : 1, sizeof(*lo));
	hi = calloc(n ? n : 1, sizeof(*hi));
	if (!ids || !e || !lo || !hi) {
		fg_errf(err, err_size, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n_ids; i++)
		ids[i] = md->topics[0].partitions[i].id;
	qsort(ids, n_ids, sizeof(*ids), cmp_i32);

	for (size_t j = 0; j < spec->n_parts; j++)
		if (!bsearch(&spec->parts[j].partition, ids, n_ids, sizeof(*ids), cmp_i32)) {
			fg_errf(err, err_size, "topic %s has no partition %d", kr->topic,
				(int)spec->parts[j].partition);
			goto done;
		}
	/* Which partitions, each end from its override or the spec's. */
	for (size_t i = 0; i < n; i++) {
		const struct fg_kafka_part_ends *o = NULL;
		int32_t p = spec->listed_only ? spec->parts[i].partition : ids[i];
		for (size_t j = 0; j < spec->n_parts; j++)
			if (spec->parts[j].partition == p)
				o = &spec->parts[j];
		e[i].partition = p;
		e[i].from = o && (o->from.offset >= 0 || o->from.time_ms >= 0) ? o->from : spec->from;
		e[i].to = o && (o->to.offset >= 0 || o->to.time_ms >= 0) ? o->to : spec->to;
	}
	kr->n = n;
	qsort(e, n, sizeof(*e), cmp_part);

	/* The watermarks bound every range; an offset outside them is an error. */
	for (size_t i = 0; i < n; i++) {
		re = rd_kafka_query_watermark_offsets(rk, kr->topic, e[i].partition, &lo[i], &hi[i],
						      tmo);
		if (re) {
			fg_errf(err, err_size, "%s [%d]: watermarks: %s", kr->topic,
				(int)e[i].partition, rd_kafka_err2str(re));
			goto done;
		}
		if (e[i].to.offset > hi[i]) {
			fg_errf(err, err_size, "%s [%d]: offset %lld is beyond the end (%lld)",
				kr->topic, (int)e[i].partition, (long long)e[i].to.offset - 1,
				(long long)hi[i]);
			goto done;
		}
	}
	if (resolve_times(kr, e, hi, 0, err, err_size) || resolve_times(kr, e, hi, 1, err, err_size))
		goto done;
	kr->v = calloc(n ? n : 1, sizeof(*kr->v));
	if (!kr->v) {
		fg_errf(err, err_size, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		struct range *r = &kr->v[i];
		r->partition = e[i].partition;
		r->start = e[i].from.offset >= 0 ? e[i].from.offset : lo[i];
		r->end = e[i].to.offset >= 0 ? e[i].to.offset : hi[i];
		if (r->end < r->start)
			r->end = r->start;
		if (r->start < lo[i] && r->end > r->start) {
			fg_errf(err, err_size,
				"%s [%d]: offsets %lld-%lld are no longer in Kafka (oldest is %lld)",
				kr->topic, (int)r->partition, (long long)r->start,
				(long long)(r->end < lo[i] ? r->end : lo[i]) - 1, (long long)lo[i]);
			goto done;
		}
		kr->total += (uint64_t)(r->end - r->start);
	}
	rc = 0;
done:
	free(e);
	free(ids);
	free(lo);
	free(hi);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

/* Whether from lies after to, when both are offsets or both times. */
static int reversed(struct fg_kafka_end from, struct fg_kafka_end to)
{
	return (from.offset >= 0 && to.offset >= 0 && from.offset > to.offset) ||
	       (from.time_ms >= 0 && to.time_ms >= 0 && from.time_ms > to.time_ms);
}

int fg_kafka_range_spec_check(const struct fg_kafka_range_spec *spec, char *errstr,
			      size_t errstr_size)
{
	if (reversed(spec->from, spec->to)) {
		fg_errf(errstr, errstr_size, "--from is after --to: the range [from, to) is reversed");
		return -1;
	}
	for (size_t i = 0; i < spec->n_parts; i++) {
		const struct fg_kafka_part_ends *pe = &spec->parts[i];
		struct fg_kafka_end from = pe->from, to = pe->to;
		if (from.offset < 0 && from.time_ms < 0)
			from = spec->from;
		if (to.offset < 0 && to.time_ms < 0)
			to = spec->to;
		if (reversed(from, to)) {
			fg_errf(errstr, errstr_size,
				"partition %d: --from is after --to: the range [from, to) is reversed",
				(int)pe->partition);
			return -1;
		}
	}
	return 0;
}

struct fg_kafka_range *fg_kafka_range_open_spec(const struct fg_config *cfg, const char *topic,
						const struct fg_kafka_range_spec *spec,
						char *errstr, size_t errstr_size)
{
	struct fg_kafka_range *kr = calloc(1, sizeof(*kr));

	if (!kr || !(kr->topic = strdup(topic))) {
		free(kr);
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	kr->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : (int)cfg->connect_timeout_ms;
	kr->rk = make_consumer(cfg, spec->group, errstr, errstr_size);
	if (!kr->rk || plan(kr, spec, errstr, errstr_size)) {
		fg_kafka_range_close(kr);
		return NULL;
	}
	return kr;
}

struct fg_kafka_range *fg_kafka_range_open(const struct fg_config *cfg, const char *topic,
					   const char *from, const char *to, const char *offsets,
					   int *bad_args, char *errstr, size_t errstr_size)
{
	struct fg_kafka_range_spec spec = { .from = FG_KAFKA_END_UNSET, .to = FG_KAFKA_END_UNSET };
	struct fg_kafka_part_ends *parts = NULL;
	struct fg_kafka_range *kr;

	/* the arguments first: a typo is reported without waiting for brokers */
	*bad_args = 1;
	for (int pass = 0; pass < 2; pass++) {
		const char *when = pass ? to : from;
		if (when && parse_replay_time(when, pass ? &spec.to.time_ms : &spec.from.time_ms)) {
			fg_errf(errstr, errstr_size,
				"--%s \"%s\" is not a time (ms since the epoch, YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM:SSZ)",
				pass ? "to" : "from", when);
			return NULL;
		}
	}
	if (offsets) {
		if (parse_offsets(offsets, &parts, &spec.n_parts, errstr, errstr_size))
			return NULL;
		spec.parts = parts;
		spec.listed_only = 1;
	}
	if (fg_kafka_range_spec_check(&spec, errstr, errstr_size)) {
		free(parts);
		return NULL;
	}
	*bad_args = 0;
	kr = fg_kafka_range_open_spec(cfg, topic, &spec, errstr, errstr_size);
	free(parts);
	return kr;
}

void fg_kafka_range_close(struct fg_kafka_range *kr)
{
	if (!kr)
		return;
	if (kr->rk) {
		if (kr->assigned)
			rd_kafka_assign(kr->rk, NULL);
		rd_kafka_consumer_close(kr->rk);
		rd_kafka_destroy(kr->rk);
	}
	free(kr->v);
	free(kr->topic);
	free(kr);
}

uint64_t fg_kafka_range_total(const struct fg_kafka_range *kr)
{
	return kr->total;
}

uint64_t fg_kafka_range_done(const struct fg_kafka_range *kr)
{
	return kr->done;
}

/* Leaves the current partition: the rest of its range counts as read. */
static void finish_partition(struct fg_kafka_range *kr)
{
	kr->done += (uint64_t)(kr->v[kr->cur].end - kr->next);
	rd_kafka_assign(kr->rk, NULL);
	kr->assigned = 0;
	kr->cur++;
}

int fg_kafka_range_next(struct fg_kafka_range *kr, rd_kafka_message_t **out, int timeout_ms,
			char *errstr, size_t errstr_size)
{
	for (;;) {
		struct range *r;
		rd_kafka_message_t *m;

		while (kr->cur < kr->n && kr->v[kr->cur].start >= kr->v[kr->cur].end)
			kr->cur++;
		if (kr->cur == kr->n)
			return 0;
		r = &kr->v[kr->cur];
		if (!kr->assigned) {
			/* One partition at a time: the order is partition, then offset, every run. */
			rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(l, kr->topic, r->partition)->offset = r->start;
			rd_kafka_resp_err_t e = rd_kafka_assign(kr->rk, l);
			rd_kafka_topic_partition_list_destroy(l);
			if (e) {
				fg_errf(errstr, errstr_size, "assign %s [%d]: %s", kr->topic,
					(int)r->partition, rd_kafka_err2str(e));
				return -1;
			}
			kr->assigned = 1;
			kr->next = r->start;
		}
		m = rd_kafka_consumer_poll(kr->rk, timeout_ms);
		if (!m)
			return 2;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* compaction or transaction markers left a gap before the end */
			rd_kafka_message_destroy(m);
			finish_partition(kr);
			continue;
		}
		if (m->err) {
			fg_errf(errstr, errstr_size, "%s [%d]: %s", kr->topic, (int)r->partition,
				rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			return -1;
		}
		if (m->partition != r->partition || m->offset < kr->next) {
			rd_kafka_message_destroy(m); /* fetched before the last assignment */
			continue;
		}
		if (m->offset >= r->end) {
			rd_kafka_message_destroy(m);
			finish_partition(kr);
			continue;
		}
		kr->done += (uint64_t)(m->offset + 1 - kr->next);
		kr->next = m->offset + 1;
		if (kr->next >= r->end) {
			/* the partition's range is complete: do not wait for more */
			rd_kafka_assign(kr->rk, NULL);
			kr->assigned = 0;
			kr->cur++;
		}
		*out = m;
		return 1;
	}
}
