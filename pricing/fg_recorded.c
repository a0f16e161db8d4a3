/*
 * fg_recorded.c: reference-data versions by source position, from recorded
 * outputs. (DESIGN in fg_recorded.h.)
 */
#include "fg_recorded.h"

#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "../core/fg_common.h"
#include "fg_datastore.h"

struct fg_recorded {
	uint64_t *keys; /* open addressing; 0 = empty slot */
	uint16_t *ver;  /* index into fps/rds */
	size_t cap, n;
	char fps[FG_RECORDED_MAX_VERSIONS][33];
	struct fg_refdata *rds[FG_RECORDED_MAX_VERSIONS];
	uint32_t n_fps;
};

/*
 * (partition, position) in one word: partition + 1 (0 for file records) in
 * the top 20 bits, the offset or record number in the low 44; + 1 keeps 0
 * free as the empty slot. Callers check the ranges first.
 */
static uint64_t rec_key(int32_t partition, int64_t offset_or_index)
{
	return ((uint64_t)(uint32_t)(partition + 1) << 44 | (uint64_t)offset_or_index) + 1;
}

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static int rec_put(struct fg_recorded *r, uint64_t key, uint16_t ver)
{
	if ((r->n + 1) * 2 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1u << 16;
		uint64_t *k = calloc(cap, sizeof(*k));
		uint16_t *v = calloc(cap, sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		for (size_t i = 0; i < r->cap; i++)
			if (r->keys[i]) {
				size_t j = mix(r->keys[i]) & (cap - 1);
				while (k[j])
					j = (j + 1) & (cap - 1);
				k[j] = r->keys[i];
				v[j] = r->ver[i];
			}
		free(r->keys);
		free(r->ver);
		r->keys = k;
		r->ver = v;
		r->cap = cap;
	}
	size_t j = mix(key) & (r->cap - 1);
	while (r->keys[j] && r->keys[j] != key)
		j = (j + 1) & (r->cap - 1);
	if (!r->keys[j])
		r->n++;
	r->keys[j] = key;
	r->ver[j] = ver;
	return 0;
}

static int rec_get(const struct fg_recorded *r, uint64_t key)
{
	if (!r->cap)
		return -1;
	size_t j = mix(key) & (r->cap - 1);
	while (r->keys[j]) {
		if (r->keys[j] == key)
			return r->ver[j];
		j = (j + 1) & (r->cap - 1);
	}
	return -1;
}

static int field_branch(avro_value_t *rec, const char *name, avro_value_t *out)
{
	avro_value_t u;
	if (avro_value_get_by_name(rec, name, &u, NULL))
		return -1;
	if (avro_value_get_type(&u) != AVRO_UNION)
		return -1;
	if (avro_value_get_current_branch(&u, out))
		return -1;
	return avro_value_get_type(out) == AVRO_NULL ? 1 : 0;
}

/* Reads the source position and version of every record of the recorded files. */
static int load(struct fg_recorded *rec, char *const *files, size_t n_files, const char *store,
		char *err, size_t err_size)
{
	for (size_t i = 0; i < n_files; i++) {
		avro_file_reader_t fr;
		avro_value_iface_t *iface;
		avro_value_t v;
		int r, rc = 0;
		int64_t n = 0;

		if (avro_file_reader(files[i], &fr)) {
			fg_errf(err, err_size, "cannot read %s: %s", files[i], avro_strerror());
			return -1;
		}
		iface = avro_generic_class_from_schema(avro_file_reader_get_writer_schema(fr));
		if (!iface || avro_generic_value_new(iface, &v)) {
			fg_errf(err, err_size, "%s: %s", files[i], avro_strerror());
			if (iface)
				avro_value_iface_decref(iface);
			avro_file_reader_close(fr);
			return -1;
		}
		while (rc == 0 && (r = avro_file_reader_read_value(fr, &v)) == 0) {
			avro_value_t f, b;
			const char *s;
			size_t size;
			int32_t part = -1;
			int64_t pos;
			uint32_t k;

			n++;
			if (avro_value_get_by_name(&v, "reference_data_version", &f, NULL) ||
			    avro_value_get_string(&f, &s, &size)) {
				fg_errf(err, err_size, "%s: record %lld has no reference_data_version",
					files[i], (long long)n - 1);
				rc = -1;
				break;
			}
			if (field_branch(&v, "source_offset", &b) == 0) {
				avro_value_get_long(&b, &pos);
				if (field_branch(&v, "source_partition", &b) == 0)
					avro_value_get_int(&b, &part);
			} else if (field_branch(&v, "source_index", &b) == 0) {
				avro_value_get_long(&b, &pos);
			} else {
				fg_errf(err, err_size, "%s: record %lld names no source position",
					files[i], (long long)n - 1);
				rc = -1;
				break;
			}
			for (k = 0; k < rec->n_fps; k++)
				if (!strcmp(rec->fps[k], s))
					break;
			if (k == rec->n_fps) {
				if (k == FG_RECORDED_MAX_VERSIONS) {
					fg_errf(err, err_size, "more than %d reference-data versions",
						FG_RECORDED_MAX_VERSIONS);
					rc = -1;
					break;
				}
				snprintf(rec->fps[k], sizeof(rec->fps[k]), "%s", s);
				rec->n_fps++;
			}
			if (part < -1 || part >= (1 << 19) - 1 || pos < 0 || pos >= (INT64_C(1) << 44)) {
				fg_errf(err, err_size, "%s: record %lld: source position %d/%lld is out of range",
					files[i], (long long)n - 1, (int)part, (long long)pos);
				rc = -1;
			} else if (rec_put(rec, rec_key(part, pos), (uint16_t)k)) {
				fg_errf(err, err_size, "out of memory");
				rc = -1;
			}
		}
		if (rc == 0 && r != EOF) {
			fg_errf(err, err_size, "%s: %s", files[i], avro_strerror());
			rc = -1;
		}
		avro_value_decref(&v);
		avro_value_iface_decref(iface);
		avro_file_reader_close(fr);
		if (rc)
			return -1;
	}
	/* every version they name must be in the store */
	for (uint32_t k = 0; k < rec->n_fps; k++) {
		char path[4096], why[1024];
		if (fg_datastore_path(store, rec->fps[k], path, sizeof(path), why,
				      sizeof(why))) {
			fg_errf(err, err_size, "the recorded outputs name %s: %s", rec->fps[k],
				why);
			return -1;
		}
		rec->rds[k] = fg_refdata_load(path, why, sizeof(why));
		if (!rec->rds[k]) {
			fg_errf(err, err_size, "stored version %s refused: %s", rec->fps[k], why);
			return -1;
		}
	}
	return 0;
}


struct fg_recorded *fg_recorded_load(char *const *files, size_t n_files, const char *store,
				     char *errstr, size_t errstr_size)
{
	struct fg_recorded *rec = calloc(1, sizeof(*rec));

	if (!rec) {
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (load(rec, files, n_files, store, errstr, errstr_size)) {
		fg_recorded_destroy(rec);
		return NULL;
	}
	return rec;
}

void fg_recorded_destroy(struct fg_recorded *rec)
{
	if (!rec)
		return;
	for (uint32_t k = 0; k < rec->n_fps; k++)
		fg_refdata_destroy(rec->rds[k]);
	free(rec->keys);
	free(rec->ver);
	free(rec);
}

const struct fg_refdata *fg_recorded_get(const struct fg_recorded *rec, int32_t partition,
					 int64_t pos)
{
	if (partition < -1 || partition >= (1 << 19) - 1 || pos < 0 || pos >= (INT64_C(1) << 44))
		return NULL;
	int k = rec_get(rec, rec_key(partition, pos));
	return k < 0 ? NULL : rec->rds[k];
}

uint32_t fg_recorded_versions(const struct fg_recorded *rec)
{
	return rec->n_fps;
}

const struct fg_refdata *fg_recorded_version(const struct fg_recorded *rec, uint32_t i)
{
	return i < rec->n_fps ? rec->rds[i] : NULL;
}

size_t fg_recorded_count(const struct fg_recorded *rec)
{
	return rec->n;
}
