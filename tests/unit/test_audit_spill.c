/*
 * test_audit_spill.c: the spilled hash join under `audit`, and the exact
 * money text it reads and writes.
 *
 * The join must hand every key to the callback exactly once with all of
 * its records (whatever partition count, whatever side they came from),
 * sides in order, arrival order within a side, and leave no file behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/fg_audit.h"
#include "../../src/fg_spill.h"
#include "fg_test_util.h"

#define KEYS 5000

struct seen {
	unsigned calls[KEYS];
	unsigned bad_order, bad_payload;
	size_t groups;
};

static int on_group(void *ctx, const uint8_t *key, size_t key_len,
		    const struct fg_spill_item *items, size_t n)
{
	struct seen *s = ctx;
	char k[32];
	unsigned id;

	snprintf(k, sizeof(k), "%.*s", (int)key_len, (const char *)key);
	assert_int_equal(sscanf(k, "key-%u", &id), 1);
	assert_true(id < KEYS);
	s->calls[id]++;
	s->groups++;
	/* Key id has (id % 3) records on side 0 and (id % 2) + 1 on side 1, payload "side:seq". */
	assert_int_equal(n, id % 3 + id % 2 + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned side = i < id % 3 ? 0 : 1, seq = side ? (unsigned)(i - id % 3) : (unsigned)i;
		char want[32];
		snprintf(want, sizeof(want), "%u:%u", side, seq);
		if (items[i].side != side)
			s->bad_order++;
		if (items[i].len != strlen(want) || memcmp(items[i].payload, want, items[i].len))
			s->bad_payload++;
	}
	return 0;
}

static void join_with_parts(unsigned parts, uint64_t limit)
{
	char err[256], dir[] = "/tmp/fg-test-spill.XXXXXX";
	struct seen *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_non_null(mkdtemp(dir));
	struct fg_spill *sp = fg_spill_create(dir, parts, err, sizeof(err));
	assert_non_null(sp);
	fg_spill_set_part_limit(sp, limit);
	/* Interleave sides and keys so arrival order is not key order. */
	for (unsigned round = 0; round < 3; round++)
		for (unsigned id = 0; id < KEYS; id++) {
			char k[32], p[32];
			int kl = snprintf(k, sizeof(k), "key-%u", id);
			if (round < id % 2 + 1) {
				int pl = snprintf(p, sizeof(p), "1:%u", round);
				assert_int_equal(fg_spill_add(sp, k, (size_t)kl, 1, p, (size_t)pl, err,
							      sizeof(err)), 0);
			}
			if (round < id % 3) {
				int pl = snprintf(p, sizeof(p), "0:%u", round);
				assert_int_equal(fg_spill_add(sp, k, (size_t)kl, 0, p, (size_t)pl, err,
							      sizeof(err)), 0);
			}
		}
	assert_int_equal(fg_spill_join(sp, on_group, s, err, sizeof(err)), 0);
	struct fg_spill_stats st;
	fg_spill_get_stats(sp, &st);
	fg_spill_destroy(sp);
	assert_int_equal(s->groups, KEYS);
	for (unsigned id = 0; id < KEYS; id++)
		assert_int_equal(s->calls[id], 1);
	assert_int_equal(s->bad_order, 0);
	assert_int_equal(s->bad_payload, 0);
	if (parts > 1 || limit)
		assert_true(st.largest_part_bytes < st.bytes); /* the join held a part, not all */
	if (limit)
		assert_true(st.largest_part_bytes <= limit); /* split again until under it */
	/* Nothing left behind: the directory is empty again. */
	assert_int_equal(rmdir(dir), 0);
	free(s);
}

static void test_join_one_partition(void **state)
{
	(void)state;
	join_with_parts(1, 0);
}

static void test_join_many_partitions(void **state)
{
	(void)state;
	join_with_parts(97, 0);
}

/* One partition guessed for too much data: it is split again, by another seed, when read. */
static void test_join_splits_an_oversized_partition(void **state)
{
	(void)state;
	join_with_parts(1, 16384);
}

static int stop_at_third(void *ctx, const uint8_t *key, size_t key_len,
			 const struct fg_spill_item *items, size_t n)
{
	int *calls = ctx;
	(void)key;
	(void)key_len;
	(void)items;
	(void)n;
	return ++*calls == 3 ? 42 : 0;
}

static void test_callback_stops_the_join(void **state)
{
	char err[256];
	int calls = 0;
	(void)state;
	struct fg_spill *sp = fg_spill_create(NULL, 4, err, sizeof(err));
	assert_non_null(sp);
	for (int i = 0; i < 10; i++) {
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(fg_spill_add(sp, k, strlen(k), 0, "", 0, err, sizeof(err)), 0);
	}
	assert_int_equal(fg_spill_join(sp, stop_at_third, &calls, err, sizeof(err)), 42);
	assert_int_equal(calls, 3);
	fg_spill_destroy(sp);
}

static void test_unusable_spill_dir_is_an_error(void **state)
{
	char err[256] = "";
	(void)state;
	assert_null(fg_spill_create("/nonexistent/fg-spill", 4, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create a spill file in /nonexistent/fg-spill"));
}

static void test_parts_for_budget(void **state)
{
	(void)state;
	assert_int_equal(fg_spill_parts_for(0, 1 << 20), 1);
	assert_int_equal(fg_spill_parts_for(1 << 20, 4 << 20), 1);
	/* Each part's bytes stay within half the budget. */
	assert_int_equal(fg_spill_parts_for(100ull << 20, 10ull << 20), 20);
	assert_int_equal(fg_spill_parts_for(1ull << 40, 1 << 20), 1024); /* capped: open files */
}

static void test_money_text(void **state)
{
	fg_money_t v;
	char b[64], w[48];
	(void)state;
	assert_int_equal(fg_audit_parse_money("20.00", &v), 0);
	assert_string_equal(fg_test_i128_str(v, w), "2000");
	assert_int_equal(fg_audit_parse_money("20", &v), 0);
	assert_string_equal(fg_test_i128_str(v, w), "2000");
	assert_int_equal(fg_audit_parse_money("0.5", &v), 0);
	assert_string_equal(fg_test_i128_str(v, w), "50");
	assert_int_equal(fg_audit_parse_money("-1234567890123456.78", &v), 0);
	assert_string_equal(fg_test_i128_str(v, w), "-123456789012345678");
	/* Beyond cents, separators, empty, exponent: refused, never rounded. */
	assert_int_equal(fg_audit_parse_money("20.001", &v), -1);
	assert_int_equal(fg_audit_parse_money("20,00", &v), -1);
	assert_int_equal(fg_audit_parse_money("", &v), -1);
	assert_int_equal(fg_audit_parse_money("1e3", &v), -1);
	assert_int_equal(fg_audit_parse_money("1.2.3", &v), -1);
	assert_string_equal(fg_audit_money_str(fg_test_i128("123456789012"), 1, b, sizeof(b)),
			    "1,234,567,890.12");
	assert_string_equal(fg_audit_money_str(-5, 1, b, sizeof(b)), "-0.05");
	assert_string_equal(fg_audit_money_str(-123456, 1, b, sizeof(b)), "-1,234.56");
	assert_string_equal(fg_audit_money_str(-123456, 0, b, sizeof(b)), "-1234.56");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_one_partition),
		cmocka_unit_test(test_join_many_partitions),
		cmocka_unit_test(test_join_splits_an_oversized_partition),
		cmocka_unit_test(test_callback_stops_the_join),
		cmocka_unit_test(test_unusable_spill_dir_is_an_error),
		cmocka_unit_test(test_parts_for_budget),
		cmocka_unit_test(test_money_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
