"""The dispatch dashboard and evaluation (apps.dashboard). The README explains each."""

from .env import env_int

# The live board asks for its new state this often (seconds).
DASHBOARD_BOARD_REFRESH_SECONDS = env_int("DASHBOARD_BOARD_REFRESH_SECONDS", 10)
# A waiting request turns amber at this share of its urgency's limit, red at the limit itself.
DASHBOARD_SLA_AMBER_SHARE = 0.5
# The longest period a KPI query may cover (days): three years.
DASHBOARD_MAX_PERIOD_DAYS = env_int("DASHBOARD_MAX_PERIOD_DAYS", 3 * 366)
# Satisfaction with a prior: (C × m + Σ scores) / (C + n), m the city's average in the period.
SATISFACTION_PRIOR_WEIGHT = env_int("SATISFACTION_PRIOR_WEIGHT", 5)
# The prior's mean when the city has no rating at all in the period.
SATISFACTION_PRIOR_DEFAULT = 4.0
# Commendation shortlist (表彰推荐): at least this many completed tasks in the month / year,
# no complaint, and the top this-many by satisfaction with the prior.
COMMEND_MIN_TASKS_MONTH = env_int("COMMEND_MIN_TASKS_MONTH", 3)
COMMEND_MIN_TASKS_YEAR = env_int("COMMEND_MIN_TASKS_YEAR", 12)
COMMEND_SHORTLIST = env_int("COMMEND_SHORTLIST", 10)
