"""Keep a user with an initial password on the password change page until they choose their own."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

# What a user who must change their password may still open.
ALLOWED_URL_NAMES = {
    "password_change",
    "password_change_done",
    "logout",
    "logout_everywhere",
    "set_language",
    "healthz",
}


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "password_must_change", False)
            and not self._allowed(request.path_info)
        ):
            messages.warning(
                request, _("这是村里为您设置的初始密码，请先设置一个只有您知道的新密码。")
            )
            return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        for prefix in (settings.STATIC_URL, settings.MEDIA_URL):
            if prefix and path.startswith(prefix):
                return True
        try:
            match = resolve(path)
        except Resolver404:
            return True  # a 404 page shows nothing
        return match.view_name in ALLOWED_URL_NAMES
