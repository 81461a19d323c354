/*
 * fuzz_unit_word.c
 *    libFuzzer target: etl_catalog_unit_word() on any bytes, with the
 *    bundled catalog (config/catalog, relative to the directory the target
 *    runs in: the repository's top) loaded once.
 */
#include "tests/fuzz/fuzz.h"

#include "etl/ewc/catalog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct etl_catalog *cat;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct etl_err err;

    (void)argc;
    (void)argv;
    etl_err_clear(&err);
    cat = etl_catalog_load("config/catalog", &err);
    if (cat == NULL) {
        fprintf(stderr, "cannot load config/catalog: %s %s\n", err.where, err.msg);
        abort();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that a read past 'size' is caught */
    char *word = malloc(size > 0 ? size : 1);
    const struct etl_unit_word *w;

    if (word == NULL) {
        return 0;
    }
    memcpy(word, data, size);
    w = etl_catalog_unit_word(cat, word, size);
    if (w != NULL) {
        FUZZ_CHECK(etl_catalog_unit_word(cat, word, size) == w);
    }
    free(word);
    return 0;
}
