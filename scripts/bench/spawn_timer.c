/*
 * spawn_timer: what it costs to answer a question by running a command.
 *
 *   spawn_timer --runs N [--expect-status S] -- COMMAND [ARG...]
 *
 * Runs COMMAND N times, one after the other, each with posix_spawnp (on
 * glibc a vfork-style clone, the cheapest way to start a process) and
 * waitpid, and times each run from just before the spawn to just after the
 * wait. Every run must exit with status S (default 0), else the whole run
 * fails: a command that cannot start must not pass for a fast one. The
 * command's stdout goes to /dev/null; its stderr is kept. The output is one
 * line in loadgen's format, with exact percentiles of the N samples:
 *
 *   calls=300 seconds=0.61 calls_per_s=492 p50_us=1890.2 p99_us=3410.7
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of them at or below it. */
static double percentile_us(const uint64_t *sorted, long n, double q)
{
    long rank = (long)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1000;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: spawn_timer --runs N [--expect-status S] -- COMMAND [ARG...]\n");
}

static long parse_int(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
        fprintf(stderr, "spawn_timer: %s must be an integer in %ld...%ld, not '%s'\n", name, min,
                max, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'n'},
        {"expect-status", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long runs = 0;
    int expect = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n': runs = parse_int("--runs", optarg, 1, 1000000); break;
        case 'e': expect = (int)parse_int("--expect-status", optarg, 0, 255); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (runs == 0 || optind >= argc) {
        usage(stderr);
        return 2;
    }
    char **cmd = &argv[optind];

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);

    uint64_t *samples = malloc((size_t)runs * sizeof *samples);
    if (samples == NULL) {
        fprintf(stderr, "spawn_timer: out of memory\n");
        return 1;
    }
    uint64_t begin = now_ns();
    for (long i = 0; i < runs; i++) {
        pid_t pid;
        int status;
        uint64_t start = now_ns();
        int rc = posix_spawnp(&pid, cmd[0], &actions, NULL, cmd, environ);
        if (rc != 0) {
            fprintf(stderr, "spawn_timer: cannot run %s: %s\n", cmd[0], strerror(rc));
            return 1;
        }
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                fprintf(stderr, "spawn_timer: waitpid: %s\n", strerror(errno));
                return 1;
            }
        }
        samples[i] = now_ns() - start;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != expect) {
            if (WIFEXITED(status))
                fprintf(stderr, "spawn_timer: run %ld of %s exited with status %d, not %d\n",
                        i + 1, cmd[0], WEXITSTATUS(status), expect);
            else
                fprintf(stderr, "spawn_timer: run %ld of %s was killed by signal %d\n", i + 1,
                        cmd[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            return 1;
        }
    }
    double seconds = (double)(now_ns() - begin) / 1e9;
    qsort(samples, (size_t)runs, sizeof *samples, compare_u64);
    printf("calls=%ld seconds=%.2f calls_per_s=%.0f p50_us=%.1f p99_us=%.1f\n", runs, seconds,
           (double)runs / seconds, percentile_us(samples, runs, 0.50),
           percentile_us(samples, runs, 0.99));
    posix_spawn_file_actions_destroy(&actions);
    free(samples);
    return 0;
}
