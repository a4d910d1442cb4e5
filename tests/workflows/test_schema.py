from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.workflows import full_object_info
from workflows.schema import (
    bundled_object_info,
    choices,
    main,
    template_classes,
    trim_object_info,
    write_bundled,
)


def test_bundled_schema_matches_the_full_dump_for_every_class() -> None:
    full = full_object_info()
    bundled = bundled_object_info()
    assert bundled, "bundled schema is empty"
    for class_type, entry in bundled.items():
        assert entry == full[class_type], f"bundled {class_type} differs from the full dump"


def test_bundled_schema_holds_exactly_the_template_classes() -> None:
    assert set(bundled_object_info()) == template_classes()


def test_template_classes_cover_each_mode() -> None:
    classes = template_classes()
    for expected in ("WanVideoImageToVideoEncode", "MultiTalkModelLoader", "WanVideoAnimateEmbeds"):
        assert expected in classes


def test_bundled_object_info_returns_an_independent_copy() -> None:
    first = bundled_object_info()
    first.pop("WanVideoSampler")
    assert "WanVideoSampler" in bundled_object_info()


def test_trim_keeps_entries_unchanged_and_names_missing_classes() -> None:
    full = {"A": {"input": {"required": {}}, "output": ["X"]}, "B": {"input": {}}}
    assert trim_object_info(full, ["A"]) == {"A": full["A"]}
    with pytest.raises(KeyError, match="Nope"):
        trim_object_info(full, ["A", "Nope"])


def test_write_bundled_regenerates_from_a_full_dump(tmp_path: Path) -> None:
    full = bundled_object_info()
    full["SomethingElse"] = {"input": {}, "output": []}
    source = tmp_path / "full.json"
    source.write_text(json.dumps(full), encoding="utf-8")
    out = write_bundled(source, tmp_path / "trimmed.json")
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == bundled_object_info()


def test_main_needs_one_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_choices_reads_legacy_and_new_combo_shapes() -> None:
    info = bundled_object_info()
    schedulers = choices(info, "WanVideoSampler", "scheduler")
    assert "unipc" in schedulers
    assert "res_2m" not in schedulers
    new_shape = {"N": {"input": {"required": {"m": ["COMBO", {"options": ["a", "b"]}]}}}}
    assert choices(new_shape, "N", "m") == ["a", "b"]


def test_choices_errors() -> None:
    info = bundled_object_info()
    with pytest.raises(KeyError, match="NoSuchNode"):
        choices(info, "NoSuchNode", "x")
    with pytest.raises(KeyError, match="bogus"):
        choices(info, "WanVideoSampler", "bogus")
    with pytest.raises(ValueError, match="INT"):
        choices(info, "WanVideoSampler", "steps")
