"""Staff pages of the roster: the template, upload, live progress, the error workbook, and the
export of an area's or a team's roster. Anyone who is not staff of a node (or an
administrator) gets 404, as for every staff page; jobs and rosters outside the user's unit or
area are 404 too."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.areas import Area, area_of
from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.organisation.models import Place
from apps.organisation.selectors import active_categories
from apps.teams.models import MembershipStatus
from apps.teams.selectors import team_for, team_members
from apps.volunteers.models import VolunteerProfile

from . import selectors
from .forms import AreaExportForm, UploadForm
from .messages import file_message
from .models import ImportJob, JobStatus
from .reading import RosterFileError
from .services import import_job_create
from .workbooks import XLSX_CONTENT_TYPE, errors_workbook, roster_workbook, template_workbook


def _staff_required(request: AuthenticatedHttpRequest) -> None:
    if area_of(request.user).is_empty:
        raise Http404


def _in_area(area: Area, *, township: Place | None, village: Place | None) -> bool:
    """Whether the asked-for township or village lies in the area (a station covers its own
    village, and so asking for its township is asking for its village)."""
    if village is not None:
        return area.covers_place(township_id=village.parent_id, village_id=village.id)
    if township is None or area.whole_city:
        return True
    if area.village_id is not None:
        return Place.objects.filter(id=area.village_id, parent_id=township.id).exists()
    return area.township_id is None or area.township_id == township.id


def _xlsx(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    response["Cache-Control"] = "no-store"
    return response


def _password_url(request: AuthenticatedHttpRequest) -> str:
    """Where an imported volunteer sets a first password with an SMS code."""
    return request.build_absolute_uri(reverse("accounts:password_reset"))


def _index(
    request: AuthenticatedHttpRequest,
    form: UploadForm,
    *,
    export_form: "AreaExportForm | None" = None,
    status: int = 200,
) -> HttpResponse:
    jobs = Paginator(selectors.jobs_visible_to(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/index.html",
        {"form": form, "page": jobs, "export_form": export_form or AreaExportForm(user=request.user)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _staff_required(request)
    if request.method != "POST":
        return _index(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _index(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        job = import_job_create(uploader=request.user, file_name=upload.name, data=form.read_upload())
    except RosterFileError as exc:
        form.add_error("file", exc.message)
        return _index(request, form, status=400)
    except DomainError as exc:
        form.add_error("file", str(exc.message))
        return _index(request, form, status=400)
    return redirect("roster:job", pk=job.id)


@login_required
@require_GET
def roster_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    _staff_required(request)
    content = template_workbook(categories=list(active_categories()), password_url=_password_url(request))
    return _xlsx(content, _("志愿者名册模板.xlsx"))


def _job_context(job: ImportJob) -> dict[str, object]:
    failure = file_message(job.failure_code, job.failure_params) if job.status == JobStatus.FAILED else ""
    return {"job": job, "failure": failure}


@login_required
@require_GET
def roster_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    job = selectors.job_for_user(user=request.user, job_id=pk)
    return render(request, "roster/job.html", _job_context(job))


@login_required
@require_GET
def roster_job_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress block alone, for htmx to swap in every second until the job is finished."""
    _staff_required(request)
    job = selectors.job_for_user(user=request.user, job_id=pk)
    return render(request, "roster/_progress.html", _job_context(job))


@login_required
@require_GET
def roster_job_errors(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    job = selectors.job_for_user(user=request.user, job_id=pk)
    content = errors_workbook(errors=selectors.job_errors(job=job).iterator(chunk_size=2000))
    stem = job.file_name.rsplit(".", 1)[0]
    return _xlsx(content, _("%(name)s-错误行.xlsx") % {"name": stem})


@login_required
@require_GET
def roster_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The approved volunteers of the user's area, optionally of one township and village.
    A township or village outside the area is 404, an unknown or malformed one 400."""
    _staff_required(request)
    form = AreaExportForm(request.GET, user=request.user)
    if not form.is_valid():
        return _index(request, UploadForm(), export_form=form, status=400)
    township: Place | None = form.cleaned_data["township"]
    village: Place | None = form.cleaned_data["village"]
    if not _in_area(area_of(request.user), township=township, village=village):
        raise Http404
    volunteers = selectors.roster_of_area(
        user=request.user,
        township_id=township.id if township else None,
        village_id=village.id if village else None,
    )
    place = village.name if village else township.name if township else _("全部")
    content = roster_workbook(volunteers=volunteers.iterator(chunk_size=2000), title=place)
    return _xlsx(content, _("志愿者名册-%(place)s-%(date)s.xlsx") % {"place": place, "date": timezone.localdate()})


@login_required
@require_GET
def roster_team_export(request: AuthenticatedHttpRequest, team_id: int) -> HttpResponse:
    """A team's active members, for those who manage it (its leaders and admins, staff whose
    area holds it, administrators); anyone else gets 404 (``team_members`` decides)."""
    team = team_for(user=request.user, team_id=team_id)
    memberships = list(team_members(user=request.user, team=team, statuses=(MembershipStatus.ACTIVE,)))
    roles = {m.volunteer_id: m.get_role_display() for m in memberships}
    volunteers = (
        VolunteerProfile.objects.filter(id__in=list(roles))
        .select_related("user", "home_township", "home_village", "verified_by_node")
        .prefetch_related("categories")
        .order_by("volunteer_number", "id")
    )
    content = roster_workbook(volunteers=volunteers, title=team.name, extra={k: str(v) for k, v in roles.items()})
    return _xlsx(content, _("服务队名册-%(team)s-%(date)s.xlsx") % {"team": team.name, "date": timezone.localdate()})
