"""Forms of the web UI: they validate what people type before a selector or service sees it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from catalog.models import Customer

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


class _PreviewThenConfirm(forms.Form):
    """A write shown as a dry run first: the preview button (also the default on Enter) never changes anything."""

    PREVIEW = "preview"
    CONFIRM = "confirm"

    action = forms.ChoiceField(choices=[(PREVIEW, "Preview"), (CONFIRM, "Confirm")], required=False)

    @property
    def confirmed(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("action") == self.CONFIRM


class ReleaseForm(_PreviewThenConfirm):
    description = forms.CharField(
        label="What changed in this version",
        max_length=5000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Say what changed in this release; customers' owners read it.",
            "max_length": "Keep the description to at most %(limit_value)d characters.",
        },
    )
    force = forms.BooleanField(
        label="Release anyway: repoint the assets whose datasets do not fit the template",
        required=False,
    )


class ForkForm(_PreviewThenConfirm):
    customer = forms.ModelChoiceField(
        label="Customer",
        queryset=Customer.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Choose a customer",
        error_messages={
            "required": "Choose the customer to fork the analysis for.",
            "invalid_choice": "That customer does not exist (any more); choose one from the list.",
        },
    )
    name = forms.CharField(
        label="Name of the fork (optional)",
        required=False,
        max_length=300,
        strip=True,
        help_text="Left empty, the fork is named after the analysis and the customer.",
        error_messages={"max_length": "Keep the name to at most %(limit_value)d characters."},
    )
