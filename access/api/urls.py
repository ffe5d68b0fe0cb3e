from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("grants", views.GrantViewSet, basename="grant")

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="me"),
    path("auth/token/", obtain_auth_token, name="auth-token"),
    *router.urls,
]
