"""Griffe extension for the API pages (``mkdocs.yml``: mkdocstrings' ``extensions`` option).

1. ``pyproject.toml`` installs the repository's top-level ``adapters/`` folder as the subpackage
   ``pnag_sampler.adapters`` (``[tool.setuptools.package-dir]``). Griffe finds ``pnag_sampler``
   by its folder and does not know that mapping, so without this extension mkdocstrings cannot
   find ``pnag_sampler.adapters.optuna.PNAGSampler`` and the other adapter objects. The folder is
   parsed statically, like the rest of the package: nothing is imported.
2. Some docstrings are written in reStructuredText style: cross-references
   (``:class:`PNAG```, ``:meth:`PNAG.generate```) and ``.. code-block:: python`` examples, which
   Markdown would show literally. A role is shown as inline code, a code-block directive as a
   fenced code block.
3. Packages export names lazily (``pnag_sampler/lazy.py``: ``__getattr__, __dir__ =
   lazy_exports(__name__, {"SearchOptions": "pnag_sampler.search.options", ...})``), which
   static analysis does not see; each such name becomes an alias of the object in its module, so
   ``::: pnag_sampler.search.SearchOptions`` finds it.
4. An index written right after a name, such as ``sub_architectures[t][i]``, is Markdown's
   reference-link syntax: mkdocs-autorefs looks for an object ``i`` and ``mkdocs build
   --strict`` fails. Outside code spans such a subscript is shown as inline code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|obj|data|exc|const):`~?([^`]+)`")
_CODE_BLOCK = re.compile(r"^(?P<indent>[ ]*)\.\. code-block:: *(?P<lang>\w*)\n\n(?P<body>(?:(?P=indent)[ ]+.*\n|[ ]*\n)+)", re.M)


def _fence(match: re.Match) -> str:
    indent, body = match["indent"], match["body"].rstrip("\n ") + "\n"
    lines = body.splitlines()
    cut = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    code = "\n".join(indent + line[cut:] if line.strip() else "" for line in lines)
    return f"{indent}```{match['lang']}\n{code}\n{indent}```\n\n"


def _lazy_exports(node: Any) -> list[tuple[str, str]]:
    """(name, module) pairs of a module's top-level ``... = lazy_exports(__name__, {...})``."""
    found = []
    for statement in getattr(node, "body", []):
        call = getattr(statement, "value", None)
        if isinstance(statement, ast.Assign) and isinstance(call, ast.Call) and len(call.args) >= 2:
            function = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            if function == "lazy_exports" and isinstance(call.args[1], ast.Dict):
                found += [
                    (key.value, value.value)
                    for key, value in zip(call.args[1].keys, call.args[1].values)
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Constant)
                ]
    return found


# a code span or fence (kept as it is), or a name followed by subscripts (shown as code)
_SUBSCRIPT = re.compile(r"(?P<code>(?P<ticks>`+)[\s\S]*?(?<!`)(?P=ticks)(?!`))|\b[A-Za-z_][\w.]*(?:\[[^\]\s`]+\])+")


def _code_subscripts(text: str) -> str:
    return _SUBSCRIPT.sub(lambda m: m[0] if m["code"] else f"``{m[0]}``", text)


def markdown_docstring(text: str) -> str:
    """``text`` with reStructuredText roles and code-block directives in Markdown form, and
    subscripts that Markdown would read as reference links shown as code."""
    text = _CODE_BLOCK.sub(_fence, text if text.endswith("\n") else text + "\n")
    return _code_subscripts(_ROLE.sub(r"``\1``", text)).rstrip("\n")


class PnagPackage(griffe.Extension):
    """How mkdocstrings reads pnag_sampler: points 1 to 4 of the module docstring."""

    def on_module_instance(self, *, node: Any, mod: griffe.Module, agent: Any, **kwargs: Any) -> None:
        if mod.path != "pnag_sampler" or mod.filepath is None or isinstance(mod.filepath, list):
            return
        package = Path(mod.filepath).parent
        folder = package.parent / "adapters"
        if (package / "adapters").exists() or not (folder / "__init__.py").is_file():
            return  # a regular install holds pnag_sampler/adapters/ itself: griffe finds it
        loader = griffe.GriffeLoader(
            extensions=agent.extensions,
            docstring_parser=agent.docstring_parser,
            docstring_options=agent.docstring_options,
            lines_collection=agent.lines_collection,
            modules_collection=agent.modules_collection,
        )
        # _load_module is private, but it is what griffe calls for every submodule it finds itself;
        # with a parent, the modules get their real paths (pnag_sampler.adapters.*) while parsed
        mod.set_member("adapters", loader._load_module("adapters", folder, parent=mod))

    def on_module_members(self, *, node: Any, mod: griffe.Module, **kwargs: Any) -> None:
        for name, module in _lazy_exports(node):
            if name not in mod.members:
                mod.set_member(name, griffe.Alias(name, f"{module}.{name}", parent=mod))

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
