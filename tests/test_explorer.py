"""The graph explorer at /explorer: its route and headers, and the page itself in Chromium.

The browser tests drive Debian's Chromium (``make setup`` installs it) through Playwright for
Python, never a downloaded browser. Every request to a host other than 127.0.0.1 is aborted and
recorded; the drawn persons and links are compared with what the GraphQL API answers the same
caller, so the expected networks are computed, not written down.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.http import app as gateway_app
from gateway.http.explorer import DEFAULT_ASSETS_DIR, EXPLORER_DIR, INSTALL_COMMAND, DemoToken, routes
from gateway.settings import Settings
from tests.conftest import Client, GatewayProcess

CYTOSCAPE = "cytoscape/dist/cytoscape.min.js"
DEMO = DemoToken("ncb-fr", "tok</script><script>alert(1)</script>")


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """The layout `npm ci --prefix explorer` produces, as a stand-in."""
    (tmp_path / CYTOSCAPE).parent.mkdir(parents=True)
    (tmp_path / CYTOSCAPE).write_text("/* cytoscape */\n")
    (tmp_path / "cytoscape" / "package.json").write_text("{}")
    return tmp_path


def _client(assets_dir: Path | None, tokens: list[DemoToken] | None = None) -> TestClient:
    return TestClient(Starlette(routes=routes("/graphql", lambda: tokens or [], assets_dir)))


def _config(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="explorer-config">(.*?)</script>', html)
    assert match is not None
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def _refs(html: str) -> list[str]:
    return [r for r in re.findall(r'(?:src|href)="([^"]*)"', html) if r != "data:,"]


# --- The route ------------------------------------------------------------------------------


def test_page_loads_only_local_assets_under_a_strict_csp(assets: Path) -> None:
    response = _client(assets).get("/explorer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert _refs(html) and not [r for r in _refs(html) if not r.startswith("/explorer/assets/")]
    assert "http://" not in html and "https://" not in html
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"  # nothing inline, no eval
    assert csp["connect-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("real", [False, True], ids=["stand-in", "npm-installed"])
def test_every_referenced_asset_is_served_with_its_content_type(assets: Path, real: bool) -> None:
    if real and not (DEFAULT_ASSETS_DIR / CYTOSCAPE).is_file():
        pytest.skip(f"explorer assets not installed ({INSTALL_COMMAND})")
    client = _client(None if real else assets)
    expected = {
        "cytoscape.min.js": "text/javascript",
        "explorer.js": "text/javascript",
        "explorer.css": "text/css",
    }
    seen = set()
    for ref in _refs(client.get("/explorer").text):
        name = ref.split("?", 1)[0].rsplit("/", 1)[-1]
        response = client.get(ref)
        assert response.status_code == 200, ref
        assert response.headers["content-type"].split(";")[0] == expected[name], ref
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content
        seen.add(name)
    assert seen == set(expected)


def test_only_allow_listed_files_are_served(assets: Path) -> None:
    client = _client(assets)
    for name in ("package.json", "package-lock.json", "explorer.html", "cytoscape%2Fpackage.json",
                 "..%2Fpyproject.toml", "node_modules"):  # fmt: skip
        assert client.get(f"/explorer/assets/{name}").status_code == 404, name


def test_demo_tokens_are_fetched_per_load_and_cannot_close_the_script(assets: Path) -> None:
    calls: list[int] = []

    def tokens() -> list[DemoToken]:
        calls.append(1)
        return [DemoToken("ncb-fr", f"{DEMO.token}{len(calls)}")]

    client = TestClient(Starlette(routes=routes("/graphql", tokens, assets)))
    html = client.get("/explorer").text
    config = _config(html)
    assert config["endpoint"] == "/graphql"
    assert "INVESTIGATION" in config["purposes"] and "ASYLUM_SCREENING" in config["purposes"]
    assert config["demoTokens"] == [{"agency": "ncb-fr", "token": f"{DEMO.token}1"}]
    assert html.count("</script>") == html.count("<script")
    assert "alert(1)</script>" not in html
    assert _config(client.get("/explorer").text)["demoTokens"][0]["token"].endswith("2")


def test_missing_assets_gives_503_naming_the_install_command(tmp_path: Path) -> None:
    response = _client(tmp_path / "does-not-exist").get("/explorer")
    assert response.status_code == 503
    assert INSTALL_COMMAND in response.text


def test_script_keeps_the_token_out_of_web_storage_and_data_out_of_html() -> None:
    js = (EXPLORER_DIR / "explorer.js").read_text()
    assert "setItem(" not in js and "localStorage." not in js and "sessionStorage." not in js
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, jwt_secret="s" * 40, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "served", "demo"),
    [
        ({"env": "development", "demo_tokens": True}, True, True),
        ({"env": "development"}, True, False),
        ({"env": "production", "jwks_url": "https://idp.invalid/jwks", "demo_tokens": True}, False, False),
        (
            {"env": "production", "jwks_url": "https://idp.invalid/jwks", "demo_tokens": True,
             "playground_switch": True},
            True, False,
        ),
    ],
    ids=["development", "development-without-demo-tokens", "production", "production-switched-on"],
)  # fmt: skip
def test_served_where_the_playground_is_and_demo_tokens_only_in_development(
    values: dict[str, Any], served: bool, demo: bool
) -> None:
    settings = _settings(**values)
    client = TestClient(gateway_app.create_app(settings), base_url="http://127.0.0.1")
    response = client.get("/explorer")
    assert response.status_code == (200 if served else 404)
    assert client.get("/playground").status_code == response.status_code
    if not served:
        return
    tokens = _config(response.text)["demoTokens"]
    assert bool(tokens) == demo
    for offered in tokens:  # each a real development token for the agency it names
        claims = jwt.decode(offered["token"], settings.dev_jwt_secret(), algorithms=["HS256"],
                            audience=settings.jwt_audience)  # fmt: skip
        assert claims["agency"] == offered["agency"]


# --- The page in Chromium ------------------------------------------------------------------

LINKS = """query($id: ID!) { links(personId: $id, depth: 1) {
  nodes { id familyName notices { type status } diffusions { status } } edges { source target kind } } }"""
PATH = """query($a: ID!, $b: ID!) { path(fromPersonId: $a, toPersonId: $b) { nodes { id } edges { source target kind } } }"""
NOTICE_ORDER = ["RED", "YELLOW", "BLUE", "BLACK", "GREEN", "ORANGE", "PURPLE", "UN_SPECIAL"]


def api(client: Client, query: str, variables: dict[str, Any], agency: str) -> dict[str, Any]:
    """The API's answer to this caller. A cold server on a loaded machine can spend longer than
    the gateway's query time limit planning a statement the first time: ask again then."""
    for _ in range(3):
        body = client.post(query, variables, agency).json()
        errors = body.get("errors") or []
        if not any("ran longer than" in e["message"] for e in errors):
            break
        time.sleep(1)
    assert not errors, errors
    return body["data"]  # type: ignore[no-any-return]


def expected_colour(person: dict[str, Any]) -> str:
    """The legend's rule, from what the API shows the caller: live notice type, then diffusion."""
    live = {n["type"] for n in person["notices"] if n["status"] in ("REQUESTED", "PUBLISHED")}
    for notice_type in NOTICE_ORDER:
        if notice_type in live:
            return f"notice-{notice_type.lower()}"
    if any(d["status"] == "ACTIVE" for d in person["diffusions"]):
        return "diffusion"
    return "inactive" if person["notices"] or person["diffusions"] else "none"


def edge_set(edges: list[Any]) -> set[tuple[frozenset[str], str]]:
    pairs = [(e["source"], e["target"], e["kind"]) if isinstance(e, dict) else tuple(e) for e in edges]
    return {(frozenset((a, b)), kind) for a, b, kind in pairs}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None or not (DEFAULT_ASSETS_DIR / CYTOSCAPE).is_file():
        pytest.skip(f"needs chromium (make setup) and the explorer assets ({INSTALL_COMMAND})")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Page:
    """One browser context on the explorer, with every non-loopback request aborted."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 720})
        self.outside: list[str] = []
        self.inside = 0  # requests that went through the interception to 127.0.0.1
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(m.text))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.goto(url)

    def _route(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            self.inside += 1
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def act(self, selector: str, done: str, timeout: float = 60) -> None:
        """Click, and wait until `done` holds (polled from Python: the page's CSP forbids the eval
        that Playwright's wait_for_function needs). A cold server on a loaded machine can exceed the
        gateway's query time limit the first time it plans a statement: the page then shows the
        error, and the user (this test) asks again; any other error fails the test."""
        for _ in range(3):
            self.page.click(selector)
            deadline = time.monotonic() + timeout
            while not self.js(f"window.explorer.idle() && ({done})"):
                if self.js(
                    "window.explorer.idle() && document.getElementById('status').classList.contains('error')"
                ):
                    error = self.page.inner_text("#status")
                    assert "ran longer than" in error, error
                    break
                assert time.monotonic() < deadline, f"not within {timeout} s: {done}"
                time.sleep(0.1)
            else:
                return
        raise AssertionError(f"the gateway ran out of time three times: {done}")

    def sign_in(self, agency: str, purpose: str = "INVESTIGATION") -> None:
        self.page.select_option("#demo-agency", agency)
        self.page.select_option("#purpose", purpose)
        self.act("#signin-button", "!document.getElementById('whoami').hidden")
        assert self.page.input_value("#token") == ""

    def draw(self, name: str, person_id: str) -> None:
        self.page.fill("#search-name", name)
        button = f"#results button[data-id='{person_id}']"
        self.act("#search button", f'document.querySelector("{button}") !== null')
        self.act(button, f"window.explorer.nodes().includes('{person_id}')")
        self.page.wait_for_selector("#panel-record section", timeout=60_000)

    def nodes(self) -> set[str]:
        return set(self.js("window.explorer.nodes()"))

    def close(self, screenshot: Path) -> None:
        self.page.screenshot(path=str(screenshot))
        stored = self.js("localStorage.length + sessionStorage.length")
        self.context.close()
        assert self.inside > 0, "the interception saw no request: it proves nothing"
        assert self.outside == [], "requests left 127.0.0.1"
        assert self.problems == [], "console errors (CSP violations, failed loads, exceptions)"
        assert stored == 0, "the page wrote to Web Storage"


def test_in_chromium_each_agency_sees_its_own_network_and_nothing_leaves_loopback(
    chromium: Any, gateway: GatewayProcess, client: Client, tmp_path: Path
) -> None:
    expected: dict[str, dict[str, Any]] = {
        agency: api(client, LINKS, {"id": "P-DEMO-003"}, agency)["links"] for agency in ("ncb-fr", "ncb-jp")
    }
    fr, jp = ({p["id"] for p in expected[a]["nodes"]} for a in ("ncb-fr", "ncb-jp"))
    assert fr != jp, "the rules should show these two NCBs different networks"
    for agency, graph in expected.items():
        page = Page(chromium, f"{gateway.url}/explorer")
        page.sign_in(agency)
        page.draw("Moreau", "P-DEMO-003")
        assert page.nodes() == {p["id"] for p in graph["nodes"]}, agency
        assert edge_set(page.js("window.explorer.edges()")) == edge_set(graph["edges"]), agency
        for person in graph["nodes"]:
            colour = page.js(f"window.explorer.colour('{person['id']}')")
            assert colour == expected_colour(person), person["id"]
        # The side panel shows the record as this caller reads it.
        me = next(p for p in graph["nodes"] if p["id"] == "P-DEMO-003")
        assert me["familyName"] in page.page.inner_text("#panel-title")
        # Other tests add notices to P-DEMO-003 with generated ids: count what the panel lists.
        shown = re.search(r"Notices \((\d+)\)", page.page.inner_text("#panel-record"))
        assert shown is not None and int(shown.group(1)) == len(me["notices"]), agency
        page.close(tmp_path / f"explorer-{agency}.png")


def test_in_chromium_every_expansion_is_audited_under_the_callers_name_and_purpose(
    chromium: Any, gateway: GatewayProcess, client: Client, tmp_path: Path
) -> None:
    page = Page(chromium, f"{gateway.url}/explorer")
    page.sign_in("ncb-fr", "IDENTIFICATION")
    page.draw("Moreau", "P-DEMO-003")
    page.close(tmp_path / "explorer-audit.png")
    query = """{ auditEvents(filter: {userId: "demo-ncb-fr", operation: "ExplorerLinks:links"}, first: 20) {
      edges { node { agencyId purpose ids } } } }"""
    deadline = time.monotonic() + 10  # the audit log commits in the background
    while True:
        events = [e["node"] for e in api(client, query, {}, "gs")["auditEvents"]["edges"]]
        if any(e["purpose"] == "IDENTIFICATION" and "Person:P-DEMO-003" in e["ids"] for e in events):
            break
        assert time.monotonic() < deadline, events
        time.sleep(0.2)
    assert {e["agencyId"] for e in events} == {"ncb-fr"}


def test_in_chromium_a_neighbourhood_beyond_the_batch_waits_behind_more(
    chromium: Any, gateway: GatewayProcess, client: Client, tmp_path: Path
) -> None:
    graph = api(client, LINKS, {"id": "P-DEMO-003"}, "ncb-jp")["links"]
    everyone = {p["id"] for p in graph["nodes"]}
    assert len(everyone) >= 3, "P-DEMO-003 needs two visible neighbours for ncb-jp"
    page = Page(chromium, f"{gateway.url}/explorer?batch=1")
    page.sign_in("ncb-jp")
    page.draw("P-DEMO-003", "P-DEMO-003")  # found by its id
    assert len(page.nodes()) == 2 and page.nodes() < everyone
    assert page.js("window.explorer.waiting('P-DEMO-003')") == len(everyone) - 2
    while page.js("window.explorer.waiting('P-DEMO-003')"):
        assert page.page.is_visible("#more")
        page.page.click("#more")
    assert page.nodes() == everyone
    assert not page.page.is_visible("#more")
    page.close(tmp_path / "explorer-more.png")


@pytest.mark.parametrize("agency", ["ncb-jp", "ncb-fr"])
def test_in_chromium_the_path_runs_through_visible_persons_only(
    chromium: Any, gateway: GatewayProcess, client: Client, tmp_path: Path, agency: str
) -> None:
    path = api(client, PATH, {"a": "P-DEMO-002", "b": "P-DEMO-004"}, agency)["path"]
    page = Page(chromium, f"{gateway.url}/explorer")
    page.sign_in(agency)
    page.page.fill("#path-from", "P-DEMO-002")
    page.page.fill("#path-to", "P-DEMO-004")
    page.act("#path-button", "document.getElementById('path-result').textContent !== ''")
    text = page.page.inner_text("#path-result")
    if path is None:
        assert text.startswith("No path") and page.nodes() == set()
    else:
        assert page.nodes() == {p["id"] for p in path["nodes"]}
        assert edge_set(page.js("window.explorer.edges()")) == edge_set(path["edges"])
        assert " \u2013 ".join(p["id"] for p in path["nodes"]) in text  # en dash, as shown
    page.close(tmp_path / f"explorer-path-{agency}.png")
