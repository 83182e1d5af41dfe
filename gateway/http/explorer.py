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
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.http import pages
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
    # Cytoscape draws on canvases and styles them through the CSSOM, which CSP allows:
    # no inline <style> or style attributes are needed.
    csp = pages.content_security_policy(endpoint)

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
            config=pages.script_json(config),
            cytoscape_js=url("cytoscape.min.js"),
            explorer_js=url("explorer.js"),
            explorer_css=url("explorer.css"),
        )
        return HTMLResponse(html, headers=pages.page_headers(csp))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _NPM_ASSETS[name][1] if name in _NPM_ASSETS else _OWN_ASSETS.get(name)
        if media_type is None:
            return PlainTextResponse("Not found", status_code=404)
        path = asset_path(name)
        if not path.is_file():
            return PlainTextResponse(f"Not installed; run {INSTALL_COMMAND}", status_code=404)
        headers = pages.ASSET_HEADERS
        return FileResponse(path, media_type=media_type, headers=headers)

    return [
        Route("/explorer", page, methods=["GET"], name="explorer"),
        Mount(
            "/explorer/assets",
            routes=[Route("/{name}", asset, methods=["GET"], name=_ASSETS_ROUTE)],
        ),
    ]
