"""Whiteboard `join` on a full board: how long until a late joiner has the whole replay.

Stores `--items` strokes (20-100 points each) on one session's board through
tutoring.whiteboard.service, starts the server as a subprocess pinned to core 0 (the load
client pins itself to core 1), and times `join` (since=None) from emit to the acknowledgement
carrying every item: cold (the first join after a server start; one server start per sample)
and warm (new connections joining the running server). Prints p50/p95/max, the replay's size
and what decoding it costs the client. Only 127.0.0.1 is contacted.

Usage:
  .venv/bin/python bench/whiteboard_join.py                    # embedded server, SQLite
  .venv/bin/python bench/whiteboard_join.py --items 10000 --cold 5 --warm 20
  .venv/bin/python bench/whiteboard_join.py --mode gevent-ws --database postgres --profile
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from whiteboard_load import (
    MODES,
    NAMESPACE,
    ROOT,
    Database,
    Server,
    percentile,
    print_profile,
    server_env,
    start_profiler,
)


def fill_board(url: str, folder: Path, session_id: int, items: int, clear_every: int = 0) -> int:
    """Store `items` strokes of 20-100 points by the session's tutor; return the points.

    With `clear_every`, the page of every N-th stroke is cleared after it (the board then
    holds items / N more items, and a compact replay leaves the cleared strokes out).
    """
    from tutoring import create_app
    from tutoring.extensions import db
    from tutoring.people.models import User
    from tutoring.scheduling.models import TutoringSession
    from tutoring.whiteboard import service
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
        db.session.remove()
        db.engine.dispose()
    return points


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


def report(what: str, samples: list[float]) -> None:
    if not samples:
        return
    ms = [s * 1000 for s in samples]
    print(
        f"{what:<42} n={len(ms):<3} p50={percentile(ms, 50):7.1f} ms  "
        f"p95={percentile(ms, 95):7.1f} ms  max={max(ms):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--cold", type=int, default=5, help="server starts (one join each)")
    parser.add_argument("--warm", type=int, default=20, help="joins on a running server")
    parser.add_argument("--mode", choices=sorted(MODES), default="embedded")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--nice", type=int, default=0, help="niceness of server and client")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--profile", action="store_true", help="py-spy the warm joins")
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
    args = parser.parse_args()
    command, async_mode = MODES[args.mode]
    command = command.replace("{workers}", "1")

    folder = Path(tempfile.mkdtemp(prefix="wb-join-"))
    database = Database(args.database, folder)
    try:
        seat = database.prepare(1)[0]
        started = time.perf_counter()
        points = fill_board(
            database.template_url, folder, seat.session_id, args.items, args.clear_every
        )
        print(
            f"board: {args.items} strokes, {points} points, stored in "
            f"{time.perf_counter() - started:.1f} s; database={args.database}, mode={args.mode} "
            f"(async_mode={async_mode}), encoding={args.encoding}, "
            f"server core {args.server_cores}, client core {args.client_core}"
        )
        database.fresh()
        os.sched_setaffinity(0, {args.client_core})
        if args.nice:
            os.nice(args.nice)
        env = server_env(database.url, async_mode, False, {})
        cold, warm, answer = [], [], None
        cold_arrived, warm_arrived = [], []
        # Server CPU (utime + stime) per connect + join + disconnect: what a busy machine
        # does not inflate the way it inflates wall-clock times.
        cold_cpu, warm_cpu = [], []
        for run in range(args.cold):
            log = folder / f"server-cold-{run}.log"
            server = Server(command, env, args.server_cores, log, nice=args.nice)
            try:
                server.wait_healthy()
                if run == 0:
                    print(f"server log: {server.log_path}", flush=True)
                used = server.cpu()
                elapsed, arrived, answer = join(
                    args, server.url, seat.learner_token, seat.session_id
                )
                cold_cpu.append(server.cpu() - used)
                cold.append(elapsed)
                if arrived is not None:
                    cold_arrived.append(arrived)
                if run == args.cold - 1:
                    # Warm: the same server, new connections, alternating tutor and learner.
                    profile = folder / "profile-warm.txt"
                    profiler = start_profiler(server, 3600, profile) if args.profile else None
                    for n in range(args.warm):
                        token = seat.tutor_token if n % 2 else seat.learner_token
                        used = server.cpu()
                        elapsed, arrived, answer = join(args, server.url, token, seat.session_id)
                        warm_cpu.append(server.cpu() - used)
                        warm.append(elapsed)
                        if arrived is not None:
                            warm_arrived.append(arrived)
                    rss = server.peak_rss()
                    if profiler:
                        profiler.send_signal(signal.SIGINT)  # py-spy writes on SIGINT
                        profiler.wait(30)
            finally:
                server.stop()
        report("join, cold (first after start)", cold)
        report("join, warm", warm)
        report("  cold, to the message (before decoding)", cold_arrived)
        report("  warm, to the message (before decoding)", warm_arrived)
        report("  cold, server CPU per connect+join", cold_cpu)
        report("  warm, server CPU per connect+join", warm_cpu)
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
        if args.profile and (folder / "profile-warm.txt").exists():
            print_profile(folder / "profile-warm.txt")
    finally:
        database.drop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
