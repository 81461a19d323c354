/*
 * date.c
 *    Civil dates: leap years, month lengths, day numbers, yyyymmdd parsing,
 *    month arithmetic and ISO formatting.  See date.h.
 */
#include "date.h"

#include <string.h>

bool
etl_date_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
etl_date_days_in_month(int64_t y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return (m == 2 && etl_date_is_leap(y)) ? 29 : dim[m - 1];
}

/* The era (400-year cycle) arithmetic: H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms".  The year starts on March 1st so that the
 * leap day is the last day of a year. */
int64_t
etl_date_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
etl_date_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int
etl_date_weekday(int64_t z)
{
    return (int)(((z % 7) + 11) % 7);
}

/* yyyymmdd of y-m-d. */
static int32_t
ymd(int y, int m, int d)
{
    return (int32_t)(y * 10000 + m * 100 + d);
}

int
etl_date_parse(const char *s, int32_t *out)
{
    size_t n = strlen(s);
    int v[8], k = 0, y, m, d;

    if (n != 8 && n != 10) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (n == 10 && (i == 4 || i == 7)) {
            if (s[i] != '-') {
                return -1;
            }
        } else if (s[i] >= '0' && s[i] <= '9') {
            v[k++] = s[i] - '0';
        } else {
            return -1;
        }
    }
    y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    m = v[4] * 10 + v[5];
    d = v[6] * 10 + v[7];
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > etl_date_days_in_month(y, m)) {
        return -1;
    }
    *out = ymd(y, m, d);
    return 0;
}

int32_t
etl_date_add_months(int32_t date, int months)
{
    int y = date / 10000, m = date / 100 % 100, d = date % 100;
    int t = y * 12 + (m - 1) + months;

    y = t / 12;
    m = t % 12 + 1;
    if (d > etl_date_days_in_month(y, m)) {
        d = etl_date_days_in_month(y, m);
    }
    return ymd(y, m, d);
}

void
etl_date_format(char out[11], int32_t date)
{
    static const int pos[8] = { 0, 1, 2, 3, 5, 6, 8, 9 };
    unsigned v = date > 0 ? (unsigned)date : 0;

    for (int i = 7; i >= 0; i--) {
        out[pos[i]] = (char)('0' + v % 10);
        v /= 10;
    }
    out[4] = out[7] = '-';
    out[10] = '\0';
}
