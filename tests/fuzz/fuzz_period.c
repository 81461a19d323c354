/*
 * fuzz_period.c
 *    libFuzzer target: etl_period_parse() on any text, without and with an
 *    as-of date.  Checks that a period is a non-empty range of valid dates
 *    (yyyymmdd; the end of 9999 is 10000-01-01) and that an error has a
 *    message and clears the period.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/date.h"
#include "etl/ewc/period.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether yyyymmdd 'v' is a date of years 1 to 10000. */
static int
valid_date(int32_t v)
{
    int y = v / 10000, m = v / 100 % 100, d = v % 100;

    return v > 0 && y >= 1 && y <= 10000 && m >= 1 && m <= 12 && d >= 1 &&
           d <= etl_date_days_in_month(y, m);
}

static void
one(const char *text, int32_t as_of)
{
    struct etl_period p;
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_period_parse(text, as_of, &p, &err) < 0) {
        FUZZ_CHECK(err.code == ETL_E_DATA && err.msg[0] != '\0');
        FUZZ_CHECK(p.kind == ETL_PERIOD_NONE);
        return;
    }
    FUZZ_CHECK(p.kind != ETL_PERIOD_NONE);
    FUZZ_CHECK(valid_date(p.start) && valid_date(p.end));
    FUZZ_CHECK(p.start < p.end);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);

    if (text == NULL) {
        return 0;
    }
    one(text, 0);
    one(text, 20220801);
    free(text);
    return 0;
}
