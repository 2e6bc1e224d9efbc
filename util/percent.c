/* SPDX-License-Identifier: MIT */
#include "util/percent.h"

#include "util/xalloc.h"

int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *percent_decode(const char *s, size_t len, bool plus_as_space)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+' && plus_as_space) {
			*o++ = ' ';
		} else if (s[i] == '%' && len - i > 2 && hex_digit_value(s[i + 1]) >= 0 &&
			   hex_digit_value(s[i + 2]) >= 0) {
			*o++ = (char)(hex_digit_value(s[i + 1]) << 4 | hex_digit_value(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}
