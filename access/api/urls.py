from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("grants", views.GrantViewSet, basename="grant")
router.register("audit", views.AuditEventViewSet, basename="audit")
router.register("access-requests", views.AccessRequestViewSet, basename="access-request")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="me"),
    path("auth/token/", obtain_auth_token, name="auth-token"),
    path("notifications/read/", views.NotificationReadApi.as_view(), name="notifications-read"),
    path("entitlements/groups/<str:name>/", views.GroupEntitlementsApi.as_view(), name="entitlements-group"),
    path("entitlements/assets/<int:pk>/", views.AssetEntitlementsApi.as_view(), name="entitlements-asset"),
    *router.urls,
]
