"""The home page shows each role what matters to them, as a list beside a small map (issue 15)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from walkapp.extensions import db
from walkapp.models import Observation, Organisation, Role, Status, User

from .factories import count_statements, local_today, make_observation, make_walk
from .test_walks import join_as_guest


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def home_list(html: str) -> str:
    """The list part of the page (the accessible alternative to the map)."""
    start = html.index('id="home-items"')
    return html[start:html.index("</ul>", start)]


def test_the_public_sees_published_items_only(app, client, users):
    with app.app_context():
        walk = make_walk()
        shown = make_observation(users[Role.walker], walk, code="klotter", is_public=True).id
        hidden = make_observation(users[Role.walker], walk).id
        rejected = make_observation(users[Role.walker], walk, is_public=True, status=Status.rejected).id
        token = walk.public_token
    listing = home_list(home(client))
    assert f"#{shown} " in listing and f"#{hidden} " not in listing and f"#{rejected} " not in listing
    assert f"/f/{token}" in listing  # a public item leads to its walk's public page
    assert 'id="home-pins"' in home(client)


def test_walkers_see_their_walks_and_their_reports(app, client, users, auth):
    with app.app_context():
        mine = make_walk(title="Min kvällsvandring", participants=[users[Role.walker]])
        other = make_walk(title="Någon annans vandring")
        my_report = make_observation(users[Role.walker], mine).id
        theirs = make_observation(users[Role.coordinator], other).id
    auth.login_as(Role.walker)
    html = home(client)
    assert "Min kvällsvandring" in html and "Någon annans vandring" not in html
    listing = home_list(html)
    assert f"#{my_report} " in listing and f"#{theirs} " not in listing
    assert 'href="/report"' in html


def test_a_guest_reports_from_the_menu_on_their_walk(app, client, users):
    with app.app_context():
        walk = make_walk(code="GUES22")
        walk_id = walk.id
    guest = join_as_guest(app, "GUES22", "Petra")
    html = home(guest)
    assert f'href="/report?walk={walk_id}"' in html.split("</nav>")[0]  # in the menu
    assert 'href="/report"' not in html  # not off a walk: guests report on walks only


def test_responders_see_their_tasks_overdue_first(app, client, users, auth):
    with app.app_context():
        org = db.session.get(User, users[Role.responder]).organisation
        other = Organisation(name="Gatukontoret")
        db.session.add(other)
        db.session.commit()
        late = make_observation(users[Role.walker], status=Status.assigned, organisation_id=org.id,
                                due_date=local_today() - timedelta(days=2)).id
        soon = make_observation(users[Role.walker], status=Status.assigned, organisation_id=org.id,
                                due_date=local_today() + timedelta(days=2)).id
        elsewhere = make_observation(users[Role.walker], status=Status.assigned, organisation_id=other.id).id
    auth.login_as(Role.responder)
    html = home(client)
    listing = home_list(html)
    assert listing.index(f"#{late} ") < listing.index(f"#{soon} ") and f"#{elsewhere} " not in listing
    assert "2 öppna uppgifter" in html and "1 försenad" in html


def test_coordinators_see_new_and_overdue_counts_and_shortcuts(app, client, users, auth):
    with app.app_context():
        for _ in range(3):
            make_observation(users[Role.walker])
        make_observation(users[Role.walker], status=Status.assigned, due_date=local_today() - timedelta(days=1))
    auth.login_as(Role.coordinator)
    html = home(client)
    figures = html[html.index('class="figures home-figures"'):]
    assert '<span class="figure">3</span>' in figures.split("</li>")[0]  # new
    assert '<span class="figure">1</span>' in figures.split("</li>")[1]  # overdue
    assert 'href="/inbox?status=new"' in html and 'href="/lagesbild"' in html
    # the counts come before the map and the list
    assert html.index("home-figures") < html.index('class="tiles"') < html.index("home-map")


@pytest.mark.parametrize("role", [None, Role.walker, Role.responder, Role.coordinator])
def test_home_query_count_does_not_grow(app, client, users, auth, role):
    if role:
        auth.login_as(role)
    with app.app_context():
        org_id = db.session.get(User, users[Role.responder]).organisation_id
        walk = make_walk(participants=[users[Role.walker]])

    def add(n):
        with app.app_context():
            for _ in range(n):
                make_observation(users[Role.walker], walk, is_public=True)
                make_observation(users[Role.walker], walk, status=Status.assigned, organisation_id=org_id,
                                 due_date=local_today() - timedelta(days=1), is_public=True)

    add(2)
    few = count_statements(app, lambda: home(client))
    add(12)
    assert count_statements(app, lambda: home(client)) == few
