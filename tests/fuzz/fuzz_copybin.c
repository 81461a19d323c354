/*
 * fuzz_copybin.c
 *    libFuzzer target: etl_copybin_numeric_n() on any bytes.  A refused
 *    text must leave the buffer as it was and say why; an accepted one must
 *    decode, as the server's numeric_out would print it, to the text itself
 *    less its leading zeros and the sign of a zero, its digits in base
 *    10000 with no zero digit at either end.  The first four bytes also go
 *    through etl_copybin_date_ymd() as a yyyymmdd, which must give back the
 *    same date or refuse it.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/copybin.h"
#include "etl/date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned
get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The numeric's text as numeric_out (get_str_from_var) prints it. */
static void
numeric_text(const unsigned char *p, char *out)
{
    unsigned nd = get16(p), dscale = get16(p + 6);
    int weight = (int16_t)get16(p + 2);
    const unsigned char *d = p + 8;
    char *o = out;

    if (get16(p + 4) == 0x4000) {
        *o++ = '-';
    }
    if (weight < 0) {
        *o++ = '0';
    }
    for (int i = 0; i <= weight; i++) {
        unsigned v = (unsigned)i < nd ? get16(d + 2 * i) : 0;

        o += sprintf(o, i == 0 ? "%u" : "%04u", v);
    }
    if (dscale > 0) {
        char *point = o;

        *o++ = '.';
        for (int i = weight + 1; o - point - 1 < (int)dscale; i++) {
            unsigned v = i >= 0 && (unsigned)i < nd ? get16(d + 2 * i) : 0;

            o += sprintf(o, "%04u", v);
        }
        o = point + 1 + dscale;     /* cut to the scale */
    }
    *o = '\0';
}

/* The text the server prints back for an accepted one. */
static void
canonical(const char *s, size_t n, char *out)
{
    const char *p = s, *e = s + n;
    bool neg = false, nonzero = false;

    if (p < e && *p == '-') {
        neg = true;
        p++;
    }
    for (const char *q = p; q < e; q++) {
        nonzero |= *q >= '1' && *q <= '9';
    }
    if (neg && nonzero) {
        *out++ = '-';
    }
    while (p + 1 < e && p[0] == '0' && p[1] != '.') {
        p++;
    }
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char got[4 * ETL_COPYBIN_NUMERIC_MAX], want[ETL_COPYBIN_NUMERIC_MAX + 2];
    struct etl_buf b;
    struct etl_err err;
    const unsigned char *p;
    char *text = fuzz_string(data, size);

    if (text == NULL) {
        return 0;
    }
    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    FUZZ_CHECK(etl_buf_add(&b, "xy", 2, &err) == 0);
    if (etl_copybin_numeric_n(&b, text, size, &err) < 0) {
        FUZZ_CHECK(err.code == ETL_E_DATA && err.msg[0] != '\0');
        FUZZ_CHECK(b.len == 2 && memcmp(b.data, "xy", 3) == 0);
    } else {
        unsigned nd;

        p = (const unsigned char *)b.data + 2;
        nd = get16(p + 4);
        FUZZ_CHECK(size <= ETL_COPYBIN_NUMERIC_MAX);
        FUZZ_CHECK(b.len == 2 + 4 + 8 + 2 * nd && get32(p) == 8 + 2 * nd);
        FUZZ_CHECK(get16(p + 8) == 0 || get16(p + 8) == 0x4000);
        for (unsigned i = 0; i < nd; i++) {
            FUZZ_CHECK(get16(p + 12 + 2 * i) < 10000);
        }
        FUZZ_CHECK(nd == 0 || (get16(p + 12) != 0 && get16(p + 12 + 2 * (nd - 1)) != 0));
        FUZZ_CHECK(nd > 0 || (get16(p + 6) == 0 && get16(p + 8) == 0));
        numeric_text(p + 4, got);
        canonical(text, size, want);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "numeric \"%s\" decodes to \"%s\"\n", want, got);
            FUZZ_CHECK(strcmp(got, want) == 0);
        }
    }

    if (size >= 4) {
        int32_t ymd = (int32_t)get32(data);

        etl_buf_reset(&b);
        etl_err_clear(&err);
        if (etl_copybin_date_ymd(&b, ymd, &err) < 0) {
            FUZZ_CHECK(err.code == ETL_E_DATA && b.len == 0);
        } else {
            int64_t y;
            int m, d;

            p = (const unsigned char *)b.data;
            FUZZ_CHECK(b.len == 8 && get32(p) == 4);
            etl_date_civil_from_days((int64_t)(int32_t)get32(p + 4) + 10957, &y, &m, &d);
            FUZZ_CHECK(y * 10000 + m * 100 + d == ymd);
        }
    }
    etl_buf_free(&b);
    free(text);
    return 0;
}
