/* The dashboard's routes (dashboard.h): embedded files and the job graph. */
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/job/job_graph.h"
#include "common/json_str.h"

/* Generated from coordinator/dashboard/ (dashboard_assets.c). */
extern const weir_dashboard_asset weir_dashboard_assets[];
extern const size_t weir_dashboard_n_assets;

const weir_dashboard_asset *
weir_dashboard_asset_find(const char *path)
{
    for (size_t i = 0; i < weir_dashboard_n_assets; i++)
        if (strcmp(weir_dashboard_assets[i].path, path) == 0)
            return &weir_dashboard_assets[i];
    return NULL;
}

int
weir_dashboard_graph_path(const char *path, char *job, size_t joblen)
{
    static const char pre[] = "/api/jobs/", post[] = "/graph";
    size_t n = strlen(path), lp = sizeof(pre) - 1, ls = sizeof(post) - 1;
    if (n < lp + ls || strncmp(path, pre, lp) != 0 ||
        strcmp(path + n - ls, post) != 0)
        return 0;
    size_t len = n - lp - ls;
    const char *name = path + lp;
    if (len == 0 || len >= joblen)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return -1;
    }
    memcpy(job, name, len);
    job[len] = '\0';
    return 1;
}

char *
weir_dashboard_graph_json(
    const weir_cluster *cl, const char *job, uint16_t *status)
{
    const Weir__Topology__Topology *topo = weir_cluster_job_topology(cl, job);
    weir_buf b;
    weir_buf_init(&b);
    if (!topo) {
        *status = 404;
        (void)weir_buf_printf(&b, "{\"error\":");
        (void)weir_json_str_append(&b, "no such job", 11);
        (void)weir_buf_printf(&b, "}\n");
    } else {
        *status = 200;
        weir_job_graph g;
        if (weir_job_graph_build(topo, &g) != WEIR_OK)
            return NULL;
        (void)weir_job_graph_json(topo, &g, &b);
        weir_job_graph_fini(&g);
    }
    if (b.failed) {
        weir_buf_fini(&b);
        return NULL;
    }
    return b.data;
}
