"""Compile bombs: small uploads that cost the compiler far more than their size.

Each is ``name -> (files, expected)``: the bundle a hostile tenant uploads, and the text the
``CompileErrors`` answer must contain (the file and the limit it names), or ``None`` for a
bundle that is expensive but within every limit and must compile. Built by functions so
that the sources are made when needed and the shapes are easy to read.
"""

from __future__ import annotations

# What a flooded bomb's answer may name: a limit of the compile (wall time too, on a busy machine),
# or its nesting.
LIMITS = ("needed more than 256 MiB", "larger than 4 MiB", "took more than", "of CPU", "nested too deeply")


def nested_finally(levels: int) -> str:
    """try/finally nested in finally blocks: CPython emits each finally body twice (normal
    and exceptional exit), so the code doubles per level: 2**levels copies from ~150 bytes
    a level. The red team's 1 KB file: 3 GB and 10-30 s in the server's own compile."""
    lines, indent = ["def f(conv):"], "    "
    for _ in range(levels):
        lines += [f"{indent}try:", f"{indent}    x = 1", f"{indent}finally:"]
        indent += "    "
    lines.append(f"{indent}pass")
    return "\n".join(lines) + "\n"


def _chain(op: str, count: int, operand: str = "1") -> str:
    return f"x = {op.join([operand] * count)}\n"


BOMBS: dict[str, tuple[dict[str, str], str | None]] = {
    # Memory: exponential code generation, stopped at compile_memory_bytes.
    "nested_finally_19": ({"t.py": nested_finally(19)}, "t.py: compiling needed more than 256 MiB"),
    "nested_finally_24": ({"t.py": nested_finally(24)}, "t.py: compiling needed more than 256 MiB"),
    # Code size: within memory, but the compiled bundle is over compile_output_bytes.
    "code_size_one_file": ({"t.py": nested_finally(16)}, "t.py: the compiled bundle is larger than 4 MiB"),
    "code_size_many_files": (
        {f"m{i}.py": nested_finally(14) for i in range(6)},
        "the compiled bundle is larger than 4 MiB",
    ),
    # Nesting: the parser's own limits, and ours before the transform.
    "nested_parentheses": ({"t.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"}, "t.py line 1: SyntaxError"),
    "nested_lists": ({"t.py": "x = " + "[" * 3000 + "]" * 3000 + "\n"}, "t.py line 1: SyntaxError"),
    "nested_lambdas": ({"t.py": "x = " + "lambda: " * 5000 + "1\n"}, "t.py: source is nested too deeply to parse"),
    "nested_unary": ({"t.py": "x = " + "-" * 100_000 + "1\n"}, "t.py: source is nested too deeply to parse"),
    "nested_not": ({"t.py": "x = " + "not " * 50_000 + "1\n"}, "t.py: source is nested too deeply to parse"),
    "nested_lambdas_200": ({"t.py": "x = " + "lambda: " * 200 + "1\n"}, "t.py line 1: code is nested too deeply"),
    "nested_defs": (
        {"t.py": "".join("    " * i + f"def f{i}():\n" for i in range(99)) + "    " * 99 + "pass\n"},
        "t.py line 100: code is nested too deeply",
    ),
    "nested_comprehensions": (
        {"t.py": "x = " + "[" * 100 + "1 for a in ()" + "]" * 100 + "\n"},
        "t.py: code is nested too deeply",
    ),
    "nested_fstrings": ({"t.py": "x = " + "f'{" * 200 + "1" + "}'" * 200 + "\n"}, "t.py line 1: SyntaxError"),
    "nested_ifs": (
        {"t.py": "".join("    " * i + "if x:\n" for i in range(150)) + "    " * 150 + "pass\n"},
        "t.py line 101: IndentationError: too many levels of indentation",
    ),
    # Long expressions: a left-deep tree the transformer would walk recursively.
    "long_sum": ({"t.py": _chain("+", 60000)}, "t.py: source is nested too deeply to parse"),
    "long_and": ({"t.py": _chain(" and ", 30000, "a")}, "t.py: code is too complex"),
    "long_compare": ({"t.py": _chain(" < ", 30000, "a")}, "code is too complex"),
    "long_call_chain": ({"t.py": "x = f" + "()" * 20000 + "\n"}, "nested too deeply"),
    "long_attribute_chain": ({"t.py": "x = a" + ".b" * 20000 + "\n"}, "nested too deeply"),
    # Size: many small things, within the source cap.
    "thousands_of_functions": (
        {"t.py": "".join(f"def f{i}(c):0\n" for i in range(16000))},
        "t.py: code is too complex",
    ),
    "many_small_files": ({f"f{i}.py": f"def f{i}(conv):\n    return {i}\n" for i in range(256)}, None),
    "big_list_literal": ({"t.py": "x = [" + ",".join(str(i) for i in range(40000)) + "]\n"}, "code is too complex"),
    "many_string_constants": ({"t.py": "x = {" + ",".join(f"{i}: 's{i}'" for i in range(12000)) + "}\n"}, None),
    # Constants CPython would fold at compile time: it does not fold past its own limits.
    "huge_power": ({"t.py": "x = 2 ** 10000000\ny = 10 ** 10 ** 10\n"}, None),
    "huge_repeat": ({"t.py": "x = 'a' * 100000000\ny = (1,) * 100000000\nz = b'b' * 10 ** 9\n"}, None),
    "big_string": ({"t.py": "x = '" + "a" * 250_000 + "'\n"}, None),
    # Text the tokenizer must scan.
    "long_line_of_spaces": ({"t.py": "x = 1" + " " * 250_000 + "\n"}, None),
    "many_blank_lines": ({"t.py": "\n" * 250_000 + "x = 1\n"}, None),
    "deep_indentation": (
        {"t.py": "if x:\n" + "".join(" " * (i + 1) + "if x:\n" for i in range(100)) + " " * 101 + "pass\n"},
        "t.py line 101: IndentationError",
    ),
}
