"""The public API stays what it was: every dotted name in public_api.txt (written from the
package before its modules moved into floors) still resolves from ``import optviz``, and the
package offers no other public name than those listed (its subpackages aside)."""

import types
from functools import reduce
from pathlib import Path

import pytest

import optviz

LISTED = (Path(__file__).with_name("public_api.txt")).read_text().split()


def resolve(dotted):
    return reduce(getattr, dotted.split(".")[1:], optviz)


@pytest.mark.parametrize("dotted", LISTED)
def test_every_listed_name_resolves(dotted):
    resolve(dotted)


def test_the_package_offers_exactly_the_listed_names():
    top = [name for name in LISTED if name.count(".") == 1]
    listed = {name.split(".")[1] for name in top if not isinstance(resolve(name), types.ModuleType)}
    offered = {name for name in dir(optviz) if not name.startswith("_")
               and not isinstance(getattr(optviz, name), types.ModuleType)}
    assert sorted(offered) == sorted(listed)
