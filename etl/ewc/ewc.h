/*
 * ewc.h
 *    The East-West cooperation wing: the programme's statistical domain,
 *    kept apart from the engine.  The engine (etl/) moves bytes, rows and
 *    runs and knows nothing of regions or indicators; everything that is
 *    about the domain lives here:
 *
 *      catalog.*     regions, pair nicknames, indicators, units, unit words
 *                    and pairings, loaded from config/catalog/*.yaml
 *      row.*         the observation row and its batches
 *      num.*         values as written in the files (1.2万, 约300, —)
 *      period.*      periods as written in the files (2021年1-6月, 十三五)
 *      dimensions.*  the catalog into the warehouse's dimension tables
 *
 *    Stages (stages/) include these headers; stages/registry.c is where the
 *    engine meets the domain.  No file of etl/ outside this folder includes
 *    one.  A second domain would be a second wing beside this one and its
 *    YAML files.
 */
#ifndef ETL_EWC_H
#define ETL_EWC_H

#include "etl/ewc/catalog.h"
#include "etl/ewc/dimensions.h"
#include "etl/ewc/num.h"
#include "etl/ewc/period.h"
#include "etl/ewc/row.h"

#endif
