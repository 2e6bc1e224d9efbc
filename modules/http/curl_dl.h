/* SPDX-License-Identifier: MIT */
/*
 * libcurl loaded on first use (curl_dl.c): the curl_*() functions work as
 * documented once it is loaded, and fail as libcurl reports failure when it
 * cannot be.
 */
#pragma once

/* Loads libcurl if that was not tried yet; 0 when it is loaded, -ELIBACC
 * (or -ELIBBAD for a library without a function scenariod calls) when it
 * cannot be, with the reason in curl_dl_error(). */
int curl_dl_load(void);
/* Why libcurl could not be loaded (borrowed, static). */
const char *curl_dl_error(void);
