/*
 * fg_codec.h: a decoder written for one schema, declaration.avsc.
 *
 * Reads an Avro binary body written with floorgate.v1.ImportDeclaration
 * (the reader schema itself) straight into struct fg_decl, 12-20 times
 * faster than Avro C's generic value (see the DESIGN comment in
 * fg_codec.c). Bodies written with any other schema go through Avro C
 * (fg_decode.c).
 */
#ifndef FG_CODEC_H
#define FG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "fg_decl.h"

/*
 * Decodes body[0..len) (without frame) into out. Returns 0, or -1 with a
 * message naming the field, what is wrong and the byte offset in body.
 *
 * Strings in out are views into body: they stay valid while body does.
 * out->lines is *lines, an array the caller owns (free() it) and that is
 * grown with realloc when a declaration has more than *cap_lines lines;
 * it never shrinks, so a decoder that is fed bodies of a steady size
 * stops allocating. *lines may be NULL with *cap_lines 0 at first. On
 * error out is unspecified; *lines and *cap_lines stay consistent.
 */
int fg_codec_decode_declaration(const uint8_t *body, size_t len, struct fg_decl *out,
				struct fg_decl_line **lines, uint32_t *cap_lines, char *msg,
				size_t msg_size);

#endif
