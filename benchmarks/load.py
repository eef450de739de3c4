"""Load over real HTTP: rate, p50/p99 latency and server CPU per step, ours beside node-oidc-provider
and stock django-oauth-toolkit (issue 11, point 8).

    .venv/bin/python -m benchmarks.load [-n 300] [--flows 150] [-c 8] [--database-url URL]
                                        [--access-tokens jwt|opaque] [--servers ours,node,dot]
                                        [--json FILE]

Each server is started here on a free loopback port with a fresh database (SQLite files; PostgreSQL
databases created and dropped on the server of ``--database-url``), measured alone, then stopped:

- ``ours``: the demo under scripts/serve (gunicorn, 2 sync workers, DEBUG off);
- ``node``: node-oidc-provider 9 (benchmarks/node/server.mjs; ``make bench-deps`` installs it);
- ``dot``: stock django-oauth-toolkit (benchmarks/stock_dot) under the same gunicorn settings.

Steps, each N times at concurrency C, each fed by the previous one: push (PAR), authorize+consent
(the front channel, as a logged-in browser: every request up to the redirect with the code), code
exchange, refresh, introspection; then M whole flows (push, authorize+consent, code exchange).
Server CPU per unit is the utime+stime growth of the server's processes (/proc) over the step
divided by the units sent. Figures, not a test: exit status 0 unless a server fails to start.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import servers
from .flows import Client, Flow, StepError

STEPS = ("push", "authorize+consent", "code exchange", "refresh", "introspection", "whole flow")
#: Issue 11, point 8: server CPU (ms) per unit, and the ceiling of ours / stock DOT.
TARGETS = {"push": 2.0, "code exchange": 3.0, "whole flow": 25.0}
DOT_RATIO_AIM = 1.3


@dataclass
class StepResult:
    """One step's figures on one server. Times in seconds; CPU in seconds over the whole step."""

    step: str
    units: int
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    requests: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return (self.units - self.errors) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per unit (per request, per authorization, per flow)."""
        return 1000 * self.server_cpu / self.units if self.units else 0.0

    def summary(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "latencies"}
        data.update(
            rate=self.rate,
            p50_ms=1000 * self.percentile(50),
            p99_ms=1000 * self.percentile(99),
            cpu_ms=self.cpu_ms,
        )
        return data


def run_step(server, name: str, work, flows: list[Flow], concurrency: int) -> tuple[StepResult, list[Flow]]:
    """Run ``work`` on every flow with ``concurrency`` threads; measure; return the flows that passed."""
    result = StepResult(name, len(flows))
    outcomes: list[tuple[Flow, float, int | str]] = []

    def one(flow: Flow):
        started = time.perf_counter()
        try:
            sent = work(flow)
        except (StepError, OSError) as error:
            sent = f"{type(error).__name__}: {error}"
        return flow, time.perf_counter() - started, sent

    cpu_before, client_before = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    pool = ThreadPoolExecutor(concurrency)
    try:
        outcomes = list(pool.map(one, flows))
    finally:  # on Ctrl-C: drop the flows not started, so the servers are stopped at once
        pool.shutdown(wait=True, cancel_futures=True)
    result.elapsed = time.perf_counter() - started
    result.server_cpu = server.cpu_seconds() - cpu_before
    result.client_cpu = time.process_time() - client_before
    passed = []
    for flow, seconds, sent in outcomes:
        if isinstance(sent, str):
            result.errors += 1
            result.first_error = result.first_error or sent
        else:
            passed.append(flow)
            result.latencies.append(seconds)
            result.requests += sent
    return result, passed


def measure(server, n: int, n_flows: int, concurrency: int, access_tokens: str) -> dict[str, StepResult]:
    """Warm the server up, then run every step it has; return the figures by step."""
    client = Client(server.url, pushed=server.kind != "dot", login_page=server.kind != "node")
    for _ in range(concurrency):
        client.add_browser()
    warm = [Flow.new() for _ in range(2 * concurrency)]
    for work in (client.whole_flow, client.refresh):
        _, warm = run_step(server, "warm-up", work, warm, concurrency)
    results: dict[str, StepResult] = {}
    flows = [Flow.new() for _ in range(n)]
    steps = [
        ("push", client.push),
        ("authorize+consent", client.authorize),
        ("code exchange", client.exchange),
        ("refresh", client.refresh),
        ("introspection", client.introspect),
    ]
    for name, work in steps:
        if name == "push" and server.kind == "dot":
            continue  # stock DOT has no PAR: its front channel takes the request in the query
        if name == "introspection" and server.kind == "node" and access_tokens == "jwt":
            results[name] = StepResult(
                name, 0, note="n/a: node-oidc-provider does not introspect JWT access tokens"
            )
            continue
        results[name], flows = run_step(server, name, work, flows, concurrency)
    results["whole flow"], _ = run_step(
        server, "whole flow", client.whole_flow, [Flow.new() for _ in range(n_flows)], concurrency
    )
    return results


UNITS = {"authorize+consent": "authorization", "whole flow": "flow"}


def server_table(label: str, results: dict[str, StepResult], concurrency: int) -> str:
    lines = [
        f"### {label}, concurrency {concurrency}",
        "",
        "| step | unit | n | errors | rate /s | p50 ms | p99 ms | server CPU ms/unit | HTTP req/unit "
        "| load-gen CPU ms/unit |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    notes = []
    for name in STEPS:
        r = results.get(name)
        if r is None:
            continue
        if r.note:
            lines.append(f"| {name} | | | | | | | {r.note} | | |")
            continue
        ok = max(1, r.units - r.errors)
        lines.append(
            f"| {name} | {UNITS.get(name, 'request')} | {r.units} | {r.errors} | {r.rate:.0f} "
            f"| {1000 * r.percentile(50):.1f} | {1000 * r.percentile(99):.1f} | {r.cpu_ms:.2f} "
            f"| {r.requests / ok:.1f} | {1000 * r.client_cpu / max(1, r.units):.2f} |"
        )
        if r.first_error:
            notes.append(f"- {name}: {r.errors} errors, first: {r.first_error}")
    return "\n".join(lines + ([""] + notes if notes else []))


def _ratio(ours: StepResult | None, other: StepResult | None) -> str:
    if not ours or not other or ours.note or other.note or not other.cpu_ms:
        return "n/a"
    return f"{ours.cpu_ms / other.cpu_ms:.1f}x"


def _cpu(result: StepResult | None) -> str:
    return "n/a" if result is None or result.note else f"{result.cpu_ms:.2f}"


def comparison_table(all_results: dict[str, dict[str, StepResult]]) -> str:
    ours, node, dot = (all_results.get(k, {}) for k in ("ours", "node", "dot"))
    lines = [
        "### Server CPU ms per unit, side by side",
        "",
        "| step | ours | node-oidc-provider | ours / node | stock DOT "
        f"| ours / DOT (aim <= {DOT_RATIO_AIM}x) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name in STEPS:
        mine, theirs, stock = ours.get(name), node.get(name), dot.get(name)
        lines.append(
            f"| {name} | {_cpu(mine)} | {_cpu(theirs)} | {_ratio(mine, theirs)} "
            f"| {_cpu(stock)} | {_ratio(mine, stock)} |"
        )
    lines.append("")
    lines.append("(stock DOT has no PAR: its whole flow is authorize+consent and code exchange.)")
    return "\n".join(lines)


def targets_table(ours: dict[str, StepResult], dot: dict[str, StepResult]) -> str:
    lines = ["### Issue 11 point 8 targets (ours)", "", "| target | measured | met |", "|---|--:|---|"]
    for name, limit in TARGETS.items():
        if name in ours:
            value = ours[name].cpu_ms
            lines.append(
                f"| {name} <= {limit:g} ms CPU | {value:.2f} ms | {'met' if value <= limit else 'NOT MET'} |"
            )
    for name in STEPS:
        if name in ours and name in dot and not dot[name].note and dot[name].cpu_ms:
            ratio = ours[name].cpu_ms / dot[name].cpu_ms
            verdict = "met" if ratio <= DOT_RATIO_AIM else "NOT MET"
            lines.append(f"| {name} <= {DOT_RATIO_AIM}x stock DOT | {ratio:.2f}x | {verdict} |")
    return "\n".join(lines)


def measure_all(args, folder: Path) -> tuple[dict[str, dict[str, StepResult]], dict[str, str]]:
    """Start, measure and stop each server in turn; print its table as soon as it is done."""
    databases = servers.Databases(folder, args.database_url)
    print(
        f"# benchmarks/load.py: {args.requests} units per step, {args.flows} whole flows, concurrency "
        f"{args.concurrency}, {databases.engine}, {args.access_tokens} access tokens\n",
        flush=True,
    )
    starters = {
        "ours": lambda: servers.start_ours(folder, databases, args.access_tokens, args.workers),
        "dot": lambda: servers.start_dot(folder, databases, args.workers),
        "node": lambda: servers.start_node(folder, args.access_tokens),
    }
    all_results: dict[str, dict[str, StepResult]] = {}
    labels: dict[str, str] = {}
    for kind in args.servers:
        try:
            server = starters[kind]()
        except servers.NodeMissing as missing:
            print(f"node-oidc-provider: skipped, {missing}\n", flush=True)
            continue
        try:
            all_results[kind] = measure(
                server, args.requests, args.flows, args.concurrency, args.access_tokens
            )
            labels[kind] = server.label
        finally:
            server.stop()
        print(server_table(server.label, all_results[kind], args.concurrency) + "\n", flush=True)
    return all_results, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=300, help="units per step (default 300)")
    parser.add_argument("--flows", type=int, default=150, help="whole flows (default 150)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument(
        "--access-tokens", choices=("jwt", "opaque"), default="jwt", help="ours and node's format"
    )
    parser.add_argument("--servers", default="ours,node,dot", help="which servers (default ours,node,dot)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.servers = [k.strip() for k in args.servers.split(",") if k.strip()]
    unknown = set(args.servers) - {"ours", "node", "dot"}
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")

    # Ctrl-C and SIGTERM unwind: the servers are stopped and the temporary folder removed (SIGINT's
    # handler is set even when the tool was started with SIGINT ignored, as `cmd &` in a script does).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="rar-bench-"))
    try:
        all_results, labels = measure_all(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if len(all_results) > 1 and "ours" in all_results:
        print(comparison_table(all_results) + "\n")
    if "ours" in all_results:
        print(targets_table(all_results["ours"], all_results.get("dot", {})))
    if args.json:
        payload = {
            "settings": {k: str(v) for k, v in vars(args).items()},
            "servers": {
                kind: {"label": labels[kind], "steps": {n: r.summary() for n, r in res.items()}}
                for kind, res in all_results.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
