/*
 * fg_decl.h: one decoded import declaration (floorgate.v1.ImportDeclaration).
 *
 * Strings are views into the decoder's buffers and stay valid until the
 * decoder decodes the next message. Decimals keep the schema's scale:
 * net_mass_kg 3, customs_value 2, content percent 4.
 */
#ifndef FG_DECL_H
#define FG_DECL_H

#include <stdint.h>

#include "../core/fg_common.h"

enum fg_function_code { FG_FC_ORIGINAL, FG_FC_AMENDMENT, FG_FC_CANCELLATION };

#define FG_DECL_MASS_SCALE 3
#define FG_DECL_VALUE_SCALE 2
#define FG_DECL_PERCENT_SCALE 4

struct fg_decl_line {
	int32_t item_no;
	struct fg_str commodity_code;
	struct fg_str description;
	struct fg_str origin_country;
	int64_t net_mass_kg;   /* scale 3 */
	int64_t customs_value; /* scale 2 */
	int has_content;
	struct fg_str content_element;
	int64_t content_percent; /* scale 4 */
	int has_preference_claim;
	struct fg_str preference_claim;
};

struct fg_decl {
	struct fg_str declaration_id;
	int32_t version;
	enum fg_function_code function_code;
	int64_t submitted_at; /* ms since epoch */
	int32_t acceptance_date; /* days since 1970-01-01 */
	struct fg_str declarant_id;
	struct fg_str importer_id;
	struct fg_str port_code;
	struct fg_str export_country;
	struct fg_str invoice_currency;
	uint32_t n_lines;
	struct fg_decl_line *lines; /* owned by the decoder */
};

extern const char *const fg_function_code_names[3];

#endif
