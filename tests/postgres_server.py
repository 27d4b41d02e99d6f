"""Run a command against a throw-away PostgreSQL server.

    python -m tests.postgres_server pytest -q

Installs Debian's PostgreSQL if it is missing (as root), creates a cluster in a
temporary directory, starts it on a free loopback port, runs the command with
CENTREX_TEST_DATABASE_URL pointing at it, then stops and removes the cluster.
The command's exit status is returned. Tests start one of their own with
`throwaway_server()` (one they may stop dead, for instance).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install() -> Path:
    bindir = _bindir()
    if bindir:
        return bindir
    if os.geteuid() != 0:
        sys.exit("PostgreSQL is not installed: apt-get install postgresql (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    bindir = _bindir()
    if bindir is None:
        sys.exit("PostgreSQL installation did not provide initdb")
    return bindir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str  # postgresql+psycopg://…, database centrex_test
    data: Path  # the cluster's directory (postmaster.pid names the server's process)

    def processes(self) -> list[int]:
        """The server's processes: the postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            if ppid == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    @contextmanager
    def stopped_dead(self) -> Iterator[None]:
        """Every process of the server stopped (SIGSTOP), then let go (SIGCONT): its
        kernel still acknowledges every byte sent to it, as a hung host's does."""
        processes = self.processes()
        for pid in processes:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in processes:
                os.kill(pid, signal.SIGCONT)


@contextmanager
def throwaway_server() -> Iterator[Server]:
    """A PostgreSQL server on a free loopback port with an empty database, removed
    afterwards (its data directory with it)."""
    bindir = _install()
    workdir = Path(tempfile.mkdtemp(prefix="centrex-pg-"))
    # initdb refuses to run as root: run the server as Debian's postgres user then.
    as_user: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(workdir, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", free_port()
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "centrex",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*pg_ctl, "-w", "-l", str(workdir / "log"), "-o", options, "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=workdir,
        )
        subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "centrex",
                "centrex_test",
            ],
            check=True,
        )
        yield Server(f"postgresql+psycopg://centrex@127.0.0.1:{port}/centrex_test", data)
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "fast", "stop"], stdout=subprocess.DEVNULL, check=False, cwd=workdir
        )
        shutil.rmtree(workdir, ignore_errors=True)


def installed() -> bool:
    return _bindir() is not None


def main(command: list[str]) -> int:
    with throwaway_server() as server:
        print(f"PostgreSQL test server at {server.url}", flush=True)
        env = {**os.environ, "CENTREX_TEST_DATABASE_URL": server.url}
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
