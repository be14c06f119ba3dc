from .env import env_bool, env_str

REST_FRAMEWORK = {
    # Token first: an anonymous call is then a 401 with ``WWW-Authenticate: Token`` (DRF takes
    # the header from the first class; session authentication has none and would make it a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    # A coarse flood guard per client address on the token endpoint, counted in the shared cache;
    # wrong passwords are limited far more tightly by the log-in lockout (settings/cache.py).
    "DEFAULT_THROTTLE_RATES": {"login": env_str("API_LOGIN_RATE", "30/min")},
    # Client address for the throttles: the last X-Forwarded-For entry behind the proxy, else
    # REMOTE_ADDR (never a client-supplied header).
    "NUM_PROXIES": 1 if env_bool("DJANGO_BEHIND_PROXY", False) else 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "涿州i志愿 API",
    "DESCRIPTION": (
        "群众点单、中心派单、志愿者接单、群众评单 — "
        "the service-request loop of Zhuozhou's civilization practice network."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "apps.service_requests.models.Status",
        "RequestChannelEnum": "apps.service_requests.models.Channel",
        "OfferStatusEnum": "apps.dispatch.models.OfferStatus",
        "OrgNodeKindEnum": "apps.organisation.models.OrgNode.Kind",
        "PlaceKindEnum": "apps.organisation.models.Place.Kind",
        "VolunteerApplicationStatusEnum": "apps.volunteers.models.ApplicationStatus",
        "FollowUpStatusEnum": "apps.ratings.models.FollowUpStatus",
        "MembershipStatusEnum": "apps.teams.models.MembershipStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.close_output_components",
    ],
}
