from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class PhoneOrUsernameBackend(ModelBackend):
    """Representatives type their phone number; staff may type a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        login = username.strip()
        user_model = get_user_model()
        user = user_model.objects.filter(Q(username=login) | Q(phone=login)).order_by("pk").first()
        if user is None:
            # Run the hasher anyway so that a missing account takes as long as a wrong password.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
