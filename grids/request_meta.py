"""Facts about the request that a proxy in front of the app changes (the client's address)."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The address of the browser that sent ``request``.

    Behind nginx every request comes from the proxy's address; the browser's is in
    X-Forwarded-For, where each proxy appends the address it received the request from. Only the
    last ``TRUSTED_PROXY_COUNT`` entries were written by our own proxies; anything to their left
    was sent by the client and may be forged. With no trusted proxy (the default) the header is
    ignored, so that nobody can pick the address their login failures are counted against.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted:
        # The request did not pass through every proxy (someone reached the app directly).
        return remote
    candidate = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
