from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import CodeTokenView, MeView, PasswordResetView, RegisterView, SmsCodeView, TokenView
from apps.dashboard.api import dashboard_api_paths
from apps.dispatch.api import OfferViewSet
from apps.matching.api_staff import staff_api_paths
from apps.matching.api_volunteer import volunteer_api_paths
from apps.notifications.api import NotificationViewSet
from apps.organisation.api import CategoryViewSet, PlaceViewSet
from apps.ratings.api import FollowUpViewSet
from apps.teams.api import MembershipViewSet, TeamViewSet
from apps.volunteers.api import VolunteerApplicationViewSet, VolunteerViewSet, own_paths
from apps.workflow.api import RequestViewSet

router = DefaultRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("places", PlaceViewSet, basename="place")
router.register("requests", RequestViewSet, basename="request")
router.register("offers", OfferViewSet, basename="offer")
router.register("volunteers", VolunteerViewSet, basename="volunteer")
router.register("volunteer-applications", VolunteerApplicationViewSet, basename="volunteer-application")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("teams", TeamViewSet, basename="team")
router.register("team-memberships", MembershipViewSet, basename="team-membership")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/sms-code/", SmsCodeView.as_view(), name="sms_code"),
    path("auth/sms-token/", CodeTokenView.as_view(), name="sms_token"),
    path("auth/register/", RegisterView.as_view(), name="register"),
    path("auth/password-reset/", PasswordResetView.as_view(), name="password_reset"),
    path("me/", MeView.as_view(), name="me"),
    *own_paths,
    *staff_api_paths,
    *volunteer_api_paths,
    *dashboard_api_paths,
    *router.urls,
]
