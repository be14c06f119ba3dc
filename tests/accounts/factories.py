from typing import Any

import factory

from apps.accounts.models import User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"139{n:08d}")
    name = factory.Iterator(["王秀兰", "周建国", "张小明", "刘芳", "陈志强", "杨丽"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        phone = kwargs.pop("phone")
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(phone=phone, password=password, **kwargs)


def make_user(**kwargs: Any) -> User:
    """A saved user, typed as one (calling UserFactory(...) is typed as the factory)."""
    user = UserFactory.create(**kwargs)
    assert isinstance(user, User)
    return user
