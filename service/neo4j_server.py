"""A real Neo4j Community server for machines without one: assembled from the official jars.

`install()` copies the jars named in neo4j/pom.xml from the Maven repository into a git-ignored
cache; `LocalNeo4j` configures, starts and stops one server instance (the demo's, or a throwaway
one for the tests) on loopback ports with the machine's Java 17.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from service.config import PROJECT_ROOT
from service.neo4j_browser import post_connect_command

POM = PROJECT_ROOT / "neo4j" / "pom.xml"
MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"
DATABASE = "neo4j"  # the one user database of Community
JAVA_OPTIONS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:+UseG1GC",
    "-XX:+ExitOnOutOfMemoryError",
]
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


class Neo4jServerError(RuntimeError):
    pass


def neo4j_version() -> str:
    match = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", POM.read_text())
    if not match:
        raise Neo4jServerError(f"{POM} names no <neo4j.version>")
    return match.group(1)


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise Neo4jServerError("Java 17 or newer is needed for the local Neo4j server: no `java` found")
    return java


def install(cache_dir: Path) -> Path:
    """Copy the Neo4j server jars into cache_dir/<version>/lib once; return that lib folder."""
    lib = cache_dir / neo4j_version() / "lib"
    if (lib / ".complete").exists():
        return lib
    mvn = shutil.which("mvn")
    if not mvn:
        raise Neo4jServerError("Maven (`mvn`) is needed to fetch the Neo4j server jars")
    partial = lib.with_name("lib.partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Fetching Neo4j {neo4j_version()} server jars into {lib} ...", flush=True)
    subprocess.run(
        [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
         "-DexcludeTypes=pom", "-DincludeScope=runtime", f"-DoutputDirectory={partial}"],
        check=True,
    )
    (partial / ".complete").touch()
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    return lib


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LocalNeo4j:
    """One server instance: its own folder (conf, data, logs, run) and its own ports."""

    lib: Path
    home: Path
    bolt_port: int
    http_port: int
    password: str
    heap: str = "1g"
    pagecache: str = "512m"
    # The accountgraph service the Browser loads its style and guide from once connected
    # (service.neo4j_browser); None: the Browser as it comes.
    service_url: str | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def console_log(self) -> Path:
        return self.home / "logs" / "console.log"

    def _environment(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")}

    def configure(self) -> None:
        for folder in ("conf", "data", "logs", "run", "plugins", "import"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        (self.home / "conf" / "neo4j.conf").write_text(
            "\n".join([
                "server.default_listen_address=127.0.0.1",
                "server.default_advertised_address=127.0.0.1",
                f"server.bolt.listen_address=127.0.0.1:{self.bolt_port}",
                f"server.bolt.advertised_address=127.0.0.1:{self.bolt_port}",
                f"server.http.listen_address=127.0.0.1:{self.http_port}",
                f"server.http.advertised_address=127.0.0.1:{self.http_port}",
                "server.https.enabled=false",
                f"server.memory.heap.initial_size={self.heap}",
                f"server.memory.heap.max_size={self.heap}",
                f"server.memory.pagecache.size={self.pagecache}",
                "dbms.usage_report.enabled=false",
                "dbms.security.auth_enabled=true",
                "db.transaction.timeout=60s",
                *self.browser_settings(),
                "",
            ])
        )
        if not (self.home / "data" / "dbms" / "auth.ini").exists():
            subprocess.run(
                [java_executable(), "-cp", f"{self.lib}/*", ADMIN_CLASS,
                 "dbms", "set-initial-password", self.password],
                env=self._environment(), check=True, capture_output=True,
            )

    def browser_settings(self) -> list[str]:
        """The Neo4j Browser's settings: no product analytics (and so no consent banner), and, with a
        service, its style and Townsend guide loaded on connecting, from that service's host only."""
        settings = ["client.allow_telemetry=false"]
        if self.service_url:
            host = urlsplit(self.service_url).hostname or "127.0.0.1"
            hosts = ",".join(dict.fromkeys([host, "127.0.0.1", "localhost"]))
            settings += [f"browser.post_connect_cmd={post_connect_command(self.service_url)}",
                         f"browser.remote_content_hostname_whitelist={hosts}"]
        return settings

    def dump(self, folder: Path) -> Path:
        """Neo4j's own dump of the database (`neo4j-admin database dump`) into folder/neo4j.dump; the
        server must be stopped (Community cannot dump a running database)."""
        folder.mkdir(parents=True, exist_ok=True)
        self._admin("database", "dump", DATABASE, f"--to-path={folder}", "--overwrite-destination=true")
        return folder / f"{DATABASE}.dump"

    def load(self, folder: Path) -> None:
        """Replace the database with folder/neo4j.dump (`neo4j-admin database load`); the server must be
        stopped. The users and passwords (the system database) stay as they are."""
        if not (folder / f"{DATABASE}.dump").exists():
            raise Neo4jServerError(f"no {DATABASE}.dump in {folder}")
        self._admin("database", "load", DATABASE, f"--from-path={folder}", "--overwrite-destination=true")

    def _admin(self, *arguments: str) -> None:
        if self.running_pid():
            raise Neo4jServerError("the local Neo4j is running: stop it first (accountgraph db stop)")
        self.configure()
        done = subprocess.run([java_executable(), "-cp", f"{self.lib}/*", ADMIN_CLASS, *arguments],
                              env=self._environment(), capture_output=True, text=True)
        if done.returncode != 0:
            raise Neo4jServerError(f"neo4j-admin {' '.join(arguments[:2])} failed: "
                                   f"{(done.stderr or done.stdout).strip()[-2000:]}")

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError):
            return None
        return pid if MAIN_CLASS.encode() in cmdline else None

    def start(self, timeout: float = 180.0) -> int:
        """Start in the background and wait until it serves; a running instance is reused."""
        if pid := self.running_pid():
            return pid
        for port in (self.bolt_port, self.http_port):
            if port_open(port):
                raise Neo4jServerError(f"port {port} is already taken by another program")
        self.configure()
        command = [
            java_executable(), f"-Xms{self.heap}", f"-Xmx{self.heap}", *JAVA_OPTIONS,
            "-cp", f"{self.lib}/*", MAIN_CLASS,
            f"--home-dir={self.home}", f"--config-dir={self.home / 'conf'}", "--console-mode",
        ]
        # posix_spawn rather than Popen: the server outlives this process, so no Popen object may own it.
        pid = os.posix_spawn(command[0], command, self._environment(), setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(self.console_log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ])
        self.pid_file.write_text(str(pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise Neo4jServerError(f"Neo4j exited during start-up; see {self.console_log}")
            if port_open(self.bolt_port) and port_open(self.http_port):
                return pid
            time.sleep(0.2)
        self.stop()
        raise Neo4jServerError(f"Neo4j did not answer on port {self.bolt_port} within {timeout:.0f}s")

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM and wait for a clean shutdown; return whether a server was running."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        # Wait on the process, not the pid file: Neo4j removes that file before the JVM has exited.
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"
