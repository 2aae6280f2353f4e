"""Whiteboard `join` on a full board: how long until a late joiner has the whole replay.

Stores `--items` strokes (20-100 points each) on one session's board through
tutoring.whiteboard.service, starts the server as a subprocess pinned to core 0 (the load
client pins itself to core 1), and times `join` (since=None) from emit to the acknowledgement
carrying every item, three ways:
- cold: the first join after a server start, nothing asked of the server before but its
  health check (one server start per sample);
- cold after the room page: a fresh server again, but the learner's browser loads the room
  page first (signed in with the session cookie), as it always does before joining; the
  server may start reading the board then (one server start per sample);
- warm: new connections joining the running server.
Prints p50/p95/max, the server's CPU per join, the share of a core that other programs took
during the joins (on a shared machine, a run where they took much is not a figure), the
replay's size and what decoding it costs the client. Only 127.0.0.1 is contacted.

Usage:
  .venv/bin/python bench/whiteboard_join.py                    # embedded server, SQLite
  .venv/bin/python bench/whiteboard_join.py --nice -10 --client node
  .venv/bin/python bench/whiteboard_join.py --items 10000 --cold 5 --page-cold 5 --warm 20
  BENCH_PG_NAME=manabi_bench_<name> .venv/bin/python bench/whiteboard_join.py \
      --mode gevent-ws --database postgres --profile
  --profile samples the cold and the warm joins with py-spy; --client node decodes with V8
  as a browser does (bench/join_client.mjs; node_modules must be linked).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from http.cookiejar import CookieJar
from pathlib import Path

from whiteboard_load import (
    MODES,
    NAMESPACE,
    ROOT,
    Database,
    Server,
    cpu_seconds,
    machine_busy,
    percentile,
    print_profile,
    server_env,
    start_profiler,
)

# The learner's password, for the sign-in before the room page (--page-cold).
PASSWORD = "bench-" + "join-" * 3


def fill_board(
    url: str,
    folder: Path,
    session_id: int,
    items: int,
    clear_every: int = 0,
    spaced_json: bool = False,
) -> tuple[int, str]:
    """Store `items` strokes of 20-100 points by the session's tutor.

    Return the points and the learner's e-mail; the learner gets PASSWORD. With
    `clear_every`, the page of every N-th stroke is cleared after it (the board then holds
    items / N more items, and a compact replay leaves the cleared strokes out). With
    `spaced_json`, the items' data is then written again as it was stored before compact
    storage (json.dumps with its spaces), which the replay must compact when it reads it.
    """
    from sqlalchemy import JSON, select, type_coerce, update

    from tutoring import create_app
    from tutoring.auth.passwords import hash_password
    from tutoring.extensions import db
    from tutoring.people.models import User
    from tutoring.scheduling.models import TutoringSession
    from tutoring.whiteboard import service
    from tutoring.whiteboard.models import BoardItem
    from tutoring.whiteboard.schema import parse_stroke

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "ENV": "development", "REDIS_URL": None},
        instance_path=str(folder / "instance"),
    )
    rng = random.Random(1)
    points = 0
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        tutor = db.session.get(User, session.tutor_id)
        learner = db.session.get(User, session.learner_id)
        learner.password_hash = hash_password(PASSWORD)  # signs in for the room page
        email = learner.email
        for n in range(items):
            x, y = rng.uniform(100, 1500), rng.uniform(100, 900)
            stroke = []
            for _ in range(rng.randint(20, 100)):
                x, y = x + rng.uniform(-8, 8), y + rng.uniform(-8, 8)
                stroke.append([round(x, 2), round(y, 2)])
            points += len(stroke)
            payload = {
                "id": f"stroke-{n}",
                "page": n // 2000,
                "tool": rng.choice(("pen", "pen", "pen", "highlighter")),
                "color": "#1a2b3c",
                "width": 3,
                "points": stroke,
            }
            service.add_stroke(session.id, tutor.id, parse_stroke(payload))
            if clear_every and n % clear_every == clear_every - 1:
                service.clear_page(session, tutor, payload["page"])
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        if spaced_json:
            table = BoardItem.__table__
            for item_id, data in db.session.execute(select(table.c.id, table.c.data)).all():
                db.session.execute(
                    update(table)
                    .where(table.c.id == item_id)
                    .values(data=type_coerce(data, JSON))  # JSON's own json.dumps
                )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return points, email


class ArrivalJSON:
    """The client's JSON module, noting when each message arrived (before it is decoded).

    The time to the message is the server's work and the transport; the rest of a join's
    figure is the client decoding megabytes of JSON, which on a busy machine dominates.
    """

    arrivals: list[tuple[float, int]] = []

    @classmethod
    def loads(cls, text, *args, **kwargs):
        cls.arrivals.append((time.perf_counter(), len(text)))
        from engineio.json import loads

        return loads(text, *args, **kwargs)

    @staticmethod
    def dumps(*args, **kwargs):
        return json.dumps(*args, **kwargs)


async def join_once(
    url: str, token: str, session_id: int, encoding: str = "compact"
) -> tuple[float, dict]:
    """Connect, then time one `join` from emit to the acknowledgement with the replay."""
    import socketio

    # aiohttp refuses websocket messages over 4 MiB unless told otherwise; browsers take them.
    client = socketio.AsyncClient(
        reconnection=False, websocket_extra_options={"max_msg_size": 0}, json=ArrivalJSON
    )
    await client.connect(
        url, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"]
    )
    try:
        start = time.perf_counter()
        payload = {"session_id": session_id}
        if encoding != "contract":
            payload["encoding"] = encoding  # the browser's opt-in (docs/whiteboard.md)
        ArrivalJSON.arrivals.clear()
        answer = await client.call("join", payload, namespace=NAMESPACE, timeout=120)
        elapsed = time.perf_counter() - start
        # The answer is the largest message after the emit.
        arrived = max(ArrivalJSON.arrivals, key=lambda a: a[1])[0] - start
    finally:
        await client.disconnect()
    if not answer.get("ok"):
        raise RuntimeError(f"join refused: {answer}")
    return elapsed, arrived, answer


def join_once_node(
    url: str, token: str, session_id: int, encoding: str = "compact"
) -> tuple[float, None, dict]:
    """The same `join` from Node.js (socket.io-client, V8's JSON.parse), as a browser does."""
    result = subprocess.run(
        ["node", str(ROOT / "bench" / "join_client.mjs"), url, token, str(session_id), encoding],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    answer = json.loads(result.stdout)
    if not answer.get("ok"):
        raise RuntimeError(f"join refused: {answer}")
    return answer["elapsed_ms"] / 1000, None, answer


def join(args, url: str, token: str, session_id: int):
    """Time one join with the client chosen by --client."""
    if args.client == "node":
        return join_once_node(url, token, session_id, args.encoding)
    return asyncio.run(join_once(url, token, session_id, args.encoding))


def sign_in(url: str, email: str) -> CookieJar:
    """Sign in through the form as a browser does; return the cookies (the session's)."""
    cookies = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with opener.open(url + "/login", timeout=30) as answer:
        page = answer.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    with opener.open(url + "/login", form.encode(), timeout=30) as answer:
        answer.read()
    if not any(cookie.name == "session" for cookie in cookies):
        raise RuntimeError("sign-in failed")
    return cookies


def room_page(url: str, cookies: CookieJar, session_id: int) -> None:
    """Load the room page with the session cookie (the server may start warming the board)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with opener.open(f"{url}/sessions/{session_id}/room", timeout=30) as answer:
        answer.read()
        if answer.status != 200 or "/login" in answer.url:
            raise RuntimeError(f"room page: {answer.status} {answer.url}")


class Meter:
    """CPU seconds over one measured span: the server's, and what everything else took.

    "Others" is the whole machine's busy time less the server's, this client's (Node.js
    included) and the database's backends: other people's programs, which on a shared
    machine inflate wall-clock figures (the "others CPU %" of whiteboard_load.py).
    """

    def __init__(self, server: Server, database: Database) -> None:
        self.server = server
        self.backends = database.backend_pids()

    def _read(self) -> tuple[float, float, float, float, float]:
        mine = os.times()
        return (
            time.perf_counter(),
            machine_busy(),
            self.server.cpu(),
            mine.user + mine.system + mine.children_user + mine.children_system,
            sum(cpu_seconds(pid) for pid in self.backends),
        )

    def __enter__(self) -> Meter:
        self.start = self._read()
        return self

    def __exit__(self, *exc) -> None:
        end = self._read()
        wall, busy, server, client, backends = (b - a for a, b in zip(self.start, end, strict=True))
        self.server_cpu = server
        self.others = max(0.0, busy - server - client - backends) / max(wall, 1e-6)


def report(what: str, samples: list[float]) -> None:
    if not samples:
        return
    ms = [s * 1000 for s in samples]
    print(
        f"{what:<46} n={len(ms):<3} p50={percentile(ms, 50):7.1f} ms  "
        f"p95={percentile(ms, 95):7.1f} ms  max={max(ms):7.1f} ms"
    )


def report_others(what: str, shares: list[float]) -> None:
    if shares:
        print(
            f"{what:<46} n={len(shares):<3} p50={100 * percentile(shares, 50):5.0f} %    "
            f"max={100 * max(shares):5.0f} % of a core"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--cold", type=int, default=5, help="server starts (one join each)")
    parser.add_argument(
        "--page-cold",
        type=int,
        default=5,
        help="server starts where the learner loads the room page before joining, as a "
        "browser does (0: none)",
    )
    parser.add_argument("--warm", type=int, default=20, help="joins on a running server")
    parser.add_argument("--mode", choices=sorted(MODES), default="embedded")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--nice", type=int, default=0, help="niceness of server and client")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--profile", action="store_true", help="py-spy the cold and the warm joins")
    parser.add_argument(
        "--encoding",
        choices=("compact", "contract"),
        default="compact",
        help="compact: the browser's opt-in; contract: CONTRACT.md's join (points as pairs)",
    )
    parser.add_argument(
        "--client",
        choices=("python", "node"),
        default="python",
        help="python: python-socketio; node: socket.io-client in Node.js (V8 decodes, as the "
        "browser does; bench/join_client.mjs)",
    )
    parser.add_argument(
        "--clear-every",
        type=int,
        default=0,
        help="clear the stroke's page after every N strokes (0: never), as a tutor does",
    )
    parser.add_argument(
        "--spaced-json",
        action="store_true",
        help="store the items' data as before compact storage (json.dumps with spaces)",
    )
    args = parser.parse_args()
    command, async_mode = MODES[args.mode]
    command = command.replace("{workers}", "1")

    folder = Path(tempfile.mkdtemp(prefix="wb-join-"))
    database = Database(args.database, folder)
    try:
        seat = database.prepare(1)[0]
        started = time.perf_counter()
        points, email = fill_board(
            database.template_url,
            folder,
            seat.session_id,
            args.items,
            args.clear_every,
            args.spaced_json,
        )
        print(
            f"board: {args.items} strokes, {points} points, stored in "
            f"{time.perf_counter() - started:.1f} s; database={args.database}, mode={args.mode} "
            f"(async_mode={async_mode}), encoding={args.encoding}"
            f"{', items stored with spaces' if args.spaced_json else ''}, "
            f"server core {args.server_cores}, client core {args.client_core}"
        )
        database.fresh()
        os.sched_setaffinity(0, {args.client_core})
        if args.nice:
            os.nice(args.nice)
        env = server_env(database.url, async_mode, False, {})
        # Per kind of join: wall-clock times, to the message (Python client), the server's CPU
        # (utime + stime) per connect + join + disconnect, which a busy machine inflates less
        # than wall-clock times, and the share of a core other programs took meanwhile.
        times, arrivals, cpu, others = (defaultdict(list) for _ in range(4))
        pages, answer, cookies, rss = [], None, None, 0.0

        def measure(kind: str, server: Server, token: str) -> None:
            nonlocal answer
            with Meter(server, database) as meter:
                elapsed, arrived, answer = join(args, server.url, token, seat.session_id)
            times[kind].append(elapsed)
            if arrived is not None:
                arrivals[kind].append(arrived)
            cpu[kind].append(meter.server_cpu)
            others[kind].append(meter.others)

        def profiled(server: Server, path: Path, seconds: float):
            if not args.profile:
                return None
            profiler = start_profiler(server, seconds, path)
            time.sleep(1.0)  # py-spy attaches before the join is sent
            return profiler

        def stop(profiler) -> None:
            if profiler:
                profiler.send_signal(signal.SIGINT)  # py-spy writes on SIGINT
                profiler.wait(30)

        # Cold: the first join after a server start, nothing else asked of the server but
        # its health check. Then warm joins on the last of these servers.
        for run in range(args.cold):
            server = Server(
                command, env, args.server_cores, folder / f"server-cold-{run}.log", nice=args.nice
            )
            try:
                server.wait_healthy()
                if run == 0:
                    print(f"server log: {server.log_path}", flush=True)
                profiler = profiled(server, folder / f"profile-cold-{run}.txt", 60)
                measure("cold", server, seat.learner_token)
                stop(profiler)
                if run == 0 and args.page_cold:
                    # The cookie outlives the server (same secret key): no sign-in later
                    # warms a server before its page.
                    cookies = sign_in(server.url, email)
                if run == args.cold - 1:
                    # Warm: the same server, new connections, alternating tutor and learner.
                    profiler = profiled(server, folder / "profile-warm.txt", 3600)
                    for n in range(args.warm):
                        measure("warm", server, seat.tutor_token if n % 2 else seat.learner_token)
                    rss = server.peak_rss()
                    stop(profiler)
            finally:
                server.stop()
        # Cold after the room page: what a browser does on a fresh server, the page (which
        # the server answers first) and then, once the client has started and connected, the
        # join. The figure is still the join's, emit to the decoded replay.
        for run in range(args.page_cold):
            server = Server(
                command, env, args.server_cores, folder / f"server-page-{run}.log", nice=args.nice
            )
            try:
                server.wait_healthy()
                started = time.perf_counter()
                room_page(server.url, cookies, seat.session_id)
                pages.append(time.perf_counter() - started)
                measure("cold after page", server, seat.learner_token)
                times["page to replay"].append(time.perf_counter() - started)
            finally:
                server.stop()
        report("join, cold (first after start, no page)", times["cold"])
        report("join, cold after the room page", times["cold after page"])
        report("join, warm", times["warm"])
        report("  room page (before the cold join)", pages)
        report("  page request to replay, client start incl.", times["page to replay"])
        for kind in ("cold", "warm"):
            report(f"  {kind}, to the message (before decoding)", arrivals[kind])
        for kind in ("cold", "cold after page", "warm"):
            # After the page: the board's read in the background (meanwhile) included.
            report(f"  {kind}, server CPU per connect+join", cpu[kind])
        for kind in ("cold", "cold after page", "warm"):
            report_others(f"  {kind}, others' CPU during the join", others[kind])
        if args.profile:
            cold_profiles = sorted(folder.glob("profile-cold-*.txt"))
            if cold_profiles:
                merged = folder / "profile-cold.txt"
                merged.write_text("".join(path.read_text() for path in cold_profiles))
                print_profile(merged)
            if (folder / "profile-warm.txt").exists():
                print_profile(folder / "profile-warm.txt")
        if args.client == "node":
            print(f"replay: {answer['items']} items, decoded by V8 (in the figures above)")
            print(f"server peak RSS after the warm joins: {rss:.0f} MiB")
            return
        body = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
        started = time.perf_counter()
        for _ in range(5):
            json.loads(body)
        decode = (time.perf_counter() - started) / 5
        print(
            f"replay: {len(answer['items'])} items, last_seq {answer['last_seq']}, "
            f"{len(body) / 2**20:.2f} MiB of JSON ({len(body) / len(answer['items']):.0f} B/item); "
            f"the client's json.loads of it takes {decode * 1000:.0f} ms (in the figures above)"
        )
        print(f"server peak RSS after the warm joins: {rss:.0f} MiB")
    finally:
        database.drop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
