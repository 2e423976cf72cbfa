# Batches of claims (批量申报): one rule for many households, approved by a second staff member.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0005_resident_gone'),
        ('points', '0003_lists'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClaimBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_on', models.DateField(verbose_name='日期')),
                ('note', models.CharField(blank=True, default='', max_length=300, verbose_name='说明')),
                ('size', models.PositiveIntegerField(verbose_name='户数')),
                ('submitted_at', models.DateTimeField(auto_now_add=True, verbose_name='申报时间')),
                ('status', models.CharField(choices=[('pending', '待审核'), ('approved', '已通过'), ('rejected', '已驳回')], db_index=True, default='pending', max_length=10, verbose_name='状态')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审核时间')),
                ('reason', models.CharField(blank=True, default='', max_length=300, verbose_name='审核意见')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='points_batches_decided', to=settings.AUTH_USER_MODEL, verbose_name='审核人')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='points.pointsrule', verbose_name='积分事项')),
                ('submitted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='points_batches_submitted', to=settings.AUTH_USER_MODEL, verbose_name='申报人')),
                ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='points_claim_batches', to='grids.village', verbose_name='村')),
            ],
            options={
                'verbose_name': '批量申报',
                'verbose_name_plural': '批量申报',
                'ordering': ['-submitted_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='claim',
            name='batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='points.claimbatch', verbose_name='批量申报'),
        ),
        migrations.AddConstraint(
            model_name='claimbatch',
            constraint=models.CheckConstraint(condition=models.Q(('decided_by__isnull', True), models.Q(('decided_by', models.F('submitted_by')), _negated=True), _connector='OR'), name='points_batch_decider_not_submitter'),
        ),
        migrations.AddConstraint(
            model_name='claimbatch',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'pending')), models.Q(('decided_at__isnull', False), ('decided_by__isnull', False), ('status__in', ['approved', 'rejected'])), _connector='OR'), name='points_batch_decision_matches_status'),
        ),
        migrations.AddConstraint(
            model_name='claimbatch',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'rejected'), _negated=True), models.Q(('reason', ''), _negated=True), _connector='OR'), name='points_batch_rejection_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='claimbatch',
            constraint=models.CheckConstraint(condition=models.Q(('size__gte', 1)), name='points_batch_not_empty'),
        ),
    ]
