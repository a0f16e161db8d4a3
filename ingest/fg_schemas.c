#include "fg_schemas.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"
#include "fg_decl.h"

static avro_schema_t parse(const char *json, size_t len, char *errstr, size_t errstr_size)
{
	avro_schema_t s = NULL;

	if (avro_schema_from_json_length(json, len, &s)) {
		fg_errf(errstr, errstr_size, "invalid Avro schema: %s", avro_strerror());
		return NULL;
	}
	return s;
}

avro_schema_t fg_schemas_parse(const char *json, char *errstr, size_t errstr_size)
{
	return parse(json, strlen(json), errstr, errstr_size);
}

const int fg_reader_scales[FG_DEC_FIELDS] = { FG_DECL_MASS_SCALE, FG_DECL_VALUE_SCALE,
					       FG_DECL_PERCENT_SCALE };
const char *const fg_dec_field_names[FG_DEC_FIELDS] = { "net_mass_kg", "customs_value",
							 "percent" };

/* The record (unqualified name) and field each reader decimal lives in. */
static const struct {
	const char *record, *field;
} dec_place[FG_DEC_FIELDS] = {
	{ "GoodsLine", "net_mass_kg" },
	{ "GoodsLine", "customs_value" },
	{ "Content", "percent" },
};

/* The scale a field type declares, or -1 when it is no valid decimal on bytes. */
static long long declared_scale(json_t *t)
{
	if (json_is_array(t)) { /* a union: its bytes branch (there is at most one) */
		size_t i;
		json_t *b;
		json_array_foreach(t, i, b) {
			long long sc = declared_scale(b);
			if (sc >= 0)
				return sc;
		}
		return -1;
	}
	if (!json_is_object(t))
		return -1;
	const char *type = json_string_value(json_object_get(t, "type"));
	const char *logical = json_string_value(json_object_get(t, "logicalType"));
	json_t *precision = json_object_get(t, "precision"), *scale = json_object_get(t, "scale");
	if (!type || strcmp(type, "bytes") || !logical || strcmp(logical, "decimal") ||
	    !json_is_integer(precision) || json_integer_value(precision) <= 0 ||
	    (scale && !json_is_integer(scale)))
		return -1;
	long long sc = scale ? json_integer_value(scale) : 0; /* the specification's default */
	/* a scale outside 0..precision makes the logical type invalid: ignored */
	return sc >= 0 && sc <= json_integer_value(precision) ? sc : -1;
}

struct scale_walk {
	int scale[FG_DEC_FIELDS];
	int seen[FG_DEC_FIELDS];
	int plain[FG_DEC_FIELDS]; /* the field seen has no valid decimal type */
	char *why;
	size_t why_size;
};

/* Every record definition anywhere in the schema (not in field defaults), by
 * unqualified name. */
static int walk(json_t *j, struct scale_walk *w)
{
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			if (walk(v, w))
				return -1;
		}
		return 0;
	}
	if (!json_is_object(j))
		return 0;
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *name = json_string_value(json_object_get(j, "name"));
	json_t *fields = json_object_get(j, "fields");
	if (type && (!strcmp(type, "record") || !strcmp(type, "error")) && name &&
	    json_is_array(fields)) {
		const char *dot = strrchr(name, '.');
		name = dot ? dot + 1 : name;
		for (int k = 0; k < FG_DEC_FIELDS; k++) {
			size_t i;
			json_t *f;
			if (strcmp(name, dec_place[k].record))
				continue;
			json_array_foreach(fields, i, f) {
				const char *fn = json_string_value(json_object_get(f, "name"));
				if (!fn || strcmp(fn, dec_place[k].field))
					continue;
				long long sc = declared_scale(json_object_get(f, "type"));
				int s = sc < 0 ? fg_reader_scales[k] : sc > 1000 ? 1000 : (int)sc;
				if (w->seen[k] && w->scale[k] != s) {
					fg_errf(w->why, w->why_size,
						"two records named %s declare %s at scales %d and "
						"%d%s",
						dec_place[k].record, dec_place[k].field,
						w->scale[k], s,
						sc < 0 || w->plain[k]
							? " (a field with no valid decimal type is "
							  "read at the reader's scale)"
							: "");
					return -1;
				}
				w->plain[k] = sc < 0;
				w->seen[k] = 1;
				w->scale[k] = s;
			}
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		/* a default is a value, whatever it looks like, never a type */
		if (strcmp(key, "default") && walk(v, w))
			return -1;
	}
	return 0;
}

int fg_schema_decimal_scales(const char *json, size_t len, int scale[FG_DEC_FIELDS], char *why,
			     size_t why_size)
{
	struct scale_walk w = { .why = why, .why_size = why_size };
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	int rc;

	if (!root) {
		fg_errf(why, why_size, "schema JSON, line %d column %d: %s", jerr.line,
			jerr.column, jerr.text);
		return -1;
	}
	memcpy(w.scale, fg_reader_scales, sizeof(w.scale));
	rc = walk(root, &w);
	json_decref(root);
	if (!rc)
		memcpy(scale, w.scale, sizeof(w.scale));
	return rc;
}

avro_schema_t fg_schema_parse_writer(const char *json, size_t len, int scale[FG_DEC_FIELDS],
				     char *errstr, size_t errstr_size)
{
	avro_schema_t s = parse(json, len, errstr, errstr_size);

	if (!s)
		return NULL;
	if (fg_schema_decimal_scales(json, len, scale, errstr, errstr_size)) {
		avro_schema_decref(s);
		return NULL;
	}
	return s;
}

int fg_schema_registry_add(struct fg_schema_registry *reg, int32_t id, avro_schema_t schema,
			   const int *scale, const char *origin)
{
	if (!scale)
		scale = fg_reader_scales;
	for (size_t i = 0; i < reg->n; i++)
		if (reg->v[i].id == id) {
			avro_schema_decref(reg->v[i].schema);
			free(reg->v[i].origin);
			reg->v[i].schema = avro_schema_incref(schema);
			memcpy(reg->v[i].scale, scale, sizeof(reg->v[i].scale));
			reg->v[i].origin = strdup(origin ? origin : "");
			return 0;
		}
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 8;
		struct fg_schema_entry *v = realloc(reg->v, cap * sizeof(*v));
		if (!v)
			return -1;
		reg->v = v;
		reg->cap = cap;
	}
	reg->v[reg->n].id = id;
	reg->v[reg->n].schema = avro_schema_incref(schema);
	memcpy(reg->v[reg->n].scale, scale, sizeof(reg->v[reg->n].scale));
	reg->v[reg->n].origin = strdup(origin ? origin : "");
	reg->n++;
	return 0;
}

const struct fg_schema_entry *fg_schema_registry_get(const struct fg_schema_registry *reg,
						     int32_t id)
{
	for (size_t i = 0; i < reg->n; i++)
		if (reg->v[i].id == id)
			return &reg->v[i];
	return NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int fg_schema_registry_load_dir(struct fg_schema_registry *reg, const char *dir, char *errstr,
				size_t errstr_size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096], why[512];
	int found = 0;

	if (!d) {
		fg_errf(errstr, errstr_size, "schema directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char *end;
		long id;
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".avsc") != 0)
			continue;
		errno = 0;
		id = strtol(e->d_name, &end, 10);
		if (errno || end != e->d_name + len - 5 || id < 0 || id > INT32_MAX)
			continue; /* not an id-named schema */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *json = read_file(path);
		if (!json) {
			fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno ? errno : EIO));
			goto err;
		}
		int scale[FG_DEC_FIELDS];
		avro_schema_t s = fg_schema_parse_writer(json, strlen(json), scale, why, sizeof(why));
		free(json);
		if (!s) {
			fg_errf(errstr, errstr_size, "%s: %s", path, why);
			goto err;
		}
		int rc = fg_schema_registry_add(reg, (int32_t)id, s, scale, path);
		avro_schema_decref(s);
		if (rc) {
			fg_errf(errstr, errstr_size, "%s: out of memory", path);
			goto err;
		}
		found++;
	}
	closedir(d);
	if (!found) {
		fg_errf(errstr, errstr_size, "schema directory %s has no <id>.avsc files", dir);
		return -1;
	}
	return 0;
err:
	closedir(d);
	return -1;
}

void fg_schema_registry_fini(struct fg_schema_registry *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		avro_schema_decref(reg->v[i].schema);
		free(reg->v[i].origin);
	}
	free(reg->v);
	memset(reg, 0, sizeof(*reg));
}

static size_t alloc_limit;
static _Thread_local struct fg_avro_track *track;

static void track_forget(struct fg_avro_track *t, const void *p)
{
	for (size_t i = t->n; i-- > 0;) /* the latest allocations go first */
		if (t->v[i] == p) {
			t->v[i] = t->v[--t->n];
			return;
		}
}

static void track_add(struct fg_avro_track *t, void *p)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void **v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			t->lost = 1;
			return;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = p;
}

static void *limited_allocator(void *ud, void *ptr, size_t osize, size_t nsize)
{
	void *r;

	(void)ud;
	(void)osize;
	if (nsize == 0) {
		if (track && ptr)
			track_forget(track, ptr);
		free(ptr);
		return NULL;
	}
	if (nsize > alloc_limit)
		return NULL;
	r = realloc(ptr, nsize);
	if (track && r) {
		if (ptr)
			track_forget(track, ptr);
		track_add(track, r);
	}
	return r;
}

void fg_avro_track_begin(struct fg_avro_track *t)
{
	t->n = 0;
	t->lost = 0;
	track = t;
}

size_t fg_avro_track_end(struct fg_avro_track *t, int free_rest)
{
	size_t freed = 0;

	track = NULL;
	if (free_rest && !t->lost)
		for (; freed < t->n; freed++)
			free(t->v[freed]);
	/* Keep no copy: a pointer left here would hide a leak from LeakSanitizer. */
	if (t->n)
		memset(t->v, 0, t->n * sizeof(*t->v));
	t->n = 0;
	return freed;
}

void fg_schemas_limit_allocations(size_t max_bytes)
{
	alloc_limit = max_bytes;
	avro_set_allocator(limited_allocator, NULL);
}
