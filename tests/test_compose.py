"""docker-compose.yml as Docker Compose itself reads it, and the proxy's deploy/nginx.conf as nginx
parses it: several API replicas behind the proxy, the schema and seed applied once before them, only
the proxy on a host port, WebSockets passed through to the replicas. Needs no Docker engine.

Compose: the real CLI's `config` (the Compose v2 loader: the Compose specification's schema, then
interpolation, merge keys and the checks between services), from `make compose-cli`, else a
`docker compose` that answers. nginx: crossplane's parser and its table of nginx's directives
(their contexts and numbers of arguments)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import crossplane  # type: ignore[import-untyped]
import crossplane.analyzer  # type: ignore[import-untyped]
import pytest

from service.config import PROJECT_ROOT, Settings

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx.conf"
COMPOSE_CLI = PROJECT_ROOT / ".cache" / "compose" / "docker-compose"  # `make compose-cli`
API_PORT = 8000  # the service's PORT in the api containers, and the proxy's port

Directive = dict[str, Any]  # crossplane's: {"directive", "args", "line", "block"?}


def compose_command() -> list[str]:
    if COMPOSE_CLI.exists():
        return [str(COMPOSE_CLI)]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.fail("no Docker Compose CLI: `make compose-cli` puts one in .cache/compose (Linux x86-64); "
                "elsewhere install Docker's compose plugin")


def compose_config(file: Path, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker compose config` of `file` in the project's folder, with only `variables` set: no .env
    file, and none of the caller's COMPOSE_* or DOCKER_* variables."""
    no_env_file = tmp_path / "empty.env"
    no_env_file.write_text("")
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"),
                   **variables}
    return subprocess.run([*compose_command(), "--file", str(file), "--project-directory", str(PROJECT_ROOT),
                           "--env-file", str(no_env_file), "config", "--format", "json"],
                          capture_output=True, text=True, env=environment, timeout=60)


def loaded(tmp_path: Path, **variables: str) -> dict[str, Any]:
    done = compose_config(COMPOSE_FILE, tmp_path, **variables)
    assert done.returncode == 0, f"docker compose config refused docker-compose.yml:\n{done.stderr}"
    project: dict[str, Any] = json.loads(done.stdout)
    return project


def test_compose_runs_api_replicas_behind_the_proxy_after_one_migration(tmp_path: Path) -> None:
    project = loaded(tmp_path)
    services = project["services"]
    assert set(services) == {"neo4j", "migrate", "api", "proxy"}
    neo4j, migrate, api, proxy = (services[name] for name in ("neo4j", "migrate", "api", "proxy"))

    # Once: migrate applies the schema and the seed after Neo4j is healthy, and is not restarted.
    assert migrate["command"] == ["accountgraph", "seed"]
    assert migrate["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no"
    assert migrate.get("deploy", {}).get("replicas", 1) == 1
    assert "build" in migrate and migrate["build"]["context"] == str(PROJECT_ROOT)

    # Several replicas of the service, of the image migrate built, started once migrate exited 0.
    assert api["command"] == ["accountgraph", "serve"]
    assert api["image"] == migrate["image"]
    assert api["deploy"]["replicas"] == 3
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["environment"]["PORT"] == str(API_PORT) and api["environment"]["HOST"] == "0.0.0.0"
    assert api["environment"]["NEO4J_URI"] == migrate["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert not api.get("ports"), "replicas cannot share a host port: only the proxy publishes one"

    # The proxy: the only way in, on loopback, once the replicas are ready; its config mounted read-only.
    assert [(port["host_ip"], str(port["published"]), port["target"]) for port in proxy["ports"]] == [
        ("127.0.0.1", str(API_PORT), API_PORT)]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    image, tag = proxy["image"].split(":")
    assert image == "nginx" and nginx_version(tag) >= (1, 27, 3), "`server ... resolve` needs nginx 1.27.3"
    [mount] = [volume for volume in proxy["volumes"] if volume["target"] == "/etc/nginx/nginx.conf"]
    assert mount["type"] == "bind" and mount["read_only"] is True
    assert Path(mount["source"]) == NGINX_CONF and NGINX_CONF.is_file()

    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"neo4j", "proxy"}
    assert {port["host_ip"] for port in neo4j["ports"]} == {"127.0.0.1"}

    # How many: API_REPLICAS (from the shell or .env), else 3; `--scale api=N` overrides both.
    assert loaded(tmp_path, API_REPLICAS="5")["services"]["api"]["deploy"]["replicas"] == 5


DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def image_user() -> tuple[str, str, str]:
    """The Dockerfile's final image's user: (name, uid, gid) from its useradd and USER lines."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())  # continuation lines joined
    created = re.search(r"useradd --system --uid (\d+) --gid (\w+) .*? (\w+)$", text, re.MULTILINE)
    group = re.search(r"groupadd --system --gid (\d+) (\w+)", text)
    assert created and group, "the Dockerfile creates no system user"
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users, "the Dockerfile sets no USER: the image would run as root"
    name = users[-1].split(":")[0]
    assert name == created.group(3) and group.group(2) == created.group(2)
    return name, created.group(1), group.group(1)


def test_compose_runs_the_image_as_its_non_root_user_with_a_writable_exports_volume(tmp_path: Path) -> None:
    """Every feature works as the non-root user: the API replicas and the migration run as the image's
    `accountgraph` user (uid/gid 10001, never 0), and activation files go to EXPORTS_DIR (/app/exports
    in the image, service/config.py), a named volume shared by the replicas, which the Dockerfile
    creates and gives to that user before switching to it (a new named volume takes the image
    folder's owner)."""
    name, uid, gid = image_user()
    assert uid != "0" and gid != "0" and name != "root"

    project = loaded(tmp_path)
    services = project["services"]
    for service in ("api", "migrate"):
        assert services[service]["user"] == f"{uid}:{gid}", service

    [exports] = [volume for volume in services["api"]["volumes"] if volume["target"] == "/app/exports"]
    assert exports["type"] == "volume" and exports["source"] == "exports"
    assert not exports.get("read_only")
    assert "exports" in project["volumes"]

    # The image's exports folder, the service's default EXPORTS_DIR at /app, is made and owned by the user.
    assert Settings.model_fields["exports_dir"].default == PROJECT_ROOT / "exports"
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    assert "WORKDIR /app" in text
    made = re.search(r"RUN mkdir -p (.*?) && chown (\w+):(\w+) (.*?) &&", text)
    assert made, "the Dockerfile does not make and chown the folders the service writes"
    assert "/app/exports" in made.group(1).split() and "/app/exports" in made.group(4).split()
    assert "/app/.cache" in made.group(4).split()
    assert made.group(2) == made.group(3) == name
    assert text.index(made.group(0)) < text.rindex("\nUSER "), "chown before switching to the user"


def nginx_version(tag: str) -> tuple[int, ...]:
    """The oldest nginx an image tag may be: "1.28-alpine" is 1.28.0 or later."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:-|$)", tag)
    assert match, f"the proxy's image is not pinned to an nginx version: {tag!r}"
    return tuple(int(part or 0) for part in match.groups())


BROKEN = [
    # (what is changed in docker-compose.yml, what Compose's answer says)
    pytest.param(("    deploy:\n      replicas:", "    deploy:\n      replicaz:"), "replicaz", id="unknown key"),
    pytest.param(("      migrate:\n        condition: service_completed_successfully",
                  "      migrations:\n        condition: service_completed_successfully"),
                 "migrations", id="depends on no such service"),
    pytest.param(("replicas: ${API_REPLICAS:-3}", "replicas: three"), "replicas", id="replicas not a number"),
]


@pytest.mark.parametrize(("change", "said"), BROKEN)
def test_compose_refuses_a_broken_copy(tmp_path: Path, change: tuple[str, str], said: str) -> None:
    """The validation is real: the same file with one mistake is refused, and the answer names it."""
    text = COMPOSE_FILE.read_text()
    old, new = change
    assert text.count(old) == 1
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new))
    done = compose_config(broken, tmp_path)
    assert done.returncode != 0, f"docker compose config took a broken file:\n{done.stdout[:2000]}"
    assert said in done.stderr, done.stderr


# --- deploy/nginx.conf ---------------------------------------------------------------------------

def parsed_nginx_conf(path: Path) -> list[Directive]:
    """The directives of the file, refused as nginx would refuse them: a syntax error, a directive in
    the wrong block, the wrong number of arguments, or a directive nginx does not have."""
    result = crossplane.parse(str(path), single=True, check_ctx=True, check_args=True, comments=False)
    assert result["status"] == "ok", [error["error"] for error in result["errors"]]
    directives: list[Directive] = result["config"][0]["parsed"]
    unknown = [f"{d['directive']} (line {d['line']})" for d in walk(directives) if d["directive"]
               not in crossplane.analyzer.DIRECTIVES]
    assert not unknown, f"not nginx directives: {unknown}"
    return directives


def walk(directives: list[Directive]) -> list[Directive]:
    """Every directive, nested ones included; not the entries of a `map` (which are not directives)."""
    found = []
    for directive in directives:
        found.append(directive)
        if "block" in directive and directive["directive"] != "map":
            found += walk(directive["block"])
    return found


def only(directives: list[Directive], name: str, *args: str) -> Directive:
    matching = [d for d in directives if d["directive"] == name and d["args"][:len(args)] == list(args)]
    assert len(matching) == 1, f"expected one `{name} {' '.join(args)}`, found {len(matching)}"
    return matching[0]


def effective(name: str, *levels: list[Directive]) -> list[list[str]]:
    """The arguments of `name` in force in the innermost level (a location) given its enclosing ones
    (server, http): nginx takes them from the innermost level that has any, the others' not at all."""
    for level in levels:
        found = [d["args"] for d in level if d["directive"] == name]
        if found:
            return found
    return []


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, value
    return int(match[1]) * units[match[2] or "s"]


def test_the_proxy_balances_http_and_websockets_over_the_api_replicas(tmp_path: Path) -> None:
    http = only(parsed_nginx_conf(NGINX_CONF), "http")["block"]

    # The replicas: every address Docker's DNS gives for the `api` service, asked again as it expires.
    [resolver] = effective("resolver", http)
    assert resolver[0] == "127.0.0.11" and any(arg.startswith("valid=") for arg in resolver[1:])
    upstream = only(http, "upstream")
    name, pool = upstream["args"][0], upstream["block"]
    assert only(pool, "server")["args"] == [f"api:{API_PORT}", "resolve"]
    only(pool, "zone")  # `resolve` needs the upstream's state in shared memory

    # The WebSocket upgrade: Connection "upgrade" exactly when the client sent an Upgrade header.
    connection_map = only(http, "map", "$http_upgrade")
    assert connection_map["args"] == ["$http_upgrade", "$connection_upgrade"]
    assert {entry["directive"]: entry["args"] for entry in connection_map["block"]}["default"] == ["upgrade"]

    server = only(http, "server")["block"]
    assert only(server, "listen")["args"] == [str(API_PORT)]
    graphql = only(server, "location", "=", "/graphql")["block"]
    for location in (graphql, only(server, "location", "/")["block"]):
        levels = (location, server, http)
        assert effective("proxy_pass", *levels) == [[f"http://{name}"]]
        assert effective("proxy_http_version", *levels) == [["1.1"]]
        headers = {args[0].lower(): args[1] for args in effective("proxy_set_header", *levels)}
        assert headers["upgrade"] == "$http_upgrade" and headers["connection"] == "$connection_upgrade"
    # Subscriptions stay open: a quiet one is not cut after nginx's default 60 s.
    assert seconds(effective("proxy_read_timeout", graphql, server, http)[0][0]) >= 3600

    # And Compose agrees: the upstream's host is the replicated service, the port the one published.
    services = loaded(tmp_path)["services"]
    assert services["api"]["deploy"]["replicas"] > 1
    assert services["proxy"]["ports"][0]["target"] == API_PORT


def test_a_broken_nginx_conf_is_refused(tmp_path: Path) -> None:
    text = NGINX_CONF.read_text()
    for old, new in [("proxy_http_version 1.1;", "proxy_http_versoin 1.1;"),    # no such directive
                     ("least_conn;", "least_conn"),                               # a missing semicolon
                     ("resolver_timeout 5s;", "location / { }")]:                 # not in `http`
        assert text.count(old) == 1
        broken = tmp_path / "nginx.conf"
        broken.write_text(text.replace(old, new))
        with pytest.raises(AssertionError):
            parsed_nginx_conf(broken)
