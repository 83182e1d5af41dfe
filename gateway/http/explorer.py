"""The graph explorer: a page that draws the persons a caller may see and their links.

It is a client of the public GraphQL API and nothing else: every search, expansion, path and
record it shows is a ``/graphql`` request under the signed-in caller's token and purpose, so it
shows exactly that caller's view and every expansion is audited like any other read. Police
networks have no internet: the drawing library (cytoscape) comes from the npm registry into
``explorer/node_modules`` (``npm ci --prefix explorer``), the page's own script, style and HTML
live in ``explorer/`` and the gateway serves all of them.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from graph_schema.model import Purpose

EXPLORER_DIR = Path(__file__).resolve().parents[2] / "explorer"
DEFAULT_ASSETS_DIR = EXPLORER_DIR / "node_modules"
INSTALL_COMMAND = "npm ci --prefix explorer"

# Only these files are reachable: serving all of node_modules would expose far more than needed.
_NPM_ASSETS: dict[str, tuple[str, str]] = {
    "cytoscape.min.js": ("cytoscape/dist/cytoscape.min.js", "text/javascript"),
}
# The page's own files, in explorer/ (the page template is read from there too).
_OWN_ASSETS: dict[str, str] = {
    "explorer.js": "text/javascript",
    "explorer.css": "text/css",
}
_TEMPLATE = "explorer.html"
_ASSETS_ROUTE = "explorer-assets"


@dataclass(frozen=True)
class DemoToken:
    """A ready token the page offers at sign-in (development with GATEWAY_DEMO_TOKENS only)."""

    agency: str
    token: str


def _script_json(value: object) -> str:
    # Inside <script> a "</script>" (or "<!--") in any string would end the element early;
    # \u003c etc. are equivalent JSON, so escape every <, > and & instead of just "</".
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp(endpoint: str) -> str:
    connect = "'self'"
    parts = urlsplit(endpoint)
    if parts.scheme and parts.netloc:  # an endpoint on another origin must be allowed to fetch
        connect += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            # Cytoscape draws on canvases and styles them through the CSSOM, which CSP allows:
            # no inline <style> or style attributes are needed.
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def routes(
    endpoint: str,
    demo_tokens: Callable[[], Sequence[DemoToken]],
    assets_dir: Path | None = None,
    page_dir: Path | None = None,
) -> list[BaseRoute]:
    """``GET /explorer`` and ``/explorer/assets/{name}`` serving the allow-listed files.

    ``demo_tokens`` is called on every page load (tokens expire); it returns nothing outside
    development."""
    npm_root = assets_dir if assets_dir is not None else DEFAULT_ASSETS_DIR
    own_root = page_dir if page_dir is not None else EXPLORER_DIR
    csp = _csp(endpoint)

    def asset_path(name: str) -> Path:
        return npm_root / _NPM_ASSETS[name][0] if name in _NPM_ASSETS else own_root / name

    def asset_version(name: str) -> str:
        # Cache-busting token so assets can be cached as immutable yet change after `npm ci`
        # or an edit of the page's own files.
        path = asset_path(name)
        if name in _OWN_ASSETS:
            return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        stat = path.stat()
        return f"{stat.st_size:x}{stat.st_mtime_ns:x}"

    def missing() -> list[str]:
        return [name for name in (*_NPM_ASSETS, *_OWN_ASSETS) if not asset_path(name).is_file()]

    async def page(request: Request) -> Response:
        if missing():
            return PlainTextResponse(
                "Graph explorer assets are not installed. Run from the repository root:\n"
                f"    {INSTALL_COMMAND}\n",
                status_code=503,
            )

        def url(name: str) -> str:
            # A path, not a full URL: keeps root_path but never emits http(s)://.
            path = request.url_for(_ASSETS_ROUTE, name=name).path
            return f"{path}?v={asset_version(name)}"

        config = {
            "endpoint": endpoint,
            "purposes": [p.value for p in Purpose],
            "demoTokens": [{"agency": d.agency, "token": d.token} for d in demo_tokens()],
        }
        template = string.Template((own_root / _TEMPLATE).read_text(encoding="utf-8"))
        html = template.substitute(
            config=_script_json(config),
            cytoscape_js=url("cytoscape.min.js"),
            explorer_js=url("explorer.js"),
            explorer_css=url("explorer.css"),
        )
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": csp,
                # The page may hold demo tokens and shows personal data: never cache, never frame.
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _NPM_ASSETS[name][1] if name in _NPM_ASSETS else _OWN_ASSETS.get(name)
        if media_type is None:
            return PlainTextResponse("Not found", status_code=404)
        path = asset_path(name)
        if not path.is_file():
            return PlainTextResponse(f"Not installed; run {INSTALL_COMMAND}", status_code=404)
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        }
        return FileResponse(path, media_type=media_type, headers=headers)

    return [
        Route("/explorer", page, methods=["GET"], name="explorer"),
        Mount(
            "/explorer/assets",
            routes=[Route("/{name}", asset, methods=["GET"], name=_ASSETS_ROUTE)],
        ),
    ]
