"""Forms of the web UI: they validate what people type before a selector or service sees it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

QUERY_MAX_LENGTH = 500


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match an account. Check both (they are case-sensitive) "
        "and try again.",
        "inactive": "This account is disabled. Ask an administrator to enable it.",
    }


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search the catalog",
        required=False,
        max_length=QUERY_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Names, descriptions, columns, tags"}),
        error_messages={"max_length": "The search is too long: use at most %(limit_value)d characters."},
    )


class StaleReportForm(forms.Form):
    days = forms.IntegerField(
        label="Not updated for (days)",
        min_value=0,
        max_value=36500,
        error_messages={"invalid": "Enter a whole number of days, for example 90."},
    )
