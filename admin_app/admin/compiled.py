"""Compiled templates shared by every admin of a process (Jinja's bytecode cache, in memory).

Each `build_admin` gets SQLAdmin's own Jinja environment, which compiles each template on its
first use: about 150 ms for a list page's templates, paid again by every app a process builds
(the tests build one per test). Jinja skips the compile when its environment's bytecode cache
holds the template's code for the same source (`jinja2.bccache`); this cache lives as long as
the process and is keyed by the template, its source's checksum and everything in the
environment that changes the generated code (async or not, delimiters, extensions, escaping),
so the synchronous overlay (`compat/sync_templates.py`) and the async environment never share
code. A template changed on disk has a new checksum and is compiled again (development reloads).
"""

from __future__ import annotations

from types import CodeType
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


def _generated_code_of(env: Environment) -> tuple[Any, ...]:
    autoescape = env.autoescape if isinstance(env.autoescape, bool) else getattr(env.autoescape, "__qualname__", "?")
    return (
        env.is_async, env.optimized, autoescape, env.finalize is not None, tuple(sorted(env.extensions)),
        env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.code_generator_class,
    )


class InMemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[tuple[Any, ...], tuple[str, CodeType]] = {}

    def _key(self, bucket: Bucket) -> tuple[Any, ...]:
        return (bucket.key, _generated_code_of(bucket.environment))

    def load_bytecode(self, bucket: Bucket) -> None:
        stored = self._code.get(self._key(bucket))
        if stored is not None and stored[0] == bucket.checksum:
            bucket.code = stored[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[self._key(bucket)] = (bucket.checksum, bucket.code)


PROCESS_CACHE = InMemoryBytecodeCache()


def share_compiled_templates(env: Environment) -> None:
    """Compile each template once per process for every environment like `env` (its overlays too)."""
    env.bytecode_cache = PROCESS_CACHE
