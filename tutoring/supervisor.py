"""Keeps the production server processes running: `serve-prod` ends by becoming this script.

Run as a file (`python tutoring/supervisor.py SPEC`), not imported: it needs only the standard
library, so the process that waits for the servers stays small. SPEC is JSON:
`{"host": …, "cwd": …, "commands": {"<port>": [argv of one gunicorn], …}}`. It starts every
command, starts again one that exits (giving up when one keeps failing right after its start),
and on SIGTERM or SIGINT stops them all gracefully, then exits 0.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

# Seconds a process gets after SIGTERM (gunicorn's --graceful-timeout), plus a margin.
STOP_SECONDS = 15
# A process that exits sooner than this after its start counts as failing to start.
START_SECONDS = 10
START_FAILURES_ALLOWED = 3


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Process:
    """One gunicorn (master and its one worker) on one port."""

    port: int
    command: list[str]
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_failures: int = 0

    def start(self, cwd: str) -> None:
        self.popen = subprocess.Popen(self.command, cwd=cwd)  # noqa: S603
        self.started_at = time.monotonic()


@dataclass
class Supervisor:
    """Starts the server processes, restarts one that dies, stops all on a signal."""

    host: str
    cwd: str
    processes: list[Process]
    stopping: bool = field(default=False)

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; return the exit status."""
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, self._stop_requested)
        for process in self.processes:
            process.start(self.cwd)
        count = len(self.processes)
        say(
            f"serving on {', '.join(f'{self.host}:{p.port}' for p in self.processes)} "
            f"({count} process{'es' if count > 1 else ''}, gevent-websocket)"
        )
        status = 0
        while not self.stopping:
            for process in self.processes:
                code = process.popen.poll() if process.popen else None
                if code is None or self.stopping:
                    continue
                if time.monotonic() - process.started_at < START_SECONDS:
                    process.quick_failures += 1
                else:
                    process.quick_failures = 0
                if process.quick_failures >= START_FAILURES_ALLOWED:
                    say(
                        f"the process on port {process.port} exited {code} "
                        f"{START_FAILURES_ALLOWED} times right after starting; stopping"
                    )
                    self.stopping = True
                    status = 1
                    break
                say(f"the process on port {process.port} exited {code}; restarting it")
                process.start(self.cwd)
            time.sleep(0.5)
        self._stop_all()
        say("stopped")
        return status

    def _stop_requested(self, signal_number, frame) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        """Stop every process gracefully (SIGTERM), killing what is left after the grace."""
        running = [p.popen for p in self.processes if p.popen and p.popen.poll() is None]
        for popen in running:
            popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for popen in running:
            try:
                popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(5)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    processes = [Process(int(port), command) for port, command in spec["commands"].items()]
    return Supervisor(spec["host"], spec["cwd"], processes).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
