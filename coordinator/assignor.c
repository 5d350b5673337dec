#include "assignor.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Scratch state of one run; everything indexed by worker or task. */
typedef struct run {
    const weir_assignor_input *in;
    weir_assignor_result *out;
    size_t nw, nt;
    uint64_t *cap;     /* effective capacity, 0 for ineligible workers */
    uint32_t *quota;   /* active tasks allowed */
    uint32_t *load;    /* active tasks given */
    uint32_t *sbquota; /* standbys allowed */
    uint32_t *sbload;  /* standbys given */
    uint64_t *rem;     /* largest-remainder scratch */
    uint32_t *room;    /* workers with free quota (round robin) */
    size_t *st_first;  /* state entries per task: CSR index into st_idx */
    uint32_t *st_idx;
} run;

static bool
eligible(const run *r, int32_t w)
{
    return w >= 0 && (size_t)w < r->nw && r->cap[w] > 0;
}

/*
 * Splits total over eligible workers in proportion to capacity; quotas sum
 * to total. Remainder slots go to the largest fractional parts, ties to
 * the higher prefer[w] (may be NULL), then to the lower index.
 */
static void
split(run *r, uint64_t total, uint32_t *quota, const uint32_t *prefer)
{
    uint64_t capsum = 0;
    for (size_t w = 0; w < r->nw; w++)
        capsum += r->cap[w];
    if (capsum == 0) {
        memset(quota, 0, r->nw * sizeof(*quota));
        return;
    }
    uint64_t given = 0;
    for (size_t w = 0; w < r->nw; w++) {
        quota[w] = (uint32_t)(total * r->cap[w] / capsum);
        r->rem[w] = total * r->cap[w] % capsum;
        given += quota[w];
    }
    /* total - given < number of eligible workers: pick that many maxima. */
    for (uint64_t extra = total - given; extra > 0; extra--) {
        size_t best = r->nw;
        for (size_t w = 0; w < r->nw; w++)
            if (r->cap[w] > 0 && r->rem[w] > 0 &&
                (best == r->nw || r->rem[w] > r->rem[best] ||
                    (prefer && r->rem[w] == r->rem[best] &&
                        prefer[w] > prefer[best])))
                best = w;
        if (best == r->nw)
            break;
        quota[best]++;
        r->rem[best] = 0;
    }
}

static void
give(run *r, size_t t, uint32_t w)
{
    r->out[t].active = (int32_t)w;
    r->load[w]++;
}

/* Indexes the reported state by task (counting sort). */
static int
index_state(run *r)
{
    const weir_assignor_input *in = r->in;
    r->st_first = calloc(r->nt + 1, sizeof(*r->st_first));
    r->st_idx = malloc((in->n_state ? in->n_state : 1) * sizeof(*r->st_idx));
    if (!r->st_first || !r->st_idx)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < in->n_state; i++) {
        if (in->state[i].task >= r->nt || in->state[i].worker >= r->nw)
            return WEIR_EINVAL;
        r->st_first[in->state[i].task + 1]++;
    }
    for (size_t t = 0; t < r->nt; t++)
        r->st_first[t + 1] += r->st_first[t];
    size_t *fill = calloc(r->nt + 1, sizeof(*fill));
    if (!fill)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < in->n_state; i++) {
        uint32_t t = in->state[i].task;
        r->st_idx[r->st_first[t] + fill[t]++] = (uint32_t)i;
    }
    free(fill);
    return WEIR_OK;
}

/* The eligible state holder with the highest offset and room, or -1. */
static int32_t
best_holder(const run *r, size_t t, const uint32_t *quota, const uint32_t *load,
    int32_t exclude)
{
    int32_t best = -1;
    int64_t best_off = 0;
    for (size_t i = r->st_first[t]; i < r->st_first[t + 1]; i++) {
        const weir_assignor_state *s = &r->in->state[r->st_idx[i]];
        int32_t w = (int32_t)s->worker;
        if (!eligible(r, w) || w == exclude || load[w] >= quota[w])
            continue;
        if (best < 0 || s->offset > best_off) {
            best = w;
            best_off = s->offset;
        }
    }
    return best;
}

/*
 * True when a worker other than owner, holding state for task t, owns
 * fewer tasks than its quota (owned counts in r->sbload at this point).
 */
static bool
warm_elsewhere(const run *r, size_t t, int32_t owner)
{
    for (size_t i = r->st_first[t]; i < r->st_first[t + 1]; i++) {
        int32_t w = (int32_t)r->in->state[r->st_idx[i]].worker;
        if (w != owner && eligible(r, w) && r->sbload[w] < r->quota[w])
            return true;
    }
    return false;
}

static void
assign_active(run *r)
{
    const weir_assignor_task *tasks = r->in->tasks;
    /* Sticky within each worker's share; ties for the remainder go to the
     * workers that hold more tasks now, so that nothing moves needlessly. */
    for (size_t t = 0; t < r->nt; t++)
        if (eligible(r, tasks[t].owner))
            r->sbload[tasks[t].owner]++;
    split(r, r->nt, r->quota, r->sbload);
    /* An owner over its share keeps first the tasks nobody else could take
     * warm: the ones it gives up are those a worker with room holds state
     * for (its standby, a restarted former owner), placed below. */
    for (int round = 0; round < 2; round++) {
        for (size_t t = 0; t < r->nt; t++) {
            int32_t o = tasks[t].owner;
            if (!eligible(r, o) || r->out[t].active >= 0 ||
                r->load[o] >= r->quota[o])
                continue;
            if (round == 0 && r->sbload[o] > r->quota[o] &&
                warm_elsewhere(r, t, o))
                continue;
            give(r, t, (uint32_t)o);
        }
    }
    memset(r->sbload, 0, r->nw * sizeof(*r->sbload));
    /* State holders (standbys, restarted owners). */
    for (size_t t = 0; t < r->nt; t++) {
        if (r->out[t].active >= 0)
            continue;
        int32_t w = best_holder(r, t, r->quota, r->load, -1);
        if (w >= 0)
            give(r, t, (uint32_t)w);
    }
    /* The rest round robin over workers with free quota. */
    size_t nroom = 0, next = 0;
    for (size_t w = 0; w < r->nw; w++)
        if (r->cap[w] > 0 && r->load[w] < r->quota[w])
            r->room[nroom++] = (uint32_t)w;
    for (size_t t = 0; t < r->nt && nroom > 0; t++) {
        if (r->out[t].active >= 0)
            continue;
        if (next >= nroom)
            next = 0;
        uint32_t w = r->room[next];
        give(r, t, w);
        if (r->load[w] >= r->quota[w])
            r->room[next] = r->room[--nroom]; /* stays at next: new one */
        else
            next++;
    }
}

static bool
has_standby(const weir_assignor_result *res, int32_t w)
{
    for (uint32_t i = 0; i < res->n_standbys; i++)
        if (res->standbys[i] == w)
            return true;
    return false;
}

static bool
sb_ok(const run *r, const weir_assignor_result *res, int32_t w, bool quota)
{
    return eligible(r, w) && w != res->active && !has_standby(res, w) &&
           (!quota || r->sbload[w] < r->sbquota[w]);
}

static void
add_standby(run *r, weir_assignor_result *res, int32_t w)
{
    res->standbys[res->n_standbys++] = w;
    r->sbload[w]++;
}

/* Fewest standbys per unit of capacity, ignoring quotas; -1 if none. */
static int32_t
least_loaded(const run *r, const weir_assignor_result *res)
{
    int32_t best = -1;
    for (size_t w = 0; w < r->nw; w++) {
        if (!sb_ok(r, res, (int32_t)w, false))
            continue;
        if (best < 0 ||
            r->sbload[w] * r->cap[best] < r->sbload[best] * r->cap[w])
            best = (int32_t)w;
    }
    return best;
}

static void
assign_standbys(run *r, size_t n_eligible)
{
    const weir_assignor_task *tasks = r->in->tasks;
    uint64_t wanted = 0;
    for (size_t t = 0; t < r->nt; t++) {
        uint32_t n = tasks[t].standby_replicas;
        if (n > WEIR_ASSIGNOR_MAX_STANDBYS)
            n = WEIR_ASSIGNOR_MAX_STANDBYS;
        if (n > n_eligible - 1)
            n = (uint32_t)(n_eligible - 1);
        wanted += n;
    }
    split(r, wanted, r->sbquota, NULL);
    size_t cursor = 0;
    for (size_t t = 0; t < r->nt; t++) {
        weir_assignor_result *res = &r->out[t];
        uint32_t n = tasks[t].standby_replicas;
        if (n > WEIR_ASSIGNOR_MAX_STANDBYS)
            n = WEIR_ASSIGNOR_MAX_STANDBYS;
        if (n > n_eligible - 1)
            n = (uint32_t)(n_eligible - 1);
        /* Existing standbys stay while within quota. */
        for (uint32_t i = 0; i < tasks[t].n_standbys && res->n_standbys < n &&
                             i < WEIR_ASSIGNOR_MAX_STANDBYS;
             i++)
            if (sb_ok(r, res, tasks[t].standbys[i], true))
                add_standby(r, res, tasks[t].standbys[i]);
        /* Workers that hold its state: the old owner first of all. */
        while (res->n_standbys < n) {
            int32_t w = -1;
            if (sb_ok(r, res, tasks[t].owner, true))
                w = tasks[t].owner;
            for (size_t i = r->st_first[t]; w < 0 && i < r->st_first[t + 1];
                 i++) {
                int32_t h = (int32_t)r->in->state[r->st_idx[i]].worker;
                if (sb_ok(r, res, h, true))
                    w = h;
            }
            if (w < 0)
                break;
            add_standby(r, res, w);
        }
        /* Round robin over workers with standby quota left. */
        for (size_t tries = 0; res->n_standbys < n && tries < r->nw; tries++) {
            int32_t w = (int32_t)(cursor++ % r->nw);
            if (sb_ok(r, res, w, true))
                add_standby(r, res, w);
        }
        while (res->n_standbys < n) {
            int32_t w = least_loaded(r, res);
            if (w < 0)
                break;
            add_standby(r, res, w);
        }
    }
}

static void
run_free(run *r)
{
    free(r->cap);
    free(r->quota);
    free(r->load);
    free(r->sbquota);
    free(r->sbload);
    free(r->rem);
    free(r->room);
    free(r->st_first);
    free(r->st_idx);
}

int
weir_assignor_run(const weir_assignor_input *in, weir_assignor_result *out)
{
    run r = {.in = in, .out = out, .nw = in->n_workers, .nt = in->n_tasks};
    size_t nw1 = r.nw ? r.nw : 1;
    int rv = WEIR_ENOMEM;
    r.cap = calloc(nw1, sizeof(*r.cap));
    r.quota = calloc(nw1, sizeof(*r.quota));
    r.load = calloc(nw1, sizeof(*r.load));
    r.sbquota = calloc(nw1, sizeof(*r.sbquota));
    r.sbload = calloc(nw1, sizeof(*r.sbload));
    r.rem = calloc(nw1, sizeof(*r.rem));
    r.room = calloc(nw1, sizeof(*r.room));
    if (!r.cap || !r.quota || !r.load || !r.sbquota || !r.sbload || !r.rem ||
        !r.room)
        goto out;
    if ((rv = index_state(&r)) != WEIR_OK)
        goto out;
    size_t n_eligible = 0;
    for (size_t w = 0; w < r.nw; w++) {
        if (!in->workers[w].eligible)
            continue;
        r.cap[w] = in->workers[w].capacity ? in->workers[w].capacity : 1;
        n_eligible++;
    }
    for (size_t t = 0; t < r.nt; t++) {
        out[t].active = -1;
        out[t].n_standbys = 0;
    }
    if (n_eligible > 0) {
        assign_active(&r);
        assign_standbys(&r, n_eligible);
    }
    rv = WEIR_OK;
out:
    run_free(&r);
    return rv;
}

int32_t
weir_assignor_phase(int32_t running, int32_t target)
{
    if (running < 0 || running == target)
        return target;
    return -1;
}
