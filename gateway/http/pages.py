"""What the gateway's own browser pages (the playground and the explorer) share: their
security headers, and JSON that is safe inside a ``<script>`` element. Both pages are served
offline from the gateway, load nothing from elsewhere and may hold a bearer token."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

# Versioned asset URLs (``?v=…``) change with their content, so assets may be cached for good.
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


def page_headers(csp: str) -> dict[str, str]:
    """A page that holds bearer tokens and shows personal data: never cached, framed or referred."""
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",  # frame-ancestors' counterpart for older browsers
    }


def content_security_policy(endpoint: str, *, style_src: str = "'self'", fonts: bool = False) -> str:
    """Scripts and styles from the gateway only; fetches to the GraphQL endpoint only."""
    connect = "'self'"
    parts = urlsplit(endpoint)
    if parts.scheme and parts.netloc:  # an endpoint on another origin must be allowed to fetch
        connect += f" {parts.scheme}://{parts.netloc}"
    directives = ["default-src 'none'", "script-src 'self'", f"style-src {style_src}"]
    if fonts:
        directives.append("font-src 'self' data:")
    directives += [
        "img-src 'self' data:",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def script_json(value: object) -> str:
    """JSON for a ``<script type="application/json">`` element."""
    # A "</script>" (or "<!--") in any string would end the element early; \u003c etc. are
    # equivalent JSON, so escape every <, > and & instead of just "</".
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
