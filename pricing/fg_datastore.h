/*
 * fg_datastore.h: the versioned reference-data store (`floorgate data`).
 *
 * DESIGN
 * A store is a directory with one subdirectory per version of the six
 * reference tables, named by the set's fingerprint (the XXH3-128 hex that
 * every assessment carries in reference_data_version). A version holds a
 * copy of the six CSV files and a MANIFEST of `key = value` lines: the
 * fingerprint, the date the set took effect, who filed it, when (UTC),
 * the source directory and the row count of each table.
 *
 * Filing is validate, copy, check, rename. The source is loaded (and so
 * validated) before the store is touched; a refused set leaves the store
 * exactly as it was. The files are copied into a temporary directory in
 * the store (`.tmp-*`), the copy is loaded again and must give the same
 * fingerprint (a source edited during the copy is caught), the files and
 * directory are fsync'ed, and one rename() makes the version appear whole.
 * A version directory is never changed after that, so filing the same
 * fingerprint again changes nothing. Readers never see half a version.
 */
#ifndef FG_DATASTORE_H
#define FG_DATASTORE_H

#include <stddef.h>
#include <stdint.h>

#define FG_DATASTORE_TABLES 6
extern const char *const fg_datastore_table_names[FG_DATASTORE_TABLES];

/* Return codes of fg_datastore_add(). */
#define FG_DATASTORE_REFUSED (-1) /* the tables or arguments are invalid; store untouched */
#define FG_DATASTORE_FAILED (-2)  /* an I/O error while filing; store untouched */

struct fg_datastore_version {
	char fingerprint[33];
	char effective[11]; /* YYYY-MM-DD */
	char by[128];
	char filed_at[32];  /* YYYY-MM-DDTHH:MM:SSZ */
	char source[1024];
	uint64_t rows[FG_DATASTORE_TABLES]; /* in fg_datastore_table_names order */
};

/*
 * Files the tables in src_dir into store (created when missing) as of
 * `effective` (YYYY-MM-DD), filed by `by`. On 0, *v describes the version
 * and *existed says whether that fingerprint was already there (then
 * nothing was written and *v is the stored manifest). On a negative code
 * errstr says why: for a refused set, "file:line:col: reason".
 */
int fg_datastore_add(const char *store, const char *src_dir, const char *effective,
		     const char *by, struct fg_datastore_version *v, int *existed, char *errstr,
		     size_t errstr_size);

/*
 * Every version in store, sorted by effective date, then filing time
 * (oldest first). The caller frees *out. Returns 0; 1 when some versions
 * could not be read (they are left out, and each is passed to on_bad, if
 * given, with the reason); -1 with errstr when the store cannot be read,
 * does not exist, or is a directory that holds no version but other files
 * (reference tables given as the store, say).
 */
int fg_datastore_list(const char *store, struct fg_datastore_version **out, size_t *n,
		      void (*on_bad)(void *ctx, const char *why), void *ctx, char *errstr,
		      size_t errstr_size);

/*
 * The directory of version `fp` in store (a full fingerprint, or a prefix
 * of at least 8 hex digits naming exactly one version) into path. Returns
 * 0 or -1 with a message.
 */
int fg_datastore_path(const char *store, const char *fp, char *path, size_t path_size,
		      char *errstr, size_t errstr_size);

#endif
