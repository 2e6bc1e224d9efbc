/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when it is first needed (dlopen) rather than when the
 * process starts. Debian's libcurl brings 32 more shared objects (OpenSSL's
 * TLS, GnuTLS through librtmp, Kerberos, LDAP, SASL, libssh2, nghttp2, …),
 * and mapping and relocating them costs a daemon whose scenarios have not
 * made an HTTP request yet about 6 MiB of resident memory and 9 ms of every
 * start (bench/daemon/README.md). This is the pattern systemd uses for its
 * optional libraries (dlopen on first use, symbols resolved once): the code
 * keeps calling curl_*() as documented, and these definitions forward to
 * the loaded library.
 *
 * The one process-wide state here is the loaded library: written once, on
 * the thread that first needs it (the loop thread: HTTP happens nowhere
 * else), never changed after, like curl_global_init's own state. When
 * libcurl cannot be loaded every forwarder fails the way libcurl reports
 * failure (NULL, an error code), and curl_dl_error() says why.
 *
 * The variadic calls are forwarded with the type each option takes, which
 * curl encodes in the option's number (CURLOPTTYPE_* and CURLINFO_* in
 * curl.h): a long, an object or function pointer, or a curl_off_t.
 */
#include "modules/http/curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#define CURL_SONAME "libcurl.so.4" /* the ABI Debian's libcurl4 has kept since 2006 */

typedef void generic_fn(void);

/* curl 8.11 made curl_url_get() take a const handle. */
#if LIBCURL_VERSION_NUM >= 0x080b00
#define URL_GET_HANDLE const CURLU
#else
#define URL_GET_HANDLE CURLU
#endif

/* Every function scenariod calls, with the value a forwarder returns when
 * libcurl is not loaded. X(return type, name, parameters, arguments, failure) */
#define CURL_FUNCTIONS(X)                                                                          \
	X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                    \
	X(CURL *, curl_easy_init, (void), (), NULL)                                                \
	X(const char *, curl_easy_strerror, (CURLcode code), (code), load_error)                   \
	X(CURLM *, curl_multi_init, (void), (), NULL)                                              \
	X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m), CURLM_INTERNAL_ERROR)                   \
	X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * e), (m, e), CURLM_INTERNAL_ERROR)   \
	X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * e), (m, e),                      \
	  CURLM_INTERNAL_ERROR)                                                                    \
	X(CURLMcode, curl_multi_assign, (CURLM * m, curl_socket_t fd, void *p), (m, fd, p),        \
	  CURLM_INTERNAL_ERROR)                                                                    \
	X(CURLMcode, curl_multi_socket_action,                                                     \
	  (CURLM * m, curl_socket_t fd, int mask, int *running), (m, fd, mask, running),           \
	  CURLM_INTERNAL_ERROR)                                                                    \
	X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left), (m, left), NULL)                \
	X(const char *, curl_multi_strerror, (CURLMcode code), (code), load_error)                 \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s),  \
	  NULL)                                                                                    \
	X(CURLU *, curl_url, (void), (), NULL)                                                     \
	X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart what, const char *part, unsigned f),      \
	  (u, what, part, f), CURLUE_OUT_OF_MEMORY)                                                \
	X(CURLUcode, curl_url_get, (URL_GET_HANDLE * u, CURLUPart what, char **part, unsigned f),  \
	  (u, what, part, f), CURLUE_OUT_OF_MEMORY)                                                \
	X(time_t, curl_getdate, (const char *p, const time_t *unused), (p, unused), -1)            \
	X(curl_mime *, curl_mime_init, (CURL * e), (e), NULL)                                      \
	X(curl_mimepart *, curl_mime_addpart, (curl_mime * m), (m), NULL)                          \
	X(CURLcode, curl_mime_name, (curl_mimepart * p, const char *n), (p, n), CURLE_FAILED_INIT) \
	X(CURLcode, curl_mime_data, (curl_mimepart * p, const char *d, size_t n), (p, d, n),       \
	  CURLE_FAILED_INIT)                                                                       \
	X(CURLcode, curl_mime_filedata, (curl_mimepart * p, const char *f), (p, f),                \
	  CURLE_FAILED_INIT)                                                                       \
	X(CURLcode, curl_mime_filename, (curl_mimepart * p, const char *f), (p, f),                \
	  CURLE_FAILED_INIT)                                                                       \
	X(CURLcode, curl_mime_type, (curl_mimepart * p, const char *t), (p, t), CURLE_FAILED_INIT)

/* The ones that return nothing. Y(name, parameters, arguments) */
#define CURL_VOID_FUNCTIONS(Y)                               \
	Y(curl_global_cleanup, (void), ())                   \
	Y(curl_easy_cleanup, (CURL * e), (e))                \
	Y(curl_slist_free_all, (struct curl_slist * l), (l)) \
	Y(curl_free, (void *p), (p))                         \
	Y(curl_url_cleanup, (CURLU * u), (u))                \
	Y(curl_mime_free, (curl_mime * m), (m))

#define POINTER_FIELD(type, name, params, args, failure) type(*name) params;
#define VOID_POINTER_FIELD(name, params, args) void(*name) params;

static struct {
	bool tried;
	void *handle;
	char error[256];
	CURL_FUNCTIONS(POINTER_FIELD)
	CURL_VOID_FUNCTIONS(VOID_POINTER_FIELD)
	/* Not named after the functions: curl.h wraps those names in macros. */
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
} lib;

static const char *load_error = "libcurl could not be loaded";

static int resolve(const char *name, void **slot)
{
	*slot = dlsym(lib.handle, name);
	if (*slot)
		return 0;
	snprintf(lib.error, sizeof(lib.error), "%s has no symbol %s", CURL_SONAME, name);
	return -ELIBBAD;
}

int curl_dl_load(void)
{
	int r = 0;

	if (lib.tried)
		return lib.handle ? 0 : -ELIBACC;
	lib.tried = true;
	lib.handle = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib.handle) {
		snprintf(lib.error, sizeof(lib.error), "%s", dlerror());
		return -ELIBACC;
	}
#define RESOLVE(type, name, params, args, failure) \
	if (r == 0)                                \
		r = resolve(#name, (void **)&lib.name);
#define RESOLVE_VOID(name, params, args) \
	if (r == 0)                      \
		r = resolve(#name, (void **)&lib.name);
	CURL_FUNCTIONS(RESOLVE)
	CURL_VOID_FUNCTIONS(RESOLVE_VOID)
	if (r == 0)
		r = resolve("curl_easy_setopt", (void **)&lib.easy_setopt);
	if (r == 0)
		r = resolve("curl_easy_getinfo", (void **)&lib.easy_getinfo);
	if (r == 0)
		r = resolve("curl_multi_setopt", (void **)&lib.multi_setopt);
	if (r < 0) {
		dlclose(lib.handle);
		lib.handle = NULL;
	}
	return r;
}

const char *curl_dl_error(void)
{
	return lib.error[0] ? lib.error : load_error;
}

/* Names in parentheses: curl.h wraps some of them in type-checking macros. */
#define FORWARD(type, name, params, args, failure) \
	type(name) params                          \
	{                                          \
		if (curl_dl_load() < 0)            \
			return failure;            \
		return lib.name args;              \
	}
#define FORWARD_VOID(name, params, args) \
	void(name) params                \
	{                                \
		if (curl_dl_load() < 0)  \
			return;          \
		lib.name args;           \
	}

CURL_FUNCTIONS(FORWARD)
CURL_VOID_FUNCTIONS(FORWARD_VOID)

/* The kind of value an option number takes (curl.h: CURLOPTTYPE_*). */
static int option_kind(long option)
{
	return (int)(option / 10000);
}

static CURLcode forward_setopt(CURL *easy, CURLoption option, va_list ap)
{
	switch (option_kind(option)) {
	case 0: /* CURLOPTTYPE_LONG */
		return lib.easy_setopt(easy, option, va_arg(ap, long));
	case 2: /* CURLOPTTYPE_FUNCTIONPOINT */
		return lib.easy_setopt(easy, option, va_arg(ap, generic_fn *));
	case 3: /* CURLOPTTYPE_OFF_T */
		return lib.easy_setopt(easy, option, va_arg(ap, curl_off_t));
	default: /* OBJECTPOINT (strings, lists, userdata), BLOB */
		return lib.easy_setopt(easy, option, va_arg(ap, void *));
	}
}

CURLcode(curl_easy_setopt)(CURL *easy, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	if (curl_dl_load() < 0)
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	rc = forward_setopt(easy, option, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* writes through a pointer. */
CURLcode(curl_easy_getinfo)(CURL *easy, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (curl_dl_load() < 0)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = lib.easy_getinfo(easy, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLMcode(curl_multi_setopt)(CURLM *multi, CURLMoption option, ...)
{
	va_list ap;
	CURLMcode rc;

	if (curl_dl_load() < 0)
		return CURLM_INTERNAL_ERROR;
	va_start(ap, option);
	switch (option_kind(option)) {
	case 0:
		rc = lib.multi_setopt(multi, option, va_arg(ap, long));
		break;
	case 2:
		rc = lib.multi_setopt(multi, option, va_arg(ap, generic_fn *));
		break;
	case 3:
		rc = lib.multi_setopt(multi, option, va_arg(ap, curl_off_t));
		break;
	default:
		rc = lib.multi_setopt(multi, option, va_arg(ap, void *));
		break;
	}
	va_end(ap);
	return rc;
}
