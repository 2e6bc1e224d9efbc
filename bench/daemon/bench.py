# SPDX-License-Identifier: MIT
"""The measurements of bench/daemon/run.sh (README.md beside this file).

    bench.py --scenariod PATH --scenarioctl PATH --work DIR
             [--phases idle,start,lag] [--idle-seconds S] [--starts N]
             [--lag-scenarios N] [--lag-seconds S] [--reading-every S]
             [--quiet-seconds S] [--strace]

Python 3 standard library only. Every daemon this script starts is
stopped before it returns (SIGTERM; SIGKILL when a step failed); the
work folder is the caller's to remove. One line per figure on stdout,
`name: value (target T) ratio` where there is a target. Exit status 0 when
every target is met, 3 when one is missed, 1 when a step did not happen.
"""

import argparse
import datetime
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

DAEMONS = []  # every Daemon started, for the cleanup


class StepFailed(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def note(msg):
    print("  " + msg, flush=True)


def figure(name, value, unit, target=None, better="low", fmt="%.1f"):
    """Prints `name: value unit (target T) ratio`; returns False when the
    target is missed."""
    text = (fmt % value) + (" " + unit if unit else "")
    if target is None:
        log("%s: %s" % (name, text))
        return True
    ratio = value / target if target else float("inf")
    ok = value <= target if better == "low" else value >= target
    log("%s: %s (target %s %s%s) %.2f%s" % (
        name, text, "≤" if better == "low" else "≥", fmt % target,
        " " + unit if unit else "", ratio, "" if ok else "  MISSED"))
    return ok


# ---- the daemon ------------------------------------------------------------

class Daemon:
    def __init__(self, exe, root, scenarios, connections, state_dir, tag, env=None):
        self.exe = exe
        self.root = root
        self.tag = tag
        self.scenarios = scenarios
        self.connections = connections
        self.state_dir = state_dir
        self.socket_path = os.path.join(root, tag + ".sock")
        self.notify_path = os.path.join(root, tag + ".notify")
        self.log_path = os.path.join(root, tag + ".log")
        self.env = dict(os.environ)
        for k in ("WATCHDOG_USEC", "WATCHDOG_PID", "NOTIFY_SOCKET", "JOURNAL_STREAM"):
            self.env.pop(k, None)
        self.env.update(env or {})
        self.proc = None
        self.notify = None
        self.messages = []

    def start(self, timeout=60):
        """Starts the daemon; returns seconds from just before the exec to
        the READY=1 datagram."""
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.messages = []
        env = dict(self.env, NOTIFY_SOCKET=self.notify_path)
        self.logf = open(self.log_path, "ab")
        argv = [self.exe, "--state-dir", self.state_dir, "--scenarios", self.scenarios,
                "--socket", self.socket_path, "--connections", self.connections]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf, cwd=self.root)
        DAEMONS.append(self)
        with open(os.path.join(self.root, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepFailed("%s: READY=1 did not come within %d s; log %s:\n%s"
                                 % (self.tag, timeout, self.log_path, self.log_tail()))
            self.notify.settimeout(min(left, 0.25))
            try:
                data = self.notify.recv(65536)
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise StepFailed("%s: scenariod exited with %d before READY=1:\n%s"
                                     % (self.tag, self.proc.returncode, self.log_tail()))
                continue
            t = time.monotonic()
            lines = data.decode(errors="replace").split("\n")
            self.messages.append((t, lines))
            if "READY=1" in lines:
                self.ready_at = t
                return t - t0

    def drain_notify(self):
        """Reads the datagrams waiting on the notify socket."""
        self.notify.settimeout(0)
        while True:
            try:
                data = self.notify.recv(65536)
            except (BlockingIOError, socket.timeout):
                return
            self.messages.append((time.monotonic(), data.decode(errors="replace").split("\n")))

    def log_tail(self, n=4000):
        try:
            self.logf.flush()
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise StepFailed("%s: scenariod did not stop within %d s of SIGTERM"
                                 % (self.tag, timeout))
        code = self.proc.returncode
        self.proc = None
        self.logf.close()
        self.notify.close()
        if self in DAEMONS:
            DAEMONS.remove(self)
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def kill_all():
    for d in list(DAEMONS):
        try:
            d.kill()
        except Exception:
            pass
    DAEMONS.clear()


# ---- /proc -----------------------------------------------------------------

def proc_status(pid):
    return proc_status_path("/proc/%d/status" % pid)


def kib(status, key):
    return int(status[key].split()[0])


def cpu_ns(pid):
    """CPU time of every thread, in ns, from /proc/PID/task/*/schedstat
    (the scheduler's own count); utime + stime from /proc/PID/stat (10 ms
    ticks) when schedstat is missing."""
    total, found = 0, False
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
                found = True
        except (OSError, ValueError, IndexError):
            pass
    if found:
        return total
    return cpu_ticks(pid) * 1000000000 // CLK_TCK


def cpu_ticks(pid):
    """utime + stime of the whole process (every thread), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def threads_switches(pid):
    """{tid: (voluntary, nonvoluntary)} of every thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            st = proc_status_path("/proc/%d/task/%s/status" % (pid, tid))
        except OSError:
            continue
        out[int(tid)] = (int(st["voluntary_ctxt_switches"]),
                         int(st["nonvoluntary_ctxt_switches"]), st.get("Name", "?"))
    return out


def proc_status_path(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def smaps_rollup(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return out


def smaps_by_object(pid):
    """[(object, Rss KiB, Anonymous KiB)] summed per mapped file (or
    [heap], [stack], [anon]), largest first."""
    agg = {}
    cur = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if not parts[0].endswith(":") and "-" in parts[0]:
                    cur = parts[5] if len(parts) > 5 else "[anon]"
                    agg.setdefault(cur, [0, 0])
                elif parts[0] == "Rss:":
                    agg[cur][0] += int(parts[1])
                elif parts[0] == "Anonymous:":
                    agg[cur][1] += int(parts[1])
    except OSError:
        return []
    return sorted(((k, v[0], v[1]) for k, v in agg.items()), key=lambda m: -m[1])


FLOOR_C = r"""
#ifndef NO_CURL
#include <curl/curl.h>
#endif
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	char line[256];
	FILE *f;

#ifndef NO_CURL
	if (argc > 1)
		curl_global_init(CURL_GLOBAL_DEFAULT);
#endif
	(void)argv;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long v;
		char key[64];
		if (sscanf(line, "%63[^:]: %lu", key, &v) == 2 &&
		    (!strcmp(key, "VmRSS") || !strcmp(key, "RssAnon") || !strcmp(key, "RssFile")))
			printf("%s=%lu ", key, v);
	}
	putchar('\n');
	return 0;
}
"""


# ---- scenario folders ------------------------------------------------------

CONNECTIONS = """\
# Nothing listens on port 9 (discard): no scenario here runs during the
# measurement, and one that did would be refused at once.
cloudconvert-bench:
  app: cloudconvert
  api_key: {env: BENCH_CLOUDCONVERT_KEY}
  base_url: http://127.0.0.1:9
  sync_url: http://127.0.0.1:9/sync
"""

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def hhmm_away(now_utc, hours, minute):
    t = now_utc + datetime.timedelta(hours=hours)
    return "%02d:%02d" % (t.hour, minute)


def write_mix(folder, outdir, count=100):
    """`count` scenarios as an installation might have them: calendar
    schedules hours away (daily, weekly, monthly, cron), some on-demand,
    two CloudConvert flows; none is due in the next two hours."""
    os.makedirs(folder, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    today = WEEKDAYS[now.weekday()]
    other_days = [d for d in WEEKDAYS if d != today]
    kinds = []
    for i in range(count):
        r = i % 20
        if r < 10:
            kinds.append("daily")
        elif r < 13:
            kinds.append("weekly")
        elif r < 16:
            kinds.append("cron")
        elif r < 18:
            kinds.append("monthly")
        else:
            kinds.append("on-demand")
    for i, kind in enumerate(kinds):
        name = "mix-%03d" % i
        hours = 3 + i % 18  # 3 to 20 hours from now: never due while measured
        minute = (7 * i) % 60
        if kind == "daily":
            schedule = '{daily: ["%s"]}' % hhmm_away(now, hours, minute)
            if i % 3 == 0:
                schedule = '{daily: ["%s", "%s"]}' % (hhmm_away(now, hours, minute),
                                                       hhmm_away(now, hours + 2, minute))
        elif kind == "weekly":
            days = ", ".join(other_days[i % 6:i % 6 + 2])
            schedule = '{weekly: {days: [%s], at: ["%s"]}}' % (days, hhmm_away(now, hours, minute))
        elif kind == "cron":
            t = now + datetime.timedelta(hours=hours)
            schedule = '{cron: "%d %d * * *"}' % (minute, t.hour)
            if i % 2:
                schedule = '{cron: "%d %d * * 1-5"}' % (minute, t.hour)
        elif kind == "monthly":
            schedule = '{monthly: {days: [1, 15, last], at: ["%s"]}}' % hhmm_away(now, hours, minute)
        else:
            schedule = "on-demand"
        tz = "Europe/Amsterdam" if i % 4 == 1 else "UTC"
        if i in (12, 38):  # a weekly one and an on-demand one
            flow = """\
  - id: 1
    module: builtin.set
    with:
      variables:
        url: "https://example.com/report-{{formatDate(now; 'YYYY-MM-DD')}}.html"
  - id: 2
    module: cloudconvert.capture_website
    connection: cloudconvert-bench
    with: {url: "{{1.url}}", output_format: pdf, filename: report.pdf, download: true, wait: 2m}
    on_error:
      directive: break
      retry: {attempts: 3, interval: 15m}
  - id: 3
    module: files.write
    with: {dir: %s, name: "{{2.file.name}}", data: "{{2.file}}"}
""" % json.dumps(os.path.join(outdir, name))
        elif i % 3 == 0:
            flow = """\
  - id: 1
    module: builtin.set
    with:
      variables:
        day: "{{formatDate(now; 'YYYY-MM-DD')}}"
        count: %d
        label: "batch {{execution.id}}"
  - id: 2
    module: files.write
    with: {dir: %s, name: "{{1.day}}.txt", data: "{{1.label}}: {{1.count}} items"}
  - id: 3
    module: builtin.log
    with: {message: "wrote {{2.file.name}} ({{2.file.size}} bytes)"}
""" % (i, json.dumps(os.path.join(outdir, name)))
        else:
            flow = """\
  - id: 1
    module: builtin.set
    with:
      variables:
        greeting: "hello {{upper('%s')}}"
        n: %d
  - id: 2
    module: builtin.set
    with:
      variables:
        doubled: "{{1.n * 2}}"
  - id: 3
    module: builtin.log
    with: {message: "{{1.greeting}}: {{2.doubled}}"}
""" % (name, i)
        with open(os.path.join(folder, name + ".yaml"), "w") as f:
            f.write("scenario: %s\ndescription: bench mix %d (%s)\nschedule: %s\ntimezone: %s\n"
                    "settings:\n  store_incomplete: %s\n  max_consecutive_errors: 3\nflow:\n%s"
                    % (name, i, kind, schedule, tz, "true" if i % 5 == 0 or i in (12, 38) else "false", flow))
    return kinds


def write_interval(folder, count):
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        name = "every-%05d" % i
        with open(os.path.join(folder, name + ".yaml"), "w") as f:
            f.write("""\
scenario: %s
schedule: {interval: 1m}
flow:
  - id: 1
    module: builtin.set
    with:
      variables: {n: %d, label: "tick %s"}
  - id: 2
    module: builtin.log
    with: {message: "{{1.label}} {{1.n}}"}
""" % (name, i, name))


# ---- helpers ---------------------------------------------------------------

def ctl(args, scenarioctl, timeout=120):
    t0 = time.monotonic()
    p = subprocess.run([scenarioctl] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return p, time.monotonic() - t0


def status(d, scenarioctl):
    try:
        p, took = ctl(["--socket", d.socket_path, "status", "--json"], scenarioctl)
    except subprocess.TimeoutExpired:
        raise StepFailed("%s: `scenarioctl status` did not answer within 120 s" % d.tag)
    if p.returncode != 0:
        raise StepFailed("%s: `scenarioctl status` exited %d: %s"
                         % (d.tag, p.returncode, p.stderr.decode(errors="replace")[:2000]))
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        raise StepFailed("%s: `scenarioctl status --json` is not JSON: %s" % (d.tag, e))
    return doc, took


def pct(values, p):
    """The nearest-rank percentile the daemon uses: sorted[(n-1)*p/100]."""
    s = sorted(values)
    return s[(len(s) - 1) * p // 100] if s else 0


def sleep_until(t):
    while True:
        left = t - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 1.0))


# ---- phases ----------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        self.ok = True
        self.mix = os.path.join(self.work, "mix")
        self.connections = os.path.join(self.work, "connections.yaml")
        with open(self.connections, "w") as f:
            f.write(CONNECTIONS)
        os.environ["BENCH_CLOUDCONVERT_KEY"] = "not-a-key"
        self.kinds = write_mix(self.mix, os.path.join(self.work, "out"))

    def daemon(self, tag, scenarios, state_dir=None, env=None):
        return Daemon(self.a.scenariod, self.work, scenarios, self.connections,
                      state_dir or os.path.join(self.work, tag + "-state"), tag, env)

    def check(self, ok):
        self.ok = self.ok and ok

    # 2. cold and warm starts
    def phase_start(self):
        n = self.a.starts
        log("")
        log("== start to READY=1, %d scenarios (%s) ==" % (
            len(self.kinds), ", ".join("%d %s" % (self.kinds.count(k), k)
                                       for k in sorted(set(self.kinds)))))
        cold, warm = [], []
        for i in range(n):
            d = self.daemon("start-%d" % i, self.mix)
            cold.append(d.start())
            self.expect_loaded(d, len(self.kinds))
            d.stop()
        # Warm: the same store again and again.
        state = os.path.join(self.work, "start-0-state")
        for i in range(n):
            d = self.daemon("warm", self.mix, state_dir=state)
            warm.append(d.start())
            d.stop()
        ms = lambda v: v * 1000
        version = []
        for _ in range(n):
            t0 = time.monotonic()
            subprocess.run([self.a.scenariod, "--version"], stdout=subprocess.DEVNULL)
            version.append(time.monotonic() - t0)
        note("cold (fresh state dir each): median %.1f ms, min %.1f, max %.1f (%d starts)"
             % (ms(statistics.median(cold)), ms(min(cold)), ms(max(cold)), n))
        note("warm (existing store):       median %.1f ms, min %.1f, max %.1f (%d starts)"
             % (ms(statistics.median(warm)), ms(min(warm)), ms(max(warm)), n))
        note("`scenariod --version` (exec, loading and linking the libraries, exit): "
             "median %.1f ms" % ms(statistics.median(version)))
        self.check(figure("cold start to READY=1 (100 scenarios, median)",
                          ms(statistics.median(cold)), "ms", 50))
        figure("warm start to READY=1 (100 scenarios, median)", ms(statistics.median(warm)),
               "ms", 50)

    # 1 and 4. idle RSS, idle CPU and wakeups, with and without the watchdog
    def phase_idle(self):
        secs = self.a.idle_seconds
        log("")
        log("== idle, %d scenarios, nothing due: RSS, CPU and wakeups over %.0f s ==" % (
            len(self.kinds), secs))
        plain = self.daemon("idle", self.mix)
        wd = self.daemon("idle-watchdog", self.mix, env={"WATCHDOG_USEC": "30000000"})
        for d in (plain, wd):
            d.start()
            self.expect_loaded(d, len(self.kinds))
        time.sleep(2)
        for d in (plain, wd):
            if not d.alive():
                raise StepFailed("%s: scenariod exited:\n%s" % (d.tag, d.log_tail()))
        pid = plain.proc.pid
        st = proc_status(pid)
        roll = smaps_rollup(pid)
        rss, anon, filed = kib(st, "VmRSS"), kib(st, "RssAnon"), kib(st, "RssFile")
        self.check(figure("idle RSS with 100 scenarios (VmRSS)", rss / 1024, "MiB", 10,
                          fmt="%.2f"))
        figure("idle RSS with 100 scenarios (RssAnon)", anon / 1024, "MiB", 10, fmt="%.2f")
        note("VmRSS %.2f MiB = RssAnon %.2f + RssFile %.2f + RssShmem %.2f; Pss %.2f MiB "
             "(Pss_Anon %.2f); VmHWM %.2f MiB; %s thread(s)"
             % (rss / 1024, anon / 1024, filed / 1024, kib(st, "RssShmem") / 1024,
                roll.get("Pss", 0) / 1024, roll.get("Pss_Anon", 0) / 1024,
                kib(st, "VmHWM") / 1024, st.get("Threads")))
        maps = smaps_by_object(pid)
        libs = [m for m in maps if m[0].startswith("/") and not m[0].endswith("scenariod")]
        note("%d shared objects mapped, %.2f MiB resident; the largest (Rss, of it anon):"
             % (len(libs), sum(m[1] for m in libs) / 1024))
        for name, r, an in maps[:10]:
            note("  %6.2f MiB  %5.2f  %s" % (r / 1024, an / 1024, name))
        self.library_floor()

        before = {}
        for d in (plain, wd):
            d.drain_notify()
            d.n_msgs = len(d.messages)
            before[d.tag] = (time.monotonic(), cpu_ns(d.proc.pid), cpu_ticks(d.proc.pid),
                             threads_switches(d.proc.pid))
        sleep_until(time.monotonic() + secs)
        results = {}
        for d in (plain, wd):
            if not d.alive():
                raise StepFailed("%s: scenariod exited:\n%s" % (d.tag, d.log_tail()))
            t1, n1, k1 = time.monotonic(), cpu_ns(d.proc.pid), cpu_ticks(d.proc.pid)
            s1 = threads_switches(d.proc.pid)
            t0, n0, k0, s0 = before[d.tag]
            d.drain_notify()
            watchdogs = sum(1 for _, lines in d.messages[d.n_msgs:] if "WATCHDOG=1" in lines)
            dt = t1 - t0
            vol = sum(s1[t][0] - s0.get(t, (0, 0))[0] for t in s1)
            invol = sum(s1[t][1] - s0.get(t, (0, 0))[1] for t in s1)
            cpu_ms_min = (n1 - n0) / 1e6 * 60 / dt
            label = "idle" + (" + watchdog every 15 s" if d is wd else "")
            figure("%s CPU" % label, cpu_ms_min, "ms/min", fmt="%.2f")
            figure("%s wakeups" % label, vol / dt, "/s", fmt="%.3f")
            note("%.1f s: CPU %.2f ms (schedstat; utime+stime %d ticks of %.0f ms), "
                 "voluntary switches %d, involuntary %d, threads %d, WATCHDOG=1 received %d"
                 % (dt, (n1 - n0) / 1e6, k1 - k0, 1000.0 / CLK_TCK, vol, invol, len(s1),
                    watchdogs))
            results[d.tag] = (dt, vol, watchdogs, n1 - n0)
        dt, vol, _, cpu = results["idle"]
        dtw, volw, wdn, cpuw = results["idle-watchdog"]
        expected = int(dt // 60) + (1 if (dt % 60) > 58 else 0)
        note("expected without the watchdog: the housekeeping tick every 60 s (%.3f/s); "
             "%d wakeup(s) measured in %.0f s" % (1 / 60, vol, dt))
        shared = wdn - (volw - vol)
        note("the watchdog's share: %+d wakeups (%+.3f/s) and %+.2f ms CPU for %d WATCHDOG=1 "
             "datagrams in %.0f s%s"
             % (volw - vol, volw / dtw - vol / dt, (cpuw - cpu) / 1e6, wdn, dtw,
                "; %d of them fired in the wakeup of the housekeeping tick" % shared
                if shared > 0 else ""))
        if vol > max(1, expected):
            note("more wakeups than the housekeeping tick")
            if self.a.strace:
                self.strace_idle(plain)
            else:
                note("run with STRACE=1 to see them with strace")
        plain.stop()
        wd.stop()

    def expect_loaded(self, d, count):
        """READY=1 carries STATUS=N scenarios: every file must have loaded."""
        for _, lines in d.messages:
            if "READY=1" in lines:
                for line in lines:
                    if line.startswith("STATUS=%d scenarios" % count):
                        return
                raise StepFailed("%s: READY=1 says %s, expected %d scenarios; log:\n%s"
                                 % (d.tag, [l for l in lines if l.startswith("STATUS=")],
                                    count, d.log_tail()))

    def library_floor(self):
        """RSS and exec time of an empty program linked with the daemon's
        libraries: what the daemon cannot go below without linking fewer."""
        src = os.path.join(self.work, "floor.c")
        exe = os.path.join(self.work, "floor")
        with open(src, "w") as f:
            f.write(FLOOR_C)
        def build(out, packages):
            libs = subprocess.run(["pkg-config", "--libs"] + packages, capture_output=True,
                                  text=True)
            if libs.returncode != 0:
                return "pkg-config: " + libs.stderr.strip()
            defs = [] if "libcurl" in packages else ["-DNO_CURL"]
            cc = subprocess.run(["cc", "-O2"] + defs + [src, "-o", out, "-Wl,--no-as-needed"] +
                                libs.stdout.split() + ["-lm"], capture_output=True, text=True)
            return cc.stderr[:300] if cc.returncode != 0 else None
        packages = ["libcurl", "libuv", "yaml-0.1", "libcjson", "sqlite3", "libcrypto",
                    "libsystemd"]
        problem = build(exe, packages) or build(exe + "-nocurl", packages[1:])
        if problem:
            note("library floor: skipped (%s)" % problem)
            return

        def run(args, binary=exe):
            times, out = [], ""
            for _ in range(11):
                t0 = time.monotonic()
                p = subprocess.run([binary] + args, capture_output=True, text=True)
                times.append(time.monotonic() - t0)
                out = p.stdout
            return statistics.median(times) * 1000, dict(kv.split("=") for kv in out.split())

        def run_true():
            times = []
            for _ in range(11):
                t0 = time.monotonic()
                subprocess.run(["/bin/true"])
                times.append(time.monotonic() - t0)
            return statistics.median(times) * 1000
        t_bare, r_bare = run([])
        t_init, r_init = run(["curl"])
        t_nocurl, r_nocurl = run([], exe + "-nocurl")
        mib = lambda r, k: int(r[k]) / 1024
        note("library floor, an empty main() linked with the daemon's libraries (VmRSS, "
             "anon, exec to exit; /bin/true takes %.1f ms):" % run_true())
        note("  all of them:                           %5.2f MiB  %4.2f  %4.1f ms"
             % (mib(r_bare, "VmRSS"), mib(r_bare, "RssAnon"), t_bare))
        note("  the same after curl_global_init():     %5.2f MiB  %4.2f  %4.1f ms"
             % (mib(r_init, "VmRSS"), mib(r_init, "RssAnon"), t_init))
        note("  all but libcurl (and its dependencies): %5.2f MiB  %4.2f  %4.1f ms"
             % (mib(r_nocurl, "VmRSS"), mib(r_nocurl, "RssAnon"), t_nocurl))

    def strace_idle(self, d):
        secs = 20
        out = os.path.join(self.work, "idle.strace")
        note("more wakeups than the housekeeping tick: strace -f -tt for %d s" % secs)
        try:
            p = subprocess.Popen(["strace", "-f", "-tt", "-o", out, "-e",
                                  "trace=epoll_wait,epoll_pwait,epoll_pwait2,timerfd_settime,"
                                  "futex,nanosleep,clock_nanosleep,poll,read,write",
                                  "-p", str(d.proc.pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as e:
            note("strace: %s" % e)
            return
        time.sleep(secs)
        p.send_signal(signal.SIGINT)
        p.wait()
        with open(out) as f:
            lines = f.readlines()
        note("strace: %d lines; the first 30:" % len(lines))
        for line in lines[:30]:
            note("  " + line.rstrip())

    # 3. scheduler lag with 10,000 interval scenarios
    def phase_lag(self):
        n = self.a.lag_scenarios
        run_secs = self.a.lag_seconds
        every = self.a.reading_every
        quiet = self.a.quiet_seconds
        log("")
        log("== scheduler lag, %d scenarios with {interval: 1m}, %.0f s after READY ==" % (
            n, run_secs))
        folder = os.path.join(self.work, "interval")
        state = os.path.join(self.work, "lag-state")
        t = time.monotonic()
        write_interval(folder, n)
        p, _ = ctl(["--state-dir", state, "scenarios", "--json"], self.a.scenarioctl)
        if p.returncode != 0:
            raise StepFailed("scenarioctl scenarios (creating the store) exited %d: %s"
                             % (p.returncode, p.stderr.decode(errors="replace")))
        # The installation's past: every scenario has a planned slot, spread
        # uniformly over [now + 10 s, now + 70 s), under the key that
        # schedule_key() gives {interval: 1m}, so the daemon keeps it.
        now_ms = int(time.time() * 1000)
        slots0 = {}
        rows = []
        for i in range(n):
            name = "every-%05d" % i
            slot = now_ms + 10000 + (60000 * i) // n
            slots0[name] = slot
            rows.append((name, "interval 60000", slot, slot - 60000, now_ms))
        db = sqlite3.connect(os.path.join(state, "store.db"))
        db.executemany("INSERT INTO schedules (scenario, schedule_key, next_run_at, last_run_at,"
                       " updated_at) VALUES (?, ?, ?, ?, ?)", rows)
        db.commit()
        db.close()
        note("%d files written and %d schedules stored in %.1f s"
             % (n, n, time.monotonic() - t))

        d = self.daemon("lag", folder, state_dir=state)
        started = d.start(timeout=120)
        self.expect_loaded(d, n)
        ready_wall = time.time()
        pid = d.proc.pid
        c_ready = cpu_ticks(pid)
        st = proc_status(pid)
        figure("start to READY=1 with %d scenarios" % n, started * 1000, "ms", fmt="%.0f")
        note("first slot %.1f s after READY; at READY VmRSS %.1f MiB (RssAnon %.1f, "
             "VmHWM %.1f)" % ((now_ms + 10000) / 1000 - ready_wall, kib(st, "VmRSS") / 1024,
                              kib(st, "RssAnon") / 1024, kib(st, "VmHWM") / 1024))
        self.lag_rss_ready = (kib(st, "VmRSS"), kib(st, "RssAnon"))
        hwm_before_status = None
        # Readings every `every` s, then `quiet` s without any, so that the
        # final reading's 4096 samples (about 24.6 s at 10,000 slots a
        # minute) were not delayed by an earlier status.
        plan = []
        k = 1
        while k * every <= run_secs - quiet + 0.01:
            plan.append(k * every)
            k += 1
        plan.append(run_secs)
        readings = []
        for at in plan:
            sleep_until(d.ready_at + at)
            if not d.alive():
                raise StepFailed("lag: scenariod exited:\n%s" % d.log_tail())
            if hwm_before_status is None:
                hwm_before_status = kib(proc_status(pid), "VmHWM")
            c0 = cpu_ns(pid)
            t_req = time.time()
            doc, took = status(d, self.a.scenarioctl)
            c1 = cpu_ns(pid)
            dm = doc["daemon"]
            r = dict(at=time.monotonic() - d.ready_at, t_req=t_req, took=took,
                     cpu=(c1 - c0) / 1e6,
                     p50=dm["scheduler_lag_p50_ms"], p99=dm["scheduler_lag_p99_ms"],
                     max=dm["scheduler_lag_max_ms"], fired=dm["scheduler_slots_fired"],
                     running=dm["running"], queued=dm["queued"])
            readings.append(r)
            note("t=%5.1f s  slots fired %6d  lag p50 %3d ms  p99 %4d ms  max %5d ms  "
                 "running %d queued %d  (status: %.0f ms, daemon CPU meanwhile %.0f ms)"
                 % (r["at"], r["fired"], r["p50"], r["p99"], r["max"], r["running"],
                    r["queued"], took * 1000, r["cpu"]))
        final = readings[-1]
        c_end = cpu_ticks(pid)
        st = proc_status(pid)
        window = final["at"]
        t_term = time.time()
        code = d.stop(timeout=120)  # SIGTERM
        if code != 0:
            self.check(False)
            note("scenariod exited %s after SIGTERM" % code)

        # What the store says.
        db = sqlite3.connect(os.path.join(state, "store.db"))
        execs = db.execute("SELECT scenario, started_at, finished_at, status, \"trigger\""
                           " FROM executions").fetchall()
        db.close()
        by_status = {}
        for e in execs:
            by_status[e[3]] = by_status.get(e[3], 0) + 1
        sched = [e for e in execs if e[4] == "schedule"]

        # Each execution's slot: slots are 60 s apart and runs start within
        # a second of theirs, so it is the last slot at or before the start.
        lags, per_slot, late_during_status = [], {}, []
        windows = [(int(r["t_req"] * 1000) - 50, int((r["t_req"] + r["took"]) * 1000))
                   for r in readings]
        quiet_lags = []
        for name, started_at, _, _, _ in sched:
            s0 = slots0[name]
            k = (started_at - s0) // 60000
            slot = s0 + k * 60000
            lag = started_at - slot
            lags.append(lag)
            per_slot[(name, k)] = per_slot.get((name, k), 0) + 1
            if any(a <= slot <= b for a, b in windows):
                late_during_status.append(lag)
            else:
                quiet_lags.append(lag)
        twice = sum(c - 1 for c in per_slot.values() if c > 1)
        # Slots due before the final status (less a second) must have run;
        # those due between then and SIGTERM may or may not have.
        cut = int(final["t_req"] * 1000) - 1000
        term_ms = int(t_term * 1000)
        lost = due = between = 0
        for name, s0 in slots0.items():
            k = 0
            while s0 + k * 60000 <= term_ms:
                if s0 + k * 60000 <= cut:
                    due += 1
                    if (name, k) not in per_slot:
                        lost += 1
                else:
                    between += 1
                k += 1
        finished = sorted(e[2] for e in sched if e[2])
        first_start = min((e[1] for e in sched), default=0)
        span = (finished[-1] - first_start) / 1000 if finished else 0

        log("")
        worst = max(readings, key=lambda r: r["p99"])
        self.check(figure("scheduler lag p99 (final reading, after %.0f s without status)"
                          % quiet, final["p99"], "ms", 10, fmt="%d"))
        self.check(figure("scheduler lag p99 (worst of %d readings, t=%.0f s)"
                          % (len(readings), worst["at"]), worst["p99"], "ms", 10, fmt="%d"))
        figure("scheduler lag p50 / max (final)", final["p50"], "ms / %d ms" % final["max"],
               fmt="%d")
        figure("scheduler_slots_fired (final)", final["fired"], "", fmt="%d")
        if lags:
            note("every run in the store, start minus slot (the scheduler's lag plus the "
                 "start of the run):")
            figure("  all %d runs: p50 / p99 / max" % len(lags), pct(lags, 50),
                   "/ %d / %d ms" % (pct(lags, 99), max(lags)), fmt="%d")
            figure("  %d runs whose slot fell during a status call: p50 / p99 / max"
                   % len(late_during_status), pct(late_during_status, 50),
                   "/ %d / %d ms" % (pct(late_during_status, 99), max(late_during_status or [0])),
                   fmt="%d")
            figure("  %d other runs: p50 / p99 / max" % len(quiet_lags), pct(quiet_lags, 50),
                   "/ %d / %d ms" % (pct(quiet_lags, 99), max(quiet_lags or [0])), fmt="%d")
        tooks = [r["took"] * 1000 for r in readings]
        figure("status with %d scenarios: median time / daemon CPU" % n,
               statistics.median(tooks), "ms / %.0f ms" % statistics.median(r["cpu"] for r in readings),
               fmt="%.0f")
        cpu_s = (c_end - c_ready) / CLK_TCK
        figure("daemon CPU from READY to the final status", cpu_s,
               "s in %.0f s = %.0f %% of a core, %.2f ms per run" % (
                   window, 100 * cpu_s / window, 1000 * cpu_s / max(1, final["fired"])),
               fmt="%.1f")
        figure("daemon RSS at the end (VmRSS)", kib(st, "VmRSS") / 1024,
               "MiB (RssAnon %.1f, RssFile %.1f); VmHWM %.1f MiB, %.1f MiB before the first "
               "status" % (kib(st, "RssAnon") / 1024, kib(st, "RssFile") / 1024,
                           kib(st, "VmHWM") / 1024, (hwm_before_status or 0) / 1024))
        figure("runs completed per second (first start to last finish)",
               len(finished) / span if span else 0,
               "/s (%d scenarios / 60 s = %.1f/s due)" % (n, n / 60), fmt="%.1f")
        note("executions: %s; with trigger schedule %d"
             % (", ".join("%s %d" % kv for kv in sorted(by_status.items())), len(sched)))
        asked_ms = int(final["t_req"] * 1000)
        before = sum(1 for e in sched if e[1] <= asked_ms)
        note("slots fired per the final status %d; executions started before scenarioctl "
             "status was run %d (%+d: slots that fired while it started and connected); "
             "all executions %d (%+d: the slots that fired after the final status and "
             "before SIGTERM, %d fell due then)"
             % (final["fired"], before, before - final["fired"], len(sched),
                len(sched) - final["fired"], between))
        note("slot by slot: %d slots due before the final status, %d without an execution, "
             "%d with more than one" % (due, lost, twice))
        ok = lost == 0 and twice == 0 and 0 <= len(sched) - final["fired"] <= between
        self.check(ok)
        log("slot accounting: %d lost, %d run twice, executions - slots fired = %+d %s"
            % (lost, twice, len(sched) - final["fired"], "(ok)" if ok else " MISSED"))
        late = {}
        for name, started_at, _, _, _ in sched:
            s0 = slots0[name]
            slot = s0 + ((started_at - s0) // 60000) * 60000
            if started_at - slot > 10:
                sec = int(slot / 1000 - ready_wall)
                late[sec] = late.get(sec, 0) + 1
        if late:
            note("runs started > 10 ms after their slot, by second after READY "
                 "(second:count); status calls at %s:"
                 % ", ".join("%.0f" % (r["t_req"] - ready_wall) for r in readings))
            note("  " + ", ".join("%d:%d" % kv for kv in sorted(late.items())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenariod", required=True)
    ap.add_argument("--scenarioctl", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--phases", default="idle,start,lag")
    ap.add_argument("--starts", type=int, default=11)
    ap.add_argument("--idle-seconds", type=float, default=62)
    ap.add_argument("--lag-scenarios", type=int, default=10000)
    ap.add_argument("--lag-seconds", type=float, default=150)
    ap.add_argument("--reading-every", type=float, default=20)
    ap.add_argument("--quiet-seconds", type=float, default=30)
    ap.add_argument("--strace", action="store_true")
    a = ap.parse_args()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        b = Bench(a)
        for phase in a.phases.split(","):
            getattr(b, "phase_" + phase)()
    except StepFailed as e:
        print("FAILED: %s" % e, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        kill_all()
    return 0 if b.ok else 3


if __name__ == "__main__":
    sys.exit(main())
