"""The processes a benchmark starts: a Neo4j per seed size, the gateway, the peer; and the
CPU time each has used, read from /proc (Linux)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from gateway.neo4j_local import LocalNeo4j
from gateway.settings import LOCAL_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = REPO_ROOT / "bench" / "peers" / "neo4j-graphql"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# At 1,000,000 persons the store (indexes included) measured 2.2 GB, plus 2.3 GB of
# transaction logs that the page cache does not hold: 5 KB per person keeps the whole store
# cached with room to spare, so a size measures the graph's shape, not the disk. At least
# 2 GB (the 10,000 and 100,000 points ran with 2 GB), at most 8 GB (a third of this shared
# 24 GiB machine).
_PAGECACHE_MB_PER_PERSON = 5 / 1024
_PAGECACHE_MB = (2048, 8192)


def pagecache_for(persons: int) -> str:
    """The bench Neo4j's page cache for a seed of ``persons``, as a Neo4j size in MB ("4883m" at 1,000,000)."""
    low, high = _PAGECACHE_MB
    return f"{min(high, max(low, round(persons * _PAGECACHE_MB_PER_PERSON)))}m"


def bench_neo4j(persons: int, heap: str = "2g") -> LocalNeo4j:
    """A Neo4j home per seed size (.local/bench-neo4j-N), so that runs at different sizes
    each keep their own graph instead of refusing to seed over the other. Its ports are
    free ones the OS picks (never the defaults), and LocalNeo4j refuses to start on a port
    that another server (a test session's Neo4j) took in between."""
    return LocalNeo4j(home=LOCAL_DIR / f"bench-neo4j-{persons}", lib=LOCAL_DIR / "neo4j-lib",
                      bolt_port=free_port(), http_port=free_port(), heap=heap,
                      pagecache=pagecache_for(persons))  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Server:
    """A child HTTP server, ready once ``health`` answers 200."""

    name = "server"

    def __init__(
        self, command: Callable[[int], list[str]], env: dict[str, str], cwd: Path, health: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"{self.name}-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command(self.port),
            env={**env, "PORT": str(self.port)}, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}{health}", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} did not start; see {self.log.name}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()


class GatewayProcess(_Server):
    name = "gateway"

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(
            lambda port: [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
            env,
            REPO_ROOT,
            "/healthz",
        )


class PeerProcess(_Server):
    """The Neo4j GraphQL Library on Apollo Server (bench/peers/neo4j-graphql)."""

    name = "peer"

    def __init__(self, env: dict[str, str]) -> None:
        # Apollo's standalone server answers GET / with 400 without a query: it is up.
        super().__init__(lambda port: ["node", "server.js"], {**env, "NODE_ENV": "production"}, PEER_DIR, "/")
