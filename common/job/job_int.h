/* Shared by the job compiler's files only. */
#ifndef WEIR_JOB_JOB_INT_H
#define WEIR_JOB_JOB_INT_H

#include <stdbool.h>
#include <yaml.h>

#include "common/expr/expr.h"
#include "common/job/job.h"
#include "common/value/value.h"

typedef Weir__Topology__Topology weir__topo;
typedef Weir__Topology__Operator weir__op_msg;
typedef Weir__Topology__Subtopology weir__sub_msg;

/* A source declared under sources:. */
typedef struct weir__jsource {
    const char *name; /* points into the YAML document */
    const char *topic;
    weir_format key_format, value_format;
    unsigned partitions;
    unsigned line, column;
    bool used;
    bool table;              /* table: true */
    const yaml_node_t *node; /* its name, for errors */
} weir__jsource;

/* The compiler's state while it walks one job file. */
typedef struct weir__jc {
    yaml_document_t doc;
    const char *yaml; /* the file's text, for exact error columns */
    size_t yaml_len;
    weir_job_errors *errs;
    bool oom;
    const char *job; /* job name ("job" until known) */
    weir__jsource *srcs;
    size_t nsrcs;
    weir__topo *topo;
    weir__sub_msg *sub; /* subtopology being built */
    /* The stream at the end of the operators so far. */
    weir_stype key, value;
    bool windowed;
    bool key_changed; /* since the last source: group_by: key repartitions */
    const weir__jsource *from; /* the stream's source; NULL after a
                                  repartition */
    int last;                  /* operator index in sub producing it; -1 none */
    bool has_sink;
} weir__jc;

/* job_yaml.c: YAML accessors. Records an error at a node (NULL: the whole
 * file). */
void weir__jc_error(weir__jc *jc, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Node by index (NULL if out of range). */
yaml_node_t *weir__jc_node(weir__jc *jc, int index);
/* Value node of key in a mapping, or NULL. */
yaml_node_t *weir__jc_get(
    weir__jc *jc, const yaml_node_t *map, const char *key);
/* The scalar text, or NULL (error recorded naming what) if not a scalar. */
const char *weir__jc_scalar(
    weir__jc *jc, const yaml_node_t *n, const char *what);
/* "a mapping", "a list" or "a scalar", for messages. */
const char *weir__jc_node_kind(const yaml_node_t *n);
/* True for an empty, "~" or "null" plain scalar. */
bool weir__jc_is_null(const yaml_node_t *n);
/* Checks a mapping's keys against allowed (NULL-terminated); errors for
 * unknown and repeated keys. False if n is not a mapping. */
bool weir__jc_keys(weir__jc *jc, const yaml_node_t *n, const char *what,
    const char *const *allowed);
/* Strict decimal integer in [min, max]; error otherwise. */
bool weir__jc_uint(weir__jc *jc, const yaml_node_t *n, const char *what,
    unsigned long min, unsigned long max, unsigned long *out);
/* true or false; error otherwise. */
bool weir__jc_bool(
    weir__jc *jc, const yaml_node_t *n, const char *what, bool *out);
/* Names of stores and topics: [A-Za-z0-9._-]{1,200}. */
bool weir__jc_valid_name(const char *s);

/* strdup that records out-of-memory. */
char *weir__jc_strdup(weir__jc *jc, const char *s);
/* Adds a topic to the topology unless one of that name exists. */
void weir__jc_topic(weir__jc *jc, const char *name, int role,
    unsigned partitions, bool compacted);

/* ------------------------------------------------------------ pipeline */

/* A pipeline step: its operator name, the node after it, its position. */
typedef struct weir__jstep {
    const char *op;
    const yaml_node_t *key; /* the operator name node */
    const yaml_node_t *arg;
    size_t index;    /* 1-based in the pipeline */
    char store[256]; /* aggregations: the store name */
} weir__jstep;

/* job_build.c */
weir_stype weir__jc_stype(weir_type t);
/* The static type a topic format decodes to. */
weir_type weir__jc_format_type(weir_format fmt);
/* The format a value of a static type travels in by default. */
weir_format weir__jc_type_format(weir_type t);
/* The static type a value has after a trip through type_format. */
weir_stype weir__jc_decoded_type(weir_stype t);
/* Starts a new subtopology (current from now on). NULL when out of memory. */
weir__sub_msg *weir__jc_sub_new(weir__jc *jc);
void weir__jc_push_string(weir__jc *jc, char ***arr, size_t *n, const char *s);
/* A new operator fed by the current stream, typed with it. */
weir__op_msg *weir__jc_op_new(
    weir__jc *jc, int kind, const char *name, const yaml_node_t *at);
/* Makes the last operator the producer of the stream. */
void weir__jc_op_produces(weir__jc *jc, const weir__op_msg *op);
/* Parses and types the expression in scalar n; NULL (error recorded at
 * its exact column) on failure. */
Weir__Topology__Expr *weir__jc_expr_new(weir__jc *jc, const yaml_node_t *n,
    const weir_expr_env *env, const char *what, weir_stype *type);
/* The environment of the current stream. */
void weir__jc_env_of(const weir__jc *jc, weir_expr_env *env);
/* "<op>-<index><suffix>" */
void weir__jc_op_name(
    char *buf, size_t len, const weir__jstep *s, const char *suffix);
bool weir__jc_is_aggregation(const char *op);

/* job_group.c: a store of the current subtopology (changelog: owned, may
 * be NULL on out of memory); NULL when out of memory. */
Weir__Topology__Store *weir__jc_store_new(
    weir__jc *jc, const char *name, char *changelog);
/* job_group.c: the store op keeps, changelogged to
 * <job>-<name>-changelog. */
void weir__jc_add_store(
    weir__jc *jc, weir__op_msg *op, const char *name, bool windowed);
/* job_group.c: a duration such as 10m into *ms; false on error. */
bool weir__jc_duration(
    weir__jc *jc, const yaml_node_t *n, const char *what, uint64_t *ms);
/* job_group.c: writes the stream to <job>-<name>-repartition and reads it
 * back in a new subtopology (keyed by the current key). */
void weir__jc_repartition(weir__jc *jc, const weir__jstep *s, const char *name);
/* agg is the aggregation a group_by feeds (NULL: none). */
void weir__jc_group_by(
    weir__jc *jc, const weir__jstep *s, const weir__jstep *agg);
Weir__Topology__Window *weir__jc_window(weir__jc *jc, const weir__jstep *s);
/* Parses an emit mode (final only when windowed); false on error. */
bool weir__jc_emit(weir__jc *jc, const yaml_node_t *n, const char *what,
    bool windowed, Weir__Topology__Emit *out);
void weir__jc_aggregation(weir__jc *jc, const weir__jstep *s, bool grouped,
    Weir__Topology__Window *w);

/* job_join.c: a join: step. */
void weir__jc_join(weir__jc *jc, const weir__jstep *s);

/* Compiles pipeline: (job_pipeline.c). */
void weir__jc_pipeline(weir__jc *jc, const yaml_node_t *seq);

/* Appends an error; WEIR_ENOMEM if it could not be recorded. */
int weir__job_error(weir_job_errors *errs, unsigned line, unsigned column,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* job_compile.c: compiles a job file's YAML (weir_job_compile takes
 * YAML or, for a .sql path, SQL). */
int weir__job_compile_yaml(const char *yaml, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs);

/* Orders errors by position, keeping the order of equal positions. */
void weir__job_errors_sort(weir_job_errors *errs);

#endif
