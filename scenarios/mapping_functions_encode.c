/* SPDX-License-Identifier: MIT */
/*
 * Fusion's encoding text functions: base64, the hashes (md5, sha1,
 * sha256, sha512, with an optional HMAC key, through OpenSSL EVP), URL
 * encoding as JavaScript's encodeURIComponent does it, and the HTML
 * helpers. Hashes work on the UTF-8 bytes of the text.
 */
#include "scenarios/mapping_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

static char *base64_encode(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Decodes base64 (padding optional); -EINVAL on anything else. */
static int base64_decode(const char *text, unsigned char **ret, size_t *ret_len)
{
	size_t len = strlen(text), pad = 0;
	_cleanup_free_ char *padded = NULL;
	unsigned char *out;
	int n;

	while (len && text[len - 1] == '=')
		len--;
	padded = xmalloc(len + 4);
	memcpy(padded, text, len);
	while ((len + pad) % 4)
		padded[len + pad++] = '=';
	padded[len + pad] = '\0';
	out = xmalloc((len + pad) / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)padded, (int)(len + pad));
	if (n < 0) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	*ret_len = (size_t)n - (pad > 2 ? 2 : pad);
	return 0;
}

static int hex_decode(const char *text, unsigned char **ret, size_t *ret_len)
{
	size_t len = strlen(text);
	unsigned char *out;

	if (len % 2)
		return -EINVAL;
	out = xmalloc(len / 2 + 1);
	for (size_t i = 0; i < len; i += 2) {
		char byte[3] = { text[i], text[i + 1], '\0' };
		char *end;

		if (!isxdigit((unsigned char)byte[0]) || !isxdigit((unsigned char)byte[1])) {
			free(out);
			return -EINVAL;
		}
		out[i / 2] = (unsigned char)strtoul(byte, &end, 16);
	}
	*ret = out;
	*ret_len = len / 2;
	return 0;
}

static int fn_base64(struct eval *ev, const struct node *call, const struct call_args *args,
		     cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);

	if (strlen(text) > MAPPING_MAX_RESULT / 4 * 3)
		return eval_fail(ev, call, "base64(): the text is too long");
	return value_string_take(ev, call, base64_encode((const unsigned char *)text, strlen(text)),
				 ret);
}

/* The digest in the requested output encoding: hex, base64 or latin1
 * (each byte as one character). */
static int encode_digest(struct eval *ev, const struct node *call, const unsigned char *md,
			 unsigned len, const char *encoding, cJSON **ret)
{
	struct strbuf sb;

	if (streq(encoding, "base64"))
		return value_string_take(ev, call, base64_encode(md, len), ret);
	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	if (streq(encoding, "hex")) {
		for (unsigned i = 0; i < len; i++)
			strbuf_printf(&sb, "%02x", md[i]);
	} else if (streq(encoding, "latin1")) {
		for (unsigned i = 0; i < len; i++)
			utf8_encode(&sb, md[i]);
	} else {
		strbuf_done(&sb);
		return eval_fail(ev, call, "%s(): the encoding must be hex, base64 or latin1",
				 call_name(call));
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

/* The HMAC key from text, hex or base64. */
static int key_bytes(const char *key, const char *encoding, unsigned char **ret, size_t *ret_len)
{
	if (streq(encoding, "text") || streq(encoding, "binary")) {
		*ret = (unsigned char *)xstrdup(key);
		*ret_len = strlen(key);
		return 0;
	}
	if (streq(encoding, "hex"))
		return hex_decode(key, ret, ret_len);
	if (streq(encoding, "base64"))
		return base64_decode(key, ret, ret_len);
	return -EINVAL;
}

/* md(text; [encoding]; [key]; [key encoding]) */
static int hash(struct eval *ev, const struct node *call, const struct call_args *args,
		const EVP_MD *md, cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *encoding = NULL, *key = NULL,
			    *key_encoding = NULL;
	_cleanup_free_ unsigned char *kb = NULL;
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	size_t klen = 0;

	encoding = arg_present(args, 1) ? arg_text(args, 1) : xstrdup("hex");
	if (arg_present(args, 2)) {
		key = arg_text(args, 2);
		key_encoding = arg_present(args, 3) ? arg_text(args, 3) : xstrdup("text");
		if (key_bytes(key, key_encoding, &kb, &klen) < 0)
			return eval_fail(ev, call, "%s(): the key is not valid %s", call_name(call),
					 key_encoding);
		if (!HMAC(md, kb, (int)klen, (const unsigned char *)text, strlen(text), out, &len))
			return eval_fail(ev, call, "%s(): HMAC failed", call_name(call));
	} else if (!EVP_Digest(text, strlen(text), out, &len, md, NULL)) {
		return eval_fail(ev, call, "%s(): hashing failed", call_name(call));
	}
	return encode_digest(ev, call, out, len, encoding, ret);
}

#define HASH_FN(fname, evp)                                                                      \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return hash(ev, call, args, evp(), ret);                                         \
	}

HASH_FN(fn_md5, EVP_md5)
HASH_FN(fn_sha1, EVP_sha1)
HASH_FN(fn_sha256, EVP_sha256)
HASH_FN(fn_sha512, EVP_sha512)

/* encodeURL(text): encodeURIComponent, keeping A-Z a-z 0-9 - _ . ! ~ * ' ( ). */
static int fn_encode_url(struct eval *ev, const struct node *call, const struct call_args *args,
			 cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (isalnum(*p) || strchr("-_.!~*'()", *p))
			strbuf_putc(&sb, (char)*p);
		else
			strbuf_printf(&sb, "%%%02X", *p);
		if (sb.len > MAPPING_MAX_RESULT)
			break;
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

/* decodeURL(text): %XX sequences become bytes; '+' stays '+' and a
 * malformed sequence stays as written. */
static int fn_decode_url(struct eval *ev, const struct node *call, const struct call_args *args,
			 cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const char *p = text; *p; p++) {
		if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char byte[3] = { p[1], p[2], '\0' };

			strbuf_putc(&sb, (char)strtoul(byte, NULL, 16));
			p += 2;
		} else {
			strbuf_putc(&sb, *p);
		}
	}
	if (memchr(sb.data, '\0', sb.len)) {
		strbuf_done(&sb);
		return eval_fail(ev, call, "decodeURL(): the text decodes to a NUL byte");
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

/* escapeHTML(text): & < > " ' become entities. */
static int fn_escape_html(struct eval *ev, const struct node *call, const struct call_args *args,
			  cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const char *p = text; *p && sb.len <= MAPPING_MAX_RESULT; p++) {
		switch (*p) {
		case '&':
			strbuf_puts(&sb, "&amp;");
			break;
		case '<':
			strbuf_puts(&sb, "&lt;");
			break;
		case '>':
			strbuf_puts(&sb, "&gt;");
			break;
		case '"':
			strbuf_puts(&sb, "&quot;");
			break;
		case '\'':
			strbuf_puts(&sb, "&#39;");
			break;
		default:
			strbuf_putc(&sb, *p);
		}
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

/* stripHTML(text): removes tags, comments included; entities stay. */
static int fn_strip_html(struct eval *ev, const struct node *call, const struct call_args *args,
			 cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const char *p = text; *p; p++) {
		const char *end;

		if (*p == '<' && strncmp(p, "<!--", 4) == 0 && (end = strstr(p + 4, "-->"))) {
			p = end + 2;
			continue;
		}
		if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!') &&
		    (end = strchr(p, '>'))) {
			p = end;
			continue;
		}
		strbuf_putc(&sb, *p);
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

const struct mapping_function mapping_functions_encode[] = {
	{ .name = "base64", .min_args = 1, .max_args = 1, .fn = fn_base64 },
	{ .name = "md5", .min_args = 1, .max_args = 4, .fn = fn_md5 },
	{ .name = "sha1", .min_args = 1, .max_args = 4, .fn = fn_sha1 },
	{ .name = "sha256", .min_args = 1, .max_args = 4, .fn = fn_sha256 },
	{ .name = "sha512", .min_args = 1, .max_args = 4, .fn = fn_sha512 },
	{ .name = "encodeURL", .min_args = 1, .max_args = 1, .fn = fn_encode_url },
	{ .name = "decodeURL", .min_args = 1, .max_args = 1, .fn = fn_decode_url },
	{ .name = "escapeHTML", .min_args = 1, .max_args = 1, .fn = fn_escape_html },
	{ .name = "stripHTML", .min_args = 1, .max_args = 1, .fn = fn_strip_html },
	{ .name = NULL },
};
