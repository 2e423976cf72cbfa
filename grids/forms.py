from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import login_throttle


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "inputmode": "tel"}
        ),
    )
    error_messages = {
        "invalid_login": _("手机号（用户名）或密码不正确，请重新输入。"),
        "inactive": _("该账号已停用，请联系村委会。"),
        "locked": _("登录失败次数过多，已暂时锁定15分钟。请稍后再试，或联系村委会重置密码。"),
    }

    def clean(self):
        login = (self.cleaned_data.get("username") or "").strip()
        address = login_throttle.client_address(self.request) if self.request else "unknown"
        if login_throttle.is_locked(login=login, address=address):
            raise ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            login_throttle.record_failure(login=login, address=address)
            raise
        login_throttle.record_success(login=login)
        return cleaned


class RepresentativePasswordForm(forms.Form):
    """村里设置初始密码: staff type a first password for a representative's phone login."""

    password1 = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不能全是数字，不能和手机号、姓名相近。代表首次登录后须自己修改。"),
    )
    password2 = forms.CharField(
        label=_("再次输入初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("两次输入的密码不一致"))
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
