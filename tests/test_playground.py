from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.http.playground import DEFAULT_ASSETS_DIR, INSTALL_COMMAND, Example, routes

HEADERS = json.dumps({"Authorization": "Bearer demo-token-123", "X-Purpose": "INVESTIGATION"})
EXAMPLE = Example(
    title="Partner agency: look up a person",
    query='query LookUpPerson {\n  person(id: "</script><script>alert(1)</script>") { id }\n}',
    variables='{"id": "p-1"}',
    headers=HEADERS,
)

# Layout that `npm ci --prefix playground` produces; a stand-in keeps these tests independent
# of whether npm was run (test_real_install_is_complete checks the real folder).
NPM_FILES = [
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/graphiql.min.css",
]


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    for rel in NPM_FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"/* {rel} */\n")
    (tmp_path / "graphiql" / "package.json").write_text("{}")
    return tmp_path


def _client(assets_dir: Path | None) -> TestClient:
    return TestClient(Starlette(routes=routes("/graphql", lambda: [EXAMPLE], assets_dir)))


def _config(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="playground-config">(.*?)</script>', html
    )
    assert match is not None
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_page_renders_with_local_assets_only(assets: Path) -> None:
    response = _client(assets).get("/playground")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs, "page references no assets"
    assert not [r for r in refs if r.startswith(("http://", "https://", "//"))]
    assert "http://" not in html and "https://" not in html
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("real", [False, True], ids=["stand-in", "npm-installed"])
def test_every_referenced_asset_is_served_with_its_content_type(assets: Path, real: bool) -> None:
    if real and not (DEFAULT_ASSETS_DIR / NPM_FILES[2]).is_file():
        pytest.skip(f"playground assets not installed ({INSTALL_COMMAND})")
    client = _client(None if real else assets)
    html = client.get("/playground").text
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    expected = {
        "react.production.min.js": "text/javascript",
        "react-dom.production.min.js": "text/javascript",
        "graphiql.min.js": "text/javascript",
        "graphiql.min.css": "text/css",
        "playground.js": "text/javascript",
        "playground.css": "text/css",
    }
    seen = set()
    for ref in refs:
        name = ref.split("?", 1)[0].rsplit("/", 1)[-1]
        response = client.get(ref)
        assert response.status_code == 200, ref
        assert response.headers["content-type"].split(";")[0] == expected[name], ref
        assert response.content
        seen.add(name)
    assert seen == set(expected)


def test_only_allow_listed_files_are_served(assets: Path) -> None:
    client = _client(assets)
    assert client.get("/playground/assets/package.json").status_code == 404
    assert client.get("/playground/assets/graphiql/package.json").status_code == 404
    assert client.get("/playground/assets/..%2Fgraphiql%2Fpackage.json").status_code == 404


def test_examples_are_prefilled_and_script_close_is_escaped(assets: Path) -> None:
    html = _client(assets).get("/playground").text
    config = _config(html)
    assert config["endpoint"] == "/graphql"
    assert config["tabs"] == [
        {
            "query": f"# {EXAMPLE.title}\n{EXAMPLE.query}",
            "variables": EXAMPLE.variables,
            "headers": HEADERS,
        }
    ]
    assert "demo-token-123" in html and "INVESTIGATION" in html
    # The query's "</script>" must not end the JSON block: only the page's own tags close.
    assert html.count("</script>") == html.count("<script")
    assert "\\u003c/script\\u003e" in html
    assert "alert(1)</script>" not in html


def test_examples_are_fetched_on_every_page_load(assets: Path) -> None:
    calls = []

    def examples() -> list[Example]:
        calls.append(1)
        return [Example("t", "{ a }", "{}", json.dumps({"Authorization": f"Bearer {len(calls)}"}))]

    client = TestClient(Starlette(routes=routes("/graphql", examples, assets)))
    assert "Bearer 1" in client.get("/playground").text
    assert "Bearer 2" in client.get("/playground").text


def test_missing_assets_gives_503_naming_the_install_command(tmp_path: Path) -> None:
    response = _client(tmp_path / "does-not-exist").get("/playground")
    assert response.status_code == 503
    assert "npm ci --prefix playground" in response.text


def test_bootstrap_wires_fetcher_tabs_and_keeps_headers_in_memory_only(assets: Path) -> None:
    js = _client(assets).get("/playground/assets/playground.js").text
    assert "GraphiQL.createFetcher({ url: config.endpoint })" in js
    assert "defaultTabs" in js and "shouldPersistHeaders: false" in js
    assert "storage: storage" in js  # GraphiQL's tabs and headers never reach localStorage
    assert "localStorage.setItem" not in js


def test_in_a_browser_the_examples_open_and_no_token_reaches_local_storage(tmp_path: Path) -> None:
    """Headless Chromium loads the page; its profile's Local Storage must hold nothing of GraphiQL's."""
    import shutil
    import subprocess
    import threading

    import uvicorn

    from tests.conftest import free_port

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None or not (DEFAULT_ASSETS_DIR / NPM_FILES[2]).is_file():
        pytest.skip("needs chromium and the installed playground assets")
    examples = [EXAMPLE, Example("Second", "{ b }", "{}", HEADERS), Example("Third", "{ c }", "{}", HEADERS)]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes("/graphql", lambda: examples)),
                                           host="127.0.0.1", port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.1)
        profile = tmp_path / "profile"
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom",
             f"http://127.0.0.1:{port}/playground"],
            capture_output=True, text=True, timeout=180,
        ).stdout  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(10)
    assert dom.count('class="graphiql-tab ') + dom.count('class="graphiql-tab"') == 3, dom[:2000]
    assert "X-Purpose" in dom
    stored = b"".join(f.read_bytes() for f in profile.rglob("*") if f.is_file() and "Local Storage" in str(f))
    assert b"graphiql" not in stored and b"demo-token-123" not in stored
