"""Every Python code block of README.md runs, in order, in one namespace, and prints what
README.md shows it printing.

What a block prints is shown in the ```text block that directly follows it (only blank lines
between them); a block without one must print nothing. As in doctest, ``...`` in a shown
output stands for any text, for outputs too long to show whole.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", flags=re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Example:
    code: str
    output: str  # what the README shows the code printing
    line: int  # the line of the code's first line in the Markdown text


def examples(text: str) -> list[Example]:
    """The Python blocks of the Markdown ``text``, each with the output shown after it."""
    blocks = list(FENCE.finditer(text))
    found = []
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block[1] != "python":
            continue
        output = ""
        if (
            after is not None
            and after[1] == "text"
            and not text[block.end() : after.start()].strip()
        ):
            output = after[2]
        found.append(Example(block[2], output, text.count("\n", 0, block.start()) + 2))
    return found


def run_examples(text: str, source: str) -> None:
    """Run the Python blocks of ``text`` in order and check what each prints."""
    namespace: dict[str, object] = {"__name__": "readme"}
    checker = doctest.OutputChecker()
    for example in examples(text):
        # Padded so that tracebacks give the line numbers of the Markdown file.
        code = compile("\n" * (example.line - 1) + example.code, source, "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
        if not checker.check_output(example.output, printed.getvalue(), doctest.ELLIPSIS):
            assert printed.getvalue() == example.output, (
                f"the block at {source}, line {example.line}, prints something else than the "
                "output shown after it"
            )


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


def test_readme_python_blocks_run_and_print_what_readme_shows() -> None:
    text = README.read_text(encoding="utf-8")
    assert examples(text), "README.md shows no Python example"
    assert any(example.output for example in examples(text)), "README.md shows no output"
    run_examples(text, str(README))


def test_a_printed_value_that_drifts_from_the_shown_output_fails() -> None:
    shown = "Some text.\n\n```python\nx = 6 * 7\nprint(x)\n```\n\n```text\n42\n```\n"
    run_examples(shown, "example.md")
    with pytest.raises(AssertionError, match=r"example\.md, line 4"):
        run_examples(shown.replace("42", "41"), "example.md")
    with pytest.raises(AssertionError, match="prints something else"):  # no output shown
        run_examples(shown.replace("```text\n42\n```\n", ""), "example.md")
    with pytest.raises(AssertionError, match="prints something else"):  # not right after it
        run_examples(shown.replace("\n\n```text", "\n\nIt prints:\n\n```text"), "example.md")
    run_examples(shown.replace("```text\n42", "```text\n4..."), "example.md")
