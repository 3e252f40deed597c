"""Benchmark: import a 千牛 export pair into SQLite with kefu vs a naive pandas read_csv + to_sql, same files, same run.

Run:  .venv/bin/python bench/import_bench.py            (1,000,000 orders, about 1.5 M lines)
      .venv/bin/python bench/import_bench.py --orders 100000

Each phase runs in its own process so its peak memory (max RSS) is measured alone. It prints the time of each phase,
the ratio kefu / baseline, the re-import's new rows (must be 0) and peak memory at this size and at a tenth of it
(a streaming importer's memory stays flat as the file grows), and the machine's load average, since other work on it
inflates every figure. Needs pandas for the baseline (pip install -e .[bench]).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _files(out: Path, orders: int, seed: int) -> tuple[Path, Path]:
    from kefu.demo.export_writer import write_bench_exports

    folder = out / f"orders-{orders}-seed-{seed}"
    done = folder / "done.json"
    if done.exists():
        paths = json.loads(done.read_text())
        return Path(paths["orders"]), Path(paths["lines"])
    started = time.perf_counter()
    orders_path, lines_path = write_bench_exports(folder, orders, seed)
    done.write_text(json.dumps({"orders": str(orders_path), "lines": str(lines_path)}))
    print(f"generated {orders:,} orders in {time.perf_counter() - started:.1f}s → {folder}", file=sys.stderr)
    return orders_path, lines_path


def phase_kefu(db: Path, orders_path: Path, lines_path: Path) -> dict:
    from kefu.services.import_orders import import_taobao_files
    from kefu.store.database import Store

    store = Store(f"sqlite:///{db}")
    started = time.perf_counter()
    results = import_taobao_files(store, [orders_path, lines_path], "bench")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows_read": sum(r.rows_read for r in results),
        "rows_new": sum(r.rows_new for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "errors": [r.error for r in results if r.error],
    }


def phase_pandas(db: Path, orders_path: Path, lines_path: Path) -> dict:
    import sqlite3

    import pandas as pd

    started = time.perf_counter()
    conn = sqlite3.connect(db)
    rows = 0
    for path, table in ((orders_path, "orders"), (lines_path, "order_lines")):
        frame = pd.read_csv(path, encoding="gbk", dtype=str)
        rows += len(frame)
        frame.to_sql(table, conn, if_exists="replace")
    conn.commit()
    conn.close()
    return {"seconds": time.perf_counter() - started, "rows_read": rows}


PHASES = {"kefu": phase_kefu, "pandas": phase_pandas}


def run_phase(name: str, db: Path, orders_path: Path, lines_path: Path) -> dict:
    """Run one phase in a child process; returns its figures plus its peak RSS in MiB."""
    code = (
        "import json,resource,sys; sys.path.insert(0, %r); from bench.import_bench import PHASES; from pathlib import Path;"
        "r = PHASES[%r](Path(%r), Path(%r), Path(%r));"
        "r['peak_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        "r['reader_peak_mib'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; print(json.dumps(r))"
    ) % (str(ROOT), name, str(db), str(orders_path), str(lines_path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--skip-memory-check", action="store_true", help="do not run the tenth-size import")
    args = parser.parse_args()

    orders_path, lines_path = _files(args.out, args.orders, args.seed)
    load_before = os.getloadavg()[0]
    size_mib = (orders_path.stat().st_size + lines_path.stat().st_size) / 2**20
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        tmp = Path(tmp)
        baseline = run_phase("pandas", tmp / "pandas.db", orders_path, lines_path)
        first = run_phase("kefu", tmp / "kefu.db", orders_path, lines_path)
        again = run_phase("kefu", tmp / "kefu.db", orders_path, lines_path)
        small = None
        if not args.skip_memory_check and args.orders >= 10_000:
            small_orders, small_lines = _files(args.out, args.orders // 10, args.seed)
            small = run_phase("kefu", tmp / "small.db", small_orders, small_lines)

    speedup = baseline["seconds"] / first["seconds"]
    print(f"\nkefu import benchmark — {args.orders:,} orders, {first['rows_read']:,} rows, {size_mib:.0f} MiB of GBK CSV")
    print(f"  machine: {os.cpu_count()} cores, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
          "(other work on the machine slows every phase)")
    print(f"  naive pandas read_csv + to_sql : {baseline['seconds']:7.1f} s   peak {baseline['peak_mib']:6.0f} MiB")
    print(f"  kefu import (first)            : {first['seconds']:7.1f} s   peak {first['peak_mib']:6.0f} MiB   "
          f"(reader process {first['reader_peak_mib']:.0f} MiB)   new rows {first['rows_new']:,}, "
          f"rejected {first['rows_rejected']}")
    print(f"  kefu re-import (same files)    : {again['seconds']:7.1f} s   peak {again['peak_mib']:6.0f} MiB   "
          f"new rows {again['rows_new']}")
    if small:
        print(f"  kefu import at a tenth the size: {small['seconds']:7.1f} s   peak {small['peak_mib']:6.0f} MiB   "
              f"memory ratio full/tenth = {first['peak_mib'] / small['peak_mib']:.2f}")
    print(f"  speed ratio (baseline / kefu)  : {speedup:.2f}×   goal ≥ 3×, ≤ 60 s, re-import adds 0 rows")
    if first["errors"] or again["rows_new"] != 0:
        raise SystemExit(f"benchmark failed: errors={first['errors']} re-import new rows={again['rows_new']}")


if __name__ == "__main__":
    main()
