"""The local `apps` lab: the set's MySQL StatefulSet as a MariaDB, each WordPress variant of its split route as
a PHP-served WordPress sharing that database, and the Traefik lab routing the set's hosts to them.

Passwords and keys are the set's deploy-time secrets, generated for this run as a kind deploy would; folders
under the lab directory stand for the volumes (a claim keeps its folder across a restart, an emptyDir does not).
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from dbc_validate.analysis.app_stack import AppStackPlan, app_stack_plan, reaches_mysql, wordpress_variants
from dbc_validate.analysis.live.secrets import generate_values, secret_plan
from dbc_validate.analysis.traefik_file_config import backend_key
from dbc_validate.analysis.workload_config import VolumeUse, secret_values_in_set
from dbc_validate.capabilities import HttpRoute, IngressEndpoint, MysqlEndpoint, WordPressVariant
from dbc_validate.labs.mariadb_server import MariaDbServer, find_mariadb
from dbc_validate.labs.traefik_proxy import TraefikLab
from dbc_validate.labs.wordpress_php import WordPressPhp, find_wordpress
from dbc_validate.manifests.deploy_time_secrets import load_deploy_time_secrets
from dbc_validate.manifests.model import ManifestSet
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.tools.processes import lab_directory

SECRETS_OVERLAY = "kind"  # the local stand-ins model a dev cluster: its test secrets, generated per run


def minor(version: str) -> str:
    """ "10.11.18" -> "10.11"."""
    return ".".join(version.split(".")[:2])


def mysql_label(image: str) -> str:
    """ "mysql:8.4.6" -> "MySQL 8.x" (what the StatefulSet runs, as the report names it)."""
    name, _, tag = image.rsplit("/", 1)[-1].split("@", 1)[0].partition(":")
    label = {"mysql": "MySQL", "mariadb": "MariaDB", "percona": "Percona Server"}.get(name, name)
    major = tag.split(".", 1)[0]
    return f"{label} {major}.x" if major.isdigit() else label


def _token(length: int) -> str:
    return secrets.token_urlsafe(length)[:length]


def local_secret_values(ms: ManifestSet, root: Path) -> dict[str, dict[str, str]]:
    """The set's own Secrets plus the deploy-time values a kind deploy would generate (fresh each run)."""
    plan = secret_plan(ms, load_deploy_time_secrets(ms.source, root), SECRETS_OVERLAY)
    return {**secret_values_in_set(ms), **generate_values(plan.specs, _token)}


class LocalAppStack:
    """The AppStack of the local target (see capabilities.AppStack)."""

    def __init__(self, plan: AppStackPlan, progress: Callable[[str], None]) -> None:
        self.plan = plan
        self.progress = progress
        find_mariadb()  # missing packages are reported before anything is created
        self.php, self.wordpress_version = find_wordpress()
        self.directory = lab_directory("apps")
        self.database = MariaDbServer(plan.mysql, self.directory, self._volume(plan.mysql.data))
        db_host = f"127.0.0.1:{self.database.port}"
        # A WORDPRESS_DB_HOST that names no Service of the StatefulSet is kept: it does not resolve here either.
        self.sites = [
            WordPressPhp(
                p,
                self.php,
                self.directory,
                db_host if reaches_mysql(p, plan.mysql) else p.db_host,
                self._volume(p.uploads),
            )
            for p in plan.wordpress
        ]
        self.traefik: TraefikLab | None = None
        self.started_in_s = 0.0

    def _volume(self, volume: VolumeUse) -> Path:
        return self.directory / "volumes" / re.sub(r"[^a-z0-9]+", "-", volume.key.lower()).strip("-")

    # ---- AppStack ---------------------------------------------------------------------------------------

    @property
    def description(self) -> str:
        return f"local lab: {self.stands_in} ({len(self.sites)} variant(s) on php -S)"

    def _image_version(self) -> str:
        tag = self.plan.wordpress[0].image.rsplit(":", 1)[-1]
        return minor(tag.split("-", 1)[0]) if tag else "unknown"

    @property
    def stands_in(self) -> str:
        """What the report says the lab is: "MariaDB 10.11 standing in for MySQL 8.x; WordPress 6.1 ..."."""
        return (
            f"MariaDB {minor(self.database.version)} standing in for {mysql_label(self.plan.mysql.image)}; WordPress "
            f"{minor(self.wordpress_version)} (Debian) standing in for the image's {self._image_version()}"
        )

    @property
    def mysql(self) -> MysqlEndpoint:
        m = self.plan.mysql
        return MysqlEndpoint(
            "127.0.0.1",
            self.database.port,
            m.database,
            m.user,
            m.password,
            f"MariaDB {self.database.version} (local lab) standing in for {m.image} ({m.workload})",
        )

    @property
    def ingress(self) -> IngressEndpoint:
        assert self.traefik is not None
        return self.traefik.endpoint()

    @property
    def route(self) -> HttpRoute:
        return self.ingress.route(self.plan.route.source)

    @property
    def variants(self) -> tuple[WordPressVariant, ...]:
        return wordpress_variants(self.plan)

    @property
    def notes(self) -> tuple[str, ...]:
        m = self.plan.mysql
        notes = [
            f"{self.stands_in} (MariaDB {self.database.version}, WordPress {self.wordpress_version})",
            f"server charset {self.database.charset}/{self.database.collation or 'default'} "
            f"({'from the StatefulSet args' if m.charset else 'the image default'}); "
            f"data dir stands for {m.data.description}",
            *(f"{p.variant}: uploads stand for {p.uploads.description}" for p in self.plan.wordpress),
            "passwords and keys: the set's deploy-time secrets, generated for this run",
            f"lab started in {self.started_in_s:.1f} s",
        ]
        return tuple(notes)

    def restart(self) -> str:
        began = time.monotonic()
        for site in self.sites:
            site.stop()
        self.database.restart()
        for site in self.sites:
            if not site.plan.uploads.persistent:
                shutil.rmtree(site.uploads, ignore_errors=True)  # a new pod gets a new emptyDir
            site.start()
        return (
            f"stopped and started mariadbd and {len(self.sites)} WordPress process(es) on the same folders "
            f"(the local counterpart of a pod restart) in {time.monotonic() - began:.1f} s"
        )

    def workload_problems(self) -> list[str]:
        processes = [
            ("mariadbd", self.database.process),
            *((f"WordPress {s.plan.variant}", s.process) for s in self.sites),
        ]
        return [f"{name} is not running" for name, process in processes if process is None or not process.alive()]

    # ---- lifecycle --------------------------------------------------------------------------------------

    def start(self, stack: ExitStack) -> LocalAppStack:
        began = time.monotonic()
        stack.callback(self.stop)  # registered first: an interrupted start is cleaned up too
        self.progress(f"apps: MariaDB {self.database.version} for {self.plan.mysql.workload}")
        self.database.start()
        for site in self.sites:
            site.start()
        self.progress(
            f"apps: WordPress {self.wordpress_version} for {', '.join(p.deployment for p in self.plan.wordpress)}"
        )
        served = {
            backend_key(b): site.url
            for b in self.plan.route.backends
            for site in self.sites
            if b.service_ref == site.plan.service
        }
        self.traefik = TraefikLab([self.plan.route], self.progress, "traefik-apps", served).start(stack)
        self.started_in_s = time.monotonic() - began
        self.progress(f"apps: ready in {self.started_in_s:.1f} s")
        return self

    def stop(self) -> None:
        for site in self.sites:
            site.stop()
        self.database.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def provide_local_apps(ms: ManifestSet, root: Path, stack: ExitStack, progress: Callable[[str], None]) -> LocalAppStack:
    """Plan the stack from the set, start it on `stack` (stopped and removed when the stack closes)."""
    plan = app_stack_plan(ms, http_routes(ms), local_secret_values(ms, root))
    return LocalAppStack(plan, progress).start(stack)
