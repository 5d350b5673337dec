/* libFuzzer target: the SQL job compiler (lexer, lemon grammar,
 * translation), with fuzz_job.c's checks on what it accepts. */
#define FUZZ_JOB_PATH "fuzz.sql"
#include "fuzz_job.c"
