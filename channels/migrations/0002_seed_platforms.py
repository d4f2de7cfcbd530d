from django.db import migrations

PLATFORMS = [
    ("taobao", "淘宝", "api"),
    ("tmall", "天猫", "api"),
    ("jd", "京东", "api"),
    ("weimob", "微盟", "api"),
    ("feiniu", "飞牛", "file"),
    ("yhd", "一号店", "file"),
    ("mogujie", "蘑菇街", "file"),
    ("other", "其他", "file"),
]


def seed(apps, schema_editor):
    Platform = apps.get_model("channels", "Platform")
    for code, name, integration in PLATFORMS:
        Platform.objects.get_or_create(
            code=code, defaults={"name": name, "integration": integration}
        )


class Migration(migrations.Migration):
    dependencies = [("channels", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
