from django.contrib import admin

from .models import Alert, AlertSchedule, Evaluation, Notification


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "dataset", "condition", "threshold", "status", "state", "last_evaluated_at"]
    list_filter = ["status", "state", "frequency"]
    raw_id_fields = ["owner", "visual", "dataset"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["alert", "evaluated_at", "dataset_version", "value", "state"]
    raw_id_fields = ["alert"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["alert", "kind", "to_email", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["alert", "evaluation"]


@admin.register(AlertSchedule)
class AlertScheduleAdmin(admin.ModelAdmin):
    list_display = ["dataset", "interval", "minute_of_day", "time_zone", "next_run_at"]
    raw_id_fields = ["dataset"]
