/*
 * dimensions.h
 *    The catalog written into the warehouse's dimension tables at migrate
 *    time (the catalog resource's sync hook, etl/ewc/resource.c).
 */
#ifndef ETL_EWC_DIMENSIONS_H
#define ETL_EWC_DIMENSIONS_H

#include "etl/err.h"
#include "etl/pg.h"

struct etl_catalog;

/* Replace the dimension tables' rows with the catalog's, in one transaction. */
int etl_migrate_catalog(struct pg_conn *db, const struct etl_catalog *cat,
                        struct etl_err *err) ETL_MUSTCHECK;

#endif
