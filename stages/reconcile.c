/*
 * reconcile.c
 *    National rows against the sum of their province rows, while the rows
 *    stream; see reconcile.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

/* Sums are kept as 64-bit integers (48 bytes a group); the comparison
 * with the tolerance is done in 128 bits. */
typedef int64_t rc_int;
typedef __int128 rc_wide;

/* Largest scale (digits after the point) and digit count kept exactly. */
#define RC_MAX_DIGITS 18

/* Slots of the region cache (a prime: codes are multiples of 100). */
#define RC_REGION_CACHE 509

/*
 * Groups are kept in blocks that never move (no copy when they grow), at
 * most RC_MAX_GROUPS of them: 1 MiB, and the index of slots at most twice
 * as many entries (256 KiB).  A file with more indicator-periods than that
 * is reconciled by the database (as when inexact), so memory stays bounded
 * whatever the file.
 */
#define RC_BLOCK 2048
#define RC_MAX_GROUPS RECONCILE_MAX_GROUPS

/* 32 bytes */
struct rc_group {
    rc_int national, total;
    int32_t start, end;
    uint16_t indicator;         /* index in the catalog's indicators */
    uint16_t regions;
    uint8_t kind;
    uint8_t national_scale, total_scale;
    bool has_national;
};

_Static_assert(sizeof(struct rc_group) == 32, "a group is 32 bytes");
_Static_assert(RC_MAX_GROUPS % RC_BLOCK == 0, "the bound is whole blocks");

#define RC_G(rc, i) (&(rc)->blocks[(i) / RC_BLOCK][(i) % RC_BLOCK])

struct reconcile {
    const struct etl_catalog *cat;
    struct rc_group *blocks[RC_MAX_GROUPS / RC_BLOCK];
    size_t ngroups;
    uint32_t *slots;            /* group index + 1; 0 = empty */
    size_t nslots;              /* a power of two */
    bool inexact;
    /* the last indicator looked up, and the catalog's own code for it */
    const char *last_indicator;
    int last_index;             /* -1: not the catalog's */
    bool last_additive;
    /* regions looked up: a direct-mapped cache on the 6-digit code */
    struct { int32_t code; bool province; } regions[RC_REGION_CACHE];
};

struct reconcile *
reconcile_new(const struct etl_catalog *cat, struct etl_err *err)
{
    struct reconcile *rc = calloc(1, sizeof(*rc));

    if (rc == NULL) {
        etl_err_nomem(err);
        return NULL;
    }
    rc->cat = cat;
    return rc;
}

void
reconcile_free(struct reconcile *rc)
{
    if (rc == NULL) {
        return;
    }
    for (size_t b = 0; b < RC_MAX_GROUPS / RC_BLOCK; b++) {
        free(rc->blocks[b]);
    }
    free(rc->slots);
    free(rc);
}

void
reconcile_reset(struct reconcile *rc)
{
    rc->ngroups = 0;
    rc->inexact = false;
    if (rc->slots != NULL) {
        memset(rc->slots, 0, rc->nslots * sizeof(*rc->slots));
    }
}

bool
reconcile_exact(const struct reconcile *rc)
{
    return !rc->inexact;
}

bool
reconcile_any(const struct reconcile *rc)
{
    for (size_t i = 0; i < rc->ngroups; i++) {
        if (RC_G(rc, i)->has_national) {
            return true;
        }
    }
    return false;
}

/*
 * "-123.450" into *m = -123450, *scale = 3.  false for anything else than
 * an optional '-', digits, and an optional '.' with digits, or more digits
 * than a 64-bit integer holds.
 */
static bool
rc_parse(const char *s, rc_int *m, int *scale)
{
    bool neg = false, point = false, digits = false;
    int n = 0, sc = 0;
    rc_int v = 0;

    if (*s == '-') {
        neg = true;
        s++;
    }
    for (; *s != '\0'; s++) {
        if (*s == '.' && !point) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9') {
            return false;
        }
        digits = true;
        if (v != 0 || *s != '0') {
            n++;
        }
        if (n > RC_MAX_DIGITS || (point && sc >= RC_MAX_DIGITS)) {
            return false;
        }
        v = v * 10 + (*s - '0');
        sc += point;
    }
    if (!digits) {
        return false;
    }
    *m = neg ? -v : v;
    *scale = sc;
    return true;
}

/* *m times 10^k; false on overflow. */
static bool
rc_shift(rc_int *m, int k)
{
    rc_int v = *m;

    while (k-- > 0) {
        if (__builtin_mul_overflow(v, (rc_int)10, &v)) {
            return false;
        }
    }
    *m = v;
    return true;
}

/* a (scale *sa) += b (scale sb), at the larger scale; false on overflow. */
static bool
rc_add(rc_int *a, int *sa, rc_int b, int sb)
{
    if (sb > *sa) {
        if (!rc_shift(a, sb - *sa)) {
            return false;
        }
        *sa = sb;
    } else if (!rc_shift(&b, *sa - sb)) {
        return false;
    }
    return !__builtin_add_overflow(*a, b, a);
}

/* 'indicator' is the catalog's own code string: one pointer per indicator. */
static uint32_t
rc_hash(const char *indicator, enum etl_period_kind kind, int32_t start, int32_t end)
{
    uint64_t p = (uint64_t)(uintptr_t)indicator;
    uint32_t h = 2166136261u;

    h = (h ^ (uint32_t)(p >> 4)) * 16777619u;
    h = (h ^ (uint32_t)(p >> 36)) * 16777619u;
    h = (h ^ (uint32_t)kind) * 16777619u;
    h = (h ^ (uint32_t)start) * 16777619u;
    h = (h ^ (uint32_t)end) * 16777619u;
    return h ^ (h >> 15);
}

/* Double the slots (64 at first) and put the groups back. */
static bool
rc_grow(struct reconcile *rc)
{
    size_t n = rc->nslots != 0 ? rc->nslots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof(*slots));

    if (slots == NULL) {
        return false;
    }
    for (size_t g = 0; g < rc->ngroups; g++) {
        const struct rc_group *x = RC_G(rc, g);
        size_t i = rc_hash(rc->cat->indicators[x->indicator].code, x->kind, x->start, x->end) &
                   (n - 1);

        while (slots[i] != 0) {
            i = (i + 1) & (n - 1);
        }
        slots[i] = (uint32_t)(g + 1);
    }
    free(rc->slots);
    rc->slots = slots;
    rc->nslots = n;
    return true;
}

/*
 * The row's group (its indicator: 'index' in the catalog), made when new;
 * NULL when out of memory, or when there are RC_MAX_GROUPS already (then
 * the sums are marked inexact).
 */
static struct rc_group *
rc_group(struct reconcile *rc, const struct etl_row *r, int index)
{
    const char *code = rc->cat->indicators[index].code;
    uint32_t h = rc_hash(code, r->period.kind, r->period.start, r->period.end);
    struct rc_group *g;
    size_t i;

    /* at the bound the index has room for the probe, and grows no more */
    if (rc->ngroups < RC_MAX_GROUPS && (rc->ngroups + 1) * 2 > rc->nslots && !rc_grow(rc)) {
        return NULL;
    }
    for (i = h & (rc->nslots - 1); rc->slots[i] != 0; i = (i + 1) & (rc->nslots - 1)) {
        g = RC_G(rc, rc->slots[i] - 1);
        if (g->kind == r->period.kind && g->start == r->period.start &&
            g->end == r->period.end && g->indicator == index) {
            return g;
        }
    }
    if (rc->ngroups == RC_MAX_GROUPS) {
        rc->inexact = true;
        return NULL;
    }
    if (rc->blocks[rc->ngroups / RC_BLOCK] == NULL &&
        (rc->blocks[rc->ngroups / RC_BLOCK] = malloc(RC_BLOCK * sizeof(struct rc_group))) == NULL) {
        return NULL;
    }
    g = RC_G(rc, rc->ngroups);
    memset(g, 0, sizeof(*g));
    g->indicator = (uint16_t)index;
    g->kind = (uint8_t)r->period.kind;
    g->start = r->period.start;
    g->end = r->period.end;
    rc->slots[i] = (uint32_t)++rc->ngroups;
    return g;
}

/* Whether the row's indicator adds up over regions (the catalog's flag);
 * *index: its place in the catalog's indicators. */
static bool
rc_additive(struct reconcile *rc, const char *indicator, int *index)
{
    if (indicator != rc->last_indicator) {
        const struct etl_indicator *ind =
            etl_catalog_indicator_find(rc->cat, indicator, strlen(indicator));

        rc->last_indicator = indicator;
        rc->last_index = ind != NULL && ind - rc->cat->indicators <= UINT16_MAX
                         ? (int)(ind - rc->cat->indicators) : -1;
        rc->last_additive = rc->last_index >= 0 && ind->additive;
    }
    *index = rc->last_index;
    return rc->last_additive;
}

/* Whether the region code is a province's (the catalog's level). */
static bool
rc_province(struct reconcile *rc, const char *code)
{
    const struct etl_region *reg;
    bool province;
    int32_t n = 0;
    size_t i, slot = RC_REGION_CACHE;

    for (i = 0; i < 6 && code[i] >= '0' && code[i] <= '9'; i++) {
        n = n * 10 + (code[i] - '0');
    }
    if (i == 6 && code[6] == '\0') {
        slot = (size_t)n % RC_REGION_CACHE;
        if (rc->regions[slot].code == n + 1) {
            return rc->regions[slot].province;
        }
    }
    reg = etl_catalog_region_code(rc->cat, code);
    province = reg != NULL && strcmp(reg->level, "province") == 0;
    if (slot < RC_REGION_CACHE) {
        rc->regions[slot].code = n + 1;     /* 0: an empty slot */
        rc->regions[slot].province = province;
    }
    return province;
}

int
reconcile_add(struct reconcile *rc, const struct etl_row *r, struct etl_err *err)
{
    bool national;
    int index;
    struct rc_group *g;
    rc_int v;
    int scale;

    if (rc->inexact || r->partner[0] != '\0' || r->of_which || r->value[0] == '\0' ||
        r->indicator == NULL) {
        return 0;
    }
    national = strcmp(r->region, "000000") == 0;
    if ((!national && !rc_province(rc, r->region)) || !rc_additive(rc, r->indicator, &index)) {
        return 0;
    }
    if (!rc_parse(r->value, &v, &scale)) {
        rc->inexact = true;
        return 0;
    }
    if ((g = rc_group(rc, r, index)) == NULL) {
        return rc->inexact ? 0 : etl_err_nomem(err);
    }
    if (national) {
        /* one per group in a clean file; the smallest, as min() would */
        rc_int a = g->national, b = v;

        if (g->has_national && (!rc_shift(&a, scale > g->national_scale ? scale - g->national_scale
                                                                          : 0) ||
                                !rc_shift(&b, g->national_scale > scale ? g->national_scale - scale
                                                                          : 0))) {
            rc->inexact = true;
        } else if (!g->has_national || b < a) {
            g->national = v;
            g->national_scale = (uint8_t)scale;
            g->has_national = true;
        }
        return 0;
    }
    {
        int ts = g->total_scale;

        if (!rc_add(&g->total, &ts, v, scale)) {
            rc->inexact = true;
        }
        g->total_scale = (uint8_t)ts;
    }
    if (g->regions == UINT16_MAX) {
        rc->inexact = true;
    }
    g->regions++;
    return 0;
}

/* m at 'scale' as numeric prints it: "-12.50", "0.000". */
static void
rc_format(char *out, size_t size, rc_int m, int scale)
{
    char digits[64];
    size_t n = 0, o = 0;
    uint64_t u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;

    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    while (n < (size_t)scale + 1) {
        digits[n++] = '0';
    }
    if (m < 0 && o + 1 < size) {
        out[o++] = '-';
    }
    while (n > 0 && o + 2 < size) {
        out[o++] = digits[--n];
        if (n == (size_t)scale && n > 0) {
            out[o++] = '.';
        }
    }
    out[o] = '\0';
}

/* qsort_r's order of group indices: indicator, start, end. */
static int
rc_cmp(const void *a, const void *b, void *ctx)
{
    const struct reconcile *rc = ctx;
    const struct rc_group *x = RC_G(rc, *(const uint32_t *)a);
    const struct rc_group *y = RC_G(rc, *(const uint32_t *)b);
    int c = strcmp(rc->cat->indicators[x->indicator].code, rc->cat->indicators[y->indicator].code);

    if (c != 0) {
        return c;
    }
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Whether the group's national value and total differ beyond the
 * tolerance: |T - N| > greatest(|N| * ppm / 10^6, 1), all in integers.
 * -1 when the arithmetic would overflow.
 */
static int
rc_differs(const struct rc_group *g, int64_t ppm)
{
    rc_wide n = g->national, t = g->total, d, lhs, tol, one = 1000000;
    int s = g->national_scale > g->total_scale ? g->national_scale : g->total_scale;
    bool over = false;

    for (int k = g->national_scale; k < s; k++) {
        over |= __builtin_mul_overflow(n, (rc_wide)10, &n);
    }
    for (int k = g->total_scale; k < s; k++) {
        over |= __builtin_mul_overflow(t, (rc_wide)10, &t);
    }
    for (int k = 0; k < s; k++) {
        over |= __builtin_mul_overflow(one, (rc_wide)10, &one);
    }
    d = t - n;          /* both below 10^37: no overflow */
    d = d < 0 ? -d : d;
    n = n < 0 ? -n : n;
    over |= __builtin_mul_overflow(d, (rc_wide)1000000, &lhs);
    over |= __builtin_mul_overflow(n, (rc_wide)ppm, &tol);
    if (over) {
        return -1;
    }
    return lhs > (tol > one ? tol : one);
}

int
reconcile_each_difference(const struct reconcile *rc, int64_t tolerance_ppm,
                           int (*fn)(void *ctx, const struct reconcile_diff *d, struct etl_err *err),
                           void *ctx, struct etl_err *err)
{
    uint32_t *order = NULL;
    size_t k = 0;
    int ret = 0;

    if (rc->inexact) {
        return etl_err_set(err, ETL_E_INTERNAL, "reconciliation sums are not exact");
    }
    for (size_t i = 0; i < rc->ngroups; i++) {
        const struct rc_group *g = RC_G(rc, i);
        int differs;

        if (!g->has_national || g->regions == 0) {
            continue;
        }
        if ((differs = rc_differs(g, tolerance_ppm)) < 0) {
            free(order);
            return etl_err_set(err, ETL_E_INTERNAL, "reconciliation sums are not exact");
        }
        if (!differs) {
            continue;
        }
        if (order == NULL && (order = malloc(rc->ngroups * sizeof(*order))) == NULL) {
            return etl_err_nomem(err);
        }
        order[k++] = (uint32_t)i;
    }
    if (k > 1) {
        qsort_r(order, k, sizeof(*order), rc_cmp, (void *)rc);
    }
    for (size_t i = 0; i < k && ret == 0; i++) {
        const struct rc_group *g = RC_G(rc, order[i]);
        struct reconcile_diff d = {
            .indicator = rc->cat->indicators[g->indicator].code,
            .start = g->start, .end = g->end,
            .kind = (enum etl_period_kind)g->kind, .regions = g->regions,
        };

        rc_format(d.national, sizeof(d.national), g->national, g->national_scale);
        rc_format(d.total, sizeof(d.total), g->total, g->total_scale);
        ret = fn(ctx, &d, err);
    }
    free(order);
    return ret;
}
