from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("relationships", views.RelationshipViewSet, basename="relationship")

urlpatterns = [
    path(
        "assets/<int:pk>/recommendations/",
        views.RecommendationListApi.as_view(),
        name="asset-recommendations",
    ),
    path(
        "assets/<int:pk>/recommendations/refresh/",
        views.RecommendationRefreshApi.as_view(),
        name="asset-recommendations-refresh",
    ),
    path("assets/<int:pk>/enriched-view/", views.EnrichedViewApi.as_view(), name="asset-enriched-view"),
    path(
        "recommendations/<int:pk>/feedback/", views.RecommendationFeedbackApi.as_view(), name="recommendation-feedback"
    ),
    path("recommendation-runs/<int:pk>/", views.RecommendationRunApi.as_view(), name="recommendation-run"),
    *router.urls,
]
