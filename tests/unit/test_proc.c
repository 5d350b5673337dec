/* common/proc.c: start, wait for a line, pause/resume, stop, kill. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "tests/lib/proc.h"

static void
test_lifecycle(void **state)
{
    (void)state;
    char log[] = "/tmp/weir-test-proc-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {
        "sh", "-c", "echo \"ready at $WEIR_X\"; exec sleep 30", NULL};
    char *env[] = {"WEIR_X=42", NULL};
    weir_proc *proc;
    assert_int_equal(weir_proc_start(&proc, argv, env, log), WEIR_OK);
    char line[128];
    assert_int_equal(
        weir_proc_wait_line(proc, "ready", 5000, line, sizeof(line)), WEIR_OK);
    assert_string_equal(line, "ready at 42");
    assert_int_equal(
        weir_proc_wait_line(proc, "never", 50, NULL, 0), WEIR_ETIMEDOUT);
    assert_int_equal(weir_proc_pause(proc), WEIR_OK);
    assert_int_equal(weir_proc_resume(proc), WEIR_OK);
    assert_true(weir_proc_alive(proc));
    int status;
    assert_int_equal(weir_proc_stop(proc, 5000, &status), WEIR_OK);
    assert_true(WIFSIGNALED(status));
    assert_false(weir_proc_alive(proc));
    weir_proc_free(proc);
    unlink(log);
}

static void
test_exit_reported(void **state)
{
    (void)state;
    char log[] = "/tmp/weir-test-proc-XXXXXX";
    int fd = mkstemp(log);
    close(fd);
    char *argv[] = {"sh", "-c", "exit 3", NULL};
    weir_proc *proc;
    assert_int_equal(weir_proc_start(&proc, argv, NULL, log), WEIR_OK);
    assert_int_equal(
        weir_proc_wait_line(proc, "ready", 5000, NULL, 0), WEIR_ECLOSED);
    int status;
    assert_int_equal(weir_proc_wait_exit(proc, 5000, &status), WEIR_OK);
    assert_int_equal(WEXITSTATUS(status), 3);
    weir_proc_free(proc);
    unlink(log);
}

static void
test_port_pick(void **state)
{
    (void)state;
    int port = weir_port_pick();
    assert_true(port > 0 && port < 65536);
    assert_int_equal(
        weir_proc_wait_port("127.0.0.1", port, 20), WEIR_ETIMEDOUT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_exit_reported),
        cmocka_unit_test(test_port_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
