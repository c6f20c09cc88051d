#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Check Prometheus text on stdin with the reference parser (Debian python3-prometheus-client).

usage: check_metrics.py [--exact] [--family NAME=TYPE]... [--sample 'NAME{LABELS} VALUE']...

Always: the text parses; families are not split or repeated; each has HELP text and a TYPE of
counter, gauge or histogram; counter samples end in _total; a histogram's buckets grow with le
and end with le="+Inf" equal to its _count; no series appears twice. --family: the family
exists with that type (NAME as written, counters with their _total). --sample: a series with
exactly these labels and this value exists. --exact: the text has the --family families only.
Problems go to stderr, one a line; the exit status is 1 if there was any.
"""
import argparse
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def family_name(name, families):
    """The parser names a counter family without _total: find NAME either way."""
    if name in families:
        return name
    if name.endswith("_total") and name[: -len("_total")] in families:
        return name[: -len("_total")]
    return None


def histogram_problems(f):
    """Per series (labels but le): cumulative buckets, the last +Inf, equal to _count."""
    buckets, counts, problems = {}, {}, []
    for s in f.samples:
        rest = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        if s.name == f.name + "_bucket":
            buckets.setdefault(rest, []).append((float(s.labels["le"]), s.value))
        elif s.name == f.name + "_count":
            counts[rest] = s.value
    for rest, b in buckets.items():
        if [le for le, _ in b] != sorted(le for le, _ in b) or b[-1][0] != math.inf:
            problems.append(f"histogram {f.name}{dict(rest)}: buckets not ending in +Inf")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            problems.append(f"histogram {f.name}{dict(rest)}: buckets not cumulative")
        if counts.get(rest) != b[-1][1]:
            problems.append(f"histogram {f.name}{dict(rest)}: +Inf bucket is not _count")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--family", action="append", default=[], metavar="NAME=TYPE")
    ap.add_argument("--sample", action="append", default=[], metavar="LINE")
    args = ap.parse_args()
    problems = []

    try:
        parsed = list(text_string_to_metric_families(sys.stdin.read()))
    except Exception as e:  # the parser raises ValueError and others on bad text
        print(f"text does not parse: {e!r}", file=sys.stderr)
        return 1

    families, series = {}, {}
    for f in parsed:
        if f.name in families:
            problems.append(f"family {f.name} appears twice (split or repeated)")
        families[f.name] = f
        if f.type not in ("counter", "gauge", "histogram"):
            problems.append(f"family {f.name}: type {f.type}, want counter, gauge or histogram")
        if f.type == "histogram":
            problems += histogram_problems(f)
        if not f.documentation:
            problems.append(f"family {f.name}: no HELP text")
        for s in f.samples:
            if f.type == "counter" and not s.name.endswith("_total"):
                problems.append(f"counter sample {s.name} does not end in _total")
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in series:
                problems.append(f"series {s.name}{s.labels} appears twice")
            series[key] = s.value

    wanted = set()
    for spec in args.family:
        name, _, typ = spec.partition("=")
        found = family_name(name, families)
        if found is None:
            problems.append(f"family {name}: missing")
            continue
        wanted.add(found)
        if families[found].type != typ:
            problems.append(f"family {name}: type {families[found].type}, want {typ}")
    if args.exact and set(families) != wanted:
        problems.append(f"families {sorted(set(families) - wanted)} not expected")

    for line in args.sample:
        want = next(text_string_to_metric_families(line + "\n")).samples[0]
        key = (want.name, tuple(sorted(want.labels.items())))
        if key not in series:
            problems.append(f"series {want.name}{want.labels}: missing")
        elif not math.isclose(series[key], want.value, rel_tol=1e-12):
            problems.append(f"series {want.name}{want.labels}: value {series[key]}, "
                            f"want {want.value}")

    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
