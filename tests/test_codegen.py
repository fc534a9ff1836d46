"""The committed models match the schemas, and the drift check notices when they do not."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trio_feeds_codegen", ROOT / "codegen" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    files: dict[str, str] = _generator().generate_all()
    return files


@pytest.fixture(scope="module")
def committed() -> dict[str, str]:
    """The committed model modules: what the slow test below proves equal to ``generated``
    (regenerating takes seconds per schema, so the quick tests read these instead)."""
    models = ROOT / "trio_feeds" / "models"
    return {p.name: p.read_text() for p in sorted(models.glob("*.py"))}


@pytest.mark.slow
def test_committed_models_match_schemas(generated: dict[str, str], committed: dict[str, str]) -> None:
    assert sorted(generated) == sorted(committed)
    for name, text in generated.items():
        assert committed[name] == text, name


def test_generated_modules_carry_do_not_edit_header(committed: dict[str, str]) -> None:
    assert len(committed) >= 4
    for name, text in committed.items():
        head = "\n".join(text.splitlines()[:2])
        assert head.startswith("# DO NOT EDIT: generated"), name
        assert "nox -s codegen" in head, name


def test_check_fails_on_drift(
    tmp_path: Path, committed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    gen = _generator()
    out = tmp_path / "models"
    shutil.copytree(ROOT / "trio_feeds" / "models", out)
    gen.OUT = out
    gen.generate_all = lambda: committed  # the schemas did not change; only the output did
    assert gen.main(["--check"]) == 0
    target = out / "gateway.py"
    target.write_text(target.read_text().replace("class TradesMessage:", "class TradesMessage:  # edited"))
    assert gen.main(["--check"]) == 1
    assert "edited" in capsys.readouterr().out
    (out / "stale.py").write_text("# left over\n")
    target.write_text(committed["gateway.py"])
    assert gen.main(["--check"]) == 1


def test_models_are_attrs_with_wire_names() -> None:
    import attrs

    from trio_feeds.models import cryptology

    fields = {f.name: f for f in attrs.fields(cryptology.BuyOrderPlacedMessage)}
    assert fields["type"].metadata["wire"] == "_cls"
    assert "__slots__" in vars(cryptology.BuyOrderPlacedMessage)
