/* Starts tests/http-server/server.mjs (Node, on a free 127.0.0.1 port) for a test, and stops it.
 * Include after tests/unit/redis_fixture.h (rf_child_prepare). */
#ifndef PA_TEST_HTTP_SERVER_H
#define PA_TEST_HTTP_SERVER_H
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* Starts the server from the source tree at src; returns its pid and sets *port once it said
 * "listening <port>". */
static inline pid_t hs_start(const char *src, int *port)
{
    char js[4096];
    snprintf(js, sizeof js, "%s/tests/http-server/server.mjs", src ? src : ".");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1); /* before rf_child_prepare closes every fd above 2 */
        rf_child_prepare(parent, -1);
        execlp("node", "node", js, "0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[64] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t k = read(p[0], line + n, 1);
        if (k <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(p[0]);
    cr_assert(sscanf(line, "listening %d", port) == 1, "server did not start: '%s'", line);
    return pid;
}

#endif
