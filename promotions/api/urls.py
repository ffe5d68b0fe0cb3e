from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("promotions", views.PromotionViewSet, basename="promotion")
router.register("environment-policies", views.EnvironmentPolicyViewSet, basename="environment-policy")

urlpatterns = [
    path("promotions/<int:pk>/approve/", views.PromotionApproveApi.as_view(), name="promotion-approve"),
    path("promotions/<int:pk>/execute/", views.PromotionExecuteApi.as_view(), name="promotion-execute"),
    path("promotions/<int:pk>/rollback/", views.PromotionRollbackApi.as_view(), name="promotion-rollback"),
    path("promotions/<int:pk>/bundle/", views.PromotionBundleApi.as_view(), name="promotion-bundle"),
    path(
        "promotions/<int:pk>/cloudformation/",
        views.PromotionCloudFormationApi.as_view(),
        name="promotion-cloudformation",
    ),
    path("promotion-requests/", views.PromotionRequestApi.as_view(), name="promotion-requests"),
    path("assets/<int:pk>/environments/", views.AssetEnvironmentsApi.as_view(), name="asset-environments"),
    *router.urls,
]
