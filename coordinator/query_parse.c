/* The paths and parameters of pull queries (query.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

/* A %-decoded copy of n bytes of s (NULL: malformed or out of memory). */
static char *
decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *w = out;
    for (size_t i = 0; out && i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2])) {
                free(out);
                return NULL;
            }
            char hex[3] = {s[i + 1], s[i + 2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            *w++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    if (out)
        *w = '\0';
    return out;
}

/* The value of parameter name in the query string (malloc'd), or NULL. */
static char *
param(const char *query, const char *name, bool *bad)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            char *v = decode(p + nl + 1, len - nl - 1);
            *bad = *bad || !v;
            return v;
        }
        p += len + (p[len] == '&');
    }
    return NULL;
}

static bool
number(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    *out = v;
    return *s && !*end;
}

int
weir_query_parse(const char *uri, weir_query **out, char *why, size_t whylen)
{
    static const char pre[] = "/api/jobs/";
    *out = NULL;
    if (strncmp(uri, pre, sizeof(pre) - 1) != 0 || !strstr(uri, "/stores/"))
        return 0;
    const char *job = uri + sizeof(pre) - 1;
    const char *qs = strchr(uri, '?');
    size_t plen = qs ? (size_t)(qs - uri) : strlen(uri);
    const char *stores = strstr(job, "/stores/");
    if (!stores || stores >= uri + plen) {
        snprintf(why, whylen, "expected /api/jobs/JOB/stores/STORE[/keys/KEY]");
        return -1;
    }
    const char *store = stores + 8;
    const char *keys = strstr(store, "/keys/");
    if (keys && keys >= uri + plen)
        keys = NULL;
    const char *store_end = keys ? keys : uri + plen;
    weir_query *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    q->job = decode(job, (size_t)(stores - job));
    q->store = decode(store, (size_t)(store_end - store));
    bool bad = !q->job || !q->store || !q->job[0] || !q->store[0];
    if (keys) {
        const char *key = keys + 6;
        size_t klen = (size_t)(uri + plen - key);
        q->key = decode(key, klen); /* a '/' in a key is sent as %2F */
        bad = bad || !q->key || !q->key[0] || memchr(key, '/', klen);
    } else {
        q->scan = true;
    }
    const char *query = qs ? qs + 1 : NULL;
    char *from = param(query, "from", &bad), *to = param(query, "to", &bad);
    char *limit = param(query, "limit", &bad);
    q->prefix = param(query, "prefix", &bad);
    if (!q->prefix && !bad && !(q->prefix = strdup("")))
        bad = true;
    int64_t n = WEIR_QUERY_LIMIT_MAX;
    if (limit && (!number(limit, &n) || n < 1 || n > WEIR_QUERY_LIMIT_MAX))
        bad = true;
    q->limit = (uint32_t)n;
    if (from || to) {
        q->has_range = true;
        q->from_ms = INT64_MIN;
        q->to_ms = INT64_MAX;
        bad = bad || (from && !number(from, &q->from_ms)) ||
              (to && !number(to, &q->to_ms));
    }
    free(from);
    free(to);
    free(limit);
    if (bad) {
        snprintf(why, whylen,
            "malformed query: expected /api/jobs/JOB/stores/STORE/keys/KEY"
            "[?from=MS&to=MS] or /api/jobs/JOB/stores/STORE[?prefix=P&"
            "limit=1..%d]",
            WEIR_QUERY_LIMIT_MAX);
        weir_query_free(q);
        return -1;
    }
    *out = q;
    return 1;
}

void
weir_query_free(weir_query *q)
{
    if (!q)
        return;
    free(q->job);
    free(q->store);
    free(q->key);
    free(q->prefix);
    free(q->targets);
    free(q);
}
