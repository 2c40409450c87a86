"""The service config: defaults merged into cameras, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from platewatch.cli import main
from stream.config import ConfigError, load_config, parse_config

WHIP = {"source": {"type": "whip"}}


def test_defaults_merge_into_each_camera_and_cameras_override() -> None:
    config = parse_config(
        {
            "defaults": {"sample_fps": 2, "motion": {"threshold": 30}},
            "cameras": {
                "gate": {**WHIP, "motion": {"min_area": 0.05}},
                "yard": {**WHIP, "sample_fps": 7},
            },
        }
    )
    gate, yard = config.cameras["gate"], config.cameras["yard"]
    assert gate.sample_fps == 2 and yard.sample_fps == 7
    # a nested override keeps the default's other keys (deep merge)
    assert (gate.motion.threshold, gate.motion.min_area) == (30, 0.05)
    assert (yard.motion.threshold, yard.motion.min_area) == (30, 0.002)


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        # a misspelt key: named with its path, the nearest right key suggested
        (
            {"cameras": {"gate": {**WHIP, "sample_fsp": 3}}},
            "cameras.gate.sample_fsp: unknown key; did you mean 'sample_fps'?",
        ),
        # a misspelt key inside a source (pydantic's union tag is left out of the path)
        (
            {"cameras": {"g": {"source": {"type": "url", "url": "rtsp://x", "trasport": "udp"}}}},
            "cameras.g.source.trasport: unknown key; did you mean 'transport'?",
        ),
        # an unknown source type lists the right ones
        (
            {"cameras": {"g": {"source": {"type": "rtmp"}}}},
            "cameras.g.source: unknown type 'rtmp'; choose one of url, whip, folder, synthetic",
        ),
        # a source without a type
        ({"cameras": {"g": {"source": {"url": "rtsp://x"}}}}, "cameras.g.source: needs a 'type'"),
        # a value out of range says the bound and what it got
        (
            {"http": {"port": 70000}},
            "http.port: Input should be less than or equal to 65535 (got 70000)",
        ),
        # a bad value in defaults is reported where the user wrote it
        (
            {"defaults": {"queue_size": 0}},
            "defaults.queue_size: Input should be greater than or equal to 1",
        ),
        # a required key
        (
            {"cameras": {"g": {"source": {"type": "url"}}}},
            "cameras.g.source.url: required key is missing",
        ),
        # an unknown top-level section lists the sections
        ({"detecter": {}}, "detecter: unknown key; did you mean 'detector'?"),
        # a wrong choice in a literal
        (
            {"cameras": {"g": {"source": {"type": "url", "url": "rtsp://x", "transport": "sctp"}}}},
            "cameras.g.source.transport: Input should be 'tcp' or 'udp'",
        ),
    ],
)
def test_bad_config_names_the_key_and_what_is_right(tree: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(tree)
    assert expected in str(info.value)


def test_sections_of_the_http_api_are_plugged_in() -> None:
    config = parse_config({"auth": {"enabled": False}})
    section = config.section("auth")
    assert section is not None and section.model_dump()["enabled"] is False
    with pytest.raises(ConfigError, match=r"auth\.enabld: unknown key"):
        parse_config({"auth": {"enabld": False}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cameras: [1, 2", "is not valid YAML"),
        ("- a\n- b\n", "must be a mapping of sections"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(file)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_validate_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"cameras": {"gate": WHIP}}))
    assert main(["validate-config", str(good)]) == 0
    assert "valid; cameras: gate" in capsys.readouterr().out

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"cameras": {"gate": {**WHIP, "fps": 3}}}))
    assert main(["validate-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cameras.gate.fps: unknown key" in err and "Traceback" not in err


def test_runtime_camera_takes_the_file_defaults() -> None:
    config = parse_config({"defaults": {"queue_size": 3}})
    camera = config.camera_from({"source": {"type": "whip"}})
    assert camera.queue_size == 3
    with pytest.raises(ConfigError, match=r"queue_siz: unknown key"):
        config.camera_from({"source": {"type": "whip"}, "queue_siz": 1})


def test_the_readme_example_config_is_valid() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Run the service", 1)[1]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    config = parse_config(yaml.safe_load(block))
    assert set(config.cameras) == {"gate", "lobby", "files", "road"}


def test_the_demo_config_is_valid() -> None:
    from stream.cli import DEMO_CONFIG

    config = parse_config(DEMO_CONFIG)
    assert [c.source.type for c in config.cameras.values()] == ["synthetic"]
