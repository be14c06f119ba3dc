"""Pages: the sign-up and the volunteer's own page (phone), the review pages of staff (PC)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import DomainError
from apps.core.masking import mask_phone
from apps.core.typing import AuthenticatedHttpRequest

from . import availability, selectors, services
from .forms import ApplicationForm, LeaveForm, ProfileForm, RequiredReasonForm, availability_rows
from .identity import ADULT_AGE, age_on, mask_id
from .models import SLOTS, ApplicationStatus, Skill, VolunteerProfile

# The two reasons of the review page, named apart.
REJECT_REASON = gettext_lazy("不通过的原因")
REVEAL_REASON = gettext_lazy("查看完整证件号的原因")

TABS = {
    "pending": ApplicationStatus.PENDING,
    "approved": ApplicationStatus.APPROVED,
    "rejected": ApplicationStatus.REJECTED,
}


def _refused(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, str(exc.message))


def _form_errors(request: HttpRequest, form: object) -> None:
    for errors in form.errors.values():  # type: ignore[attr-defined]
        for error in errors:
            messages.error(request, error)


def _form_context(form: ApplicationForm | ProfileForm) -> dict[str, object]:
    return {"form": form, "slots": SLOTS, "availability_rows": availability_rows(form)}


def _own(request: AuthenticatedHttpRequest) -> VolunteerProfile | None:
    return selectors.application_of(user=request.user)


# --- Applicant and volunteer ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def signup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """志愿者注册: the form; while pending, the status; after a rejection, the reason and the
    form again to fix and resubmit. An approved volunteer goes to their page."""
    profile = _own(request)
    if profile is not None and profile.status == ApplicationStatus.APPROVED:
        return redirect("volunteers:profile")
    if profile is not None and profile.status == ApplicationStatus.PENDING:
        if request.method == "POST":
            messages.error(request, _("您的申请正在审核中，暂不能修改。"))
        return render(request, "volunteers/pending.html", {"profile": profile})
    keep = profile if profile is not None and profile.status == ApplicationStatus.REJECTED else None
    if profile is not None and keep is None:
        raise Http404  # left the platform
    if request.method == "POST":
        form = ApplicationForm(request.POST, keep=keep)
        if form.is_valid():
            try:
                if keep is None:
                    services.application_submit(user=request.user, data=form.to_input())
                else:
                    services.application_resubmit(profile=keep, actor=request.user, data=form.to_input())
            except DomainError as exc:
                field = "id_number" if exc.code == "id_duplicate" else None
                form.add_error(field, str(exc.message))
            else:
                messages.success(request, _("已提交，请等待所在村（社区）实践站审核。"))
                return redirect("volunteers:signup")
    elif keep is not None:
        form = ApplicationForm(initial=ApplicationForm.initial_from(keep), keep=keep)
    else:
        form = ApplicationForm(
            initial={"name": request.user.name, "village": request.user.home_village_id, "availability": 0}
        )
    return render(request, "volunteers/signup.html", {**_form_context(form), "profile": keep})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的志愿者资料: masked personal data, what the volunteer offers (editable), pause/resume."""
    own = _own(request)
    if own is None or own.status != ApplicationStatus.APPROVED:
        return redirect("volunteers:signup")
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.volunteer_update(profile=own, actor=request.user, data=form.to_input())
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("已保存。"))
                return redirect("volunteers:profile")
    else:
        form = ProfileForm(initial=ProfileForm.initial_from(own))
    return render(
        request,
        "volunteers/profile.html",
        {
            **_form_context(form),
            "profile": own,
            "masked_id": mask_id(own.id_number),
            "grid": availability.grid(own.availability),
        },
    )


@login_required
@require_POST
def pause(request: AuthenticatedHttpRequest) -> HttpResponse:
    own = _own(request)
    if own is None:
        raise Http404
    try:
        services.volunteer_pause(profile=own, actor=request.user)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已暂停服务，暂停期间不会收到服务邀请。"))
    return redirect("volunteers:profile")


@login_required
@require_POST
def resume(request: AuthenticatedHttpRequest) -> HttpResponse:
    own = _own(request)
    if own is None:
        raise Http404
    try:
        services.volunteer_resume(profile=own, actor=request.user)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已恢复服务。"))
    return redirect("volunteers:profile")


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: AuthenticatedHttpRequest) -> HttpResponse:
    """退出平台: what is deleted, what is kept and why; a checkbox to confirm."""
    own = _own(request)
    if own is None or own.status == ApplicationStatus.LEFT:
        raise Http404
    form = LeaveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.volunteer_leave(profile=own, actor=request.user)
        except DomainError as exc:
            _refused(request, exc)
        else:
            logout(request)
            messages.success(request, _("您已退出平台，账号已注销。感谢您的志愿服务！"))
            return redirect("core:home")
    return render(request, "volunteers/leave.html", {"profile": own, "form": form})


# --- Staff ----------------------------------------------------------------------------------------


def _staff_required(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_org_staff:
        raise Http404


@login_required
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """志愿者审核: the area's registrations by tab (pending oldest first), found by ZZV number."""
    _staff_required(request)
    tab = request.GET.get("tab", "pending")
    if tab not in TABS:
        tab = "pending"
    qs = selectors.applications_visible_to(user=request.user).filter(status=TABS[tab])
    number = request.GET.get("number", "").strip()[:16]
    if number:
        qs = qs.filter(volunteer_number__iexact=number)
    qs = qs.order_by("submitted_at", "id") if tab == "pending" else qs.order_by("-reviewed_at", "-id")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request, "volunteers/staff_list.html", {"page": page, "tab": tab, "tabs": list(TABS), "number": number}
    )


def _staff_detail(request: AuthenticatedHttpRequest, profile: VolunteerProfile, *, revealed: str = "") -> HttpResponse:
    response = render(
        request,
        "volunteers/staff_detail.html",
        {
            "profile": profile,
            "age": age_on(profile.birth_date) if profile.birth_date else None,
            "is_minor": profile.birth_date is not None and age_on(profile.birth_date) < ADULT_AGE,
            "masked_id": mask_id(profile.id_number),
            "skills": [Skill(code).label for code in profile.skills if code in Skill.values],
            "guardian_phone": mask_phone(profile.guardian_phone),
            "events": selectors.application_events(profile=profile),
            "grid": availability.grid(profile.availability),
            "reject_form": RequiredReasonForm(prefix="reject", label=REJECT_REASON),
            "reveal_form": RequiredReasonForm(prefix="reveal", label=REVEAL_REASON),
            "revealed": revealed,
        },
    )
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def staff_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    return _staff_detail(request, selectors.application_for_staff(user=request.user, profile_id=pk))


@login_required
@require_POST
def staff_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    profile = selectors.application_for_staff(user=request.user, profile_id=pk)
    try:
        services.application_approve(profile=profile, actor=request.user)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已通过，志愿者编号 %(number)s。") % {"number": profile.volunteer_number})
    return redirect("volunteers:staff_detail", pk=pk)


@login_required
@require_POST
def staff_reject(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    profile = selectors.application_for_staff(user=request.user, profile_id=pk)
    form = RequiredReasonForm(request.POST, prefix="reject", label=REJECT_REASON)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("volunteers:staff_detail", pk=pk)
    try:
        services.application_reject(profile=profile, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已退回，申请人会看到原因。"))
    return redirect("volunteers:staff_detail", pk=pk)


@never_cache
@login_required
@require_POST
def staff_reveal(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The full number, shown once in this answer (not stored in the page's URL or history)."""
    _staff_required(request)
    profile = selectors.application_for_staff(user=request.user, profile_id=pk)
    form = RequiredReasonForm(request.POST, prefix="reveal", label=REVEAL_REASON)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("volunteers:staff_detail", pk=pk)
    try:
        number = services.id_reveal(profile=profile, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        _refused(request, exc)
        return redirect("volunteers:staff_detail", pk=pk)
    return _staff_detail(request, profile, revealed=number)
