"""Values and elements between Python and a page over WebDriver BiDi (for firefox_bidi.py).

- ``to_local``: a Python value (JSON-like, or a ``BidiElement``) as a BiDi LocalValue;
- ``from_remote``: a BiDi RemoteValue as Python (DOM nodes as ``BidiElement``);
- ``BidiElement``: a node of the page, with the part of selenium's WebElement the site tests
  use; ``bidi_action``: a selenium W3C action as a BiDi input action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selenium.webdriver.remote.webelement import WebElement

if TYPE_CHECKING:
    from firefox_bidi import FirefoxBidi


def to_local(value):
    """A Python value (JSON-like, or a ``BidiElement``) as a BiDi LocalValue."""
    if isinstance(value, BidiElement):
        return {"sharedId": value.id}
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int | float):
        return {"type": "number", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, list | tuple):
        return {"type": "array", "value": [to_local(v) for v in value]}
    return {"type": "object", "value": [[str(k), to_local(v)] for k, v in value.items()]}


_W3C_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def bidi_action(action: dict) -> dict:
    """One selenium W3C action as a BiDi one (an element origin becomes a shared reference)."""
    origin = action.get("origin")
    if isinstance(origin, dict) and _W3C_ELEMENT in origin:
        element = {"sharedId": origin[_W3C_ELEMENT]}
        action = dict(action, origin={"type": "element", "element": element})
    for key in ("x", "y", "duration"):
        if key in action:
            action[key] = int(action[key])
    return action


class BidiElement(WebElement):
    """A node of the page (its BiDi shared id as the element id): the part of selenium's
    WebElement the site tests use (``text``, ``get_attribute``, ``click``, ``send_keys``...);
    a WebElement, so selenium's ``ActionChains`` and ``Select`` take it."""

    def __init__(self, driver: FirefoxBidi, shared_id: str):
        super().__init__(driver, shared_id)
        self.driver = driver

    def _js(self, body: str, *args):
        return self.driver.call(f"function(el, ...args) {{ {body} }}", self, *args)

    @property
    def text(self) -> str:
        """The rendered text, with no-break spaces as spaces (WebDriver's "element text")."""
        return self._js("return el.innerText.replace(/\\u00a0/g, ' ');")

    @property
    def tag_name(self) -> str:
        return self._js("return el.tagName.toLowerCase();")

    def get_attribute(self, name: str):
        """The property when the element has one (value, href, textContent...), else the
        attribute; as strings, like selenium's."""
        return self._js(
            "const n = args[0]; const p = el[n];"
            "if (p !== undefined && p !== null && typeof p !== 'object' && typeof p !== 'function')"
            "  return typeof p === 'boolean' ? (p ? 'true' : null) : String(p);"
            "return el.getAttribute(n);",
            name,
        )

    def get_dom_attribute(self, name: str):
        return self._js("return el.getAttribute(args[0]);", name)

    def is_enabled(self) -> bool:
        return self._js("return !el.disabled;")

    def is_selected(self) -> bool:
        return self._js("return !!(el.selected || el.checked);")

    def is_displayed(self) -> bool:
        return self._js("return el.getClientRects().length > 0;")

    def click(self) -> None:
        """A real pointer click at the element's centre (an <option> is selected instead)."""
        if self._js(
            "if (el.tagName !== 'OPTION') { el.scrollIntoView({block: 'center'}); return false; }"
            "el.selected = true;"
            "el.parentElement.dispatchEvent(new Event('input', {bubbles: true}));"
            "el.parentElement.dispatchEvent(new Event('change', {bubbles: true})); return true;"
        ):
            return
        origin = {"type": "element", "element": {"sharedId": self.id}}
        actions = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        source = {"type": "pointer", "id": "mouse", "actions": actions}
        self.driver.command(
            "input.performActions", {"context": self.driver.context, "actions": [source]}
        )

    def send_keys(self, *text: str) -> None:
        """Focus the element and type ``text`` (selenium's Keys codes included: ENTER, TAB)."""
        self._js("el.focus();")
        keys = []
        for ch in "".join(text):
            keys += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        source = {"type": "key", "id": "keyboard", "actions": keys}
        self.driver.command(
            "input.performActions", {"context": self.driver.context, "actions": [source]}
        )

    def clear(self) -> None:
        self._js("el.value = ''; el.dispatchEvent(new Event('input', {bubbles: true}));")

    def find_elements(self, by: str, value: str) -> list:
        return self.driver.find_elements(by, value, within=self)

    def find_element(self, by: str, value: str):
        return self.driver.find_element(by, value, within=self)


def from_remote(value: dict, driver: FirefoxBidi | None = None):
    """A BiDi RemoteValue as Python (arrays, objects, maps, numbers, strings; DOM nodes as
    ``BidiElement`` when a driver is given)."""
    kind = value.get("type")
    v = value.get("value")
    if kind == "node" and driver is not None and "sharedId" in value:
        return BidiElement(driver, value["sharedId"])
    if kind in ("undefined", "null"):
        return None
    if kind == "number":
        return {"NaN": float("nan"), "-0": -0.0, "Infinity": float("inf"),
                "-Infinity": float("-inf")}.get(v, v) if isinstance(v, str) else v  # fmt: skip
    if kind in ("string", "boolean"):
        return v
    if kind == "bigint":
        return int(v)
    if kind in ("array", "set", "nodelist", "htmlcollection"):
        return [from_remote(x, driver) for x in v or []]
    if kind in ("object", "map"):
        pairs = v or []
        return {
            (k if isinstance(k, str) else str(from_remote(k))): from_remote(x, driver)
            for k, x in pairs
        }
    return value  # nodes, functions, errors...: the raw RemoteValue
