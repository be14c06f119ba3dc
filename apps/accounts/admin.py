from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AccessibleAdminMixin

from .forms import AdminLoginForm
from .models import User
from .phones import phone_digest, validate_mobile


class UserCreationForm(BaseUserCreationForm):
    """Create a user from a phone number; the form stores it encrypted plus its lookup hash."""

    phone = forms.CharField(label=_("手机号"), max_length=20)

    class Meta:
        model = User
        fields = ["phone", "name"]

    def clean_phone(self) -> str:
        phone = validate_mobile(self.cleaned_data["phone"])
        if User.objects.filter(phone_digest=phone_digest(phone)).exists():
            raise forms.ValidationError(_("该手机号已注册。"))
        return phone

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        user.phone_digest = phone_digest(user.phone)
        if commit:
            user.save()
        return user


# The admin's log-in takes a phone number and sits behind the same lockout as the other log-ins.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(AccessibleAdminMixin, BaseUserAdmin):
    add_form = UserCreationForm
    ordering = ["-date_joined"]
    list_display = ["id", "name", "masked_phone", "staff_node", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["name"]
    list_select_related = ["staff_node"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["name", "email", "password"]}),
        (_("工作"), {"fields": ["staff_node"]}),
        (_("权限"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("时间"), {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["phone", "name", "password1", "password2"]})]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone
