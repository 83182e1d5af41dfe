"""Offline GraphiQL playground.

Police networks have no internet, so nothing may come from a CDN: the GraphiQL and React
browser bundles are installed from the npm registry into ``playground/node_modules``
(``npm ci --prefix playground``) and served by the gateway itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.http import pages

DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "playground" / "node_modules"
INSTALL_COMMAND = "npm ci --prefix playground"

# Only these files are reachable: serving all of node_modules would expose far more than needed.
_NPM_ASSETS: dict[str, tuple[str, str]] = {
    "react.production.min.js": ("react/umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": (
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    "graphiql.min.js": ("graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.min.css": ("graphiql/graphiql.min.css", "text/css"),
}

# The bootstrap lives in a served file, not inline, so script-src can stay 'self' only.
_BOOTSTRAP_JS = """\
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("playground-config").textContent);
  // Bearer tokens must never outlive the page: GraphiQL keeps tabs, headers and history in
  // this storage, which lives in memory only. Earlier versions used localStorage: clear it.
  try {
    Object.keys(window.localStorage).forEach(function (key) {
      if (key.indexOf("graphiql:") === 0) window.localStorage.removeItem(key);
    });
  } catch (e) {
    // Storage disabled: nothing was persisted.
  }
  var memory = {};
  var storage = {
    getItem: function (key) { return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null; },
    setItem: function (key, value) { memory[key] = String(value); },
    removeItem: function (key) { delete memory[key]; },
    clear: function () { memory = {}; },
    get length() { return Object.keys(memory).length; },
  };
  var props = {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    storage: storage,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
  };
  if (config.tabs.length > 0) {
    props.defaultTabs = config.tabs;
    // GraphiQL 3 fills the editors of the first tab from these props, not from defaultTabs[0]:
    // without them its headers start empty.
    props.query = config.tabs[0].query;
    props.variables = config.tabs[0].variables;
    props.headers = config.tabs[0].headers;
  }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props)
  );
})();
"""

_PAGE_CSS = """\
html, body { height: 100%; margin: 0; }
#graphiql { height: 100vh; }
"""

_INLINE_ASSETS: dict[str, tuple[str, str]] = {
    "playground.js": (_BOOTSTRAP_JS, "text/javascript"),
    "playground.css": (_PAGE_CSS, "text/css"),
}

_ASSETS_ROUTE = "playground-assets"


@dataclass(frozen=True)
class Example:
    title: str  # shown as a leading comment: GraphiQL 3 labels tabs by operation name
    query: str
    variables: str  # JSON text
    headers: str  # JSON text, e.g. '{"Authorization": "Bearer ...", "X-Purpose": "..."}'




def _tab(example: Example) -> dict[str, str]:
    title = " ".join(example.title.split())  # a newline would end the comment line
    return {
        "query": f"# {title}\n{example.query}",
        "variables": example.variables,
        "headers": example.headers,
    }




def routes(
    endpoint: str,
    examples: Callable[[], Sequence[Example]],
    assets_dir: Path | None = None,
) -> list[BaseRoute]:
    """``GET /playground`` and ``/playground/assets/{name}`` serving the allow-listed files."""
    root = assets_dir if assets_dir is not None else DEFAULT_ASSETS_DIR
    # GraphiQL's dialogs inject <style> elements (scroll lock); its CSS embeds data: fonts.
    csp = pages.content_security_policy(endpoint, style_src="'self' 'unsafe-inline'", fonts=True)

    def asset_version(name: str) -> str:
        # Cache-busting token so assets can be cached as immutable yet change after `npm ci`.
        if name in _INLINE_ASSETS:
            return hashlib.sha256(_INLINE_ASSETS[name][0].encode()).hexdigest()[:12]
        stat = (root / _NPM_ASSETS[name][0]).stat()
        return f"{stat.st_size:x}{stat.st_mtime_ns:x}"

    def missing() -> list[str]:
        return [rel for rel, _ in _NPM_ASSETS.values() if not (root / rel).is_file()]

    async def page(request: Request) -> Response:
        if missing():
            return PlainTextResponse(
                "GraphQL playground assets are not installed. Run from the repository root:\n"
                f"    {INSTALL_COMMAND}\n",
                status_code=503,
            )

        def url(name: str) -> str:
            # A path, not a full URL: keeps root_path but never emits http(s)://.
            path = request.url_for(_ASSETS_ROUTE, name=name).path
            return f"{path}?v={asset_version(name)}"

        config = {"endpoint": endpoint, "tabs": [_tab(e) for e in examples()]}
        html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>GraphQL playground</title>
<link rel="stylesheet" href="{url("graphiql.min.css")}">
<link rel="stylesheet" href="{url("playground.css")}">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="playground-config">{pages.script_json(config)}</script>
<script src="{url("react.production.min.js")}"></script>
<script src="{url("react-dom.production.min.js")}"></script>
<script src="{url("graphiql.min.js")}"></script>
<script src="{url("playground.js")}"></script>
</body>
</html>
"""
        return HTMLResponse(html, headers=pages.page_headers(csp))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        headers = pages.ASSET_HEADERS
        if name in _INLINE_ASSETS:
            body, media_type = _INLINE_ASSETS[name]
            return Response(body, media_type=media_type, headers=headers)
        if name not in _NPM_ASSETS:
            return PlainTextResponse("Not found", status_code=404)
        rel, media_type = _NPM_ASSETS[name]
        path = root / rel
        if not path.is_file():
            return PlainTextResponse(f"Not installed; run {INSTALL_COMMAND}", status_code=404)
        return FileResponse(path, media_type=media_type, headers=headers)

    return [
        Route("/playground", page, methods=["GET"], name="playground"),
        Mount(
            "/playground/assets",
            routes=[Route("/{name}", asset, methods=["GET"], name=_ASSETS_ROUTE)],
        ),
    ]
