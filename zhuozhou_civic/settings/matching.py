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
