"""Every write to a volunteer's registration: sign-up, review (实名核验, 志愿服务条例 Art. 7),
resubmission, the volunteer's own changes, pause and resume, leaving the platform (PIPL Art. 47)
and the audited reveal of an ID number (PIPL Art. 28).

Status changes go through :func:`_move`, a conditional UPDATE on id and expected status (see
``APPLICATION_TRANSITIONS``): a lost race changes nothing and raises :class:`Conflict` (HTTP 409).
Every step writes one :class:`VolunteerEvent`."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, LPad
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.accounts.phones import validate_contact_phone, validate_mobile
from apps.core.errors import Conflict, DomainError, Forbidden, NotFound
from apps.core.reasons import Reason
from apps.core.text import clean_text
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import Place, ServiceCategory

from . import selectors
from .identity import ADULT_AGE, MIN_AGE, IdDocument, age_on, id_digest, parse_id
from .matchable import matchable_refresh
from .models import (
    ALL_WEEK,
    APPLICATION_TRANSITIONS,
    ApplicationStatus,
    Gender,
    IdReveal,
    IdType,
    PoliticalStatus,
    Skill,
    VolunteerEvent,
    VolunteerProfile,
)

# Messages the pages and the API show as they are.
DUPLICATE_ID = gettext_lazy("该证件号码已注册志愿者。如有疑问，请联系所在村（社区）新时代文明实践站。")
TOO_YOUNG = gettext_lazy("未满%(age)d周岁不能自行注册志愿者，请由监护人陪同到所在村（社区）新时代文明实践站办理。")
LEFT_NAME = "已注销用户"
MAX_RADIUS_KM = 50
REASON_MAX = 200


def assign_volunteer_number(profile: VolunteerProfile) -> None:
    """Give the profile its platform number ``ZZV`` + the row id in 7 digits, in SQL, so that
    concurrent approvals cannot collide."""
    VolunteerProfile.objects.filter(id=profile.id, volunteer_number__isnull=True).update(
        volunteer_number=Concat(Value("ZZV"), LPad(Cast(F("id"), output_field=CharField()), 7, Value("0")))
    )
    profile.volunteer_number = VolunteerProfile.objects.values_list("volunteer_number", flat=True).get(id=profile.id)


def volunteer_register(
    *,
    user: User,
    home_township: Place,
    home_village: Place | None,
    categories: list[ServiceCategory],
    verified: bool = False,
) -> VolunteerProfile:
    """Create the volunteer profile of an existing user with the dispatch fields only (demo data,
    tests). ``verified`` makes it an approved registration with its platform number at once;
    otherwise it waits for review."""
    with transaction.atomic():
        now = timezone.now()
        profile = VolunteerProfile.objects.create(
            user=user,
            home_township=home_township,
            home_village=home_village,
            is_verified=verified,
            status=ApplicationStatus.APPROVED if verified else ApplicationStatus.PENDING,
            submitted_at=now,
            reviewed_at=now if verified else None,
        )
        if verified:
            assign_volunteer_number(profile)
        profile.categories.set(categories)
        matchable_refresh(volunteer_ids=[profile.id])
    return profile


# --- What an applicant fills in -----------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    """A sign-up form as typed. ``gender`` and ``birth_date`` are read only for a passport (the
    other documents carry them in the number). On a resubmission an empty ``id_number`` keeps
    the document already on file."""

    name: str
    id_type: str
    id_number: str
    village: Place
    categories: Sequence[ServiceCategory]
    availability: int
    privacy_consent: bool
    gender: str = ""
    birth_date: date | None = None
    service_radius_km: int = 5
    skills: Sequence[str] = ()
    political_status: str = ""
    occupation: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False
    public_name_consent: bool = False

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "ApplicationInput":
        """From a validated form's or serializer's data; keys that are not fields are ignored."""
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


@dataclass(frozen=True)
class ProfileInput:
    """What a registered volunteer may change on their own page (not their name or document)."""

    village: Place
    categories: Sequence[ServiceCategory]
    availability: int
    service_radius_km: int = 5
    skills: Sequence[str] = ()
    political_status: str = ""
    occupation: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    public_name_consent: bool = False
    # None: left as it is (registration does not ask it); the profile page and the API send it.
    share_phone_with_residents: bool | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "ProfileInput":
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def _error(errors: dict[str, list[ValidationError]], field: str, message: object, code: str) -> None:
    errors.setdefault(field, []).append(ValidationError(str(message), code=code))


def check_identity(
    *,
    id_type: str,
    id_number: str,
    gender: str = "",
    birth_date: date | None = None,
    guardian_name: str = "",
    guardian_phone: str = "",
    guardian_consent: bool = False,
    today: date | None = None,
) -> IdDocument:
    """The document as the law needs it (志愿服务条例 Art. 7, 15): a valid number, a birth date
    and gender (from the number; typed for a passport), at least :data:`MIN_AGE` years old, and
    for a minor a guardian's name, mobile and consent. Raises ``ValidationError`` with the
    messages by field (``id_number``, ``gender``, ``birth_date``, ``guardian_*``)."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        document = parse_id(id_type, id_number)
    except ValidationError as exc:
        field = "id_type" if exc.code == "id_type" else "id_number"
        raise ValidationError({field: [exc]}) from None
    today = today or timezone.localdate()
    if id_type == IdType.PASSPORT:
        if gender not in Gender.values:
            _error(errors, "gender", _("请选择性别。"), "gender_required")
        if birth_date is None:
            _error(errors, "birth_date", _("请填写出生日期。"), "birth_date_required")
        elif birth_date > today or birth_date.year < 1900:
            _error(errors, "birth_date", _("出生日期不正确，请核对。"), "id_birth_date")
        if errors:
            raise ValidationError(errors)
        document = IdDocument(id_type=id_type, number=document.number, birth_date=birth_date, gender=gender)
    assert document.birth_date is not None
    age = age_on(document.birth_date, today)
    birth_field = "birth_date" if id_type == IdType.PASSPORT else "id_number"
    if age < MIN_AGE:
        raise ValidationError({birth_field: [ValidationError(str(TOO_YOUNG % {"age": MIN_AGE}), code="too_young")]})
    if age < ADULT_AGE:
        if not guardian_name.strip():
            _error(errors, "guardian_name", _("未满18周岁须填写监护人姓名。"), "guardian_required")
        if not guardian_phone.strip():
            _error(errors, "guardian_phone", _("未满18周岁须填写监护人手机号。"), "guardian_required")
        else:
            try:
                validate_mobile(guardian_phone)
            except ValidationError as exc:
                errors.setdefault("guardian_phone", []).append(exc)
        if not guardian_consent:
            _error(errors, "guardian_consent", _("未满18周岁须经监护人同意后才能注册。"), "guardian_required")
    if errors:
        raise ValidationError(errors)
    return document


def check_service_fields(
    *,
    categories: Sequence[ServiceCategory],
    skills: Sequence[str],
    availability: int,
    service_radius_km: int,
    political_status: str,
    emergency_contact_phone: str,
    village: Place,
) -> None:
    """What dispatch needs from every volunteer; raises ``ValidationError`` by field."""
    errors: dict[str, list[ValidationError]] = {}
    if not categories:
        _error(errors, "categories", _("请至少选择一个服务类别。"), "categories_required")
    elif any(not category.is_active for category in categories):
        _error(errors, "categories", _("所选服务类别已停用。"), "inactive_category")
    if any(skill not in Skill.values for skill in skills):
        _error(errors, "skills", _("技能特长不在可选范围内。"), "invalid_skill")
    if not 0 < availability <= ALL_WEEK:
        _error(errors, "availability", _("请至少选择一个可服务时段。"), "availability_required")
    if not 1 <= service_radius_km <= MAX_RADIUS_KM:
        _error(errors, "service_radius_km", _("服务半径应为1至50公里。"), "invalid_radius")
    if political_status and political_status not in PoliticalStatus.values:
        _error(errors, "political_status", _("政治面貌不在可选范围内。"), "invalid_choice")
    if emergency_contact_phone:
        try:
            validate_contact_phone(emergency_contact_phone)
        except ValidationError as exc:
            errors.setdefault("emergency_contact_phone", []).append(exc)
    if village.kind != Place.Kind.VILLAGE or village.parent_id is None:
        _error(errors, "village", _("请选择具体的村或社区。"), "invalid_village")
    if errors:
        raise ValidationError(errors)


def _as_domain_error(exc: ValidationError) -> DomainError:
    """A form or serializer checks all this first; a caller that did not gets the first message."""
    first = exc.error_dict[next(iter(exc.error_dict))][0] if hasattr(exc, "error_dict") else exc.error_list[0]
    return DomainError(first.messages[0], code=first.code or "invalid")


def _check_application(data: ApplicationInput, *, keep: VolunteerProfile | None = None) -> IdDocument:
    if not data.name.strip():
        raise DomainError(_("请填写真实姓名。"), code="name_required")
    if not data.privacy_consent:
        raise DomainError(_("请阅读并同意个人信息处理说明。"), code="privacy_consent_required")
    id_type, id_number = data.id_type, data.id_number
    if keep is not None and not id_number.strip():
        if id_type != keep.id_type or not keep.id_number:
            raise DomainError(_("更换证件类型时请重新填写证件号码。"), code="id_number_required")
        id_number = keep.id_number
    try:
        check_service_fields(
            categories=data.categories,
            skills=data.skills,
            availability=data.availability,
            service_radius_km=data.service_radius_km,
            political_status=data.political_status,
            emergency_contact_phone=data.emergency_contact_phone,
            village=data.village,
        )
        return check_identity(
            id_type=id_type,
            id_number=id_number,
            gender=data.gender,
            birth_date=data.birth_date,
            guardian_name=data.guardian_name,
            guardian_phone=data.guardian_phone,
            guardian_consent=data.guardian_consent,
        )
    except ValidationError as exc:
        raise _as_domain_error(exc) from None


def _service_fields(data: ApplicationInput | ProfileInput) -> dict[str, Any]:
    """The columns of what a volunteer offers, as a sign-up and the volunteer's own page set them."""
    return {
        "home_township_id": data.village.parent_id,
        "home_village_id": data.village.id,
        "service_radius_km": data.service_radius_km,
        "skills": sorted(set(data.skills)),
        "availability": data.availability,
        "political_status": data.political_status,
        "occupation": data.occupation.strip(),
        "emergency_contact_name": data.emergency_contact_name.strip(),
        "emergency_contact_phone": validate_contact_phone(data.emergency_contact_phone)
        if data.emergency_contact_phone
        else None,
    }


def _application_fields(data: ApplicationInput, document: IdDocument) -> dict[str, Any]:
    assert document.birth_date is not None and document.gender is not None
    minor = age_on(document.birth_date) < ADULT_AGE
    now = timezone.now()
    return {
        "gender": document.gender,
        "birth_date": document.birth_date,
        "id_type": document.id_type,
        "id_number": document.number,
        "id_digest": id_digest(document.id_type, document.number),
        **_service_fields(data),
        "guardian_name": data.guardian_name.strip() if minor else "",
        "guardian_phone": validate_mobile(data.guardian_phone) if minor else None,
        "guardian_consent_at": now if minor else None,
        "public_name_consent": data.public_name_consent,
        "privacy_consented_at": now,
        "rejection_reason": "",
        "submitted_at": now,
    }


def _tell_reviewers(profile: VolunteerProfile, *, village: Place) -> None:
    township = village.parent
    notify(
        recipient_ids=selectors.application_reviewer_ids(village=village),
        kind=Kind.APPLICATION_SUBMITTED,
        params={
            "applicant": profile.user.masked_name,
            "place": f"{township.name if township else ''}{village.name}",
        },
        link=reverse("volunteers:staff_detail", args=[profile.id]),
    )


def _duplicate_id() -> DomainError:
    return DomainError(str(DUPLICATE_ID), code="id_duplicate")


def application_submit(*, user: User, data: ApplicationInput) -> VolunteerProfile:
    """志愿者注册: the logged-in ``user`` applies with their real name and document.

    Preconditions: none beyond the checks below (a form or serializer has usually run them
    first, with messages by field). Refuses a second application of the same user (Conflict
    ``already_applied``) and a document already registered by anyone (``id_duplicate``, naming
    no one; the unique keyed hash settles a race). Side effects: the user's name becomes the
    real name; a ``submitted`` event; a notification to the staff who review the village."""
    document = _check_application(data)
    values = _application_fields(data, document)
    with transaction.atomic():
        if VolunteerProfile.objects.filter(user=user).exists():
            raise Conflict(_("您已提交过志愿者注册申请。"), code="already_applied")
        if VolunteerProfile.objects.filter(id_digest=values["id_digest"]).exists():
            raise _duplicate_id()
        try:
            with transaction.atomic():
                profile = VolunteerProfile.objects.create(user=user, status=ApplicationStatus.PENDING, **values)
        except IntegrityError:
            # Two submissions at once: the same user twice, or two users with one document.
            if VolunteerProfile.objects.filter(user=user).exists():
                raise Conflict(_("您已提交过志愿者注册申请。"), code="already_applied") from None
            raise _duplicate_id() from None
        profile.categories.set(data.categories)
        User.objects.filter(id=user.id).update(name=data.name.strip())
        user.name = data.name.strip()
        VolunteerEvent.objects.create(
            volunteer=profile,
            kind=VolunteerEvent.Kind.SUBMITTED,
            from_status="",
            to_status=ApplicationStatus.PENDING,
            actor=user,
        )
        _tell_reviewers(profile, village=data.village)
    return profile


def _move(
    profile: VolunteerProfile,
    *,
    to: str,
    kind: str,
    actor: User | None,
    reason: str = "",
    expected: str | None = None,
    **updates: Any,
) -> None:
    """Move ``profile`` from ``expected`` (default: the status it holds) to ``to`` with one
    conditional UPDATE, and write its event. Must run inside a transaction."""
    from_status = expected or profile.status
    if to not in APPLICATION_TRANSITIONS.get(from_status, frozenset()):
        raise Conflict(
            _("注册申请当前状态为「%(from)s」，不能变更为「%(to)s」。")
            % {"from": ApplicationStatus(from_status).label, "to": ApplicationStatus(to).label},
            code="illegal_transition",
        )
    changed = VolunteerProfile.objects.filter(id=profile.id, status=from_status).update(status=to, **updates)
    if not changed:
        raise Conflict(_("注册申请已被他人处理，请刷新后重试。"), code="stale_status")
    VolunteerEvent.objects.create(
        volunteer=profile, kind=kind, from_status=from_status, to_status=to, actor=actor, reason=reason
    )
    # Approved, rejected, resubmitted, left: whether the ranking may offer them work changed.
    matchable_refresh(volunteer_ids=[profile.id])
    profile.status = to
    for field, value in updates.items():
        if not hasattr(value, "resolve_expression"):
            setattr(profile, field, value)


def application_resubmit(*, profile: VolunteerProfile, actor: User, data: ApplicationInput) -> VolunteerProfile:
    """After a rejection the applicant fixes the application and sends it again (rejected →
    pending). Preconditions: ``actor`` is the applicant. An empty ``id_number`` keeps the
    document on file. Side effects: a ``resubmitted`` event; the reviewers are told again."""
    if actor.id != profile.user_id:
        raise NotFound()
    document = _check_application(data, keep=profile)
    values = _application_fields(data, document)
    with transaction.atomic():
        if VolunteerProfile.objects.filter(id_digest=values["id_digest"]).exclude(id=profile.id).exists():
            raise _duplicate_id()
        try:
            with transaction.atomic():
                _move(
                    profile,
                    to=ApplicationStatus.PENDING,
                    kind=VolunteerEvent.Kind.RESUBMITTED,
                    actor=actor,
                    **values,
                )
        except IntegrityError:
            raise _duplicate_id() from None
        profile.categories.set(data.categories)
        User.objects.filter(id=actor.id).update(name=data.name.strip())
        actor.name = data.name.strip()
        profile.user = actor
        _tell_reviewers(profile, village=data.village)
    return profile


def _check_reviewer(profile: VolunteerProfile, actor: User) -> None:
    if not selectors.applications_visible_to(user=actor).filter(id=profile.id).exists():
        raise NotFound()
    if actor.id == profile.user_id:
        raise Forbidden(_("不能审核自己的注册申请。"), code="own_application")


def application_approve(*, profile: VolunteerProfile, actor: User) -> VolunteerProfile:
    """实名核验通过 (pending → approved). Preconditions: ``actor`` is staff whose area holds the
    applicant's village (else NotFound) and not the applicant (Forbidden ``own_application``).
    Side effects: the ``ZZV…`` number, verified by the actor's unit, an ``approved`` event, a
    notification to the applicant. From now on the volunteer can be offered services."""
    _check_reviewer(profile, actor)
    with transaction.atomic():
        _move(
            profile,
            to=ApplicationStatus.APPROVED,
            kind=VolunteerEvent.Kind.APPROVED,
            actor=actor,
            is_verified=True,
            verified_by_node_id=actor.staff_node_id,
            reviewed_by_id=actor.id,
            reviewed_at=timezone.now(),
            rejection_reason="",
        )
        assign_volunteer_number(profile)
        notify(
            recipient_ids=[profile.user_id],
            kind=Kind.APPLICATION_APPROVED,
            params={"number": profile.volunteer_number},
            link=reverse("volunteers:profile"),
        )
    return profile


def application_reject(*, profile: VolunteerProfile, actor: User, reason: str) -> VolunteerProfile:
    """审核未通过 (pending → rejected) with a reason the applicant reads, fixes and resubmits.
    Preconditions as :func:`application_approve`; an empty reason is refused
    (``reason_required``). Side effects: a ``rejected`` event, a notification to the applicant."""
    typed = Reason.typed(clean_text(reason))
    if not typed:
        raise DomainError(_("不通过时必须填写原因。"), code="reason_required")
    if len(typed.text) > REASON_MAX:
        raise DomainError(_("原因最多200个字。"), code="reason_too_long")
    _check_reviewer(profile, actor)
    with transaction.atomic():
        _move(
            profile,
            to=ApplicationStatus.REJECTED,
            kind=VolunteerEvent.Kind.REJECTED,
            actor=actor,
            reason=typed.text,
            reviewed_by_id=actor.id,
            reviewed_at=timezone.now(),
            rejection_reason=typed.text,
        )
        notify(
            recipient_ids=[profile.user_id],
            kind=Kind.APPLICATION_REJECTED,
            params=typed.as_params(),
            link=reverse("volunteers:signup"),
        )
    return profile


def volunteer_update(*, profile: VolunteerProfile, actor: User, data: ProfileInput) -> VolunteerProfile:
    """The volunteer changes what they offer: fields, skills, availability, home village and
    radius, optional details. Name and document stay as verified. Preconditions: ``actor`` is
    the volunteer and the registration is approved (Conflict ``not_approved``). Side effects:
    an ``updated`` event."""
    if actor.id != profile.user_id:
        raise NotFound()
    try:
        check_service_fields(
            categories=data.categories,
            skills=data.skills,
            availability=data.availability,
            service_radius_km=data.service_radius_km,
            political_status=data.political_status,
            emergency_contact_phone=data.emergency_contact_phone,
            village=data.village,
        )
    except ValidationError as exc:
        raise _as_domain_error(exc) from None
    values = {**_service_fields(data), "public_name_consent": data.public_name_consent}
    if data.share_phone_with_residents is not None:
        values["share_phone_with_residents"] = data.share_phone_with_residents
    with transaction.atomic():
        if not VolunteerProfile.objects.filter(id=profile.id, status=ApplicationStatus.APPROVED).update(**values):
            raise Conflict(_("注册通过审核后才能修改服务资料。"), code="not_approved")
        profile.categories.set(data.categories)
        VolunteerEvent.objects.create(volunteer=profile, kind=VolunteerEvent.Kind.UPDATED, actor=actor)
        matchable_refresh(volunteer_ids=[profile.id])
    for field, value in values.items():
        setattr(profile, field, value)
    return profile


def _set_active(profile: VolunteerProfile, *, actor: User, active: bool) -> VolunteerProfile:
    if actor.id != profile.user_id:
        raise NotFound()
    with transaction.atomic():
        changed = VolunteerProfile.objects.filter(
            id=profile.id, status=ApplicationStatus.APPROVED, is_active=not active
        ).update(is_active=active)
        if not changed:
            current = VolunteerProfile.objects.filter(id=profile.id).values_list("status", "is_active").first()
            if current is None or current[0] != ApplicationStatus.APPROVED:
                raise Conflict(_("注册通过审核后才能暂停或恢复服务。"), code="not_approved")
            if active:
                raise Conflict(_("您没有暂停服务。"), code="not_paused")
            raise Conflict(_("您已暂停服务。"), code="already_paused")
        VolunteerEvent.objects.create(
            volunteer=profile,
            kind=VolunteerEvent.Kind.RESUMED if active else VolunteerEvent.Kind.PAUSED,
            actor=actor,
        )
        matchable_refresh(volunteer_ids=[profile.id])
    profile.is_active = active
    return profile


def volunteer_pause(*, profile: VolunteerProfile, actor: User) -> VolunteerProfile:
    """暂停服务: no new offers reach the volunteer until they resume (offers already accepted
    stay theirs). Conflict ``already_paused`` / ``not_approved``. Side effect: a ``paused`` event."""
    return _set_active(profile, actor=actor, active=False)


def volunteer_resume(*, profile: VolunteerProfile, actor: User) -> VolunteerProfile:
    """恢复服务. Conflict ``not_paused`` / ``not_approved``. Side effect: a ``resumed`` event."""
    return _set_active(profile, actor=actor, active=True)


def volunteer_leave(*, profile: VolunteerProfile, actor: User) -> VolunteerProfile:
    """退出平台 (PIPL Art. 47): the account is anonymised and can no longer log in; the
    volunteer's document, guardian, emergency contact and other personal details are deleted.
    The volunteer number, offers and service records stay: 志愿服务记录 must be kept
    (民政部令第67号), and they name the number, not the person.

    Preconditions: ``actor`` is the volunteer. Side effects: the user's name becomes
    「已注销用户」, the phone and its look-up hash unusable placeholders, e-mail cleared, password
    unusable, inactive, API tokens deleted; the profile ``left`` with a ``left`` event."""
    if actor.id != profile.user_id:
        raise NotFound()
    now = timezone.now()
    with transaction.atomic():
        _move(
            profile,
            to=ApplicationStatus.LEFT,
            kind=VolunteerEvent.Kind.LEFT,
            actor=actor,
            id_number=None,
            id_digest=None,
            birth_date=None,
            gender="",
            occupation="",
            political_status="",
            emergency_contact_name="",
            emergency_contact_phone=None,
            guardian_name="",
            guardian_phone=None,
            guardian_consent_at=None,
            public_name_consent=False,
            share_phone_with_residents=False,
            is_active=False,
            left_at=now,
        )
        User.objects.filter(id=actor.id).update(
            name=LEFT_NAME,
            # Not a phone and not an HMAC: nobody can log in with, or register as, this account.
            phone="-",
            phone_digest=f"left:{actor.id}",
            email="",
            password=make_password(None),
            is_active=False,
        )
        Token.objects.filter(user_id=actor.id).delete()
    actor.refresh_from_db()
    return profile


def id_reveal(*, profile: VolunteerProfile, actor: User, reason: str) -> str:
    """Show a volunteer's full document number to a staff member who needs it, and audit it:
    exactly one :class:`IdReveal` (who, whom, when, why) per call that returns a number.
    Preconditions: ``actor`` is staff whose area holds the volunteer (else NotFound); a reason
    is required (``reason_required``). A volunteer who left has none (``no_id_number``)."""
    typed = Reason.typed(clean_text(reason))
    if not typed:
        raise DomainError(_("查看完整证件号码必须填写原因。"), code="reason_required")
    if len(typed.text) > REASON_MAX:
        raise DomainError(_("原因最多200个字。"), code="reason_too_long")
    if not selectors.applications_visible_to(user=actor).filter(id=profile.id).exists():
        raise NotFound()
    number: str | None = VolunteerProfile.objects.values_list("id_number", flat=True).get(id=profile.id)
    if not number:
        raise DomainError(_("该志愿者没有登记证件号码（或已退出平台）。"), code="no_id_number")
    IdReveal.objects.create(staff=actor, volunteer=profile, reason=typed.text)
    return number
