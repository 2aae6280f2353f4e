"""HTTP load on the coordinator's pages: 20 signed-in clients for a fixed time, per page p50/p95/p99.

Two steps, so the data is made once and loaded many times:

  prepare  fills a database (migrated with `flask db upgrade`) with a program year and gives
           the coordinator a password: by default bench/program_year.py's
           generate_program_year (500 learners, the last complete fiscal year, with the
           records the program report reads); `--generator attendance` takes
           bench/attendance.py's year of sessions and attendance up to today instead.
  run      serves that database (`--server embedded`: `flask run` as `make run` does;
           `--server prod`: `flask serve-prod`, PostgreSQL only) or loads a server already
           running (`--url`), signs in `--clients` coordinators through the sign-in form, and
           has each request the pages in turn for `--seconds`. Prints, per page, requests,
           requests per second, p50/p95/p99/max and errors, plus the server's memory.

Usage (docs/benchmarks.md has the figures):
  .venv/bin/python bench/http_load.py prepare --database sqlite:////tmp/year.sqlite3
  .venv/bin/python bench/http_load.py run --database sqlite:////tmp/year.sqlite3
  .venv/bin/python bench/http_load.py prepare \\
      --database postgresql+psycopg://postgres@127.0.0.1:5432/manabi_bench_http
  .venv/bin/python bench/http_load.py run --server prod --workers 2 \\
      --database postgresql+psycopg://postgres@127.0.0.1:5432/manabi_bench_http
  With the default generator the pages look at that fiscal year (see DEFAULT_PAGES).
Only 127.0.0.1 is contacted (and the PostgreSQL server named in --database).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COORDINATOR = "coordinator@example.org"
PASSWORD = "bench-coordinator-2026"  # noqa: S105 (a benchmark's throwaway account)


def last_complete_fiscal_year(now: datetime) -> int:
    """Return the fiscal year (April to March, Tokyo) that ended last before `now`."""
    from zoneinfo import ZoneInfo

    day = now.astimezone(ZoneInfo("Asia/Tokyo")).date()
    return (day.year if day.month >= 4 else day.year - 1) - 1


YEAR = last_complete_fiscal_year(datetime.now(UTC))
# The coordinator's pages, on the generated fiscal year.
DEFAULT_PAGES = {
    "dashboard": "/",
    "attendance": f"/attendance?from={YEAR}-04-01&to={YEAR + 1}-03-31",
    "report": f"/reports/program?fiscal_year={YEAR}",
}
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


# prepare


def generate_attendance_year(now: datetime) -> dict[str, int]:
    """bench/attendance.py's 500-learner year of sessions and attendance up to `now`."""
    sys.path.insert(0, str(ROOT / "bench"))
    from attendance import generate  # bench/attendance.py

    return generate(now, random.Random(2026))


def generate_last_fiscal_year(now: datetime) -> dict[str, int]:
    """bench/program_year.py's 500-learner program in the last complete fiscal year."""
    sys.path.insert(0, str(ROOT / "bench"))
    from program_year import generate_program_year  # bench/program_year.py

    return generate_program_year(learners=500, fiscal_year=last_complete_fiscal_year(now))


# name -> function(now) -> counts
GENERATORS = {"program_year": generate_last_fiscal_year, "attendance": generate_attendance_year}


def ensure_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def prepare(args: argparse.Namespace) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from tutoring import create_app
    from tutoring.auth.passwords import hash_password
    from tutoring.extensions import db
    from tutoring.people.models import User

    if args.database.startswith("postgresql"):
        ensure_postgres_database(args.database)
    folder = tempfile.mkdtemp(prefix="http-load-")  # the app's instance folder, removed below
    app = create_app(
        {"ENV": "development", "SECRET_KEY": "bench", "DATABASE_URL": args.database},
        instance_path=folder,
    )
    with app.app_context():
        upgrade()
        if db.session.scalar(select(User.id).limit(1)) is not None:
            sys.exit(f"{args.database} holds accounts already; prepare an empty database")
        started = time.perf_counter()
        made = GENERATORS[args.generator](datetime.now(UTC))
        coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR))
        coordinator.password_hash = hash_password(PASSWORD)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    print(
        f"prepared {args.database} with {args.generator} in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{value} {key}" for key, value in made.items())
    )
    shutil.rmtree(folder, ignore_errors=True)
    print(f"sign in as {COORDINATOR} / {PASSWORD}")


# run


def free_ports(count: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        probes = []
        try:
            for port in range(first, first + count):
                candidate = socket.socket()
                probes.append(candidate)
                candidate.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for candidate in probes:
                candidate.close()
    raise RuntimeError("no free ports")


class Server:
    """The app on the prepared database, in a process group of its own."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        processes = args.workers if args.server == "prod" else 1
        self.port = free_ports(processes)
        self.urls = [f"http://127.0.0.1:{self.port + n}" for n in range(processes)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTORING_")}
        env.update(
            {
                "TUTORING_DATABASE_URL": args.database,
                "TUTORING_SECRET_KEY": "bench-http-load",
                "TUTORING_TWO_FACTOR_REQUIRED_ROLES": "[]",
                # The bench signs in from one address many times.
                "TUTORING_LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
                "PYTHONUNBUFFERED": "1",
            }
        )
        python = sys.executable
        if args.server == "prod":
            env.update(
                {
                    "TUTORING_ENV": "production",
                    "TUTORING_DATA_KEYS__bench": "A" * 43 + "=",
                    "TUTORING_DATA_KEY_CURRENT": "bench",
                }
            )
            if processes > 1:
                env["TUTORING_REDIS_URL"] = args.redis
            command = (
                f"{python} -m flask --app wsgi serve-prod --workers {processes} --port {self.port}"
            )
        else:
            env["TUTORING_ENV"] = "development"
            command = f"{python} -m flask --app wsgi run --host 127.0.0.1 --port {self.port}"
        if args.server_cores:
            command = f"taskset -c {args.server_cores} {command}"
        self.log_path = folder / "server.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            shlex.split(command),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        import requests

        deadline = time.monotonic() + timeout
        waiting = list(self.urls)
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text()[-3000:])
            try:
                if requests.get(waiting[0] + "/healthz", timeout=2).status_code == 200:
                    waiting.pop(0)
                    continue
            except requests.RequestException:
                pass
            time.sleep(0.2)
        if waiting:
            raise RuntimeError("server not ready:\n" + self.log_path.read_text()[-3000:])

    def memory_mib(self, field: str) -> float:
        """Sum of `field` (VmRSS, VmHWM) over the server's process tree."""
        tree = process_tree(self.process.pid)
        total = 0
        for pid in tree:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def sign_in(base_url: str):
    """Return a requests.Session signed in as the coordinator through the sign-in form."""
    import requests

    browser = requests.Session()
    page = browser.get(base_url + "/login", timeout=30)
    match = CSRF_FIELD.search(page.text)
    if not match:
        raise RuntimeError(f"no sign-in form at {base_url}/login ({page.status_code})")
    answer = browser.post(
        base_url + "/login",
        data={"email": COORDINATOR, "password": PASSWORD, "csrf_token": match.group(1)},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", "/login"):
        raise RuntimeError(f"sign-in refused ({answer.status_code}): prepare the database first")
    return browser


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, status: int) -> None:
        with self.lock:
            if status == 200:
                self.latencies[page].append(seconds)
            else:
                self.errors[page].append(status)


def client_loop(browser, base_url, pages, offset, start, stop, results) -> None:
    names = list(pages)
    n = offset
    while time.monotonic() < start:
        time.sleep(0.01)
    while time.monotonic() < stop:
        name = names[n % len(names)]
        n += 1
        began = time.perf_counter()
        try:
            status = browser.get(base_url + pages[name], timeout=60).status_code
        except Exception:  # a refused or cut connection counts as an error
            status = 0
        if time.monotonic() <= stop:
            results.add(name, time.perf_counter() - began, status)


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> None:
    import requests

    pages = dict(DEFAULT_PAGES)
    if args.page:
        pages = dict(item.split("=", 1) for item in args.page)
    folder = Path(tempfile.mkdtemp(prefix="http-load-"))
    server = None
    if args.url:
        urls = [args.url.rstrip("/")]
    else:
        server = Server(args, folder)
        urls = server.urls
    try:
        if server:
            server.wait_ready()
            time.sleep(1)
            idle = server.memory_mib("VmRSS")
        browsers = [sign_in(urls[n % len(urls)]) for n in range(args.clients)]
        for name, path in pages.items():  # every page answers before the load starts
            status = browsers[0].get(urls[0] + path, timeout=60).status_code
            if status != 200:
                raise SystemExit(f"page {name} ({path}) answered {status}")
        results = Results()
        start = time.monotonic() + 1
        stop = start + args.seconds
        cpu_before = sum(os.times()[:2])
        threads = [
            threading.Thread(
                target=client_loop,
                args=(browsers[n], urls[n % len(urls)], pages, n, start, stop, results),
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client_cpu = sum(os.times()[:2]) - cpu_before
        print(
            f"server={args.server if server else args.url} database={args.database or '-'} "
            f"clients={args.clients} seconds={args.seconds} "
            f"load average {os.getloadavg()[0]:.2f} (2 cores: others' load included)"
        )
        print(
            "| page | path | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        )
        for name, path in pages.items():
            samples = results.latencies[name]
            errors = results.errors[name]
            print(
                f"| {name} | `{path}` | {len(samples)} | {len(samples) / args.seconds:.1f} | "
                f"{percentile(samples, 50) * 1000:.0f} | {percentile(samples, 95) * 1000:.0f} | "
                f"{percentile(samples, 99) * 1000:.0f} | {max(samples, default=0) * 1000:.0f} | "
                f"{len(errors)}{' ' + str(sorted(set(errors))) if errors else ''} |"
            )
        total = sum(len(v) for v in results.latencies.values())
        print(f"all pages: {total / args.seconds:.1f} req/s; client CPU {client_cpu:.1f} s")
        if server:
            print(
                f"server memory: idle {idle:.0f} MiB, peak {server.memory_mib('VmHWM'):.0f} MiB "
                "(sum over its processes); "
                f"this client's peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
            )
        for browser in browsers:
            browser.close()
    except requests.RequestException as error:
        raise SystemExit(f"request failed: {error}") from None
    finally:
        if server:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preparing = commands.add_parser("prepare", help="fill an empty database with a program year")
    preparing.add_argument("--database", required=True, help="SQLAlchemy URL")
    preparing.add_argument("--generator", choices=sorted(GENERATORS), default="program_year")
    running = commands.add_parser("run", help="load the coordinator's pages")
    running.add_argument("--database", help="SQLAlchemy URL of a prepared database")
    running.add_argument("--url", help="load a server already running instead")
    running.add_argument("--server", choices=("embedded", "prod"), default="embedded")
    running.add_argument("--workers", type=int, default=1, help="serve-prod processes")
    running.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="for --workers > 1")
    running.add_argument("--server-cores", help="taskset list for the server, e.g. 0")
    running.add_argument("--clients", type=int, default=20)
    running.add_argument("--seconds", type=float, default=30)
    running.add_argument(
        "--page", action="append", help="NAME=PATH, repeatable (default: dashboard, attendance)"
    )
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
    else:
        if not args.url and not args.database:
            parser.error("run needs --database (a prepared one) or --url")
        if args.server == "prod" and not (args.database or "").startswith("postgresql"):
            parser.error("--server prod serves PostgreSQL only")
        run(args)


if __name__ == "__main__":
    main()
