from walkapp.extensions import db
from walkapp.models import Organisation, Role, User


def count_users(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)))


def test_create_user(app, runner):
    result = runner.invoke(args=["create-user", "Sara@Example.se", "--role", "coordinator",
                                 "--name", "Sara", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="sara@example.se"))
        assert user.role is Role.coordinator and user.check_password("a-long-password")


def test_create_user_asks_for_password(app, runner):
    result = runner.invoke(args=["create-user", "ask@example.se", "--role", "walker"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert count_users(app) == 1


def test_create_user_rejects_invalid_email(app, runner):
    result = runner.invoke(args=["create-user", "not-an-email", "--role", "admin", "--password", "a-long-password"])
    assert result.exit_code != 0
    assert "EMAIL" in result.output
    assert count_users(app) == 0


def test_responder_needs_an_existing_organisation(app, runner):
    args = ["create-user", "r@example.se", "--role", "responder", "--password", "a-long-password"]
    assert runner.invoke(args=args).exit_code != 0
    assert runner.invoke(args=args + ["--org", "Finns inte"]).exit_code != 0
    with app.app_context():
        db.session.add(Organisation(name="HEMAB"))
        db.session.commit()
    result = runner.invoke(args=args + ["--org", "HEMAB"])
    assert result.exit_code == 0, result.output
    assert count_users(app) == 1


def test_duplicate_email_is_refused(app, runner):
    args = ["create-user", "same@example.se", "--role", "walker", "--password", "a-long-password"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "already exists" in result.output
    assert count_users(app) == 1
