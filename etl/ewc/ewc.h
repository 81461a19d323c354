/*
 * ewc.h
 *    The East-West cooperation wing: the programme's statistical domain,
 *    kept apart from the engine.  The engine (etl/) moves bytes, rows and
 *    runs and knows nothing of regions or indicators; everything that is
 *    about the domain lives here:
 *
 *      catalog.*     regions, pair nicknames, indicators, units, unit words
 *                    and pairings, loaded from the YAML files of config/catalog
 *      row.*         the observation row and its batches
 *      num.*         values as written in the files (1.2万, 约300, —)
 *      period.*      periods as written in the files (2021年1-6月, 十三五)
 *      dimensions.*  the catalog into the warehouse's dimension tables
 *      ewc.c         the catalog as a named resource of the configuration
 *                    (etl/resource.h) and the stages' lookup of it
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
#include "etl/resource.h"
#include "etl/stage.h"

/* The name the catalog resource is kept and looked up by. */
#define ETL_CATALOG_RESOURCE "catalog"

/*
 * The catalog as a resource kind: the top-level YAML key "catalog" (a
 * directory, relative to the YAML file), loaded with etl_catalog_load(),
 * synced into the dimension tables by etl_migrate_catalog().
 */
extern const struct etl_resource_kind etl_resource_catalog;

/* The catalog of the configuration stage 'st' belongs to, or NULL. */
const struct etl_catalog *etl_stage_catalog(const struct etl_stage *st);

#endif
