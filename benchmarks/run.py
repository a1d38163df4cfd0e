"""Run every benchmark offline against the stand-ins and print one table: `make bench`.

Each benchmark runs in its own process (clean imports and memory numbers); `--only NAME` picks some,
`--quick` runs fewer graphs and runs (for a smoke check, not for the README).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.harness import REPO, ROWS_MARK, machine, table

BENCHMARKS = {  # name: (module in benchmarks/, its arguments)
    "critical_path": ("critical_path", []),
    "plan_stream": ("plan_stream", []),
    "overhead": ("overhead", []),
    "startup": ("startup", []),
    "prompt_size": ("prompt_size", []),
    "tool_selection": ("tool_selection", []),
    "concurrency": ("concurrency", ["--store", "sqlite"]),
    "concurrency_postgres": ("concurrency", ["--store", "postgres"]),
    "store_size": ("store_size", []),
    "local": ("local", []),
}
QUICK = {
    "critical_path": ["--singles", "2", "--chains", "2", "--dags", "3"],
    "plan_stream": ["--chains", "1", "--dags", "2"],
    "concurrency": ["--runs", "20"],
    "concurrency_postgres": ["--runs", "20"],
    "store_size": ["--turns", "25"],
}


def run_one(name: str, args: list[str]) -> tuple[list[dict], float]:
    env = {**os.environ, "BENCH_JSON": "1", "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    module, fixed = BENCHMARKS[name]
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *fixed, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith(ROWS_MARK)]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
        failed = {"benchmark": name, "metric": "did not finish", "value": f"exit {done.returncode}"}
        return [{**failed, "target": "finish", "ok": False}], seconds
    return json.loads(lines[-1][len(ROWS_MARK) :]), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--quick", action="store_true", help="fewer graphs and runs")
    parser.add_argument("--json", metavar="FILE", help="also write the rows and the machine to FILE")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    started = time.perf_counter()
    for name in args.only or BENCHMARKS:
        extra = QUICK.get(name, []) if args.quick else []
        print(f"running {name} ...", file=sys.stderr, flush=True)
        got, seconds = run_one(name, extra)
        print(f"  {name}: {seconds:.0f} s", file=sys.stderr, flush=True)
        print(table(got), file=sys.stderr, flush=True)  # as it goes: a stopped run keeps what it measured
        rows += got
    print(table(rows))
    print(f"\nMachine: {machine()}")
    print(f"Took {time.perf_counter() - started:.0f} s.")
    missed = [r for r in rows if "ok" in r and not r["ok"]]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"machine": machine(), "rows": rows}, out, indent=1)
    if missed:
        print(f"{len(missed)} target(s) missed.")
    return 1 if any(r["metric"] == "did not finish" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
