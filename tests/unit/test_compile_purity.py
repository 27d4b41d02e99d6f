"""The compile layer is pure: request + loaded data + `now` in, a decision out. It
imports nothing of the storage, web or rendering side, reads no clock, and no module of
Centrex imports itself back through another (no import cycles)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("centrex", "provisioning", "xmlcurl", "esl", "admin")
# Request in, decision out: every module a dialplan, directory or configuration
# decision is compiled by.
COMPILE = (
    "xmlcurl.request",
    "xmlcurl.inputs",
    "xmlcurl.decisions",
    "xmlcurl.dialplan",
    "xmlcurl.line",
    "xmlcurl.group",
    "xmlcurl.queue",
    "xmlcurl.public",
    "xmlcurl.destinations",
    "xmlcurl.speed_dial",
    "xmlcurl.pickup",
    "xmlcurl.star_codes",
    "xmlcurl.directory",
    "xmlcurl.callcenter",
    "xmlcurl.local_stream",
    "xmlcurl.trace",
)
NOT_IN_COMPILE = (
    "sqlalchemy",
    "flask",
    "werkzeug",
    "gevent",
    "greenswitch",
    "lxml",
    "provisioning.models",
    "provisioning.service",
    "xmlcurl.loader",
    "xmlcurl.group_loader",
    "xmlcurl.queue_data",
    "xmlcurl.render",
)
# Reading the clock: `now` is the compile layer's input, never looked up.
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def test_compiling_imports_nothing_of_storage_web_or_rendering():
    script = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in COMPILE)
        + f"print(sorted(m for m in {NOT_IN_COMPILE!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _module_path(name: str) -> Path:
    return ROOT / (name.replace(".", "/") + ".py")


@pytest.mark.parametrize("module", COMPILE)
def test_compiling_reads_no_clock(module):
    tree = ast.parse(_module_path(module).read_text())
    calls = [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    ]
    imports = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "time"
    ]
    assert not calls and not imports


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imported(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """What `name` imports of Centrex, wherever in the module (functions included),
    except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    checking = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {n for n in names if n in known and n != name}


def test_no_module_imports_itself_back_through_another():
    known = _modules()
    graph = {name: _imported(path, name, known) for name, path in known.items()}
    cycles = []
    for start in graph:
        stack = [(start, (start,))]
        seen = set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" → ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert cycles == []
