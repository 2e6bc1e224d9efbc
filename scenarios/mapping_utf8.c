/* SPDX-License-Identifier: MIT */
/*
 * Just enough Unicode for the text functions: UTF-8 decoding that never
 * loses bytes, positions counted in code points (length, substring,
 * indexOf), case mapping for the Latin, Greek and Cyrillic letters
 * scenarios meet in names and addresses, and the base letters ascii()
 * keeps when it removes diacritics. Not locale-dependent on purpose: the
 * daemon's locale must not change what a scenario computes.
 */
#include "scenarios/mapping_internal.h"

#include <string.h>

#include "util/strbuf.h"

size_t utf8_decode(const char *s, size_t len, uint32_t *ret_cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t need;
	uint32_t cp, min;

	if (u[0] < 0x80) {
		*ret_cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		need = 2, cp = u[0] & 0x1f, min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		need = 3, cp = u[0] & 0x0f, min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		need = 4, cp = u[0] & 0x07, min = 0x10000;
	} else {
		*ret_cp = u[0];
		return 1;
	}
	if (len < need)
		goto invalid;
	for (size_t i = 1; i < need; i++) {
		if ((u[i] & 0xc0) != 0x80)
			goto invalid;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto invalid;
	*ret_cp = cp;
	return need;
invalid:
	*ret_cp = u[0];
	return 1;
}

void utf8_encode(struct strbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	strbuf_append(sb, b, n);
}

size_t utf8_length(const char *s)
{
	size_t len = strlen(s), count = 0;

	for (size_t i = 0; i < len; count++) {
		uint32_t cp;

		i += utf8_decode(s + i, len - i, &cp);
	}
	return count;
}

size_t utf8_offset(const char *s, size_t index)
{
	size_t len = strlen(s), i = 0;

	for (size_t n = 0; n < index && i < len; n++) {
		uint32_t cp;

		i += utf8_decode(s + i, len - i, &cp);
	}
	return i;
}

/* Latin Extended-A pairs letters as upper/lower neighbours; which of the
 * two is upper case flips in the middle of the block. */
static bool latin_a_is_upper(uint32_t cp)
{
	if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
		return (cp & 1) == 0;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return (cp & 1) == 1;
	return false;
}

static bool latin_a_is_lower(uint32_t cp)
{
	if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177) ||
	    (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return !latin_a_is_upper(cp);
	return false;
}

uint32_t utf8_lower(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp < 0x80)
		return cp;
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ||
	    (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) || (cp >= 0x410 && cp <= 0x42f))
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	if (cp == 0x178)
		return 0xff;
	if (latin_a_is_upper(cp))
		return cp + 1;
	return cp;
}

uint32_t utf8_upper(uint32_t cp)
{
	if (cp >= 'a' && cp <= 'z')
		return cp - 32;
	if (cp < 0x80)
		return cp;
	if ((cp >= 0xe0 && cp <= 0xfe && cp != 0xf7) ||
	    (cp >= 0x3b1 && cp <= 0x3c9 && cp != 0x3c2) || (cp >= 0x430 && cp <= 0x44f))
		return cp - 32;
	if (cp == 0x3c2) /* final sigma */
		return 0x3a3;
	if (cp >= 0x450 && cp <= 0x45f)
		return cp - 80;
	if (cp == 0xff)
		return 0x178;
	if (latin_a_is_lower(cp))
		return cp - 1;
	return cp;
}

/* Base letters for U+00C0…U+017F; '\0' where there is none (Æ, ß, Œ…). */
static const char base_letters[] = "AAAAAA\0CEEEEIIIIDNOOOOO\0OUUUUY\0\0"
				   "aaaaaa\0ceeeeiiiidnooooo\0ouuuuy\0y"
				   "AaAaAaCcCcCcCcDd"
				   "DdEeEeEeEeEeGgGg"
				   "GgGgHhHhIiIiIiIi"
				   "Ii\0\0JjKkkLlLlLlL"
				   "lLlNnNnNnnNnOoOo"
				   "Oo\0\0RrRrRrSsSsSs"
				   "SsTtTtTtUuUuUuUu"
				   "UuUuWwYyYZzZzZzs";

char utf8_strip_diacritic(uint32_t cp)
{
	if (cp < 0xc0 || cp > 0x17f)
		return 0;
	return base_letters[cp - 0xc0];
}
