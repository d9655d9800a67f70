# The retain-until date is set on every visit (0005 filled the existing ones); the retention
# job finds the visits still holding answers by it. A migration of its own: on PostgreSQL a
# table cannot be altered in the transaction that just updated its rows.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0005_retention'),
    ]

    operations = [
        migrations.AlterField(
            model_name='visit',
            name='retain_until',
            field=models.DateTimeField(verbose_name='answers kept until'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(condition=models.Q(('anonymised_at__isnull', True)), fields=['retain_until'], name='visit_retention_due'),
        ),
    ]
