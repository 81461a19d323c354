/*
 * plausible.h
 *    Is a file's order of magnitude plausible?  A unit lost on the way (a
 *    column in 万元 read as yuan) makes every figure of a file 10,000 times
 *    too small and breaks no rule a row can check; the file as a whole
 *    shows it.  The catalog gives each indicator the plausible national
 *    figure of a year (etl_indicator.magnitude); the load stage adds each
 *    row it loads here and, at the end of the file, refuses it when the
 *    geometric mean of an indicator's figures lies PLAUSIBLE_LOG10 powers
 *    of ten or more from the middle of their ranges:
 *
 *        values of investment_in_place look about 10000× too small for
 *        their periods and regions (2 figures): unit?
 *
 *    The range of a figure is the year's, scaled to its period (a half
 *    year: the low end halved; five years: the high end five times), and
 *    its middle lowered for its region's level (a province's is a
 *    thirtieth of the nation's, a prefecture's a thousandth).  N is the
 *    power of ten that brings the geometric mean to the middle.  Rough on
 *    purpose: it catches a lost 万 or 亿, not a wrong digit.
 *
 *    Cost: per row one region lookup and a log10; per file nothing grows
 *    (a few counters per indicator of the catalog).
 *
 *    Next door: load.c calls it (after validate: only the rows that load
 *    count); etl/ewc/catalog.h holds the ranges.
 */
#ifndef STAGES_PLAUSIBLE_H
#define STAGES_PLAUSIBLE_H

#include <stddef.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/row.h"
#include "etl/stage.h"

/*
 * How far (a power of ten) the figures' geometric mean must lie from the
 * middle of their range to refuse the file: the catalog's ranges span two
 * or three powers of ten, so right figures stay within about 1.5 of the
 * middle, and a lost 万 (4) or 亿 (8) lands beyond; a lone odd figure of a
 * small file (a test's "5 enterprises") is not refused for less than 1000×.
 */
#define PLAUSIBLE_LOG10 3.0

struct plausible;

/* Counters for the indicators of 'cat'; NULL with ETL_E_NOMEM. */
struct plausible *plausible_new(const struct etl_catalog *cat, struct etl_err *err);
void plausible_free(struct plausible *pl);

/* A new file: forget the counts. */
void plausible_reset(struct plausible *pl);

/* Count one normalized row (not rejected, with a value) of a file. */
void plausible_add(struct plausible *pl, const struct etl_row *row);

/*
 * The end of the file: refuse it (etl_verdict_refuse) for the first
 * indicator, in catalog order, whose figures are mostly implausible.
 */
void plausible_verdict(const struct plausible *pl, struct etl_verdict *v);

#endif
