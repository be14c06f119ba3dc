from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from encrypted_fields.fields import EncryptedCharField

from apps.core.masking import mask_name, mask_phone

from .phones import phone_digest, validate_mobile


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        # Log-in forms pass the phone number as typed; look it up by its keyed hash.
        return self.get(phone_digest=phone_digest(username or ""))

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> "User":
        phone = validate_mobile(phone)
        user = self.model(phone=phone, phone_digest=phone_digest(phone), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, phone_digest: str | None = None, password: str | None = None, phone: str | None = None, **extra: Any
    ) -> "User":
        # ``createsuperuser`` prompts for USERNAME_FIELD, which holds the phone as typed.
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone or phone_digest or "", password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with a phone number. Every user may order services as a resident;
    a volunteer profile makes them a volunteer; ``staff_node`` makes them staff of that node
    and its subtree (staff of the centre are the city's dispatchers)."""

    phone_digest = models.CharField(_("手机号"), max_length=64, unique=True, editable=False)
    phone = EncryptedCharField(_("手机号"), max_length=20)
    name = models.CharField(_("姓名"), max_length=50)
    email = models.EmailField(_("电子邮箱"), blank=True)
    staff_node = models.ForeignKey(
        "organisation.OrgNode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所属阵地（工作人员）"),
    )
    # Home place: where the person lives, pre-filled in every place picker (registration, 点单).
    home_township = models.ForeignKey(
        "organisation.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("常住乡镇/街道"),
        limit_choices_to={"kind": "township"},
    )
    home_village = models.ForeignKey(
        "organisation.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("常住村/社区"),
        limit_choices_to={"kind": "village"},
    )
    # Consent to the privacy notice (PIPL Art. 14): which version, and when.
    privacy_version = models.CharField(_("同意的隐私政策版本"), max_length=20, blank=True)
    privacy_consented_at = models.DateTimeField(_("同意隐私政策时间"), null=True, blank=True)
    # 长辈版 (large text and targets), remembered on the account so it follows the person to any
    # phone; before log-in a cookie holds it (apps.core.middleware).
    elder_mode = models.BooleanField(_("长辈版"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("可登录管理后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone_digest"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        indexes = [
            # The few accounts switched off: what the matching ranking leaves out, read without
            # scanning every user.
            models.Index(fields=["id"], condition=models.Q(is_active=False), name="user_inactive"),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} ({mask_phone(self.phone)})"

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_org_staff(self) -> bool:
        """The one staff check: an administrator, or staff of a node of the practice network.
        What they may see is :func:`apps.accounts.areas.area_of`."""
        return self.is_superuser or self.staff_node_id is not None

    @property
    def is_dispatcher(self) -> bool:
        """Staff of the centre itself: the city's dispatchers, who take escalations."""
        return self.staff_node is not None and self.staff_node.kind == "centre"

    @property
    def is_volunteer(self) -> bool:
        return hasattr(self, "volunteer_profile")


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("验证码登录")
    RESET_PASSWORD = "reset_password", _("设置或重设密码")


class PhoneCode(models.Model):
    """The one-time code last sent to a number for a purpose (apps.accounts.verification).

    Neither the number nor the code is stored: the number by its keyed hash, the code as an
    HMAC with a server key, so a copy of the database alone does not give the six digits."""

    phone_digest = models.CharField(max_length=64, editable=False)
    purpose = models.CharField(_("用途"), max_length=20, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64, editable=False)
    sent_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = pgettext_lazy("plural", "短信验证码")
        constraints = [
            models.UniqueConstraint(fields=["phone_digest", "purpose"], name="phone_code_one_per_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.sent_at:%Y-%m-%d %H:%M}"
