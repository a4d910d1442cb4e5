"""The core stays platform-neutral; comfy/ and workflows/ stand alone (see STYLE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[Path, set[str]]:
    """The top-level packages each file of `package` imports."""
    return {
        path: {name.split(".")[0] for name in names}
        for path, names in _module_imports(package).items()
    }


def _module_imports(package: str) -> dict[Path, set[str]]:
    """Full module names each file of `package` imports (any level, any place)."""
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot", {"discord", "telegram", "adapters"}),
        ("comfy", {"discord", "telegram", "adapters", "bot", "workflows"}),
        ("workflows", {"discord", "telegram", "adapters", "comfy", "bot"}),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(names & forbidden)
        for path, names in _imports(package).items()
        if names & forbidden
    }
    assert offenders == {}


def test_adapters_reach_the_core_only_through_the_seam() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in names if n.split(".")[0] == "bot" and n != "bot.frontend"
        )
        for path, names in _module_imports("adapters").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


@pytest.mark.parametrize(
    ("platform", "sibling"), [("telegram", "discord"), ("discord", "telegram")]
)
def test_a_platform_uses_only_the_chat_layer_and_the_seam(platform: str, sibling: str) -> None:
    """`adapters/<platform>/` imports, of the project, itself, `adapters.chat` and
    `bot.frontend`; never its sibling adapter (what both need is in `adapters.chat`) nor the
    sibling's chat library."""
    own = ("adapters.chat", f"adapters.{platform}", "bot.frontend")
    project = {"adapters", "bot", "comfy", "workflows", "fakes", "tests", "bench"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n
            for n in names
            if n.split(".")[0] in project and not any(n == o or n.startswith(o + ".") for o in own)
        )
        for path, names in _module_imports(f"adapters/{platform}").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}
    assert not any(
        n.split(".")[0] == sibling
        for names in _imports(f"adapters/{platform}").values()
        for n in names
    )


def test_the_chat_layer_imports_no_chat_library() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(names & {"discord", "telegram", "aiohttp"})
        for path, names in _imports("adapters/chat").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}
    assert (ROOT / "adapters/chat/texts.py").is_file()  # the layer is there to be checked


def test_the_engine_imports_nothing_above_it() -> None:
    """`bot/engine/` owns its ports (`bot.engine.ports`); the seam and the app sit above it."""
    above = {"bot.frontend", "bot.app", "bot.cli"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in names if any(n == a or n.startswith(a + ".") for a in above)
        )
        for path, names in _module_imports("bot/engine").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_bench_does_not_import_the_tests() -> None:
    offenders = {m: n for m, n in _imports("bench").items() if "tests" in n}
    assert offenders == {}


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported when `path` is imported (not under TYPE_CHECKING, not in functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_bot_modules_import_no_cycle() -> None:
    """`bot.cli.main` and `bot.cli.commands` once imported each other; no module may again."""
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (ROOT / "bot").rglob("*.py")
    }
    graph = {m: _top_level_imports(p) & set(modules) - {m} for m, p in modules.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return [*path, module, dep]
            if dep not in state and (cycle := visit(dep, [*path, module])):
                return cycle
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert visit(module, []) is None


def test_a_sqlite_config_never_imports_psycopg() -> None:
    """psycopg takes about 0.2 s to import: every CLI command would pay it for nothing."""
    code = (
        "import sys\n"
        "from bot.config import parse_config\n"
        "import bot.cli.check, bot.engine.store, bot.app\n"
        "parse_config({'comfy': {'hosts': [{'name': 'a', 'url': 'http://a'}]}}, 'x', env={})\n"
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"
