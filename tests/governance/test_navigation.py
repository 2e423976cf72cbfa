"""The staff navigation names every destination once: the main bar holds the areas (诉求, 农户,
月度分析…), the bar under it the pages of the 诉求 area (分流, 全部诉求, 督办…)."""

import re
from collections import Counter

import pytest
from django.urls import reverse

NAV_LINK = re.compile(r'<a class="nav-link[^"]*"[^>]*>([^<]+)</a>')


def nav_labels(html: str) -> list[str]:
    return [label.strip() for label in NAV_LINK.findall(html)]


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("village_clerk", "staff:triage_queue"),
        ("village_clerk", "staff:reports"),
        ("township_staff", "staff:supervision_list"),
        ("handler", "staff:department_queue"),
    ],
)
def test_no_navigation_label_appears_twice(who, page, request, login):
    user = request.getfixturevalue(who)
    response = login(user).get(reverse(page))
    assert response.status_code == 200
    labels = nav_labels(response.content.decode())
    assert labels, "no navigation rendered"
    twice = [label for label, n in Counter(labels).items() if n > 1]
    assert twice == []


def test_staff_see_the_request_area_and_its_pages_under_distinct_names(village_clerk, login):
    labels = nav_labels(login(village_clerk).get(reverse("staff:triage_queue")).content.decode())
    assert labels.count("诉求") == 1 and "全部诉求" in labels


def test_current_page_is_marked_in_the_request_area_bar(village_clerk, login):
    html = login(village_clerk).get(reverse("staff:triage_queue")).content.decode()
    assert re.search(
        r'class="nav-link py-1 active" href="/staff/triage/" aria-current="page"', html
    )
