"""`migsim levers` documents every field of the schema; `migsim diff` lists what differs.

The schema is walked here a second, independent way (through its JSON schema) so the test
fails if the introspection used by `migsim levers` skips a field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.commands.diff import ABSENT, diff, flatten
from sim.scenario.introspect import TOP_LEVEL, by_section, levers, render_default
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DOC = ROOT / "docs" / "levers.md"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- levers
def schema_leaves() -> set[str]:
    """Leaf paths of the JSON schema: `[]` for list items, `<*>` for dict keys."""
    js = Scenario.model_json_schema()
    defs = js.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def objects(node: dict[str, Any], suffix: str) -> list[tuple[str, dict[str, Any]]]:
        node = resolve(node)
        if "properties" in node:
            return [(suffix, node)]
        found = []
        if isinstance(node.get("items"), dict):
            found += objects(node["items"], suffix + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            found += objects(node["additionalProperties"], suffix + ".<*>")
        for alt in node.get("anyOf", []):
            found += objects(alt, suffix)
        return found

    def walk(node: dict[str, Any], prefix: str) -> set[str]:
        leaves: set[str] = set()
        for name, prop in node["properties"].items():
            inner = objects(prop, "")
            if not inner:
                leaves.add(prefix + name)
            for suffix, obj in inner:
                leaves |= walk(obj, f"{prefix}{name}{suffix}.")
        return leaves

    return walk(resolve(js), "")


def normalise(path: str) -> str:
    return re.sub(r"<[^>]+>", "<*>", path)


def test_every_schema_leaf_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    leaves = schema_leaves()
    assert len(leaves) > 80  # the walk itself found the schema
    for must in (
        "deterrence.effect",
        "agreements[].phase_in[].weekly_cap",
        "receiving.<*>.apply_share",
        "departures.rates.<*>.family",
        "dispositions.shares.<*>.<*>.removal",
        "journey.routes.<*>[].legs[].mean_days",
    ):
        assert must in leaves
    code, out, _ = cli(capsys, "levers")
    assert code == 0
    listed = {normalise(line) for line in out.splitlines() if line and line[0] not in " ="}
    missing = sorted(leaves - listed)
    assert not missing, f"`migsim levers` does not list: {missing}"
    documented = {normalise(m) for m in re.findall(r"^\| `([^`]+)`", DOC.read_text(), re.M)}
    assert not sorted(leaves - documented), "docs/levers.md misses levers"


def test_docs_levers_md_is_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh = tmp_path / "levers.md"
    code, out, _ = cli(capsys, "levers", "--markdown", "--out", str(fresh))
    assert code == 0 and "wrote" in out
    if not DOC.exists() or DOC.read_text(encoding="utf-8") != fresh.read_text(encoding="utf-8"):
        pytest.fail(
            "docs/levers.md is out of date: run `migsim levers --markdown --out docs/levers.md`"
        )


def test_markdown_prints_and_leaves_docs_levers_md_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    stale = tmp_path / "docs" / "levers.md"
    stale.write_text("# Scenario levers\n\nan old copy\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "levers", "--markdown")
    assert code == 0
    assert out == DOC.read_text(encoding="utf-8")  # the document, on stdout
    assert stale.read_text(encoding="utf-8") == "# Scenario levers\n\nan old copy\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["docs", "levers.md"]


def test_out_writes_the_markdown_and_output_is_an_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for option in ("--out", "--output"):
        target = tmp_path / f"levers{option}.md"
        code, out, _ = cli(capsys, "levers", option, str(target))  # implies --markdown
        assert code == 0 and out.startswith(f"wrote {target}")
        assert target.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_markdown_has_one_table_per_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = list(by_section(levers()))
    assert sections[0] == TOP_LEVEL
    assert re.findall(r"^## (.+)$", text, re.M) == sections
    assert text.count("| Lever | Type | Unit | Default | Bounds |") == len(sections)
    top_models = [n for n, f in Scenario.model_fields.items() if f.default_factory is not None]
    assert set(top_models) <= set(sections)


def lever(path: str):
    return next(lv for lv in levers() if lv.path == path)


def test_lever_metadata_comes_from_the_schema() -> None:
    cap = lever("agreements[].phase_in[].weekly_cap")
    assert (cap.type, cap.unit, cap.bounds, cap.default) == (
        "int",
        "persons per week",
        ">= 0, <= 100000000",
        "required",
    )
    effect = lever("deterrence.effect")
    assert (effect.bounds, effect.default) == (">= 0, <= 4", "0")
    assert "no published causal estimate" in effect.source
    assert lever("departures.seasonality").bounds == "length = 12"
    assert lever("border.holding_capacity").default == "4000"
    assert lever("deterrence.reference_date").default == "2019-01-28"
    assert "honduras: 50" in lever("receiving.<country>.asylum_cases_per_year").default
    assert "guatemala: 14000" in lever("departures.rates.<nationality>.family").default
    assert lever("reattempts.removed.probability").default == "0.25; if omitted: required"


def test_scalar_defaults_match_a_default_scenario() -> None:
    """Every scalar lever outside lists/dicts shows the value a default scenario has."""
    values = Scenario(name="t", start=dt.date(2019, 1, 1), end=dt.date(2019, 2, 1)).model_dump(
        by_alias=True
    )
    checked = 0
    for lv in levers():
        if "[" in lv.path or "<" in lv.path or lv.path in ("name", "start", "end"):
            continue
        node: Any = values
        for part in lv.path.split("."):
            node = node[part] if isinstance(node, dict) else None  # None: optional table unset
        if node is not None and not isinstance(node, dict | list):
            shown = lv.default.split("; if omitted:")[0]
            assert shown == render_default(node), lv.path
            assert "…" not in shown, lv.path
            checked += 1
    assert checked > 30


# ----------------------------------------------------------------------------- diff
def test_diff_lists_the_weekly_caps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, "diff", str(SCENARIOS / "aca_guatemala.toml"), str(SCENARIOS / "aca_high_cap.toml")
    )
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert rows["agreements.guatemala.phase_in.0.weekly_cap"] == ["25", "500"]
    assert rows["agreements.guatemala.phase_in.1.weekly_cap"] == ["65", "2000"]
    assert set(rows) == {
        "name",
        "description",
        "agreements.guatemala.phase_in.0.weekly_cap",
        "agreements.guatemala.phase_in.1.weekly_cap",
    }


def test_diff_identical(capsys: pytest.CaptureFixture[str]) -> None:
    base = str(SCENARIOS / "baseline.toml")
    assert cli(capsys, "diff", base, base) == (0, "no differences\n", "")


def test_diff_applies_set_to_both(capsys: pytest.CaptureFixture[str]) -> None:
    a, b = str(SCENARIOS / "aca_guatemala.toml"), str(SCENARIOS / "aca_high_cap.toml")
    sets = ["--set", "agreements.guatemala.phase_in.0.weekly_cap=10"]
    code, out, _ = cli(capsys, "diff", a, b, *sets, "--set", "deterrence.effect=0.5")
    assert code == 0
    assert "phase_in.0.weekly_cap" not in out and "deterrence" not in out
    assert "phase_in.1.weekly_cap" in out


def test_diff_after_inheritance_shows_added_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    a, b = str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "aca_guatemala.toml")
    code, out, _ = cli(capsys, "diff", a, b)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("agreements.guatemala.start "))
    assert line.split()[1:] == ["(absent)", "2019-11-21"]
    assert "deterrence" not in out  # inherited, so equal


def test_diff_bad_input_is_one_line_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "diff", str(SCENARIOS / "baseline.toml"), "no_such.toml")
    assert code == 2 and out == ""
    assert "no_such.toml" in err and "file not found" in err and err.count("\n") == 1


def test_diff_flattening_rules() -> None:
    a = {"agreements": [{"name": "g", "cap": 1}], "steps": [{"x": 1}], "groups": ["a"]}
    b = {
        "agreements": [{"name": "h", "cap": 2}, {"name": "g", "cap": 3}],
        "steps": [{"x": 1}, {"x": 2}],
        "groups": ["a", "b"],
    }
    assert diff(a, b) == [
        ("agreements.g.cap", 1, 3),
        ("agreements.h.name", ABSENT, "h"),
        ("agreements.h.cap", ABSENT, 2),
        ("steps.1.x", ABSENT, 2),
        ("groups", ["a"], ["a", "b"]),
    ]
    assert dict(flatten({"t": {}, "l": [], "v": 1})) == {"t": {}, "l": [], "v": 1}
