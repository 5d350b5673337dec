/* jemalloc's options, read when it initialises (weir-worker links jemalloc
 * unless built with sanitizers; MALLOC_CONF in the environment overrides
 * them). Two arenas and prompt return of freed pages keep the resident
 * size near glibc's; the thread caches remove the lock contention. */
extern const char *malloc_conf;
const char *malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";
