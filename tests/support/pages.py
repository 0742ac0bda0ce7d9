"""HTML as a person's browser reads it: forms and their fields, links, headings and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser





@dataclass
class Form:
    method: str
    action: str | None
    inputs: list = field(default_factory=list)  # dicts of attributes
    buttons: list = field(default_factory=list)  # dicts of attributes + "text"

    def fields(self) -> dict:
        """name -> value of every <input> with a name, except buttons/submit."""
        out = {}
        for i in self.inputs:
            if i.get("name") and i.get("type", "text").lower() not in ("submit", "button", "image"):
                out[i["name"]] = i.get("value") or ""
        return out

    def input(self, name: str) -> dict | None:
        for i in self.inputs:
            if i.get("name") == name:
                return i
        return None


class PageParser(HTMLParser):
    """Collects forms (with their inputs and buttons), the visible text and the
    text of every element that has an id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: dict | None = None
        self._textarea: dict | None = None
        self.text_parts: list[str] = []
        self._id_stack: list[tuple[str, str, list]] = []
        self.by_id: dict[str, str] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action"))
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select") and self._form is not None:
            self._form.inputs.append({"tag": tag, **a})
            if tag == "textarea":
                self._textarea = self._form.inputs[-1]
                self._textarea["value"] = ""
        elif tag == "button":
            self._button = {**a, "text": ""}
            if self._form is not None:
                self._form.buttons.append(self._button)
        if "id" in a and tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._id_stack.append((tag, a["id"], []))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "textarea":
            self._textarea = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, ident, parts = self._id_stack.pop()
            self.by_id[ident] = "".join(parts)

    def handle_data(self, data):
        if self._skip:
            return
        self.text_parts.append(data)
        if self._button is not None:
            self._button["text"] += data
        if self._textarea is not None:
            self._textarea["value"] += data
        for _, _, parts in self._id_stack:
            parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


def parse_page(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    p.close()
    return p
