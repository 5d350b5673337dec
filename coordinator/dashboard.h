/*
 * The coordinator's dashboard (docs/operations.md, "Dashboard"): the page
 * and its scripts, kept as files in coordinator/dashboard/ and embedded
 * into the binary at build time (cmake/embed_files.cmake generates
 * dashboard_assets.c), and the job graph JSON the page draws.
 *
 * Pure lookups and renderers; the graph is rendered on the event loop
 * from the state it owns, like every /api/ answer.
 */
#ifndef WEIR_COORDINATOR_DASHBOARD_H
#define WEIR_COORDINATOR_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

typedef struct weir_dashboard_asset {
    const char *path; /* "/", "/dashboard/app.js", ... */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t size;
} weir_dashboard_asset;

/* The embedded file served at path (its query string already cut off),
 * or NULL. */
const weir_dashboard_asset *weir_dashboard_asset_find(const char *path);

/*
 * Parses "/api/jobs/JOB/graph": 1 and the job name in job (at most
 * joblen - 1 bytes); 0 when path has another shape (not this route); -1
 * when it is this route with a malformed name (empty, too long, or a byte
 * outside a job name's letters, digits, '.', '_', '-').
 */
int weir_dashboard_graph_path(const char *path, char *job, size_t joblen);

/*
 * The graph of a job's topology as JSON (common/job/job_graph.h, the
 * same graph `weirctl topology --dot` draws), malloc'd; *status 200, or
 * 404 with an error body for an unknown job; NULL when out of memory.
 */
char *weir_dashboard_graph_json(
    const weir_cluster *cl, const char *job, uint16_t *status);

#endif
