/* SPDX-License-Identifier: MIT */
/*
 * Time zones from TZif files (RFC 8536), version 2 or later: the 64-bit
 * transition table, then the POSIX TZ rule in the footer for instants after
 * the last transition ("slim" files, as Debian ships, rely on it for every
 * year after the rules last changed). Before the first transition the
 * first local time type applies. Only offsets are kept: scenarios need
 * wall-clock arithmetic, not abbreviations.
 */
#include "util/tz.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

#define TZ_FILE_MAX (256 * 1024)
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* A POSIX rule date: Jn (1…365, no Feb 29), n (0…365) or Mm.w.d. */
struct rule_date {
	char kind; /* 'J', 'D' (zero-based day) or 'M' */
	int month, week, wday, day;
	int32_t time; /* seconds after local midnight; may be negative or > 24 h */
};

struct rule {
	int32_t std_offset; /* seconds east of UTC */
	int32_t dst_offset;
	bool has_dst;
	struct rule_date start, end;
};

struct tz {
	char *name;
	int64_t *times; /* transition instants, ascending */
	uint8_t *types; /* time type after each transition */
	size_t ntimes;
	int32_t *offsets; /* of each time type */
	size_t noffsets;
	bool has_rule;
	struct rule rule;
};

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *ret_year, int *ret_month, int *ret_day)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_year = y + (*ret_month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- the POSIX TZ rule in the footer ---- */

static const char *parse_name(const char *p)
{
	if (*p == '<') {
		const char *end = strchr(p, '>');

		return end ? end + 1 : NULL;
	}
	if (!isalpha((unsigned char)*p))
		return NULL;
	while (isalpha((unsigned char)*p))
		p++;
	return p;
}

/* [+-]hh[:mm[:ss]] as seconds. */
static const char *parse_hms(const char *p, int32_t *ret)
{
	int sign = 1, part = 0;
	int32_t v[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (;;) {
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p) && v[part] < 1000)
			v[part] = v[part] * 10 + (*p++ - '0');
		if (*p != ':' || part == 2)
			break;
		p++;
		part++;
	}
	*ret = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	return p;
}

static const char *parse_int(const char *p, int *ret)
{
	int v = 0;

	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p) && v < 10000)
		v = v * 10 + (*p++ - '0');
	*ret = v;
	return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *d)
{
	*d = (struct rule_date){ .time = 7200 };
	if (*p == 'M') {
		d->kind = 'M';
		if (!(p = parse_int(p + 1, &d->month)) || *p++ != '.' ||
		    !(p = parse_int(p, &d->week)) || *p++ != '.' || !(p = parse_int(p, &d->wday)))
			return NULL;
		if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->wday > 6)
			return NULL;
	} else if (*p == 'J') {
		d->kind = 'J';
		if (!(p = parse_int(p + 1, &d->day)) || d->day < 1 || d->day > 365)
			return NULL;
	} else {
		d->kind = 'D';
		if (!(p = parse_int(p, &d->day)) || d->day > 365)
			return NULL;
	}
	if (*p == '/')
		p = parse_hms(p + 1, &d->time);
	return p;
}

static int parse_rule(const char *s, struct rule *r)
{
	const char *p = parse_name(s);
	int32_t off;

	if (!p || !(p = parse_hms(p, &off)))
		return -EBADMSG;
	*r = (struct rule){ .std_offset = -off, .dst_offset = -off };
	if (!*p)
		return 0;
	if (!(p = parse_name(p)))
		return -EBADMSG;
	r->has_dst = true;
	r->dst_offset = r->std_offset + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, &off)))
			return -EBADMSG;
		r->dst_offset = -off;
	}
	if (*p++ != ',' || !(p = parse_rule_date(p, &r->start)) || *p++ != ',' ||
	    !(p = parse_rule_date(p, &r->end)) || *p)
		return -EBADMSG;
	return 0;
}

/* Local midnight (as days since the epoch) of a rule date in `year`. */
static int64_t rule_day(const struct rule_date *d, int64_t year)
{
	int64_t jan1 = tz_days_from_civil(year, 1, 1), first, day;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int len, wday;

	if (d->kind == 'J')
		return jan1 + d->day - 1 + (is_leap(year) && d->day >= 60);
	if (d->kind == 'D')
		return jan1 + d->day;
	first = tz_days_from_civil(year, d->month, 1);
	/* 1970-01-01 was a Thursday (4). */
	wday = (int)(((first + 4) % 7 + 7) % 7);
	day = first + (d->wday - wday + 7) % 7;
	day += 7 * (d->week - 1);
	len = mdays[d->month - 1] + (d->month == 2 && is_leap(year));
	while (day >= first + len)
		day -= 7;
	return day;
}

static int32_t rule_offset_at(const struct rule *r, int64_t t)
{
	int64_t year, start, end;
	int month, day;

	if (!r->has_dst)
		return r->std_offset;
	tz_civil_from_days(floor_div(t + r->std_offset, 86400), &year, &month, &day);
	/* DST starts at a local standard time and ends at a local DST time. */
	start = rule_day(&r->start, year) * 86400 + r->start.time - r->std_offset;
	end = rule_day(&r->end, year) * 86400 + r->end.time - r->dst_offset;
	if (start < end)
		return t >= start && t < end ? r->dst_offset : r->std_offset;
	return t >= end && t < start ? r->std_offset : r->dst_offset;
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct header {
	size_t isut, isstd, leap, time, type, chars;
};

static int read_header(const uint8_t *p, size_t len, struct header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -EBADMSG;
	*h = (struct header){ be32(p + 20), be32(p + 24), be32(p + 28),
			      be32(p + 32), be32(p + 36), be32(p + 40) };
	if (h->type == 0 || h->type > 256 || h->time > 100000 || h->leap > 10000 ||
	    h->chars > 10000 || h->isut > h->type || h->isstd > h->type)
		return -EBADMSG;
	return 0;
}

static size_t block_size(const struct header *h, size_t timesize)
{
	return h->time * timesize + h->time + h->type * 6 + h->chars + h->leap * (timesize + 4) +
	       h->isstd + h->isut;
}

static int parse_tzif(const uint8_t *data, size_t len, struct tz *tz)
{
	struct header h;
	const uint8_t *p;
	size_t v1;
	int r;

	r = read_header(data, len, &h);
	if (r < 0)
		return r;
	if (data[4] < '2')
		return -EBADMSG; /* v1 files have no 64-bit data and no rule */
	v1 = 44 + block_size(&h, 4);
	if (v1 > len)
		return -EBADMSG;
	r = read_header(data + v1, len - v1, &h);
	if (r < 0)
		return r;
	p = data + v1 + 44;
	if (v1 + 44 + block_size(&h, 8) > len)
		return -EBADMSG;
	tz->ntimes = h.time;
	tz->times = xcalloc(h.time, sizeof(*tz->times));
	tz->types = xcalloc(h.time, 1);
	for (size_t i = 0; i < h.time; i++, p += 8)
		tz->times[i] = be64(p);
	for (size_t i = 0; i < h.time; i++, p++) {
		if (*p >= h.type)
			return -EBADMSG;
		tz->types[i] = *p;
	}
	tz->noffsets = h.type;
	tz->offsets = xcalloc(h.type, sizeof(*tz->offsets));
	for (size_t i = 0; i < h.type; i++, p += 6)
		tz->offsets[i] = (int32_t)be32(p);
	p += h.chars + h.leap * 12 + h.isstd + h.isut;
	/* Footer: "\n<POSIX TZ>\n"; an empty rule means none. */
	if (p < data + len && *p == '\n') {
		const uint8_t *end = memchr(p + 1, '\n', (size_t)(data + len - p - 1));

		if (end && end > p + 1) {
			char *rule = xstrndup((const char *)p + 1, (size_t)(end - p - 1));

			r = parse_rule(rule, &tz->rule);
			free(rule);
			if (r < 0)
				return r;
			tz->has_rule = true;
		}
	}
	return 0;
}

static bool name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p))
			return false;
	return true;
}

static int read_zone_file(const char *name, uint8_t **ret, size_t *ret_len)
{
	const char *dir = getenv("TZDIR");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *data = NULL;
	struct stat st;
	size_t got = 0;

	path = xasprintf("%s/%s", dir && *dir ? dir : TZ_DEFAULT_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	if (st.st_size > TZ_FILE_MAX)
		return -EBADMSG;
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EBADMSG;
		got += (size_t)n;
	}
	*ret = TAKE_PTR(data);
	*ret_len = got;
	return 0;
}

int tz_load(const char *name, struct tz **ret)
{
	_cleanup_(tz_freep) struct tz *tz = NULL;
	_cleanup_free_ uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!name_valid(name))
		return -EINVAL;
	tz = xcalloc(1, sizeof(*tz));
	tz->name = xstrdup(name);
	r = read_zone_file(name, &data, &len);
	if (r == -ENOENT && (streq(name, "UTC") || streq(name, "Etc/UTC"))) {
		/* Works without tzdata: a single type with offset 0. */
		tz->offsets = xcalloc(1, sizeof(*tz->offsets));
		tz->noffsets = 1;
		*ret = TAKE_PTR(tz);
		return 0;
	}
	if (r < 0)
		return r;
	r = parse_tzif(data, len, tz);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(tz);
	return 0;
}

struct tz *tz_free(struct tz *tz)
{
	if (!tz)
		return NULL;
	free(tz->name);
	free(tz->times);
	free(tz->types);
	free(tz->offsets);
	free(tz);
	return NULL;
}

bool tz_exists(const char *name)
{
	_cleanup_(tz_freep) struct tz *tz = NULL;

	return tz_load(name, &tz) == 0;
}

const char *tz_name(const struct tz *tz)
{
	return tz ? tz->name : "UTC";
}

int32_t tz_offset_at(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi;

	if (!tz)
		return 0;
	if (tz->ntimes == 0 || t < tz->times[0])
		return tz->ntimes == 0 && tz->has_rule ? rule_offset_at(&tz->rule, t) :
							 tz->offsets[0];
	if (t >= tz->times[tz->ntimes - 1] && tz->has_rule)
		return rule_offset_at(&tz->rule, t);
	/* The last transition at or before t. */
	hi = tz->ntimes;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->offsets[tz->types[lo]];
}

int tz_local_to_utc_exact(const struct tz *tz, int64_t local, int64_t *ret_utc)
{
	/* Real zones change offset at most once in two days, so the offsets
	 * a day before and after are the only candidates. */
	int32_t before = tz_offset_at(tz, local - 86400), after = tz_offset_at(tz, local + 86400);
	int64_t t1 = local - before, t2 = local - after;
	bool ok1 = tz_offset_at(tz, t1) == before, ok2 = tz_offset_at(tz, t2) == after;

	if (ok1 && ok2)
		*ret_utc = t1 < t2 ? t1 : t2;
	else if (ok1)
		*ret_utc = t1;
	else if (ok2)
		*ret_utc = t2;
	else
		return -ENOENT;
	return 0;
}

int64_t tz_local_to_utc(const struct tz *tz, int64_t local)
{
	int64_t utc;

	if (tz_local_to_utc_exact(tz, local, &utc) == 0)
		return utc;
	/* A gap: read with the offset before the change, which lands after
	 * the gap (02:30 in a 02:00→03:00 gap is 03:30). */
	return local - tz_offset_at(tz, local - 86400);
}
