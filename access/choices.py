from django.db import models


class Permission(models.TextChoices):
    VIEW = "view", "View"
    EDIT = "edit", "Edit"
