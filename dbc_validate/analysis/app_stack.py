"""The set's application stack as a plan: the WordPress variants of its split route and the MySQL StatefulSet they
point at, with credentials, charset and volumes. Pure; the local apps lab starts it, the cluster provider restarts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.live.templates import pod_spec_of
from dbc_validate.analysis.workload_config import (
    SecretValues,
    VolumeUse,
    container_env,
    services_of,
    volume_at,
    workloads_behind,
)
from dbc_validate.capabilities import HttpRoute, WordPressVariant
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import K8sObject, ManifestSet

MYSQL_IMAGES = ("mysql", "mariadb", "percona")
MYSQL_DEFAULT_DATADIR = "/var/lib/mysql"
WORDPRESS_UPLOADS = "/var/www/html/wp-content/uploads"  # the official image's docroot
WORDPRESS_KEYS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)


@dataclass(frozen=True)
class MysqlPlan:
    workload: str  # "StatefulSet/infra/mysql"
    namespace: str
    name: str
    image: str
    database: str
    user: str
    password: str = field(repr=False)
    root_password: str = field(repr=False)
    root_host: str  # MYSQL_ROOT_HOST: where root may log in from (the image's default is %)
    charset: str | None  # --character-set-server from the args; None: the image's default
    collation: str | None
    data: VolumeUse
    services: tuple[str, ...]  # "namespace/name" of the Services selecting its pods


@dataclass(frozen=True)
class WordPressPlan:
    variant: str
    service: str  # "namespace/name"
    deployment: str  # "namespace/name"
    image: str
    db_host: str  # as declared (WORDPRESS_DB_HOST)
    db_name: str
    db_user: str
    db_password: str = field(repr=False)
    table_prefix: str
    keys: Mapping[str, str] = field(repr=False)  # AUTH_KEY ... NONCE_SALT (empty: none declared)
    uploads: VolumeUse


@dataclass(frozen=True)
class AppStackPlan:
    route: HttpRoute
    mysql: MysqlPlan
    wordpress: tuple[WordPressPlan, ...]


def wordpress_variants(plan: AppStackPlan) -> tuple[WordPressVariant, ...]:
    """The `apps` capability's view of the plan's WordPress variants, the same on every target."""
    return tuple(
        WordPressVariant(
            p.variant, p.service, p.deployment, p.uploads.description, p.uploads.persistent, p.table_prefix
        )
        for p in plan.wordpress
    )


def _containers(obj: K8sObject) -> list[Mapping[str, Any]]:
    return list((pod_spec_of(obj) or {}).get("containers") or [])


def image_name(image: str) -> str:
    return image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()


def service_of_host(db_host: str, namespace: str) -> tuple[str, str, int]:
    """(namespace, Service, port) a DNS name like `mysql.infra.svc.cluster.local:3306` names from `namespace`."""
    host, _, port = db_host.partition(":")
    parts = host.split(".")
    ns = parts[1] if len(parts) > 1 else namespace
    return ns, parts[0], int(port) if port.isdigit() else 3306


def wordpress_route(routes: Sequence[HttpRoute]) -> HttpRoute:
    """The route sending traffic to WordPress Services, the split one first."""
    candidates = [r for r in routes if r.hosts and any("wordpress" in b.name for b in r.backends)]
    if not candidates:
        raise InputError(
            "the manifest set declares no Traefik route with a Host matcher to a WordPress Service",
            "add the IngressRoute that serves WordPress",
        )
    return sorted(candidates, key=lambda r: not r.is_split)[0]


def _arg(args: Sequence[str], flag: str) -> str | None:
    for arg in args:
        if arg.startswith(f"--{flag}="):
            return arg.split("=", 1)[1]
    return None


def mysql_plan(ms: ManifestSet, workload: K8sObject, secrets: SecretValues) -> MysqlPlan:
    containers = _containers(workload)
    container = next(
        (c for c in containers if image_name(str(c.get("image", ""))).startswith(MYSQL_IMAGES)), containers[0]
    )
    ns = workload.namespace or "default"
    env = container_env(container, ns, secrets)
    args = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
    normalised = [a.replace("_", "-") for a in args]
    missing = [k for k in ("MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD") if not env.get(k)]
    if missing:
        raise InputError(
            f"{workload.ref} gives its container no {', '.join(missing)} (or its Secret has no value here)",
            "declare the application database and user in the StatefulSet's env, from a Secret",
        )
    return MysqlPlan(
        workload.ref,
        ns,
        workload.name,
        str(container.get("image", "")),
        env["MYSQL_DATABASE"],
        env["MYSQL_USER"],
        env["MYSQL_PASSWORD"],
        env.get("MYSQL_ROOT_PASSWORD", ""),
        env.get("MYSQL_ROOT_HOST", "%"),
        _arg(normalised, "character-set-server"),
        _arg(normalised, "collation-server"),
        volume_at(workload, container, _arg(normalised, "datadir") or MYSQL_DEFAULT_DATADIR),
        services_of(ms, workload),
    )


def wordpress_plan(workload: K8sObject, variant: str, service: str, secrets: SecretValues) -> WordPressPlan:
    container = next(
        (c for c in _containers(workload) if image_name(str(c.get("image", ""))) == "wordpress"),
        _containers(workload)[0],
    )
    env = container_env(container, workload.namespace or "default", secrets)
    return WordPressPlan(
        variant,
        service,
        f"{workload.namespace}/{workload.name}",
        str(container.get("image", "")),
        env.get("WORDPRESS_DB_HOST", "mysql"),
        env.get("WORDPRESS_DB_NAME", "wordpress"),
        env.get("WORDPRESS_DB_USER", "example username"),  # the official image's defaults
        env.get("WORDPRESS_DB_PASSWORD", ""),
        env.get("WORDPRESS_TABLE_PREFIX", "wp_"),
        {k: env[f"WORDPRESS_{k}"] for k in WORDPRESS_KEYS if env.get(f"WORDPRESS_{k}")},
        volume_at(workload, container, WORDPRESS_UPLOADS),
    )


def app_stack_plan(ms: ManifestSet, routes: Sequence[HttpRoute], secrets: SecretValues) -> AppStackPlan:
    """The WordPress route's variants and the MySQL the first of them points at; InputError when the set lacks one."""
    route = wordpress_route(routes)
    plans: list[WordPressPlan] = []
    seen: set[str] = set()
    for backend in route.backends:
        if backend.service_ref in seen:
            continue
        seen.add(backend.service_ref)
        workloads = [w for w in workloads_behind(ms, backend.namespace, backend.name) if w.kind == "Deployment"]
        if not workloads:
            raise InputError(
                f"{route.source}: Service {backend.service_ref} selects no Deployment in the set",
                "check the Service's selector against the WordPress Deployment's pod labels",
            )
        plans.append(wordpress_plan(workloads[0], backend.variant, backend.service_ref, secrets))
    db_ns, db_service, _ = service_of_host(plans[0].db_host, plans[0].service.split("/")[0])
    databases = [w for w in workloads_behind(ms, db_ns, db_service) if w.kind == "StatefulSet"]
    if not databases:
        databases = [
            w
            for w in ms.of_kind("StatefulSet")
            if any(image_name(str(c.get("image", ""))).startswith(MYSQL_IMAGES) for c in _containers(w))
        ]
    if not databases:
        raise InputError(
            f"no MySQL StatefulSet behind {plans[0].db_host} (WORDPRESS_DB_HOST of {plans[0].deployment})",
            "declare the MySQL StatefulSet and its Service",
        )
    return AppStackPlan(route, mysql_plan(ms, databases[0], secrets), tuple(plans))


def reaches_mysql(plan: WordPressPlan, mysql: MysqlPlan) -> bool:
    """Does WORDPRESS_DB_HOST name one of the MySQL StatefulSet's Services (as cluster DNS would resolve it)?"""
    ns, service, _ = service_of_host(plan.db_host, plan.service.split("/")[0])
    return f"{ns}/{service}" in mysql.services
