/* SPDX-License-Identifier: MIT */
/*
 * The media type of a blob guessed from its file name, for file values whose
 * producer did not say (a local file, a download without Content-Type). A
 * small static table of the formats scenarios move around is enough; the
 * content is never sniffed.
 */
#include "store/internal.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *extension;
	const char *mime;
} mime_table[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "avi", "video/x-msvideo" },
	{ "bmp", "image/bmp" },
	{ "csv", "text/csv" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "eml", "message/rfc822" },
	{ "epub", "application/epub+zip" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "heic", "image/heic" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "json", "application/json" },
	{ "md", "text/markdown" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "ogg", "audio/ogg" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "rar", "application/vnd.rar" },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "txt", "text/plain" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webp", "image/webp" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xml", "application/xml" },
	{ "yaml", "application/yaml" },
	{ "yml", "application/yaml" },
	{ "zip", "application/zip" },
};

const char *store_mime_guess(const char *name)
{
	const char *slash, *dot;

	if (!name)
		return "application/octet-stream";
	slash = strrchr(name, '/');
	dot = strrchr(slash ? slash + 1 : name, '.');
	if (!dot || !dot[1])
		return "application/octet-stream";
	for (size_t i = 0; i < ELEMENTSOF(mime_table); i++)
		if (strcasecmp(dot + 1, mime_table[i].extension) == 0)
			return mime_table[i].mime;
	return "application/octet-stream";
}
