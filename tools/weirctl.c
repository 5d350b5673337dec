/*
 * weirctl: operate a weir cluster through the coordinator's control
 * socket. Human tables by default, JSON with --json. Exit codes: 0 ok,
 * 1 the command failed (one line on stderr), 2 bad usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/file.h"
#include "common/req_client.h"
#include "common/job/job.h"
#include "common/expr/udf.h"
#include "common/wire.h"
#include "weirctl.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
/* Larger job files are the coordinator's to refuse (its compiler takes 1 MiB):
 * this bound only keeps weirctl from reading a huge file whole. */
#define JOB_FILE_MAX_BYTES ((size_t)16 << 20)

typedef struct config {
    char *coordinator;
    char *token;
    char *tls_ca;
    bool json;
    bool dot;
    int64_t timeout_ms;
    char *plugins;
    char *name;
    char *http;
    char *file;
    char *execute;
} config;

static const weir_conf_entry entries[] = {
    WEIR_CONF_STR(config, "coordinator", coordinator, "tcp://127.0.0.1:7700",
        "coordinator control URL (tcp:// or tls+tcp://)"),
    WEIR_CONF_STR(config, "token", token, NULL,
        "shared secret when the coordinator requires one"),
    WEIR_CONF_STR(config, "tls-ca", tls_ca, NULL,
        "CA file to verify a tls+tcp:// coordinator; none: not verified"),
    WEIR_CONF_STR(config, "plugins", plugins, NULL,
        "comma-separated plugin shared objects (user-defined functions) to "
        "load before compiling a job file (topology)"),
    WEIR_CONF_BOOL(config, "json", json, "false", "print JSON"),
    WEIR_CONF_BOOL(
        config, "dot", dot, "false", "topology: print a Graphviz dot graph"),
    WEIR_CONF_INT(config, "timeout-ms", timeout_ms, "15000", 100, 600000,
        "how long to wait for the coordinator"),
    WEIR_CONF_STR(config, "http", http, "127.0.0.1:7780",
        "query: the coordinator's HTTP address"),
    WEIR_CONF_STR(config, "file", file, NULL,
        "sql: run the statements of this file (then --execute)"),
    WEIR_CONF_STR(config, "execute", execute, NULL,
        "sql: run these statements (-e too); without --file or --execute, "
        "read them from the terminal"),
    WEIR_CONF_STR(config, "name", name, NULL,
        "submit: the job's name for a .sql job (default: the file's name)"),
};

static const weir_conf_spec spec = {"weirctl",
    "Operate a weir cluster. Commands:\n"
    "  submit JOB.yaml      submit a job (or JOB.sql, named after the file)\n"
    "  jobs                 list jobs\n"
    "  describe JOB         a job's tasks, owners, state, lag, commit rate\n"
    "  cancel JOB           cancel a job\n"
    "  workers              list workers\n"
    "  drain WORKER         move a worker's tasks away (then stop it)\n"
    "  topology JOB.yaml    print a job's compiled topology (offline; --dot;\n"
    "                       JOB.sql too)\n"
    "  status               cluster summary\n"
    "  query JOB STORE KEY  a key's value in a job's store, now (pull query)\n"
    "  sql                  a SQL shell: CREATE ... statements submit jobs,\n"
    "                       SELECT ... WHERE key = 'x' queries a table",
    "[OPTIONS] COMMAND [ARG]", entries, sizeof(entries) / sizeof(entries[0])};

typedef struct ctl {
    config c;
    weir_req_client req;
} ctl;

static int failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weirctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAILED;
}

static int
connect_ctl(ctl *x)
{
    char err[512];
    weir_req_client_opts o = {.url = x->c.coordinator,
        .tls_ca = x->c.tls_ca,
        .timeout_ms = (int)x->c.timeout_ms,
        .dial_now = true};
    if (weir_req_client_open(&x->req, &o, err, sizeof(err)) != WEIR_OK)
        return failed("%s", err);
    return 0;
}

/* One request; the reply in *reply (fini it). 0 or an exit code. */
static int
call(ctl *x, weir_msg_type type, const ProtobufCMessage *body,
    weir_wire_msg *reply)
{
    int rv = connect_ctl(x);
    if (rv != 0)
        return rv;
    /* The coordinator's error texts: a job's whole error list fits. */
    static char err[512 << 10];
    err[0] = '\0';
    rv = weir_wire_call(x->req.sock, type, x->c.token ? x->c.token : "", body,
        reply, err, sizeof(err));
    if (rv == WEIR_OK)
        return 0;
    if (rv == WEIR_ETIMEDOUT || rv == WEIR_ECLOSED || rv == WEIR_EIO)
        return failed("coordinator at %s: %s", x->c.coordinator,
            err[0] ? err : weir_strerror(rv));
    return failed("%s", err[0] ? err : weir_strerror(rv));
}

/* Submits a job's text; path names its kind (.sql) and, for SQL, the
 * job (the file's name, or --name). */
static int
submit_text(ctl *x, char *text, const char *path, const char *name)
{
    Weir__Cluster__JobSubmit js = WEIR__CLUSTER__JOB_SUBMIT__INIT;
    js.yaml = text;
    js.path = (char *)path;
    char *named = NULL;
    if (name) {
        /* A SQL job is named after its file: submitted as NAME.sql. */
        size_t n = strlen(path);
        if (n < 4 || strcmp(path + n - 4, ".sql") != 0)
            return failed("--name is for .sql jobs (a YAML job names itself "
                          "with job:)");
        if (asprintf(&named, "%s.sql", name) < 0)
            return failed("out of memory");
        js.path = named;
    }
    weir_wire_msg reply;
    int rv = call(x, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_SUBMIT, &js.base, &reply);
    free(named);
    if (rv != 0)
        return rv;
    Weir__Cluster__JobSubmitReply *r =
        (Weir__Cluster__JobSubmitReply *)reply.body;
    if (x->c.json)
        weirctl_json_print(reply.body, stdout);
    else
        printf("submitted job %s (%u tasks)\n", r->job, r->tasks);
    weir_wire_msg_fini(&reply);
    return 0;
}

static int
cmd_submit(ctl *x, const char *path)
{
    char *text;
    size_t len;
    if (weir_file_read(path, JOB_FILE_MAX_BYTES, &text, &len) != WEIR_OK)
        return failed("%s: %s", path, strerror(errno));
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        size_t at = (size_t)(nul - text);
        free(text);
        return failed(
            "%s: not a text file (a NUL byte at offset %zu)", path, at);
    }
    int rv = submit_text(x, text, path, x->c.name);
    free(text);
    return rv;
}

static const char *
enum_name(const ProtobufCEnumDescriptor *d, int v, const char *prefix)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    if (!ev)
        return "?";
    size_t n = strlen(prefix);
    return strncmp(ev->name, prefix, n) == 0 ? ev->name + n : ev->name;
}

static void
fmt_time(uint64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
cmd_jobs(ctl *x)
{
    Weir__Cluster__JobList q = WEIR__CLUSTER__JOB_LIST__INIT;
    weir_wire_msg reply;
    int rv = call(x, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_LIST, &q.base, &reply);
    if (rv != 0)
        return rv;
    Weir__Cluster__JobListReply *r = (Weir__Cluster__JobListReply *)reply.body;
    if (x->c.json) {
        weirctl_json_print(reply.body, stdout);
    } else {
        static const char *const h[] = {"JOB", "STATE", "TASKS", "RUNNING",
            "STUCK", "GUARANTEE", "SUBMITTED"};
        weirctl_table *t = weirctl_table_new(7, h);
        for (size_t i = 0; i < r->n_jobs; i++) {
            const Weir__Cluster__JobInfo *j = r->jobs[i];
            char when[32];
            fmt_time(j->submitted_at_ms, when, sizeof(when));
            weirctl_table_row(t, "%s\t%s\t%u\t%u\t%u\t%s\t%s", j->name,
                enum_name(
                    &weir__cluster__job_state__descriptor, j->state, "JOB_"),
                j->tasks, j->running_tasks, j->stuck_tasks,
                enum_name(
                    &weir__topology__guarantee__descriptor, j->guarantee, ""),
                when);
        }
        weirctl_table_print(t, stdout);
        weirctl_table_free(t);
    }
    weir_wire_msg_fini(&reply);
    return 0;
}

/* A task's error on one table cell: control characters become spaces. */
static const char *
error_cell(const Weir__Cluster__TaskStatus *s, char *buf, size_t size)
{
    if (!s || !s->error || !s->error[0])
        return "-";
    snprintf(buf, size, "%s", s->error);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return buf;
}

/* The job's tables and joins, a line each (describe). */
static void
print_joins(const Weir__Topology__Topology *topo)
{
    static const char *const types[] = {"inner", "left", "outer"};
    for (size_t i = 0; topo && i < topo->n_subtopologies; i++) {
        const Weir__Topology__Subtopology *st = topo->subtopologies[i];
        for (size_t k = 0; k < st->n_operators; k++) {
            const Weir__Topology__Operator *op = st->operators[k];
            const char *jt = op->join_type <= 2 ? types[op->join_type] : "?";
            if (op->table)
                printf("table %s: topic %s, store %s (subtopology %u)\n",
                    op->source, op->topic, op->table_store, st->id);
            else if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_TABLE_JOIN)
                printf("join %s: %s join with table %s (subtopology %u)\n",
                    op->name, jt, op->table_store, st->id);
            else if (op->kind == WEIR__TOPOLOGY__OP_KIND__OP_STREAM_STREAM_JOIN)
                printf("join %s: %s join of two streams within %llu ms, grace "
                       "%llu ms, store %s (subtopology %u)\n",
                    op->name, jt, (unsigned long long)op->join_window_ms,
                    (unsigned long long)op->join_grace_ms, op->store, st->id);
        }
    }
}

static int
cmd_describe(ctl *x, const char *job)
{
    Weir__Cluster__JobDescribe q = WEIR__CLUSTER__JOB_DESCRIBE__INIT;
    q.job = (char *)job;
    weir_wire_msg reply;
    int rv =
        call(x, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_DESCRIBE, &q.base, &reply);
    if (rv != 0)
        return rv;
    Weir__Cluster__JobDescribeReply *r =
        (Weir__Cluster__JobDescribeReply *)reply.body;
    /* A failed job is a failed command: scripts see it in the exit code. */
    int code = r->job && r->job->state == WEIR__CLUSTER__JOB_STATE__JOB_FAILED
                   ? EXIT_FAILED
                   : 0;
    if (x->c.json) {
        weirctl_json_print(reply.body, stdout);
        weir_wire_msg_fini(&reply);
        return code;
    }
    if (r->job)
        printf("job %s: %s, %u/%u tasks running%s%s; dead-lettered %llu, "
               "skipped %llu, late %llu\n",
            r->job->name,
            enum_name(
                &weir__cluster__job_state__descriptor, r->job->state, "JOB_"),
            r->job->running_tasks, r->job->tasks,
            r->job->failed_tasks ? ", TASKS FAILED (see ERROR)" : "",
            r->job->degraded ? ", DEGRADED (tasks stuck)" : "",
            (unsigned long long)r->job->dead_lettered,
            (unsigned long long)r->job->skipped,
            (unsigned long long)r->job->late);
    static const char *const h[] = {"TASK", "OWNER", "STANDBYS", "STATE", "LAG",
        "RECORDS_IN", "RECORDS_OUT", "COMMITS", "COMMITS/S", "RESTORED", "DLQ",
        "SKIPPED", "LATE", "ERROR"};
    weirctl_table *t = weirctl_table_new(14, h);
    for (size_t i = 0; i < r->n_tasks; i++) {
        const Weir__Cluster__TaskInfo *ti = r->tasks[i];
        const Weir__Cluster__TaskStatus *s = ti->status;
        char sb[256] = "";
        for (size_t k = 0; k < ti->n_standbys; k++) {
            if (k)
                strncat(sb, ",", sizeof(sb) - strlen(sb) - 1);
            strncat(sb, ti->standbys[k], sizeof(sb) - strlen(sb) - 1);
        }
        char state[64], errbuf[256];
        snprintf(state, sizeof(state), "%s%s",
            s ? enum_name(
                    &weir__cluster__task_state__descriptor, s->state, "TASK_")
              : (ti->owner[0] ? "ASSIGNED" : "UNASSIGNED"),
            ti->stuck ? " (stuck)" : "");
        weirctl_table_row(t,
            "%u_%u\t%s\t%s\t%s\t%lld\t%llu\t%llu\t%llu\t%.1f\t%llu\t%llu\t%"
            "llu\t%llu\t%s",
            ti->task ? ti->task->subtopology : 0,
            ti->task ? ti->task->partition : 0, ti->owner[0] ? ti->owner : "-",
            sb[0] ? sb : "-", state, s ? (long long)s->lag : 0LL,
            s ? (unsigned long long)s->records_in : 0ULL,
            s ? (unsigned long long)s->records_out : 0ULL,
            s ? (unsigned long long)s->commits : 0ULL, ti->commit_rate,
            s ? (unsigned long long)s->restored_records : 0ULL,
            s ? (unsigned long long)s->dead_lettered : 0ULL,
            s ? (unsigned long long)s->skipped : 0ULL,
            s ? (unsigned long long)s->late : 0ULL,
            error_cell(s, errbuf, sizeof(errbuf)));
    }
    weirctl_table_print(t, stdout);
    weirctl_table_free(t);
    print_joins(r->topology);
    weir_wire_msg_fini(&reply);
    return code;
}

static int
cmd_simple(ctl *x, weir_msg_type type, ProtobufCMessage *body, const char *done)
{
    weir_wire_msg reply;
    int rv = call(x, type, body, &reply);
    if (rv != 0)
        return rv;
    if (x->c.json)
        printf("{\"ok\":true}\n");
    else
        printf("%s\n", done);
    weir_wire_msg_fini(&reply);
    return 0;
}

static int
cmd_workers(ctl *x)
{
    Weir__Cluster__WorkerList q = WEIR__CLUSTER__WORKER_LIST__INIT;
    weir_wire_msg reply;
    int rv = call(x, WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_LIST, &q.base, &reply);
    if (rv != 0)
        return rv;
    Weir__Cluster__WorkerListReply *r =
        (Weir__Cluster__WorkerListReply *)reply.body;
    if (x->c.json) {
        weirctl_json_print(reply.body, stdout);
    } else {
        static const char *const h[] = {"WORKER", "STATE", "CAPACITY", "ACTIVE",
            "STANDBY", "EPOCH", "LAST_HEARTBEAT", "ADDRESS"};
        weirctl_table *t = weirctl_table_new(8, h);
        for (size_t i = 0; i < r->n_workers; i++) {
            const Weir__Cluster__WorkerInfo *w = r->workers[i];
            bool no_kafka =
                w->kafka == WEIR__CLUSTER__KAFKA_STATE__KAFKA_UNREACHABLE;
            weirctl_table_row(t, "%s\t%s%s\t%u\t%u\t%u\t%llu\t%llums ago\t%s",
                w->worker_id,
                !w->alive     ? "dead"
                : w->draining ? "draining"
                              : "alive",
                w->alive && no_kafka ? " (KAFKA UNREACHABLE)" : "", w->capacity,
                w->active_tasks, w->standby_tasks,
                (unsigned long long)w->member_epoch,
                (unsigned long long)w->last_heartbeat_ms_ago,
                w->address[0] ? w->address : "-");
        }
        weirctl_table_print(t, stdout);
        weirctl_table_free(t);
    }
    weir_wire_msg_fini(&reply);
    return 0;
}

static int
cmd_status(ctl *x)
{
    Weir__Cluster__Status q = WEIR__CLUSTER__STATUS__INIT;
    weir_wire_msg reply;
    int rv = call(x, WEIR__CLUSTER__MSG_TYPE__MSG_STATUS, &q.base, &reply);
    if (rv != 0)
        return rv;
    Weir__Cluster__StatusReply *r = (Weir__Cluster__StatusReply *)reply.body;
    if (x->c.json)
        weirctl_json_print(reply.body, stdout);
    else
        printf(
            "coordinator %s\n  generation  %llu\n  workers     %u\n"
            "  jobs        %u\n  tasks       %u (%u unassigned)\n"
            "  rebalances  %llu\n  kafka       %s%s%s%s\n  uptime      %llus\n",
            x->c.coordinator, (unsigned long long)r->generation, r->workers,
            r->jobs, r->tasks, r->unassigned_tasks,
            (unsigned long long)r->rebalances, r->bootstrap,
            r->kafka_error[0] ? " (UNREACHABLE: " : "", r->kafka_error,
            r->kafka_error[0] ? ")" : "",
            (unsigned long long)(r->uptime_ms / 1000));
    weir_wire_msg_fini(&reply);
    return 0;
}

static int
cmd_topology(ctl *x, const char *path)
{
    weir_job_errors errs;
    weir_job_errors_init(&errs);
    Weir__Topology__Topology *topo = NULL;
    int rv = weir_job_compile_file(path, &topo, &errs);
    if (rv != WEIR_OK) {
        weir_job_errors_print(&errs, stderr);
        weir_job_errors_fini(&errs);
        return EXIT_FAILED;
    }
    if (x->c.dot)
        weir_job_print_dot(topo, stdout);
    else if (x->c.json)
        weirctl_json_print(&topo->base, stdout);
    else
        weir_job_print(topo, stdout);
    weir_job_free(topo);
    weir_job_errors_fini(&errs);
    return 0;
}

static int
usage(const char *msg)
{
    fprintf(stderr, "weirctl: %s (see weirctl --help)\n", msg);
    return EXIT_USAGE;
}

/* Appends s %-encoded (a path segment). */
static void
url_segment(char *out, size_t size, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~", c))
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
    }
    out[n] = '\0';
}

/* A pull query through the coordinator's HTTP API: prints its JSON. */
static int
cmd_query(ctl *x, const char *job, const char *store, const char *key)
{
    char url[2048];
    snprintf(url, sizeof(url), "http://%s/api/jobs/", x->c.http);
    url_segment(url, sizeof(url), job);
    strncat(url, "/stores/", sizeof(url) - strlen(url) - 1);
    url_segment(url, sizeof(url), store);
    strncat(url, "/keys/", sizeof(url) - strlen(url) - 1);
    url_segment(url, sizeof(url), key);
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    if (weirctl_http_get(
            url, x->c.token, (int)x->c.timeout_ms, &status, &body, &len) != 0)
        return EXIT_FAILED;
    fwrite(body, 1, len, status == 200 ? stdout : stderr);
    free(body);
    return status == 200 ? 0 : EXIT_FAILED;
}

static int
sql_submit(void *ctx, const char *sql, const char *name)
{
    char path[300];
    snprintf(path, sizeof(path), "%s.sql", name);
    return submit_text(ctx, (char *)sql, path, NULL);
}

static int
sql_pull(void *ctx, const char *job, const char *store, const char *key)
{
    return cmd_query(ctx, job, store, key);
}

static int
run(ctl *x, int nargs, char **args)
{
    if (nargs < 1)
        return usage("a command is required");
    const char *cmd = args[0];
    const char *arg = nargs > 1 ? args[1] : NULL;
    static const struct {
        const char *name;
        int nargs;
    } cmds[] = {{"submit", 1}, {"jobs", 0}, {"describe", 1}, {"cancel", 1},
        {"workers", 0}, {"drain", 1}, {"topology", 1}, {"status", 0},
        {"query", 3}, {"sql", 0}};
    int want = -1;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(cmds[i].name, cmd) == 0)
            want = cmds[i].nargs;
    if (want < 0) {
        fprintf(stderr, "weirctl: unknown command '%s' (see weirctl --help)\n",
            cmd);
        return EXIT_USAGE;
    }
    if (nargs - 1 != want) {
        fprintf(stderr, "weirctl: %s takes %s (see weirctl --help)\n", cmd,
            want == 3   ? "three arguments"
            : want == 1 ? "one argument"
                        : "no arguments");
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "submit") == 0)
        return cmd_submit(x, arg);
    if (strcmp(cmd, "jobs") == 0)
        return cmd_jobs(x);
    if (strcmp(cmd, "describe") == 0)
        return cmd_describe(x, arg);
    if (strcmp(cmd, "cancel") == 0) {
        Weir__Cluster__JobCancel q = WEIR__CLUSTER__JOB_CANCEL__INIT;
        q.job = (char *)arg;
        char done[512];
        snprintf(done, sizeof(done), "cancelled job %s", arg);
        return cmd_simple(
            x, WEIR__CLUSTER__MSG_TYPE__MSG_JOB_CANCEL, &q.base, done);
    }
    if (strcmp(cmd, "workers") == 0)
        return cmd_workers(x);
    if (strcmp(cmd, "drain") == 0) {
        Weir__Cluster__WorkerDrain q = WEIR__CLUSTER__WORKER_DRAIN__INIT;
        q.worker_id = (char *)arg;
        char done[512];
        snprintf(done, sizeof(done),
            "draining worker %s: its tasks move away; stop it once "
            "`weirctl workers` shows 0 active tasks",
            arg);
        return cmd_simple(
            x, WEIR__CLUSTER__MSG_TYPE__MSG_WORKER_DRAIN, &q.base, done);
    }
    if (strcmp(cmd, "topology") == 0)
        return cmd_topology(x, arg);
    if (strcmp(cmd, "query") == 0)
        return cmd_query(x, args[1], args[2], args[3]);
    if (strcmp(cmd, "sql") == 0) {
        weirctl_sql_io io = {x, sql_submit, sql_pull};
        return weirctl_sql(&io, x->c.file, x->c.execute) ? EXIT_FAILED : 0;
    }
    return cmd_status(x);
}

int
main(int argc, char **argv)
{
    ctl x = {0};
    int nargs = 0;
    char **args = NULL;
    for (int i = 1; i < argc; i++) /* -e STATEMENTS, as other SQL shells */
        if (strcmp(argv[i], "-e") == 0)
            argv[i] = "--execute";
    int rv = weir_conf_load(&spec, &x.c, argc, argv, &nargs, &args);
    if (rv != WEIR_OK) {
        weir_conf_free(&spec, &x.c, args);
        return rv == WEIR_ESTOPPED ? 0 : EXIT_USAGE;
    }
    char err[512];
    if (weir_udf_load_list(x.c.plugins, err, sizeof(err)) != WEIR_OK) {
        fprintf(stderr, "weirctl: %s\n", err);
        weir_conf_free(&spec, &x.c, args);
        return EXIT_USAGE;
    }
    rv = run(&x, nargs, args);
    weir_req_client_close(&x.req);
    weir_conf_free(&spec, &x.c, args);
    return rv;
}
