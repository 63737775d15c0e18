"""Reading users' files with bounds: size, YAML aliases, duplicate keys, nesting; a
spec file (YAML or JSON) and the columns of a CSV file of data.

Instructors run the tool on files from colleagues and students, and servers run it
on whatever is uploaded, so every file is read with a limit on its size, YAML
aliases may add only a little to what is written (a "billion laughs" file is
refused before it is expanded), a key written twice is an error rather than the
last one winning, and nesting is bounded. The limits are in :data:`FILE_LIMITS`
and the README.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import defaults
from .errors import ProblemError
from .numbers import MAX_NUMBER_TEXT, describe, parse_fraction_list, parse_number, plain_float

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


# How long a named pipe (a FIFO, or a shell's <(command)) may stay without a writer's
# first bytes before it is refused: opening one that nobody writes to blocks for ever.
PIPE_WAIT = 10.0


def open_input(path: str | Path, field: str) -> BinaryIO:
    """*path* opened to read bytes; a missing file, a folder, a socket, a named pipe that
    nothing is written to within :data:`PIPE_WAIT` seconds, or a refusal is a
    ProblemError naming *field*."""
    try:
        mode = os.stat(path).st_mode  # (a stat never blocks, an open of a FIFO does)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if stat.S_ISSOCK(mode):
            raise ProblemError(field, f"{path} is a socket, not a file")
        if stat.S_ISFIFO(mode):
            return _open_pipe(path, field)
        handle = open(path, "rb")
        if stat.S_ISDIR(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise IsADirectoryError
        return handle
    except OSError as exc:
        raise read_error(path, field, exc) from None


def _open_pipe(path: str | Path, field: str) -> BinaryIO:
    """A named pipe opened without blocking, then waited on for its writer's first bytes
    (or its end) for :data:`PIPE_WAIT` seconds at most; read as a file after that."""
    import select

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        if not poller.poll(PIPE_WAIT * 1000):
            raise ProblemError(field, f"{path} is a named pipe that nothing was written to "
                                      f"within {PIPE_WAIT:g} s; give a file, or start its "
                                      f"writer first")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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


def load_spec_file(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Read a YAML or JSON spec; return the mapping and the folder it lives in."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        spec = load_json(read_text(path, "spec (JSON)"), "spec", path)
    else:
        spec = load_yaml(read_text(path, "spec"), "spec", path)
    if spec is None:
        raise ProblemError("spec", f"{path} is empty; expected a mapping of spec keys")
    if not isinstance(spec, dict):
        raise ProblemError("spec", f"expected a mapping of spec keys in {path}, "
                                   f"but got {type(spec).__name__}")
    return spec, path.resolve().parent


def read_csv_columns(path: Path, columns: list[str] | None, field: str = "data_file",
                     exact: bool = False, single: bool = False
                     ) -> tuple[list[str] | None, list[Any]]:
    """Read numeric columns of a CSV file (header row optional): the chosen columns'
    names (None without a header) and the values, floats, or with *exact* the
    Fractions the cells spell: one list per row, or of one column the numbers
    themselves (a million one-number lists would cost 64 MB). The columns are the
    named *columns* (None: the only column when *single*, else every column).

    The rows are read one by one and only the chosen cells kept, so memory follows the
    values read, not the file's width; a line longer than ``defaults.MAX_CSV_LINE``
    bytes is refused before the csv module splits it."""
    key = "column" if single else "columns"
    text = read_text(path, "data_file")
    _check_line_lengths(text, path, field)
    if not exact:
        plain = _plain_columns(text, columns, single, path, key)
        if plain is not None:
            return plain
    reader = csv.reader(io.StringIO(text, newline=""))
    indices: list[int] | None = None
    names: list[str] | None = None
    values: list[list[Any]] = []
    name = path.name
    try:
        for row in reader:
            if not "".join(row).strip():
                continue
            if indices is None:  # the first row: a header, or already data
                header = None if _numeric(row) else [cell.strip() for cell in row]
                indices = _csv_indices(header, len(row), columns, single, path, key)
                if header is not None:
                    names = [header[i] for i in indices]
                    continue
            if len(values) >= defaults.MAX_POINTS:
                raise ProblemError(field, f"{path} has more than {defaults.MAX_POINTS:,} "
                                          f"rows, the limit of points")
            if (len(values) + 1) * len(indices) > defaults.MAX_DATA_VALUES:
                raise ProblemError(field, f"{path} has more than "
                                          f"{defaults.MAX_DATA_VALUES:,} numbers in its "
                                          f"{len(indices)} columns, the limit of points x "
                                          f"dimensions")
            cells = []
            for index in indices:
                cell = row[index].strip() if index < len(row) else ""
                if not cell:
                    raise ProblemError(field, f"{name} line {reader.line_num}: missing value")
                number = None if exact else plain_float(cell)
                if number is None:  # exact, or not a plain decimal: the full parse
                    where = f"{field} ({name} line {reader.line_num})"
                    number = (parse_fraction_list([cell], where)[0] if exact
                              else parse_number(cell, where))
                cells.append(number)
            values.append(cells if len(cells) > 1 else cells[0])
    except csv.Error as exc:
        raise ProblemError(field, f"cannot read {path} (line {reader.line_num}): {exc}") from None
    if indices is None:
        raise ProblemError(field, f"{path} holds no rows")
    return names, values


def _plain_columns(text: str, columns: list[str] | None, single: bool, path: Path,
                   key: str) -> tuple[list[str] | None, list[Any]] | None:
    """:func:`read_csv_columns` by numpy's C reader, when every chosen cell is a finite
    number no longer than a number's text may be (a million rows in a tenth of the
    time); None when any is not, or the file needs more than a plain reader (quoting
    and comments aside, missing cells, rows too short): the row-by-row reader then says
    which cell. The header is found, and the columns chosen, as the row-by-row reader
    does it."""
    if '"' in text or _LONG_CELL.search(text):  # (quoted cells: the csv module's)
        return None
    if text.count("\r") != text.count("\r\n"):  # lines ended by a lone CR
        return None
    skipped = 0  # blank lines before the first row
    for line in io.StringIO(text, newline=""):
        row = next(csv.reader([line]), [])
        if "".join(row).strip():
            break
        skipped += 1
    else:
        return None
    header = None if _numeric(row) else [cell.strip() for cell in row]
    indices = _csv_indices(header, len(row), columns, single, path, key)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (an empty file's warning: the slow path)
            data = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64,
                              skiprows=skipped + (header is not None), usecols=indices,
                              ndmin=2, comments=None)
    except (ValueError, Warning):
        return None
    if (not len(data) or len(data) > defaults.MAX_POINTS
            or data.size > defaults.MAX_DATA_VALUES or not np.isfinite(data).all()):
        return None
    names = None if header is None else [header[i] for i in indices]
    return names, data[:, 0].tolist() if len(indices) == 1 else data.tolist()


# A cell longer than a number may be (the row-by-row reader refuses it by name).
_LONG_CELL = re.compile(rf"[^,\n]{{{MAX_NUMBER_TEXT + 1},}}")


def _numeric(row: list[str]) -> bool:
    try:
        for cell in row:
            float(cell)
    except ValueError:
        return False
    return True


def _check_line_lengths(text: str, path: Path, field: str) -> None:
    """No line longer than ``defaults.MAX_CSV_LINE`` bytes (a row of ten million cells
    would take a GiB as the csv module's list)."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.concatenate([[-1], np.flatnonzero(data == 10), [len(data)]])
    lengths = np.diff(ends) - 1
    longest = int(np.argmax(lengths))
    if lengths[longest] > defaults.MAX_CSV_LINE:
        raise ProblemError(field, f"{path.name} line {longest + 1} is longer than the limit "
                                  f"of {defaults.MAX_CSV_LINE:,} bytes")


def _csv_indices(header: list[str] | None, width: int, columns: list[str] | None,
                 single: bool, path: Path, key: str) -> list[int]:
    """The positions of the columns to read."""
    if header is not None:
        seen: set[str] = set()
        for name in header:
            if name in seen and name:
                raise ProblemError(key, f"{path.name} names two columns {name!r}; give each "
                                        f"column its own name in the header")
            seen.add(name)
    if columns is not None:
        if header is None:
            raise ProblemError(key, f"{path} has no header row, so column "
                                    f"{columns[0]!r} cannot be found")
        for column in columns:
            if column not in header:
                raise ProblemError(key, f"expected one of {', '.join(map(repr, header))} "
                                        f"(the header of {path.name}), but got {column!r}")
        if len(set(columns)) != len(columns):
            raise ProblemError(key, f"expected distinct column names, but got {columns}")
        return [header.index(column) for column in columns]
    if width == 1 or not single:
        return list(range(width))
    names = ", ".join(map(repr, header)) if header else f"{width} unnamed columns"
    raise ProblemError("column", f"{path.name} has several columns ({names}); "
                                 f"name one with column (or several with columns)")
