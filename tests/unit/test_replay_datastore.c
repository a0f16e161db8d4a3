/*
 * test_replay_datastore.c: the versioned reference-data store
 * (pricing/fg_datastore.c): a filed version is the validated set under its
 * fingerprint, filing it again changes nothing, a refused set leaves the
 * store exactly as it was, and versions are listed oldest first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../pricing/fg_datastore.h"
#include "../../pricing/fg_refdata.h"
#include "fg_test_util.h"

struct fixture {
	char *dir;
	char src[600], store[600];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = fg_test_mkdtemp();
	snprintf(fx->src, sizeof(fx->src), "%s/src", fx->dir);
	snprintf(fx->store, sizeof(fx->store), "%s/store", fx->dir);
	mkdir(fx->src, 0755);
	/* The base set with a second FX rate (a filed version counts the rows of each table). */
	struct fg_test_tables t = fg_test_tables_base;
	t.fx = FX_HDR "EUR,2020-01-01,1.1\nEUR,2020-02-01,1.2\n";
	if (fg_test_write_tables(fx->src, &t))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fg_test_rmdir(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Names in dir, sorted and joined, so two listings can be compared. */
static void listing(const char *dir, char *out, size_t size)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		strncat(out, names[i]->d_name, size - strlen(out) - 2);
		strncat(out, "\n", size - strlen(out) - 1);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void test_a_filed_version_is_the_set_under_its_fingerprint(void **state)
{
	struct fixture *fx = *state;
	struct fg_datastore_version v, again;
	char err[1024], path[1024];
	int existed;

	struct fg_refdata *rd = fg_refdata_load(fx->src, err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-01-01", "alice", &v, &existed,
					  err, sizeof(err)), 0);
	assert_false(existed);
	assert_string_equal(v.fingerprint, rd->fingerprint);
	assert_string_equal(v.effective, "2026-01-01");
	assert_string_equal(v.by, "alice");
	assert_int_equal(v.rows[0], 2); /* classification */
	assert_int_equal(v.rows[5], 2); /* fx */

	/* the stored copy loads to the same fingerprint */
	assert_int_equal(fg_datastore_path(fx->store, rd->fingerprint, path, sizeof(path), err,
					   sizeof(err)), 0);
	struct fg_refdata *copy = fg_refdata_load(path, err, sizeof(err));
	assert_non_null(copy);
	assert_string_equal(copy->fingerprint, rd->fingerprint);
	/* a unique prefix names it too */
	char prefix[9];
	memcpy(prefix, rd->fingerprint, 8);
	prefix[8] = '\0';
	assert_int_equal(fg_datastore_path(fx->store, prefix, path, sizeof(path), err,
					   sizeof(err)), 0);

	/* filing it again changes nothing and reports the first filing */
	char before[4096], after[4096];
	listing(fx->store, before, sizeof(before));
	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2027-01-01", "bob", &again,
					  &existed, err, sizeof(err)), 0);
	assert_true(existed);
	assert_string_equal(again.by, "alice");
	assert_string_equal(again.effective, "2026-01-01");
	listing(fx->store, after, sizeof(after));
	assert_string_equal(before, after);

	fg_refdata_destroy(copy);
	fg_refdata_destroy(rd);
}

static void test_a_refused_set_leaves_the_store_unchanged(void **state)
{
	struct fixture *fx = *state;
	struct fg_datastore_version v;
	char err[1024], before[4096], after[4096];
	int existed;

	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-01-01", "alice", &v, &existed,
					  err, sizeof(err)), 0);
	listing(fx->store, before, sizeof(before));
	/* line 2, column 4: "3.x" */
	fg_test_write(fx->src, "mfn.csv", MFN_HDR "28,3.x,2020-01-01,\n");
	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-06-01", "alice", &v,
					  &existed, err, sizeof(err)),
			 FG_DATASTORE_REFUSED);
	assert_non_null(strstr(err, "mfn.csv:2:4:"));
	listing(fx->store, after, sizeof(after));
	assert_string_equal(before, after);

	/* a bad date is refused before anything is read */
	fg_test_write(fx->src, "mfn.csv", fg_test_tables_base.mfn);
	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-02-30", "alice", &v,
					  &existed, err, sizeof(err)),
			 FG_DATASTORE_REFUSED);
	assert_non_null(strstr(err, "2026-02-30"));
	listing(fx->store, after, sizeof(after));
	assert_string_equal(before, after);

	/* and a refused first filing does not even create the store */
	char fresh[700];
	snprintf(fresh, sizeof(fresh), "%s/fresh", fx->dir);
	fg_test_write(fx->src, "fx_rates.csv", FX_HDR "EUR,2020-01-01,x\n");
	assert_int_equal(fg_datastore_add(fresh, fx->src, "2026-01-01", "alice", &v, &existed, err,
					  sizeof(err)),
			 FG_DATASTORE_REFUSED);
	struct stat st;
	assert_int_not_equal(stat(fresh, &st), 0);
}

static void test_versions_are_listed_oldest_first(void **state)
{
	struct fixture *fx = *state;
	struct fg_datastore_version v, *list;
	char err[1024], fp_late[33], fp_early[33];
	size_t n;
	int existed;

	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-07-01", "alice", &v, &existed,
					  err, sizeof(err)), 0);
	memcpy(fp_late, v.fingerprint, sizeof(fp_late));
	fg_test_write(fx->src, "mfn.csv", MFN_HDR "28,6,2020-01-01,\n");
	assert_int_equal(fg_datastore_add(fx->store, fx->src, "2026-01-01", "bob", &v, &existed,
					  err, sizeof(err)), 0);
	memcpy(fp_early, v.fingerprint, sizeof(fp_early));
	assert_string_not_equal(fp_late, fp_early);

	assert_int_equal(fg_datastore_list(fx->store, &list, &n, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].fingerprint, fp_early);
	assert_string_equal(list[0].by, "bob");
	assert_string_equal(list[1].fingerprint, fp_late);
	free(list);

	/* a version that is not there is named */
	char path[1024];
	assert_int_equal(fg_datastore_path(fx->store, "0123456789abcdef", path, sizeof(path), err,
					   sizeof(err)), -1);
	assert_non_null(strstr(err, "no version 0123456789abcdef"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_filed_version_is_the_set_under_its_fingerprint,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_refused_set_leaves_the_store_unchanged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_versions_are_listed_oldest_first, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
