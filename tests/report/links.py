"""Link checking of generated pages, shared by the report tests."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Links(HTMLParser):
    """Every href/src of a page, and its element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)
            if key == "id":
                self.ids.add(value)


def links_of(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def check_links(html_path: Path) -> list[str]:
    """Relative links of the page; asserts each resolves (file or #anchor)."""
    page = links_of(html_path.read_text())
    relative = []
    for link in page.links:
        if link.startswith("#"):
            assert link[1:] in page.ids, f"dangling anchor {link}"
        elif "://" not in link and not link.startswith("mailto:"):
            assert (html_path.parent / link.split("#")[0]).is_file(), f"missing {link}"
            relative.append(link)
    return relative
