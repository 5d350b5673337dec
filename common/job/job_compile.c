/*
 * The job compiler's entry: YAML loading, job settings, sources, topics,
 * and the helpers the pipeline compiler (job_pipeline.c) uses. Reading
 * YAML nodes is in job_yaml.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/err.h"
#include "common/file.h"
#include "common/job/job_int.h"
#include "common/job/sql_int.h"

#define JOB_MAX_BYTES ((size_t)1 << 20)

bool
weir__jc_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return false;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

char *
weir__jc_strdup(weir__jc *jc, const char *s)
{
    char *p = strdup(s);
    if (p == NULL) {
        jc->oom = true;
    }
    return p;
}

void
weir__jc_topic(weir__jc *jc, const char *name, int role, unsigned partitions,
    bool compacted)
{
    weir__topo *t = jc->topo;
    for (size_t i = 0; i < t->n_topics; i++) {
        if (strcmp(t->topics[i]->name, name) == 0) {
            return;
        }
    }
    Weir__Topology__Topic *tp = malloc(sizeof(*tp));
    char *dup = strdup(name);
    if (tp == NULL || dup == NULL ||
        weir_array_append(&t->topics, &t->n_topics, &tp, sizeof(tp)) !=
            WEIR_OK) {
        free(tp);
        free(dup);
        jc->oom = true;
        return;
    }
    weir__topology__topic__init(tp);
    tp->name = dup;
    tp->role = (Weir__Topology__TopicRole)role;
    tp->partitions = partitions;
    tp->compacted = compacted;
}

/* ------------------------------------------------------------ settings */

static void
compile_settings(weir__jc *jc, const yaml_node_t *root)
{
    weir__topo *t = jc->topo;
    const yaml_node_t *n = weir__jc_get(jc, root, "job");
    const char *name = n != NULL ? weir__jc_scalar(jc, n, "job") : NULL;
    if (n == NULL) {
        weir__jc_error(jc, root, "missing key 'job' (the job's name)");
    } else if (name != NULL && !weir__jc_valid_name(name)) {
        weir__jc_error(jc, n,
            "job: '%s' is not a valid name (expected letters, digits, '.', "
            "'_' or '-', at most 200)",
            name);
    } else if (name != NULL) {
        jc->job = name;
    }
    t->job = weir__jc_strdup(jc, jc->job);

    n = weir__jc_get(jc, root, "guarantee");
    const char *g = weir__jc_scalar(jc, n, "guarantee");
    if (g != NULL && strcmp(g, "exactly_once") == 0) {
        t->guarantee = WEIR__TOPOLOGY__GUARANTEE__EXACTLY_ONCE;
    } else if (g != NULL && strcmp(g, "at_least_once") == 0) {
        t->guarantee = WEIR__TOPOLOGY__GUARANTEE__AT_LEAST_ONCE;
    } else if (g != NULL) {
        weir__jc_error(jc, n,
            "guarantee: expected exactly_once or at_least_once, found '%s'", g);
    }

    n = weir__jc_get(jc, root, "on_error");
    const char *e = weir__jc_scalar(jc, n, "on_error");
    if (e != NULL && strcmp(e, "dlq") == 0) {
        t->on_error = WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_DLQ;
    } else if (e != NULL && strcmp(e, "fail") == 0) {
        t->on_error = WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_FAIL;
    } else if (e != NULL && strcmp(e, "skip") == 0) {
        t->on_error = WEIR__TOPOLOGY__ON_ERROR__ON_ERROR_SKIP;
    } else if (e != NULL) {
        weir__jc_error(
            jc, n, "on_error: expected dlq, fail or skip, found '%s'", e);
    }

    unsigned long v;
    t->commit_interval_ms = WEIR_JOB_COMMIT_INTERVAL_MS;
    n = weir__jc_get(jc, root, "commit_interval_ms");
    if (n != NULL &&
        weir__jc_uint(jc, n, "commit_interval_ms", 1, 600000, &v)) {
        t->commit_interval_ms = (uint32_t)v;
    }
    t->max_task_idle_ms = WEIR_JOB_MAX_TASK_IDLE_MS;
    n = weir__jc_get(jc, root, "max_task_idle_ms");
    if (n != NULL && weir__jc_uint(jc, n, "max_task_idle_ms", 0, 600000, &v)) {
        t->max_task_idle_ms = (uint32_t)v;
    }
    t->standby_replicas = 1;
    n = weir__jc_get(jc, root, "standby_replicas");
    if (n != NULL && weir__jc_uint(jc, n, "standby_replicas", 0, 16, &v)) {
        t->standby_replicas = (uint32_t)v;
    }
}

static const char *const source_keys[] = {
    "topic", "key", "value", "partitions", "table", NULL};

static bool
parse_format(
    weir__jc *jc, const yaml_node_t *n, const char *what, weir_format *fmt)
{
    const char *s = weir__jc_scalar(jc, n, what);
    if (s == NULL) {
        return false;
    }
    if (weir_format_parse(s, fmt) != WEIR_OK) {
        weir__jc_error(jc, n,
            "%s: unknown format '%s' (expected string, bytes, int64 or json)",
            what, s);
        return false;
    }
    return true;
}

static void
compile_source(weir__jc *jc, const yaml_node_t *k, const yaml_node_t *v)
{
    const char *name = weir__jc_scalar(jc, k, "sources");
    if (name == NULL) {
        return;
    }
    char what[256];
    snprintf(what, sizeof(what), "source '%s'", name);
    weir__jsource src = {.name = name,
        .key_format = WEIR__TOPOLOGY__FORMAT__FORMAT_STRING,
        .value_format = WEIR__TOPOLOGY__FORMAT__FORMAT_STRING,
        .partitions = 4,
        .line = (unsigned)k->start_mark.line + 1,
        .column = (unsigned)k->start_mark.column + 1,
        .node = k};
    bool ok = true;
    if (!weir__jc_valid_name(name)) {
        weir__jc_error(jc, k, "sources: '%s' is not a valid name", name);
        ok = false;
    }
    if (!weir__jc_keys(jc, v, what, source_keys)) {
        return;
    }
    const yaml_node_t *n = weir__jc_get(jc, v, "topic");
    src.topic = weir__jc_scalar(jc, n, what);
    if (n == NULL) {
        weir__jc_error(jc, v, "%s: missing key 'topic'", what);
        ok = false;
    } else if (src.topic != NULL && !weir__jc_valid_name(src.topic)) {
        weir__jc_error(jc, n,
            "%s: '%s' is not a valid topic name (expected letters, digits, "
            "'.', '_' or '-')",
            what, src.topic);
        ok = false;
    }
    if ((n = weir__jc_get(jc, v, "key")) != NULL) {
        ok = parse_format(jc, n, what, &src.key_format) && ok;
    }
    if ((n = weir__jc_get(jc, v, "value")) != NULL) {
        ok = parse_format(jc, n, what, &src.value_format) && ok;
    }
    if ((n = weir__jc_get(jc, v, "table")) != NULL) {
        ok = weir__jc_bool(jc, n, what, &src.table) && ok;
    }
    unsigned long parts;
    if ((n = weir__jc_get(jc, v, "partitions")) != NULL) {
        if (weir__jc_uint(jc, n, what, 1, 10000, &parts)) {
            src.partitions = (unsigned)parts;
        } else {
            ok = false;
        }
    }
    for (size_t i = 0; i < jc->nsrcs; i++) {
        if (strcmp(jc->srcs[i].name, name) == 0) {
            weir__jc_error(jc, k, "sources: '%s' declared twice", name);
            ok = false;
        }
    }
    (void)ok; /* an invalid source is kept: from: must still find it */
    if (weir_array_append(&jc->srcs, &jc->nsrcs, &src, sizeof(src)) !=
        WEIR_OK) {
        jc->oom = true;
    }
}

static void
compile_sources(weir__jc *jc, const yaml_node_t *root)
{
    const yaml_node_t *n = weir__jc_get(jc, root, "sources");
    if (n == NULL) {
        weir__jc_error(jc, root, "missing key 'sources' (the input topics)");
        return;
    }
    if (n->type != YAML_MAPPING_NODE) {
        weir__jc_error(jc, n,
            "sources: expected a mapping of name: {topic: ...}, found %s",
            weir__jc_node_kind(n));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        compile_source(
            jc, weir__jc_node(jc, p->key), weir__jc_node(jc, p->value));
    }
    if (n->data.mapping.pairs.start == n->data.mapping.pairs.top) {
        weir__jc_error(jc, n, "sources: expected at least one source");
    }
}

/* The Source messages and input topics, for sources the pipeline used. */
static void
finish_sources(weir__jc *jc)
{
    weir__topo *t = jc->topo;
    for (size_t i = 0; i < jc->nsrcs; i++) {
        weir__jsource *s = &jc->srcs[i];
        if (s->topic == NULL) {
            continue; /* reported already */
        }
        if (!s->used) {
            weir__job_error(jc->errs, s->line, s->column,
                "source '%s' is not used by the pipeline", s->name);
            continue;
        }
        Weir__Topology__Source *m = malloc(sizeof(*m));
        if (m == NULL || weir_array_append(&t->sources, &t->n_sources, &m,
                             sizeof(m)) != WEIR_OK) {
            free(m);
            jc->oom = true;
            return;
        }
        weir__topology__source__init(m);
        m->name = weir__jc_strdup(jc, s->name);
        m->topic = weir__jc_strdup(jc, s->topic);
        m->key_format = s->key_format;
        m->value_format = s->value_format;
        m->table = s->table;
    }
}

static const char *const top_keys[] = {"job", "guarantee", "commit_interval_ms",
    "on_error", "standby_replicas", "max_task_idle_ms", "sources", "pipeline",
    NULL};

static void
compile_root(weir__jc *jc, const yaml_node_t *root)
{
    if (!weir__jc_keys(jc, root, "job file", top_keys)) {
        return;
    }
    compile_settings(jc, root);
    compile_sources(jc, root);
    const yaml_node_t *pipe = weir__jc_get(jc, root, "pipeline");
    if (pipe == NULL) {
        weir__jc_error(jc, root, "missing key 'pipeline' (the operators)");
        return;
    }
    weir__jc_pipeline(jc, pipe);
    finish_sources(jc);
    char *dlq = NULL;
    if (asprintf(&dlq, "%s-dlq", jc->job) < 0) {
        jc->oom = true;
        return;
    }
    jc->topo->dlq_topic = dlq;
    weir__jc_topic(jc, dlq, WEIR__TOPOLOGY__TOPIC_ROLE__TOPIC_DLQ, 0, false);
}

#define FLOW_MAX_DEPTH 64

/*
 * libyaml's scanner takes quadratic time on deeply nested flow collections
 * ("[[[[..."), so a job file is screened first: flow brackets outside
 * quotes and comments may nest FLOW_MAX_DEPTH deep. False (error recorded
 * at the bracket) when they nest deeper.
 */
static bool
flow_depth_ok(weir__jc *jc, const char *yaml, size_t len)
{
    int depth = 0;
    unsigned line = 1, column = 0;
    char quote = 0;
    bool comment = false;
    for (size_t i = 0; i < len; i++) {
        char c = yaml[i];
        column++;
        if (c == '\n') {
            line++;
            column = 0;
            comment = false;
            continue;
        }
        if (comment) {
            continue;
        }
        if (quote != 0) {
            if (c == '\\' && quote == '"' && i + 1 < len) {
                i++;
                column++;
            } else if (c == quote) {
                quote = 0;
            }
            continue;
        }
        if (c == '#' && (i == 0 || yaml[i - 1] == ' ' || yaml[i - 1] == '\t')) {
            comment = true;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '[' || c == '{') {
            if (++depth > FLOW_MAX_DEPTH) {
                weir__job_error(jc->errs, line, column,
                    "YAML: collections nested more than %d deep",
                    FLOW_MAX_DEPTH);
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

/* Loads the single YAML document; false (error recorded) if it cannot. */
static bool
load_yaml(weir__jc *jc, const char *yaml, size_t len)
{
    yaml_parser_t parser;
    if (!flow_depth_ok(jc, yaml, len)) {
        return false;
    }
    if (!yaml_parser_initialize(&parser)) {
        jc->oom = true;
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    bool ok = yaml_parser_load(&parser, &jc->doc) != 0;
    if (!ok) {
        const char *problem = parser.problem ? parser.problem : "invalid YAML";
        if (parser.context != NULL) {
            weir__job_error(jc->errs, (unsigned)parser.problem_mark.line + 1,
                (unsigned)parser.problem_mark.column + 1, "YAML: %s %s",
                problem, parser.context);
        } else {
            weir__job_error(jc->errs, (unsigned)parser.problem_mark.line + 1,
                (unsigned)parser.problem_mark.column + 1, "YAML: %s", problem);
        }
        memset(&jc->doc, 0, sizeof(jc->doc));
    } else {
        yaml_document_t next;
        if (yaml_parser_load(&parser, &next)) {
            yaml_node_t *r = yaml_document_get_root_node(&next);
            if (r != NULL) {
                weir__jc_error(jc, r, "a job file holds one YAML document");
            }
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
    return ok;
}

int
weir_job_compile(const char *text, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs)
{
    size_t n = path != NULL ? strlen(path) : 0;
    if (n < 4 || strcmp(path + n - 4, ".sql") != 0) {
        return weir__job_compile_yaml(text, len, path, out, errs);
    }
    *out = NULL;
    weir_job_errors_fini(errs);
    if ((errs->path = strdup(path)) == NULL) {
        return WEIR_ENOMEM;
    }
    if (len > JOB_MAX_BYTES) {
        weir__job_error(
            errs, 0, 0, "job file larger than %zu bytes", JOB_MAX_BYTES);
        return WEIR_EPARSE;
    }
    return weir__sql_compile(text, len, path, out, errs);
}

int
weir__job_compile_yaml(const char *yaml, size_t len, const char *path,
    Weir__Topology__Topology **out, weir_job_errors *errs)
{
    *out = NULL;
    weir_job_errors_fini(errs);
    if (path != NULL && (errs->path = strdup(path)) == NULL) {
        return WEIR_ENOMEM;
    }
    weir__jc jc = {
        .errs = errs, .job = "job", .last = -1, .yaml = yaml, .yaml_len = len};
    if (len > JOB_MAX_BYTES) {
        weir__job_error(
            errs, 0, 0, "job file larger than %zu bytes", JOB_MAX_BYTES);
        return WEIR_EPARSE;
    }
    if ((jc.topo = malloc(sizeof(*jc.topo))) == NULL) {
        return WEIR_ENOMEM;
    }
    weir__topology__topology__init(jc.topo);
    jc.topo->version = 1;
    if (load_yaml(&jc, yaml, len)) {
        yaml_node_t *root = yaml_document_get_root_node(&jc.doc);
        if (root == NULL) {
            weir__job_error(errs, 0, 0, "empty job file");
        } else {
            compile_root(&jc, root);
        }
        yaml_document_delete(&jc.doc);
    }
    free(jc.srcs);
    if (!jc.oom) {
        jc.topo->spec_yaml = strndup(yaml, len);
        jc.topo->spec_path = strdup(path != NULL ? path : "");
        jc.oom = jc.topo->spec_yaml == NULL || jc.topo->spec_path == NULL;
    }
    jc.oom = jc.oom || errs->lost;
    if (jc.oom || errs->count > 0) {
        weir_job_free(jc.topo);
        weir__job_errors_sort(errs);
        return jc.oom ? WEIR_ENOMEM : WEIR_EPARSE;
    }
    *out = jc.topo;
    return WEIR_OK;
}

int
weir_job_compile_file(
    const char *path, Weir__Topology__Topology **out, weir_job_errors *errs)
{
    *out = NULL;
    char *data;
    size_t n;
    int rv = weir_file_read(path, JOB_MAX_BYTES, &data, &n);
    if (rv == WEIR_ENOMEM)
        return rv;
    if (rv != WEIR_OK) {
        weir_job_errors_fini(errs);
        errs->path = strdup(path);
        if (rv == WEIR_ETOOBIG)
            weir__job_error(
                errs, 0, 0, "job file larger than %zu bytes", JOB_MAX_BYTES);
        else
            weir__job_error(errs, 0, 0, "cannot read: %s", strerror(errno));
        return rv == WEIR_ETOOBIG ? WEIR_EPARSE : WEIR_EIO;
    }
    rv = weir_job_compile(data, n, path, out, errs);
    free(data);
    return rv;
}

Weir__Topology__Topology *
weir_job_copy(const Weir__Topology__Topology *topo)
{
    size_t len = weir__topology__topology__get_packed_size(topo);
    uint8_t *buf = malloc(len != 0 ? len : 1);
    if (buf == NULL) {
        return NULL;
    }
    weir__topology__topology__pack(topo, buf);
    Weir__Topology__Topology *copy =
        weir__topology__topology__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

void
weir_job_free(Weir__Topology__Topology *topo)
{
    if (topo != NULL) {
        weir__topology__topology__free_unpacked(topo, NULL);
    }
}
