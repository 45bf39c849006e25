"""A small XML tree with line numbers, read with the standard library's expat parser.

ElementTree drops source positions, and readers must say which line is wrong, so this keeps them:
each :class:`Element` knows the line of its start tag and of the first character of its text.
Document type declarations and entities are refused (no entity expansion, no external fetches).

>>> root = parse_xml(b"<a>\\n<b x='1'> 1 2 </b>\\n</a>", "t.xml")
>>> root.tag, root.children[0].attrs, root.children[0].line, root.children[0].text
('a', {'x': '1'}, 2, ' 1 2 ')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from .._errors import CatalogError

__all__ = ["Element", "parse_xml"]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    text_line: int = 0
    parts: list[str] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def find(self, tag: str) -> Element | None:
        """The first child with this tag."""
        return next((child for child in self.children if child.tag == tag), None)


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        self.line = line
        super().__init__(message)


def parse_xml(data: bytes, display: str) -> Element:
    """Parse an XML document; malformed XML raises :class:`CatalogError` with its line."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = Element(tag, dict(attrs), parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(element)
        else:
            roots.append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def characters(text: str) -> None:
        if stack:
            element = stack[-1]
            if not element.parts:
                element.text_line = parser.CurrentLineNumber
            element.parts.append(text)

    def refuse(*_: object) -> int:
        raise _Refused(
            "document type declarations are not allowed in a catalog file",
            parser.CurrentLineNumber,
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)  # noqa: FBT003 - expat's signature: the data is final
    except expat.ExpatError as exc:
        raise CatalogError(
            f"malformed XML: {expat.ErrorString(exc.code)}", path=display, line=exc.lineno
        ) from None
    except _Refused as exc:
        raise CatalogError(str(exc), path=display, line=exc.line) from None
    if not roots:  # pragma: no cover - expat reports a document without an element
        raise CatalogError("the XML document has no element", path=display)
    return roots[0]
