"""Reading users' files with bounds: size, YAML aliases, duplicate keys, nesting.

Instructors run the tool on files from colleagues and students, and servers run it
on whatever is uploaded, so every file is read with a limit on its size, YAML
aliases may add only a little to what is written (a "billion laughs" file is
refused before it is expanded), a key written twice is an error rather than the
last one winning, and nesting is bounded. The limits are in :data:`FILE_LIMITS`
and the README.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ProblemError
from .numbers import describe

MIB = 1 << 20
# The largest file read for each field, in bytes. YAML is parsed in pure Python
# (about 3 s and 90 MiB per MiB of numbers), so a YAML spec is smaller than a JSON
# one; large data belongs in a CSV file (data_file).
FILE_LIMITS = {"spec": 2 * MIB, "spec (JSON)": 16 * MIB, "data_file": 32 * MIB,
               "answers": 2 * MIB, "trace": 1024 * MIB}  # an exam template is a spec
# A trace is read whole (json.loads): its values and lists are bounded before parsing,
# as Python objects take 20 to 30 times the bytes of "0," or "[]".
TRACE_VALUES = 12_000_000
TRACE_LISTS = 3_000_000
ALIAS_LIMIT = 10_000  # values YAML aliases may add to a file by repeating anchors
DEPTH_LIMIT = 50  # nesting of lists and mappings in a spec, answers or template


def size_text(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


def open_input(path: str | Path, field: str) -> BinaryIO:
    """*path* opened to read bytes; a missing file, a folder or a refusal is a
    ProblemError naming *field*."""
    try:
        handle = open(path, "rb")
        if stat.S_ISDIR(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise IsADirectoryError
        return handle
    except OSError as exc:
        raise read_error(path, field, exc) from None


def read_error(path: str | Path, field: str, exc: OSError) -> ProblemError:
    """What reading *path* for *field* failed of, as the ProblemError to raise."""
    if isinstance(exc, FileNotFoundError):
        return ProblemError(field, f"file not found: {path}")
    if isinstance(exc, IsADirectoryError):
        return ProblemError(field, f"{path} is a folder, not a file")
    return ProblemError(field, f"cannot read {path}: {exc.strerror or exc}")


def read_bytes(path: str | Path, field: str, limit: int | None = None) -> bytes:
    """At most *limit* bytes of *path* (the field's limit by default); a larger file,
    a missing one or a folder is a ProblemError naming *field*."""
    limit = FILE_LIMITS.get(field, 2 * MIB) if limit is None else limit
    with open_input(path, field) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise read_error(path, field, exc) from None
    if len(data) > limit:
        raise ProblemError(field, f"{path} is larger than the limit of {size_text(limit)} "
                                  f"for {_article(field)}")
    return data


def _article(field: str) -> str:
    return {"spec": "a YAML spec (put large data in a CSV data_file)",
            "spec (JSON)": "a JSON spec", "data_file": "a data file",
            "answers": "an answers file", "trace": "a trace"}.get(field, field)


def read_text(path: str | Path, field: str, limit: int | None = None) -> str:
    """The UTF-8 text of *path* (a byte-order mark, as Excel writes, is dropped)."""
    data = read_bytes(path, field, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(field, f"cannot read {path}: not UTF-8 text (byte {exc.start + 1} "
                                  f"is {data[exc.start]:#04x})") from None


def load_json(text: str, field: str, path: str | Path | None = None, depth: bool = True,
              count: bool = False) -> Any:
    """JSON with duplicate keys refused and nesting bounded (*depth*: also at most
    :data:`DEPTH_LIMIT` levels, as a spec has; *count*: at most :data:`TRACE_VALUES`
    values and :data:`TRACE_LISTS` lists, as a trace has)."""
    where = f" in {path}" if path is not None else ""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ProblemError(field, f"duplicate key {describe(key)}{where}; each key "
                                          f"may be given once")
            result[key] = value
        return result

    if count:
        _check_count(text, field, where)
    try:
        value = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ProblemError(field, f"malformed JSON{where} at line {exc.lineno}: "
                                  f"{exc.msg}") from None
    except RecursionError:
        raise ProblemError(field, f"nested too deeply{where}") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ProblemError(field, f"malformed JSON{where}: {exc}") from None
    if depth:
        _check_depth(value, field, where)
    return value


def _check_count(text: str, field: str, where: str) -> None:
    """Refuse a JSON text with more than :data:`TRACE_VALUES` values (commas) or
    :data:`TRACE_LISTS` lists and objects, before parsing builds them."""
    values = text.count(",")
    lists = text.count("[") + text.count("{")
    if values > TRACE_VALUES or lists > TRACE_LISTS:
        raise ProblemError(field, f"too large to read{where}: about {values:,} values in "
                                  f"{lists:,} lists, but the limit is {TRACE_VALUES:,} values "
                                  f"in {TRACE_LISTS:,} lists")


def _check_depth(value: Any, field: str, where: str) -> None:
    """Lists and mappings nested deeper than :data:`DEPTH_LIMIT` are refused."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (item.values() if isinstance(item, dict)
                    else item if isinstance(item, list) else ())
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > DEPTH_LIMIT:
                    raise ProblemError(field, f"nested too deeply{where} (more than "
                                              f"{DEPTH_LIMIT} levels)")
                stack.append((child, depth + 1))


def load_yaml(text: str, field: str, path: str | Path | None = None) -> Any:
    """YAML (safe) with duplicate keys refused, aliases bounded, nesting bounded, and a
    syntax error told in one line."""
    import yaml

    where = f" in {path}" if path is not None else ""
    try:
        loader = yaml.SafeLoader(text)  # (its reader refuses control characters here)
    except yaml.YAMLError as exc:
        raise ProblemError(field, f"malformed YAML{where}: {exc}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, field, where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProblemError(field, f"malformed YAML{where}{at}: {problem}") from None
    except RecursionError:
        raise ProblemError(field, f"nested too deeply{where}") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ProblemError(field, f"malformed YAML{where}: {exc}") from None
    finally:
        loader.dispose()


def _check_nodes(root: Any, field: str, where: str) -> None:
    """Walk the composed YAML graph once (aliases are shared nodes): refuse duplicate
    keys, nesting beyond :data:`DEPTH_LIMIT`, recursive aliases, and aliases that would
    expand the document by more than :data:`ALIAS_LIMIT` values."""
    import yaml

    size: dict[int, int] = {}  # id(node) -> values in its expansion
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise ProblemError(field, f"a YAML alias refers to itself{where}")
        if depth > DEPTH_LIMIT:
            raise ProblemError(field, f"nested too deeply{where} (more than {DEPTH_LIMIT} "
                                      f"levels)")
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        raise ProblemError(field, f"duplicate key {describe(k.value)}{where} at "
                                                  f"line {k.start_mark.line + 1} (first at line "
                                                  f"{seen[k.value]}); each key may be given once")
                    seen[k.value] = k.start_mark.line + 1
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))
    expanded, written = size[id(root)], len(size)
    if expanded - written > ALIAS_LIMIT:
        raise ProblemError(field, f"YAML aliases{where} repeat more than {ALIAS_LIMIT} "
                                  f"values; write the values out instead")


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []
