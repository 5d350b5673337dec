/*
 * The job compiler: a YAML job file (docs/job-spec.md) compiled into the
 * Topology protobuf (proto/topology.proto) that the coordinator stores and
 * workers run. Standalone mode and the coordinator use the same compiler.
 *
 * Compilation collects every error it finds (file, line, column, what was
 * expected) and produces nothing if there is any.
 *
 * Threading: every function here is reentrant; the only shared state is
 * the registry of user-defined functions (udf.h), which is locked.
 */
#ifndef WEIR_JOB_JOB_H
#define WEIR_JOB_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "proto/topology.pb-c.h"

/*
 * Commit interval of a job file that sets none, and of a topology whose
 * commit_interval_ms is 0 (not from the compiler): the one default.
 */
#define WEIR_JOB_COMMIT_INTERVAL_MS 100
/* The default of max_task_idle_ms (Topology.max_task_idle_ms). */
#define WEIR_JOB_MAX_TASK_IDLE_MS 500

typedef struct weir_job_error {
    unsigned line;   /* 1-based; 0 when the error is about the whole file */
    unsigned column; /* 1-based, in characters (as YAML counts) */
    char *msg;       /* owned */
} weir_job_error;

/* Errors of one compilation. Embed, weir_job_errors_init, _fini. */
typedef struct weir_job_errors {
    char *path; /* owned copy of the file name given to compile */
    weir_job_error *items;
    size_t count;
    size_t cap;
    bool lost; /* an error could not be recorded: out of memory */
} weir_job_errors;

void weir_job_errors_init(weir_job_errors *errs);
/* Frees the messages. Accepts NULL. */
void weir_job_errors_fini(weir_job_errors *errs);
/* One line per error: "path:line:column: error: message". */
void weir_job_errors_print(const weir_job_errors *errs, FILE *fp);

/*
 * Compiles a job file held in memory (yaml, len bytes). path names the file
 * in messages (may be NULL: "<job>"). On success *out is a new Topology
 * (free with weir_job_free) and errs is empty. On failure *out is NULL and
 * errs holds every error found, in file order.
 * Errors: WEIR_EPARSE (errors in errs), WEIR_ENOMEM.
 */
int weir_job_compile(const char *yaml, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs);

/* Reads path and compiles it. WEIR_EIO (in errs) if it cannot be read. */
int weir_job_compile_file(
    const char *path, Weir__Topology__Topology **out, weir_job_errors *errs);

/*
 * Frees a topology from weir_job_compile (or one unpacked with the default
 * allocator: this is weir__topology__topology__free_unpacked). Accepts
 * NULL.
 */
void weir_job_free(Weir__Topology__Topology *topo);

/*
 * A deep copy of topo (free with weir_job_free), or NULL when out of
 * memory.
 */
Weir__Topology__Topology *weir_job_copy(const Weir__Topology__Topology *topo);

/*
 * Human summary for `weir-worker --check`: job settings, sources,
 * subtopologies with their operators and tasks, stores, internal topics.
 */
void weir_job_print(const Weir__Topology__Topology *topo, FILE *fp);

/* Graphviz dot of the topology for `weirctl topology --dot`. */
void weir_job_print_dot(const Weir__Topology__Topology *topo, FILE *fp);

/*
 * Partition count of a topic of the job as the compiler resolved it
 * (Topic.partitions, 0 meaning the job's input partitions). 0 if the
 * topic is not the job's.
 */
unsigned weir_job_topic_partitions(
    const Weir__Topology__Topology *topo, const char *topic);

/* Number of tasks of a subtopology: the partitions of its input topics. */
/* The operator that keeps store (an aggregation's or a join's store, or
 * a table source's) and, in *sub, its subtopology; NULL when none does. */
const Weir__Topology__Operator *weir_job_store_operator(
    const Weir__Topology__Topology *topo, const char *store,
    const Weir__Topology__Subtopology **sub);

unsigned weir_job_subtopology_tasks(
    const Weir__Topology__Topology *topo, unsigned sub);

/* Task name "<sub>_<partition>" into buf; returns buf. */
char *weir_job_task_name(
    unsigned sub, unsigned partition, char *buf, size_t buflen);

/* Transactional id "<job>-<sub>_<partition>" into buf; returns buf. */
char *weir_job_transactional_id(const char *job, unsigned sub,
    unsigned partition, char *buf, size_t buflen);

/* One statement of a SQL text, for weirctl sql. */
typedef enum weir_sql_kind {
    WEIR_SQL_SOURCE,    /* CREATE STREAM/TABLE (columns) WITH (...) */
    WEIR_SQL_CREATE_AS, /* CREATE STREAM/TABLE ... AS SELECT */
    WEIR_SQL_PULL,      /* SELECT ... FROM table WHERE key = literal */
} weir_sql_kind;

typedef struct weir_sql_statement {
    weir_sql_kind kind;
    char name[256]; /* the relation it creates, or (a pull query) reads */
    bool fused;     /* CREATE STREAM ... AS without KAFKA_TOPIC */
    char key[1024]; /* a pull query: the literal its WHERE names */
    /* A pull query: the column its WHERE names, at line:column. A table
     * (CREATE TABLE, or CREATE TABLE ... AS SELECT ... GROUP BY): its key
     * column; "" when the statement does not say (a stream, a table made
     * without GROUP BY). */
    char key_column[256];
    unsigned line, column;
    size_t start, end; /* its bytes in the text, ';' included */
} weir_sql_statement;

/*
 * Splits SQL text into its statements (*out malloc'd), checking their
 * syntax only; WEIR_EPARSE with errs filled when one is malformed or a
 * SELECT is not a pull query of one key.
 */
int weir_sql_statements(const char *text, size_t len, const char *path,
    weir_sql_statement **out, size_t *n, weir_job_errors *errs);

#endif
