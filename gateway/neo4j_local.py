"""A Neo4j Community server run from its official Maven jars, for machines without Docker.

``install`` fetches the server into a shared lib folder with Maven; ``LocalNeo4j`` is one
server home (conf, data, logs, run, password) on its own ports, started as a detached JVM
running ``org.neo4j.server.CommunityEntryPoint`` with the flags Neo4j's launcher adds.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from gateway.settings import REPO_ROOT

NEO4J_VERSION = "5.26.30"
SUPPORTED_JAVA = (17, 21)
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
# What the distribution's launcher adds on Java 17+ (see its neo4j.conf defaults).
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


class LocalNeo4jError(Exception):
    """A problem the user can act on; the CLI prints it as one line."""


PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 32) -> str:
    """Letters and digits only (190 bits at 32): the admin tool takes a leading ``-`` for
    an option, and no shell or config quoting can trip over these."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Something listens on the port (or holds it), so a server we start could not."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket() as bind:
        # As the server will: TIME_WAIT leftovers of earlier connections do not count.
        bind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            bind.bind((host, port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def java_executable() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LocalNeo4jError(
            "Java is not installed: Neo4j 5.26 needs Java 17 or 21 "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    major = int(match.group(1)) if match else 0
    if major not in SUPPORTED_JAVA:
        raise LocalNeo4jError(
            f"{java} is Java {major}; Neo4j 5.26 needs Java 17 or 21 (set JAVA_HOME to one)"
        )
    return java


def install(lib: Path) -> bool:
    """Fetch the server jars into ``lib`` unless they are there; True if it fetched."""
    marker = lib / f".neo4j-{NEO4J_VERSION}"
    if marker.exists():
        return False
    java_executable()
    mvn = shutil.which("mvn")
    if not mvn:
        raise LocalNeo4jError(
            "Maven is not installed: it fetches the Neo4j server from Maven Central "
            "(Debian: apt-get install maven)"
        )
    lib.mkdir(parents=True, exist_ok=True)
    pom = REPO_ROOT / "neo4j" / "pom.xml"
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "package",
            f"-Dneo4j.lib={lib}",
            f"-Dneo4j.version={NEO4J_VERSION}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise LocalNeo4jError(f"Maven could not fetch Neo4j {NEO4J_VERSION}:\n{tail}")
    marker.touch()
    return True


@dataclass
class Status:
    running: bool
    pid: int | None
    bolt_uri: str
    http_uri: str


@dataclass
class LocalNeo4j:
    home: Path
    lib: Path
    bolt_port: int = 7687
    http_port: int = 7474
    heap: str = "4g"
    pagecache: str = "4g"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def http_uri(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def status(self) -> Status:
        pid = self._running_pid()
        return Status(pid is not None, pid, self.bolt_uri, self.http_uri)

    def start(self, timeout: float = 120.0) -> tuple[Status, bool]:
        """Start the server and wait until Bolt answers; (status, False) if it was running."""
        current = self.status()
        if current.running:
            return current, False
        self.pid_file.unlink(missing_ok=True)  # stale: its process is gone
        # Another server on our port (a developer's own Neo4j) would get our credentials and
        # lock its authentication: refuse before starting anything.
        for port, what, variable in (
            (self.bolt_port, "Bolt", "NEO4J_BOLT_PORT"),
            (self.http_port, "HTTP", "NEO4J_HTTP_PORT"),
        ):
            if port_in_use(port):
                raise LocalNeo4jError(
                    f"port {port} ({what}) is taken by another process, perhaps another Neo4j: "
                    f"choose a free port with {variable}=..., e.g. {variable}={port + 10}"
                )
        java = java_executable()
        if not (self.lib / f".neo4j-{NEO4J_VERSION}").exists():
            raise LocalNeo4jError(f"Neo4j is not installed in {self.lib}: run `gateway neo4j install`")
        self._configure(java)
        log = open(self.home / "logs" / "console.log", "ab")  # noqa: SIM115 (the child owns it)
        command = [
            java, "-cp", f"{self.home / 'conf'}/*:{self.lib}/*",
            f"-Xms{self.heap}", f"-Xmx{self.heap}", *JVM_FLAGS, ENTRY_POINT,
            f"--home-dir={self.home}", f"--config-dir={self.home / 'conf'}", "--console-mode",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI and its terminal
        )  # fmt: skip
        log.close()
        self.pid_file.write_text(str(process.pid))
        self._wait_for_bolt(process, timeout)
        return self.status(), True

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout``); False if not running."""
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        # A stale pid may have been reused by another process: check it is our server.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None
        if ENTRY_POINT in cmdline and f"--home-dir={self.home}" in cmdline and _alive(pid):
            return pid
        return None

    def _configure(self, java: str) -> None:
        for folder in ("conf", "data", "logs", "plugins", "run", "import"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        (self.home / "conf" / "neo4j.conf").write_text(
            "\n".join(
                [
                    "# Written by `gateway neo4j start`; edit NEO4J_* settings instead.",
                    "server.default_listen_address=127.0.0.1",
                    f"server.bolt.listen_address=127.0.0.1:{self.bolt_port}",
                    f"server.http.listen_address=127.0.0.1:{self.http_port}",
                    "server.https.enabled=false",
                    "dbms.security.auth_enabled=true",
                    f"server.memory.heap.initial_size={self.heap}",
                    f"server.memory.heap.max_size={self.heap}",
                    f"server.memory.pagecache.size={self.pagecache}",
                    "dbms.memory.transaction.total.max=2g",
                    "db.logs.query.enabled=OFF",
                    "dbms.usage_report.enabled=false",
                    "",
                ]
            )
        )
        if not self.password_file.exists():
            # The initial password only takes effect before the first start.
            if (self.home / "data" / "databases").exists():
                raise LocalNeo4jError(
                    f"{self.password_file} is missing but {self.home}/data exists: "
                    f"remove {self.home} to start afresh"
                )
            password = generate_password()
            result = subprocess.run(
                [java, "-cp", f"{self.home / 'conf'}/*:{self.lib}/*", f"-Dbasedir={self.home}",
                 "org.neo4j.server.startup.Neo4jAdminCommand", "dbms", "set-initial-password",
                 password],
                capture_output=True, text=True, env={**os.environ, "NEO4J_HOME": str(self.home),
                                                     "NEO4J_CONF": str(self.home / "conf")},
            )  # fmt: skip
            if result.returncode != 0:
                raise LocalNeo4jError(f"could not set the initial password: {result.stderr.strip()}")
            self.password_file.write_text(password + "\n")
            self.password_file.chmod(0o600)

    def _wait_for_bolt(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """Wait until our server answers; credentials go only to the port our process listens
        on, and a refusal of them is final (retrying would lock the account)."""
        deadline = time.monotonic() + timeout
        with GraphDatabase.driver(self.bolt_uri, auth=("neo4j", self.password())) as driver:
            while True:
                if process.poll() is not None:
                    self.pid_file.unlink(missing_ok=True)
                    raise LocalNeo4jError(
                        f"Neo4j exited with status {process.returncode}; last lines of "
                        f"{self.home / 'logs' / 'console.log'}:\n{self._log_tail()}"
                    )
                try:
                    if port_in_use(self.bolt_port):
                        driver.verify_connectivity()
                        return
                except AuthError:
                    raise LocalNeo4jError(
                        f"the server on {self.bolt_uri} refused the password in {self.password_file}: "
                        f"if it is not the one in {self.home}, choose another NEO4J_BOLT_PORT"
                    ) from None
                except (ServiceUnavailable, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise LocalNeo4jError(
                        f"Neo4j did not answer on {self.bolt_uri} within {timeout:.0f} s; "
                        f"see {self.home / 'logs'}"
                    )
                time.sleep(0.5)

    def _log_tail(self, lines: int = 15) -> str:
        log = self.home / "logs" / "console.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by us) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
