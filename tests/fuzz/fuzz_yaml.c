/*
 * fuzz_yaml.c
 *    libFuzzer target: the YAML loader (etl/config.h, etl_doc_parse()) on
 *    any text.  Checks that a refusal has a message and a location.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: the loader is given a length, not a string */
    char *text = malloc(size > 0 ? size : 1);
    struct etl_doc *doc;
    struct etl_err err;

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    etl_err_clear(&err);
    doc = etl_doc_parse("fuzz.yaml", text, size, &err);
    if (doc == NULL) {
        FUZZ_CHECK(err.code != ETL_E_NONE && err.msg[0] != '\0');
    }
    etl_doc_free(doc);
    free(text);
    return 0;
}
