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

/* Parses ms since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.mmm]Z into ms. */
static int parse_time(const char *s, int64_t *ms)
{
	int32_t days;
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && *end == '\0' && end != s && strlen(s) > 10) {
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

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

/* --offsets p:start-end,... (end inclusive) into ranges. */
static int parse_offsets(const char *s, struct range **out, size_t *n, char *err,
			 size_t err_size)
{
	struct range *v = NULL;
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
			struct range *nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				goto err;
			v = nv;
		}
		v[(*n)++] = (struct range){ (int32_t)p, a, e + 1 };
	}
	free(copy);
	if (!*n) {
		fg_errf(err, err_size, "--offsets is empty");
		free(v);
		return -1;
	}
	qsort(v, *n, sizeof(*v), cmp_range);
	*out = v;
	return 0;
err:
	free(copy);
	free(v);
	*n = 0;
	return -1;
}

static rd_kafka_t *make_consumer(const struct fg_config *cfg, char *err, size_t err_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char group[64], why[512];
	rd_kafka_t *rk;

	/* A group of its own, nothing stored or committed: live offsets never move. */
	snprintf(group, sizeof(group), "floorgate-replay-%ld", (long)getpid());
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

/* Resolves the partitions and [start, end) offsets to read into kr->v. */
static int plan(struct fg_kafka_range *kr, const char *from, const char *to, const char *offsets,
		int *bad_args, char *err, size_t err_size)
{
	rd_kafka_t *rk = kr->rk;
	size_t *n = &kr->n;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, kr->topic, NULL);
	struct range *v = NULL;
	int tmo = kr->timeout_ms;
	rd_kafka_resp_err_t e;
	int rc = -1;

	*n = 0;
	if (!rkt) {
		fg_errf(err, err_size, "topic %s: %s", kr->topic, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	e = rd_kafka_metadata(rk, 0, rkt, &md, tmo);
	if (e || md->topic_cnt != 1 || md->topics[0].err) {
		fg_errf(err, err_size, "cannot get topic %s from Kafka within %d ms: %s", kr->topic,
			tmo, rd_kafka_err2str(e ? e : md ? md->topics[0].err : e));
		goto done;
	}
	if (offsets) {
		if (parse_offsets(offsets, &v, n, err, err_size)) {
			*bad_args = 1;
			goto done;
		}
		for (size_t i = 0; i < *n; i++)
			if (v[i].partition >= md->topics[0].partition_cnt) {
				fg_errf(err, err_size, "topic %s has no partition %d", kr->topic,
					(int)v[i].partition);
				goto done;
			}
	} else {
		int pc = md->topics[0].partition_cnt;
		v = calloc((size_t)pc, sizeof(*v));
		if (!v)
			goto done;
		for (int i = 0; i < pc; i++)
			v[i].partition = md->topics[0].partitions[i].id;
		*n = (size_t)pc;
		qsort(v, *n, sizeof(*v), cmp_range);
	}
	/* watermarks bound every range */
	for (size_t i = 0; i < *n; i++) {
		int64_t lo, hi;
		e = rd_kafka_query_watermark_offsets(rk, kr->topic, v[i].partition, &lo, &hi, tmo);
		if (e) {
			fg_errf(err, err_size, "%s [%d]: watermarks: %s", kr->topic,
				(int)v[i].partition, rd_kafka_err2str(e));
			goto done;
		}
		if (!offsets) {
			v[i].start = lo;
			v[i].end = hi;
		} else if (v[i].end > hi) {
			fg_errf(err, err_size, "%s [%d]: offset %lld is beyond the end (%lld)",
				kr->topic, (int)v[i].partition, (long long)v[i].end - 1,
				(long long)hi);
			goto done;
		}
		if (v[i].start < lo && v[i].end > v[i].start) {
			fg_errf(err, err_size,
				"%s [%d]: offsets %lld-%lld are no longer in Kafka (oldest is %lld)",
				kr->topic, (int)v[i].partition, (long long)v[i].start,
				(long long)(v[i].end < lo ? v[i].end : lo) - 1, (long long)lo);
			goto done;
		}
	}
	if (from || to) {
		for (int pass = 0; pass < 2; pass++) {
			const char *when = pass ? to : from;
			int64_t ms;
			rd_kafka_topic_partition_list_t *l;
			if (!when)
				continue;
			if (parse_time(when, &ms)) {
				*bad_args = 1;
				fg_errf(err, err_size,
					"--%s \"%s\" is not a time (ms since the epoch, YYYY-MM-DD or "
					"YYYY-MM-DDTHH:MM:SSZ)",
					pass ? "to" : "from", when);
				goto done;
			}
			l = rd_kafka_topic_partition_list_new((int)*n);
			for (size_t i = 0; i < *n; i++)
				rd_kafka_topic_partition_list_add(l, kr->topic, v[i].partition)->offset = ms;
			e = rd_kafka_offsets_for_times(rk, l, tmo);
			for (int i = 0; !e && i < l->cnt; i++) {
				int64_t o = l->elems[i].offset;
				if (l->elems[i].err) {
					e = l->elems[i].err;
					break;
				}
				/* -1: no message at or after that time: the partition's end */
				if (pass == 0)
					v[i].start = o < 0 ? v[i].end : o;
				else
					v[i].end = o < 0 ? v[i].end : o;
			}
			rd_kafka_topic_partition_list_destroy(l);
			if (e) {
				fg_errf(err, err_size, "%s: offsets for --%s: %s", kr->topic,
					pass ? "to" : "from", rd_kafka_err2str(e));
				goto done;
			}
		}
		for (size_t i = 0; i < *n; i++)
			if (v[i].end < v[i].start)
				v[i].end = v[i].start;
	}
	kr->v = v;
	v = NULL;
	rc = 0;
done:
	free(v);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}


struct fg_kafka_range *fg_kafka_range_open(const struct fg_config *cfg, const char *topic,
					   const char *from, const char *to, const char *offsets,
					   int *bad_args, char *errstr, size_t errstr_size)
{
	struct fg_kafka_range *kr = calloc(1, sizeof(*kr));

	*bad_args = 0;
	if (!kr || !(kr->topic = strdup(topic))) {
		free(kr);
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	kr->timeout_ms = (int)cfg->connect_timeout_ms;
	/* the arguments first: a typo is reported without waiting for brokers */
	int64_t ms;
	struct range *v;
	size_t n;
	const char *bad = from && parse_time(from, &ms) ? "from"
			  : to && parse_time(to, &ms)	  ? "to"
							  : NULL;
	if (bad) {
		fg_errf(errstr, errstr_size,
			"--%s \"%s\" is not a time (ms since the epoch, YYYY-MM-DD or "
			"YYYY-MM-DDTHH:MM:SSZ)",
			bad, bad[0] == 'f' ? from : to);
		*bad_args = 1;
		fg_kafka_range_close(kr);
		return NULL;
	}
	if (offsets) {
		if (parse_offsets(offsets, &v, &n, errstr, errstr_size)) {
			*bad_args = 1;
			fg_kafka_range_close(kr);
			return NULL;
		}
		free(v);
	}
	kr->rk = make_consumer(cfg, errstr, errstr_size);
	if (!kr->rk || plan(kr, from, to, offsets, bad_args, errstr, errstr_size)) {
		fg_kafka_range_close(kr);
		return NULL;
	}
	for (size_t i = 0; i < kr->n; i++)
		kr->total += (uint64_t)(kr->v[i].end - kr->v[i].start);
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
