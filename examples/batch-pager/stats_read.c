/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stats_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double stats_json_num(const char *file, const char *key)
{
	static char buf[1 << 16];
	char pat[96], *s;
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	s = strstr(buf, pat);
	if (!s)
		return -1;
	s += strlen(pat);
	if (!strncmp(s, "null", 4))
		return -1;
	return strtod(s, NULL);
}
