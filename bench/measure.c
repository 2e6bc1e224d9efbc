/* SPDX-License-Identifier: MIT */
/*
 * Runs one command and reports what it cost: wall time, CPU time and the
 * peak resident set size, the high-water mark the kernel kept for it
 * (wait4's ru_maxrss, or the largest VmRSS sample when that is higher: the
 * kernel syncs its per-thread RSS counters lazily). It is a small C program, not a script, because
 * Linux carries a process's RSS high-water mark across exec: a child
 * forked from a Python or shell parent starts with that parent's resident
 * size as its floor (14 MiB for python3), which would hide the very
 * figure measured here. Forked from this process the floor is about 1 MiB.
 * It also samples VmRSS every 100 ms, so a run that grows steadily can be
 * told apart from one with a single spike.
 *
 *   measure [-t TIMEOUT_SECONDS] [-o STDOUT_FILE] COMMAND [ARGS...]
 *
 * The child's stdout goes to STDOUT_FILE (default: /dev/null), its stderr
 * passes through. One line of key=value pairs goes to stdout:
 *
 *   exit=0 wall_s=12.345 user_s=1.2 sys_s=3.4 peak_rss_kib=10240 rss_samples_kib=9000,10100,...
 *
 * A child still running after the timeout is killed (exit=timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_NS 100000000L /* 100 ms */
#define MAX_SAMPLES 100000 /* 2.7 h of samples */
#define SHOWN_SAMPLES 12 /* spread evenly over the run in the report */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS of pid in KiB, or -1 when it cannot be read (it just exited). */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static pid_t spawn(char **argv, const char *out_path, const sigset_t *old_mask)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		fprintf(stderr, "measure: %s: %s\n", out_path, strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "measure: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	const char *out_path = "/dev/null";
	double timeout = 3600, start, wall;
	static long samples[MAX_SAMPLES];
	size_t n_samples = 0, step;
	struct timespec period = { 0, SAMPLE_NS };
	bool timed_out = false;
	sigset_t chld, old_mask;
	struct rusage usage;
	long peak;
	int opt, status, sig;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:o:")) != -1) {
		switch (opt) {
		case 't':
			timeout = strtod(optarg, NULL);
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: measure [-t SECONDS] [-o FILE] COMMAND [ARGS...]\n");
		return 2;
	}

	/* SIGCHLD is waited for with a timeout, so the end of the child is
	 * seen at once and the wall time is not rounded to the sample period.
	 * SIGTERM and SIGINT are passed on to the child, so a script stopping
	 * this program stops the measured command too. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SIGTERM);
	sigaddset(&chld, SIGINT);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);
	start = now_s();
	pid = spawn(argv + optind, out_path, &old_mask);
	if (pid < 0) {
		perror("measure: fork");
		return 2;
	}
	for (;;) {
		pid_t done = wait4(pid, &status, WNOHANG, &usage);
		long kib;

		if (done == pid)
			break;
		if (!timed_out && now_s() - start > timeout) {
			kill(pid, SIGKILL);
			timed_out = true;
		}
		kib = rss_kib(pid);
		if (kib >= 0 && n_samples < MAX_SAMPLES)
			samples[n_samples++] = kib;
		sig = sigtimedwait(&chld, NULL, &period);
		if (sig == SIGTERM || sig == SIGINT)
			kill(pid, sig);
	}
	wall = now_s() - start;
	peak = usage.ru_maxrss;
	for (size_t i = 0; i < n_samples; i++)
		if (samples[i] > peak)
			peak = samples[i];

	if (timed_out)
		printf("exit=timeout");
	else if (WIFEXITED(status))
		printf("exit=%d", WEXITSTATUS(status));
	else
		printf("exit=signal%d", WTERMSIG(status));
	printf(" wall_s=%.3f user_s=%.3f sys_s=%.3f peak_rss_kib=%ld rss_samples_kib=", wall,
	       usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
	       usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6, peak);
	step = n_samples / SHOWN_SAMPLES + (n_samples % SHOWN_SAMPLES != 0);
	if (step == 0)
		printf("0");
	for (size_t i = 0; step && i < n_samples; i += step)
		printf("%s%ld", i ? "," : "", samples[i]);
	printf("\n");
	return 0;
}
