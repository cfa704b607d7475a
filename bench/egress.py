"""python -m bench.egress: the latency a proxied HTTP request adds (issue 8).

    python -m bench.egress [--n 1000] [--out FILE.json]

One local HTTP/1.1 server (a separate process, so it never shares this process's GIL)
answers a small JSON body on 127.0.0.1. The same GET is timed three ways, one new
connection per request in each (as ``requests.get`` does without a session):

  direct      http.client in this process: what an unconfined tool would pay;
  supervisor  ``sandbox.egress.fetch.serve`` in this process, no child: the policy checks,
              address checks, pinned connection and JSON answer, without the channel;
  proxied     ``requests.get`` in a tool in a confined child, timed inside the tool:
              child -> supervisor frame, the supervisor's fetch, the answer frame, the
              child's Response. The figure the issue asks for is proxied - direct.

The URL is an address the policy names (127.0.0.1), so no DNS lookup is timed. Reported:
median, p90, p99 and mean in milliseconds, and the added latency of the medians and p99s.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sandbox.compile.compiler import compile_bundle
from sandbox.egress import fetch
from sandbox.egress.errors import EgressRecord
from sandbox.egress.policy import EgressPolicy
from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
from sandbox.supervisor.pool import Pool, PoolConfig

PER_CALL = 100  # requests per tool call (the egress policy's cap is raised to this)

TOOL = """
import json
import requests
import time

def tool(conv, url, n):
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        r = requests.get(url)
        timings.append(time.perf_counter() - started)
        if r.status_code != 200 or r.json()["ok"] is not True:
            raise ValueError("unexpected response")
    return {"content": json.dumps(timings)}
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = json.dumps({"ok": True, "customer": {"id": "C-1", "name": "Ada"}}).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def serve(port_file: str) -> None:
    """The server process: bind port 0 on loopback, write the port, serve until killed."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def start_server(workdir: Path) -> tuple[subprocess.Popen, int]:
    port_file = workdir / "egress-bench-port"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.egress", "--serve", str(port_file)], cwd=Path(__file__).resolve().parents[1]
    )
    for _ in range(500):
        if port_file.exists() and port_file.read_text():
            return proc, int(port_file.read_text())
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("the bench HTTP server did not start")


def time_direct(port: int, n: int) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/customer", headers={"Connection": "close"})
        response = connection.getresponse()
        json.loads(response.read())
        connection.close()
        timings.append(time.perf_counter() - started)
    return timings


def time_supervisor(policy: EgressPolicy, url: str, n: int) -> list[float]:
    message = {
        "op": "http",
        "method": "GET",
        "url": url,
        "headers": [],
        "body": None,
        "timeout": None,
        "redirects": True,
    }
    timings = []
    for _ in range(n):
        record = EgressRecord()
        started = time.perf_counter()
        answer = json.loads(
            fetch.serve(
                message,
                policy=policy,
                record=record,
                deadline=time.monotonic() + 5,
                deadline_ms=5000,
                secrets=[],
                redact=lambda text: text,
            )
        )
        timings.append(time.perf_counter() - started)
        if not answer.get("ok"):
            raise RuntimeError(f"supervisor fetch failed: {answer}")
    return timings


def time_proxied(policy: EgressPolicy, url: str, n: int) -> list[float]:
    bundle = compile_bundle({"bench_egress.py": TOOL})
    timings: list[float] = []
    with Pool(PoolConfig(ready_children=2)) as pool:
        while len(timings) < n:
            count = min(PER_CALL, n - len(timings))
            result = pool.execute(
                CallRequest(
                    tenant="bench",
                    bundle=bundle,
                    function="tool",
                    input=validate_input(args={"url": url, "n": count}),
                    deadline=requested_deadline(5000),
                    egress=policy,
                )
            )
            if not result.ok:
                raise RuntimeError(f"the proxied call failed: {result.status.value} {result.error}")
            timings.extend(json.loads(result.action["content"]))
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000.0 for t in timings)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100.0 * (len(ms) - 1)))]

    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(pct(90), 3),
        "p99_ms": round(pct(99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def run(n: int, warmup: int) -> dict:
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    proc, port = start_server(workdir)
    try:
        url = f"http://127.0.0.1:{port}/customer"
        policy = EgressPolicy().with_address("127.0.0.1", ports=[port]).with_limits(max_requests=PER_CALL)
        time_direct(port, warmup)
        time_supervisor(policy, url, warmup)
        results = {
            "direct": summary(time_direct(port, n)),
            "supervisor": summary(time_supervisor(policy, url, n)),
            "proxied": summary(time_proxied(policy, url, n + warmup)[warmup:]),
        }
    finally:
        proc.kill()
        proc.wait()
    results["added"] = {
        "median_ms": round(results["proxied"]["median_ms"] - results["direct"]["median_ms"], 3),
        "p99_ms": round(results["proxied"]["p99_ms"] - results["direct"]["p99_ms"], 3),
        "of_which_supervisor_median_ms": round(results["supervisor"]["median_ms"] - results["direct"]["median_ms"], 3),
    }
    results["meta"] = {
        "command": " ".join(["python -m bench.egress", *sys.argv[1:]]),
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.egress", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="timed requests per way (default 1000)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    results = run(args.n, args.warmup)
    print(f"{'':12} {'median':>9} {'p90':>9} {'p99':>9} {'mean':>9}   (ms, n={args.n})")
    for way in ("direct", "supervisor", "proxied"):
        row = results[way]
        print(f"{way:12} {row['median_ms']:9.3f} {row['p90_ms']:9.3f} {row['p99_ms']:9.3f} {row['mean_ms']:9.3f}")
    added = results["added"]
    print(
        f"added by proxying: median {added['median_ms']:.3f} ms, p99 {added['p99_ms']:.3f} ms "
        f"(supervisor's share of the median: {added['of_which_supervisor_median_ms']:.3f} ms)"
    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
