"""The program report of a generated 500-learner year: computing it, and its exports.

Generates the year with bench/program_year.py, then times `program_report` for the fiscal
year (the figures the page, the API and the exports all start from) over repeated runs and
prints p50/p99, the SQL queries per report, peak traced memory of one report, then the JSON
answer, the CSV of the sessions and the XLSX workbook. The target is a report in ≤ 1 s.

Usage: .venv/bin/python bench/report.py [--database sqlite|postgresql] [--runs N]
       [--learners 500]
PostgreSQL: a database `manabi_bench_report` is created on BENCH_POSTGRES_URL's server
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.program_year import generate_program_year  # noqa: E402
from tutoring import create_app  # noqa: E402
from tutoring.extensions import db  # noqa: E402

BENCH_DB = "manabi_bench_report"
FISCAL_YEAR = 2025


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def show(what: str, samples: list[float], extra: str = "") -> None:
    print(
        f"{what:<44} n={len(samples):<3} p50={percentile(samples, 50) * 1000:7.1f} ms"
        f"  p99={percentile(samples, 99) * 1000:7.1f} ms  max={max(samples) * 1000:7.1f} ms{extra}"
    )


@contextmanager
def database(kind: str):
    """Yield a database URL: a temporary SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    server = make_url(
        os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    )
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    try:
        yield server.set(database=BENCH_DB).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        admin.dispose()


def timed(function, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def run(kind: str, runs: int, learners: int) -> None:
    from tutoring.reports import exports, service
    from tutoring.reports.periods import fiscal_year

    with database(kind) as url, tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True},
            instance_path=instance,
        )
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            made = generate_program_year(learners, FISCAL_YEAR, seed=1)
            print(
                f"\n== {kind}: generated in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{n} {what}" for what, n in made.items())
            )
            if kind == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
        with app.test_request_context(headers={"Accept-Language": "ja"}):
            period = fiscal_year(FISCAL_YEAR)
            queries = []

            def count_query(*_args) -> None:
                queries.append(1)

            event.listen(db.engine, "before_cursor_execute", count_query)
            report = service.program_report(period)
            event.remove(db.engine, "before_cursor_execute", count_query)
            count = len(queries)
            db.session.rollback()
            print(
                f"year: {report.study_total} study sessions held, {report.took_part} learners "
                f"took part, {len(report.learners)} learner rows"
            )
            samples = []
            for _ in range(runs):
                db.session.rollback()  # a fresh transaction, as each request has
                started = time.perf_counter()
                service.program_report(period)
                samples.append(time.perf_counter() - started)
            show("program_report (figures)", samples, f"  queries={count}")
            show(
                "report + JSON answer",
                timed(lambda: exports.report_json(service.program_report(period)), runs),
            )
            tracemalloc.start()
            service.program_report(period)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"peak traced memory of one report: {peak / 2**20:.1f} MiB")
            few = max(3, runs // 10)
            show(
                "CSV of the held sessions (part=sessions)",
                timed(
                    lambda: "".join(exports.csv_lines(service.program_report(period), "sessions")),
                    few,
                ),
            )
            show(
                "XLSX (figures, learners, sessions)",
                timed(lambda: exports.xlsx_bytes(service.program_report(period)), few),
            )
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print(
        f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--learners", type=int, default=500)
    options = parser.parse_args()
    kinds = ("sqlite", "postgresql") if options.database == "both" else (options.database,)
    print(f"program report bench: {options.learners} learners, fiscal year {FISCAL_YEAR}")
    for kind in kinds:
        run(kind, options.runs, options.learners)


if __name__ == "__main__":
    main()
