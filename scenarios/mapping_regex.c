/* SPDX-License-Identifier: MIT */
/*
 * Regular expressions for replace() and matches(). Fusion takes them in
 * JavaScript's "/pattern/flags" form; we compile them with POSIX regcomp
 * (REG_EXTENDED) after translating what Fusion users write most and ERE
 * lacks: \d and \D, and \n, \t, \r, \/ escapes. glibc already knows \w,
 * \W, \s, \S and \b. Flags: g (every match), i (ignore case), m ('^' and
 * '$' at line breaks); s, u and y are accepted and ignored.
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

/* Longest pattern accepted: regcomp's cost grows with it. */
#define REGEX_MAX_PATTERN 4096
#define REGEX_MAX_GROUPS 100

struct mapping_regex {
	regex_t re;
	bool global;
};

struct mapping_regex *mapping_regex_free(struct mapping_regex *re)
{
	if (!re)
		return NULL;
	regfree(&re->re);
	free(re);
	return NULL;
}

bool mapping_regex_global(const struct mapping_regex *re)
{
	return re->global;
}

static void translate(const char *pattern, struct strbuf *out)
{
	bool in_class = false;

	strbuf_append(out, "", 0);
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			char c = *++p;

			if (c == 'd')
				strbuf_puts(out, in_class ? "0-9" : "[0-9]");
			else if (c == 'D' && !in_class)
				strbuf_puts(out, "[^0-9]");
			else if (c == 'n')
				strbuf_putc(out, '\n');
			else if (c == 't')
				strbuf_putc(out, '\t');
			else if (c == 'r')
				strbuf_putc(out, '\r');
			else if (c == '/')
				strbuf_putc(out, '/');
			else if (in_class && c == 's')
				strbuf_puts(out, "[:space:]");
			else if (in_class && c == 'w')
				strbuf_puts(out, "[:alnum:]_");
			else if (in_class) /* inside [] a backslash is literal in ERE */
				strbuf_putc(out, c);
			else {
				strbuf_putc(out, '\\');
				strbuf_putc(out, c);
			}
			continue;
		}
		if (*p == '[' && !in_class) {
			in_class = true;
			strbuf_putc(out, *p);
			if (p[1] == '^')
				strbuf_putc(out, *++p);
			if (p[1] == ']')
				strbuf_putc(out, *++p);
			continue;
		}
		if (*p == ']' && in_class)
			in_class = false;
		strbuf_putc(out, *p);
	}
}

int mapping_regex_compile(const char *pattern, const char *flags, struct mapping_regex **ret,
			  char **reterr)
{
	_cleanup_(mapping_regex_freep) struct mapping_regex *re = NULL;
	int cflags = REG_EXTENDED;
	struct strbuf sb;
	int r;

	if (strlen(pattern) > REGEX_MAX_PATTERN) {
		*reterr = xasprintf("regular expression longer than %d bytes", REGEX_MAX_PATTERN);
		return -EINVAL;
	}
	for (const char *f = flags; *f; f++) {
		if (!strchr("gimsuy", *f)) {
			*reterr = xasprintf("unknown regular expression flag '%c'", *f);
			return -EINVAL;
		}
		if (*f == 'i')
			cflags |= REG_ICASE;
		if (*f == 'm')
			cflags |= REG_NEWLINE;
	}
	strbuf_init(&sb);
	translate(pattern, &sb);
	re = xcalloc(1, sizeof(*re));
	r = regcomp(&re->re, sb.data, cflags);
	strbuf_done(&sb);
	if (r != 0) {
		char buf[128];

		regerror(r, &re->re, buf, sizeof(buf));
		free(TAKE_PTR(re));
		*reterr = xasprintf("invalid regular expression: %s", buf);
		return -EINVAL;
	}
	re->global = strchr(flags, 'g') != NULL;
	*ret = TAKE_PTR(re);
	return 0;
}

int mapping_regex_parse(const char *text, struct mapping_regex **ret, char **reterr)
{
	const char *end = strrchr(text, '/');
	_cleanup_free_ char *pattern = NULL;

	*ret = NULL;
	if (text[0] != '/' || end == text || strspn(end + 1, "gimsuy") != strlen(end + 1))
		return 0;
	pattern = xstrndup(text + 1, (size_t)(end - text - 1));
	return mapping_regex_compile(pattern, end + 1, ret, reterr);
}

bool mapping_regex_matches(const struct mapping_regex *re, const char *text)
{
	return regexec(&re->re, text, 0, NULL, 0) == 0;
}

/* $& the match, $1…$99 a group (the longest number that names a group),
 * $$ a dollar; anything else stays as written. */
static void expand(struct strbuf *out, const char *with, const char *subject, const regmatch_t *m,
		   size_t ngroups)
{
	for (const char *p = with; *p; p++) {
		if (*p != '$' || !p[1]) {
			strbuf_putc(out, *p);
			continue;
		}
		if (p[1] == '$') {
			strbuf_putc(out, '$');
			p++;
		} else if (p[1] == '&') {
			strbuf_append(out, subject + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
			p++;
		} else if (p[1] >= '0' && p[1] <= '9') {
			size_t g = (size_t)(p[1] - '0'), used = 1;

			if (p[2] >= '0' && p[2] <= '9' &&
			    g * 10 + (size_t)(p[2] - '0') <= ngroups) {
				g = g * 10 + (size_t)(p[2] - '0');
				used = 2;
			}
			if (g == 0 || g > ngroups) {
				strbuf_putc(out, '$');
				continue;
			}
			if (m[g].rm_so >= 0)
				strbuf_append(out, subject + m[g].rm_so,
					      (size_t)(m[g].rm_eo - m[g].rm_so));
			p += used;
		} else {
			strbuf_putc(out, '$');
		}
	}
}

int mapping_regex_replace(const struct mapping_regex *re, const char *text, const char *with,
			  char **ret)
{
	regmatch_t m[REGEX_MAX_GROUPS];
	size_t ngroups = re->re.re_nsub < REGEX_MAX_GROUPS ? re->re.re_nsub : REGEX_MAX_GROUPS - 1;
	size_t len = strlen(text), pos = 0;
	struct strbuf out;

	strbuf_init(&out);
	strbuf_append(&out, "", 0);
	while (pos <= len) {
		/* REG_STARTEND: search from pos without rescanning the text for
		 * its length each time, and with what precedes pos still seen by
		 * '^' and '\b'. Offsets come back from the start of text. */
		m[0].rm_so = (regoff_t)pos;
		m[0].rm_eo = (regoff_t)len;
		if (regexec(&re->re, text, ngroups + 1, m, REG_STARTEND) != 0)
			break;
		strbuf_append(&out, text + pos, (size_t)m[0].rm_so - pos);
		expand(&out, with, text, m, ngroups);
		if (out.len > MAPPING_MAX_RESULT) {
			strbuf_done(&out);
			return -E2BIG;
		}
		if (m[0].rm_eo == m[0].rm_so) {
			/* An empty match: copy one character and go on after it. */
			if ((size_t)m[0].rm_eo < len)
				strbuf_putc(&out, text[m[0].rm_eo]);
			pos = (size_t)m[0].rm_eo + 1;
		} else {
			pos = (size_t)m[0].rm_eo;
		}
		if (!re->global)
			break;
	}
	if (pos < len)
		strbuf_puts(&out, text + pos);
	*ret = strbuf_steal(&out);
	return 0;
}
