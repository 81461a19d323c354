/*
 * catalog.h
 *    The catalogs: regions (GB/T 2260, with validity periods and successor
 *    codes), pair nicknames, indicators, units and unit words, and the
 *    east-west pairings of each stage.  Loaded once from the four YAML files
 *    of config/catalog/ (regions.yaml, indicators.yaml, units.yaml,
 *    pairings.yaml) and read-only afterwards, so several file workers may
 *    share one catalog without locks.
 *
 *    The public arrays are what `ewc-etl migrate` writes to the dimension
 *    tables; the lookups are what normalize and validate call per row.
 *    Every lookup is a hash lookup over the catalog's own strings: no
 *    allocation, O(1) expected.  Names are compared exactly, except that
 *    ASCII letters compare case-insensitively (Beijing, beijing); the
 *    folded indicator lookup and the suggestions of catalog_match.c are for
 *    names as people write them (新增引导企业数量).
 *
 *    Next door: num.c (values), period.c (periods), stages/normalize.c.
 */
#ifndef ETL_CATALOG_H
#define ETL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etl/err.h"

struct etl_hash;
struct etl_catalog_match;

/* A region valid on [valid_from, valid_to) (yyyymmdd, 0 = open). */
struct etl_region {
    char code[8];               /* "450000" */
    char *name_zh;              /* 广西壮族自治区 */
    char *short_zh;             /* 广西 (the official name when none is given) */
    char *name_en;              /* Guangxi */
    char *abbrev;               /* 桂; NULL when none (nation, prefectures) */
    const char *level;          /* "nation", "province", "prefecture" */
    char parent[8];             /* province of a prefecture, "000000" for a
                                   province, "" for the nation */
    const char *zone;           /* "east", "central", "west", "northeast";
                                   NULL for the nation */
    int32_t valid_from, valid_to;
    char successor[8];          /* code that replaced it, "" if none */
    /* additions */
    char **alternates;          /* other accepted names (蜀, 内蒙, Tibet) */
    size_t nalternates;
    const struct etl_region *province;  /* itself for a province, its
                                           province for a prefecture, NULL
                                           for the nation */
    const struct etl_region *next;      /* the successor's entry, or NULL */
    const struct etl_region *prev;      /* the region it succeeded, or NULL */
};

struct etl_unit {
    char *code, *name_zh, *name_en, *kind;
    bool generic;               /* its words fit every unit of its kind (个) */
};

struct etl_indicator {
    char *code, *name_zh, *name_en, *unit;
    bool additive;
    /* additions */
    const struct etl_unit *unit_def;    /* the unit 'unit' names */
    char *of_which;             /* code of the indicator it is a sub-item of, or NULL */
    char **aliases;
    size_t naliases;
    /*
     * The plausible national figure of one year, in the canonical unit:
     * [magnitude[0], magnitude[1]]; both 0 when the catalog gives none.
     * Approximate by nature (doubles): it tells a figure 10,000 times too
     * small from a right one, nothing finer (stages/plausible.c).
     */
    double magnitude[2];
    /*
     * The years for which an annual national figure is expected:
     * [years[0], years[1]], in 1990..2100; both 0 when the catalog gives
     * none; years[1] 0 for "[first]", through the latest year with any
     * figure in the warehouse (warehouse.indicator.years_from, years_to;
     * the analysts' coverage view marks the missing ones).
     */
    int years[2];
};

/* A word of the unit column or after a number: 亿元 = CNY x 10^8. */
#define ETL_WORD_UNITS 4
struct etl_unit_word {
    char *word;
    int pow10;
    const struct etl_unit *units[ETL_WORD_UNITS];  /* first = default */
    size_t nunits;
};

struct etl_pairing {
    char east[8], west[8];
    const char *level;          /* "province" or "city" */
    int32_t valid_from, valid_to;
    char *stage;                /* "2016-2020", "2021-" */
    char key[16];               /* private: east and west codes */
};

/* 京蒙 = (北京, 内蒙古). */
struct etl_nickname {
    char *name;
    const struct etl_region *east, *west;
};

struct etl_catalog {
    struct etl_region *regions;
    size_t nregions;
    struct etl_indicator *indicators;
    size_t nindicators;
    struct etl_unit *units;
    size_t nunits;
    struct etl_pairing *pairings;
    size_t npairings;
    /* additions */
    struct etl_unit_word *words;
    size_t nwords;
    struct etl_nickname *nicknames;
    size_t nnicknames;
    /* private hash tables */
    struct etl_hash *region_names;      /* every name and code -> region */
    struct etl_hash *region_codes;      /* code -> region */
    struct etl_hash *nickname_names;
    struct etl_hash *indicator_names;   /* code, names, aliases -> indicator */
    struct etl_hash *unit_codes;
    struct etl_hash *word_names;
    struct etl_hash *pairing_keys;      /* east+west codes -> pairing */
    struct etl_catalog_match *match;    /* folded indicator names (catalog_match.c) */
};

/*
 * Read units.yaml, indicators.yaml, regions.yaml and pairings.yaml from
 * 'dir'.  Returns a catalog the caller frees with etl_catalog_free(), or
 * NULL with 'err' set: ETL_E_IO (cannot read), ETL_E_CONFIG with 'where' =
 * "file:line:col" for unknown keys, wrong types, bad codes or dates, unknown
 * unit/region references and names that already name something else.
 */
struct etl_catalog *etl_catalog_load(const char *dir, struct etl_err *err) ETL_MUSTCHECK;
void etl_catalog_free(struct etl_catalog *c);

/*
 * A region by code, official, short or English name, abbreviation or
 * alternate ('name' of 'len' bytes, need not be NUL-terminated; surrounding
 * white space is not trimmed).  'date' (yyyymmdd, 0 = now) picks among
 * regions sharing a name and maps codes: an old code or name used after its
 * valid_to gives its successor (522200 at 2015 -> 520600), a new one used
 * before its valid_from gives its predecessor.  NULL when unknown.
 */
const struct etl_region *etl_catalog_region(const struct etl_catalog *c, const char *name,
                                            size_t len, int32_t date);
/* The region of exactly this code, no mapping; NULL when unknown. */
const struct etl_region *etl_catalog_region_code(const struct etl_catalog *c, const char *code);
/* A pair nickname (京蒙, 川浙); NULL when unknown. */
const struct etl_nickname *etl_catalog_nickname(const struct etl_catalog *c, const char *name,
                                                size_t len);

/* An indicator by code, name_zh, name_en or alias; NULL when unknown. */
const struct etl_indicator *etl_catalog_indicator_find(const struct etl_catalog *c,
                                                       const char *name, size_t len);
/*
 * An indicator by name as found in a file: as etl_catalog_indicator_find on
 * the whole text, else, when the text ends with a bracketed part ("(亿元)" or
 * "（亿元）"), on the text before it, with the bracketed word (trimmed) in
 * *unit / *unit_len (pointing into 'text').  *unit is NULL when there is
 * none.  NULL when unknown.
 */
const struct etl_indicator *etl_catalog_indicator(const struct etl_catalog *c, const char *text,
                                                  const char **unit, size_t *unit_len);

/*
 * Indicator names as people write them (catalog_match.c).  For the
 * non-strict lookup, tried only when the exact ones above fail.
 *
 * The fold of text [text, text + len) into out[size], NUL-terminated:
 *   - blanks dropped; full-width ASCII forms as ASCII, ASCII letters in
 *     lower case;
 *   - a bracketed unit word, (亿元) or （家）, dropped, and handed back in
 *     *unit / *unit_len (pointing into 'text'; NULL when none, or when
 *     'unit' is NULL); other brackets dropped, their content kept;
 *   - the qualifiers 党政, 挂职, 选派 dropped wherever they are; 人才 read
 *     as 人员;
 *   - the prefixes 新增, 累计, 实际, 共, 全年, 当年, 年度 and the suffixes
 *     人数, 数量, 总数, 总额, 金额, 个数, 数, 规模 dropped, repeatedly, as
 *     long as something is left (资金额 loses its 额 only: 资金 stays).
 * Returns the length of the fold; 0 (out "") when nothing is left, the fold
 * does not fit 'size', or two bracketed units are given.  No allocation.
 */
size_t etl_catalog_indicator_fold(const struct etl_catalog *c, const char *text, size_t len,
                                  char *out, size_t size, const char **unit, size_t *unit_len);
/*
 * The indicator whose code, names or aliases, folded the same way, equal
 * the fold of 'text' (need not be NUL-terminated): 新增引导企业数量（家） ->
 * enterprises_guided, with 家 in *unit / *unit_len (pointing into 'text',
 * NULL when none).  NULL when no indicator or more than one has that fold
 * (never a guess), or when the text is longer than 255 bytes.  A hash
 * lookup on a fold made on the stack: O(length), no allocation.
 */
const struct etl_indicator *etl_catalog_indicator_folded(const struct etl_catalog *c,
                                                         const char *text, size_t len,
                                                         const char **unit,
                                                         size_t *unit_len);
/*
 * The catalog entries nearest to an unknown indicator name, for a reject
 * reason: "enterprises_guided (引导企业到西部投资)", or several joined by
 * " or ", written NUL-terminated into out[size] (whole entries only).  The
 * nearest are those at the least edit distance (code points) between the
 * fold of 'text' and a fold of their names, if that distance is at most a
 * third of the longer fold (at least 1) and below the length of the
 * shorter; ties are all given, up to 3.  Returns the length written, 0 when
 * nothing is near.  O(catalog names x name length^2), no allocation: for
 * rejected rows only.
 */
size_t etl_catalog_indicator_suggest(const struct etl_catalog *c, const char *text, char *out,
                                     size_t size);

/*
 * Between catalog.c and catalog_match.c: fold and index every indicator
 * name once the indicators and units are loaded (ETL_E_NOMEM on failure,
 * what was built is freed by etl_catalog_match_free), and free that index
 * (NULL index is fine).
 */
int etl_catalog_match_index(struct etl_catalog *c, struct etl_err *err) ETL_MUSTCHECK;
void etl_catalog_match_free(struct etl_catalog *c);

/* A canonical unit by code ("CNY"); NULL when unknown. */
const struct etl_unit *etl_catalog_unit(const struct etl_catalog *c, const char *code);
/* A unit word (亿元, 人次, %, CNY); NULL when unknown. */
const struct etl_unit_word *etl_catalog_unit_word(const struct etl_catalog *c, const char *word,
                                                  size_t len);
/*
 * Whether values written with word 'w' can be stored in unit 'u': 'u' is one
 * of the word's units, or the word's unit is generic and of u's kind (个 for
 * parks).
 */
bool etl_catalog_unit_fits(const struct etl_unit_word *w, const struct etl_unit *u);

/*
 * The pairing of exactly (east, west) (codes) valid at some time in
 * [start, end); NULL when none.
 */
const struct etl_pairing *etl_catalog_pairing(const struct etl_catalog *c, const char *east,
                                              const char *west, int32_t start, int32_t end);
/*
 * Whether regions a and b (codes, in either order) form a pairing during
 * [start, end): their own pair, or a pair of one or both of their provinces
 * (苏州-铜仁, 江苏-海东, or 江苏-陕西 for a prefecture of each).  Returns the
 * pairing found, or NULL.
 */
const struct etl_pairing *etl_catalog_paired(const struct etl_catalog *c, const char *a,
                                             const char *b, int32_t start, int32_t end);

#endif
