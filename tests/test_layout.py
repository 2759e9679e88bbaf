"""The layout of kubectl_vmmove/ as the README's Development section describes it, checked from the imports.

Every import counts, at module level or inside a function: a cycle hidden in a function body is still a cycle a
reader has to untangle.
"""

import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kubectl_vmmove")
PACKAGE = "kubectl_vmmove"


def _modules():
    out = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                is_package = rel.endswith(".__init__")
                out[rel[: -len(".__init__")] if is_package else rel] = (path, is_package)
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom):
    """The modules an import names (a `from pkg import mod` names pkg.mod when that is a module)."""
    if node.level:
        parts = module.split(".")
        base_parts = parts if is_package else parts[:-1]
        base_parts = base_parts[: len(base_parts) - (node.level - 1)]
        base = ".".join(base_parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        found.append((candidate if candidate in MODULES else base, alias.name))
    return found


def imports_of(module: str):
    """[(imported module, imported name or None)] for every import statement in `module`."""
    path, is_package = MODULES[module]
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out += _resolve(module, is_package, node)
    return [(target, name) for target, name in out if target == PACKAGE or target.startswith(PACKAGE + ".")]


def graph():
    edges = {}
    for module in MODULES:
        edges[module] = sorted({target for target, _ in imports_of(module) if target in MODULES and target != module})
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": []}) == []


def test_no_import_cycle_inside_the_package():
    assert cycles(graph()) == []


def test_nothing_below_cli_imports_it():
    allowed = {f"{PACKAGE}.__main__"}
    offenders = [m for m, targets in graph().items() if f"{PACKAGE}.cli" in targets and m not in allowed]
    assert offenders == []


# Verb modules: what `cli.VERBS` dispatches to. Shared verb helpers live beside them in flags/common/views.
VERB_PACKAGES = (f"{PACKAGE}.move.cmd", f"{PACKAGE}.openstack.cmd")
SHARED_VERB_MODULES = {"flags", "common", "views"}


def _verb_modules():
    return [m for m in MODULES for pkg in VERB_PACKAGES
            if m.startswith(pkg + ".") and m.rsplit(".", 1)[1] not in SHARED_VERB_MODULES]


def test_the_verbs_are_the_cli_verbs():
    from kubectl_vmmove import cli

    dispatched = {module for _, module, _ in cli.VERBS + cli.OPENSTACK_VERBS if module}
    assert set(_verb_modules()) <= dispatched


def test_no_verb_imports_another_verb():
    verbs = set(_verb_modules())
    offenders = [(m, t) for m in verbs for t in graph()[m] if t in verbs]
    assert offenders == []


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for module in MODULES:
        for target, name in imports_of(module):
            if name and name.startswith("_") and not name.startswith("__") and target != module:
                offenders.append(f"{module}: {target}.{name}")
    assert offenders == []


@pytest.mark.parametrize("package", ["planning", "execution", "state", "aftercare"])
def test_move_stages_never_import_the_verbs(package):
    prefix = f"{PACKAGE}.move.{package}"
    offenders = [(m, t) for m, targets in graph().items() if m.startswith(prefix)
                 for t in targets if t.startswith(f"{PACKAGE}.move.cmd")]
    assert offenders == []
