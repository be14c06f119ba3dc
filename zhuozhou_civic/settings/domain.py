from .env import env_int

# How long a volunteer has to answer an offer, by request urgency (minutes).
OFFER_EXPIRY_MINUTES = {
    "normal": env_int("OFFER_EXPIRY_MINUTES_NORMAL", 120),
    "urgent": env_int("OFFER_EXPIRY_MINUTES_URGENT", 30),
    "critical": env_int("OFFER_EXPIRY_MINUTES_CRITICAL", 10),
}
# A request still waiting in the queue this long after it was submitted escalates to the centre.
ESCALATE_AFTER_MINUTES = {
    "normal": env_int("ESCALATE_AFTER_MINUTES_NORMAL", 24 * 60),
    "urgent": env_int("ESCALATE_AFTER_MINUTES_URGENT", 120),
    "critical": env_int("ESCALATE_AFTER_MINUTES_CRITICAL", 30),
}
# A completed request nobody rated closes after this many days, without inventing a rating.
UNRATED_CLOSE_AFTER_DAYS = env_int("UNRATED_CLOSE_AFTER_DAYS", 7)
# A follow-up case (回访) opened by a low rating, a complaint or a routine sample is due this
# many hours after it opened; past that, the sweep escalates it to the centre.
FOLLOW_UP_DUE_HOURS = env_int("FOLLOW_UP_DUE_HOURS", 48)
