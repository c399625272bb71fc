"""Every emoji code the bot writes (``:bar_chart:``) is drawn by the sandbox page, not shown as
text: the page's map (``EMOJI`` in ``bot/sandbox/static/blocks.js``) must know each one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A code as the bot writes one: at the start of a text or after a space or mark, then a space.
CODE = re.compile(r"(?:^|(?<=[\s*_>(])):([a-z][a-z0-9_+-]*):(?= )")


def _codes_in_the_bot() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if "sandbox" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    for code in CODE.findall(node.value):
                        found.setdefault(code, str(path.relative_to(ROOT)))
    return found


def test_the_page_draws_every_emoji_code_the_bot_writes() -> None:
    script = (ROOT / "bot/sandbox/static/blocks.js").read_text("utf-8")
    table = re.search(r"const EMOJI = \{(.*?)\};", script, re.DOTALL)
    assert table is not None
    drawn = set(re.findall(r"([a-z0-9_+-]+): \"", table.group(1)))
    codes = _codes_in_the_bot()
    assert {"bar_chart", "bell", "white_check_mark"} <= set(codes)  # the scan finds them
    missing = {code: where for code, where in codes.items() if code not in drawn}
    assert not missing, f"add these to EMOJI in blocks.js: {missing}"
