"""Whiteboard relay under load: N rooms x 2 real Socket.IO clients against a real server.

Per room, a tutor draws at 60 points/s, sent as `stroke:live` batches every 50 ms (3 points,
emitted without an ack like the browser's volatile emit), and commits each 100-point stroke
with `stroke` (acknowledged, stored, broadcast); the learner receives. Rooms start out of
phase. The server runs as a subprocess pinned to core 0 (`taskset -c 0`) on a fresh SQLite
database in a temporary folder (migrated with `flask db upgrade`, people, open sessions and
API tokens created through the service functions); the load client (asyncio,
`socketio.AsyncClient`, websocket transport) pins itself to core 1 and reports its own CPU.
Only 127.0.0.1 is contacted.

Latency is emit to receipt in the same process: the sender's `time.monotonic_ns()` travels in
the `id` field (relayed as is; stroke ids stay unique per board). Printed per N: strokes
sent/acked/received (lost and duplicated should be 0), live batches likewise, relay latency
p50/p95/p99/max, points and messages per second, server CPU (utime+stime of the server's
process tree from /proc) per relayed point, server peak RSS (VmHWM) and the client's CPU.

Usage (docs/benchmarks.md has the figures and the command lines behind them):
  .venv/bin/python bench/whiteboard_load.py                       # embedded (`make run`)
  .venv/bin/python bench/whiteboard_load.py --rooms 10,25,50,100 --seconds 20 --repeat 3
  .venv/bin/python bench/whiteboard_load.py --mode gevent-simple --gc-freeze --rooms 50,75,100
  .venv/bin/python bench/whiteboard_load.py --mode gevent-simple --gc-freeze --redis   # + queue
  .venv/bin/python bench/whiteboard_load.py --mode prod --workers 2 --database postgres \
      --server-cores 0,1 --placement apart          # serve-prod, every room across Redis
  .venv/bin/python bench/whiteboard_load.py --mode prod --database postgres --redis \
      --env TUTORING_SOCKETIO_LOCAL_ROOMS=false     # every emit through Redis, as before
  .venv/bin/python bench/whiteboard_load.py --database postgres --no-strokes --profile
  .venv/bin/python bench/whiteboard_load.py --server-cmd '{bin}/gunicorn ... wsgi:app' \
      --async-mode gevent
  --mode: embedded (flask run, threading), gthread (gunicorn, threading + simple-websocket),
  gevent-ws (gunicorn + gevent-websocket), gevent-simple (gunicorn gevent + simple-websocket),
  eventlet (socketio.run under eventlet). The non-embedded modes need gunicorn, gevent,
  gevent-websocket or eventlet in .venv; the client needs aiohttp; --profile needs py-spy.
  --gc-freeze runs gunicorn with a config calling gc.freeze() after start-up; --nice -10
  (root) keeps other people's load on a shared machine from taking the server's core; the
  "others" columns say how much they took anyway. --database postgres uses the local server
  (postgres@127.0.0.1:5432, database manabi_bench_wb, dropped afterwards). With --redis the
  "Redis publishes/s" column counts the PUBLISH commands the Redis server ran in the window
  (anyone's: other users of the same Redis add to it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMESPACE = "/whiteboard"
REDIS_URL = "redis://127.0.0.1:6379/14"
LIVE_INTERVAL = 0.050  # seconds between live batches, as in static/src/whiteboard/sync.js
POINTS_PER_SECOND = 60
STROKE_POINTS = 100
RETRYABLE = ("rate_limited", "unavailable", "server_error")  # protocol.js retryable()
RETRY_SECONDS = 3.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The server set-ups: command (with {python}, {bin}, {port} placeholders) and async mode.
GUNICORN = "{bin}/gunicorn --bind 127.0.0.1:{port} --workers {workers} --graceful-timeout 3"
MODES = {
    "embedded": ("{bin}/flask --app wsgi run --host 127.0.0.1 --port {port}", "threading"),
    "gthread": (GUNICORN + " --worker-class gthread --threads 400 wsgi:app", "threading"),
    "gevent-ws": (
        GUNICORN + " --worker-class geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
        " wsgi:app",
        "gevent",
    ),
    # gevent with simple-websocket: engine.io takes gevent-websocket whenever it imports.
    "gevent-simple": (
        "{python} -c \"import sys; sys.modules['geventwebsocket'] = None; "
        "from gunicorn.app.wsgiapp import run; "
        "sys.argv[0] = 'gunicorn'; sys.exit(run())\" "
        + GUNICORN.removeprefix("{bin}/gunicorn")
        + " --worker-class gevent wsgi:app",
        "gevent",
    ),
    # The production command (`make serve-prod`): --workers gunicorn processes on consecutive
    # ports; rooms spread over them, the two people of a room on one process (--placement
    # together, as nginx's hash on the board places them) or on different ones (apart).
    "prod": (
        "{python} -m flask --app wsgi serve-prod --workers {workers} --port {port}",
        "gevent",
    ),
    "eventlet": (
        '{python} -c "import eventlet; eventlet.monkey_patch(); '
        "from wsgi import app, socketio; "
        "socketio.run(app, host='127.0.0.1', port={port}, log_output=False)\"",
        "eventlet",
    ),
}


# For --gc-freeze: what a production gunicorn config would hold (gunicorn -c FILE).
GC_FREEZE_CONFIG = """
import gc


def post_worker_init(worker):
    # Move everything loaded at start-up out of the collector's reach: a full collection then
    # walks only what requests allocate (~10 ms) instead of the whole app (~100 ms, a stall).
    gc.collect()
    gc.freeze()
"""


# Preparation: a fresh database with open sessions and tokens


@dataclass(frozen=True)
class RoomSeat:
    session_id: int
    tutor_token: str
    learner_token: str


# What an operator sets for serve-prod (a throwaway data key: the bench stores no notes).
PRODUCTION_ENV = {
    "TUTORING_ENV": "production",
    "TUTORING_DATA_KEYS__bench": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "TUTORING_DATA_KEY_CURRENT": "bench",
}


def server_env(database_url: str, async_mode: str, redis: bool, extra: dict) -> dict:
    env = {
        **os.environ,
        "TUTORING_ENV": "development",
        "TUTORING_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "TUTORING_DATABASE_URL": database_url,
        "TUTORING_SOCKETIO_ASYNC_MODE": async_mode,
        "PYTHONUNBUFFERED": "1",
        "FLASK_DEBUG": "0",
    }
    env.pop("TUTORING_REDIS_URL", None)
    if redis:
        env["TUTORING_REDIS_URL"] = REDIS_URL
    env.update(extra)
    return env


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Its own database per developer on a shared server: BENCH_PG_NAME=manabi_bench_<name>.
PG_NAME = os.environ.get("BENCH_PG_NAME", "manabi_bench_wb")


class Database:
    """A fresh database per run, copied from a prepared template (SQLite file or PostgreSQL)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        if kind == "sqlite":
            self.path = folder / "bench.sqlite3"
            self.template_url = f"sqlite:///{folder}/template.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            base = "postgresql+psycopg://postgres@127.0.0.1:5432/"
            self.template_url = base + PG_NAME + "_tpl"
            self.url = base + PG_NAME

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def prepare(self, rooms: int) -> list[RoomSeat]:
        if self.kind == "postgres":
            self._admin(f"DROP DATABASE IF EXISTS {PG_NAME}_tpl", f"CREATE DATABASE {PG_NAME}_tpl")
        return prepare_database(self.template_url, self.folder, rooms)

    def fresh(self) -> None:
        """Make the run's database a copy of the template."""
        if self.kind == "sqlite":
            shutil.copy(self.folder / "template.sqlite3", self.path)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            self._admin(
                f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)",
                f"CREATE DATABASE {PG_NAME} TEMPLATE {PG_NAME}_tpl",
            )

    def backend_pids(self) -> list[int]:
        """PostgreSQL's processes serving the run's database (their CPU is not the server's)."""
        if self.kind != "postgres":
            return []
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (PG_NAME,)
            ).fetchall()
        return [row[0] for row in rows]

    def drop(self) -> None:
        if self.kind == "postgres":
            self._admin(
                f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {PG_NAME}_tpl WITH (FORCE)",
            )


def prepare_database(url: str, folder: Path, rooms: int, minutes: int = 240) -> list[RoomSeat]:
    """Migrate the database at `url`; create `rooms` open sessions with a token per person."""
    env = server_env(url, "threading", False, {})
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    from tutoring import create_app
    from tutoring.auth.service import create_token
    from tutoring.database import utcnow
    from tutoring.extensions import db
    from tutoring.people.models import Role
    from tutoring.people.service import create_user
    from tutoring.scheduling.models import Kind, Mode
    from tutoring.scheduling.service import book_sessions

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development", "REDIS_URL": None},
        instance_path=str(folder / "instance"),
    )
    seats = []
    with app.app_context():
        coordinator = create_user(
            None, name="Bench coordinator", role=Role.COORDINATOR, email="coord@example.org"
        )
        starts = utcnow().replace(microsecond=0) - timedelta(minutes=5)
        for n in range(rooms):
            tutor = create_user(None, name=f"Tutor {n}", role=Role.TUTOR, email=f"t{n}@example.org")
            learner = create_user(
                None, name=f"Learner {n}", role=Role.LEARNER, email=f"l{n}@example.org"
            )
            (session,) = book_sessions(
                coordinator,
                learner=learner,
                tutor=tutor,
                starts_at=starts,
                duration_minutes=minutes,
                kind=Kind.STUDY,
                mode=Mode.ONLINE,
            )
            seats.append(
                RoomSeat(
                    session.id, create_token(tutor, "bench")[1], create_token(learner, "bench")[1]
                )
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return seats


# The server process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(root: int) -> list[int]:
    """Return root and its descendants (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def peak_rss_mib(pid: int, field: str = "VmHWM") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def free_ports(count: int) -> int:
    """Return a port p with p … p+count-1 free now."""
    for _ in range(50):
        first = free_port()
        probes = []
        try:
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no consecutive free ports")


class Server:
    """The app served by a subprocess on core(s) `cores`, stopped with its process group."""

    def __init__(
        self, command: str, env: dict, cores: str, log: Path, nice: int = 0, processes: int = 1
    ) -> None:
        self.port = free_ports(processes)
        self.urls = [f"http://127.0.0.1:{self.port + n}" for n in range(processes)]
        self.url = self.urls[0]
        words = shlex.split(command.format(python=sys.executable, bin=BIN, port=self.port))
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            ["taskset", "-c", cores, "nice", "-n", str(nice), *words],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.urls)
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            try:
                with urllib.request.urlopen(waiting[0] + "/healthz", timeout=2) as answer:  # noqa: S310 (our http://127.0.0.1)
                    if answer.status == 200:
                        waiting.pop(0)
                        continue
            except OSError:
                time.sleep(0.1)
        if waiting:
            raise RuntimeError(f"server not healthy after {timeout}s: {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def peak_rss(self) -> float:
        """The largest VmHWM in the tree (the worker; gunicorn's master stays small)."""
        return max((peak_rss_mib(pid) for pid in self.pids()), default=0.0)

    def total_rss(self, field: str = "VmHWM") -> float:
        """The sum over the tree (launcher, gunicorn masters and workers)."""
        return sum(peak_rss_mib(pid, field) for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


# The load


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sent_at(item_id: str) -> int:
    """Return the monotonic_ns the sender put at the end of an id ("...t<ns>")."""
    return int(item_id.rsplit("t", 1)[1])


@dataclass
class Stats:
    measuring: bool = False
    window: tuple[int, int] = (0, 0)  # monotonic_ns of the measured sends
    live_sent: int = 0
    live_received: int = 0
    live_points_received: int = 0
    live_dup: int = 0
    live_reordered: int = 0
    strokes_sent: int = 0
    strokes_acked: int = 0
    strokes_received: int = 0
    strokes_dup: int = 0
    ack_errors: list = field(default_factory=list)
    seq_mismatch: int = 0
    retries: int = 0
    unexpected: int = 0
    disconnects: int = 0
    live_latency: list = field(default_factory=list)  # ms
    stroke_latency: list = field(default_factory=list)
    ack_latency: list = field(default_factory=list)
    send_lag: list = field(default_factory=list)  # ms the drawer woke up late
    # Window counters (messages whose send time is inside the measured window)
    win_live_received: int = 0
    win_live_points: int = 0
    win_strokes_received: int = 0
    win_sent_messages: int = 0
    win_acks: int = 0

    def in_window(self, t_ns: int) -> bool:
        return self.window[0] <= t_ns < self.window[1]


class Room:
    """One board: a drawing tutor and a receiving learner."""

    def __init__(self, index: int, seat: RoomSeat, stats: Stats, *, strokes: bool = True) -> None:
        import socketio

        self.strokes = strokes  # False: live batches only (to tell the relay from the store)
        self.index = index
        self.seat = seat
        self.stats = stats
        self.drawer = socketio.AsyncClient(reconnection=False)
        self.viewer = socketio.AsyncClient(reconnection=False)
        self.pending_live: set[str] = set()
        self.pending_ack: dict[str, int] = {}
        self.pending_receipt: dict[str, int] = {}
        self.acked_seq: dict[str, int] = {}
        self.received_seq: dict[str, int] = {}
        self.last_live_sent = -1  # batch counter, to notice reordering
        self.last_live_seen = -1
        self.closing = False
        self.viewer.on("stroke:live", self.on_live, namespace=NAMESPACE)
        self.viewer.on("stroke", self.on_stroke, namespace=NAMESPACE)
        for client in (self.drawer, self.viewer):
            client.on("disconnect", self.on_disconnect, namespace=NAMESPACE)
        self.drawer.on("*", self.on_unexpected, namespace=NAMESPACE)

    async def connect(self, urls: list[str], placement: str = "together") -> None:
        # With several processes, "together" puts both people of a room on one (nginx's hash
        # on the board does: the room's messages stay off Redis); "apart" on different ones,
        # so every message crosses Redis (what a proxy hashing client addresses may do).
        for offset, (client, token) in enumerate(
            ((self.drawer, self.seat.tutor_token), (self.viewer, self.seat.learner_token))
        ):
            url = urls[(self.index + (offset if placement == "apart" else 0)) % len(urls)]
            await client.connect(
                url,
                namespaces=[NAMESPACE],
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=20,
            )
            answer = await client.call(
                "join", {"session_id": self.seat.session_id}, namespace=NAMESPACE, timeout=30
            )
            if not answer.get("ok"):
                raise RuntimeError(f"join refused: {answer}")

    async def close(self) -> None:
        self.closing = True
        for client in (self.drawer, self.viewer):
            if client.connected:
                await client.disconnect()

    # Receipt

    async def on_live(self, message: dict) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        item_id = message["id"]
        if item_id not in self.pending_live:
            stats.live_dup += 1
            return
        self.pending_live.discard(item_id)
        stats.live_received += 1
        points = len(message["points"])
        stats.live_points_received += points
        batch = int(item_id.split("b", 1)[1].split("t", 1)[0])
        if batch < self.last_live_seen:
            stats.live_reordered += 1
        self.last_live_seen = batch
        t = sent_at(item_id)
        if stats.in_window(t):
            stats.live_latency.append((now - t) / 1e6)
            stats.win_live_received += 1
            stats.win_live_points += points

    async def on_stroke(self, item: dict) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        item_id = item["id"]
        if item_id not in self.pending_receipt:
            stats.strokes_dup += 1
            return
        t = self.pending_receipt.pop(item_id)
        stats.strokes_received += 1
        self.received_seq[item_id] = item["seq"]
        if item_id in self.acked_seq and self.acked_seq[item_id] != item["seq"]:
            stats.seq_mismatch += 1
        points = item["points"]  # the server flattens stored points: [x, y, x, y, ...]
        pairs = len(points) if points and isinstance(points[0], list) else len(points) // 2
        if pairs != STROKE_POINTS:
            stats.unexpected += 1
        if stats.in_window(t):
            stats.stroke_latency.append((now - t) / 1e6)
            stats.win_strokes_received += 1

    def on_ack(self, item_id: str, payload: dict, answer: dict | None = None) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        t = self.pending_ack.get(item_id)
        if t is None:
            stats.unexpected += 1
            return
        if not isinstance(answer, dict) or not answer.get("ok"):
            stats.ack_errors.append(answer)
            code = (answer or {}).get("error", {}).get("code") if isinstance(answer, dict) else None
            if code in RETRYABLE and not self.closing:
                # As the browser's outbox does (sync.js): the same id again after 3 s.
                stats.retries += 1
                asyncio.get_running_loop().call_later(
                    RETRY_SECONDS, lambda: asyncio.ensure_future(self.emit_stroke(item_id, payload))
                )
            else:
                del self.pending_ack[item_id]
            return
        del self.pending_ack[item_id]
        stats.strokes_acked += 1
        self.acked_seq[item_id] = answer["seq"]
        if item_id in self.received_seq and self.received_seq[item_id] != answer["seq"]:
            stats.seq_mismatch += 1
        if stats.in_window(t):
            stats.ack_latency.append((now - t) / 1e6)
            stats.win_acks += 1

    async def on_disconnect(self, reason=None) -> None:
        if not self.closing:
            self.stats.disconnects += 1

    async def on_unexpected(self, event, data=None) -> None:
        self.stats.unexpected += 1

    # Drawing

    async def draw(self, start_ns: int, stop_ns: int) -> None:
        """Send 3 points every 50 ms from start_ns on; commit a stroke every 100 points."""
        rng = random.Random(self.index)
        x, y = rng.uniform(200, 1400), rng.uniform(200, 800)
        per_tick = round(POINTS_PER_SECOND * LIVE_INTERVAL)
        stroke_no, stroke_points, batch = 0, [], 0
        tick = 0
        meta = {"page": 0, "tool": "pen", "color": "#1a2b3c", "width": 3}
        while True:
            due = start_ns + round(tick * LIVE_INTERVAL * 1e9)
            if due >= stop_ns:
                return
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            if self.stats.in_window(due):
                self.stats.send_lag.append((time.monotonic_ns() - due) / 1e6)
            tick += 1
            fresh = []
            for _ in range(per_tick):
                x = min(1590.0, max(10.0, x + rng.uniform(-6, 6)))
                y = min(990.0, max(10.0, y + rng.uniform(-6, 6)))
                fresh.append([round(x, 2), round(y, 2)])
            while fresh:
                room_left = STROKE_POINTS - len(stroke_points)
                chunk, fresh = fresh[:room_left], fresh[room_left:]
                stroke_points.extend(chunk)
                await self.send_live(stroke_no, batch, chunk, meta)
                batch += 1
                if len(stroke_points) == STROKE_POINTS:
                    if self.strokes:
                        await self.send_stroke(stroke_no, stroke_points, meta)
                    stroke_no, stroke_points = stroke_no + 1, []

    async def send_live(self, stroke_no: int, batch: int, points: list, meta: dict) -> None:
        t = time.monotonic_ns()
        item_id = f"r{self.index}s{stroke_no}b{batch}t{t}"
        self.pending_live.add(item_id)
        self.stats.live_sent += 1
        if self.stats.in_window(t):
            self.stats.win_sent_messages += 1
        await self.drawer.emit(
            "stroke:live", {"id": item_id, **meta, "points": points}, namespace=NAMESPACE
        )

    async def send_stroke(self, stroke_no: int, points: list, meta: dict) -> None:
        t = time.monotonic_ns()
        item_id = f"r{self.index}s{stroke_no}t{t}"
        self.pending_ack[item_id] = t
        self.pending_receipt[item_id] = t
        self.stats.strokes_sent += 1
        if self.stats.in_window(t):
            self.stats.win_sent_messages += 1
        await self.emit_stroke(item_id, {"id": item_id, **meta, "points": list(points)})

    async def emit_stroke(self, item_id: str, payload: dict) -> None:
        if not self.drawer.connected:
            return
        await self.drawer.emit(
            "stroke",
            payload,
            namespace=NAMESPACE,
            callback=lambda answer=None: self.on_ack(item_id, payload, answer),
        )

    def outstanding(self) -> int:
        return len(self.pending_live) + len(self.pending_ack) + len(self.pending_receipt)


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def machine_busy(cores: set[int] | None = None) -> float:
    """CPU seconds spent by everything on these cores (default: all) since boot."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cores is not None and int(name[3:]) not in cores:
            continue
        values = [int(v) for v in fields]
        total += sum(values[:8]) - values[3] - values[4]  # less idle and iowait
    return total / CLK_TCK


def wait_for_quiet(limit: float, threshold: float = 0.25) -> float:
    """Wait (at most `limit` s) until others use under `threshold` of a core; return their use."""
    deadline = time.monotonic() + limit
    while True:
        mine = sum(os.times()[:2])
        busy = machine_busy()
        time.sleep(1.0)
        others = machine_busy() - busy - (sum(os.times()[:2]) - mine)
        if others < threshold or time.monotonic() > deadline:
            return others


class CpuProbe:
    """CPU seconds of the server, of the database's backends, of Redis and of this client."""

    def __init__(self, server: Server, database: Database, cores: set[int]) -> None:
        self.cores = cores
        self.server = server
        self.database = database
        self.redis = pids_named("redis-server")

    def read(self) -> dict:
        return {
            "machine": machine_busy(),
            "server_cores": machine_busy(self.cores),
            "server": self.server.cpu(),
            "database": sum(cpu_seconds(pid) for pid in self.database.backend_pids()),
            "redis": sum(cpu_seconds(pid) for pid in self.redis),
            "publishes": redis_publishes(),
            "client": sum(os.times()[:2]),
        }


def redis_publishes() -> int:
    """PUBLISH commands the Redis server ran since it started (all clients: others' too)."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            stats = client.info("commandstats")
        finally:
            client.close()
        return int(stats.get("cmdstat_publish", {}).get("calls", 0))
    except Exception:  # only informative (no Redis, or the package is missing)
        return 0


def start_profiler(server: Server, seconds: float, output: Path) -> subprocess.Popen:
    """Sample the busiest process of the server with py-spy (collapsed stacks)."""
    pid = max(server.pids(), key=cpu_seconds)
    return subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "250",
            "--nonblocking",
            "--gil",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def print_profile(path: Path, top: int = 25) -> None:
    """Print where the sampled time went: by function, inclusive and self."""
    import re

    total, inclusive, own = 0, {}, {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    print(f"profile {path}: {total} samples of active threads")
    for title, table in (("inclusive", inclusive), ("self", own)):
        print(f"  top {top} functions, {title}:")
        for frame, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            print(f"    {100 * n / max(1, total):5.1f}%  {frame}")


async def run_load(
    urls: list[str],
    seats: list[RoomSeat],
    options: argparse.Namespace,
    probe: CpuProbe,
    profile: Path | None,
) -> dict:
    seconds, warmup = options.seconds, options.warmup
    stats = Stats()
    rooms = [Room(n, seat, stats, strokes=options.strokes) for n, seat in enumerate(seats)]
    gate = asyncio.Semaphore(8)

    async def connect(room: Room) -> None:
        async with gate:
            await room.connect(urls, options.placement)

    started = time.monotonic()
    await asyncio.gather(*(connect(room) for room in rooms))
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(1.0)

    start_ns = time.monotonic_ns() + 200_000_000
    window_start = start_ns + round(warmup * 1e9)
    stop_ns = window_start + round(seconds * 1e9)
    stats.window = (window_start, stop_ns)
    # Out of phase: each room starts at a random point of the 50 ms tick and of a stroke.
    rng = random.Random(7)
    tasks = [
        asyncio.create_task(
            room.draw(
                start_ns + round(rng.uniform(0, STROKE_POINTS / POINTS_PER_SECOND) * 1e9), stop_ns
            )
        )
        for room in rooms
    ]
    await asyncio.sleep(max(0, (window_start - time.monotonic_ns()) / 1e9))
    before = probe.read()
    profiler = start_profiler(probe.server, seconds, profile) if profile else None
    await asyncio.sleep(max(0, (stop_ns - time.monotonic_ns()) / 1e9))
    after = probe.read()
    await asyncio.gather(*tasks)
    # Drain: wait (bounded) for the last acks and broadcasts, retries included.
    drain_deadline = time.monotonic() + 15
    while time.monotonic() < drain_deadline and any(room.outstanding() for room in rooms):
        await asyncio.sleep(0.05)
    peak = probe.server.peak_rss()
    total = probe.server.total_rss()
    try:
        await asyncio.wait_for(asyncio.gather(*(room.close() for room in rooms)), 15)
    except TimeoutError:
        print("  (some clients did not close within 15 s)")
    if profiler:
        try:
            profiler.wait(30)
        except subprocess.TimeoutExpired:
            profiler.kill()
            profiler.wait()
    return {
        "rooms": len(rooms),
        "stats": stats,
        "seconds": seconds,
        "connect_s": connect_seconds,
        "client_shares": options.client_core in probe.cores,
        "cpu": {key: after[key] - before[key] for key in after},
        "peak_rss": peak,
        "total_rss": total,
        "live_lost": sum(len(r.pending_live) for r in rooms),
        "strokes_unacked": sum(len(r.pending_ack) for r in rooms),
        "strokes_lost": sum(len(r.pending_receipt) for r in rooms),
    }


def summarise(result: dict) -> dict:
    s: Stats = result["stats"]
    seconds = result["seconds"]
    cpu = result["cpu"]
    relayed = s.win_live_received + s.win_strokes_received
    return {
        "rooms": result["rooms"],
        "points_s": s.win_live_points / seconds,
        "in_s": s.win_sent_messages / seconds,
        "out_s": (relayed + s.win_acks) / seconds,
        "strokes": f"{s.strokes_sent}/{s.strokes_acked}/{s.strokes_received}",
        # Not acknowledged + not received (a stroke missing both counts twice).
        "lost": result["strokes_lost"] + result["strokes_unacked"],
        "dup": s.strokes_dup,
        "live": f"{s.live_sent}/{s.live_received}",
        "live_lost": result["live_lost"],
        "live_dup": s.live_dup,
        "p50": percentile(s.live_latency, 50),
        "p95": percentile(s.live_latency, 95),
        "p99": percentile(s.live_latency, 99),
        "max": max(s.live_latency, default=float("nan")),
        "stroke_p99": percentile(s.stroke_latency, 99),
        "ack_p99": percentile(s.ack_latency, 99),
        "server_cpu_pct": 100 * cpu["server"] / seconds,
        "us_per_point": 1e6 * cpu["server"] / max(1, s.win_live_points),
        "us_per_msg": 1e6 * cpu["server"] / max(1, s.win_sent_messages),
        "db_cpu_pct": 100 * cpu["database"] / seconds,
        "redis_us_per_msg": 1e6 * cpu["redis"] / max(1, s.win_sent_messages),
        "publishes_s": cpu["publishes"] / seconds,
        "rss": result["peak_rss"],
        "rss_total": result["total_rss"],
        "rss_idle": result["idle_rss"],
        "client_cpu_pct": 100 * cpu["client"] / seconds,
        # Everything else the machine ran in the window (other people's tests, PostgreSQL,
        # Redis, the kernel): a row with a large figure here was measured on a busy machine.
        "others_pct": 100 * (cpu["machine"] - cpu["server"] - cpu["client"]) / seconds,
        # ... and on the server's own core(s): what took time from the server there.
        # (the client's own CPU left out when it shares a core with the server, --server-cores 0,1)
        "others_core_pct": 100
        * (cpu["server_cores"] - cpu["server"] - (cpu["client"] if result["client_shares"] else 0))
        / seconds,
        "lag_p99": percentile(s.send_lag, 99),
        "errors": len(s.ack_errors),
        "disconnects": s.disconnects,
        "other": s.unexpected + s.seq_mismatch + s.live_reordered,
    }


COLUMNS = [
    ("rooms", "N", "{:d}"),
    ("points_s", "points/s", "{:.0f}"),
    ("in_s", "msg/s in", "{:.0f}"),
    ("out_s", "msg/s out", "{:.0f}"),
    ("strokes", "strokes sent/acked/recv", "{}"),
    ("lost", "lost", "{:d}"),
    ("dup", "dup", "{:d}"),
    ("errors", "error acks", "{:d}"),
    ("live_lost", "live lost", "{:d}"),
    ("p50", "p50 ms", "{:.1f}"),
    ("p95", "p95 ms", "{:.1f}"),
    ("p99", "p99 ms", "{:.1f}"),
    ("max", "max ms", "{:.0f}"),
    ("stroke_p99", "stroke p99 ms", "{:.1f}"),
    ("server_cpu_pct", "server CPU %", "{:.0f}"),
    ("us_per_point", "µs CPU/point", "{:.0f}"),
    ("us_per_msg", "µs CPU/msg in", "{:.0f}"),
    ("publishes_s", "Redis publishes/s", "{:.0f}"),
    ("rss", "server RSS MiB", "{:.0f}"),
    ("rss_total", "all processes RSS MiB", "{:.0f}"),
    ("rss_idle", "idle RSS MiB", "{:.0f}"),
    ("client_cpu_pct", "client CPU %", "{:.0f}"),
    ("lag_p99", "send lag p99 ms", "{:.1f}"),
    ("others_pct", "others CPU %", "{:.0f}"),
    ("others_core_pct", "others on server core %", "{:.0f}"),
]


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|" + " --- |" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def spread(rows: list[dict]) -> str:
    """Per N over the repeats: median and range of p50, p99, server CPU and µs per point."""
    lines = [
        "| N | runs | p50 ms | p99 ms | max ms | server CPU % | µs CPU/point |",
        "|" + " --- |" * 7,
    ]
    for n in sorted({row["rooms"] for row in rows}):
        group = [row for row in rows if row["rooms"] == n]

        def cell(key, fmt="{:.1f}", group=group):
            values = [row[key] for row in group]
            return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"

        lines.append(
            f"| {n} | {len(group)} | {cell('p50')} | {cell('p99')} | {cell('max', '{:.0f}')} "
            f"| {cell('server_cpu_pct', '{:.0f}')} | {cell('us_per_point', '{:.0f}')} |"
        )
    return "\n".join(lines)


def redis_subscribers(database_url: str) -> str:
    """Tell who else listens on Flask-SocketIO's channel (pub/sub ignores the db number)."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        from tutoring import redis_channel

        return str(client.pubsub_numsub(redis_channel(database_url)))
    except Exception as error:  # only informative
        return f"unknown ({error})"


def measure(args, database, seats, command, async_mode, extra, cores) -> dict:
    """One run: a fresh database and server, the load, a summary row (printed)."""
    n = len(seats)
    others = wait_for_quiet(args.quiet_wait)
    if others >= 0.25:
        print(f"  (the machine is busy: others use {100 * others:.0f}% of a core)")
    database.fresh()
    env = server_env(database.url, async_mode, args.redis, extra)
    tag = f"{n}-{time.monotonic_ns()}"
    log = database.folder / f"server-{tag}.log"
    processes = args.workers if args.mode == "prod" else 1
    server = Server(command, env, args.server_cores, log, nice=args.nice, processes=processes)
    profile = database.folder / f"profile-{tag}.txt" if args.profile else None
    try:
        server.wait_healthy()
        probe = CpuProbe(server, database, cores)
        time.sleep(1.0)
        idle = server.total_rss("VmRSS")  # started, nobody connected yet
        result = asyncio.run(run_load(server.urls, seats, args, probe, profile))
        result["idle_rss"] = idle
    finally:
        server.stop()
    row = summarise(result)
    s = result["stats"]
    print(
        f"N={n}: load average {os.getloadavg()[0]:.2f}; connect {result['connect_s']:.1f}s; "
        + ", ".join(f"{title}={fmt.format(row[key])}" for key, title, fmt in COLUMNS[1:])
        + f", ack p99 ms={row['ack_p99']:.1f}, retries={s.retries}, "
        f"database CPU %={row['db_cpu_pct']:.0f}, "
        f"redis µs CPU/msg in={row['redis_us_per_msg']:.0f}, "
        f"disconnects={row['disconnects']}, other={row['other']}"
        + (f" first error: {json.dumps(s.ack_errors[0])}" if s.ack_errors else ""),
        flush=True,
    )
    if profile and profile.exists():
        print_profile(profile)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", default="10,25,50,100", help="comma-separated N values")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per N")
    parser.add_argument("--warmup", type=float, default=3, help="seconds drawn before measuring")
    parser.add_argument("--repeat", type=int, default=1, help="runs per N (fresh server each)")
    parser.add_argument("--mode", choices=sorted(MODES), default="embedded")
    parser.add_argument("--server-cmd", help="custom server command ({python} {bin} {port})")
    parser.add_argument("--async-mode", help="TUTORING_SOCKETIO_ASYNC_MODE for --server-cmd")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument(
        "--placement",
        choices=("together", "apart"),
        default="together",
        help="--mode prod: a room's two people on one process (as nginx places them) or not",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis", action="store_true", help=f"message queue at {REDIS_URL}")
    parser.add_argument(
        "--no-strokes", dest="strokes", action="store_false", help="live batches only"
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--server-cores", default="0", help="taskset list for the server")
    parser.add_argument("--client-core", type=int, default=1, help="core of this load client")
    parser.add_argument(
        "--quiet-wait", type=float, default=30, help="max seconds to wait for an idle machine"
    )
    parser.add_argument(
        "--busy-limit", type=float, default=15, help="%% of the server's core others may take"
    )
    parser.add_argument(
        "--busy-retries", type=int, default=2, help="runs measured again when others took more"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of server and client (e.g. -10 on a machine others load; needs root)",
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gunicorn modes: gc.freeze() after start-up"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the server, print top")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    counts = [int(n) for n in args.rooms.split(",")]
    command, async_mode = MODES[args.mode]
    if args.server_cmd:
        command, async_mode = args.server_cmd, args.async_mode or "threading"
    command = command.replace("{workers}", str(args.workers))
    extra = dict(item.split("=", 1) for item in args.env)
    if args.mode == "prod":
        if args.database != "postgres":
            parser.error("--mode prod serves PostgreSQL only: add --database postgres")
        if args.workers > 1 and not args.redis:
            args.redis = True  # serve-prod refuses several processes without Redis
        extra = {**PRODUCTION_ENV, **extra}
    cores = {int(core) for core in args.server_cores.split(",")}
    if args.gc_freeze:
        if "gunicorn" not in command:
            parser.error("--gc-freeze needs a gunicorn mode")
        command = command.replace(" --bind ", " -c {folder}/gc_freeze.conf.py --bind ", 1)

    folder = Path(tempfile.mkdtemp(prefix="wb-load-"))
    database = Database(args.database, folder)
    try:
        print(f"preparing {max(counts)} rooms ({args.database}) in {folder} ...", flush=True)
        seats = database.prepare(max(counts))
        (folder / "gc_freeze.conf.py").write_text(GC_FREEZE_CONFIG)
        command = command.replace("{folder}", str(folder))
        os.sched_setaffinity(0, {args.client_core})
        if args.nice:
            os.nice(args.nice)
        print(
            f"mode={args.mode if not args.server_cmd else 'custom'} async_mode={async_mode} "
            f"database={args.database} redis={'yes' if args.redis else 'no'} "
            f"placement={args.placement if args.mode == 'prod' else '-'} "
            f"strokes={'yes' if args.strokes else 'no'} server cores={args.server_cores} "
            f"client core={args.client_core} nice={args.nice} gc_freeze={args.gc_freeze} seconds={args.seconds} warmup={args.warmup}"
        )
        print(f"server: {command}")
        if args.redis:
            print(f"subscribers of the channel before the run: {redis_subscribers(database.url)}")
        rows = []
        for n in counts:
            for run in range(args.repeat):
                for attempt in range(1 + args.busy_retries):
                    row = measure(args, database, seats[:n], command, async_mode, extra, cores)
                    row["run"] = run + 1
                    if row["others_core_pct"] <= args.busy_limit:
                        break
                    print(
                        f"  (others took {row['others_core_pct']:.0f}% of the server's core: "
                        + ("measuring again)" if attempt < args.busy_retries else "kept anyway)")
                    )
                rows.append(row)
        print()
        print(markdown_table(rows))
        if args.repeat > 1:
            print()
            print(spread(rows))
    finally:
        database.drop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
