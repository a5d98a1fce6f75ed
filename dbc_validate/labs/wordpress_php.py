"""One WordPress variant served by PHP's built-in server, configured from the set's WordPress Deployment env.

Debian's /usr/share/wordpress is only read: each variant gets a docroot of symlinks with its own wp-config.php
and a wp-content whose uploads points at the folder standing for the Deployment's volume. ABSPATH is pinned
to that docroot (auto_prepend_file), since PHP resolves the symlinks and would otherwise load Debian's config.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

from dbc_validate.analysis.app_stack import WORDPRESS_KEYS, WordPressPlan
from dbc_validate.errors import MissingBinary
from dbc_validate.labs.mariadb_server import APPS_APT
from dbc_validate.tools.processes import LabProcess, free_ports, wait_for_port

WORDPRESS_ROOT = Path("/usr/share/wordpress")
_OWN = {"wp-config.php", "wp-content", ".htaccess"}
_VERSION = re.compile(r"\$wp_version\s*=\s*'([^']+)'")

_ROUTER = """<?php
require_once __DIR__ . '/.lab-prepend.php';  // auto_prepend_file does not cover the router script
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && is_file($file)) return false;
if (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')) return false;
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
"""


def find_wordpress() -> tuple[str, str]:
    """(php binary, WordPress version); MissingBinary with the apt command when something is absent."""
    php = shutil.which("php")
    theme = WORDPRESS_ROOT / "wp-content" / "themes"
    missing = [
        what
        for what, ok in (
            ("php-cli", php is not None),
            ("wordpress", (WORDPRESS_ROOT / "wp-settings.php").is_file()),
            ("a WordPress theme", theme.is_dir() and any(theme.iterdir())),
        )
        if not ok
    ]
    if php is not None and not missing:
        probe = subprocess.run([php, "-m"], capture_output=True, text=True, check=False)
        if "mysqli" not in probe.stdout.split():
            missing.append("php-mysql")
    if missing or php is None:
        raise MissingBinary(f"the WordPress lab needs {', '.join(missing)}", APPS_APT)
    text = (WORDPRESS_ROOT / "wp-includes" / "version.php").read_text(encoding="utf-8", errors="replace")
    match = _VERSION.search(text)
    return php, match.group(1) if match else "unknown"


def php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wp_config(plan: WordPressPlan, db_host: str, docroot: Path, keys: dict[str, str]) -> str:
    """wp-config.php as the official image writes it from WORDPRESS_* env; the site URL follows the Host header
    so that answers through Traefik name the routed host, not the backend port."""
    lines = [
        "<?php",
        f"define('DB_NAME', {php_string(plan.db_name)});",
        f"define('DB_USER', {php_string(plan.db_user)});",
        f"define('DB_PASSWORD', {php_string(plan.db_password)});",
        f"define('DB_HOST', {php_string(db_host)});",
        "define('DB_CHARSET', 'utf8mb4');",  # the official image's wp-config-docker.php default
        "define('DB_COLLATE', '');",
        f"$table_prefix = {php_string(plan.table_prefix)};",
        *(f"define('{name}', {php_string(keys[name])});" for name in WORDPRESS_KEYS),
        "$lab_scheme = (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https') ? 'https' : 'http';",
        "if (isset($_SERVER['HTTP_HOST'])) {",
        "    define('WP_HOME', $lab_scheme . '://' . $_SERVER['HTTP_HOST']);",
        "    define('WP_SITEURL', $lab_scheme . '://' . $_SERVER['HTTP_HOST']);",
        "}",
        f"define('WP_CONTENT_DIR', {php_string(str(docroot / 'wp-content'))});",
        "define('WP_ENVIRONMENT_TYPE', 'local');  // application passwords over plain HTTP",
        "define('AUTOMATIC_UPDATER_DISABLED', true);",
        "define('DISABLE_WP_CRON', true);",
        "define('WP_HTTP_BLOCK_EXTERNAL', true);",
        "define('FS_METHOD', 'direct');",
        "if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');",
        "require_once ABSPATH . 'wp-settings.php';",
    ]
    return "\n".join(lines) + "\n"


def build_docroot(docroot: Path, uploads: Path, config: str) -> None:
    docroot.mkdir(parents=True)
    for entry in WORDPRESS_ROOT.iterdir():
        if entry.name not in _OWN:
            (docroot / entry.name).symlink_to(entry)
    content = docroot / "wp-content"
    content.mkdir()
    for name in ("themes", "plugins"):
        (content / name).symlink_to(WORDPRESS_ROOT / "wp-content" / name)
    (content / "uploads").symlink_to(uploads)
    (docroot / "wp-config.php").write_text(config, encoding="utf-8")
    (docroot / ".lab-prepend.php").write_text(
        f"<?php if (!defined('ABSPATH')) define('ABSPATH', {php_string(str(docroot) + '/')});\n", encoding="utf-8"
    )
    (docroot / ".lab-router.php").write_text(_ROUTER, encoding="utf-8")


class WordPressPhp:
    """`php -S` on a free loopback port for one variant; `uploads` stands for the Deployment's volume."""

    def __init__(self, plan: WordPressPlan, php: str, directory: Path, db_host: str, uploads: Path) -> None:
        self.plan = plan
        self.php = php
        self.docroot = (directory / f"wp-{re.sub(r'[^a-z0-9]+', '-', plan.variant.lower())}").resolve()
        self.uploads = uploads
        self.port = free_ports(1)[0]
        self.log_path = directory / f"{self.docroot.name}.log"
        # The image leaves a key it is not given to random per container; the set gives them all.
        keys = {name: plan.keys.get(name) or secrets.token_urlsafe(48) for name in WORDPRESS_KEYS}
        build_docroot(self.docroot, uploads, wp_config(plan, db_host, self.docroot, keys))
        self.process: LabProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout_s: float = 30.0) -> None:
        self.uploads.mkdir(parents=True, exist_ok=True)
        argv = [
            self.php,
            "-d",
            f"auto_prepend_file={self.docroot / '.lab-prepend.php'}",
            "-d",
            "upload_max_filesize=10M",  # the set's uploads.ini
            "-d",
            "post_max_size=15M",
            "-d",
            "memory_limit=256M",
            "-S",
            f"127.0.0.1:{self.port}",
            "-t",
            str(self.docroot),
            str(self.docroot / ".lab-router.php"),
        ]
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
        self.process = LabProcess(
            f"wordpress-{self.plan.variant}", argv, log_path=self.log_path, env=env, unprivileged=True
        ).start()
        if not wait_for_port(self.port, timeout_s=timeout_s, alive=self.process.alive):
            raise RuntimeError(f"php -S for {self.plan.variant} did not listen: {self.process.log_tail(5)}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
