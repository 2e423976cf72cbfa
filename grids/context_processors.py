from .access import scope_of


def user_scope(request):
    return {"user_scope": scope_of(getattr(request, "user", None))}
