import factory

from apps.organisation.models import OrgNode, Place, ServiceCategory


class ServiceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCategory
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"地点{n}")
    kind = Place.Kind.VILLAGE


def build_org_tree() -> dict:
    """A small network: the centre with its office and two sub-centres, two townships
    (A: 桃园街道 with two villages, B: 码头镇 with one), each village with its station.

    The sub-centre 健康推进分中心 looks after the field "convenience" (便民服务) that the tests'
    requests ask for, city-wide; "environment" (环境治理) belongs to no sub-centre, and
    理论宣讲分中心 looks after no field of the tests."""
    city = Place.objects.create(code="130681", name="涿州市", kind=Place.Kind.CITY)
    centre = OrgNode.objects.add_root(dict(name="涿州市新时代文明实践中心", kind=OrgNode.Kind.CENTRE, place=city))
    OrgNode.objects.add_child(centre, dict(name="理论宣讲分中心", kind=OrgNode.Kind.SUB_CENTRE))
    township_a = Place.objects.create(code="130681002", name="桃园街道", kind=Place.Kind.TOWNSHIP, parent=city)
    township_b = Place.objects.create(code="130681101", name="码头镇", kind=Place.Kind.TOWNSHIP, parent=city)
    village_a1 = Place.objects.create(name="太平庄村", kind=Place.Kind.VILLAGE, parent=township_a)
    village_a2 = Place.objects.create(name="东庄头村", kind=Place.Kind.VILLAGE, parent=township_a)
    village_b1 = Place.objects.create(name="码头村", kind=Place.Kind.VILLAGE, parent=township_b)
    centre = OrgNode.objects.get(id=centre.id)
    office_a = OrgNode.objects.add_child(
        centre, dict(name="桃园街道新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=township_a)
    )
    centre = OrgNode.objects.get(id=centre.id)
    office_b = OrgNode.objects.add_child(
        centre, dict(name="码头镇新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=township_b)
    )
    station_a1 = OrgNode.objects.add_child(
        OrgNode.objects.get(id=office_a.id),
        dict(name="太平庄村新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=village_a1),
    )
    station_a2 = OrgNode.objects.add_child(
        OrgNode.objects.get(id=office_a.id),
        dict(name="东庄头村新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=village_a2),
    )
    station_b1 = OrgNode.objects.add_child(
        OrgNode.objects.get(id=office_b.id),
        dict(name="码头村新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=village_b1),
    )
    centre_office = OrgNode.objects.add_child(
        OrgNode.objects.get(id=centre.id), dict(name="新时代文明实践中心办公室", kind=OrgNode.Kind.CENTRE_OFFICE)
    )
    sub_centre = OrgNode.objects.add_child(
        OrgNode.objects.get(id=centre.id), dict(name="健康推进分中心", kind=OrgNode.Kind.SUB_CENTRE)
    )
    category = ServiceCategoryFactory(
        code="convenience", name="便民服务", name_en="Convenience services", sub_centre=sub_centre
    )
    other_category = ServiceCategoryFactory(code="environment", name="环境治理", name_en="Environment")
    return {
        "city": city,
        "centre": OrgNode.objects.get(id=centre.id),
        "township_a": township_a,
        "township_b": township_b,
        "village_a1": village_a1,
        "village_a2": village_a2,
        "village_b1": village_b1,
        "centre_office": OrgNode.objects.get(id=centre_office.id),
        "sub_centre": OrgNode.objects.get(id=sub_centre.id),
        "office_a": OrgNode.objects.get(id=office_a.id),
        "office_b": OrgNode.objects.get(id=office_b.id),
        # Re-read: treebeard keeps siblings ordered by name, so adding station A2 (东…) moved
        # station A1 (太…) to a new path, and the object in hand still holds the old one.
        "station_a1": OrgNode.objects.get(id=station_a1.id),
        "station_a2": OrgNode.objects.get(id=station_a2.id),
        "station_b1": OrgNode.objects.get(id=station_b1.id),
        "category": category,
        "other_category": other_category,
    }
