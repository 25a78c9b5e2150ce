"""The names the command line checks before torch loads are the registry's and the zoo's."""

import pytest
import torch

from optviz.core import vocabulary
from optviz.core.functions import FUNCTIONS, get_function
from optviz.core.functions.formulas import ExpressionError, check_expression, parse_expression
from optviz.core.optimizers.foreign import TORCH_CLASSES, argument_names
from optviz.core.optimizers.registry import BUILT_INS, get_optimizer, hyperparameter_names, known_names


def refusal(call, error=ValueError):
    """The message ``call`` is refused with (an ``error``)."""
    with pytest.raises(error) as refused:
        call()
    return str(refused.value)


def test_function_names_are_the_zoo():
    assert vocabulary.function_names() == tuple(FUNCTIONS)


def test_built_in_arguments_are_each_factory_signature_in_palette_order():
    assert list(vocabulary.built_in_arguments()) == list(BUILT_INS)
    for name, arguments in vocabulary.built_in_arguments().items():
        assert list(arguments) == hyperparameter_names(name), name


def test_torch_table_is_the_installed_torch():
    """When torch is upgraded this fails: refresh TORCH_VERSION and TORCH_ARGUMENTS from
    {name: tuple(argument_names(cls)) for name, cls in TORCH_CLASSES.items()}."""
    assert vocabulary.TORCH_VERSION == torch.__version__.split("+")[0] and vocabulary.torch_known()
    assert {name: tuple(argument_names(cls)) for name, cls in TORCH_CLASSES.items()} == vocabulary.TORCH_ARGUMENTS
    assert list(vocabulary.TORCH_ARGUMENTS) == list(TORCH_CLASSES)  # listed in the registry's order
    assert vocabulary.optimizer_names() == known_names()


@pytest.mark.parametrize("name", ["adma", "nadamm", "sgdd", "LBFSG", "rmsprob", "lio"])
def test_unknown_optimizers_get_the_registrys_message(name):
    assert refusal(lambda: vocabulary.optimizer_arguments(name)) == refusal(lambda: get_optimizer(name))


@pytest.mark.parametrize("name,key", [("adam", "speed"), ("sgd", "momentun"), ("nadam", "lrr"), ("lion", "eps")])
def test_unknown_hyperparameters_get_the_registrys_message(name, key):
    early = refusal(lambda: vocabulary.check_hyperparameters(name, {key: 1.0}))
    assert early == refusal(lambda: get_optimizer(name, **{key: 1.0}))


def test_an_import_path_or_another_torch_is_left_to_the_registry(monkeypatch):
    assert vocabulary.optimizer_arguments("pytorch_optimizer:Lion") is None
    monkeypatch.setattr(vocabulary, "TORCH_VERSION", "0.0.1")
    assert vocabulary.optimizer_arguments("nadam") is None  # torch's own classes then: asked of torch
    assert vocabulary.optimizer_arguments("adam") == tuple(hyperparameter_names("adam"))  # ours: read from the block


@pytest.mark.parametrize("text", ["rosenbrok", "Rosenbrock", "z", "hello_world", "  "])
def test_a_word_that_is_no_function_is_refused_as_get_function_refuses_it(text):
    assert refusal(lambda: vocabulary.check_function_name(text)) == refusal(lambda: get_function(text))


@pytest.mark.parametrize("text", ["x^2", "x**2 + q", "sin(x", "x.real", "9**9**9", "1/0 + x", "x**2000", "lambda: 1",
                                  "open('f')", "x1**2 + x0", "(-1)**0.5 + x", "log(-1) + y"])
def test_a_formula_is_checked_without_torch_as_it_is_parsed(text):
    early = refusal(lambda: check_expression(text), ExpressionError)
    assert early == refusal(lambda: parse_expression(text), ExpressionError)


def test_formula_checks_give_the_dimension():
    assert check_expression("x**2 + y") == 2 and check_expression("x1 + x3") == 3
    assert check_expression("x**2", [(-1, 1)]) == 1


@pytest.mark.parametrize("name,key,meant", [
    ("adam", "learning_rate", "torch calls it lr, as adam:lr=0.5"),
    ("rmsprop", "rho", "torch calls it alpha, as rmsprop:alpha=0.5"),
    ("adam", "beta1", "betas holds both, as adam:betas=0.5/0.999"),
    ("lion", "beta2", "betas holds both, as lion:betas=0.9/0.5"),  # its own default beta1
    ("lion", "beta1", "betas holds both, as lion:betas=0.5/0.99"),
    ("nadam", "epsilon", "torch calls it eps, as nadam:eps=0.5"),
])
def test_names_from_elsewhere_are_translated(name, key, meant):
    with pytest.raises(ValueError, match=f"^{name} has no hyperparameter '{key}': {meant.replace('.', '[.]')}$"):
        vocabulary.check_hyperparameters(name, {key: 0.5})
