"""Forms of the web UI: they validate what people type before a selector or service sees it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from alerts.choices import Condition, Frequency, Period, Status
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


YES_NO = [("yes", "Yes"), ("no", "No")]


class AlertForm(forms.Form):
    """An alert's settings. clean() drops what does not apply (a tolerance unless the condition is "is equal to"), so
    the service sees only settings that belong together. The period is asked only for a cell of a dated visual."""

    name = forms.CharField(
        label="Name",
        max_length=300,
        strip=True,
        error_messages={
            "required": "Give the alert a name; it is the subject of its emails.",
            "max_length": "Keep the name to at most %(limit_value)d characters.",
        },
    )
    condition = forms.ChoiceField(label="Alert me when the value", choices=Condition.choices, initial=Condition.ABOVE)
    threshold = forms.DecimalField(
        label="Threshold",
        max_digits=24,
        decimal_places=6,
        error_messages={
            "required": "Enter the threshold the value is compared with.",
            "invalid": "Enter the threshold as a number, for example 200 or -0.5.",
            "max_decimal_places": "Use at most %(max)s decimal places.",
            "max_digits": "Use at most %(max)s digits.",
        },
    )
    tolerance = forms.DecimalField(
        label="Tolerance",
        required=False,
        min_value=0,
        max_digits=24,
        decimal_places=6,
        help_text="Only for “is equal to”: how far from the threshold still counts as equal.",
        error_messages={
            "invalid": "Enter the tolerance as a number, for example 0.005.",
            "min_value": "The tolerance cannot be negative.",
            "max_decimal_places": "Use at most %(max)s decimal places.",
        },
    )
    frequency = forms.ChoiceField(label="Notification frequency", choices=Frequency.choices, initial=Frequency.DAILY)
    notify_no_data = forms.TypedChoiceField(
        label="Email me when there is no data",
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="no",
    )
    period = forms.ChoiceField(label="Which period to track", choices=Period.choices, initial=Period.FIXED)

    def __init__(self, *args, periods: bool = False, clicked_period: str = "", **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not periods:
            del self.fields["period"]
        elif clicked_period:
            self.fields["period"].choices = [
                (value, f"{label} ({clicked_period})" if value == Period.FIXED else label)
                for value, label in Period.choices
            ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("condition") != Condition.EQUAL:
            data["tolerance"] = None
        return data

    def settings(self) -> dict:
        """The cleaned settings as keyword arguments of alerts.services (alert_create, alert_update)."""
        names = ["name", "condition", "threshold", "tolerance", "frequency", "notify_no_data", "period"]
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


class AlertCreateForm(AlertForm):
    key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=5000,
        error_messages={"required": "Click the cell to set the alert on again."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Left empty, the alert is named after the visual."


class AlertStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(Status.ACTIVE, "Turn on"), (Status.DISABLED, "Turn off")])


class AlertPaneForm(forms.Form):
    asset = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
