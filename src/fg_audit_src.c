/* fg_audit_src.c: records of an Avro file or a Kafka topic range (fg_audit_src.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "../ingest/fg_frame.h"
#include "../ingest/fg_kafka_range.h"
#include "../ingest/fg_ocf_reader.h"
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
	struct fg_ocf_reader *rdr = fg_ocf_reader_open(path, errstr, errstr_size);
	avro_value_iface_t *iface = NULL;
	avro_value_t value;
	avro_reader_t mr = NULL;
	int have_value = 0, rc = -1, r;
	const uint8_t *body;
	size_t len;
	int64_t index = 0;

	if (!rdr)
		return -1;
	if (o->decode) {
		iface = avro_generic_class_from_schema(fg_ocf_reader_schema(rdr));
		if (!iface || avro_generic_value_new(iface, &value)) {
			fg_errf(errstr, errstr_size, "%s: %s", path, avro_strerror());
			goto done;
		}
		have_value = 1;
		mr = avro_reader_memory("", 0);
		if (!mr) {
			fg_errf(errstr, errstr_size, "out of memory");
			goto done;
		}
	}
	/* each record's bytes as written (what `assess` reads), and its value */
	for (; (r = fg_ocf_reader_next(rdr, &body, &len, errstr, errstr_size)) == 1; index++) {
		struct fg_source_pos pos = { .file = path, .index = index, .partition = -1,
					     .offset = -1 };
		if (o->decode) {
			avro_reader_memory_set_source(mr, (const char *)body, (int64_t)len);
			if (avro_value_read(mr, &value)) {
				fg_errf(errstr, errstr_size, "%s: record %lld: %s", path,
					(long long)index, avro_strerror());
				goto done;
			}
		}
		r = fn(ctx, o->decode ? &value : NULL, body, len, &pos, rdr);
		if (r) {
			rc = r;
			goto done;
		}
	}
	if (r == 0)
		rc = 0;
done:
	if (mr)
		avro_reader_free(mr);
	if (have_value)
		avro_value_decref(&value);
	if (iface)
		avro_value_iface_decref(iface);
	fg_ocf_reader_close(rdr);
	return rc;
}

/* ---- Kafka ------------------------------------------------------------ */

/*
 * One --from/--to into spec: an end for every partition (OFFSET or a time)
 * into *all, or per-partition offsets (P:OFFSET,...) into parts (pass 0:
 * from, 1: to), merged by partition. Returns 0, or -1 when malformed.
 */
static int parse_bound(const char *arg, int pass, struct fg_kafka_end *all,
		       struct fg_kafka_part_ends **parts, size_t *n)
{
	char *end;

	if (!arg || !*arg)
		return 0;
	if (*arg == '@' || strchr(arg, '-'))
		return fg_kafka_parse_time(arg, &all->time_ms);
	if (!strchr(arg, ':')) {
		errno = 0;
		long long v = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || v < 0)
			return -1;
		all->offset = v;
		return 0;
	}
	for (const char *s = arg; *s;) {
		errno = 0;
		long part = strtol(s, &end, 10);
		if (errno || end == s || *end != ':' || part < 0 || part > INT32_MAX)
			return -1;
		s = end + 1;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || (*end && *end != ',') || v < 0)
			return -1;
		size_t i = 0;
		while (i < *n && (*parts)[i].partition != part)
			i++;
		if (i == *n) {
			struct fg_kafka_part_ends *np = realloc(*parts, (*n + 1) * sizeof(*np));
			if (!np)
				return -1;
			*parts = np;
			np[(*n)++] = (struct fg_kafka_part_ends){ (int32_t)part, FG_KAFKA_END_UNSET,
								  FG_KAFKA_END_UNSET };
		}
		(pass ? &(*parts)[i].to : &(*parts)[i].from)->offset = v;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int read_kafka(const char *topic, const struct fg_audit_src_opts *o, fg_audit_src_fn fn,
		      void *ctx, char *errstr, size_t errstr_size)
{
	struct fg_kafka_range_spec spec = { .from = FG_KAFKA_END_UNSET, .to = FG_KAFKA_END_UNSET };
	struct fg_kafka_part_ends *parts = NULL;
	struct fg_kafka_range *kr = NULL;
	struct fg_schema_registry reg = { 0 };
	struct {
		int32_t id;
		avro_value_iface_t *iface;
		avro_value_t v;
	} cache[16];
	size_t n_cache = 0;
	int rc = -1, got, timeout = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	avro_reader_t mr = NULL;
	rd_kafka_message_t *m = NULL;
	char why[512];
	const size_t topic_len = strlen(topic);

	if (!o->cfg || !fg_config_kafka_get(o->cfg, "bootstrap.servers")) {
		fg_errf(errstr, errstr_size,
			"kafka:%s: kafka.bootstrap.servers is not set (-X kafka.bootstrap.servers=HOST:PORT)",
			topic);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *arg = pass ? o->to : o->from;
		if (parse_bound(arg, pass, pass ? &spec.to : &spec.from, &parts, &spec.n_parts)) {
			fg_errf(errstr, errstr_size,
				"--%s %s: expected OFFSET, P:OFFSET,..., YYYY-MM-DDTHH:MM:SSZ or @MS",
				pass ? "to" : "from", arg);
			goto done;
		}
	}
	spec.parts = parts;
	if (fg_kafka_range_spec_check(&spec, why, sizeof(why))) {
		fg_errf(errstr, errstr_size, "kafka:%s: %s", topic, why);
		goto done;
	}
	if (o->decode &&
	    fg_schema_registry_load_dir(&reg, o->cfg->schema_dir, errstr, errstr_size))
		goto done;
	/* The caller's group id (or floorgate-audit), never joined or committed. */
	spec.parts = parts;
	spec.group = fg_config_kafka_get(o->cfg, "group.id") ? fg_config_kafka_get(o->cfg, "group.id")
							     : "floorgate-audit";
	spec.timeout_ms = timeout;
	kr = fg_kafka_range_open_spec(o->cfg, topic, &spec, why, sizeof(why));
	if (!kr) {
		fg_errf(errstr, errstr_size, "kafka:%s: %s", topic, why);
		goto done;
	}
	mr = avro_reader_memory("", 0);
	if (!mr)
		goto oom;
	struct timespec last;
	clock_gettime(CLOCK_MONOTONIC, &last);
	while ((got = fg_kafka_range_next(kr, &m, 200, why, sizeof(why))) > 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (got == 2) {
			if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >
			    timeout) {
				fg_errf(errstr, errstr_size,
					"kafka:%s: no progress for %d ms (%" PRIu64 " of %" PRIu64
					" offsets read)",
					topic, timeout, fg_kafka_range_done(kr), fg_kafka_range_total(kr));
				goto done;
			}
			continue;
		}
		last = now;
		struct fg_source_pos pos = { .topic = topic, .topic_len = topic_len,
					     .partition = m->partition, .offset = m->offset,
					     .index = -1 };
		avro_value_t *vp = NULL;
		const uint8_t *body = m->payload;
		size_t body_len = m->len;
		if (o->decode) {
			int32_t sid;
			const char *fwhy;
			if (fg_frame_parse(m->payload, m->len, &sid, &body, &body_len, &fwhy)) {
				fg_errf(errstr, errstr_size, "kafka:%s/%d@%lld: %s", topic,
					(int)m->partition, (long long)m->offset, fwhy);
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
					goto done;
				}
				cache[c].id = sid;
				cache[c].iface = avro_generic_class_from_schema(se->schema);
				if (!cache[c].iface || avro_generic_value_new(cache[c].iface, &cache[c].v)) {
					if (cache[c].iface)
						avro_value_iface_decref(cache[c].iface);
					goto oom;
				}
				n_cache++;
			}
			avro_reader_memory_set_source(mr, (const char *)body, (int64_t)body_len);
			if (avro_value_read(mr, &cache[c].v)) {
				fg_errf(errstr, errstr_size, "kafka:%s/%d@%lld: %s", topic,
					(int)m->partition, (long long)m->offset, avro_strerror());
				goto done;
			}
			vp = &cache[c].v;
		}
		int r = fn(ctx, vp, body, body_len, &pos, NULL);
		rd_kafka_message_destroy(m);
		m = NULL;
		if (r) {
			rc = r;
			goto done;
		}
	}
	if (got < 0)
		fg_errf(errstr, errstr_size, "kafka:%s: %s", topic, why);
	else
		rc = 0;
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
done:
	if (m)
		rd_kafka_message_destroy(m);
	for (size_t c = 0; c < n_cache; c++) {
		avro_value_decref(&cache[c].v);
		avro_value_iface_decref(cache[c].iface);
	}
	if (mr)
		avro_reader_free(mr);
	fg_kafka_range_close(kr);
	free(parts);
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
