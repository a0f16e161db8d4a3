#include "fg_datastore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/fg_common.h"
#include "../core/fg_date.h"
#include "fg_refdata.h"

/* The same six files, in the same order, as fg_refdata.c fingerprints them. */
const char *const fg_datastore_table_names[FG_DATASTORE_TABLES] = {
	"classification.csv", "mfn.csv",        "reference_prices.csv",
	"tariff_parameters.csv", "membership.csv", "fx_rates.csv",
};

#define MANIFEST "MANIFEST"

/* dir/name into buf; a path too long for buf becomes "" (and then fails to open). */
static const char *join(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		buf[0] = '\0';
	return buf;
}

static int is_fingerprint(const char *s)
{
	size_t n = strlen(s);

	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Copies src to dst (created), fsync'ed. */
static int copy_file(const char *src, const char *dst, char *errstr, size_t errstr_size)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0) {
		fg_errf(errstr, errstr_size, "%s: %s", src, strerror(errno));
		return -1;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (out < 0) {
		fg_errf(errstr, errstr_size, "%s: %s", dst, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k < 0) {
				fg_errf(errstr, errstr_size, "%s: %s", dst, strerror(errno));
				goto done;
			}
			w += k;
		}
	if (n < 0 || fsync(out)) {
		fg_errf(errstr, errstr_size, "%s: %s", n < 0 ? src : dst, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (out >= 0 && close(out) && rc == 0) {
		fg_errf(errstr, errstr_size, "%s: %s", dst, strerror(errno));
		rc = -1;
	}
	close(in);
	return rc;
}

static void remove_tree(const char *dir)
{
	char path[4096];

	for (int i = 0; i < FG_DATASTORE_TABLES; i++) {
		join(path, sizeof(path), dir, fg_datastore_table_names[i]);
		unlink(path);
	}
	join(path, sizeof(path), dir, MANIFEST);
	unlink(path);
	rmdir(dir);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int read_manifest(const char *dir, struct fg_datastore_version *v, char *errstr,
			 size_t errstr_size)
{
	char path[4096], line[2048];
	FILE *f;

	memset(v, 0, sizeof(*v));
	join(path, sizeof(path), dir, MANIFEST);
	f = fopen(path, "r");
	if (!f) {
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strstr(line, " = "), *val;
		if (!eq)
			continue;
		*eq = '\0';
		val = eq + 3;
		val[strcspn(val, "\n")] = '\0';
		if (!strcmp(line, "fingerprint"))
			snprintf(v->fingerprint, sizeof(v->fingerprint), "%s", val);
		else if (!strcmp(line, "effective"))
			snprintf(v->effective, sizeof(v->effective), "%s", val);
		else if (!strcmp(line, "filed_by"))
			snprintf(v->by, sizeof(v->by), "%s", val);
		else if (!strcmp(line, "filed_at"))
			snprintf(v->filed_at, sizeof(v->filed_at), "%s", val);
		else if (!strcmp(line, "source"))
			snprintf(v->source, sizeof(v->source), "%s", val);
		else if (!strncmp(line, "rows.", 5))
			for (int i = 0; i < FG_DATASTORE_TABLES; i++)
				if (!strcmp(line + 5, fg_datastore_table_names[i]))
					v->rows[i] = strtoull(val, NULL, 10);
	}
	fclose(f);
	if (!is_fingerprint(v->fingerprint)) {
		fg_errf(errstr, errstr_size, "%s: no fingerprint", path);
		return -1;
	}
	return 0;
}

static int write_manifest(const char *dir, const struct fg_datastore_version *v, char *errstr,
			  size_t errstr_size)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	join(path, sizeof(path), dir, MANIFEST);
	f = fopen(path, "wx");
	if (!f) {
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# floorgate reference-data version (written once by `floorgate data add`)\n");
	fprintf(f, "fingerprint = %s\neffective = %s\nfiled_by = %s\nfiled_at = %s\nsource = %s\n",
		v->fingerprint, v->effective, v->by, v->filed_at, v->source);
	for (int i = 0; i < FG_DATASTORE_TABLES; i++)
		fprintf(f, "rows.%s = %llu\n", fg_datastore_table_names[i],
			(unsigned long long)v->rows[i]);
	if (fflush(f) || fsync(fileno(f)))
		rc = -1;
	if (fclose(f))
		rc = -1;
	if (rc)
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
	return rc;
}

static void count_rows(const struct fg_refdata *rd, uint64_t rows[FG_DATASTORE_TABLES])
{
	rows[0] = rd->rules.n;
	rows[1] = rd->n_mfn;
	rows[2] = rd->n_prices;
	rows[3] = rd->n_tariffs;
	rows[4] = rd->n_members;
	rows[5] = rd->n_fx;
}

int fg_datastore_add(const char *store, const char *src_dir, const char *effective,
		     const char *by, struct fg_datastore_version *v, int *existed, char *errstr,
		     size_t errstr_size)
{
	struct fg_refdata *rd = NULL, *copy = NULL;
	char final[4096], tmp[4096], src[4096], dst[4096], why[1024];
	int32_t days;
	int rc = FG_DATASTORE_REFUSED, made_tmp = 0;
	struct stat st;
	time_t now = time(NULL);
	struct tm tm;

	*existed = 0;
	memset(v, 0, sizeof(*v));
	if (fg_date_parse(effective, strlen(effective), &days)) {
		fg_errf(errstr, errstr_size, "--effective \"%s\" is not a date (YYYY-MM-DD)",
			effective);
		return FG_DATASTORE_REFUSED;
	}
	if (!by || !by[0] || strchr(by, '\n')) {
		fg_errf(errstr, errstr_size, "--by must name who files the set (one line)");
		return FG_DATASTORE_REFUSED;
	}
	/* 1. validate the source without touching the store */
	rd = fg_refdata_load(src_dir, errstr, errstr_size);
	if (!rd)
		return FG_DATASTORE_REFUSED;
	snprintf(v->fingerprint, sizeof(v->fingerprint), "%s", rd->fingerprint);
	snprintf(v->effective, sizeof(v->effective), "%s", effective);
	snprintf(v->by, sizeof(v->by), "%s", by);
	gmtime_r(&now, &tm);
	strftime(v->filed_at, sizeof(v->filed_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!realpath(src_dir, v->source))
		snprintf(v->source, sizeof(v->source), "%s", src_dir);
	count_rows(rd, v->rows);

	rc = FG_DATASTORE_FAILED;
	if (mkdir(store, 0755) && errno != EEXIST) {
		fg_errf(errstr, errstr_size, "cannot create the store %s: %s", store,
			strerror(errno));
		goto done;
	}
	join(final, sizeof(final), store, v->fingerprint);
	if (stat(final, &st) == 0) {
		*existed = 1;
		rc = read_manifest(final, v, errstr, errstr_size) ? FG_DATASTORE_FAILED : 0;
		goto done;
	}
	/* 2. copy into a temporary directory of the store */
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", store, v->fingerprint);
	if (!mkdtemp(tmp)) {
		fg_errf(errstr, errstr_size, "cannot create a directory in %s: %s", store,
			strerror(errno));
		goto done;
	}
	made_tmp = 1;
	/* mkdtemp makes it 0700: a version must be readable by whoever may read
	 * the store (auditors replaying as another user), as mkdir would make it */
	mode_t mask = umask(0);
	umask(mask);
	if (chmod(tmp, 0777 & ~mask)) {
		fg_errf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	for (int i = 0; i < FG_DATASTORE_TABLES; i++) {
		join(src, sizeof(src), src_dir, fg_datastore_table_names[i]);
		join(dst, sizeof(dst), tmp, fg_datastore_table_names[i]);
		if (copy_file(src, dst, errstr, errstr_size))
			goto done;
	}
	/* 3. the copy must be the set that was validated */
	copy = fg_refdata_load(tmp, why, sizeof(why));
	if (!copy || strcmp(copy->fingerprint, v->fingerprint) != 0) {
		fg_errf(errstr, errstr_size,
			"%s changed while it was being filed (%s); nothing was filed", src_dir,
			copy ? "its fingerprint moved" : why);
		rc = FG_DATASTORE_REFUSED;
		goto done;
	}
	if (write_manifest(tmp, v, errstr, errstr_size) || fsync_dir(tmp))
		goto done;
	/* 4. publish with one rename; a concurrent filer of the same set wins harmlessly */
	if (rename(tmp, final)) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			*existed = 1;
			rc = read_manifest(final, v, errstr, errstr_size) ? FG_DATASTORE_FAILED : 0;
			goto done;
		}
		fg_errf(errstr, errstr_size, "cannot rename %s to %s: %s", tmp, final,
			strerror(errno));
		goto done;
	}
	made_tmp = 0;
	fsync_dir(store);
	rc = 0;
done:
	if (made_tmp)
		remove_tree(tmp);
	fg_refdata_destroy(copy);
	fg_refdata_destroy(rd);
	return rc;
}

static int by_effective(const void *a, const void *b)
{
	const struct fg_datastore_version *x = a, *y = b;
	int c = strcmp(x->effective, y->effective);

	if (c)
		return c;
	c = strcmp(x->filed_at, y->filed_at);
	return c ? c : strcmp(x->fingerprint, y->fingerprint);
}

int fg_datastore_list(const char *store, struct fg_datastore_version **out, size_t *n,
		      void (*on_bad)(void *ctx, const char *why), void *ctx, char *errstr,
		      size_t errstr_size)
{
	DIR *d = opendir(store);
	struct dirent *e;
	struct fg_datastore_version *v = NULL;
	size_t cap = 0, bad = 0;
	char path[4096], why[1024], stray[256] = "";

	*out = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			fg_errf(errstr, errstr_size,
				"store %s does not exist (the first `floorgate data add` makes it)",
				store);
		else
			fg_errf(errstr, errstr_size, "store %s: %s", store, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (!is_fingerprint(e->d_name)) {
			/* ., .., .tmp-* of a filing in progress; anything else is noted */
			if (e->d_name[0] != '.' && !stray[0])
				snprintf(stray, sizeof(stray), "%s", e->d_name);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct fg_datastore_version *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				fg_errf(errstr, errstr_size, "out of memory");
				goto err;
			}
			v = nv;
		}
		join(path, sizeof(path), store, e->d_name);
		if (read_manifest(path, &v[*n], why, sizeof(why))) {
			bad++;
			if (on_bad)
				on_bad(ctx, why);
			continue;
		}
		(*n)++;
	}
	closedir(d);
	if (!*n && !bad && stray[0]) {
		fg_errf(errstr, errstr_size,
			"%s is not a reference-data store: it holds %s, which is not a version "
			"(a store is made by `floorgate data add`)",
			store, stray);
		free(v);
		return -1;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), by_effective);
	*out = v;
	return bad ? 1 : 0;
err:
	closedir(d);
	free(v);
	*n = 0;
	return -1;
}

int fg_datastore_path(const char *store, const char *fp, char *path, size_t path_size,
		      char *errstr, size_t errstr_size)
{
	DIR *d;
	struct dirent *e;
	size_t len = strlen(fp), found = 0;
	char name[33] = "";

	if (len < 8 || len > 32 || strspn(fp, "0123456789abcdef") != len) {
		fg_errf(errstr, errstr_size,
			"version \"%s\" is not a fingerprint (8 to 32 lower-case hex digits)", fp);
		return -1;
	}
	d = opendir(store);
	if (!d) {
		fg_errf(errstr, errstr_size, "store %s: %s", store, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (is_fingerprint(e->d_name) && strncmp(e->d_name, fp, len) == 0) {
			found++;
			snprintf(name, sizeof(name), "%s", e->d_name);
		}
	closedir(d);
	if (found != 1) {
		fg_errf(errstr, errstr_size, "%s version %s in store %s",
			found ? "more than one" : "no", fp, store);
		return -1;
	}
	snprintf(path, path_size, "%s/%s", store, name);
	return 0;
}
