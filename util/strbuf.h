/* SPDX-License-Identifier: MIT */
/*
 * A growable NUL-terminated byte buffer. Embedded in its owner
 * (strbuf_init/strbuf_done) or handed out with strbuf_steal().
 */
#pragma once

#include <stddef.h>

#include "util/cleanup.h"

struct strbuf {
	char *data; /* owned; always NUL-terminated once anything was appended */
	size_t len;
	size_t capacity;
};

void strbuf_init(struct strbuf *sb);
void strbuf_done(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
void strbuf_reset(struct strbuf *sb);
/* Returns the contents (never NULL) and leaves the buffer empty; caller frees. */
char *strbuf_steal(struct strbuf *sb);
