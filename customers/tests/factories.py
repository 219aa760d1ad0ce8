import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.models import Category, Customer, Tag, Tier


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 10)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"category{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    """Saved straight to the table (the database still issues the CRM number)."""

    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Faker("name", locale="zh_CN")
    mobile = factory.Sequence(lambda n: f"+86139{n:08d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    birthday = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    province = "浙江省"
    city = "杭州市"

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        obj.refresh_from_db(fields=["crm_number"])
        return obj


# A customer import file with good rows and one bad row of each kind (shared by the import tests).
GOOD_AND_BAD = (
    "姓名,手机号,邮箱,生日,会员等级,会员号,接收短信\n"
    "张三,13800000001,zhang@example.com,1990-01-02,金卡,OLD-1,是\n"
    "李四,12345,li@example.com,1991-02-03,,OLD-2,否\n"
    ",13800000003,,,,OLD-3,\n"
    "王五,13800000004,wang@example.com,2099-01-01,,OLD-4,\n"
    "赵六,13800000005,zhao@example.com,1985/06/07,钻石王者,OLD-5,\n"
    "钱七,+86 138 0000 0006,qian@example.com,,,OLD-6,\n"
)
