/*
 * period.h
 *    Period texts of indicator files into half-open date ranges
 *    (struct etl_period of row.h): years, halves, quarters, months,
 *    cumulative months, multi-year ranges, five-year plans (十三五) and SDMX
 *    durations (2016-01-01/P5Y).  Dates are yyyymmdd integers.
 *
 *    Next door: num.c parses values, stages/normalize.c calls both.
 */
#ifndef ETL_PERIOD_H
#define ETL_PERIOD_H

#include <stdint.h>

#include "etl/date.h"
#include "etl/err.h"
#include "row.h"

/* Longest period text accepted (bytes); longer is an invalid period. */
#define ETL_PERIOD_TEXT_MAX 120

/*
 * Parse a period text.  Full-width digits and dashes are folded first; white
 * space and quotes (“” "" 《》) around or inside are ignored.  Forms:
 *   2021, 2021年, 2021年度, 2021年全年, ２０２１年  year
 *   2022年上半年 / 下半年, 2022H1, 2022-S1, 2022-H2  half
 *   2021年第三季度, 2021年3季度, 2021Q3, 2021-Q3    quarter
 *   2021年6月, 2021-06, 2021-M06                     month
 *   2021年1-7月, 2021年1—7月, 2021年前三季度         months (cumulative)
 *   1996—2011, 1996年至2011年, 2012-2020年           range [1996, 2012)
 *   十二五, “十三五”时期, 十四五期间                  range of the plan
 *   2016-01-01/P5Y, 2021-07-01/P6M                   SDMX start/duration
 *   2012年以来, 2012年至今, 自2012年以来            range to the as-of year
 * Relative texts (今年, 去年, 上半年, 1-7月, 一年多来, 近三年) use 'as_of'
 * (yyyymmdd, 0 = none): 今年上半年 is as_of's year; "N年来"/"一年多来" is
 * [as_of - N years, as_of); "2012年以来" is [2012, as_of's year + 1), a range
 * even when it starts in the as-of year (a part of the year, not the year).
 *
 * Returns 0, or -1 with ETL_E_DATA: 'invalid period "x"', 'relative period
 * "今年" needs the file's as-of date', 'invalid month 13 in period "x"' (the
 * month as written: 13, 00, 十三), 'period "x" ends before it starts'.  No
 * allocation.
 */
int etl_period_parse(const char *text, int32_t as_of, struct etl_period *out,
                     struct etl_err *err) ETL_MUSTCHECK;

#endif
