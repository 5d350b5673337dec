#include "overlay.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_of(uint32_t cf, const void *key, size_t klen)
{
    uint64_t h = 1469598103934665603ULL ^ cf;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

void
weir_overlay_init(weir_overlay *ov)
{
    memset(ov, 0, sizeof(*ov));
}

static void
entry_free(weir_ov_entry *e)
{
    free(e->val);
    free(e);
}

void
weir_overlay_fini(weir_overlay *ov)
{
    if (!ov)
        return;
    for (size_t b = 0; b < ov->n_buckets; b++) {
        weir_ov_entry *e = ov->buckets[b];
        while (e) {
            weir_ov_entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(ov->buckets);
    memset(ov, 0, sizeof(*ov));
}

weir_ov_entry *
weir_overlay_find(weir_overlay *ov, uint32_t cf, const void *key, size_t klen)
{
    if (!ov->n_buckets)
        return NULL;
    uint64_t h = hash_of(cf, key, klen);
    for (weir_ov_entry *e = ov->buckets[h & (ov->n_buckets - 1)]; e;
         e = e->next)
        if (e->hash == h && e->cf == cf && e->klen == klen &&
            memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static int
grow(weir_overlay *ov)
{
    size_t nb = ov->n_buckets ? ov->n_buckets * 2 : 1024;
    weir_ov_entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < ov->n_buckets; i++) {
        weir_ov_entry *e = ov->buckets[i];
        while (e) {
            weir_ov_entry *next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = next;
        }
    }
    free(ov->buckets);
    ov->buckets = b;
    ov->n_buckets = nb;
    return 0;
}

weir_ov_entry *
weir_overlay_set(weir_overlay *ov, uint32_t cf, const void *key, size_t klen,
    const void *val, size_t vlen, bool dirty)
{
    weir_ov_entry *e = weir_overlay_find(ov, cf, key, klen);
    if (e && e->dirty && !dirty)
        return e;
    if (!e) {
        if (ov->n >= ov->n_buckets && grow(ov) != 0)
            return NULL;
        e = calloc(1, sizeof(*e) + (klen ? klen : 1));
        if (!e)
            return NULL;
        e->hash = hash_of(cf, key, klen);
        e->cf = cf;
        e->klen = klen;
        memcpy(e->key, key, klen);
        size_t b = e->hash & (ov->n_buckets - 1);
        e->next = ov->buckets[b];
        ov->buckets[b] = e;
        ov->n++;
    }
    if (val) {
        if (vlen > e->vcap || !e->val) {
            char *nv = realloc(e->val, vlen ? vlen : 1);
            if (!nv)
                return NULL;
            e->val = nv;
            e->vcap = vlen ? vlen : 1;
        }
        memcpy(e->val, val, vlen);
        e->vlen = vlen;
        e->deleted = false;
    } else {
        e->vlen = 0;
        e->deleted = true;
    }
    if (dirty && !e->dirty)
        ov->n_dirty++;
    e->dirty = e->dirty || dirty;
    return e;
}

int
weir_overlay_each_dirty(
    weir_overlay *ov, int (*fn)(weir_ov_entry *e, void *opaque), void *opaque)
{
    for (size_t b = 0; b < ov->n_buckets; b++)
        for (weir_ov_entry *e = ov->buckets[b]; e; e = e->next)
            if (e->dirty) {
                int rv = fn(e, opaque);
                if (rv != 0)
                    return rv;
            }
    return 0;
}

void
weir_overlay_mark_clean(weir_overlay *ov)
{
    for (size_t b = 0; b < ov->n_buckets && ov->n_dirty; b++)
        for (weir_ov_entry *e = ov->buckets[b]; e; e = e->next)
            if (e->dirty) {
                e->dirty = false;
                ov->n_dirty--;
            }
}

/* Removes the entries for which drop() says so. */
static void
remove_if(
    weir_overlay *ov, bool (*drop)(const weir_ov_entry *e, int cf), int cf)
{
    for (size_t b = 0; b < ov->n_buckets; b++) {
        weir_ov_entry **pp = &ov->buckets[b];
        while (*pp) {
            weir_ov_entry *e = *pp;
            if (drop(e, cf)) {
                *pp = e->next;
                if (e->dirty)
                    ov->n_dirty--;
                ov->n--;
                entry_free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

static bool
is_dirty(const weir_ov_entry *e, int cf)
{
    (void)cf;
    return e->dirty;
}

static bool
is_clean(const weir_ov_entry *e, int cf)
{
    return !e->dirty && (cf < 0 || e->cf == (uint32_t)cf);
}

void
weir_overlay_drop_dirty(weir_overlay *ov)
{
    if (ov->n_dirty)
        remove_if(ov, is_dirty, -1);
}

void
weir_overlay_drop_clean(weir_overlay *ov, int cf)
{
    remove_if(ov, is_clean, cf);
}
