"""Sign-in and token authentication cost: what each request pays before any feature work.

Runs the app in-process (Flask test client) on a temporary SQLite database with the
production password-hashing profile, and prints p50/p99 latency and peak memory.
Usage: .venv/bin/python bench/auth.py [--requests N]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import tempfile
import time

from tutoring import create_app
from tutoring.extensions import db


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(what: str, samples: list[float]) -> None:
    print(
        f"{what:<42} n={len(samples):<5} p50={percentile(samples, 50) * 1000:7.2f} ms"
        f"  p99={percentile(samples, 99) * 1000:7.2f} ms  mean={statistics.mean(samples) * 1000:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
                "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
                "API_TOKEN_LIMIT": "100000 per minute",
            },
            instance_path=folder,
        )
        with app.app_context():
            from tutoring.auth.service import create_token
            from tutoring.people.models import Role
            from tutoring.people.service import create_user

            db.create_all()
            user = create_user(
                None,
                name="Bench",
                role=Role.TUTOR,
                email="bench@example.org",
                password="bench password 1",
            )
            _token, raw = create_token(user, "bench")
            db.session.commit()
        client = app.test_client()
        print(f"argon2 profile={app.config['ARGON2_PROFILE']} database=sqlite, in-process client")

        sign_ins = []
        for _ in range(max(20, args.requests // 10)):
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            start = time.perf_counter()
            response = client.post(
                "/login",
                data={
                    "email": "bench@example.org",
                    "password": "bench password 1",
                    "csrf_token": token,
                },
            )
            sign_ins.append(time.perf_counter() - start)
            assert response.status_code == 302
            settings = client.get("/settings").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', settings).group(1)
            assert client.post("/logout", data={"csrf_token": token}).status_code == 302
        report("POST /login (argon2 verify)", sign_ins)

        api = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
            api.append(time.perf_counter() - start)
            assert response.status_code == 200
        report("GET /api/v1/me (bearer token)", api)

        health = []
        for _ in range(args.requests):
            start = time.perf_counter()
            client.get("/healthz")
            health.append(time.perf_counter() - start)
        report("GET /healthz", health)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB (argon2 uses 64 MiB per sign-in while it hashes)")


if __name__ == "__main__":
    main()
