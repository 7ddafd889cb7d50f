"""The house's rules, read from the source (docs/architecture.md):

- the hall engine (hallq.core) imports no transport, hardware or front end;
- no module reaches into another module's private (`_name`) attributes or imports
  them: what a module offers others has a public name;
- no import cycles inside hallq: every module can be imported on its own, in any order;
- every change to the database goes through the unit of work (hallq.core.work): nothing
  else opens a write transaction (`db.write()`).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from support.project import ROOT


SERVER = ROOT / "server"
# What the hall engine never imports: transports, hardware, front ends, and the layers above it.
NOT_IN_CORE = ("flask", "flask_socketio", "socketio", "engineio", "werkzeug", "paho", "amqtt", "gpiozero", "escpos",
               "click", "hallq.web", "hallq.mqtt", "hallq.cli", "hallq.voice", "hallq.sim", "hallq.demo", "hallq_edge")
# namedtuple's public API is spelled with an underscore.
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make"}
# Private names used across modules on purpose, each with its reason.
ALLOWED_PRIVATE = {
    # amqtt's broker offers no public hook for "send the retained messages for a new
    # subscription"; the embedded broker overrides that step and calls the original.
    ("hallq.mqtt.broker", "super()._publish_retained_messages_for_subscription"),
    # python-escpos sends bytes as they are only through `_raw` (its drivers implement it);
    # Chinese text goes to the printer in GB18030 between the printer's own Chinese-mode commands.
    ("hallq_edge.printing", "self.printer._raw"),
}


def _modules(*roots: Path) -> dict[str, tuple[Path, bool]]:
    """module name → (file, is a package), for every module under the given package directories."""
    found = {}
    for root in roots:
        for path in root.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root.parent).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, source: str, is_package: bool = False, known: set[str] = frozenset()) -> list[tuple[str, bool]]:
    """(imported module, at import time?) for each import in `source`. `from p import m` names module p.m
    when p.m is a known module (p itself is then imported first by Python anyway)."""
    tree = ast.parse(source)
    top = {id(n) for n in tree.body}
    for node in tree.body:  # imports inside `if TYPE_CHECKING:` or try/except at module level run at import too
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, is_package, node)
            names = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            found += [(name, id(node) in top) for name in names]
            if len(names) < len(node.names):
                found.append((target, id(node) in top))
    return found


def private_reaches(module: str, source: str, is_package: bool = False) -> list[str]:
    """Each use of another module's private name: `x._name` where `_name` is not this module's own
    (defined or assigned here), and `from m import _name`."""
    tree = ast.parse(source)
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.add(node.target.id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            if node.attr in own or node.attr in PUBLIC_UNDERSCORED:
                continue
            found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom):
            found += [f"from {_absolute(module, is_package, node)} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def write_transactions(source: str) -> list[str]:
    """Each write transaction opened in source (a call of `<...>db.write()`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "write":
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name == "db":
                found.append(ast.unparse(node))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# -- the checks can fail ------------------------------------------------------------


def test_the_checks_find_what_they_look_for():
    assert ("flask", True) in imports("hallq.core.x", "import flask\n")
    assert ("hallq.core.b", False) in imports("hallq.core.a", "def f():\n    from . import b\n", known={"hallq.core.b"})
    assert sorted(private_reaches("m", "import other\nother._secret()\nfrom other import _hidden\n")) == \
        ["from other import _hidden", "other._secret"]
    assert private_reaches("m", "class A:\n    def _mine(self): ...\ndef f(a):\n    a._mine()\n") == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert write_transactions("with self.service.db.write() as s:\n    pass\nwith db.write():\n    f.write(x)\n") == \
        ["self.service.db.write()", "db.write()"]


# -- the rules, over the real code ------------------------------------------------------


def test_the_hall_engine_imports_no_transport_hardware_or_front_end():
    modules = _modules(SERVER / "hallq")
    wrong = [
        f"{name} imports {target}"
        for name, (path, is_package) in modules.items() if name == "hallq.core" or name.startswith("hallq.core.")
        for target, _ in imports(name, path.read_text(), is_package, set(modules))
        if any(target == banned or target.startswith(banned + ".") for banned in NOT_IN_CORE)
    ]
    assert wrong == []


def test_no_module_reaches_into_another_modules_private_names():
    modules = _modules(SERVER / "hallq", SERVER / "hallq_protocol", ROOT / "edge" / "hallq_edge", ROOT / "benchmarks")
    wrong = [
        f"{name}: {reach}"
        for name, (path, is_package) in sorted(modules.items())
        for reach in private_reaches(name, path.read_text(), is_package)
        if (name, reach) not in ALLOWED_PRIVATE
    ]
    assert wrong == []


def test_the_protocol_needs_only_the_standard_library():
    """Edge devices import hallq_protocol without the server's dependencies (typing_extensions is
    used only when there: see shapes.py)."""
    import sys

    modules = _modules(SERVER / "hallq_protocol")
    wrong = [
        f"{name} imports {target}"
        for name, (path, is_package) in modules.items()
        for target, _ in imports(name, path.read_text(), is_package, set(modules))
        if target.split(".")[0] not in sys.stdlib_module_names and not target.startswith("hallq_protocol")
        and target != "typing_extensions"
    ]
    assert wrong == []


def test_there_are_no_import_cycles_in_hallq():
    modules = _modules(SERVER / "hallq")
    graph: dict[str, set[str]] = defaultdict(set)
    for name, (path, is_package) in modules.items():
        for target, _ in imports(name, path.read_text(), is_package, set(modules)):
            if target in modules and target != name:
                graph[name].add(target)
    assert cycles(graph) == []


def test_every_change_goes_through_the_unit_of_work():
    modules = _modules(SERVER / "hallq", ROOT / "benchmarks")
    wrong = [
        f"{name}: {call}"
        for name, (path, _) in sorted(modules.items()) if name not in ("hallq.core.work", "hallq.db")
        for call in write_transactions(path.read_text())
    ]
    assert wrong == []
