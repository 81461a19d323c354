/*
 * fuzz_num.c
 *    libFuzzer target: etl_num_parse() on any text, then etl_num_shift(),
 *    etl_num_sign() and etl_num_cmp() on what it gives.  Checks that an
 *    error has a message, that the value is a normalized decimal and that
 *    the unit word lies inside the text.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/ewc/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char v[ETL_VALUE_MAX];
    struct etl_num n;
    struct etl_err err;

    if (text == NULL) {
        return 0;
    }
    etl_err_clear(&err);
    if (etl_num_parse(text, &n, &err) < 0) {
        FUZZ_CHECK(err.code == ETL_E_DATA && err.msg[0] != '\0');
    } else {
        FUZZ_CHECK(strlen(n.value) < sizeof(n.value));
        FUZZ_CHECK(n.unit_len == 0 ||
                   (n.unit >= text && n.unit + n.unit_len <= text + size));
        if (n.value[0] != '\0') {
            FUZZ_CHECK(etl_num_cmp(n.value, n.value) == 0);
            strcpy(v, n.value);
            etl_err_clear(&err);
            if (etl_num_shift(v, sizeof(v), size > 0 ? (int)(data[0] % 40) - 20 : 0,
                              &err) == 0) {
                (void)etl_num_sign(v);
                (void)etl_num_cmp(v, n.value);
            }
        }
        /* the decimal text reads back as a configuration number */
        if (n.value[0] != '\0') {
            FUZZ_CHECK(etl_num_decimal(n.value, v, sizeof(v)) == 0);
            FUZZ_CHECK(strcmp(v, n.value) == 0);
        }
    }
    free(text);
    return 0;
}
