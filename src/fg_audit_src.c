/* fg_audit_src.c: records of an Avro file or a Kafka topic range (fg_audit_src.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "../core/fg_date.h"
#include "../ingest/fg_frame.h"
#include "fg_audit_src.h"

#define FG_AUDIT_SRC_KAFKA "kafka:"

unsigned long long fg_audit_src_size_hint(const char *src)
{
	struct stat st;
	if (!strncmp(src, FG_AUDIT_SRC_KAFKA, strlen(FG_AUDIT_SRC_KAFKA)))
		return 0;
	return stat(src, &st) ? 0 : (unsigned long long)st.st_size;
}

static int read_file(const char *path, const struct fg_audit_src_opts *o, fg_audit_src_fn fn,
		     void *ctx, char *errstr, size_t errstr_size)
{
	avro_file_reader_t fr = NULL;
	avro_value_iface_t *iface = NULL;
	avro_value_t value;
	int have_value = 0, rc = -1;
	avro_writer_t mw = NULL;
	char *buf = NULL;
	size_t cap = 0;

	FILE *probe = fopen(path, "rb");
	if (!probe) {
		/* Avro C's message for a missing file is "Cannot read 1 bytes". */
		fg_errf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	fclose(probe);
	if (avro_file_reader(path, &fr)) {
		fg_errf(errstr, errstr_size, "cannot read %s: %s", path, avro_strerror());
		return -1;
	}
	iface = avro_generic_class_from_schema(avro_file_reader_get_writer_schema(fr));
	if (!iface || avro_generic_value_new(iface, &value)) {
		fg_errf(errstr, errstr_size, "%s: %s", path, avro_strerror());
		goto done;
	}
	have_value = 1;
	mw = avro_writer_memory("", 0);
	if (!mw)
		goto oom;
	for (int64_t index = 0;; index++) {
		struct fg_source_pos pos = { .file = path, .index = index, .partition = -1,
					     .offset = -1 };
		size_t size = 0;
		int r = avro_file_reader_read_value(fr, &value);
		if (r == EOF)
			break;
		if (r) {
			fg_errf(errstr, errstr_size, "%s: record %lld: %s", path, (long long)index,
				avro_strerror());
			goto done;
		}
		if (!o->decode || o->want_bytes) {
			/* The record's bytes as written (what `assess` reads). */
			if (avro_value_sizeof(&value, &size))
				goto avro_err;
			if (size > cap) {
				free(buf);
				cap = size * 2;
				buf = malloc(cap);
				if (!buf)
					goto oom;
			}
			avro_writer_memory_set_dest(mw, buf, (int64_t)size);
			if (avro_value_write(mw, &value))
				goto avro_err;
		}
		r = fn(ctx, o->decode ? &value : NULL, (const uint8_t *)buf, size, &pos,
		       avro_file_reader_get_writer_schema(fr));
		if (r) {
			rc = r;
			goto done;
		}
	}
	rc = 0;
	goto done;
avro_err:
	fg_errf(errstr, errstr_size, "%s: %s", path, avro_strerror());
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
done:
	if (mw)
		avro_writer_free(mw);
	free(buf);
	if (have_value)
		avro_value_decref(&value);
	if (iface)
		avro_value_iface_decref(iface);
	avro_file_reader_close(fr);
	return rc;
}

/* ---- Kafka ------------------------------------------------------------ */

int64_t fg_audit_src_parse_time(const char *s)
{
	int32_t days;
	unsigned h = 0, m = 0, sec = 0;
	char *end;

	if (*s == '@') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		return errno || *end || end == s + 1 || v < 0 ? -1 : v;
	}
	if (strlen(s) < 10 || fg_date_parse(s, 10, &days))
		return -1;
	if (s[10] && (sscanf(s + 10, "T%2u:%2u:%2uZ", &h, &m, &sec) != 3 || h > 23 || m > 59 ||
		      sec > 60 || s[strlen(s) - 1] != 'Z'))
		return -1;
	return ((int64_t)days * 86400 + h * 3600 + m * 60 + sec) * 1000;
}

/*
 * One bound for partition p: *off set from an offset spec, or *ts from a
 * time. Returns 0, or -1 when the spec is malformed.
 */
static int parse_bound(const char *spec, int32_t p, int64_t *off, int64_t *ts)
{
	char *end;
	*off = -1;
	*ts = -1;
	if (!spec || !*spec)
		return 0;
	if (*spec == '@' || strchr(spec, '-')) {
		*ts = fg_audit_src_parse_time(spec);
		return *ts < 0 ? -1 : 0;
	}
	if (!strchr(spec, ':')) {
		errno = 0;
		long long v = strtoll(spec, &end, 10);
		if (errno || *end || v < 0)
			return -1;
		*off = v;
		return 0;
	}
	for (const char *s = spec; *s;) {
		errno = 0;
		long part = strtol(s, &end, 10);
		if (errno || end == s || *end != ':' || part < 0)
			return -1;
		s = end + 1;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || (*end && *end != ',') || v < 0)
			return -1;
		if (part == p)
			*off = v;
		s = *end ? end + 1 : end;
	}
	return 0;
}

struct kpart {
	int32_t id;
	int64_t from, to, next;
};

static int read_kafka(const char *topic, const struct fg_audit_src_opts *o, fg_audit_src_fn fn,
		      void *ctx, char *errstr, size_t errstr_size)
{
	char why[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_t *rkt = NULL;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *pl = NULL;
	struct kpart *parts = NULL;
	struct fg_schema_registry reg = { 0 };
	struct {
		int32_t id;
		avro_value_iface_t *iface;
		avro_value_t v;
	} cache[16];
	size_t n_cache = 0, n_parts = 0, done_parts = 0;
	int rc = -1, timeout = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	avro_reader_t mr = NULL;

	if (!o->cfg || !fg_config_kafka_get(o->cfg, "bootstrap.servers")) {
		fg_errf(errstr, errstr_size,
			"kafka:%s: kafka.bootstrap.servers is not set (-X kafka.bootstrap.servers=HOST:PORT)",
			topic);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	if (o->decode &&
	    fg_schema_registry_load_dir(&reg, o->cfg->schema_dir, errstr, errstr_size)) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	/* Plain assignment: a group id is required by the client but never joined or committed. */
	if (fg_config_rdkafka_apply(o->cfg, conf, FG_CONFIG_PRODUCER, errstr, errstr_size) ||
	    (!fg_config_kafka_get(o->cfg, "group.id") &&
	     fg_config_rdkafka_set(conf, "group.id", "floorgate-audit", errstr, errstr_size)) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.partition.eof", "true", errstr, errstr_size)) {
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		fg_errf(errstr, errstr_size, "kafka:%s: %s", topic, why);
		goto done;
	}
	rd_kafka_poll_set_consumer(rk);
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, timeout) :
				      rd_kafka_last_error();
	if (e || !md || md->topic_cnt != 1 || md->topics[0].err) {
		fg_errf(errstr, errstr_size, "kafka:%s: cannot read the topic's metadata: %s", topic,
			rd_kafka_err2str(e ? e : md && md->topic_cnt ? md->topics[0].err :
							  RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
		goto done;
	}
	n_parts = (size_t)md->topics[0].partition_cnt;
	parts = calloc(n_parts ? n_parts : 1, sizeof(*parts));
	pl = rd_kafka_topic_partition_list_new((int)n_parts);
	if (!parts || !pl)
		goto oom;
	for (size_t i = 0; i < n_parts; i++) {
		struct kpart *kp = &parts[i];
		int64_t lo, hi, off, ts;
		kp->id = md->topics[0].partitions[i].id;
		e = rd_kafka_query_watermark_offsets(rk, topic, kp->id, &lo, &hi, timeout);
		if (e) {
			fg_errf(errstr, errstr_size, "kafka:%s/%d: watermarks: %s", topic, (int)kp->id,
				rd_kafka_err2str(e));
			goto done;
		}
		kp->from = lo;
		kp->to = hi;
		for (int b = 0; b < 2; b++) {
			const char *spec = b ? o->to : o->from;
			if (parse_bound(spec, kp->id, &off, &ts)) {
				fg_errf(errstr, errstr_size,
					"--%s %s: expected OFFSET, P:OFFSET,..., YYYY-MM-DDTHH:MM:SSZ or @MS",
					b ? "to" : "from", spec);
				goto done;
			}
			if (ts >= 0) {
				rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(1);
				if (!q)
					goto oom;
				rd_kafka_topic_partition_list_add(q, topic, kp->id)->offset = ts;
				e = rd_kafka_offsets_for_times(rk, q, timeout);
				off = e ? -1 : q->elems[0].offset;
				if (!e && q->elems[0].err)
					e = q->elems[0].err;
				rd_kafka_topic_partition_list_destroy(q);
				if (e) {
					fg_errf(errstr, errstr_size, "kafka:%s/%d: offsets for time: %s",
						topic, (int)kp->id, rd_kafka_err2str(e));
					goto done;
				}
				if (off < 0)
					off = hi; /* no message at or after that time */
			}
			if (off >= 0) {
				if (b)
					kp->to = off < hi ? off : hi;
				else
					kp->from = off > lo ? off : lo;
			}
		}
		kp->next = kp->from;
		if (kp->from >= kp->to)
			done_parts++;
		else
			rd_kafka_topic_partition_list_add(pl, topic, kp->id)->offset = kp->from;
	}
	if (pl->cnt && (e = rd_kafka_assign(rk, pl))) {
		fg_errf(errstr, errstr_size, "kafka:%s: assign: %s", topic, rd_kafka_err2str(e));
		goto done;
	}
	mr = avro_reader_memory("", 0);
	if (!mr)
		goto oom;
	struct timespec last;
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (done_parts < n_parts) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!m) {
			if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >
			    timeout) {
				fg_errf(errstr, errstr_size,
					"kafka:%s: no progress for %d ms (%zu of %zu partitions read)",
					topic, timeout, done_parts, n_parts);
				goto done;
			}
			continue;
		}
		last = now;
		struct kpart *kp = NULL;
		for (size_t i = 0; i < n_parts; i++)
			if (parts[i].id == m->partition)
				kp = &parts[i];
		if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			fg_errf(errstr, errstr_size, "kafka:%s: %s", topic, rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			goto done;
		}
		if (!kp || kp->next >= kp->to) {
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m->offset >= kp->to) {
			/* Control records (transactions) may sit on the last offsets. */
			if (m->err || m->offset >= kp->to) {
				kp->next = kp->to;
				done_parts++;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		struct fg_source_pos pos = { .topic = topic, .partition = m->partition,
					     .offset = m->offset, .index = -1 };
		avro_value_t *vp = NULL;
		const uint8_t *body = m->payload;
		size_t body_len = m->len;
		if (o->decode) {
			int32_t sid;
			const char *fwhy;
			if (fg_frame_parse(m->payload, m->len, &sid, &body, &body_len, &fwhy)) {
				fg_errf(errstr, errstr_size, "kafka:%s/%d@%lld: %s", topic,
					(int)m->partition, (long long)m->offset, fwhy);
				rd_kafka_message_destroy(m);
				goto done;
			}
			size_t c = 0;
			while (c < n_cache && cache[c].id != sid)
				c++;
			if (c == n_cache) {
				const struct fg_schema_entry *se = fg_schema_registry_get(&reg, sid);
				if (!se || n_cache == FG_ARRAY_LEN(cache)) {
					fg_errf(errstr, errstr_size,
						se ? "kafka:%s/%d@%lld: more than 16 writer schemas (id %d, %s)" :
						     "kafka:%s/%d@%lld: schema id %d is not in %s",
						topic, (int)m->partition, (long long)m->offset, (int)sid,
						o->cfg->schema_dir);
					rd_kafka_message_destroy(m);
					goto done;
				}
				cache[c].id = sid;
				cache[c].iface = avro_generic_class_from_schema(se->schema);
				if (!cache[c].iface || avro_generic_value_new(cache[c].iface, &cache[c].v)) {
					if (cache[c].iface)
						avro_value_iface_decref(cache[c].iface);
					rd_kafka_message_destroy(m);
					goto oom;
				}
				n_cache++;
			}
			avro_reader_memory_set_source(mr, (const char *)body, (int64_t)body_len);
			if (avro_value_read(mr, &cache[c].v)) {
				fg_errf(errstr, errstr_size, "kafka:%s/%d@%lld: %s", topic,
					(int)m->partition, (long long)m->offset, avro_strerror());
				rd_kafka_message_destroy(m);
				goto done;
			}
			vp = &cache[c].v;
		}
		int r = fn(ctx, vp, body, body_len, &pos, NULL);
		kp->next = m->offset + 1;
		if (kp->next >= kp->to)
			done_parts++;
		rd_kafka_message_destroy(m);
		if (r) {
			rc = r;
			goto done;
		}
	}
	rc = 0;
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
done:
	for (size_t c = 0; c < n_cache; c++) {
		avro_value_decref(&cache[c].v);
		avro_value_iface_decref(cache[c].iface);
	}
	if (mr)
		avro_reader_free(mr);
	if (pl)
		rd_kafka_topic_partition_list_destroy(pl);
	free(parts);
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (rk) {
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
	}
	fg_schema_registry_fini(&reg);
	return rc;
}

int fg_audit_src_read(const char *src, const struct fg_audit_src_opts *o, fg_audit_src_fn fn,
		      void *ctx, char *errstr, size_t errstr_size)
{
	size_t k = strlen(FG_AUDIT_SRC_KAFKA);
	if (!strncmp(src, FG_AUDIT_SRC_KAFKA, k)) {
		if (!src[k]) {
			fg_errf(errstr, errstr_size, "%s: no topic after kafka:", src);
			return -1;
		}
		return read_kafka(src + k, o, fn, ctx, errstr, errstr_size);
	}
	return read_file(src, o, fn, ctx, errstr, errstr_size);
}
