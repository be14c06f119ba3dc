"""The matching queue (apps.matching): ranking weights, waves, reach. The README explains each."""

from .env import env_int

# Score = Σ weight × component, each component in [0, 1] (see README "How candidates are ranked").
MATCHING_WEIGHTS = {
    "distance": env_int("MATCHING_WEIGHT_DISTANCE", 30),
    "skill": env_int("MATCHING_WEIGHT_SKILL", 15),
    "reliability": env_int("MATCHING_WEIGHT_RELIABILITY", 20),
    "rating": env_int("MATCHING_WEIGHT_RATING", 10),
    "fairness": env_int("MATCHING_WEIGHT_FAIRNESS", 15),
    "response": env_int("MATCHING_WEIGHT_RESPONSE", 10),
}
# A volunteer holding this many accepted (not yet completed) tasks gets no more offers.
MATCHING_OPEN_TASK_CAP = env_int("MATCHING_OPEN_TASK_CAP", 3)
# Auto mode: each wave offers to needed × factor volunteers; after this many waves (or with no
# candidates left) the reach widens once by the extra kilometres, then the request escalates.
MATCHING_WAVE_FACTOR = env_int("MATCHING_WAVE_FACTOR", 3)
MATCHING_MAX_WAVES = env_int("MATCHING_MAX_WAVES", 3)
MATCHING_WIDEN_KM = env_int("MATCHING_WIDEN_KM", 10)

# --- Ranking (apps.matching.selectors; README "How candidates are ranked") ----------------------
# Distance: same village 1, same township MATCHING_SAME_TOWNSHIP_SCORE, further away
# MATCHING_CITY_SCORE × half / (half + km), so 0.25 at MATCHING_DISTANCE_HALF_KM km.
MATCHING_SAME_TOWNSHIP_SCORE = 0.6
MATCHING_CITY_SCORE = 0.5
MATCHING_DISTANCE_HALF_KM = env_int("MATCHING_DISTANCE_HALF_KM", 5)
# Skill: serves the category and has one of its skills 1; only one of the two this much.
MATCHING_SKILL_ONLY_ONE_SCORE = 0.5
# Reliability and response speed look at the offers of the last N days; a volunteer with no
# history starts from a prior worth MATCHING_PRIOR_OFFERS offers kept at MATCHING_PRIOR_ACCEPT_RATE.
MATCHING_HISTORY_DAYS = env_int("MATCHING_HISTORY_DAYS", 90)
MATCHING_PRIOR_OFFERS = env_int("MATCHING_PRIOR_OFFERS", 5)
MATCHING_PRIOR_ACCEPT_RATE = 0.8
# Rating: Bayesian average, as if every volunteer had MATCHING_PRIOR_RATINGS more ratings of
# MATCHING_PRIOR_RATING stars.
MATCHING_PRIOR_RATINGS = env_int("MATCHING_PRIOR_RATINGS", 5)
MATCHING_PRIOR_RATING = 4.0
# Fairness: 1 / (1 + tasks / MATCHING_FAIRNESS_TASKS + hours / MATCHING_FAIRNESS_HOURS) over the
# last MATCHING_FAIRNESS_DAYS days.
MATCHING_FAIRNESS_DAYS = env_int("MATCHING_FAIRNESS_DAYS", 30)
MATCHING_FAIRNESS_TASKS = env_int("MATCHING_FAIRNESS_TASKS", 4)
MATCHING_FAIRNESS_HOURS = env_int("MATCHING_FAIRNESS_HOURS", 8)
# Response speed: half / (half + mean minutes from offer to answer); no answers yet: the prior.
MATCHING_RESPONSE_HALF_MINUTES = env_int("MATCHING_RESPONSE_HALF_MINUTES", 30)
MATCHING_RESPONSE_PRIOR = 0.5
# The counts behind those four components are kept per volunteer (apps.matching.history):
# recounted when one of their offers moves or is rated, and for everyone this often (seconds), so
# an offer leaves a window at most this late.
MATCHING_HISTORY_REFRESH_SECONDS = env_int("MATCHING_HISTORY_REFRESH_SECONDS", 3600)
# The narrow row per volunteer the ranking filters on (volunteers.MatchableVolunteer) follows every
# change made through the services at once; everything else (a place's coordinates, an edit
# outside the services) within this many seconds.
MATCHABLE_REFRESH_SECONDS = env_int("MATCHABLE_REFRESH_SECONDS", 600)
# Reasons: "响应快" at or under this mean; rates are shown from this many answers or ratings on.
MATCHING_FAST_RESPONSE_MINUTES = env_int("MATCHING_FAST_RESPONSE_MINUTES", 15)
MATCHING_REASON_MIN_HISTORY = env_int("MATCHING_REASON_MIN_HISTORY", 3)
# A request wanted "as soon as possible" (no window) is taken to need the next two hours; so is an
# accepted task without a window when checking overlaps.
MATCHING_ASAP_HOURS = env_int("MATCHING_ASAP_HOURS", 2)
# A window up to this long is a time to serve: the volunteer must be free in every slot it touches.
# A longer one is a range to choose from ("this weekend"): one free slot in it is enough.
MATCHING_EXACT_WINDOW_HOURS = env_int("MATCHING_EXACT_WINDOW_HOURS", 12)
# The age assumed for a volunteer whose birth date is not on file (registrations made by staff
# before birth dates were recorded: every sign-up and roster row carries one, and both refuse or
# flag minors). Such a volunteer passes categories whose minimum age is at most this.
MATCHING_UNKNOWN_BIRTH_DATE_AGE = env_int("MATCHING_UNKNOWN_BIRTH_DATE_AGE", 18)
