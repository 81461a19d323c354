/*
 * date.h
 *    Civil-date arithmetic in the proleptic Gregorian calendar: leap years,
 *    month lengths, day numbers (days since 1970-01-01, Howard Hinnant's
 *    days_from_civil / civil_from_days), and the yyyymmdd integers the
 *    catalog, the periods and the load stage use (20220801), parsed from and
 *    formatted as ISO "2022-08-01".  Pure functions: no time zones, no
 *    allocation, no errors beyond a -1 from the parser.
 *
 *    Next door: period.c (period texts into date ranges), cron.c (wall
 *    clock times in a time zone).
 */
#ifndef ETL_DATE_H
#define ETL_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* Whether year y is a leap year (y may be zero or negative: 0 is one). */
bool etl_date_is_leap(int64_t y);

/* Days in month m (1-12) of year y: 28 to 31. */
int etl_date_days_in_month(int64_t y, int m);

/*
 * The day number of y-m-d (m 1-12, d 1-31; d past the month's end counts
 * on into the next): days since 1970-01-01, negative before it.  Exact for
 * every year whose day number fits in int64_t less a margin, i.e. |y| up to
 * about 2.5e16.  O(1).
 */
int64_t etl_date_days_from_civil(int64_t y, int m, int d);

/* The y-m-d of day number z (the inverse of etl_date_days_from_civil). */
void etl_date_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/* Day of the week of day number z, Sunday 0 (1970-01-01 was a Thursday, 4). */
int etl_date_weekday(int64_t z);

/*
 * A date "2022-08-01" (or "20220801") into 20220801; -1 if it is not a
 * valid calendar date of the years 1000 to 9999 (no error struct: callers
 * name the key).
 */
int etl_date_parse(const char *text, int32_t *out);

/* yyyymmdd plus 'months' months (negative: back); the day is kept, but cut
 * to the last day of the month it lands in (20240131 + 1 = 20240229). */
int32_t etl_date_add_months(int32_t ymd, int months);

/*
 * yyyymmdd as ISO "yyyy-mm-dd" into out[11] (always NUL-terminated).  The
 * low eight decimal digits are written, so 0 or a negative value gives
 * "0000-00-00", what the load stage writes for an open period end.
 */
void etl_date_format(char out[11], int32_t ymd);

#endif
