"""Compile bombs against the confined compile (issue 16). Security tests: they never skip.

Every bomb of ``bombs.py`` is compiled the way the service compiles (``ConfinedCompiler``
on a real confined pool). Each must end in a ``CompileErrors`` answer that names the file
and the limit, never an internal error; and the evidence is outside that verdict: this
process (the server's side) never parses the source, and its memory does not grow with
the bombs.
"""

from __future__ import annotations

import concurrent.futures
import gc

import psutil
import pytest

from sandbox.bundles import CompileErrors
from sandbox.compile import compiler
from sandbox.policy import DEFAULT_POLICY, Limits
from sandbox.supervisor.confined_compile import ConfinedCompiler
from sandbox.supervisor.pool import Pool, PoolConfig
from tests.uploads.bombs import BOMBS, LIMITS, nested_finally

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def confined(pool) -> ConfinedCompiler:
    return ConfinedCompiler(pool)


@pytest.fixture
def nothing_parsed_here(monkeypatch):
    """Fails the test if this process parses or compiles tenant source itself."""

    def refuse(*args, **kwargs):
        raise AssertionError("the server's side parsed tenant source")

    monkeypatch.setattr(compiler, "_compile_checked", refuse)  # where every parse and compile happens
    monkeypatch.setattr(compiler, "compile_files", refuse)
    monkeypatch.setattr(compiler, "compile_bundle", refuse)


def verdict(confined: ConfinedCompiler, files: dict[str, str]) -> str | None:
    try:
        confined.compile(files)
    except CompileErrors as errors:
        return str(errors)
    return None


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_each_bomb_ends_in_a_compile_error_naming_its_file_and_limit(confined, nothing_parsed_here, name):
    files, expected = BOMBS[name]
    found = verdict(confined, files)
    if expected is None:
        assert found is None, f"{name} must compile (it is within every limit): {found}"
    else:
        assert found is not None and expected in found, f"{name}: expected {expected!r}, got {found!r}"


@pytest.mark.serial  # this process's RSS
def test_a_flood_of_bombs_leaves_the_servers_memory_where_it_was(confined, nothing_parsed_here):
    """Target: under a flood of compile bombs the server's RSS grows by less than 64 MiB
    (the red team's single bomb took 3 GB in the server)."""
    bombs = [
        BOMBS[n][0]
        for n in (
            "nested_finally_19",
            "nested_finally_24",
            "code_size_one_file",
            "code_size_many_files",
            "nested_unary",
        )
    ] * 6
    gc.collect()
    before = psutil.Process().memory_info().rss
    peak = before
    with concurrent.futures.ThreadPoolExecutor(4) as threads:
        for found in threads.map(lambda files: verdict(confined, files), bombs):
            assert found is not None and any(limit in found for limit in LIMITS), found
            peak = max(peak, psutil.Process().memory_info().rss)
    assert peak - before < 64 * MiB, f"the server grew by {(peak - before) / MiB:.1f} MiB"


def test_same_verdict_as_the_in_process_compiler_for_what_fits_its_limits(confined):
    """One compile everywhere: where a bundle is within the limits, the confined compile
    and the library's in-process compile agree, errors and functions alike."""
    for name in (
        "nested_parentheses",
        "nested_defs",
        "long_sum",
        "thousands_of_functions",
        "many_small_files",
        "huge_power",
        "big_string",
    ):
        files = BOMBS[name][0]
        try:
            local: object = sorted(compiler.compile_bundle(files).functions)
        except CompileErrors as errors:
            local = str(errors)
        try:
            remote: object = sorted(confined.compile(files).functions)
        except CompileErrors as errors:
            remote = str(errors)
        assert remote == local, name


@pytest.mark.system  # confined compile workers
def test_cpu_and_wall_time_are_limits_of_their_own():
    """With room in memory, an exponential compile runs into the CPU limit; with room in
    CPU, into the wall-clock limit. Each is named."""
    roomy = Limits(
        compile_memory_bytes=3 * 1024 * MiB,
        compile_cpu_seconds=1,
        compile_wall_ms=20_000,
        compile_output_bytes=512 * MiB,
    )
    with Pool(PoolConfig(ready_children=1, limits=roomy)) as pool:
        confined = ConfinedCompiler(pool)
        policy = DEFAULT_POLICY.with_limits(
            compile_memory_bytes=roomy.compile_memory_bytes,
            compile_cpu_seconds=1,
            compile_wall_ms=20_000,
            compile_output_bytes=512 * MiB,
        )
        with pytest.raises(CompileErrors) as cpu:
            confined.compile({"t.py": nested_finally(20)}, policy)
        assert str(cpu.value) == "t.py: compiling needed more than 1 s of CPU"
        with pytest.raises(CompileErrors) as wall:
            confined.compile(
                {"t.py": nested_finally(20)}, policy.with_limits(compile_cpu_seconds=10, compile_wall_ms=300)
            )
        assert str(wall.value) == "t.py: compiling took more than 0.3 s"
        assert sorted(confined.compile({"t.py": "def f(conv):\n    return 1\n"}, policy).functions) == ["f"]


def test_the_bomb_is_named_among_the_files_of_its_bundle(confined):
    files = {"a.py": "def a(conv):\n    return 1\n", "bomb.py": nested_finally(22), "z.py": "def z(conv):\n    pass\n"}
    assert verdict(confined, files) == "bomb.py: compiling needed more than 256 MiB"
