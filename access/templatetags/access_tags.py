from django import template

from access.selectors import notification_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """How many unread notifications the signed-in user has (the badge in the navigation)."""
    request = context.get("request")
    return notification_unread_count(user=request.user) if request is not None else 0


@register.simple_tag
def sso_enabled() -> bool:
    """Whether the sign-in page offers single sign-on (OpenID Connect is configured)."""
    from access.oidc import sso_enabled as enabled

    return enabled()
