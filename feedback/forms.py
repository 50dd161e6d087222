"""Feedback forms (the shape of input only; the rules are in services)."""

from flask_babel import lazy_ngettext
from flask_babel import lazy_gettext as _l

from core.inputs import Form as FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

# Words first, stars as decoration: the words are what a screen reader says.
RATING_WORDS = {
    5: _l("Excellent"),
    4: _l("Good"),
    3: _l("Fair"),
    2: _l("Poor"),
    1: _l("Very poor"),
}


def rating_word(rating: int) -> str:
    return str(RATING_WORDS.get(rating, rating))


class FeedbackForm(FlaskForm):
    """The client's answers. Also used by staff recording feedback by phone."""

    rating = RadioField(_l("How satisfied were you with the service?"),
                        choices=[SelectChoice(n, RATING_WORDS[n]) for n in (5, 4, 3, 2, 1)], coerce=int,
                        invalid_choice_message=_l("Choose one of the five answers."),
                        invalid_value_message=_l("Choose one of the five answers."))
    needs_met = RadioField(_l("Did you get what you needed?"), choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
                           invalid_choice_message=_l("Answer yes or no."))
    comment = TextAreaField(_l("Anything else you would like to tell us? (optional)"),
                            validators=[Length(max=2000, message=lazy_ngettext(
                                "The comment is too long: at most %(num)d character. Please shorten it.",
                                "The comment is too long: at most %(num)d characters. Please shorten it.", 2000))])

    def needs_met_value(self) -> bool:
        return self.needs_met.data == "yes"


class ResponseForm(FlaskForm):
    response = TextAreaField(_l("Your organisation's public response"),
                             validators=[InputRequired(_l("Write the response first.")),
                                         Length(max=2000, message=lazy_ngettext("At most %(num)d character.", "At most %(num)d characters.", 2000))])


class HideForm(FlaskForm):
    reason = StringField(_l("Reason for hiding"),
                         validators=[InputRequired(_l("Give the reason for hiding.")),
                                     Length(max=500, message=lazy_ngettext("At most %(num)d character.", "At most %(num)d characters.", 500))])
