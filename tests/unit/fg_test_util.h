/*
 * fg_test_util.h: helpers shared by the unit tests (header-only, static
 * inline so a test that does not use one does not warn).
 *
 * Include after the cmocka headers. 128-bit values are compared and shown
 * with a formatter of their own, so a failing money assertion prints both
 * numbers without going through the code under test.
 */
#ifndef FG_TEST_UTIL_H
#define FG_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decimal text of a signed 128-bit integer (buf: at least 41 bytes). */
static inline const char *fg_test_i128_str(__int128 v, char *buf)
{
	char tmp[48];
	int n = 0, o = 0;
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		buf[o++] = '-';
	while (n)
		buf[o++] = tmp[--n];
	buf[o] = '\0';
	return buf;
}

/* Signed decimal integer text -> 128 bits (test literals above int64). */
static inline __int128 fg_test_i128(const char *s)
{
	int neg = *s == '-';
	__int128 v = 0;

	for (s += neg; *s; s++)
		v = v * 10 + (*s - '0');
	return neg ? -v : v;
}

#define assert_i128_equal(a, b)                                                     \
	do {                                                                        \
		__int128 a_ = (a), b_ = (b);                                        \
		if (a_ != b_) {                                                     \
			char sa_[48], sb_[48];                                      \
			fail_msg("%s == %s: %s != %s", #a, #b, fg_test_i128_str(a_, sa_), \
				 fg_test_i128_str(b_, sb_));                        \
		}                                                                   \
	} while (0)

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the path. */
static inline char *fg_test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/fg_unit.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(path))
		return NULL;
	return strdup(path);
}

/* Removes dir and everything under it (symbolic links are removed, not followed). */
static inline void fg_test_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char path[1024];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			fg_test_rmdir(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static inline int fg_test_write(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;
	size_t n = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(text, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The six reference tables as text, in the contract's order. */
struct fg_test_tables {
	const char *classification, *mfn, *prices, *tariffs, *membership, *fx;
};

/*
 * The header line of each table (contract section 2). Short names, like
 * assert_i128_equal: a test's table text then reads as the file does,
 * header and rows.
 */
#define CLS_HDR "rule_id,hs_prefix,keyword,mineral,stage,priority,effective_from,effective_to\n"
#define MFN_HDR "hs_prefix,ad_valorem_pct,effective_from,effective_to\n"
#define PRICE_HDR                                                                              \
	"mineral,stage,price_usd,unit,basis,content_element,default_content_pct,effective_from," \
	"effective_to\n"
#define TARIFF_HDR "mineral,stage,treatment,gap_share,cap_pct,effective_from,effective_to\n"
#define MEMBER_HDR "country,treatment,agreement,effective_from,effective_to\n"
#define FX_HDR "currency,date,usd_per_unit\n"

/* A small valid set: lithium and cobalt rules, one rate, price, tariff, member, FX rate. */
static const struct fg_test_tables fg_test_tables_base = {
	.classification = CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
				  "CO-1,810520,,cobalt,REFINED,10,2020-01-01,\n",
	.mfn = MFN_HDR "28,5,2020-01-01,\n",
	.prices = PRICE_HDR "lithium,REFINED,20,kg,gross,,,2020-01-01,\n",
	.tariffs = TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,\n",
	.membership = MEMBER_HDR "AU,MEMBER,zone,2020-01-01,\n",
	.fx = FX_HDR "EUR,2020-01-01,1.1\n",
};

static inline int fg_test_write_tables(const char *dir, const struct fg_test_tables *t)
{
	return fg_test_write(dir, "classification.csv", t->classification) ||
	       fg_test_write(dir, "mfn.csv", t->mfn) ||
	       fg_test_write(dir, "reference_prices.csv", t->prices) ||
	       fg_test_write(dir, "tariff_parameters.csv", t->tariffs) ||
	       fg_test_write(dir, "membership.csv", t->membership) ||
	       fg_test_write(dir, "fx_rates.csv", t->fx);
}

#endif
