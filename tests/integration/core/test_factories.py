"""Every factory builds a row the database accepts (constraints, foreign keys)."""

import pytest

from tests.factories import ALL_FACTORIES

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=lambda f: f.__name__)
def test_factory_builds_a_valid_row(db, factory_class):
    obj = factory_class()
    db.session.commit()
    model = factory_class._meta.model
    pk = db.inspect(obj).identity
    assert db.session.get(model, pk if len(pk) > 1 else pk[0]) is not None
