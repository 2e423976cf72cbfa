"""QuickSelect renders the markup of Django's own Select, without its templates."""

import re

from django import forms

from grids.widgets import QuickSelect


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


CHOICES = [
    ("", "全部"),
    ("a", '甲 <&> "引号"'),
    ("东片", [("1", "一组"), ("2", "二组")]),
    (3, "三"),
]


def _both(value, attrs=None):
    django_select = forms.Select(choices=CHOICES).render("village", value, attrs=attrs)
    quick = QuickSelect(choices=CHOICES).render("village", value, attrs=attrs)
    return _normalised(str(django_select)), _normalised(str(quick))


def test_quick_select_is_django_select_markup_for_each_selection():
    for value in ("", "a", "2", 3, None, "not-a-choice"):
        django_html, quick_html = _both(value, attrs={"id": "id_village", "class": "form-select"})
        assert quick_html == django_html, value


def test_quick_select_escapes_labels_and_keeps_boolean_attributes():
    django_html, quick_html = _both("a", attrs={"required": True, "disabled": False})
    assert quick_html == django_html
    assert "&lt;&amp;&gt;" in quick_html and " required" in quick_html
    assert "disabled" not in quick_html


def test_quick_select_in_a_model_choice_form_keeps_the_bound_choice(db):
    from tests.factories import VillageFactory

    villages = [VillageFactory(), VillageFactory()]

    class Filter(forms.Form):
        village = forms.ModelChoiceField(queryset=None, required=False, widget=QuickSelect)
        plain = forms.ModelChoiceField(queryset=None, required=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name in ("village", "plain"):
                self.fields[name].queryset = type(villages[0]).objects.order_by("pk")

    form = Filter({"village": villages[1].pk, "plain": villages[1].pk})
    quick = _normalised(str(form["village"])).replace('name="village" id="id_village"', "")
    plain = _normalised(str(form["plain"])).replace('name="plain" id="id_plain"', "")
    assert quick == plain
    assert f'<option value="{villages[1].pk}" selected>' in quick
