from walkapp.extensions import db
from walkapp.models import Category, Organisation, Role, User



def test_admin_creates_and_edits_a_user(app, client, users, auth):
    auth.login_as(Role.admin)
    response = client.post("/admin/users/new", data={
        "email": "Ny@Example.se", "name": "Nils Ny", "role": "coordinator",
        "organisation_id": "0", "password": "another-long-one"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="ny@example.se"))
        assert user.name == "Nils Ny" and user.role is Role.coordinator
        user_id = user.id
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Nils Ny" in page
    response = client.post(f"/admin/users/{user_id}", data={
        "email": "ny@example.se", "name": "Nils Nyman", "role": "walker", "organisation_id": "0", "password": ""})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.name == "Nils Nyman" and user.check_password("another-long-one")


def test_bad_user_input_keeps_values_and_changes_nothing(app, client, users, auth):
    auth.login_as(Role.admin)
    response = client.post("/admin/users/new", data={
        "email": "walker@example.se", "name": "Dubbel <b>Dubbelsson</b>", "role": "responder",
        "organisation_id": "0", "password": "short"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "En annan användare har redan den e-postadressen." in page
    assert "En åtgärdsansvarig måste höra till en organisation." in page
    assert "Använd minst 10 tecken." in page
    assert 'value="Dubbel &lt;b&gt;Dubbelsson&lt;/b&gt;"' in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == len(Role)


def test_coordinator_cannot_manage_users(client, users, auth):
    auth.login_as(Role.coordinator)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{users[Role.walker]}/active").status_code == 403


def test_admin_cannot_deactivate_self(app, client, users, auth):
    auth.login_as(Role.admin)
    client.post(f"/admin/users/{users[Role.admin]}/active")
    with app.app_context():
        assert db.session.get(User, users[Role.admin]).active


def test_organisations_crud_and_deactivate(app, client, users, auth):
    auth.login_as(Role.coordinator)
    response = client.post("/admin/organisations/new", data={"name": "HEMAB", "kind": "Energibolag", "email": ""})
    assert response.status_code == 302
    response = client.post("/admin/organisations/new", data={"name": "HEMAB", "kind": "", "email": ""})
    assert response.status_code == 400
    assert "Det finns redan en organisation med det namnet." in response.get_data(as_text=True)
    with app.app_context():
        org = db.session.scalar(db.select(Organisation).filter_by(name="HEMAB"))
        org_id = org.id
    client.post(f"/admin/organisations/{org_id}/active")
    with app.app_context():
        assert db.session.get(Organisation, org_id).active is False
    # a deactivated organisation is not offered for new users
    auth.logout()
    auth.login_as(Role.admin)
    assert ">HEMAB</option>" not in client.get("/admin/users/new").get_data(as_text=True)


def test_coordinator_edits_a_category(app, client, users, auth):
    with app.app_context():
        db.session.add(Organisation(name="Gatuavdelningen"))
        db.session.commit()
        org_id = db.session.scalar(db.select(Organisation.id))
        category = db.session.scalar(db.select(Category).filter_by(code="belysning"))
        category_id = category.id
    auth.login_as(Role.coordinator)
    page = client.get(f"/admin/categories/{category_id}").get_data(as_text=True)
    assert 'value="Belysning"' in page
    response = client.post(f"/admin/categories/{category_id}", data={
        "code": "belysning", "name_sv": "Belysning ute", "name_en": "Outdoor lighting",
        "colour": "#AA5500", "icon": "lightbulb", "kind": "problem",
        "default_organisation_id": str(org_id), "sort_order": "1", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        category = db.session.get(Category, category_id)
        assert (category.name_sv, category.colour, category.default_organisation_id) == ("Belysning ute", "#aa5500", org_id)
    response = client.post(f"/admin/categories/{category_id}", data={
        "code": "Bad Code", "name_sv": "", "name_en": "x", "colour": "red", "icon": "lightbulb",
        "kind": "problem", "default_organisation_id": "0"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Category, category_id).code == "belysning"


def test_default_categories_are_seeded(app):
    with app.app_context():
        codes = set(db.session.scalars(db.select(Category.code)))
        positive = db.session.scalar(db.select(Category).filter_by(code="trygg-plats"))
    assert len(codes) == 12 and {"belysning", "klotter", "trygg-plats", "annat"} <= codes
    assert positive.kind.value == "positive" and positive.name_en == "Safe place"


def test_coordinator_manages_organisation_members(app, client, users, auth):
    with app.app_context():
        org = Organisation(name="HEMAB")
        db.session.add(org)
        db.session.commit()
        org_id = org.id
    auth.login_as(Role.coordinator)
    response = client.post(f"/admin/organisations/{org_id}/members",
                           data={"name": "Hanna", "email": "Hanna@Hemab.se", "password": ""})
    assert response.status_code == 302
    with app.app_context():
        member = db.session.scalar(db.select(User).filter_by(email="hanna@hemab.se"))
        assert member.role is Role.responder and member.organisation_id == org_id and member.password_hash is None
        member_id = member.id
    assert "Hanna" in client.get(f"/admin/organisations/{org_id}").get_data(as_text=True)
    duplicate = client.post(f"/admin/organisations/{org_id}/members", data={"name": "X", "email": "hanna@hemab.se"})
    assert duplicate.status_code == 400 and 'value="X"' in duplicate.get_data(as_text=True)
    client.post(f"/admin/organisations/{org_id}/members/{member_id}/active")
    with app.app_context():
        assert db.session.get(User, member_id).active is False
    # coordinators cannot use this to deactivate other kinds of accounts
    assert client.post(f"/admin/organisations/{org_id}/members/{users[Role.admin]}/active").status_code == 404
