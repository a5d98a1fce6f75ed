"""Pod Security Standards "restricted" (pod-security-admission 1.36) for one pod spec, and its findings.

One evaluator for every source: `evaluate_pod(pod_spec, annotations)` takes a pod spec whether it came
from a rendered manifest or from a live pod; `run_as_root_violations` judges a running container of a live pod
with the same rules plus the uid observed inside it. Regular, init and ephemeral containers are judged alike, and
pod-level settings are inherited the way the kubelet applies them (a pod-level runAsNonRoot: true covers
every container that does not set it false).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.cluster_model import ClusterModel, Container, containers_of
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.manifests.fields import dig, mapping

SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
ALLOWED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
GOOD_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


@dataclass(frozen=True)
class Violation:
    rule: str  # a pod-security.* rule id
    container: str | None  # None for pod-level problems
    message: str


def _pod_level(pod_spec: Mapping[str, Any], annotations: Mapping[str, str]) -> Iterator[Violation]:
    context = mapping(pod_spec.get("securityContext"))
    shared = [key for key in ("hostNetwork", "hostPID", "hostIPC") if pod_spec.get(key) is True]
    if shared:
        yield Violation("pod-security.host-namespaces", None, f"the pod sets {', '.join(shared)}: true")
    if mapping(context.get("windowsOptions")).get("hostProcess") is True:
        yield Violation("pod-security.host-process", None, "the pod sets windowsOptions.hostProcess: true")
    for volume in pod_spec.get("volumes") or []:
        volume = mapping(volume)
        name = volume.get("name", "?")
        kinds = [key for key in volume if key != "name"]
        if "hostPath" in kinds:
            path = mapping(volume.get("hostPath")).get("path", "?")
            yield Violation("pod-security.host-path", None, f"volume {name} mounts the node's path {path}")
        bad = [k for k in kinds if k != "hostPath" and k not in ALLOWED_VOLUME_TYPES]
        if bad:
            yield Violation("pod-security.volume-types", None, f"volume {name} is of type {', '.join(bad)}")
    names = [dig(s, "name") for s in context.get("sysctls") or []]
    unsafe = [str(n) for n in names if n not in SAFE_SYSCTLS]
    if unsafe:
        yield Violation("pod-security.sysctls", None, f"the pod sets unsafe sysctls {', '.join(unsafe)}")
    if context.get("runAsUser") == 0:
        yield Violation("pod-security.run-as-user", None, "the pod sets runAsUser: 0")
    yield from _selinux(context, None)
    yield from _apparmor(context, None)
    for key, value in annotations.items():
        if key.startswith(APPARMOR_ANNOTATION) and value != "runtime/default" and not value.startswith("localhost/"):
            yield Violation("pod-security.apparmor", key.removeprefix(APPARMOR_ANNOTATION), f"annotation {key}={value}")


def _selinux(context: Mapping[str, Any], container: str | None) -> Iterator[Violation]:
    options = mapping(context.get("seLinuxOptions"))
    custom = [key for key in ("user", "role") if options.get(key)]
    if str(options.get("type") or "") not in SELINUX_TYPES:
        custom.append(f"type {options['type']}")
    if custom:
        yield Violation("pod-security.selinux", container, f"seLinuxOptions sets {', '.join(custom)}")


def _apparmor(context: Mapping[str, Any], container: str | None) -> Iterator[Violation]:
    profile = mapping(context.get("appArmorProfile")).get("type")
    if profile is not None and profile not in GOOD_SECCOMP:
        yield Violation("pod-security.apparmor", container, f"appArmorProfile.type is {profile}")


def _container_level(pod_spec: Mapping[str, Any], container: Container) -> Iterator[Violation]:
    pod_context = mapping(pod_spec.get("securityContext"))
    context = container.security_context
    name = container.label
    windows = mapping(pod_spec.get("os")).get("name") == "windows"
    if context.get("privileged") is True:
        yield Violation("pod-security.privileged", name, "securityContext.privileged is true")
    if mapping(context.get("windowsOptions")).get("hostProcess") is True:
        yield Violation("pod-security.host-process", name, "securityContext.windowsOptions.hostProcess is true")
    host_ports = sorted({p.host_port for p in container.ports if p.host_port})
    if host_ports:
        yield Violation("pod-security.host-ports", name, f"binds host port(s) {', '.join(map(str, host_ports))}")
    if context.get("procMount") not in (None, "Default"):
        yield Violation("pod-security.proc-mount", name, f"procMount is {context['procMount']}")
    yield from _selinux(context, name)
    yield from _apparmor(context, name)
    # runAsNonRoot: the container's own value wins; otherwise the pod's applies.
    non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
    if non_root is not True:
        where = "set false on the container" if context.get("runAsNonRoot") is False else "not true on pod or container"
        yield Violation("pod-security.run-as-non-root", name, f"runAsNonRoot is {where}")
    if context.get("runAsUser") == 0:
        yield Violation("pod-security.run-as-user", name, "securityContext.runAsUser is 0 (root)")
    seccomp = dig(context, "seccompProfile", "type") or dig(pod_context, "seccompProfile", "type")
    if not windows and seccomp not in GOOD_SECCOMP:
        state = f"is {seccomp}" if seccomp else "is not set on pod or container"
        yield Violation("pod-security.seccomp", name, f"seccompProfile.type {state}")
    if not windows and context.get("allowPrivilegeEscalation") is not False:
        state = "true" if context.get("allowPrivilegeEscalation") is True else "not set"
        yield Violation("pod-security.allow-privilege-escalation", name, f"allowPrivilegeEscalation is {state}")
    if not windows:
        capabilities = mapping(context.get("capabilities"))
        drop = {str(c) for c in capabilities.get("drop") or []}
        added = sorted({str(c) for c in capabilities.get("add") or []} - {"NET_BIND_SERVICE"})
        problems = []
        if "ALL" not in drop:
            problems.append("does not drop ALL")
        if added:
            problems.append(f"adds {', '.join(added)}")
        if problems:
            yield Violation("pod-security.capabilities", name, f"capabilities {' and '.join(problems)}")


def evaluate_pod(pod_spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[Violation]:
    """Every way `pod_spec` breaks Pod Security restricted (baseline included); empty when it complies."""
    violations = list(_pod_level(pod_spec, annotations or {}))
    for container in containers_of(pod_spec):
        violations.extend(_container_level(pod_spec, container))
    return violations


RUN_AS_RULES = frozenset({"pod-security.run-as-non-root", "pod-security.run-as-user"})


def _declared_user(pod_spec: Mapping[str, Any], container: Container) -> Any:
    # The container's runAsUser wins over the pod's, as the kubelet applies them.
    own = container.security_context
    return own["runAsUser"] if "runAsUser" in own else mapping(pod_spec.get("securityContext")).get("runAsUser")


def run_as_root_violations(
    pod_spec: Mapping[str, Any], container: str, observed_uid: int | None = None, unobserved_why: str = ""
) -> list[Violation]:
    """Whether the running `container` of a (live) pod spec may run as root; empty when it provably does not.

    The uid observed inside the container, a fact only a live pod has, decides when there is one. Without it
    (distroless images have neither `id` nor a shell) this evaluator's run-as-user and run-as-non-root verdicts
    on the spec decide, except that a declared non-zero runAsUser proves non-root by itself: the container runs
    as that uid. `unobserved_why` says why no uid was observed.
    """
    found = next((c for c in containers_of(pod_spec) if c.name == container), None)
    if found is None:
        return [Violation("pod-security.run-as-non-root", container, "the pod spec declares no such container")]
    if observed_uid is not None:
        if observed_uid == 0:
            return [Violation("pod-security.run-as-user", found.label, "runs as uid 0 (observed inside the container)")]
        return []
    mine = [v for v in evaluate_pod(pod_spec) if v.rule in RUN_AS_RULES and v.container in (None, found.label)]
    as_root = [v for v in mine if v.rule == "pod-security.run-as-user"]
    if as_root:
        return [Violation(v.rule, found.label, v.message) for v in as_root]
    user = _declared_user(pod_spec, found)
    if isinstance(user, int) and user != 0:
        return []
    why = unobserved_why or "uid not observed"
    return [
        Violation(
            v.rule,
            found.label,
            f"nothing proves it is non-root: {why}; {v.message} and no non-zero runAsUser is declared",
        )
        for v in mine
    ]


def pod_security_findings(model: ClusterModel) -> list[Finding]:
    """Findings for every pod the set's workloads create (operator-made CNPG pods included)."""
    findings = []
    for workload in model.manifest_workloads:
        for violation in evaluate_pod(workload.pod_spec, workload.pod_annotations):
            findings.append(finding(violation.rule, workload.ref, violation.message, container=violation.container))
    return findings
