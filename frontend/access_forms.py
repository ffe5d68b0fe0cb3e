"""Forms of the governance pages: sharing requests and their decisions, audit filters, dataset rules."""

from __future__ import annotations

from django import forms

from access.choices import AuditAction, AuditSource
from access.services import MAX_DURATION_DAYS


class AccessRequestForm(forms.Form):
    group = forms.ChoiceField(label="For group", help_text="Access is given to groups, never to single people.")
    justification = forms.CharField(
        label="Why do you need it?", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    duration_days = forms.IntegerField(
        label="For how many days",
        min_value=1,
        max_value=MAX_DURATION_DAYS,
        required=False,
        help_text="Leave empty for access until it is revoked.",
    )

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(g.name, g.name) for g in groups]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("approve", "reject", "withdraw", "extend", "revoke")], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label="Comment", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    days = forms.IntegerField(label="Extend by days", min_value=1, max_value=MAX_DURATION_DAYS, required=False)


class AuditFilterForm(forms.Form):
    user = forms.CharField(label="User", max_length=150, required=False)
    asset = forms.IntegerField(label="Asset id", min_value=1, required=False)
    action = forms.ChoiceField(label="Action", choices=[("", "Any"), *AuditAction.choices], required=False)
    source = forms.ChoiceField(label="Source", choices=[("", "Any"), *AuditSource.choices], required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class RowRuleForm(forms.Form):
    column = forms.ChoiceField(label="Column")
    group = forms.ChoiceField(label="Group", required=False)
    allowed_values = forms.CharField(
        label="Allowed values", max_length=20000, required=False, help_text="Comma-separated values the group may see."
    )
    user_attribute = forms.CharField(
        label="Or: the reader's attribute",
        max_length=100,
        required=False,
        help_text="Instead of a group: rows whose column equals each reader's attribute (e.g. department).",
    )

    def __init__(self, *args, columns=(), groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [(c, c) for c in columns]
        self.fields["group"].choices = [("", "—"), *((g.name, g.name) for g in groups)]

    def values(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_values") or ""
        return [v.strip() for v in raw.split(",") if v.strip()]


class ColumnRuleForm(forms.Form):
    column = forms.ChoiceField(label="Column")
    group = forms.ChoiceField(label="Hidden from group")

    def __init__(self, *args, columns=(), groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [(c, c) for c in columns]
        self.fields["group"].choices = [(g.name, g.name) for g in groups]
