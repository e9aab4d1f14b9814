from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()],
                       render_kw={"autocomplete": "email", "inputmode": "email"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign in"))


class LinkRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()],
                       render_kw={"autocomplete": "email", "inputmode": "email"})
    submit = SubmitField(_l("Send me a sign-in link"))
