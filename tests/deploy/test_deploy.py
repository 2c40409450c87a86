"""The deployment files are checked here, since no Docker engine runs on these machines:
the files a Dockerfile copies exist, its command is a real one, configs validate, and
every metric the alert rules and the dashboard use is one the service really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from platewatch.cli import build_parser
from stream import metrics
from stream.config import load_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILES = [DEPLOY / "Dockerfile", DEPLOY / "Dockerfile.gpu"]
_METRIC = re.compile(r"\bplatewatch_[a-z_]+\b")


def _exported_names() -> set[str]:
    names: set[str] = set()
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            names.add(sample.name)
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
    return names


def _used_names(text: str) -> set[str]:
    return set(_METRIC.findall(text))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_copies_files_that_exist(dockerfile: Path) -> None:
    sources = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            parts = line.split()[1:]
            sources += [p for p in parts[:-1] if not p.startswith("--")]
    assert sources, "a Dockerfile that copies nothing cannot build platewatch"
    missing = [s for s in sources if not (REPO / s).exists()]
    assert not missing, f"{dockerfile.name} copies files that do not exist: {missing}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_command_is_real(dockerfile: Path) -> None:
    cmd_line = next(ln for ln in dockerfile.read_text().splitlines() if ln.startswith("CMD "))
    cmd = json.loads(cmd_line[4:])
    assert cmd[0] == "platewatch"
    args = build_parser().parse_args(cmd[1:])
    assert args.command == "serve"
    config = Path(cmd[cmd.index("--config") + 1].replace("/app/", f"{REPO}/"))
    load_config(config)  # raises ConfigError if the image's config is invalid


@pytest.mark.parametrize(
    "config", sorted((DEPLOY / "configs").glob("*.yaml")), ids=lambda p: p.name
)
def test_example_configs_validate(config: Path) -> None:
    cfg = load_config(config)
    assert cfg.cameras, f"{config.name} configures no camera"


def test_compose_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"platewatch", "postgres", "prometheus", "grafana", "mosquitto"} <= set(services)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                assert (DEPLOY / host).exists(), f"service {name} mounts missing {host}"
    cmd = services["platewatch"]["command"]
    load_config(Path(cmd[cmd.index("--config") + 1].replace("/app/", f"{REPO}/")))


def test_alert_rules_use_exported_metrics() -> None:
    text = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "PlatewatchCameraDown",
        "PlatewatchFramesDroppedRising",
        "PlatewatchAlertDeliveryFailing",
    }
    unknown = _used_names(text) - _exported_names()
    assert not unknown, f"alert rules use metrics the service does not export: {unknown}"


def test_dashboard_uses_exported_metrics() -> None:
    dash = json.loads((DEPLOY / "grafana" / "dashboards" / "platewatch.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    used = set().union(*(_used_names(e) for e in exprs))
    unknown = used - _exported_names()
    assert not unknown, f"dashboard uses metrics the service does not export: {unknown}"
    # Every family the service exports about cameras and frames is on the dashboard.
    for must in (
        "platewatch_camera_up",
        "platewatch_frames_dropped_total",
        "platewatch_sightings_stored_total",
        "platewatch_end_to_end_seconds_bucket",
    ):
        assert must in used


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus) absent")
def test_promtool_accepts_rules() -> None:
    out = subprocess.run(
        ["promtool", "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
