"""A throwaway PostgreSQL server for the tests and benchmarks: the installed binaries (Debian's
`/usr/lib/postgresql/<version>/bin`: initdb, pg_ctl) in a temporary folder on a free loopback port, run as an
unprivileged user (the server refuses to run as root: as root it runs as `postgres`), stopped at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "hugginggpt"  # the server's superuser (trust authentication, loopback only)
RUN_AS = "postgres"  # the account the server runs as when the tests run as root


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest installed version), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    on_path = shutil.which("initdb")
    for folder in [*found, *([str(Path(on_path).resolve().parent)] if on_path else [])]:
        if all((Path(folder) / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One server: `start()`, `url(database)`, `create_database(name)`, `kill()` (no clean shutdown),
    `stop()`. `durable=False` (tests) turns fsync off; benchmarks keep PostgreSQL's defaults."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir, self.durable = bin_dir, durable
        self.root = Path(tempfile.mkdtemp(prefix="hugginggpt-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise RuntimeError(
                    f"running as root and there is no {RUN_AS!r} account to run PostgreSQL as "
                    "(apt-get install postgresql creates it)"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", RUN_AS, "--"]
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-locale")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bin_dir / tool), *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.is_file() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}{log}")

    def start(self) -> PostgresServer:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").is_file():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def kill(self) -> None:
        """Stop at once, as a crash would (no checkpoint; connections cut)."""
        self.stop("immediate")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A started server, stopped and deleted afterwards (RuntimeError when no binaries are installed)."""
    folder = binaries()
    if folder is None:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    server = PostgresServer(folder, durable=durable)
    try:
        yield server.start()
    finally:
        server.remove()
