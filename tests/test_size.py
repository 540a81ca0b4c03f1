"""The package stays readable: no module over 400 lines, no function over 60 (issue 9's size rule)."""

import ast

import pytest

from conftest import ROOT

MODULES = sorted((ROOT / "polyanim").rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_module_and_function_sizes(path):
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= 400, f"{path.name}: {source.count(chr(10))} lines; split it by concern"
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60]
    assert not long, f"{path.name}: functions over 60 lines: {long}"
