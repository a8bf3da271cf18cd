"""`.env` layering (root → stack → service) and Compose-style `${VAR}` interpolation.

Compose does the authoritative interpolation when it runs; this module does the same in
process so `ls`, `plan` and the lint rules can read ports and paths without starting it.
"""

from __future__ import annotations

import functools
import os
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadInput
from .fsutil import read_text  # the same fixes for a folder, a bad byte, a bad mode

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<op>:?[-?+])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


_BARE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$")


@dataclass(frozen=True)
class Entry:
    """One assignment, in file order, as Compose reads it."""

    key: str
    #: the value as written (quotes removed); None for a bare `KEY` line, which Compose
    #: fills from the process environment (or leaves unset)
    value: str | None
    #: unquoted and "double-quoted" values expand `${VAR}`; 'single-quoted' ones do not
    expand: bool = True


@dataclass(frozen=True)
class EnvFile:
    path: Path
    #: the values as written, before `${VAR}` in them is expanded (see merge_layers)
    values: dict[str, str]
    lines: dict[str, int]
    #: variables written as commented assignments (`# KEY=value`): documented, optional
    commented: frozenset[str] = field(default_factory=frozenset)
    entries: tuple[Entry, ...] = ()


#: escapes inside "double quotes", as Compose reads them, in one pass (`\\n` stays a backslash
#: and an n); `\$` is a literal dollar, written `$$` for the expansion that follows
_DOUBLE_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "$": "$$",
}


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(1), match.group(0))  # an unknown escape stays as written


def _unquoted(raw: str) -> str:
    """A value written without quotes (parse_env reads quoted ones): it ends at " #"."""
    raw = raw.strip()
    hash_at = raw.find(" #")
    return (raw[:hash_at] if hash_at >= 0 else raw).strip()


def _closing_quote(text: str, quote: str, start: int) -> int:
    """Where the quote opened just before `start` closes (-1: never), as Compose finds it:
    across lines; in "double quotes" a backslash escapes the next character, in 'single
    quotes' only a quote right after a backslash does not close."""
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote and not (quote == "'" and index > start and text[index - 1] == "\\"):
            return index
        index += 1
    return -1


def _unterminated(path: Path, number: int, key: str, quote: str, line: str) -> BadInput:
    return BadInput(
        f"{path}:{number}: unterminated quoted value: {key}= opens a {quote} that is never "
        f"closed ({line.strip()[:60]!r}); Compose refuses the file",
        f"Close the quote at the end of the value ({key}={quote}…{quote}) or remove it. A "
        "value may span lines only between a pair of quotes.",
        file=path,
        line=number,
    )


def parse_env(text: str, path: Path) -> EnvFile:
    """An env file as `docker compose --env-file` reads it: KEY=value, `export KEY=value`,
    a bare KEY, comments; a quoted value may span lines and what follows its closing quote
    on that line is read as the next statement; an unclosed quote is an error (BadInput)."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    commented: set[str] = set()
    entries: list[Entry] = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        number = text.count("\n", 0, pos) + 1
        line = text[pos:end]
        stripped = line.strip()
        pos = end + 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = _LINE.match(stripped.lstrip("#").strip())
            if match and match.group(1).isupper():
                commented.add(match.group(1))
            continue
        match = _LINE.match(line)
        bare = None if match else _BARE.match(line)
        if bare:  # `KEY` alone: Compose takes KEY from the process environment
            entries.append(Entry(bare.group(1), None))
            lines[bare.group(1)] = number
            continue
        if not match:
            raise BadInput(
                f"{path}:{number}: not a KEY=value line: {stripped[:60]!r}",
                "Each line of an env file is KEY=value, a bare KEY, a comment (#) or empty.",
                file=path,
                line=number,
            )
        key, raw = match.groups()
        quote = raw[:1]
        if quote in ("'", '"'):
            opened = pos - len(line) - 1 + match.start(2)  # where raw starts in text
            closed = _closing_quote(text, quote, opened + 1)
            if closed < 0:
                raise _unterminated(path, number, key, quote, line)
            inner = text[opened + 1 : closed]
            if quote == '"':
                value, expand = _DOUBLE_ESCAPE.sub(_unescape, inner), True
            else:
                value, expand = inner.replace("\\'", "'"), False
            after_end = text.find("\n", closed)
            after_end = len(text) if after_end < 0 else after_end
            after = text[closed + 1 : after_end].strip()
            # Compose reads what follows the closing quote as the next statement
            pos = after_end + 1 if not after or after.startswith("#") else closed + 1
        else:
            value, expand = _unquoted(raw), True
        values[key] = value
        lines[key] = number
        entries.append(Entry(key, value, expand))
    return EnvFile(path, values, lines, frozenset(commented - lines.keys()), tuple(entries))


def read_env(path: Path) -> EnvFile | None:
    try:
        text = read_text(path, newline="")  # CRs as written: Compose keeps one in quotes
    except FileNotFoundError:
        return None
    return parse_env(text, path)


def layer_file(folder: Path) -> Path | None:
    """The settings file of one layer: `.env`, else the shipped `.env.example`."""
    for name in (".env", ".env.example"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


class MissingVariable(BadInput):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(
            f"required variable {name} is not set: {message}",
            f"Set {name} in .env (or the stack's .env).",
        )
        self.name = name


def interpolate(value: str, env: Mapping[str, str], *, strict: bool = False) -> str:
    """Expand `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`,
    `${VAR:+a}`, `${VAR+a}` and `$$` as Compose does. With strict, `?` raises."""
    if "$" not in value:  # most strings of a compose file: nothing to expand
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("named")
        op = match.group("op")
        arg = match.group("arg") or ""
        present = name in env
        current = env.get(name, "")
        if op is None:
            return current
        unset_or_empty = op.startswith(":")
        missing = (not present) or (unset_or_empty and current == "")
        kind = op[-1]
        if kind == "-":
            return interpolate(arg, env, strict=strict) if missing else current
        if kind == "+":
            return "" if missing else interpolate(arg, env, strict=strict)
        if missing and strict:
            raise MissingVariable(name, arg)
        return current

    return _VAR.sub(replace, value)


def variables_in(value: str) -> list[tuple[str, str | None]]:
    """Each variable a string refers to, with its operator (None, ':-', ':?', …)."""
    found: list[tuple[str, str | None]] = []
    for match in _VAR.finditer(value):
        if match.group("escaped"):
            continue
        name = match.group("braced") or match.group("named")
        found.append((name, match.group("op")))
        if match.group("arg"):
            found.extend(variables_in(match.group("arg")))
    return found


def interpolate_tree(data: Any, env: Mapping[str, str]) -> Any:
    if isinstance(data, str):
        return interpolate(data, env)
    if isinstance(data, dict):
        return {key: interpolate_tree(value, env) for key, value in data.items()}
    if isinstance(data, list):
        return [interpolate_tree(item, env) for item in data]
    return data


def merge_layers(
    files: list[EnvFile | None], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The env files in order, as `docker compose --env-file A --env-file B` reads them: a
    later file wins; `${VAR}` in a value expands with the process environment (`environ`,
    default os.environ) first, then what the files have set so far; a bare `KEY` line takes
    KEY from the process environment. The caller puts the process environment on top."""
    source = dict(os.environ if environ is None else environ)
    merged: dict[str, str] = {}
    lookup = ChainMap(source, merged)
    for env_file in files:
        if env_file is None:
            continue
        for entry in env_file.entries:
            if entry.value is None:
                if entry.key in source:
                    merged[entry.key] = source[entry.key]
            elif entry.expand and "$" in entry.value:
                merged[entry.key] = interpolate(entry.value, lookup)
            else:
                merged[entry.key] = entry.value
    return merged


# ---- time zone ---------------------------------------------------------------------------

TIMEZONE_HINT = (
    "Use a zone name from the tz database, e.g. Europe/Berlin or Etc/UTC "
    "(`timedatectl list-timezones` lists them)."
)
#: a POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`): the C library reads it, zone-name readers
#: (Java, Python zoneinfo, Home Assistant) do not
_POSIX_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)"
_POSIX_OFFSET = r"[+-]?\d{1,2}(?::\d{2}){0,2}"
_POSIX_RULE = re.compile(
    rf"^{_POSIX_NAME}{_POSIX_OFFSET}(?:{_POSIX_NAME}(?:{_POSIX_OFFSET})?(?:,[^,]+,[^,]+)?)?$"
)


@functools.cache
def known_timezones() -> frozenset[str]:
    """The zone names of this machine's tz database (empty when it has none)."""
    import zoneinfo

    try:
        return frozenset(zoneinfo.available_timezones())
    except OSError:  # pragma: no cover - an unreadable zoneinfo folder
        return frozenset()


@dataclass(frozen=True)
class TimezoneProblem:
    severity: str  # "error": containers fall back to UTC; "warning": only some programs do
    message: str
    hint: str


def timezone_problem(value: str) -> TimezoneProblem | None:
    """Why TZ=value would not give the containers that time zone; None when it is fine (or
    empty, which the services' ${TZ:-Etc/UTC} turns into UTC, or not checkable here)."""
    name = value.strip()
    zones = known_timezones()
    if not name or not zones or name in zones:
        return None
    if name.startswith(":") and (name[1:] in zones or name[1:].startswith("/")):
        return None  # ':Europe/Berlin', ':/etc/localtime': glibc's file forms
    if _POSIX_RULE.match(name):
        return TimezoneProblem(
            "warning",
            f"TZ={name} is a POSIX rule, not a zone name: the C library reads it, but Java, "
            "Python and Home Assistant read TZ as a zone name and fall back to UTC",
            TIMEZONE_HINT,
        )
    import difflib

    same_case = [zone for zone in zones if zone.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, sorted(zones), n=1, cutoff=0.6)
    return TimezoneProblem(
        "error",
        f"TZ={name} is not a time zone in the tz database: every container would run on "
        "UTC without a word",
        (f"Did you mean {close[0]}? " if close else "") + TIMEZONE_HINT,
    )


def require_timezone(value: str, file: Path | None, line: int | None = None) -> None:
    """BadInput (exit 2) when TZ=value would leave the containers on UTC."""
    problem = timezone_problem(value)
    if problem is not None and problem.severity == "error":
        where = (
            f" (set in {file}{f':{line}' if line else ''})" if file else " (from the environment)"
        )
        raise BadInput(problem.message + where, problem.hint, file=file, line=line)


def require_root_timezone(root: Path, env: Mapping[str, str]) -> None:
    """The site's TZ (root layer, or the process environment, which wins) before install
    changes the host: BadInput naming the file and line when containers would get UTC."""
    value = env.get("TZ")
    if value is None:
        return
    if "TZ" in os.environ:
        require_timezone(value, None)
        return
    layer = layer_file(root)
    parsed = read_env(layer) if layer else None
    require_timezone(value, layer, parsed.lines.get("TZ") if parsed else None)
