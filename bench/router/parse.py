#!/usr/bin/env python3
"""Reads wrk and h2load output for bench/router/run.sh.

  parse.py wrk FILE              -> "rps p50_ms p99_ms errors"
  parse.py h2load FILE LOGFILE   -> "rps p50_ms p99_ms errors" (percentiles from h2load's per-request log)
  parse.py cpu "LINE" TICKS CLK_TCK SECONDS -> LINE with the proxy's CPU µs per request added
  parse.py row ROW NAME "SAMPLES" "NGINX_SAMPLES" -> one markdown row (medians, ratios to nginx)
  parse.py errors NAME FILE      -> requests and failed requests of a wrk run
"""
import re
import statistics
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk_errors(text):
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    return errors


def wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    print(f"{rps:.0f} {p50:.3f} {p99:.3f} {wrk_errors(text)}")


def h2load(path, log):
    text = open(path).read()
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored", text)
    errors = int(m.group(1)) + int(m.group(2)) if m else 0
    durations = []
    for line in open(log):
        parts = line.split()
        if len(parts) >= 3:
            durations.append(int(parts[2]) / 1000.0)
    durations.sort()
    if not durations:
        raise SystemExit(f"no requests logged in {log}:\n{text}")
    p50 = durations[len(durations) // 2]
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
    print(f"{rps:.0f} {p50:.3f} {p99:.3f} {errors}")


def cpu(line, ticks, clk_tck, seconds):
    rps = float(line.split()[0])
    requests = rps * float(seconds)
    us = float(ticks) / float(clk_tck) * 1e6 / requests if requests else 0.0
    print(f"{line} {us:.1f}")


def parse_samples(text):
    values = text.split()
    return [tuple(float(v) for v in values[i:i + 5]) for i in range(0, len(values), 5)]


def row(name_of_row, proxy, samples, nginx):
    mine = parse_samples(samples)
    ref = parse_samples(nginx)
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    rps, p50, p99 = med(mine, 0), med(mine, 1), med(mine, 2)
    errors = int(sum(x[3] for x in mine))
    rps_ratio = rps / med(ref, 0)
    p99_ratio = p99 / med(ref, 2)
    cpu_us = med(mine, 4)
    cpu_ratio = cpu_us / med(ref, 4) if med(ref, 4) else 0.0
    note = f" ({errors} errors)" if errors else ""
    print(f"| {name_of_row} | {proxy}{note} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {rps_ratio:.2f} | {p99_ratio:.2f} | {cpu_us:.1f} | {cpu_ratio:.2f} |")


def errors(name, path):
    text = open(path).read()
    total = re.search(r"(\d+) requests in", text)
    print(f"{name}: {total.group(1) if total else '?'} requests during 3 restarts, {wrk_errors(text)} failed")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "wrk":
        wrk(sys.argv[2])
    elif mode == "h2load":
        h2load(sys.argv[2], sys.argv[3])
    elif mode == "cpu":
        cpu(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == "row":
        row(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == "errors":
        errors(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
