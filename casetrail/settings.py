"""Django settings, all read from the environment through casetrail.env.

With nothing set, Casetrail runs in development mode on an embedded SQLite database.
With CASETRAIL_ENV=production it refuses to start unless the secrets it needs are set.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from casetrail.core.safeguard_policy import DEFAULT_POLICY
from casetrail.env import database_from_url, env_bool, env_int, env_list, env_str, oidc_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENT = env_str("CASETRAIL_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    SECRET_KEY = env_str("CASETRAIL_SECRET_KEY")
    ALLOWED_HOSTS = env_list("CASETRAIL_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        from casetrail.env import MissingSetting

        raise MissingSetting("CASETRAIL_ALLOWED_HOSTS must list the site's host names in production.")
    DEBUG = False
else:
    SECRET_KEY = env_str("CASETRAIL_SECRET_KEY", "development-only-not-secret-" + "x" * 32)
    ALLOWED_HOSTS = env_list("CASETRAIL_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    DEBUG = env_bool("CASETRAIL_DEBUG", False)

VAR_DIR = Path(env_str("CASETRAIL_VAR_DIR", str(BASE_DIR / "var")))
DATABASES = {
    "default": database_from_url(
        env_str("CASETRAIL_DATABASE_URL", f"sqlite:///{VAR_DIR / 'casetrail.sqlite3'}"), BASE_DIR
    ).as_django()
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "mozilla_django_oidc",
    "django_tasks",
    "django_tasks_db",
    "casetrail.accounts",
    "casetrail.audit",
    "casetrail.people",
    "casetrail.referrals",
    "casetrail.providers",
    "casetrail.cases",
    "casetrail.retention",
    "casetrail.notifications",
    "casetrail.rights",
    "casetrail.demo",
    "casetrail.replay",
    "casetrail.web",
    "casetrail.api",
    "casetrail.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /healthz is answered here, before sessions and sign-in: a check reads one row and writes nothing.
    "casetrail.web.middleware.HealthCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "casetrail.web.middleware.RequestIdMiddleware",
    "casetrail.web.middleware.ApiJsonErrorsMiddleware",
    "casetrail.web.middleware.SecondFactorMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casetrail.urls"
WSGI_APPLICATION = "casetrail.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "casetrail" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casetrail.web.context_processors.navigation",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:my-work"
LOGOUT_REDIRECT_URL = "web:sign-in"

# ---------------------------------------------------------------- signing in (docs/security.md)
# django-axes checks for a lockout before any other backend runs; OIDC joins when configured.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Second factor: everyone with a staff role (anyone but a pure referrer) must enrol and use a
# TOTP app; casetrail.web.middleware.SecondFactorMiddleware enforces it on every page.
CASETRAIL_REQUIRE_SECOND_FACTOR = env_bool("CASETRAIL_REQUIRE_SECOND_FACTOR", True)
OTP_TOTP_ISSUER = env_str("CASETRAIL_TOTP_ISSUER", "Casetrail" if PRODUCTION else f"Casetrail ({ENVIRONMENT})")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret
OTP_TOTP_THROTTLE_FACTOR = 1  # waits of 1, 2, 4, 8... seconds after each wrong code

# Lockout (django-axes): this many failures for one username from one address lock that pair.
AXES_FAILURE_LIMIT = env_int("CASETRAIL_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CASETRAIL_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "casetrail.web.auth_views.locked_out"  # the GOV.UK lockout page
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "casetrail.accounts.lockout.client_label"  # logs carry no usernames
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code", "csrfmiddlewaretoken"]
# Behind N trusted proxies the client's address is the Nth from the right of X-Forwarded-For.
CASETRAIL_PROXY_COUNT = env_int("CASETRAIL_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "casetrail.accounts.lockout.client_ip"

# Re-authentication: exports and disclosures (casetrail.web.auth_views.reauthenticated) ask for
# the password (and code) again unless the person proved who they are this recently.
CASETRAIL_REAUTHENTICATE_SECONDS = env_int("CASETRAIL_REAUTHENTICATE_SECONDS", 5 * 60)

# API tokens expire; `issue_api_token --days` chooses a shorter or longer life per token.
CASETRAIL_API_TOKEN_DAYS = env_int("CASETRAIL_API_TOKEN_DAYS", 90)

# Single sign-on through an organisation's own OpenID Connect provider (mozilla-django-oidc),
# only when configured. People are matched by email to existing Casetrail users: the provider
# proves who someone is, Casetrail alone decides their agency and roles.
_OIDC = oidc_from_env()
CASETRAIL_OIDC_ENABLED = _OIDC is not None
OIDC_RP_CLIENT_ID = _OIDC.client_id if _OIDC else ""
OIDC_RP_CLIENT_SECRET = _OIDC.client_secret if _OIDC else ""
OIDC_OP_AUTHORIZATION_ENDPOINT = _OIDC.authorization_endpoint if _OIDC else ""
OIDC_OP_TOKEN_ENDPOINT = _OIDC.token_endpoint if _OIDC else ""
OIDC_OP_USER_ENDPOINT = _OIDC.userinfo_endpoint if _OIDC else ""
OIDC_OP_JWKS_ENDPOINT = _OIDC.jwks_endpoint if _OIDC else ""
OIDC_RP_SIGN_ALGO = _OIDC.sign_algo if _OIDC else "RS256"
CASETRAIL_OIDC_EMAIL_DOMAINS = _OIDC.email_domains if _OIDC else ()
OIDC_RP_SCOPES = "openid email"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "web:oidc-callback"
LOGIN_REDIRECT_URL_FAILURE = "/sign-in?organisation=failed"
if CASETRAIL_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("casetrail.accounts.oidc.CasetrailOIDCBackend")

# Sessions end after this long without a request: every request saves the session, pushing
# its expiry (in the cookie and in the database) this far ahead again.
SESSION_COOKIE_AGE = env_int("CASETRAIL_SESSION_IDLE_SECONDS", env_int("CASETRAIL_SESSION_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "casetrail.web.auth_views.csrf_failure"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("CASETRAIL_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

# GOV.UK Frontend's precompiled CSS refers to /assets/..., so static files live there.
STATIC_URL = "/assets/"
STATIC_ROOT = Path(env_str("CASETRAIL_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "casetrail" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Attachments are stored outside the web root and only served through an access-checked view.
MEDIA_ROOT = Path(env_str("CASETRAIL_UPLOAD_DIR", str(VAR_DIR / "uploads")))
# The person-linkage model `linkage_train` writes and matching reads (docs/linkage.md); until it
# exists, the model shipped with Casetrail (trained on a synthetic population) is used.
CASETRAIL_LINKAGE_MODEL = Path(env_str("CASETRAIL_LINKAGE_MODEL", str(VAR_DIR / "linkage" / "model.json")))
MAX_ATTACHMENT_BYTES = env_int("CASETRAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": env_str(
            "CASETRAIL_TASKS_BACKEND",
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("CASETRAIL_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend",
        )
    }
}

EMAIL_BACKEND = env_str("CASETRAIL_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("CASETRAIL_FROM_EMAIL", "casetrail@localhost")

# Notifications (casetrail.notifications): sent by the task worker through Django's email
# backend above ("email") or GOV.UK Notify ("notify"); links in them point at CASETRAIL_BASE_URL.
CASETRAIL_BASE_URL = env_str("CASETRAIL_BASE_URL", "http://127.0.0.1:8000")
CASETRAIL_NOTIFICATIONS_BACKEND = env_str("CASETRAIL_NOTIFICATIONS_BACKEND", "email")
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY", "")
NOTIFY_TEMPLATE_ID = env_str("NOTIFY_TEMPLATE_ID", "")
if CASETRAIL_NOTIFICATIONS_BACKEND not in {"email", "notify"}:
    from casetrail.env import MissingSetting

    raise MissingSetting("CASETRAIL_NOTIFICATIONS_BACKEND must be 'email' or 'notify'.")
if CASETRAIL_NOTIFICATIONS_BACKEND == "notify" and not (NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID):
    from casetrail.env import MissingSetting

    raise MissingSetting("The notify backend needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID to be set.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "casetrail.web.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "casetrail.web.logging.RequestIdFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("CASETRAIL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": env_str("CASETRAIL_ACCESS_LOG_LEVEL", "INFO")},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# The safeguards' intervals and counts: documented defaults in casetrail/core/safeguard_policy.py,
# overridden here by a JSON object, e.g. CASETRAIL_SAFEGUARD_POLICY='{"minimum_support_days": 120}'.
# A bad value stops the process at start-up rather than running with a policy nobody chose.
CASETRAIL_SAFEGUARD_POLICY = json.loads(env_str("CASETRAIL_SAFEGUARD_POLICY", "{}") or "{}")
if not isinstance(CASETRAIL_SAFEGUARD_POLICY, dict):
    raise ImproperlyConfigured("CASETRAIL_SAFEGUARD_POLICY must be a JSON object")
try:
    _SAFEGUARD_POLICY_CHECK = DEFAULT_POLICY.with_overrides(CASETRAIL_SAFEGUARD_POLICY)
except ValueError as problem:
    raise ImproperlyConfigured(str(problem)) from None

# Retention review periods by outcome class: documented defaults and sources in
# casetrail/core/retention.py (docs/retention.md), overridden by a JSON object, e.g.
# CASETRAIL_RETENTION_POLICY='{"no_further_action_years": 5}'. A bad value stops start-up.
CASETRAIL_RETENTION_POLICY = json.loads(env_str("CASETRAIL_RETENTION_POLICY", "{}") or "{}")
if not isinstance(CASETRAIL_RETENTION_POLICY, dict):
    raise ImproperlyConfigured("CASETRAIL_RETENTION_POLICY must be a JSON object")
try:
    from casetrail.core.retention import DEFAULT_RETENTION_POLICY

    DEFAULT_RETENTION_POLICY.with_overrides(CASETRAIL_RETENTION_POLICY)
except ValueError as problem:
    raise ImproperlyConfigured(str(problem)) from None
