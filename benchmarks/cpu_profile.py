"""Where the CPU goes, per step: cProfile over N in-process flows (Django test client,
benchmarks.settings: the demo's settings, DEBUG off, in-memory SQLite or BENCH_DATABASE_URL).

    .venv/bin/python -m benchmarks.cpu_profile [-n 200] [--top 12] [--step STEP] [--callers NAME]
                                               [--dump FOLDER]

For each step: the profiled CPU per request, its self time by package (Django's ORM, templates,
rar_provider, DOT, oauthlib, jsonschema, jwcrypto/cryptography ...), the functions with the most
self time, and the rar_provider/DOT/oauthlib functions with the most cumulative time. ``--dump``
writes one .pstats file per step (for snakeviz, pstats or gprof2dot). cProfile's own overhead
inflates many small calls; compare the shares, not the absolute figures, with benchmarks/load.py.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from .queries import ROOT, STEPS, demo_database, run_flows

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

#: How a frame's file is named in the package breakdown (first match wins).
PACKAGES = [
    ("/rar_provider/", "rar_provider"),
    ("/demo_site/", "demo_site"),
    ("/oauth2_provider/", "DOT"),
    ("/oauthlib/", "oauthlib"),
    ("/django/db/", "django.db (ORM, SQL)"),
    ("/django/template/", "django.template"),
    ("/django/test/", "test client (not in a server)"),
    ("/django/", "django (other)"),
    ("/jsonschema", "jsonschema"),
    ("/referencing/", "jsonschema"),
    ("/regress/", "regress (ECMA regex)"),
    ("/jwcrypto/", "jwcrypto"),
    ("/cryptography/", "cryptography"),
    ("/rest_framework/", "DRF"),
    ("/axes/", "django-axes"),
    ("/django_prometheus/", "prometheus"),
    ("/prometheus_client/", "prometheus"),
    ("/django_ratelimit/", "django-ratelimit"),
    ("/whitenoise/", "whitenoise"),
    ("/sqlite3/", "sqlite3"),
    ("/json/", "json"),
    ("/logging/", "logging"),
]
APP_LAYERS = ("/rar_provider/", "/oauth2_provider/", "/oauthlib/", "/demo_site/")


def package_of(filename: str, function: str) -> str:
    if filename == "~":  # a function written in C
        return "sqlite3 (C)" if "Cursor" in function and "execute" in function else "builtins (C)"
    for marker, name in PACKAGES:
        if marker in filename:
            return name
    return "python stdlib/other"


def where(key) -> str:
    filename, line, function = key
    if filename == "~":
        return function.split(" at 0x")[0].strip("<>")
    short = filename.split("site-packages/")[-1].split("/lib/python3.")[-1].removeprefix(str(ROOT) + "/")
    short = re.sub(r"^\d+/", "", short)  # "11/urllib/parse.py": the standard library
    return f"{function} ({short}:{line})"


def report(step: str, stats: pstats.Stats, n: int, top: int) -> str:
    raw = stats.stats  # {(file, line, function): (primitive calls, calls, self s, cumulative s, callers)}
    total = sum(tt for _, _, tt, _, _ in raw.values())
    per_request = 1000 * total / n
    lines = [f"### {step}: {per_request:.2f} ms CPU per request under cProfile ({n} requests)", ""]
    by_package: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, tt, _, _) in raw.items():
        by_package[package_of(filename, function)] += tt
    lines += ["| self time by package | ms/req | share |", "|---|--:|--:|"]
    for name, tt in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {name} | {1000 * tt / n:.2f} | {100 * tt / total:.0f}% |")
    lines += ["", "| most self time | calls/req | self ms/req |", "|---|--:|--:|"]
    for key, (_, calls, tt, _, _) in sorted(raw.items(), key=lambda item: -item[1][2])[:top]:
        lines.append(f"| {where(key)} | {calls / n:.0f} | {1000 * tt / n:.3f} |")
    lines += [
        "",
        "| rar_provider / DOT / oauthlib: most cumulative time | calls/req | cum ms/req |",
        "|---|--:|--:|",
    ]
    app = [(k, v) for k, v in raw.items() if any(layer in k[0] for layer in APP_LAYERS)]
    for key, (_, calls, _, ct, _) in sorted(app, key=lambda item: -item[1][3])[: top + 6]:
        lines.append(f"| {where(key)} | {calls / n:.0f} | {1000 * ct / n:.2f} |")
    return "\n".join(lines)


def callers(stats: pstats.Stats, n: int, name: str) -> str:
    """Who calls the functions named ``name`` (substring), and how often per request."""
    lines = [f"| callers of {name} | calls/req | cum ms/req |", "|---|--:|--:|"]
    for key, (_, _, _, _, called_by) in stats.stats.items():
        if name in key[2]:
            for caller, (_, calls, _, ct) in sorted(called_by.items(), key=lambda item: -item[1][1]):
                lines.append(f"| {where(caller)} -> {key[2]} | {calls / n:.0f} | {1000 * ct / n:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="flows to profile (default 200)")
    parser.add_argument("--top", type=int, default=12, help="rows per table (default 12)")
    parser.add_argument("--step", choices=STEPS, action="append", help="only this step (repeatable)")
    parser.add_argument("--callers", action="append", default=[], help="who calls this function (repeatable)")
    parser.add_argument("--dump", type=Path, help="write <step>.pstats files into this folder")
    args = parser.parse_args(argv)
    steps = args.step or list(STEPS)
    with demo_database():
        profilers = {name: cProfile.Profile() for name in steps}
        counts: dict[str, int] = defaultdict(int)
        warm = {"done": False}

        def measured(name, call):
            if not warm["done"] or name not in profilers:
                return call()
            counts[name] += 1
            profilers[name].enable()
            try:
                return call()
            finally:
                profilers[name].disable()

        run_flows(3, measured)  # imports, caches and compiled schemas are not what a server pays per request
        warm["done"] = True
        started = time.perf_counter()
        run_flows(args.n, measured)
        print(f"# cProfile, {args.n} flows in {time.perf_counter() - started:.1f} s (profiled)\n")
        for name in steps:
            stats = pstats.Stats(profilers[name])
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                stats.dump_stats(args.dump / f"{name.replace(' ', '-')}.pstats")
            print(report(name, stats, counts[name], args.top) + "\n")
            for function in args.callers:
                print(callers(stats, counts[name], function) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
